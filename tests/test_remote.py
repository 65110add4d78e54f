"""A remote cluster (``global.istioRemote``): Citadel and the injector, on a primary's control plane.

Istio 1.1's ``values-istio-remote.yaml`` compiles no Pilot or Mixer: the mesh ConfigMap
``istio`` must still exist (once), pointing the proxies at the primary cluster.
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
from meshcharts.catalog.mixer import MIXER
from meshcharts.catalog.pilot import PILOT
from meshcharts.catalog.security import SECURITY
from meshcharts.catalog.sidecar_injector import SIDECAR_INJECTOR

Docs = list[dict[str, Any]]
HELMS = (HELM3, HELM4)
KUBES = ("1.25", "1.37")
NS = "istio-system"

SETS = {
    "remote": (SECURITY, SIDECAR_INJECTOR),
    "with-pilot": (PILOT, SECURITY, SIDECAR_INJECTOR),
    "with-mixer": (PILOT, SECURITY, SIDECAR_INJECTOR, MIXER),
}
REMOTE: dict[str, Any] = {
    "security": {"createMeshPolicy": False},
    "global": {"istioRemote": True, "remotePilotAddress": "10.0.0.1"},
}
LOCAL: dict[str, Any] = {"security": {"createMeshPolicy": False}}
REMOTE_OBJECTS = {
    ("ConfigMap", "istio"),
    ("ServiceAccount", "istio-multi"),
    ("Secret", "istio-multi-token"),
    ("ClusterRole", "istio-reader"),
    ("ClusterRoleBinding", "istio-multi"),
}
ENDPOINTS: dict[str, Any] = {
    "security": {"createMeshPolicy": False},
    "global": {
        "istioRemote": True,
        "remotePilotAddress": "10.0.0.1",
        "remotePolicyAddress": "10.0.0.2",
        "remoteTelemetryAddress": "fd00::3",
        "remotePilotCreateSvcEndpoint": True,
    },
}
SCENARIOS = {"remote": REMOTE, "endpoints": ENDPOINTS}
JWT = {"name": "default", "namespace": "shop", "issuer": "https://issuer.example"}


def _with_global(base: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {**base, "global": {**base["global"], **extra}}


@functools.cache
def _tree(values_json: str, components: str) -> ChartTree:
    return assemble_components(SETS[components], json.loads(values_json))


@functools.cache
def _cached(values_json: str, components: str, args: tuple[str, ...], helm: str) -> Docs:
    return render_tree(_tree(values_json, components), *args, helm=helm_binaries()[helm])


def _render(
    values: dict[str, Any], *args: str, components: str = "remote", helm: str = HELM4
) -> Docs:
    return _cached(json.dumps(values, sort_keys=True), components, args, helm)


def _mesh(docs: Docs) -> dict[str, Any]:
    mesh: dict[str, Any] = yaml.safe_load(_one(docs, "ConfigMap", "istio")["data"]["mesh"])
    return mesh


def _fails(values: dict[str, Any], *args: str, components: str = "remote") -> str:
    """The error of a render that must fail, under both Helms (the same message)."""
    messages = set()
    for helm in HELMS:
        with pytest.raises(AssertionError) as error:
            _render(values, *args, components=components, helm=helm)
        messages.add(str(error.value).rsplit("Error: ", 1)[-1].split("\n")[0].split("): ")[-1])
    (message,) = messages
    return message


# --- (1) on / off ------------------------------------------------------------------------------


def test_istio_remote_adds_exactly_the_remote_objects() -> None:
    local = identities(_render(LOCAL))
    remote = identities(_render(REMOTE))
    assert remote - local == REMOTE_OBJECTS
    assert local - remote == set()
    assert ("ConfigMap", "istio") not in local


def test_remote_cluster_renders_the_mesh_config_once_and_no_mesh_policy() -> None:
    docs = _render(REMOTE)
    assert [d["kind"] for d in docs].count("ConfigMap") == 2  # istio, istio-sidecar-injector
    assert len([d for d in docs if d["metadata"]["name"] == "istio"]) == 1
    assert "MeshPolicy" not in {d["kind"] for d in docs}
    assert _mesh(docs)["defaultConfig"]["discoveryAddress"] == "10.0.0.1:15010"


@pytest.mark.parametrize("components", ["with-pilot", "with-mixer"])
def test_mesh_config_stays_single_with_pilot_compiled_in(components: str) -> None:
    for values in (LOCAL, REMOTE):
        docs = _render(values, components=components)
        assert (
            len([d for d in docs if (d["kind"], d["metadata"]["name"]) == ("ConfigMap", "istio")])
            == 1
        )
    off = _render(REMOTE, "--set", "pilot.enabled=false", components="with-pilot")
    assert (
        len([d for d in off if (d["kind"], d["metadata"]["name"]) == ("ConfigMap", "istio")]) == 1
    )
    assert _mesh(off)["defaultConfig"]["discoveryAddress"] == "10.0.0.1:15010"


def test_remote_pilot_service_endpoints_are_opt_in() -> None:
    plain = identities(_render(REMOTE))
    with_endpoints = identities(_render(ENDPOINTS))
    assert with_endpoints - plain == {
        (kind, name)
        for kind in ("Service", "EndpointSlice")
        for name in ("istio-pilot", "istio-policy", "istio-telemetry")
    }


# --- (2) features ------------------------------------------------------------------------------


@pytest.mark.parametrize(("secure", "port"), [(False, "15010"), (True, "15011")])
def test_proxies_reach_the_remote_pilot(secure: bool, port: str) -> None:
    values = _with_global(REMOTE, controlPlaneSecurityEnabled=secure)
    mesh = _mesh(_render(values))
    assert mesh["defaultConfig"]["discoveryAddress"] == f"10.0.0.1:{port}"
    assert mesh["defaultConfig"]["controlPlaneAuthPolicy"] == ("MUTUAL_TLS" if secure else "NONE")


def test_ipv6_remote_pilot_is_bracketed() -> None:
    mesh = _mesh(_render(_with_global(REMOTE, remotePilotAddress="fd00::1")))
    assert mesh["defaultConfig"]["discoveryAddress"] == "[fd00::1]:15010"


def test_remote_pilot_address_is_ignored_without_istio_remote() -> None:
    values = {"global": {"remotePilotAddress": "10.0.0.1"}}
    mesh = _mesh(_render(values, components="with-pilot"))
    assert mesh["defaultConfig"]["discoveryAddress"] == "istio-pilot.istio-system:15010"


@pytest.mark.parametrize(("secure", "port"), [(False, "9091"), (True, "15004")])
def test_mixer_servers_come_from_the_remote_addresses(secure: bool, port: str) -> None:
    values = _with_global(
        REMOTE,
        controlPlaneSecurityEnabled=secure,
        remotePolicyAddress="policy.primary.example",
        remoteTelemetryAddress="10.0.0.3",
        disablePolicyChecks=False,
    )
    mesh = _mesh(_render(values))
    assert mesh["mixerCheckServer"] == f"policy.primary.example:{port}"
    assert mesh["mixerReportServer"] == f"10.0.0.3:{port}"
    assert mesh["disablePolicyChecks"] is False


def test_no_remote_mixer_means_no_mixer_servers() -> None:
    mesh = _mesh(_render(_with_global(REMOTE, disablePolicyChecks=False)))
    assert "mixerCheckServer" not in mesh and "mixerReportServer" not in mesh
    assert mesh["disablePolicyChecks"] is True


def test_istio_remote_replaces_a_local_mixer() -> None:
    values = _with_global(REMOTE, remotePolicyAddress="10.0.0.2")
    mesh = _mesh(_render(values, components="with-mixer"))
    assert mesh["mixerCheckServer"] == "10.0.0.2:9091"
    assert "mixerReportServer" not in mesh
    local = _mesh(_render(LOCAL, components="with-mixer"))
    assert local["mixerReportServer"] == "istio-telemetry.istio-system.svc.cluster.local:9091"


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({"remoteZipkinAddress": "10.0.0.9"}, "10.0.0.9:9411"),
        ({"remoteZipkinAddress": "fd00::9"}, "[fd00::9]:9411"),
        ({}, "zipkin.istio-system:9411"),
        (
            {"remoteZipkinAddress": "10.0.0.9", "tracer": {"zipkin": {"address": "z.example:1"}}},
            "z.example:1",
        ),
    ],
    ids=["ipv4", "ipv6", "default", "explicit-wins"],
)
def test_zipkin_address_of_a_remote_cluster(extra: dict[str, Any], expected: str) -> None:
    docs = _render(_with_global(REMOTE, **extra))
    assert _mesh(docs)["defaultConfig"]["tracing"]["zipkin"]["address"] == expected
    (proxy,) = [c for c in injected_pod(docs)["spec"]["containers"] if c["name"] == "istio-proxy"]
    args = proxy["args"]
    assert args[args.index("--zipkinAddress") + 1] == expected


def test_remote_zipkin_address_needs_istio_remote() -> None:
    values = {"global": {"remoteZipkinAddress": "10.0.0.9"}}
    mesh = _mesh(_render(values, components="with-pilot"))
    assert mesh["defaultConfig"]["tracing"]["zipkin"]["address"] == "zipkin.istio-system:9411"


def test_injector_of_a_remote_cluster_mounts_the_mesh_config() -> None:
    docs = _render(REMOTE)
    deployment = _one(docs, "Deployment", "istio-sidecar-injector")
    volumes = deployment["spec"]["template"]["spec"]["volumes"]
    assert {"name": "config-volume", "configMap": {"name": "istio"}} in volumes


def test_istio_reader_is_read_only_and_bound_to_istio_multi() -> None:
    docs = _render(REMOTE)
    role = _one(docs, "ClusterRole", "istio-reader")
    assert role["rules"] == [
        {
            "apiGroups": [""],
            "resources": ["nodes", "pods", "services", "endpoints", "replicationcontrollers"],
            "verbs": ["get", "list", "watch"],
        },
        {"apiGroups": ["apps"], "resources": ["replicasets"], "verbs": ["get", "list", "watch"]},
    ]
    binding = _one(docs, "ClusterRoleBinding", "istio-multi")
    assert binding["roleRef"]["name"] == "istio-reader"
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "istio-multi", "namespace": NS}
    ]
    secret = _one(docs, "Secret", "istio-multi-token")
    assert secret["type"] == "kubernetes.io/service-account-token"
    assert secret["metadata"]["annotations"] == {
        "kubernetes.io/service-account.name": "istio-multi"
    }
    assert _one(docs, "ServiceAccount", "istio-multi")["metadata"]["namespace"] == NS


def test_created_services_point_at_the_remote_ips() -> None:
    docs = _render(ENDPOINTS)
    expected = {
        "istio-pilot": ("IPv4", "10.0.0.1", [15010, 15011]),
        "istio-policy": ("IPv4", "10.0.0.2", [9091, 15004]),
        "istio-telemetry": ("IPv6", "fd00::3", [9091, 15004]),
    }
    for name, (family, address, ports) in expected.items():
        service = _one(docs, "Service", name)
        assert "selector" not in service["spec"]
        assert service["spec"]["clusterIP"] == "None"
        assert [p["port"] for p in service["spec"]["ports"]] == ports
        endpoints = _one(docs, "EndpointSlice", name)
        assert endpoints["apiVersion"] == "discovery.k8s.io/v1"
        assert endpoints["metadata"]["labels"]["kubernetes.io/service-name"] == name
        assert endpoints["addressType"] == family
        assert endpoints["endpoints"] == [{"addresses": [address], "conditions": {"ready": True}}]
        assert endpoints["ports"] == [
            {"name": p["name"], "port": p["port"], "protocol": "TCP"}
            for p in service["spec"]["ports"]
        ]
    # Proxies then use the local names.
    mesh = _mesh(docs)
    assert mesh["defaultConfig"]["discoveryAddress"] == "istio-pilot.istio-system:15010"
    assert mesh["mixerCheckServer"] == "istio-policy.istio-system.svc.cluster.local:9091"
    assert mesh["mixerReportServer"] == "istio-telemetry.istio-system.svc.cluster.local:9091"


def test_created_services_skip_unset_addresses() -> None:
    values = _with_global(REMOTE, remotePilotCreateSvcEndpoint=True)
    added = identities(_render(values)) - identities(_render(REMOTE))
    assert added == {("Service", "istio-pilot"), ("EndpointSlice", "istio-pilot")}


def test_istio_remote_needs_a_pilot_address() -> None:
    values = {"global": {"istioRemote": True}}
    assert "global.istioRemote needs global.remotePilotAddress" in _fails(values)


def test_created_services_need_ip_addresses() -> None:
    values = _with_global(ENDPOINTS, remotePolicyAddress="policy.primary.example")
    message = _fails(values)
    assert "needs IP addresses" in message and "remotePolicyAddress" in message


def test_created_services_refuse_to_shadow_a_local_pilot() -> None:
    message = _fails(ENDPOINTS, components="with-pilot")
    assert "creates the Service istio-pilot" in message


# --- (3) Istio custom resources ------------------------------------------------------------


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_custom_resources_validate_against_their_crds(scenario: str) -> None:
    schemas = {(f"{c.group}/{c.version}", c.kind): dict(c.schema) for c in CRDS}
    values = {**SCENARIOS[scenario], "security": {"createMeshPolicy": False, "jwt": [JWT]}}
    docs = _render(values)
    custom = [d for d in docs if any(g in d["apiVersion"] for g in MESH_CUSTOM_GROUPS)]
    assert [d["kind"] for d in custom] == ["Policy"]
    for doc in custom:
        body = {k: v for k, v in doc.items() if k not in ("apiVersion", "kind", "metadata")}
        jsonschema.validate(body, schemas[(doc["apiVersion"], doc["kind"])])


# --- (4) Kubernetes schemas ----------------------------------------------------------------


@pytest.mark.parametrize("kube", KUBES)
@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_rendered_objects_validate_against_kubernetes(scenario: str, kube: str) -> None:
    docs = _render(SCENARIOS[scenario])
    assert identities(docs) >= REMOTE_OBJECTS
    assert validate_k8s(docs, kube, strict=True, allow_custom=MESH_CUSTOM_GROUPS) == []


# --- (5) helm lint --strict and helm template under both Helms -----------------------------


@pytest.mark.parametrize("helm", HELMS)
def test_lint_strict_and_template(tmp_path: Path, helm: str) -> None:
    chart = _write(_tree(json.dumps(REMOTE, sort_keys=True), "remote"), tmp_path)
    values = tmp_path / "endpoints.yaml"
    values.write_text(yaml.safe_dump(ENDPOINTS))
    binary = helm_binaries()[helm]
    for extra in ((), ("-f", str(values))):
        assert_lint_strict(binary, chart, *extra)
        rendered = run_helm(binary, "template", "istio", str(chart), "-n", NS, *extra)
        assert 'name: "istio-multi"' in rendered.stdout


# --- (6) the schema ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "setting",
    [
        "global.istioRemote=yes",
        "global.remotePilotAddress=10.0.0.1:15010",
        "global.remotePilotAddress=http://pilot",
        "global.remotePolicyAddress=a_b",
        "global.remoteTelemetryAddress=[fd00::1]",
        'global.remoteZipkinAddress=z"',
        "global.remotePilotCreateSvcEndpoint=1",
    ],
)
def test_schema_rejects_bad_remote_values(tmp_path: Path, setting: str) -> None:
    chart = _write(_tree("{}", "remote"), tmp_path)
    result = run_helm(
        helm_binaries()[HELM4], "template", "istio", str(chart), "--set", setting, check=False
    )
    assert result.returncode != 0
    assert "schema" in result.stderr.lower()


# --- (7) requests and limits -----------------------------------------------------------------


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_every_container_has_requests_and_limits(scenario: str) -> None:
    docs = _render(SCENARIOS[scenario])
    pod = injected_pod(docs)
    containers = [*_containers(docs), *pod["spec"]["initContainers"], *pod["spec"]["containers"]]
    assert {c["name"] for c in containers} >= {"citadel", "sidecar-injector-webhook", "istio-proxy"}
    for container in containers:
        resources = container["resources"]
        assert resources["requests"] and resources["limits"], container["name"]
