"""The mixer component: istio-policy, istio-telemetry, adapters and rate limits."""

from __future__ import annotations

import atexit
import functools
import hashlib
import json
import re
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from harness import assemble_components, assert_lint_strict, identities
from tools import (
    HELM3,
    HELM4,
    MESH_CUSTOM_GROUPS,
    helm_binaries,
    run_helm,
    split_manifest,
    validate_k8s,
)

from meshcharts.catalog.crds import CRDS
from meshcharts.catalog.mixer import MIXER, RESERVED_NAMES
from meshcharts.checks.render import render_objects
from meshcharts.values.keypaths import leaf_paths

NS = "istio-system"
Ident = tuple[str, str]

RATE_LIMIT = {
    "name": "reviews",
    "service": "reviews.default.svc.cluster.local",
    "maxAmount": 100,
    "validDuration": "1s",
    "overrides": [{"dimensions": {"source": "10.28.11.20"}, "maxAmount": 5, "validDuration": "5s"}],
}
POLICY_CHECKS_ON = {"global": {"disablePolicyChecks": False}}


def _with(*parts: dict[str, Any]) -> dict[str, Any]:
    """Deep-merge value trees (later wins)."""
    out: dict[str, Any] = {}
    for part in parts:
        for key, value in part.items():
            if isinstance(value, dict) and isinstance(out.get(key), dict):
                out[key] = _with(out[key], value)
            else:
                out[key] = value
    return out


def _adapter(name: str, **settings: Any) -> dict[str, Any]:
    return {"mixer": {"adapters": {name: {"enabled": True, **settings}}}}


STACKDRIVER = _adapter("stackdriver", projectId="my-project", tracer={"enabled": True})
ALL_ON = _with(
    POLICY_CHECKS_ON,
    {"global": {"controlPlaneSecurityEnabled": True}},
    _adapter("stdio"),
    STACKDRIVER,
    _adapter("datadog", globalTags={"env": "prod"}),
    _adapter("skywalking"),
    {"mixer": {"policy": {"rateLimits": [RATE_LIMIT]}}},
)


# --- rendering -------------------------------------------------------------------------------


_SCRATCH = tempfile.TemporaryDirectory(prefix="mixer-test-")
atexit.register(_SCRATCH.cleanup)


def _write_chart(folder: Path) -> Path:
    """Write the istio chart with only the mixer component into ``folder/istio``."""
    root = folder / "istio"
    for relpath, data in assemble_components((MIXER,)).files.items():
        path = root / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root


@functools.cache
def _chart() -> Path:
    """The mixer-only chart, written once per session."""
    return _write_chart(Path(_SCRATCH.name))


@functools.cache
def _run(version: str, values_json: str, *args: str) -> subprocess.CompletedProcess[str]:
    digest = hashlib.sha256(values_json.encode()).hexdigest()[:16]
    values = Path(_SCRATCH.name) / f"values-{digest}.yaml"
    values.write_text(yaml.safe_dump(json.loads(values_json)))
    helm = helm_binaries()[version]
    return run_helm(
        helm,
        "template",
        "istio",
        str(_chart()),
        "--namespace",
        NS,
        "-f",
        str(values),
        *args,
        check=False,
    )


def template(
    values: dict[str, Any] | None = None, *args: str, version: str = HELM4
) -> subprocess.CompletedProcess[str]:
    """``helm template`` of the mixer-only chart with ``values`` (a values file) and args."""
    return _run(version, json.dumps(values or {}, sort_keys=True), *args)


def render(values: dict[str, Any] | None = None, *args: str) -> list[dict[str, Any]]:
    result = template(values, *args)
    assert result.returncode == 0, result.stderr
    return split_manifest(result.stdout)


