"""The gateways component of the istio chart, rendered alone with real Helm 3 and 4."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from harness import assemble_components, assert_lint_strict, identities, render_tree
from harness import write_tree as _write
from tools import HELM3, HELM4, MESH_CUSTOM_GROUPS, helm_binaries, run_helm, validate_k8s

from meshcharts import ChartTree
from meshcharts.catalog.crds import CRDS
from meshcharts.catalog.gateways import GATEWAYS, SDS_DEFAULTS
from meshcharts.checks.render import render_objects
from meshcharts.values.keypaths import leaf_paths

Doc = dict[str, Any]
NS = "istio-system"


def _objects(gateway: str) -> set[tuple[str, str]]:
    """The six objects of one enabled gateway autoscaled from one pod (no budget: a drain
    must be able to evict that pod)."""
    return {
        ("Deployment", gateway),
        ("Service", gateway),
        ("HorizontalPodAutoscaler", gateway),
        ("ServiceAccount", f"{gateway}-service-account"),
        ("ClusterRole", f"{gateway}-{NS}"),
        ("ClusterRoleBinding", f"{gateway}-{NS}"),
    }


INGRESS = _objects("istio-ingressgateway")
EXPANSION_ROUTES = {
    ("VirtualService", "meshexpansion-vs-pilot"),
    ("VirtualService", "meshexpansion-vs-citadel"),
}
ILB_ROUTES = {
    ("VirtualService", "meshexpansion-ilb-vs-pilot"),
    ("VirtualService", "meshexpansion-vs-citadel-ilb"),
}
EGRESS = _objects("istio-egressgateway")

SIMPLE = {
    "name": "bookinfo",
    "hosts": ["bookinfo.example.com"],
    "port": {"number": 443, "name": "https", "protocol": "HTTPS"},
    "tls": {"mode": "SIMPLE"},
}
MUTUAL = {
    "name": "bookinfo-mtls",
    "hosts": ["mtls.example.com"],
    "port": {"number": 443, "name": "https-mtls", "protocol": "HTTPS"},
    "tls": {"mode": "MUTUAL", "subjectAltNames": ["spiffe://example.com/client"]},
}
CUSTOM_CERTS = {
    "name": "custom-certs",
    "hosts": ["other/custom.example.com"],
    "port": {"number": 443, "name": "https-custom", "protocol": "HTTPS"},
    "tls": {
        "mode": "MUTUAL",
        "serverCertificate": "/etc/istio/custom/cert.pem",
        "privateKey": "/etc/istio/custom/key.pem",
        "caCertificates": "/etc/istio/custom/ca.pem",
    },
}
PASSTHROUGH = {
    "name": "sni-passthrough",
    "hosts": ["*.passthrough.example.com"],
    "port": {"number": 15443, "name": "tls-passthrough", "protocol": "TLS"},
    "tls": {"mode": "PASSTHROUGH"},
}
REDIRECT = {
    "name": "http-redirect",
    "hosts": ["*"],
    "port": {"number": 80, "name": "http", "protocol": "HTTP"},
    "tls": {"httpsRedirect": True},
}
SNI_HOSTS = ["edition.cnn.com", "*.wikipedia.org"]

MY_GATEWAY: dict[str, Any] = {
    "enabled": True,
    "labels": {"istio": "mygateway", "team": "edge"},
    "ports": [{"port": 8443, "name": "https"}, {"port": 80, "name": "http2", "nodePort": 30080}],
    "secretVolumes": [
        {"name": "my-certs", "secretName": "my-gateway-certs", "mountPath": "/etc/istio/my-certs"}
    ],
    "gatewayResources": [
        {
            "name": "my-https",
            "hosts": ["my.example.com"],
            "port": {"number": 8443, "name": "https", "protocol": "HTTPS"},
            "tls": {"mode": "SIMPLE"},
        }
    ],
}

FULL: dict[str, Any] = {
    "global": {"meshExpansion": {"enabled": True}},
    "gateways": {
        "istio-ingressgateway": {
            "gatewayResources": [SIMPLE, MUTUAL, CUSTOM_CERTS, PASSTHROUGH, REDIRECT]
        },
        "istio-egressgateway": {"enabled": True},
        "egress": {"sniHosts": SNI_HOSTS},
        "my-gateway": MY_GATEWAY,
    },
}
"""Every feature at once: both built-in gateways, a user gateway, TLS, SNI, mesh expansion."""


@functools.cache
def _tree(values_json: str) -> ChartTree:
    return assemble_components((GATEWAYS,), json.loads(values_json))


def tree(values: dict[str, Any] | None = None) -> ChartTree:
    return _tree(json.dumps(values or {}, sort_keys=True))


@functools.cache
def _render(values_json: str, args: tuple[str, ...], helm: str) -> list[Doc]:
    return render_tree(_tree(values_json), *args, helm=helm_binaries()[helm])


def render(values: dict[str, Any] | None = None, *args: str, helm: str = HELM4) -> list[Doc]:
    return _render(json.dumps(values or {}, sort_keys=True), args, helm)


def render_error(values: dict[str, Any] | None = None, *args: str) -> str:
    """The error output of a render expected to fail."""
    with pytest.raises(AssertionError) as failure:
        render(values, *args)
    return str(failure.value)


def find(docs: list[Doc], kind: str, name: str) -> Doc:
    (doc,) = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    return doc


def with_gateway(name: str, **settings: Any) -> dict[str, Any]:
    return {"gateways": {name: settings}}


def service_ports(docs: list[Doc], name: str) -> dict[str, tuple[int, int]]:
    ports = find(docs, "Service", name)["spec"]["ports"]
    return {p["name"]: (p["port"], p["targetPort"]) for p in ports}


def containers(doc: Doc) -> Iterator[Doc]:
    spec = doc["spec"]["template"]["spec"]
    assert spec["containers"], f"{doc['metadata']['name']} has no containers"
    yield from spec.get("initContainers", [])
    yield from spec["containers"]


# --- on / off -----------------------------------------------------------------------------


def test_ingress_gateway_is_the_default() -> None:
    assert identities(render()) == INGRESS


@pytest.mark.parametrize("values", [{}, FULL], ids=["default", "full"])
def test_enabled_false_removes_every_object(values: dict[str, Any]) -> None:
    on = identities(render(values))
    off = identities(render(values, "--set", "gateways.enabled=false"))
    assert off == set()
    if not values:
        assert on == INGRESS
    else:
        assert on == (
            INGRESS
            | EGRESS
            | _objects("my-gateway")
            | {("Gateway", n) for n in ("meshexpansion-gateway", "istio-egressgateway-sni")}
            | EXPANSION_ROUTES
            | {("Gateway", str(r["name"])) for r in (SIMPLE, MUTUAL, CUSTOM_CERTS, PASSTHROUGH)}
            | {("Gateway", "http-redirect"), ("Gateway", "my-https")}
            | {("DestinationRule", "istio-egressgateway-sni")}
            | {(k, n) for k, n in on if k in ("ServiceEntry", "VirtualService")}
        )
        assert len([k for k, _ in on if k in ("ServiceEntry", "VirtualService")]) == 6


def test_egress_gateway_is_off_by_default_and_adds_its_objects() -> None:
    on = identities(render(with_gateway("istio-egressgateway", enabled=True)))
    assert on - identities(render()) == EGRESS
    egress = find(
        render(with_gateway("istio-egressgateway", enabled=True)), "Service", "istio-egressgateway"
    )
    assert egress["spec"]["type"] == "ClusterIP"
    assert {p["name"]: p["port"] for p in egress["spec"]["ports"]} == {
        "http2": 80,
        "https": 443,
        "tls": 15443,
    }


def test_ingress_gateway_can_be_switched_off_alone() -> None:
    values = with_gateway("istio-ingressgateway", enabled=False)
    assert identities(render(values)) == set()


def test_user_named_gateway_gets_all_objects() -> None:
    docs = render({"gateways": {"my-gateway": MY_GATEWAY}})
    assert identities(docs) - INGRESS == _objects("my-gateway") | {("Gateway", "my-https")}
    deployment = find(docs, "Deployment", "my-gateway")
    selector = deployment["spec"]["selector"]["matchLabels"]
    assert selector == {"app": "my-gateway", "istio": "mygateway"}
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert pod_labels["team"] == "edge"
    assert find(docs, "Service", "my-gateway")["spec"]["selector"] == selector
    # A ClusterIP Service carries no node port; missing settings come from the defaults.
    service = find(docs, "Service", "my-gateway")["spec"]
    assert service["type"] == "ClusterIP"
    assert service["ports"], "the my-gateway Service has no ports"
    assert all("nodePort" not in p for p in service["ports"])
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    assert container["resources"] == {
        "requests": {"cpu": "100m", "memory": "128Mi"},
        "limits": {"cpu": "2000m", "memory": "1024Mi"},
    }
    hpa = find(docs, "HorizontalPodAutoscaler", "my-gateway")["spec"]
    assert (hpa["minReplicas"], hpa["maxReplicas"]) == (1, 5)
    gateway = find(docs, "Gateway", "my-https")["spec"]
    assert gateway["selector"] == {"istio": "mygateway"}
    assert (
        gateway["servers"][0]["tls"]["serverCertificate"] == "/etc/istio/my-gateway-certs/tls.crt"
    )


def test_gateways_with_the_same_labels_fail() -> None:
    clone = {**MY_GATEWAY, "labels": {"app": "istio-ingressgateway", "istio": "ingressgateway"}}
    error = render_error({"gateways": {"my-gateway": clone}})
    assert "both select pods labelled app=istio-ingressgateway, istio=ingressgateway" in error


def test_disabled_user_gateway_renders_nothing() -> None:
    docs = render({"gateways": {"my-gateway": {**MY_GATEWAY, "enabled": False}}})
    assert identities(docs) == INGRESS


# --- the ingress gateway ------------------------------------------------------------------


def test_ingress_service_ports_follow_istio_1_1() -> None:
    docs = render()
    service = find(docs, "Service", "istio-ingressgateway")["spec"]
    assert service["type"] == "LoadBalancer"
    assert [(p["name"], p["port"], p.get("nodePort")) for p in service["ports"]] == [
        ("http2", 80, 31380),
        ("https", 443, 31390),
        ("tcp", 31400, 31400),
        ("https-kiali", 15029, None),
        ("https-prometheus", 15030, None),
        ("https-grafana", 15031, None),
        ("https-tracing", 15032, None),
        ("tls", 15443, None),
        ("status-port", 15020, None),
    ]
    deployment = find(docs, "Deployment", "istio-ingressgateway")
    (container,) = containers(deployment)
    ports = {p["containerPort"] for p in container["ports"]}
    assert ports == {80, 443, 31400, 15029, 15030, 15031, 15032, 15443, 15020, 15090}
    assert container["args"][:2] == ["proxy", "router"]
    assert container["image"] == "docker.io/istio/proxyv2:1.0.6"
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["ISTIO_META_ROUTER_MODE"] == "sni-dnat"
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    assert mounts["ingressgateway-certs"] == "/etc/istio/ingressgateway-certs"
    assert mounts["ingressgateway-ca-certs"] == "/etc/istio/ingressgateway-ca-certs"
    volumes = {
        v["name"]: v.get("secret", {}) for v in deployment["spec"]["template"]["spec"]["volumes"]
    }
    assert volumes["ingressgateway-certs"] == {
        "secretName": "istio-ingressgateway-certs",
        "optional": True,
    }
    assert volumes["istio-certs"]["secretName"] == "istio.istio-ingressgateway-service-account"


def test_low_ports_are_bound_without_root_or_capabilities() -> None:
    docs = render(
        {"gateways": {"my-gateway": {"enabled": True, "ports": [{"port": 8080, "name": "http"}]}}}
    )
    ingress = find(docs, "Deployment", "istio-ingressgateway")["spec"]["template"]["spec"]
    assert ingress["securityContext"]["runAsNonRoot"] is True
    assert ingress["securityContext"]["sysctls"] == [
        {"name": "net.ipv4.ip_unprivileged_port_start", "value": "0"}
    ]
    high = find(docs, "Deployment", "my-gateway")["spec"]["template"]["spec"]
    assert "sysctls" not in high["securityContext"]


def test_service_and_pod_settings() -> None:
    values = with_gateway(
        "istio-ingressgateway",
        loadBalancerIP="203.0.113.10",
        loadBalancerSourceRanges=["10.0.0.0/8"],
        externalIPs=["198.51.100.7"],
        externalTrafficPolicy="Local",
        serviceAnnotations={"service.beta.kubernetes.io/aws-load-balancer-type": "nlb"},
        podAnnotations={"sidecar.istio.io/inject": "true", "example.com/team": "edge"},
        nodeSelector={"kubernetes.io/os": "linux"},
        tolerations=[{"key": "edge", "operator": "Exists", "effect": "NoSchedule"}],
        env={"EXTRA": "1", "POD_NAME": "ignored"},
    )
    docs = render(values)
    service = find(docs, "Service", "istio-ingressgateway")
    assert service["metadata"]["annotations"] == {
        "service.beta.kubernetes.io/aws-load-balancer-type": "nlb"
    }
    assert service["spec"]["loadBalancerIP"] == "203.0.113.10"
    assert service["spec"]["loadBalancerSourceRanges"] == ["10.0.0.0/8"]
    assert service["spec"]["externalIPs"] == ["198.51.100.7"]
    assert service["spec"]["externalTrafficPolicy"] == "Local"
    pod = find(docs, "Deployment", "istio-ingressgateway")["spec"]["template"]
    assert pod["metadata"]["annotations"] == {
        "sidecar.istio.io/inject": "false",
        "example.com/team": "edge",
    }
    assert pod["spec"]["nodeSelector"] == {"kubernetes.io/os": "linux"}
    assert pod["spec"]["tolerations"][0]["key"] == "edge"
    names = [e["name"] for e in pod["spec"]["containers"][0]["env"]]
    assert names.count("POD_NAME") == 1
    assert "EXTRA" in names


@pytest.mark.parametrize("replicas", [1, 3])
def test_autoscaling_off(replicas: int) -> None:
    values = with_gateway("istio-ingressgateway", autoscaleEnabled=False, replicaCount=replicas)
    docs = render(values)
    kinds = {d["kind"] for d in docs}
    assert "HorizontalPodAutoscaler" not in kinds
    # A PodDisruptionBudget only for a replicated gateway: one pod must stay drainable.
    assert ("PodDisruptionBudget" in kinds) == (replicas > 1)
    assert find(docs, "Deployment", "istio-ingressgateway")["spec"]["replicas"] == replicas


@pytest.mark.parametrize("minimum", [1, 2, 3])
def test_autoscaled_gateway_has_a_budget_only_from_two_pods(minimum: int) -> None:
    docs = render(with_gateway("istio-ingressgateway", autoscaleMin=minimum))
    assert (
        find(docs, "HorizontalPodAutoscaler", "istio-ingressgateway")["spec"]["minReplicas"]
        == minimum
    )
    budgets = [d for d in docs if d["kind"] == "PodDisruptionBudget"]
    assert len(budgets) == (minimum > 1)
    for pdb in budgets:
        assert pdb["spec"] == {
            "minAvailable": 1,
            "selector": {"matchLabels": {"app": "istio-ingressgateway", "istio": "ingressgateway"}},
        }


def test_no_pdb_without_global_pdb() -> None:
    replicated = with_gateway("istio-ingressgateway", autoscaleMin=2)
    assert ("PodDisruptionBudget", "istio-ingressgateway") in identities(render(replicated))
    off = {**replicated, "global": {"defaultPodDisruptionBudget": {"enabled": False}}}
    assert identities(render(off)) == INGRESS


def test_cluster_role_is_read_only() -> None:
    role = find(render(), "ClusterRole", f"istio-ingressgateway-{NS}")
    assert role["rules"], "the istio-ingressgateway ClusterRole has no rules"
    for rule in role["rules"]:
        assert set(rule["verbs"]) <= {"get", "list", "watch"}
        assert "*" not in rule["resources"] + rule["apiGroups"]


# --- ports --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ports", "message"),
    [
        ([{"port": 80, "name": "http"}, {"port": 81, "name": "http"}], 'port name "http"'),
        ([{"port": 80, "name": "http"}, {"port": 80, "name": "http-again"}], "port 80/TCP"),
    ],
    ids=["name", "number"],
)
def test_duplicate_ports_fail(ports: list[dict[str, Any]], message: str) -> None:
    error = render_error(with_gateway("istio-ingressgateway", ports=ports))
    assert message in error
    assert "gateways.istio-ingressgateway.ports" in error


def test_duplicate_secret_volume_fails() -> None:
    volume = {"name": "istio-certs", "secretName": "x", "mountPath": "/etc/x"}
    error = render_error(with_gateway("istio-ingressgateway", secretVolumes=[volume]))
    assert 'volume name "istio-certs"' in error


# --- mesh expansion -----------------------------------------------------------------------

EXPANSION = {
    "tcp-pilot-grpc-tls": (15011, 15011),
    "tcp-mixer-grpc-tls": (15004, 15004),
    "tcp-citadel-grpc-tls": (8060, 8060),
    "tcp-dns-tls": (853, 853),
}


def test_mesh_expansion_off_by_default() -> None:
    docs = render()
    assert not set(EXPANSION) & set(service_ports(docs, "istio-ingressgateway"))
    assert not [d for d in docs if d["kind"] == "Gateway"]


def test_mesh_expansion_adds_ports_and_gateway() -> None:
    docs = render({"global": {"meshExpansion": {"enabled": True}}})
    assert identities(docs) - INGRESS == {("Gateway", "meshexpansion-gateway")} | EXPANSION_ROUTES
    ports = service_ports(docs, "istio-ingressgateway")
    assert EXPANSION.items() <= ports.items()
    (container,) = containers(find(docs, "Deployment", "istio-ingressgateway"))
    assert {15011, 15004, 8060, 853} <= {p["containerPort"] for p in container["ports"]}
    gateway = find(docs, "Gateway", "meshexpansion-gateway")["spec"]
    assert gateway["selector"] == {"istio": "ingressgateway"}
    assert [
        (s["port"]["number"], s["port"]["name"], s["port"]["protocol"]) for s in gateway["servers"]
    ] == [
        (15011, "tcp-pilot-grpc-tls", "TCP"),
        (15004, "tcp-mixer-grpc-tls", "TCP"),
        (8060, "tcp-citadel-grpc-tls", "TCP"),
        (853, "tcp-dns-tls", "TCP"),
    ]
    assert all(s["hosts"] == ["*"] for s in gateway["servers"])


PILOT = f"istio-pilot.{NS}.svc.cluster.local"
CITADEL = f"istio-citadel.{NS}.svc.cluster.local"


def _tcp_routes(docs: list[Doc], name: str, gateway: str, host: str) -> list[tuple[int, str, int]]:
    """(matched port, destination host, destination port) of a mesh-expansion VirtualService."""
    spec = find(docs, "VirtualService", name)["spec"]
    assert spec["hosts"] == [host]
    assert spec["gateways"] == [gateway]
    routes = []
    for rule in spec["tcp"]:
        ((match,), (route,)) = (rule["match"], rule["route"])
        routes.append(
            (match["port"], route["destination"]["host"], route["destination"]["port"]["number"])
        )
    return routes


def test_mesh_expansion_routes_to_pilot_and_citadel() -> None:
    docs = render({"global": {"meshExpansion": {"enabled": True}}})
    assert _tcp_routes(docs, "meshexpansion-vs-pilot", "meshexpansion-gateway", PILOT) == [
        (15011, PILOT, 15011)
    ]
    assert _tcp_routes(docs, "meshexpansion-vs-citadel", "meshexpansion-gateway", CITADEL) == [
        (8060, CITADEL, 8060)
    ]
    assert ("DestinationRule", "meshexpansion-dr-pilot") not in identities(docs)


def test_mesh_expansion_ilb_routes_and_control_plane_security() -> None:
    values = {
        "global": {
            "meshExpansion": {"enabled": True, "useILB": True},
            "controlPlaneSecurityEnabled": True,
        },
        **with_gateway("istio-ilbgateway", enabled=True),
    }
    docs = render(values)
    gateway = "meshexpansion-ilb-gateway"
    assert _tcp_routes(docs, "meshexpansion-ilb-vs-pilot", gateway, PILOT) == [
        (15011, PILOT, 15011),
        (15010, PILOT, 15010),
        (5353, "kube-dns.kube-system.svc.cluster.local", 53),
    ]
    assert _tcp_routes(docs, "meshexpansion-vs-citadel-ilb", gateway, CITADEL) == [
        (8060, CITADEL, 8060)
    ]
    # The machines' own mutual TLS to Pilot passes through the gateway unwrapped.
    rule = find(docs, "DestinationRule", "meshexpansion-dr-pilot")["spec"]
    assert rule == {
        "host": PILOT,
        "trafficPolicy": {
            "portLevelSettings": [{"port": {"number": 15011}, "tls": {"mode": "DISABLE"}}]
        },
    }


def test_mesh_expansion_skips_a_port_already_exposed() -> None:
    ports = [{"port": 80, "name": "http2"}, {"port": 15011, "name": "tcp-pilot-grpc-tls"}]
    values = {
        "global": {"meshExpansion": {"enabled": True}},
        **with_gateway("istio-ingressgateway", ports=ports),
    }
    names = [
        p["name"] for p in find(render(values), "Service", "istio-ingressgateway")["spec"]["ports"]
    ]
    assert names == [
        "http2",
        "tcp-pilot-grpc-tls",
        "tcp-mixer-grpc-tls",
        "tcp-citadel-grpc-tls",
        "tcp-dns-tls",
    ]


def test_mesh_expansion_ilb() -> None:
    expansion = {"global": {"meshExpansion": {"enabled": True, "useILB": True}}}
    error = render_error(expansion)
    assert (
        "global.meshExpansion.useILB needs an enabled gateway labelled istio: ilbgateway" in error
    )
    ilb = {
        "enabled": True,
        "labels": {"istio": "ilbgateway"},
        "type": "LoadBalancer",
        "serviceAnnotations": {"cloud.google.com/load-balancer-type": "internal"},
        "ports": [{"port": 15010, "name": "grpc-pilot"}],
        "meshExpansionPorts": [{"port": 15011, "name": "grpc-pilot-mtls"}],
    }
    docs = render({**expansion, "gateways": {"istio-ilbgateway": ilb}})
    assert ("Gateway", "meshexpansion-ilb-gateway") in identities(docs)
    assert ("Gateway", "meshexpansion-gateway") not in identities(docs)
    gateway = find(docs, "Gateway", "meshexpansion-ilb-gateway")["spec"]
    assert gateway["selector"] == {"istio": "ilbgateway"}
    assert service_ports(docs, "istio-ilbgateway") == {
        "grpc-pilot": (15010, 15010),
        "grpc-pilot-mtls": (15011, 15011),
    }
    assert not set(EXPANSION) & set(service_ports(docs, "istio-ingressgateway"))


def test_mesh_expansion_without_ingress_gateway_fails() -> None:
    values = {
        "global": {"meshExpansion": {"enabled": True}},
        **with_gateway("istio-ingressgateway", enabled=False),
    }
    assert "gateways.istio-ingressgateway.enabled" in render_error(values)


# --- Gateway objects ----------------------------------------------------------------------


def _servers(docs: list[Doc], name: str) -> Doc:
    gateway = find(docs, "Gateway", name)["spec"]
    assert gateway["selector"] == {"istio": "ingressgateway"}
    (server,) = gateway["servers"]
    return dict(server)


def test_tls_gateway_resources() -> None:
    docs = render(FULL)
    simple = _servers(docs, "bookinfo")
    assert simple["hosts"] == ["bookinfo.example.com"]
    assert simple["port"] == {"number": 443, "name": "https", "protocol": "HTTPS"}
    assert simple["tls"] == {
        "mode": "SIMPLE",
        "serverCertificate": "/etc/istio/ingressgateway-certs/tls.crt",
        "privateKey": "/etc/istio/ingressgateway-certs/tls.key",
    }
    assert _servers(docs, "bookinfo-mtls")["tls"] == {
        "mode": "MUTUAL",
        "serverCertificate": "/etc/istio/ingressgateway-certs/tls.crt",
        "privateKey": "/etc/istio/ingressgateway-certs/tls.key",
        "caCertificates": "/etc/istio/ingressgateway-ca-certs/ca-chain.cert.pem",
        "subjectAltNames": ["spiffe://example.com/client"],
    }
    custom = _servers(docs, "custom-certs")
    assert custom["tls"] == CUSTOM_CERTS["tls"]
    assert custom["hosts"] == ["other/custom.example.com"]
    passthrough = _servers(docs, "sni-passthrough")
    assert passthrough["tls"] == {"mode": "PASSTHROUGH"}
    assert passthrough["hosts"] == ["*.passthrough.example.com"]
    assert _servers(docs, "http-redirect")["tls"] == {"httpsRedirect": True}


def test_gateway_resource_port_must_be_served() -> None:
    resource = {**SIMPLE, "port": {"number": 8443, "name": "https", "protocol": "HTTPS"}}
    error = render_error(with_gateway("istio-ingressgateway", gatewayResources=[resource]))
    assert 'Gateway "bookinfo" uses port 8443' in error


@pytest.mark.parametrize(
    "name",
    [
        "bookinfo",
        "meshexpansion-gateway",
        "istio-egressgateway-sni",
        "istio-multicluster-ingressgateway",
    ],
)
def test_gateway_resource_names_are_unique(name: str) -> None:
    values = {
        "gateways": {
            "istio-ingressgateway": {"gatewayResources": [SIMPLE, {**REDIRECT, "name": name}]}
        }
    }
    assert f'Gateway name "{name}" is already used' in render_error(values)


# --- egress SNI routing -------------------------------------------------------------------

SNI_VALUES = {
    "gateways": {"istio-egressgateway": {"enabled": True}, "egress": {"sniHosts": SNI_HOSTS}}
}
EGRESS_HOST = f"istio-egressgateway.{NS}.svc.cluster.local"


def test_sni_hosts_route_through_the_egress_gateway() -> None:
    docs = render(SNI_VALUES)
    added = identities(docs) - INGRESS - EGRESS
    entries = sorted(n for k, n in added if k == "ServiceEntry")
    assert {k for k, _ in added} == {"ServiceEntry", "VirtualService", "Gateway", "DestinationRule"}
    assert sorted(n for k, n in added if k == "VirtualService") == entries
    assert len(entries) == 2
    assert all(n.startswith("egress-sni-") and len(n) <= 63 for n in entries)

    gateway = find(docs, "Gateway", "istio-egressgateway-sni")["spec"]
    assert gateway == {
        "selector": {"istio": "egressgateway"},
        "servers": [
            {
                "port": {"number": 443, "name": "tls-egress-sni", "protocol": "TLS"},
                "hosts": SNI_HOSTS,
                "tls": {"mode": "PASSTHROUGH"},
            }
        ],
    }
    rule = find(docs, "DestinationRule", "istio-egressgateway-sni")["spec"]
    assert rule == {"host": EGRESS_HOST, "subsets": [{"name": "sni"}]}

    by_host = {d["spec"]["hosts"][0]: d["spec"] for d in docs if d["kind"] == "ServiceEntry"}
    assert by_host["edition.cnn.com"]["resolution"] == "DNS"
    assert by_host["*.wikipedia.org"]["resolution"] == "NONE"
    for spec in by_host.values():
        assert spec["location"] == "MESH_EXTERNAL"
        assert spec["ports"] == [{"number": 443, "name": "tls", "protocol": "TLS"}]

    services = {d["spec"]["hosts"][0]: d["spec"] for d in docs if d["kind"] == "VirtualService"}
    assert set(services) == set(SNI_HOSTS)
    for host, spec in services.items():
        assert spec["gateways"] == ["mesh", "istio-egressgateway-sni"]
        mesh, egress = spec["tls"]
        assert mesh["match"] == [{"gateways": ["mesh"], "port": 443, "sniHosts": [host]}]
        assert mesh["route"][0]["destination"] == {
            "host": EGRESS_HOST,
            "subset": "sni",
            "port": {"number": 443},
        }
        assert egress["match"] == [
            {"gateways": ["istio-egressgateway-sni"], "port": 443, "sniHosts": [host]}
        ]
        assert egress["route"][0]["destination"] == {"host": host, "port": {"number": 443}}


def test_sni_hosts_need_the_egress_gateway() -> None:
    error = render_error({"gateways": {"egress": {"sniHosts": ["edition.cnn.com"]}}})
    assert "gateways.egress.sniHosts routes through istio-egressgateway" in error


def test_sni_hosts_ignored_with_the_component_off() -> None:
    values = {"gateways": {"enabled": False, "egress": {"sniHosts": ["edition.cnn.com"]}}}
    assert render(values) == []


# --- validity -----------------------------------------------------------------------------


def _closed(schema: Any) -> Any:
    """A CRD schema that also rejects unknown fields (the API server would prune them)."""
    if isinstance(schema, dict):
        closed = {k: _closed(v) for k, v in schema.items()}
        if "properties" in closed and "additionalProperties" not in closed:
            closed["additionalProperties"] = False
        return closed
    if isinstance(schema, list):
        return [_closed(item) for item in schema]
    return schema


def test_custom_resources_validate_against_their_crds() -> None:
    schemas = {(f"{c.group}/{c.version}", c.kind): _closed(dict(c.schema)) for c in CRDS}
    custom = [d for d in render(FULL) if "istio.io/" in d["apiVersion"]]
    kinds = {d["kind"] for d in custom}
    assert kinds == {"Gateway", "ServiceEntry", "VirtualService", "DestinationRule"}
    for doc in custom:
        body = {k: v for k, v in doc.items() if k not in ("apiVersion", "kind", "metadata")}
        jsonschema.validate(body, schemas[(doc["apiVersion"], doc["kind"])])


@pytest.mark.parametrize("kube", ["1.25", "1.37"])
@pytest.mark.parametrize("values", [{}, FULL], ids=["default", "full"])
def test_objects_validate_against_kubernetes(kube: str, values: dict[str, Any]) -> None:
    docs = render(values)
    assert docs
    assert validate_k8s(docs, kube, strict=True, allow_custom=MESH_CUSTOM_GROUPS) == []


@pytest.mark.parametrize("values", [{}, FULL], ids=["default", "full"])
def test_lint_strict_and_template(helm: Path, tmp_path: Path, values: dict[str, Any]) -> None:
    folder = _write(tree(values), tmp_path)
    assert_lint_strict(helm, folder, "--namespace", NS)
    result = run_helm(helm, "template", "istio", str(folder), "--namespace", NS)
    assert "kind: Deployment" in result.stdout


def test_helm3_and_helm4_agree() -> None:
    assert render(FULL, helm=HELM3) == render(FULL, helm=HELM4)


BAD_VALUES: dict[str, tuple[tuple[str, str], str]] = {
    "unknown-key": (("--set", "gateways.istio-ingressgateway.bogus=1"), "bogus"),
    "empty-istio-label": (("--set", "gateways.istio-egressgateway.labels.istio="), "istio"),
    "unknown-egress-key": (("--set", "gateways.egress.bogus=1"), "bogus"),
    "bad-sni-host": (("--set", "gateways.egress.sniHosts[0]=not a host"), "sniHosts"),
    "bad-gateway-name": (
        ("--set-json", 'gateways.Bad_Name={"enabled":true,"ports":[{"port":80,"name":"http"}]}'),
        "Bad_Name",
    ),
    "user-gateway-without-enabled": (("--set", "gateways.my-gw.type=ClusterIP"), "enabled"),
    "user-gateway-without-ports": (("--set", "gateways.my-gw.enabled=true"), "ports"),
    "bad-service-type": (("--set", "gateways.istio-ingressgateway.type=External"), "type"),
    "port-without-name": (
        ("--set-json", 'gateways.istio-ingressgateway.ports=[{"port":80}]'),
        "name",
    ),
    "https-without-tls": (
        (
            "--set-json",
            'gateways.istio-ingressgateway.gatewayResources=[{"name":"x","hosts":["*"],'
            '"port":{"number":443,"name":"https","protocol":"HTTPS"}}]',
        ),
        "tls",
    ),
    "tls-on-http": (
        (
            "--set-json",
            'gateways.istio-ingressgateway.gatewayResources=[{"name":"x","hosts":["*"],'
            '"port":{"number":80,"name":"http","protocol":"HTTP"},"tls":{"mode":"SIMPLE"}}]',
        ),
        "protocol",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_VALUES))
def test_schema_rejects_bad_values(helm: Path, tmp_path: Path, case: str) -> None:
    args, key = BAD_VALUES[case]
    folder = _write(tree(), tmp_path)
    result = run_helm(helm, "template", "istio", str(folder), *args, check=False)
    assert result.returncode != 0
    assert "don't meet the specifications of the schema" in result.stderr, result.stderr
    assert key in result.stderr, result.stderr


def test_every_container_is_bounded_and_unprivileged() -> None:
    workloads = [d for d in render(FULL) if d["kind"] == "Deployment"]
    assert len(workloads) == 3
    for doc in workloads:
        pod = doc["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        for container in containers(doc):
            resources = container["resources"]
            assert resources["requests"] and resources["limits"], container["name"]
            security = container["securityContext"]
            assert security["allowPrivilegeEscalation"] is False
            assert security["capabilities"] == {"drop": ["ALL"]}


def test_every_value_is_documented() -> None:
    assert [p for p in leaf_paths(GATEWAYS.defaults) if ".".join(p) not in GATEWAYS.docs] == []
    global_leaves = leaf_paths(GATEWAYS.global_defaults)
    assert [p for p in global_leaves if ".".join(p) not in GATEWAYS.global_docs] == []


# --- the ILB gateway preset ---------------------------------------------------------------

ILB = _objects("istio-ilbgateway")
ILB_PORTS = {
    "grpc-pilot-mtls": (15011, 15011),
    "grpc-pilot": (15010, 15010),
    "tcp-citadel-grpc-tls": (8060, 8060),
    "tcp-dns": (5353, 5353),
}


def test_ilb_gateway_preset_follows_istio_1_1() -> None:
    docs = render(with_gateway("istio-ilbgateway", enabled=True))
    assert identities(docs) - INGRESS == ILB
    service = find(docs, "Service", "istio-ilbgateway")
    assert service["spec"]["type"] == "LoadBalancer"
    assert service["metadata"]["annotations"] == {"cloud.google.com/load-balancer-type": "internal"}
    assert service["spec"]["selector"] == {"app": "istio-ilbgateway", "istio": "ilbgateway"}
    assert service_ports(docs, "istio-ilbgateway") == ILB_PORTS
    (container,) = containers(find(docs, "Deployment", "istio-ilbgateway"))
    assert container["resources"]["requests"] == {"cpu": "800m", "memory": "512Mi"}
    assert {p["containerPort"] for p in container["ports"]} == {15011, 15010, 8060, 5353, 15090}
    # No SNI routing on the ILB gateway: upstream gives it no env.
    assert "ISTIO_META_ROUTER_MODE" not in {e["name"] for e in container["env"]}
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    assert mounts["ilbgateway-certs"] == "/etc/istio/ilbgateway-certs"


def test_mesh_expansion_through_the_ilb_preset() -> None:
    values = {
        "global": {"meshExpansion": {"enabled": True, "useILB": True}},
        **with_gateway("istio-ilbgateway", enabled=True),
    }
    docs = render(values)
    assert identities(docs) - INGRESS == ILB | ILB_ROUTES | {
        ("Gateway", "meshexpansion-ilb-gateway")
    }
    gateway = find(docs, "Gateway", "meshexpansion-ilb-gateway")["spec"]
    assert gateway["selector"] == {"istio": "ilbgateway"}
    assert [(s["port"]["number"], s["port"]["protocol"]) for s in gateway["servers"]] == [
        (15011, "TCP"),
        (15010, "TCP"),
        (8060, "TCP"),
        (5353, "TCP"),
    ]
    # Each port once on the Service; the ingress gateway stays as it was.
    assert service_ports(docs, "istio-ilbgateway") == ILB_PORTS
    assert not set(EXPANSION) & set(service_ports(docs, "istio-ingressgateway"))
    error = render_error({"global": {"meshExpansion": {"enabled": True, "useILB": True}}})
    assert "gateways.istio-ilbgateway.enabled" in error


# --- SDS for Gateway TLS ------------------------------------------------------------------

TAG_11 = {"global": {"tag": "1.1.0"}}
CREDENTIAL = {
    "name": "sds-https",
    "hosts": ["sds.example.com"],
    "port": {"number": 443, "name": "https-sds", "protocol": "HTTPS"},
    "tls": {"mode": "SIMPLE", "credentialName": "sds-example-com"},
}
SDS_ON: dict[str, Any] = {
    **TAG_11,
    **with_gateway(
        "istio-ingressgateway", sds={"enabled": True}, gatewayResources=[CREDENTIAL, SIMPLE]
    ),
}


def _pod(docs: list[Doc], name: str) -> Doc:
    return dict(find(docs, "Deployment", name)["spec"]["template"]["spec"])


def test_sds_is_off_by_default() -> None:
    docs = render(TAG_11)
    assert [c["name"] for c in _pod(docs, "istio-ingressgateway")["containers"]] == ["istio-proxy"]
    assert not {k for k, _ in identities(docs)} & {"Role", "RoleBinding"}


def test_sds_container_shares_its_socket_with_envoy() -> None:
    docs = render(SDS_ON)
    assert identities(docs) - identities(render(TAG_11)) == {
        ("Role", "istio-ingressgateway-sds"),
        ("RoleBinding", "istio-ingressgateway-sds"),
        ("Gateway", "sds-https"),
        ("Gateway", "bookinfo"),
    }
    pod = _pod(docs, "istio-ingressgateway")
    sds, proxy = pod["containers"]
    assert (sds["name"], proxy["name"]) == ("ingress-sds", "istio-proxy")
    assert sds["image"] == "docker.io/istio/node-agent-k8s:1.1.0"
    assert sds["env"] == [
        {"name": "ENABLE_WORKLOAD_SDS", "value": "false"},
        {"name": "ENABLE_INGRESS_GATEWAY_SDS", "value": "true"},
        {
            "name": "INGRESS_GATEWAY_NAMESPACE",
            "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}},
        },
    ]
    assert sds["resources"] == SDS_DEFAULTS["resources"]
    assert sds["securityContext"]["readOnlyRootFilesystem"] is True
    assert sds["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    socket = {"name": "ingressgatewaysdsudspath", "mountPath": "/var/run/ingress_gateway"}
    assert sds["volumeMounts"] == [socket]
    assert socket in proxy["volumeMounts"]
    assert {"name": "ISTIO_META_USER_SDS", "value": "true"} in proxy["env"]
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes["ingressgatewaysdsudspath"]["emptyDir"] == {"medium": "Memory"}
    # credentialName: certificates over SDS, no file paths; other servers keep theirs.
    assert _servers(docs, "sds-https")["tls"] == {
        "mode": "SIMPLE",
        "credentialName": "sds-example-com",
    }
    assert _servers(docs, "bookinfo")["tls"]["serverCertificate"].endswith("/tls.crt")


def test_sds_role_only_lists_and_watches_secrets() -> None:
    docs = render(SDS_ON)
    role = find(docs, "Role", "istio-ingressgateway-sds")
    assert role["metadata"]["namespace"] == NS
    assert role["rules"] == [
        {"apiGroups": [""], "resources": ["secrets"], "verbs": ["list", "watch"]}
    ]
    binding = find(docs, "RoleBinding", "istio-ingressgateway-sds")
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "Role",
        "name": "istio-ingressgateway-sds",
    }
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "istio-ingressgateway-service-account", "namespace": NS}
    ]


def test_sds_image_follows_the_gateway_tag_or_a_full_reference() -> None:
    tagged = render(
        {**SDS_ON, **with_gateway("istio-ingressgateway", sds={"enabled": True}, tag="1.1.2")}
    )
    sds = _pod(tagged, "istio-ingressgateway")["containers"][0]
    assert sds["image"] == "docker.io/istio/node-agent-k8s:1.1.2"
    full = "registry.example.com/istio/node-agent-k8s:1.1.0"
    docs = render(
        {**TAG_11, **with_gateway("istio-ingressgateway", sds={"enabled": True, "image": full})}
    )
    assert _pod(docs, "istio-ingressgateway")["containers"][0]["image"] == full


def test_sds_on_a_user_gateway_gets_the_default_settings() -> None:
    gateway = {
        "enabled": True,
        "ports": [{"port": 8443, "name": "https"}],
        "sds": {"enabled": True},
    }
    docs = render({**TAG_11, "gateways": {"my-gateway": gateway}})
    sds = _pod(docs, "my-gateway")["containers"][0]
    assert sds["name"] == "ingress-sds"
    assert sds["image"] == "docker.io/istio/node-agent-k8s:1.1.0"
    assert sds["resources"] == SDS_DEFAULTS["resources"]
    assert ("Role", "my-gateway-sds") in identities(docs)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (
            with_gateway("istio-ingressgateway", sds={"enabled": True}),
            "gateways.istio-ingressgateway.sds.enabled needs Istio 1.1 or later, but the tag is 1.0.6",
        ),
        (
            {**TAG_11, **with_gateway("istio-ingressgateway", gatewayResources=[CREDENTIAL])},
            'Gateway "sds-https" uses tls.credentialName, which needs gateways.istio-ingressgateway.sds.enabled',
        ),
        (
            with_gateway("istio-ingressgateway", sds={"enabled": True}, tag="1.1.0"),
            "but the tag is 1.0.6",
        ),
    ],
    ids=["tag-1.0", "credential-without-sds", "pilot-1.0"],
)
def test_sds_refuses_what_cannot_work(values: dict[str, Any], message: str) -> None:
    assert message in render_error(values)


# --- multicluster -------------------------------------------------------------------------

MULTI = {"global": {"tag": "1.1.0", "multiCluster": {"enabled": True}}}
MULTI_OBJECTS = {
    ("Gateway", "istio-multicluster-ingressgateway"),
    ("EnvoyFilter", "istio-multicluster-ingressgateway"),
    ("DestinationRule", "istio-multicluster-destinationrule"),
}
GLOBAL_SERVER = {
    "hosts": ["*.global"],
    "port": {"number": 15443, "name": "tls", "protocol": "TLS"},
    "tls": {"mode": "AUTO_PASSTHROUGH"},
}


def test_multicluster_is_off_by_default() -> None:
    kinds = {k for k, _ in identities(render(TAG_11))}
    assert not kinds & {"Gateway", "EnvoyFilter", "DestinationRule"}


def test_multicluster_objects() -> None:
    docs = render(MULTI)
    assert identities(docs) - INGRESS == MULTI_OBJECTS
    gateway = find(docs, "Gateway", "istio-multicluster-ingressgateway")["spec"]
    assert gateway == {"selector": {"istio": "ingressgateway"}, "servers": [GLOBAL_SERVER]}
    envoy_filter = find(docs, "EnvoyFilter", "istio-multicluster-ingressgateway")["spec"]
    assert envoy_filter == {
        "workloadLabels": {"istio": "ingressgateway"},
        "filters": [
            {
                "listenerMatch": {"portNumber": 15443, "listenerType": "GATEWAY"},
                "insertPosition": {
                    "index": "AFTER",
                    "relativeTo": "envoy.filters.network.sni_cluster",
                },
                "filterName": "envoy.filters.network.tcp_cluster_rewrite",
                "filterType": "NETWORK",
                "filterConfig": {
                    "cluster_pattern": "\\.global$",
                    "cluster_replacement": ".svc.cluster.local",
                },
            }
        ],
    }
    rule = find(docs, "DestinationRule", "istio-multicluster-destinationrule")["spec"]
    assert rule == {"host": "*.global", "trafficPolicy": {"tls": {"mode": "ISTIO_MUTUAL"}}}
    # The 15443 port upstream opens on both gateways.
    assert service_ports(docs, "istio-ingressgateway")["tls"] == (15443, 15443)


def test_multicluster_egress_gateway_and_cluster_domain() -> None:
    values = {
        "global": {**MULTI["global"], "proxy": {"clusterDomain": "example.local"}},
        **with_gateway("istio-egressgateway", enabled=True),
    }
    docs = render(values)
    assert identities(docs) - INGRESS - EGRESS == MULTI_OBJECTS | {
        ("Gateway", "istio-multicluster-egressgateway")
    }
    gateway = find(docs, "Gateway", "istio-multicluster-egressgateway")["spec"]
    assert gateway == {"selector": {"istio": "egressgateway"}, "servers": [GLOBAL_SERVER]}
    assert service_ports(docs, "istio-egressgateway")["tls"] == (15443, 15443)
    envoy_filter = find(docs, "EnvoyFilter", "istio-multicluster-ingressgateway")["spec"]
    assert envoy_filter["filters"][0]["filterConfig"]["cluster_replacement"] == ".svc.example.local"


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (
            {"global": {"multiCluster": {"enabled": True}}},
            "needs Istio 1.1 or later, but the tag is 1.0.6",
        ),
        (
            {**MULTI, "gateways": {"enabled": False}},
            "global.multiCluster.enabled needs gateways.enabled",
        ),
        (
            {**MULTI, **with_gateway("istio-ingressgateway", enabled=False)},
            "needs an enabled gateway labelled istio: ingressgateway",
        ),
        (
            {
                **MULTI,
                **with_gateway("istio-ingressgateway", ports=[{"port": 80, "name": "http2"}]),
            },
            "gateways.istio-ingressgateway (istio: ingressgateway) needs a port with target port 15443",
        ),
        (
            {
                **MULTI,
                **with_gateway("istio-ingressgateway", env={"ISTIO_META_ROUTER_MODE": "standard"}),
            },
            "needs env ISTIO_META_ROUTER_MODE=sni-dnat",
        ),
    ],
    ids=["tag-1.0", "gateways-off", "no-ingress", "no-15443", "no-sni-dnat"],
)
def test_multicluster_refuses_what_cannot_work(values: dict[str, Any], message: str) -> None:
    assert message in render_error(values)


# --- networks -----------------------------------------------------------------------------


def test_gateways_carry_the_network_of_the_mesh() -> None:
    # global.network is an istio-chart value: the pure-Python renderer takes it unchecked.
    plain = tree()
    off = render_objects(plain, release="istio", namespace=NS)
    on = render_objects(
        plain, release="istio", namespace=NS, values={"global": {"network": "net1"}}
    )
    (proxy_off,) = containers(find(off, "Deployment", "istio-ingressgateway"))
    (proxy_on,) = containers(find(on, "Deployment", "istio-ingressgateway"))
    assert "ISTIO_META_NETWORK" not in {e["name"] for e in proxy_off["env"]}
    assert {"name": "ISTIO_META_NETWORK", "value": "net1"} in proxy_on["env"]


# --- Istio 1.1 features together ----------------------------------------------------------

FULL_11: dict[str, Any] = {
    "global": {
        "tag": "1.1.0",
        "multiCluster": {"enabled": True},
        "meshExpansion": {"enabled": True, "useILB": True},
    },
    "gateways": {
        "istio-ingressgateway": {"sds": {"enabled": True}, "gatewayResources": [CREDENTIAL]},
        "istio-egressgateway": {"enabled": True},
        "istio-ilbgateway": {"enabled": True},
    },
}
"""SDS, multicluster and the ILB preset with mesh expansion, on Istio 1.1."""


def test_full_11_objects() -> None:
    assert identities(render(FULL_11)) == (
        INGRESS
        | EGRESS
        | ILB
        | ILB_ROUTES
        | MULTI_OBJECTS
        | {
            ("Gateway", "istio-multicluster-egressgateway"),
            ("Gateway", "meshexpansion-ilb-gateway"),
            ("Gateway", "sds-https"),
            ("Role", "istio-ingressgateway-sds"),
            ("RoleBinding", "istio-ingressgateway-sds"),
        }
    )


@pytest.mark.parametrize("kube", ["1.25", "1.37"])
def test_full_11_validates_against_kubernetes(kube: str) -> None:
    docs = render(FULL_11)
    assert validate_k8s(docs, kube, strict=True, allow_custom=MESH_CUSTOM_GROUPS) == []
    schemas = {(f"{c.group}/{c.version}", c.kind): _closed(dict(c.schema)) for c in CRDS}
    custom = [d for d in docs if "istio.io/" in d["apiVersion"]]
    assert {d["kind"] for d in custom} == {
        "Gateway",
        "EnvoyFilter",
        "DestinationRule",
        "VirtualService",
    }
    for doc in custom:
        body = {k: v for k, v in doc.items() if k not in ("apiVersion", "kind", "metadata")}
        jsonschema.validate(body, schemas[(doc["apiVersion"], doc["kind"])])


def test_full_11_lint_strict(helm: Path, tmp_path: Path) -> None:
    assert_lint_strict(helm, _write(tree(FULL_11), tmp_path), "--namespace", NS)


@pytest.mark.parametrize(
    "values",
    [
        FULL_11,
        SDS_ON,
        MULTI,
        {
            "global": {"meshExpansion": {"enabled": True, "useILB": True}},
            **with_gateway("istio-ilbgateway", enabled=True),
        },
    ],
    ids=["full-11", "sds", "multicluster", "ilb"],
)
def test_python_renderer_matches_helm(values: dict[str, Any]) -> None:
    python = render_objects(tree(values), release="istio", namespace=NS)

    def key(doc: Doc) -> tuple[str, str]:
        return (doc["kind"], doc["metadata"]["name"])

    assert sorted(python, key=key) == sorted(render(values), key=key)


def test_helm3_and_helm4_agree_on_istio_11_features() -> None:
    assert render(FULL_11, helm=HELM3) == render(FULL_11, helm=HELM4)
