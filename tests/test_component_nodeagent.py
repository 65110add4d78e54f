"""The nodeagent component (SDS node agent) and the SDS wiring of injector and mesh config.

The injection template is executed by a small emulation of the injector's Go template
(``[[ ]]`` actions with their whitespace trimming) for one plain pod, so that the injected
pod itself can be checked against the Kubernetes schemas.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from harness import assemble_components, assert_lint_strict, identities, render_tree
from harness import one as _one
from harness import workload_containers as _containers
from harness import write_tree as _write
from injector import injected_pod
from tools import HELM3, HELM4, MESH_CUSTOM_GROUPS, helm_binaries, run_helm, validate_k8s

from meshcharts import ChartTree
from meshcharts.catalog.crds import CRDS
from meshcharts.catalog.nodeagent import NODEAGENT
from meshcharts.catalog.pilot import PILOT
from meshcharts.catalog.sidecar_injector import SIDECAR_INJECTOR

Docs = list[dict[str, Any]]
HELMS = (HELM3, HELM4)
KUBES = ("1.25", "1.37")
NS = "istio-system"
COMPONENTS = (PILOT, SIDECAR_INJECTOR, NODEAGENT)

NODEAGENT_OBJECTS = {
    ("ServiceAccount", "istio-nodeagent-service-account"),
    ("ClusterRole", "istio-nodeagent-istio-system"),
    ("ClusterRoleBinding", "istio-nodeagent-istio-system"),
    ("DaemonSet", "istio-nodeagent"),
}
AGENT_ON: dict[str, Any] = {"nodeagent": {"enabled": True}}
# Istio 1.1's values-istio-sds-auth.yaml, with the node agent.
SDS_NORMAL: dict[str, Any] = {
    "global": {
        "sds": {
            "enabled": True,
            "udsPath": "unix:/var/run/sds/uds_path",
            "useNormalJwt": True,
        }
    },
    "nodeagent": {"enabled": True},
}
SDS_TRUSTWORTHY: dict[str, Any] = {
    "global": {"sds": {"enabled": True, "useTrustworthyJwt": True}},
    "nodeagent": {"enabled": True},
}
SDS_CONTROL_PLANE_MTLS: dict[str, Any] = {
    "global": {
        "controlPlaneSecurityEnabled": True,
        "sds": {"enabled": True, "useTrustworthyJwt": True},
    },
    "nodeagent": {"enabled": True},
}
FULL: dict[str, Any] = {
    "global": {
        "sds": {"enabled": True, "udsPath": "unix:/var/run/sds/agent.sock", "useNormalJwt": True},
        "trustDomain": "corp.example",
        "priorityClassName": "system-node-critical",
        "imagePullSecrets": ["regcred"],
    },
    "nodeagent": {
        "enabled": True,
        "image": "registry.example/istio/node-agent-k8s:1.1.0",
        "env": {"CA_PROVIDER": "VaultCA", "CA_ADDR": "https://vault:8200", "EXTRA": "1"},
        "nodeSelector": {"kubernetes.io/os": "linux"},
        "tolerations": [{"operator": "Exists"}],
        "podAnnotations": {"example.com/owner": "mesh"},
    },
}
SCENARIOS = {
    "agent": AGENT_ON,
    "sds-normal": SDS_NORMAL,
    "sds-trustworthy": SDS_TRUSTWORTHY,
    "sds-cp-mtls": SDS_CONTROL_PLANE_MTLS,
    "full": FULL,
}


@functools.cache
def _tree(values_json: str, mesh: bool = False) -> ChartTree:
    """The chart with the node agent alone, or with Pilot and the injector (``mesh``)."""
    return assemble_components(COMPONENTS if mesh else (NODEAGENT,), json.loads(values_json))


@functools.cache
def _cached(values_json: str, args: tuple[str, ...], helm: str, mesh: bool) -> Docs:
    return render_tree(_tree(values_json, mesh), *args, helm=helm_binaries()[helm])


def _render(
    values: dict[str, Any] | None = None, *args: str, helm: str = HELM4, mesh: bool = False
) -> Docs:
    """Render the node agent alone, or with Pilot and the injector (``mesh``)."""
    return _cached(json.dumps(values or {}, sort_keys=True), args, helm, mesh)


def _pod(docs: Docs) -> dict[str, Any]:
    spec: dict[str, Any] = _one(docs, "DaemonSet", "istio-nodeagent")["spec"]["template"]["spec"]
    return spec


def _mesh_config(docs: Docs) -> dict[str, Any]:
    mesh: dict[str, Any] = yaml.safe_load(_one(docs, "ConfigMap", "istio")["data"]["mesh"])
    return mesh


def _proxy(pod: dict[str, Any]) -> dict[str, Any]:
    (proxy,) = [c for c in pod["spec"]["containers"] if c["name"] == "istio-proxy"]
    result: dict[str, Any] = proxy
    return result


# --- (1) on / off ------------------------------------------------------------------------------


def test_node_agent_is_off_by_default() -> None:
    assert identities(_render()) == set()


def test_enabled_switches_exactly_the_node_agent_objects() -> None:
    assert identities(_render(AGENT_ON)) == NODEAGENT_OBJECTS
    assert identities(_render(FULL)) == NODEAGENT_OBJECTS
    assert identities(_render(FULL, "--set", "nodeagent.enabled=false")) == set()


def test_sds_alone_adds_no_object_to_pilot_and_the_injector() -> None:
    off = identities(_render({}, mesh=True))
    sds = {"global": SDS_NORMAL["global"]}
    assert identities(_render(sds, mesh=True)) == off
    assert identities(_render(SDS_NORMAL, mesh=True)) == off | NODEAGENT_OBJECTS


# --- (2) features ------------------------------------------------------------------------------


def test_daemonset_serves_the_socket_from_the_host_folder() -> None:
    pod = _pod(_render(AGENT_ON))
    (container,) = pod["containers"]
    assert container["image"] == "docker.io/istio/node-agent-k8s:1.0.6"
    assert container["args"] == ["--workloadUDSPath=/var/run/sds/uds_path"]
    assert container["volumeMounts"] == [{"name": "sds-uds-path", "mountPath": "/var/run/sds"}]
    assert pod["volumes"] == [
        {
            "name": "sds-uds-path",
            "hostPath": {"path": "/var/run/sds", "type": "DirectoryOrCreate"},
        }
    ]
    assert pod["serviceAccountName"] == "istio-nodeagent-service-account"
    daemonset = _one(_render(AGENT_ON), "DaemonSet", "istio-nodeagent")
    assert daemonset["metadata"]["namespace"] == NS
    annotations = daemonset["spec"]["template"]["metadata"]["annotations"]
    assert annotations == {"sidecar.istio.io/inject": "false"}


def test_socket_path_follows_global_sds_uds_path() -> None:
    (container,) = _pod(_render(FULL))["containers"]
    assert container["args"] == ["--workloadUDSPath=/var/run/sds/agent.sock"]


def test_env_names_the_ca_and_the_trust_domain() -> None:
    (container,) = _pod(_render(AGENT_ON))["containers"]
    assert container["env"] == [
        {"name": "Trust_Domain", "value": "cluster.local"},
        {"name": "CA_ADDR", "value": "istio-citadel:8060"},
        {"name": "CA_PROVIDER", "value": "Citadel"},
        {"name": "VALID_TOKEN", "value": "true"},
    ]
    (container,) = _pod(_render(FULL))["containers"]
    env = {e["name"]: e["value"] for e in container["env"]}
    assert env == {
        "Trust_Domain": "corp.example",
        "CA_ADDR": "https://vault:8200",
        "CA_PROVIDER": "VaultCA",
        "EXTRA": "1",
        "VALID_TOKEN": "true",
    }


def test_trust_domain_cannot_be_overridden_through_env() -> None:
    values = {"nodeagent": {"enabled": True, "env": {"Trust_Domain": "evil"}}}
    (container,) = _pod(_render(values))["containers"]
    assert [e for e in container["env"] if e["name"] == "Trust_Domain"] == [
        {"name": "Trust_Domain", "value": "cluster.local"}
    ]


def test_agent_runs_as_root_without_any_capability() -> None:
    pod = _pod(_render(AGENT_ON))
    assert pod["securityContext"] == {"seccompProfile": {"type": "RuntimeDefault"}}
    (container,) = pod["containers"]
    assert container["securityContext"] == {
        "runAsUser": 0,
        "runAsGroup": 0,
        "runAsNonRoot": False,
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    assert "hostNetwork" not in pod and "hostPID" not in pod


def test_rbac_reads_one_config_map_only() -> None:
    docs = _render(AGENT_ON)
    role = _one(docs, "ClusterRole", "istio-nodeagent-istio-system")
    assert role["rules"] == [
        {
            "apiGroups": [""],
            "resources": ["configmaps"],
            "resourceNames": ["istio-security"],
            "verbs": ["get"],
        }
    ]
    binding = _one(docs, "ClusterRoleBinding", "istio-nodeagent-istio-system")
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "ClusterRole",
        "name": "istio-nodeagent-istio-system",
    }
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "istio-nodeagent-service-account", "namespace": NS}
    ]


def test_scheduling_values_reach_the_pod() -> None:
    docs = _render(FULL)
    pod = _pod(docs)
    (container,) = pod["containers"]
    assert container["image"] == "registry.example/istio/node-agent-k8s:1.1.0"
    assert pod["nodeSelector"] == {"kubernetes.io/os": "linux"}
    assert pod["tolerations"] == [{"operator": "Exists"}]
    assert pod["priorityClassName"] == "system-node-critical"
    template = _one(docs, "DaemonSet", "istio-nodeagent")["spec"]["template"]
    assert template["metadata"]["annotations"]["example.com/owner"] == "mesh"
    account = _one(docs, "ServiceAccount", "istio-nodeagent-service-account")
    assert account["imagePullSecrets"] == [{"name": "regcred"}]


def test_default_node_selector_applies_without_one_of_its_own() -> None:
    values = {**AGENT_ON, "global": {"defaultNodeSelector": {"pool": "mesh"}}}
    assert _pod(_render(values))["nodeSelector"] == {"pool": "mesh"}


@pytest.mark.parametrize(
    ("scenario", "token"),
    [("sds-normal", False), ("sds-trustworthy", True), ("sds-cp-mtls", True)],
)
def test_injected_sidecar_mounts_the_sds_socket(scenario: str, token: bool) -> None:
    pod = injected_pod(_render(SCENARIOS[scenario], mesh=True))
    proxy = _proxy(pod)
    mounts = {m["name"]: m for m in proxy["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["spec"]["volumes"]}
    assert mounts["sds-uds-path"] == {
        "mountPath": "/var/run/sds",
        "name": "sds-uds-path",
        "readOnly": True,
    }
    assert volumes["sds-uds-path"]["hostPath"] == {
        "path": "/var/run/sds",
        "type": "DirectoryOrCreate",
    }
    env = {e["name"]: e.get("value") for e in proxy["env"]}
    assert env["SDS_ENABLED"] == "true"
    assert env["SDS_UDS_PATH"] == "unix:/var/run/sds/uds_path"
    if token:
        assert mounts["istio-token"] == {
            "mountPath": "/var/run/secrets/tokens",
            "name": "istio-token",
            "readOnly": True,
        }
        assert volumes["istio-token"]["projected"] == {
            "sources": [
                {
                    "serviceAccountToken": {
                        "path": "istio-token",
                        "expirationSeconds": 43200,
                        "audience": "istio-ca",
                    }
                }
            ]
        }
    else:
        assert "istio-token" not in mounts and "istio-token" not in volumes
    # The Secret-based certificates only stay for mutual TLS with the control plane.
    certs = scenario == "sds-cp-mtls"
    assert ("istio-certs" in mounts) is certs
    assert ("istio-certs" in volumes) is certs
    if certs:
        assert volumes["istio-certs"]["secret"] == {"optional": True, "secretName": "istio.web"}


def test_injected_sidecar_without_sds_uses_the_citadel_secret() -> None:
    pod = injected_pod(_render({}, mesh=True))
    proxy = _proxy(pod)
    assert [m["name"] for m in proxy["volumeMounts"]] == ["istio-envoy", "istio-certs"]
    assert [v["name"] for v in pod["spec"]["volumes"]] == ["istio-envoy", "istio-certs"]
    assert not {"SDS_ENABLED", "SDS_UDS_PATH"} & {e["name"] for e in proxy["env"]}


def test_injected_socket_path_follows_global_sds_uds_path() -> None:
    values = {"global": {"sds": {**SDS_NORMAL["global"]["sds"], "udsPath": ""}}}
    env = {
        e["name"]: e.get("value") for e in _proxy(injected_pod(_render(values, mesh=True)))["env"]
    }
    assert env["SDS_UDS_PATH"] == "unix:/var/run/sds/uds_path"
    env = {e["name"]: e.get("value") for e in _proxy(injected_pod(_render(FULL, mesh=True)))["env"]}
    assert env["SDS_UDS_PATH"] == "unix:/var/run/sds/agent.sock"


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({}, {"sdsUdsPath": ""}),
        (
            SDS_NORMAL,
            {
                "sdsUdsPath": "unix:/var/run/sds/uds_path",
                "enableSdsTokenMount": False,
                "sdsUseK8sSaJwt": True,
            },
        ),
        (
            SDS_TRUSTWORTHY,
            {
                "sdsUdsPath": "unix:/var/run/sds/uds_path",
                "enableSdsTokenMount": True,
                "sdsUseK8sSaJwt": False,
            },
        ),
    ],
    ids=["off", "normal-jwt", "trustworthy-jwt"],
)
def test_mesh_config_points_pilot_at_the_node_agent(
    values: dict[str, Any], expected: dict[str, Any]
) -> None:
    mesh = _mesh_config(_render(values, mesh=True))
    keys = {"sdsUdsPath", "enableSdsTokenMount", "sdsUseK8sSaJwt"}
    assert {k: v for k, v in mesh.items() if k in keys} == expected


@pytest.mark.parametrize("helm", HELMS)
def test_sds_without_a_jwt_kind_fails_with_a_clear_message(helm: str) -> None:
    with pytest.raises(
        AssertionError, match="global.sds.enabled needs global.sds.useTrustworthyJwt"
    ):
        _render({}, "--set", "global.sds.enabled=true", helm=helm, mesh=True)


# --- (3) Istio custom resources ------------------------------------------------------------


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_custom_resources_validate_against_their_crds(scenario: str) -> None:
    schemas = {(f"{c.group}/{c.version}", c.kind): dict(c.schema) for c in CRDS}
    for doc in _render(SCENARIOS[scenario], mesh=True):
        group = doc["apiVersion"].split("/")[0]
        if not any(group == g or group.endswith("." + g) for g in MESH_CUSTOM_GROUPS):
            continue
        body = {k: v for k, v in doc.items() if k not in ("apiVersion", "kind", "metadata")}
        jsonschema.validate(body, schemas[(doc["apiVersion"], doc["kind"])])


# --- (4) Kubernetes schemas ----------------------------------------------------------------


@pytest.mark.parametrize("kube", KUBES)
@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_rendered_objects_validate_against_kubernetes(scenario: str, kube: str) -> None:
    docs = _render(SCENARIOS[scenario], mesh=True)
    assert identities(docs) >= NODEAGENT_OBJECTS
    assert validate_k8s(docs, kube, strict=True, allow_custom=MESH_CUSTOM_GROUPS) == []


@pytest.mark.parametrize("kube", KUBES)
@pytest.mark.parametrize("scenario", ["sds-normal", "sds-trustworthy", "sds-cp-mtls"])
def test_injected_pod_validates_against_kubernetes(scenario: str, kube: str) -> None:
    pod = injected_pod(_render(SCENARIOS[scenario], mesh=True))
    assert validate_k8s([pod], kube, strict=True) == []


# --- (5) helm lint --strict and helm template under both Helms -----------------------------


@pytest.mark.parametrize("helm", HELMS)
def test_lint_strict_and_template(tmp_path: Path, helm: str) -> None:
    chart = _write(_tree(json.dumps(SDS_TRUSTWORTHY, sort_keys=True), mesh=True), tmp_path)
    values = tmp_path / "full.yaml"
    values.write_text(yaml.safe_dump(FULL))
    binary = helm_binaries()[helm]
    for extra in ((), ("-f", str(values))):
        assert_lint_strict(binary, chart, *extra)
        rendered = run_helm(binary, "template", "istio", str(chart), "-n", NS, *extra)
        assert "kind: DaemonSet" in rendered.stdout


# --- (6) the schema ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "setting",
    [
        "nodeagent.unknown=1",
        "nodeagent.env.BAD NAME=x",
        "nodeagent.resources.limits=null",
        "global.sds.udsPath=unix:/tmp/uds_path",
        "global.sds.udsPath=/var/run/sds/uds_path",
        'global.sds.udsPath=unix:/var/run/sds/x"y',
        "global.sds.enabled=yes",
    ],
)
def test_schema_rejects_bad_values(tmp_path: Path, setting: str) -> None:
    chart = _write(_tree("{}", mesh=True), tmp_path)
    result = run_helm(
        helm_binaries()[HELM4], "template", "istio", str(chart), "--set", setting, check=False
    )
    assert result.returncode != 0
    assert "schema" in result.stderr.lower()


# --- (7) requests and limits -----------------------------------------------------------------


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_every_container_has_requests_and_limits(scenario: str) -> None:
    docs = _render(SCENARIOS[scenario], mesh=True)
    pod = injected_pod(docs)
    containers = [*_containers(docs), *pod["spec"]["initContainers"], *pod["spec"]["containers"]]
    assert "nodeagent" in {c["name"] for c in containers}
    for container in containers:
        resources = container["resources"]
        assert resources["requests"] and resources["limits"], container["name"]


# --- (8) Istio 1.1's values files --------------------------------------------------------------


def test_the_upstream_sds_auth_node_agent_block_is_read_as_it_is() -> None:
    # values-istio-sds-auth.yaml writes VALID_TOKEN as a YAML boolean; sub-nodeagent adds
    # Plugins (empty) beside CA_ADDR and CA_PROVIDER.
    upstream = yaml.safe_load(
        "nodeagent:\n"
        "  enabled: true\n"
        "  image: node-agent-k8s\n"
        "  env:\n"
        "    CA_PROVIDER: Citadel\n"
        "    CA_ADDR: istio-citadel:8060\n"
        "    VALID_TOKEN: true\n"
        "    Plugins: GoogleTokenExchange\n"
        "  nodeSelector: {disk: ssd}\n"
    )
    assert upstream["nodeagent"]["env"]["VALID_TOKEN"] is True
    docs = _render({**SDS_NORMAL, "nodeagent": upstream["nodeagent"]})
    (container,) = [c for c in _containers(docs) if c["name"] == "nodeagent"]
    env = {e["name"]: e["value"] for e in container["env"]}
    assert env["VALID_TOKEN"] == "true"
    assert env["Plugins"] == "GoogleTokenExchange"
    assert env["CA_ADDR"] == "istio-citadel:8060"
    pod = _one(docs, "DaemonSet", "istio-nodeagent")["spec"]["template"]["spec"]
    assert pod["nodeSelector"] == {"disk": "ssd"}