def find(docs: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    matches = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(matches) == 1, (kind, name, sorted(identities(docs)))
    return matches[0]


def _containers(doc: dict[str, Any]) -> Iterator[dict[str, Any]]:
    spec = doc["spec"]["template"]["spec"]
    assert spec["containers"], f"{doc['metadata']['name']} has no containers"
    yield from spec.get("initContainers", [])
    yield from spec["containers"]


# --- expected objects ------------------------------------------------------------------------

METRIC_INSTANCES = {
    "requestcount",
    "requestduration",
    "requestsize",
    "responsesize",
    "tcpbytesent",
    "tcpbytereceived",
    "tcpconnectionsopened",
    "tcpconnectionsclosed",
}


def _per_mixer(kind_names: set[str], mixer: str) -> set[Ident]:
    return {(kind, f"istio-{mixer}") for kind in kind_names}


# Autoscaled from one pod: no PodDisruptionBudget (one pod under minAvailable 1 blocks drains).
WORKLOAD_KINDS = {
    "Deployment",
    "Service",
    "HorizontalPodAutoscaler",
    "DestinationRule",
}
SHARED = {
    ("ServiceAccount", "istio-mixer-service-account"),
    ("ClusterRole", f"istio-mixer-{NS}"),
    ("ClusterRoleBinding", f"istio-mixer-admin-role-binding-{NS}"),
    ("Role", "istio-mixer"),
    ("RoleBinding", "istio-mixer"),
    ("attributemanifest", "istioproxy"),
    ("attributemanifest", "kubernetes"),
}
KUBERNETESENV = {
    ("handler", "kubernetesenv"),
    ("instance", "attributes"),
    ("rule", "kubeattrgenrulerule"),
    ("rule", "tcpkubeattrgenrulerule"),
}
METRICS = {("instance", name) for name in METRIC_INSTANCES}
PROMETHEUS = {
    ("handler", "prometheus"),
    ("rule", "promhttp"),
    ("rule", "promtcp"),
    ("rule", "promtcpconnectionopen"),
    ("rule", "promtcpconnectionclosed"),
}
POLICY = _per_mixer(WORKLOAD_KINDS, "policy")
TELEMETRY = _per_mixer(WORKLOAD_KINDS, "telemetry")
DEFAULT = SHARED | KUBERNETESENV | METRICS | PROMETHEUS | POLICY | TELEMETRY

ADAPTERS: dict[str, tuple[dict[str, Any], set[Ident]]] = {
    "stdio": (
        _adapter("stdio"),
        {
            ("handler", "stdio"),
            ("instance", "accesslog"),
            ("instance", "tcpaccesslog"),
            ("rule", "stdio"),
            ("rule", "stdiotcp"),
        },
    ),
    "stackdriver": (
        STACKDRIVER,
        {
            ("handler", "stackdriver"),
            ("instance", "stackdriverrequestcount"),
            ("instance", "stackdriverrequestduration"),
            ("instance", "stackdriverrequestsize"),
            ("instance", "stackdriverresponsesize"),
            ("instance", "stackdriverlog"),
            ("instance", "stackdriverspan"),
            ("rule", "stackdriver"),
            ("rule", "stackdriver-tracing-rule"),
        },
    ),
    "datadog": (
        _adapter("datadog"),
        {
            ("handler", "dogstatsd"),
            ("rule", "dogstatsdhttp"),
            ("rule", "dogstatsdtcp"),
            ("rule", "dogstatsdtcpconnectionopen"),
            ("rule", "dogstatsdtcpconnectionclosed"),
        },
    ),
    "skywalking": (
        _adapter("skywalking"),
        {
            ("adapter", "swadapter"),
            ("handler", "sw"),
            ("instance", "swmetric"),
            ("rule", "swmetric-rule"),
        },
    ),
}
QUOTA = {
    ("handler", "quotahandler"),
    ("instance", "reviews"),
    ("rule", "reviews"),
    ("QuotaSpec", "reviews"),
    ("QuotaSpecBinding", "reviews"),
}


# --- on / off --------------------------------------------------------------------------------


def test_defaults_render_exactly_the_istio_1_1_objects() -> None:
    assert identities(render()) == DEFAULT


def test_disabled_component_renders_nothing() -> None:
    assert identities(render({}, "--set", "mixer.enabled=false")) == set()
    both_off = {"mixer": {"policy": {"enabled": False}, "telemetry": {"enabled": False}}}
    assert identities(render(both_off)) == set()


def test_policy_off_removes_only_istio_policy() -> None:
    docs = render({}, "--set", "mixer.policy.enabled=false")
    assert identities(docs) == DEFAULT - POLICY


def test_telemetry_off_removes_istio_telemetry_and_its_adapters() -> None:
    docs = render(ALL_ON, "--set", "mixer.telemetry.enabled=false")
    telemetry_adapters = set().union(*(added for _, added in ADAPTERS.values()))
    assert identities(docs) == DEFAULT - TELEMETRY - METRICS - PROMETHEUS | QUOTA
    assert not identities(docs) & telemetry_adapters


@pytest.mark.parametrize("adapter", sorted(ADAPTERS))
def test_each_adapter_adds_its_handler_instances_and_rules(adapter: str) -> None:
    values, added = ADAPTERS[adapter]
    assert identities(render(values)) == DEFAULT | added


def test_datadog_alone_keeps_the_shared_metric_instances() -> None:
    values = _with(_adapter("datadog"), {"mixer": {"adapters": {"prometheus": {"enabled": False}}}})
    assert identities(render(values)) == DEFAULT - PROMETHEUS | ADAPTERS["datadog"][1]


def test_prometheus_and_kubernetesenv_can_be_switched_off() -> None:
    values = {"mixer": {"adapters": {"prometheus": {"enabled": False}}}}
    assert identities(render(values)) == DEFAULT - PROMETHEUS - METRICS
    values = {"mixer": {"adapters": {"kubernetesenv": {"enabled": False}}}}
    roles = {("Role", "istio-mixer"), ("RoleBinding", "istio-mixer")}
    assert identities(render(values)) == DEFAULT - KUBERNETESENV - roles


def test_all_on_renders_the_union() -> None:
    added = set().union(*(added for _, added in ADAPTERS.values()))
    assert identities(render(ALL_ON)) == DEFAULT | added | QUOTA


# --- workloads -------------------------------------------------------------------------------


def test_services_expose_the_istio_1_1_ports() -> None:
    docs = render({"mixer": {"telemetry": {"sessionAffinityEnabled": True}}})
    policy = find(docs, "Service", "istio-policy")["spec"]
    telemetry = find(docs, "Service", "istio-telemetry")["spec"]
    ports = {(p["name"], p["port"]) for p in policy["ports"]}
    assert ports == {("grpc-mixer", 9091), ("grpc-mixer-mtls", 15004), ("http-monitoring", 15014)}
    ports = {(p["name"], p["port"]) for p in telemetry["ports"]}
    assert ports == {
        ("grpc-mixer", 9091),
        ("grpc-mixer-mtls", 15004),
        ("http-monitoring", 15014),
        ("prometheus", 42422),
    }
    assert telemetry["sessionAffinity"] == "ClientIP"
    assert "sessionAffinity" not in policy
    assert policy["selector"] == {"app": "policy", "istio": "mixer", "istio-mixer-type": "policy"}


def test_deployments_run_mixs_behind_an_istio_proxy_sidecar() -> None:
    values = {
        "mixer": {
            "policy": {"checkCacheEntries": 20000},
            "telemetry": {"loadshedding": {"mode": "logonly", "latencyThreshold": "250ms"}},
            "env": {"EXTRA": "1"},
        },
    }
    docs = render(values)
    for mixer in ("policy", "telemetry"):
        pod = find(docs, "Deployment", f"istio-{mixer}")["spec"]["template"]["spec"]
        mixs, proxy = pod["containers"]
        assert (mixs["name"], proxy["name"]) == ("mixer", "istio-proxy")
        assert mixs["image"] == "docker.io/istio/mixer:1.0.6"
        assert "unix:///sock/mixer.socket" in mixs["args"]
        assert "--useAdapterCRDs=false" in mixs["args"]
        env = {e["name"]: e.get("value") for e in mixs["env"]}
        assert env == {
            "POD_NAMESPACE": None,
            "GODEBUG": "gctrace=1",
            "GOMAXPROCS": "6",
            "EXTRA": "1",
        }
        assert proxy["resources"] == {
            "requests": {"cpu": "100m", "memory": "128Mi"},
            "limits": {"cpu": "2000m", "memory": "1024Mi"},
        }
        assert f"/etc/istio/proxy/envoy_{mixer}.yaml.tmpl" in proxy["args"]
        assert {p["containerPort"] for p in proxy["ports"]} == {9091, 15004, 15090}
        assert pod["serviceAccountName"] == "istio-mixer-service-account"
    policy = find(docs, "Deployment", "istio-policy")["spec"]["template"]["spec"]["containers"][0]
    telemetry = find(docs, "Deployment", "istio-telemetry")["spec"]["template"]["spec"]
    assert "--numCheckCacheEntries=20000" in policy["args"]
    args = telemetry["containers"][0]["args"]
    assert args[args.index("--loadsheddingMode") + 1] == "logonly"
    assert args[args.index("--averageLatencyThreshold") + 1] == "250ms"
    assert telemetry["containers"][0]["resources"]["limits"] == {"cpu": "4800m", "memory": "4G"}


def test_legacy_adapter_crds_widen_the_cluster_role() -> None:
    docs = render({"mixer": {"adapters": {"useAdapterCRDs": True}}})
    args = find(docs, "Deployment", "istio-telemetry")["spec"]["template"]["spec"]
    assert not any("CRDs" in a for a in args["containers"][0]["args"])
    rules = find(docs, "ClusterRole", f"istio-mixer-{NS}")["rules"]
    assert any("prometheuses" in r["resources"] for r in rules)


def test_cluster_role_is_read_only_and_enumerated() -> None:
    for values in ({}, {"mixer": {"adapters": {"useAdapterCRDs": True}}}):
        rules = find(render(values), "ClusterRole", f"istio-mixer-{NS}")["rules"]
        assert rules, f"the istio-mixer ClusterRole has no rules with {values}"
        for rule in rules:
            assert rule["verbs"] == ["get", "list", "watch"]
            assert "*" not in rule["resources"] + rule["apiGroups"]
            assert "secrets" not in rule["resources"]
    role = find(render(), "Role", "istio-mixer")
    assert role["rules"] == [
        {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "list", "watch"]}
    ]


def test_autoscaling_replicas_and_budgets() -> None:
    docs = render({"mixer": {"policy": {"autoscaleEnabled": False, "replicaCount": 3}}})
    assert find(docs, "Deployment", "istio-policy")["spec"]["replicas"] == 3
    assert ("HorizontalPodAutoscaler", "istio-policy") not in identities(docs)
    assert ("PodDisruptionBudget", "istio-policy") in identities(docs)
    hpa = find(docs, "HorizontalPodAutoscaler", "istio-telemetry")["spec"]
    assert (hpa["minReplicas"], hpa["maxReplicas"]) == (1, 5)
    docs = render({"mixer": {"policy": {"autoscaleEnabled": False, "replicaCount": 1}}})
    assert ("PodDisruptionBudget", "istio-policy") not in identities(docs)
    # Autoscaled: a budget only when the autoscaler keeps two pods at least.
    assert not any(kind == "PodDisruptionBudget" for kind, _ in identities(render()))
    docs = render({"mixer": {"telemetry": {"autoscaleMin": 2}}})
    budgets = {name for kind, name in identities(docs) if kind == "PodDisruptionBudget"}
    assert budgets == {"istio-telemetry"}
    assert find(docs, "PodDisruptionBudget", "istio-telemetry")["spec"] == {
        "minAvailable": 1,
        "selector": {
            "matchLabels": {"app": "telemetry", "istio": "mixer", "istio-mixer-type": "telemetry"}
        },
    }
    replicated = {"mixer": {"policy": {"autoscaleEnabled": False, "replicaCount": 3}}}
    docs = render({**replicated, "global": {"defaultPodDisruptionBudget": {"enabled": False}}})
    assert not any(kind == "PodDisruptionBudget" for kind, _ in identities(docs))


def test_destination_rules_pool_connections_and_use_mtls_on_15004() -> None:
    plain = find(render(), "DestinationRule", "istio-telemetry")["spec"]
    assert plain["host"] == f"istio-telemetry.{NS}.svc.cluster.local"
    assert plain["trafficPolicy"] == {
        "connectionPool": {"http": {"http2MaxRequests": 10000, "maxRequestsPerConnection": 10000}}
    }
    secure = find(render(ALL_ON), "DestinationRule", "istio-policy")["spec"]["trafficPolicy"]
    assert secure["portLevelSettings"] == [
        {"port": {"number": 15004}, "tls": {"mode": "ISTIO_MUTUAL"}}
    ]


def test_pods_take_annotations_node_selector_image_and_priority_class() -> None:
    values = {
        "mixer": {
            "image": "example.com/mesh/mixer:1.1.0",
            "podAnnotations": {"team": "mesh"},
            "nodeSelector": {"pool": "mesh"},
        },
        "global": {"priorityClassName": "mesh-critical"},
    }
    docs = render(values)
    for mixer in ("policy", "telemetry"):
        template = find(docs, "Deployment", f"istio-{mixer}")["spec"]["template"]
        assert template["metadata"]["annotations"]["team"] == "mesh"
        pod = template["spec"]
        assert pod["nodeSelector"] == {"pool": "mesh"}
        assert pod["priorityClassName"] == "mesh-critical"
        assert pod["containers"][0]["image"] == "example.com/mesh/mixer:1.1.0"


def test_default_resources_apply_when_a_mixer_sets_none() -> None:
    values = {
        "mixer": {"policy": {"resources": None}},
        "global": {"defaultResources": {"requests": {"cpu": "20m"}}},
    }
    docs = render(values)
    policy = find(docs, "Deployment", "istio-policy")["spec"]["template"]["spec"]
    assert policy["containers"][0]["resources"] == {"requests": {"cpu": "20m"}}
    telemetry = find(docs, "Deployment", "istio-telemetry")["spec"]["template"]["spec"]
    assert telemetry["containers"][0]["resources"]["limits"] == {"cpu": "4800m", "memory": "4G"}


# --- every upstream 1.1 key changes what renders -----------------------------------------------

_NO_HPA = {
    "mixer": {"policy": {"autoscaleEnabled": False}, "telemetry": {"autoscaleEnabled": False}}
}
_STDIO = _adapter("stdio")


def _mixer(**settings: Any) -> dict[str, Any]:
    return {"mixer": settings}


UPSTREAM_KEYS: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    # key: (values enabling it, values changing it)
    "mixer.enabled": ({}, _mixer(enabled=False)),
    "mixer.image": ({}, _mixer(image="example.com/mesh/mixer:1.1.0")),
    "mixer.nodeSelector": ({}, _mixer(nodeSelector={"pool": "mesh"})),
    "mixer.podAnnotations": ({}, _mixer(podAnnotations={"team": "mesh"})),
    "mixer.env.GODEBUG": ({}, _mixer(env={"GODEBUG": "gctrace=2"})),
    "mixer.env.GOMAXPROCS": ({}, _mixer(env={"GOMAXPROCS": "2"})),
    "mixer.adapters.useAdapterCRDs": ({}, _mixer(adapters={"useAdapterCRDs": True})),
    "mixer.adapters.kubernetesenv.enabled": ({}, _adapter("kubernetesenv", enabled=False)),
    "mixer.adapters.prometheus.enabled": ({}, _adapter("prometheus", enabled=False)),
    "mixer.adapters.prometheus.metricsExpiryDuration": (
        {},
        _adapter("prometheus", metricsExpiryDuration="1h"),
    ),
    "mixer.adapters.stdio.enabled": ({}, _STDIO),
    "mixer.adapters.stdio.outputAsJson": (_STDIO, _adapter("stdio", outputAsJson=False)),
    "mixer.telemetry.sessionAffinityEnabled": (
        {},
        _mixer(telemetry={"sessionAffinityEnabled": True}),
    ),
    "mixer.telemetry.loadshedding.mode": (
        {},
        _mixer(telemetry={"loadshedding": {"mode": "logonly"}}),
    ),
    "mixer.telemetry.loadshedding.latencyThreshold": (
        {},
        _mixer(telemetry={"loadshedding": {"latencyThreshold": "1s"}}),
    ),
    "global.priorityClassName": ({}, {"global": {"priorityClassName": "mesh-critical"}}),
    "global.defaultResources.requests.cpu": (
        _mixer(policy={"resources": None}),
        _with(
            _mixer(policy={"resources": None}),
            {"global": {"defaultResources": {"requests": {"cpu": "1"}}}},
        ),
    ),
}
for _type in ("policy", "telemetry"):
    UPSTREAM_KEYS.update(
        {
            f"mixer.{_type}.enabled": ({}, _mixer(**{_type: {"enabled": False}})),
            f"mixer.{_type}.autoscaleEnabled": ({}, _mixer(**{_type: {"autoscaleEnabled": False}})),
            f"mixer.{_type}.autoscaleMin": ({}, _mixer(**{_type: {"autoscaleMin": 2}})),
            f"mixer.{_type}.autoscaleMax": ({}, _mixer(**{_type: {"autoscaleMax": 9}})),
            f"mixer.{_type}.cpu.targetAverageUtilization": (
                {},
                _mixer(**{_type: {"cpu": {"targetAverageUtilization": 50}}}),
            ),
            f"mixer.{_type}.replicaCount": (
                _NO_HPA,
                _with(_NO_HPA, _mixer(**{_type: {"replicaCount": 3}})),
            ),
        }
    )
    for _leaf in ("requests.cpu", "requests.memory", "limits.cpu", "limits.memory"):
        _kind, _name = _leaf.split(".")
        UPSTREAM_KEYS[f"mixer.{_type}.resources.{_leaf}"] = (
            {},
            _mixer(**{_type: {"resources": {_kind: {_name: "3"}}}}),
        )


@pytest.mark.parametrize("key", sorted(UPSTREAM_KEYS))
def test_each_upstream_key_changes_the_render(key: str) -> None:
    base, changed = UPSTREAM_KEYS[key]
    assert render(changed) != render(base)


_PY_CASES = {
    "defaults": {},
    "stdio-json": _STDIO,
    "stdio-text-no-hpa": _with(_adapter("stdio", outputAsJson=False), _NO_HPA),
    "all-on": ALL_ON,
}


@pytest.mark.parametrize("case", sorted(_PY_CASES))
def test_python_renderer_matches_helm(case: str) -> None:
    values = _PY_CASES[case]
    tree = assemble_components((MIXER,), values)
    ours = render_objects(tree, release="istio", namespace=NS)
    key = lambda d: (d["kind"], d["metadata"]["name"])  # noqa: E731
    assert sorted(ours, key=key) == sorted(render(values), key=key)


# --- adapters --------------------------------------------------------------------------------


def test_prometheus_handler_matches_the_metric_instances() -> None:
    docs = render({"mixer": {"adapters": {"prometheus": {"metricsExpiryDuration": "5m"}}}})
    params = find(docs, "handler", "prometheus")["spec"]["params"]
    assert params["metricsExpirationPolicy"] == {"metricsExpiryDuration": "5m"}
    names = {m["name"] for m in params["metrics"]}
    assert {
        "requests_total",
        "tcp_connections_opened_total",
        "tcp_connections_closed_total",
    } < names
    for metric in params["metrics"]:
        instance_name, kind, namespace = metric["instance_name"].split(".")
        assert (kind, namespace) == ("instance", NS)
        instance = find(docs, "instance", instance_name)["spec"]
        assert instance["compiledTemplate"] == "metric"
        assert sorted(metric["label_names"]) == sorted(instance["params"]["dimensions"])
    no_expiry = {"mixer": {"adapters": {"prometheus": {"metricsExpiryDuration": ""}}}}
    assert (
        "metricsExpirationPolicy"
        not in find(render(no_expiry), "handler", "prometheus")["spec"]["params"]
    )


def test_rules_reference_rendered_handlers_and_instances() -> None:
    docs = render(ALL_ON)
    handlers = {d["metadata"]["name"] for d in docs if d["kind"] == "handler"}
    instances = {d["metadata"]["name"] for d in docs if d["kind"] == "instance"}
    rules = [d for d in docs if d["kind"] == "rule"]
    assert rules, "no Mixer rule rendered"
    for rule in rules:
        assert rule["spec"]["actions"], f"rule {rule['metadata']['name']} has no actions"
        for action in rule["spec"]["actions"]:
            assert action["handler"].removesuffix(f".{NS}") in handlers
            assert set(action["instances"]) <= instances


_ROOTS = "source|destination|origin|request|response|connection|context|api|rbac|check|quota"
_ATTRIBUTE = re.compile(rf"(?<![\w$.\"])((?:{_ROOTS})(?:\.[A-Za-z_]+)+)")
"""An attribute name in a Mixer expression (not a string literal or $out field)."""


def _expressions(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for value in node.values():
            yield from _expressions(value)
    elif isinstance(node, list):
        for value in node:
            yield from _expressions(value)
    elif isinstance(node, str):
        yield node


def test_instances_only_use_declared_attributes() -> None:
    docs = render(ALL_ON)
    declared: set[str] = set()
    for manifest in (d for d in docs if d["kind"] == "attributemanifest"):
        declared |= set(manifest["spec"]["attributes"])
    assert len(declared) > 80
    assert any(d["kind"] in ("instance", "rule") for d in docs), "no instance or rule rendered"
    for doc in docs:
        if doc["kind"] not in ("instance", "rule"):
            continue
        spec = doc["spec"]
        used: set[str] = set(spec.get("attributeBindings", {}))
        for text in _expressions({k: v for k, v in spec.items() if k != "attributeBindings"}):
            used |= set(_ATTRIBUTE.findall(text))
        for text in _expressions(spec.get("attributeBindings", {})):
            used |= set(_ATTRIBUTE.findall(text))
        undeclared = {a for a in used if a not in declared and not a.startswith("$out")}
        assert not undeclared, (doc["metadata"]["name"], undeclared)


# The logentry variables of Istio 1.1's accesslog and tcpaccesslog (charts/mixer config.yaml).
_LOG_COMMON = {
    "sourceIp", "sourceApp", "sourcePrincipal", "sourceName", "sourceWorkload",
    "sourceNamespace", "sourceOwner", "destinationApp", "destinationIp",
    "destinationServiceHost", "destinationWorkload", "destinationName", "destinationNamespace",
    "destinationOwner", "destinationPrincipal", "protocol", "connection_security_policy",
    "requestedServerName", "receivedBytes", "sentBytes", "reporter", "responseFlags",
}  # fmt: skip
ACCESSLOG_VARIABLES = _LOG_COMMON | {
    "apiClaims", "apiKey", "method", "url", "responseCode", "responseSize",
    "permissiveResponseCode", "permissiveResponsePolicyID", "requestSize", "requestId",
    "clientTraceId", "latency", "userAgent", "responseTimestamp", "referer", "httpAuthority",
    "xForwardedFor", "grpcStatus", "grpcMessage",
}  # fmt: skip
TCPACCESSLOG_VARIABLES = _LOG_COMMON | {
    "connectionEvent", "connectionDuration", "totalReceivedBytes", "totalSentBytes",
}  # fmt: skip


def test_stdio_handler_and_access_logs() -> None:
    docs = render(_adapter("stdio", outputAsJson=False))
    assert find(docs, "handler", "stdio")["spec"] == {
        "compiledAdapter": "stdio",
        "params": {"outputAsJson": False},
    }
    json_on = find(render(_adapter("stdio")), "handler", "stdio")["spec"]["params"]
    assert json_on == {"outputAsJson": True}
    logs = {
        "accesslog": (ACCESSLOG_VARIABLES, "request.time", "stdio"),
        "tcpaccesslog": (
            TCPACCESSLOG_VARIABLES,
            'context.time | timestamp("2017-01-01T00:00:00Z")',
            "stdiotcp",
        ),
    }
    for name, (variables, timestamp, rule) in logs.items():
        spec = find(docs, "instance", name)["spec"]
        assert spec["compiledTemplate"] == "logentry"
        params = spec["params"]
        assert set(params["variables"]) == variables, name
        assert (params["severity"], params["timestamp"]) == ('"Info"', timestamp)
        assert params["monitored_resource_type"] == '"global"'
        actions = find(docs, "rule", rule)["spec"]["actions"]
        assert actions == [{"handler": "stdio", "instances": [name]}]
    assert find(docs, "rule", "stdio")["spec"]["match"] == (
        'context.protocol == "http" || context.protocol == "grpc"'
    )
    assert find(docs, "rule", "stdiotcp")["spec"]["match"] == 'context.protocol == "tcp"'
    off = identities(render())
    assert not {("handler", "stdio"), ("instance", "accesslog"), ("rule", "stdio")} & off


def test_stackdriver_settings_and_switches() -> None:
    values = _adapter(
        "stackdriver",
        projectId="my-project",
        pushInterval="30s",
        auth={"appCredentials": False, "serviceAccountPath": "/var/run/secrets/sa.json"},
        logging={"enabled": False},
        tracer={"enabled": True, "sampleProbability": 0.25},
    )
    docs = render(values)
    params = find(docs, "handler", "stackdriver")["spec"]["params"]
    assert params["projectId"] == "my-project"
    assert params["pushInterval"] == "30s"
    assert params["appCredentials"] is False
    assert params["serviceAccountPath"] == "/var/run/secrets/sa.json"
    assert params["trace"] == {"sampleProbability": 0.25}
    assert "logInfo" not in params
    assert set(params["metricInfo"]) == {
        f"stackdriver{m}.instance.{NS}"
        for m in ("requestcount", "requestduration", "requestsize", "responsesize")
    }
    count = find(docs, "instance", "stackdriverrequestcount")["spec"]["params"]
    assert count["monitored_resource_dimensions"] == {"project_id": '"my-project"'}
    assert ("instance", "stackdriverlog") not in identities(docs)
    metrics_off = _with(values, _adapter("stackdriver", metrics={"enabled": False}))
    ids = identities(render(metrics_off))
    assert ("rule", "stackdriver") not in ids
    assert ("rule", "stackdriver-tracing-rule") in ids


def test_datadog_handler_settings() -> None:
    values = _adapter(
        "datadog",
        address="datadog-agent.monitoring:8125",
        prefix="mesh.",
        bufferLength=16,
        globalTags={"env": "prod"},
        sampleRate=0.5,
    )
    spec = find(render(values), "handler", "dogstatsd")["spec"]
    assert spec["compiledAdapter"] == "dogstatsd"
    params = spec["params"]
    assert (params["address"], params["prefix"], params["bufferLength"]) == (
        "datadog-agent.monitoring:8125",
        "mesh.",
        16,
    )
    assert params["globalTags"] == {"env": "prod"}
    assert params["sampleRate"] == 0.5
    assert set(params["metrics"]) == {f"{m}.instance.{NS}" for m in METRIC_INSTANCES}


def test_skywalking_is_an_out_of_process_handler() -> None:
    values = _adapter("skywalking", address="skywalking-oap.skywalking:11800")
    docs = render(values)
    handler = find(docs, "handler", "sw")["spec"]
    assert handler == {
        "adapter": "swadapter",
        "connection": {"address": "skywalking-oap.skywalking:11800"},
    }
    assert find(docs, "adapter", "swadapter")["spec"]["templates"] == ["metric"]
    assert find(docs, "instance", "swmetric")["spec"]["template"] == "metric"


def test_kubernetesenv_produces_attributes() -> None:
    docs = render()
    assert find(docs, "handler", "kubernetesenv")["spec"] == {"compiledAdapter": "kubernetesenv"}
    instance = find(docs, "instance", "attributes")["spec"]
    assert instance["compiledTemplate"] == "kubernetes"
    assert instance["attributeBindings"]["destination.workload.name"].startswith("$out.")
    assert find(docs, "rule", "tcpkubeattrgenrulerule")["spec"]["match"] == (
        'context.protocol == "tcp"'
    )


# --- rate limits -----------------------------------------------------------------------------


def test_rate_limit_becomes_a_memquota_handler_instance_rule_and_binding() -> None:
    second = {
        "name": "ratings",
        "service": "ratings.default.svc.cluster.local",
        "maxAmount": 10,
        "validDuration": "10s",
    }
    values = _with(POLICY_CHECKS_ON, {"mixer": {"policy": {"rateLimits": [RATE_LIMIT, second]}}})
    docs = render(values)
    handler = find(docs, "handler", "quotahandler")["spec"]
    assert handler["compiledAdapter"] == "memquota"
    assert handler["params"]["quotas"] == [
        {
            "name": f"reviews.instance.{NS}",
            "maxAmount": 100,
            "validDuration": "1s",
            "overrides": [
                {"dimensions": {"source": "10.28.11.20"}, "maxAmount": 5, "validDuration": "5s"}
            ],
        },
        {"name": f"ratings.instance.{NS}", "maxAmount": 10, "validDuration": "10s"},
    ]
    instance = find(docs, "instance", "reviews")["spec"]
    assert instance["compiledTemplate"] == "quota"
    assert set(instance["params"]["dimensions"]) == {"source", "destination"}
    rule = find(docs, "rule", "reviews")["spec"]
    assert rule["match"] == 'destination.service.host == "reviews.default.svc.cluster.local"'
    assert rule["actions"] == [{"handler": "quotahandler", "instances": ["reviews"]}]
    spec = find(docs, "QuotaSpec", "ratings")["spec"]
    assert spec == {"rules": [{"quotas": [{"quota": "ratings", "charge": 1}]}]}
    binding = find(docs, "QuotaSpecBinding", "ratings")["spec"]
    assert binding == {
        "services": [{"service": "ratings.default.svc.cluster.local"}],
        "quotaSpecs": [{"name": "ratings", "namespace": NS}],
    }


def test_redis_backend_switches_the_handler() -> None:
    override = {"dimensions": {"destination": "reviews"}, "maxAmount": 1}
    limit = {**RATE_LIMIT, "overrides": [override]}
    redis = {
        "quotaBackend": "redis",
        "redisQuota": {
            "redisServerUrl": "redis-master.redis:6379",
            "connectionPoolSize": 20,
            "rateLimitAlgorithm": "ROLLING_WINDOW",
            "bucketDuration": "500ms",
        },
        "rateLimits": [limit],
    }
    docs = render(_with(POLICY_CHECKS_ON, {"mixer": {"policy": redis}}))
    handler = find(docs, "handler", "quotahandler")["spec"]
    assert handler["compiledAdapter"] == "redisquota"
    assert handler["params"] == {
        "redisServerUrl": "redis-master.redis:6379",
        "connectionPoolSize": 20,
        "quotas": [
            {
                "name": f"reviews.instance.{NS}",
                "maxAmount": 100,
                "validDuration": "1s",
                "rateLimitAlgorithm": "ROLLING_WINDOW",
                "bucketDuration": "500ms",
                "overrides": [override],
            }
        ],
    }


def test_rate_limits_need_the_policy_mixer() -> None:
    values = _with(POLICY_CHECKS_ON, {"mixer": {"policy": {"rateLimits": [RATE_LIMIT]}}})
    docs = render(values, "--set", "mixer.policy.enabled=false")
    assert not identities(docs) & QUOTA


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"mixer": {"policy": {"rateLimits": [RATE_LIMIT]}}}, "disablePolicyChecks"),
        (
            _with(
                POLICY_CHECKS_ON,
                {"mixer": {"policy": {"rateLimits": [RATE_LIMIT, RATE_LIMIT]}}},
            ),
            "used twice",
        ),
        (
            _with(
                POLICY_CHECKS_ON,
                {"mixer": {"policy": {"quotaBackend": "redis", "rateLimits": [RATE_LIMIT]}}},
            ),
            "redisServerUrl is required",
        ),
        (
            _with(
                POLICY_CHECKS_ON,
                {
                    "mixer": {
                        "policy": {
                            "quotaBackend": "redis",
                            "redisQuota": {"redisServerUrl": "redis:6379"},
                            "rateLimits": [RATE_LIMIT],
                        }
                    }
                },
            ),
            "only supported by the memquota backend",
        ),
        (_adapter("stackdriver"), "projectId is required"),
        ({"mixer": {"telemetry": {"autoscaleMin": 6}}}, "must not exceed"),
    ],
    ids=["policy-checks-off", "duplicate", "redis-url", "redis-override", "project", "hpa"],
)
def test_inconsistent_settings_fail_the_render(values: dict[str, Any], message: str) -> None:
    result = template(values)
    assert result.returncode != 0
    assert message in result.stderr


# --- schema ----------------------------------------------------------------------------------


_LIMIT_JSON = '"name":"a","service":"a.b","maxAmount":1'
BAD_VALUES: dict[str, tuple[str, str]] = {
    "unknown-key": ("--set", "mixer.bogus=1"),
    "unknown-adapter-key": ("--set", "mixer.adapters.prometheus.bogus=1"),
    "unknown-adapter": ("--set", "mixer.adapters.bogus.enabled=true"),
    "unknown-redis-key": ("--set", "mixer.policy.redisQuota.bogus=1"),
    "loadshedding-enum": ("--set", "mixer.telemetry.loadshedding.mode=sometimes"),
    "backend-enum": ("--set", "mixer.policy.quotaBackend=etcd"),
    "algorithm-enum": ("--set", "mixer.policy.redisQuota.rateLimitAlgorithm=LEAKY_BUCKET"),
    "project-id": ("--set", "mixer.adapters.stackdriver.projectId=Not_A_Project"),
    "datadog-address": ("--set", "mixer.adapters.datadog.address=no-port"),
    "limit-missing-duration": ("--set-json", f"mixer.policy.rateLimits=[{{{_LIMIT_JSON}}}]"),
    "limit-extra-key": (
        "--set-json",
        f'mixer.policy.rateLimits=[{{{_LIMIT_JSON},"validDuration":"1s","burst":2}}]',
    ),
    "limit-reserved-name": (
        "--set-json",
        'mixer.policy.rateLimits=[{"name":"promhttp","service":"a.b","maxAmount":1,'
        '"validDuration":"1s"}]',
    ),
    "limit-bad-duration": (
        "--set-json",
        f'mixer.policy.rateLimits=[{{{_LIMIT_JSON},"validDuration":"1 second"}}]',
    ),
    "override-unknown-dimension": (
        "--set-json",
        f'mixer.policy.rateLimits=[{{{_LIMIT_JSON},"validDuration":"1s",'
        '"overrides":[{"dimensions":{"user":"x"},"maxAmount":1}]}]',
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_VALUES))
def test_schema_rejects_unknown_keys_and_bad_values(case: str) -> None:
    args = BAD_VALUES[case]
    for version in (HELM3, HELM4):
        result = template({}, *args, version=version)
        assert result.returncode != 0, (version, args)
        assert "schema" in result.stderr.lower(), result.stderr


def test_reserved_names_are_the_names_the_chart_renders() -> None:
    everything = _with(ALL_ON, {"mixer": {"policy": {"rateLimits": []}}})
    rendered = {
        name for kind, name in identities(render(everything)) if kind in ("instance", "rule")
    }
    assert rendered == set(RESERVED_NAMES)


def test_every_value_is_documented() -> None:
    documented = {tuple(key.split(".")) for key in MIXER.docs}
    missing = [path for path in leaf_paths(MIXER.defaults) if path not in documented]
    assert not missing


# --- validity --------------------------------------------------------------------------------


def _crd_schemas() -> dict[tuple[str, str], dict[str, Any]]:
    return {(f"{c.group}/{c.version}", c.kind): dict(c.schema) for c in CRDS}


def _pruned(node: Any, schema: dict[str, Any], path: str) -> list[str]:
    """Fields the API server would prune: not declared by a structural schema."""
    if schema.get("x-kubernetes-preserve-unknown-fields"):
        return []
    if isinstance(node, dict):
        properties = schema.get("properties")
        additional = schema.get("additionalProperties")
        out: list[str] = []
        for key, value in node.items():
            if properties is not None and key in properties:
                out += _pruned(value, properties[key], f"{path}.{key}")
            elif isinstance(additional, dict):
                out += _pruned(value, additional, f"{path}.{key}")
            elif properties is not None:
                out.append(f"{path}.{key}")
        return out
    if isinstance(node, list) and isinstance(schema.get("items"), dict):
        return [
            p for i, item in enumerate(node) for p in _pruned(item, schema["items"], f"{path}[{i}]")
        ]
    return []


@pytest.mark.parametrize("values", [{}, ALL_ON], ids=["defaults", "all-on"])
def test_custom_resources_validate_against_their_crds(values: dict[str, Any]) -> None:
    schemas = _crd_schemas()
    custom = [d for d in render(values) if "istio.io/" in d["apiVersion"]]
    assert custom
    for doc in custom:
        key = (doc["apiVersion"], doc["kind"])
        assert key in schemas, f"{key} has no CRD"
        body = {k: v for k, v in doc.items() if k not in ("apiVersion", "kind", "metadata")}
        jsonschema.validate(body, schemas[key])
        assert _pruned(body, schemas[key], doc["metadata"]["name"]) == []


@pytest.mark.parametrize("kube", ["1.25", "1.37"])
@pytest.mark.parametrize("values", [{}, ALL_ON], ids=["defaults", "all-on"])
def test_objects_validate_against_kubernetes(values: dict[str, Any], kube: str) -> None:
    docs = render(values)
    assert docs, "nothing rendered"
    assert validate_k8s(docs, kube, strict=True, allow_custom=MESH_CUSTOM_GROUPS) == []


def test_every_container_has_requests_and_limits() -> None:
    workloads = [d for d in render(ALL_ON) if d["kind"] == "Deployment"]
    assert len(workloads) == 2
    for doc in workloads:
        pod = doc["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        for container in _containers(doc):
            resources = container["resources"]
            assert resources.get("requests") and resources.get("limits"), container["name"]
            assert container["securityContext"]["allowPrivilegeEscalation"] is False


def test_lint_strict_and_template_with_both_helm_versions(helm: Path, tmp_path: Path) -> None:
    chart = _write_chart(tmp_path)
    values = tmp_path / "all-on.yaml"
    values.write_text(yaml.safe_dump(ALL_ON))
    for extra in ((), ("-f", str(values))):
        assert_lint_strict(helm, chart, *extra)
        rendered = run_helm(helm, "template", "istio", str(chart), "-n", NS, *extra)
        assert split_manifest(rendered.stdout)


def test_helm3_and_helm4_render_the_same_objects() -> None:
    for values in ({}, ALL_ON):
        outputs = [template(values, version=version) for version in (HELM3, HELM4)]
        assert all(result.returncode == 0 for result in outputs)
        assert split_manifest(outputs[0].stdout) == split_manifest(outputs[1].stdout)
