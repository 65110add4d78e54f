"""The istio chart's add-ons: Prometheus, Grafana, tracing, Kiali, servicegraph, cert-manager."""

from __future__ import annotations

import base64
import functools
import json
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from harness import assemble_components, assert_lint_strict, identities, render_tree, write_tree
from tools import (
    HELM4,
    MESH_CUSTOM_GROUPS,
    helm_binaries,
    validate_k8s,
)

from meshcharts import ChartTree, Component
from meshcharts.catalog.addons import (
    ADDONS,
    CERTMANAGER,
    PROMETHEUS,
)
from meshcharts.catalog.crds import CRDS
from meshcharts.catalog.dashboards import DASHBOARDS, configmap_name
from meshcharts.catalog.pilot import PILOT
from meshcharts.catalog.security import SECURITY
from meshcharts.catalog.sidecar_injector import SIDECAR_INJECTOR
from meshcharts.values.keypaths import leaf_paths

NS = "istio-system"

# Stand-ins for Mixer and Galley (values only, no templates): Prometheus scrapes them
# only when they are compiled in and enabled.
FAKE_MIXER = Component(
    name="mixer",
    chart="istio",
    summary="test stand-in for Mixer",
    defaults={
        "enabled": True,
        "policy": {"enabled": True},
        "telemetry": {"enabled": True},
        "adapters": {"prometheus": {"enabled": True}},
    },
    docs={
        "enabled": "x",
        "policy.enabled": "x",
        "telemetry.enabled": "x",
        "adapters.prometheus.enabled": "x",
    },
    template_dir="_no_templates",
)
FAKE_GALLEY = Component(
    name="galley",
    chart="istio",
    summary="test stand-in for Galley",
    defaults={"enabled": True},
    docs={"enabled": "x"},
    template_dir="_no_templates",
)

CATALOG: dict[str, Component] = {
    c.name: c for c in (PILOT, SECURITY, SIDECAR_INJECTOR, *ADDONS, FAKE_MIXER, FAKE_GALLEY)
}
CORE = ("pilot", "security", "sidecarInjectorWebhook")
ADDON_NAMES = tuple(a.name for a in ADDONS)
WITH_ADDONS = (*CORE, *ADDON_NAMES)
ALL_ON: dict[str, Any] = {name: {"enabled": True} for name in ADDON_NAMES}

EXPECTED: dict[str, set[tuple[str, str]]] = {
    "prometheus": {
        ("ServiceAccount", "prometheus"),
        ("ClusterRole", f"prometheus-{NS}"),
        ("ClusterRoleBinding", f"prometheus-{NS}"),
        ("ConfigMap", "prometheus"),
        ("Deployment", "prometheus"),
        ("Service", "prometheus"),
    },
    "grafana": {
        ("ConfigMap", "istio-grafana"),
        ("ConfigMap", "istio-grafana-dashboards"),
        *(("ConfigMap", configmap_name(d)) for d in DASHBOARDS),
        ("Deployment", "grafana"),
        ("Service", "grafana"),
        ("Policy", "grafana-ports-mtls-disabled"),
    },
    "tracing": {
        ("Deployment", "istio-tracing"),
        ("Service", "zipkin"),
        ("Service", "tracing"),
        ("Service", "jaeger-query"),
        ("Service", "jaeger-collector"),
        ("Service", "jaeger-agent"),
    },
    "kiali": {
        ("ServiceAccount", "kiali-service-account"),
        ("ClusterRole", "kiali"),
        ("ClusterRoleBinding", f"istio-kiali-admin-role-binding-{NS}"),
        ("ConfigMap", "kiali"),
        ("Deployment", "kiali"),
        ("Service", "kiali"),
    },
    "servicegraph": {("Deployment", "servicegraph"), ("Service", "servicegraph")},
    "certmanager": {
        ("ServiceAccount", "certmanager"),
        ("ClusterRole", "certmanager"),
        ("ClusterRoleBinding", "certmanager"),
        ("Deployment", "certmanager"),
        ("ClusterIssuer", "letsencrypt"),
        ("ClusterIssuer", "letsencrypt-staging"),
    },
}

# Every optional feature switched on (with the add-ons on).
FEATURES: dict[str, Any] = {
    "prometheus": {
        "replicaCount": 2,
        "service": {"nodePort": {"enabled": True}},
        "ingress": {"enabled": True, "hosts": ["prometheus.example.com"]},
    },
    "grafana": {
        "enabled": True,
        "replicaCount": 2,
        "service": {
            "type": "LoadBalancer",
            "name": "http-grafana",
            "externalPort": 80,
            "loadBalancerIP": "10.0.0.10",
            "loadBalancerSourceRanges": ["10.0.0.0/8"],
        },
        "persist": True,
        "security": {"enabled": True},
        "dashboards": {"mesh.json": '{"title": "Mesh"}', "raw.json": {"title": "Raw"}},
        "ingress": {
            "enabled": True,
            "className": "nginx",
            "hosts": ["grafana.example.com"],
            "annotations": {"cert-manager.io/cluster-issuer": "letsencrypt"},
            "tls": [{"secretName": "grafana-tls", "hosts": ["grafana.example.com"]}],
        },
    },
    "tracing": {
        "enabled": True,
        "ingress": {"enabled": True},
        "service": {"annotations": {"example.com/ui": "tracing"}, "type": "NodePort"},
    },
    "kiali": {
        "enabled": True,
        "replicaCount": 2,
        "createDemoSecret": True,
        "ingress": {"enabled": True},
    },
    "servicegraph": {
        "enabled": True,
        "replicaCount": 2,
        "service": {"type": "LoadBalancer", "loadBalancerSourceRanges": ["192.168.0.0/16"]},
        "ingress": {"enabled": True, "hosts": ["servicegraph.example.com"]},
        "nodeSelector": {"pool": "tools"},
        "tolerations": [{"key": "tools", "operator": "Exists", "effect": "NoSchedule"}],
        "podAnnotations": {"example.com/owner": "mesh"},
    },
    "certmanager": {"enabled": True, "replicaCount": 2, "email": "ops@example.com"},
    "global": {
        "enableHelmTest": True,
        "imagePullSecrets": ["regcred"],
        "priorityClassName": "mesh-critical",
        "defaultNodeSelector": {"disk": "ssd"},
    },
}
ZIPKIN: dict[str, Any] = {
    **FEATURES,
    "tracing": {
        "enabled": True,
        "provider": "zipkin",
        "zipkin": {"queryPort": 9412, "probeStartupDelay": 20, "node": {"cpus": 4}},
        "service": {"externalPort": 9411, "name": "http-spans"},
    },
}


# add-on -> the URL its `helm test` Pod fetches with FEATURES (and with ZIPKIN).
HELM_TESTS = {
    "prometheus": "http://prometheus.istio-system:9090/-/ready",
    "grafana": "http://grafana.istio-system:80/api/health",
    "kiali": "http://kiali.istio-system:20001/kiali/healthz",
    "servicegraph": "http://servicegraph.istio-system:8088/graph",
    "tracing": "http://tracing.istio-system:80/jaeger",
}


# --- rendering -------------------------------------------------------------------------------


@functools.cache
def _tree(names: tuple[str, ...], values: str) -> ChartTree:
    return assemble_components(tuple(CATALOG[n] for n in names), json.loads(values))


@functools.cache
def _render(
    names: tuple[str, ...], values: str, args: tuple[str, ...], helm: str
) -> list[dict[str, Any]]:
    return render_tree(_tree(names, values), *args, helm=helm_binaries()[helm])


def render(
    values: Mapping[str, Any] | None = None,
    *args: str,
    names: tuple[str, ...] = WITH_ADDONS,
    helm: str = HELM4,
) -> list[dict[str, Any]]:
    """``helm template`` of the istio chart with ``names`` compiled in (cached)."""
    return _render(names, json.dumps(values or {}, sort_keys=True), args, helm)


def find(docs: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    (doc,) = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    return doc


def pod_spec(docs: list[dict[str, Any]], name: str) -> dict[str, Any]:
    spec: dict[str, Any] = find(docs, "Deployment", name)["spec"]["template"]["spec"]
    return spec


def by_identity(docs: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(d["kind"], d["metadata"]["name"]): d for d in docs}


def scrape_jobs(docs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    config = yaml.safe_load(find(docs, "ConfigMap", "prometheus")["data"]["prometheus.yml"])
    return {job["job_name"]: job for job in config["scrape_configs"]}


def workloads(docs: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    return (d for d in docs if d["kind"] in {"Deployment", "DaemonSet", "StatefulSet", "Job"})


def addon_ids(docs: list[dict[str, Any]]) -> set[tuple[str, str]]:
    """The objects of the add-ons among ``docs``."""
    ours = set().union(*EXPECTED.values()) | {
        ("Service", "prometheus-nodeport"),
        ("PersistentVolumeClaim", "istio-grafana-pvc"),
        ("Secret", "kiali"),
        ("PodDisruptionBudget", "certmanager"),
        *(("Pod", f"{name}-test") for name in HELM_TESTS),
    }
    ingresses = {("Ingress", d["metadata"]["name"]) for d in docs if d["kind"] == "Ingress"}
    return (identities(docs) & ours) | ingresses


# --- catalog ---------------------------------------------------------------------------------


@pytest.mark.parametrize("addon", ADDONS, ids=ADDON_NAMES)
def test_every_value_is_documented_and_every_override_exists(addon: Component) -> None:
    leaves = {".".join(p) for p in leaf_paths(addon.defaults)}
    assert leaves - set(addon.docs) == set()
    nodes = {".".join(p[:i]) for p in leaf_paths(addon.defaults) for i in range(1, len(p) + 1)}
    assert set(addon.schema) - nodes == set()
    assert addon.defaults["enabled"] is (addon is PROMETHEUS)


def test_certmanager_shares_the_istio_init_default() -> None:
    from meshcharts.catalog.istio_init import CERTMANAGER_CRDS

    assert CERTMANAGER.name == CERTMANAGER_CRDS.name == "certmanager"
    assert CERTMANAGER.defaults["enabled"] == CERTMANAGER_CRDS.defaults["enabled"] is False


# --- (1) on and off --------------------------------------------------------------------------


def test_defaults_render_prometheus_only() -> None:
    assert addon_ids(render()) == EXPECTED["prometheus"]


@pytest.mark.parametrize("addon", ADDON_NAMES)
def test_enabled_false_removes_exactly_the_addon(addon: str) -> None:
    on = identities(render(ALL_ON))
    off = identities(render(ALL_ON, "--set", f"{addon}.enabled=false"))
    assert off <= on
    assert on - off == EXPECTED[addon]


@pytest.mark.parametrize("addon", ADDON_NAMES)
def test_an_addon_compiled_alone_needs_no_other_component(addon: str) -> None:
    docs = render({addon: {"enabled": True}}, names=(addon,))
    expected = EXPECTED[addon] - {("Policy", "grafana-ports-mtls-disabled")}
    assert identities(docs) == expected


# --- (2) features ----------------------------------------------------------------------------


def test_prometheus_scrapes_envoy_native_stats_by_port_name() -> None:
    job = scrape_jobs(render())["envoy-stats"]
    assert job["metrics_path"] == "/stats/prometheus"
    assert job["kubernetes_sd_configs"] == [{"role": "pod"}]
    assert job["relabel_configs"][0] == {
        "source_labels": ["__meta_kubernetes_pod_container_port_name"],
        "action": "keep",
        "regex": "http-envoy-prom",
    }


ALWAYS = {
    "envoy-stats",
    "kubernetes-apiservers",
    "kubernetes-nodes",
    "kubernetes-cadvisor",
    "kubernetes-service-endpoints",
    "kubernetes-pods",
}


@pytest.mark.parametrize(
    ("names", "values", "expected"),
    [
        (("prometheus",), {}, set()),
        (CORE + ("prometheus",), {}, {"pilot", "citadel"}),
        (CORE + ("prometheus",), {"security": {"enabled": False}}, {"pilot"}),
        (
            CORE + ("prometheus", "mixer", "galley"),
            {},
            {"pilot", "citadel", "galley", "istio-policy", "istio-telemetry", "istio-mesh"},
        ),
        (
            CORE + ("prometheus", "mixer", "galley"),
            {"mixer": {"telemetry": {"enabled": False}}, "galley": {"enabled": False}},
            {"pilot", "citadel", "istio-policy"},
        ),
        (
            ("prometheus", "mixer"),
            {"mixer": {"adapters": {"prometheus": {"enabled": False}}}},
            {"istio-policy", "istio-telemetry"},
        ),
        (("prometheus", "mixer"), {"mixer": {"enabled": False}}, set()),
    ],
    ids=["alone", "core", "no-citadel", "everything", "policy-only", "no-adapter", "mixer-off"],
)
def test_prometheus_scrapes_only_components_compiled_in_and_enabled(
    names: tuple[str, ...], values: dict[str, Any], expected: set[str]
) -> None:
    jobs = scrape_jobs(render(values, names=names))
    # With Citadel, prometheus.security.enabled (default) adds the mutual-TLS pod job.
    secure = {"kubernetes-pods-istio-secure"} if "citadel" in expected else set()
    assert set(jobs) == ALWAYS | expected | secure
    services = {"pilot": "istio-pilot", "citadel": "istio-citadel", "galley": "istio-galley"}
    for job, service in services.items():
        if job in jobs:
            keep = jobs[job]["relabel_configs"][0]
            assert keep["regex"] == f"{service};http-monitoring"
            assert jobs[job]["kubernetes_sd_configs"][0]["namespaces"]["names"] == [NS]
    if "istio-mesh" in jobs:
        assert jobs["istio-mesh"]["relabel_configs"][0]["regex"] == "istio-telemetry;prometheus"


def test_scrape_targets_exist_in_the_real_mixer_and_galley() -> None:
    mixer = pytest.importorskip("meshcharts.catalog.mixer")
    galley = pytest.importorskip("meshcharts.catalog.galley")
    components = (PILOT, SECURITY, PROMETHEUS, mixer.MIXER, galley.GALLEY)
    docs = render_tree(assemble_components(components))
    jobs = scrape_jobs(docs)
    ports = {
        (d["metadata"]["name"], p["name"])
        for d in docs
        if d["kind"] == "Service"
        for p in d["spec"]["ports"]
    }
    targets = {
        tuple(job["relabel_configs"][0]["regex"].split(";"))
        for job in jobs.values()
        if job["kubernetes_sd_configs"][0].get("namespaces", {}).get("names") == [NS]
    }
    assert len(targets) == 6
    assert targets <= ports


def test_prometheus_values_reach_the_deployment_and_config() -> None:
    docs = render({"prometheus": {"retention": "2d", "scrapeInterval": "30s", "tag": "v2.3.2"}})
    (container,) = pod_spec(docs, "prometheus")["containers"]
    assert container["image"] == "docker.io/prom/prometheus:v2.3.2"
    assert "--storage.tsdb.retention=2d" in container["args"]
    config = yaml.safe_load(find(docs, "ConfigMap", "prometheus")["data"]["prometheus.yml"])
    assert config["global"]["scrape_interval"] == "30s"


def test_prometheus_nodeport_service_only_when_asked() -> None:
    assert ("Service", "prometheus-nodeport") not in identities(render())
    docs = render(FEATURES)
    service = find(docs, "Service", "prometheus-nodeport")
    assert service["spec"]["type"] == "NodePort"
    assert service["spec"]["ports"][0]["nodePort"] == 32090


def test_prometheus_rbac_is_least_privilege() -> None:
    role = find(render(), "ClusterRole", f"prometheus-{NS}")
    assert role["rules"] == [
        {
            "apiGroups": [""],
            "resources": ["nodes", "services", "endpoints", "pods"],
            "verbs": ["get", "list", "watch"],
        },
        {"apiGroups": [""], "resources": ["nodes/metrics"], "verbs": ["get"]},
        {"nonResourceURLs": ["/metrics"], "verbs": ["get"]},
    ]


INGRESSES = {
    # add-on: (Service, port, path)
    "prometheus": ("prometheus", 9090, "/prometheus"),
    "grafana": ("grafana", 80, "/grafana"),  # FEATURES' grafana.service.externalPort
    "tracing": ("tracing", 80, "/jaeger"),
    "kiali": ("kiali", 20001, "/kiali"),
    "servicegraph": ("servicegraph", 8088, "/"),
}


@pytest.mark.parametrize("addon", sorted(INGRESSES))
def test_ingress_routes_to_the_addon_service(addon: str) -> None:
    assert not [d for d in render(ALL_ON) if d["kind"] == "Ingress"]
    service, port, path = INGRESSES[addon]
    ingress = find(render(FEATURES), "Ingress", service)
    assert ingress["apiVersion"] == "networking.k8s.io/v1"
    hosts = FEATURES[addon]["ingress"].get("hosts", [])
    assert [r.get("host") for r in ingress["spec"]["rules"]] == (hosts or [None])
    for rule in ingress["spec"]["rules"]:
        assert rule["http"]["paths"] == [
            {
                "path": path,
                "pathType": "Prefix",
                "backend": {"service": {"name": service, "port": {"number": port}}},
            }
        ]
    if addon == "grafana":
        assert ingress["spec"]["ingressClassName"] == "nginx"
        assert ingress["spec"]["tls"] == FEATURES["grafana"]["ingress"]["tls"]
        assert ingress["metadata"]["annotations"] == FEATURES["grafana"]["ingress"]["annotations"]
    else:
        assert "tls" not in ingress["spec"]
        assert "ingressClassName" not in ingress["spec"]


def test_grafana_datasources_and_providers_are_provisioned() -> None:
    docs = render(ALL_ON)
    data = find(docs, "ConfigMap", "istio-grafana")["data"]
    sources = yaml.safe_load(data["datasources.yaml"])
    assert sources["apiVersion"] == 1
    assert sources["datasources"][0]["url"] == "http://prometheus:9090"
    providers = yaml.safe_load(data["dashboardproviders.yaml"])["providers"]
    assert providers[0]["options"]["path"] == "/var/lib/grafana/dashboards/istio"
    assert find(docs, "ConfigMap", "istio-grafana-dashboards")["data"] == {}
    mounts = {
        m["name"]: m["mountPath"]
        for m in pod_spec(docs, "grafana")["containers"][0]["volumeMounts"]
    }
    assert mounts["dashboards"] == "/var/lib/grafana/dashboards/istio"
    assert mounts["datasources"] == "/etc/grafana/provisioning/datasources"


def test_grafana_persistence_security_and_dashboards() -> None:
    docs = render(FEATURES)
    pvc = find(docs, "PersistentVolumeClaim", "istio-grafana-pvc")
    assert pvc["spec"]["accessModes"] == ["ReadWriteOnce"]
    assert pvc["spec"]["resources"]["requests"]["storage"] == "5Gi"
    deployment = find(docs, "Deployment", "grafana")
    assert deployment["spec"]["strategy"] == {"type": "Recreate"}
    spec = deployment["spec"]["template"]["spec"]
    (data,) = [v for v in spec["volumes"] if v["name"] == "data"]
    assert data["persistentVolumeClaim"] == {"claimName": "istio-grafana-pvc"}
    env = {e["name"]: e for e in spec["containers"][0]["env"]}
    assert env["GF_SECURITY_ADMIN_USER"]["valueFrom"]["secretKeyRef"] == {
        "name": "grafana",
        "key": "username",
    }
    assert env["GF_AUTH_ANONYMOUS_ENABLED"]["value"] == "false"
    dashboards = find(docs, "ConfigMap", "istio-grafana-dashboards")["data"]
    assert json.loads(dashboards["mesh.json"]) == {"title": "Mesh"}
    assert json.loads(dashboards["raw.json"]) == {"title": "Raw"}
    plain = pod_spec(render(ALL_ON), "grafana")
    assert {e["name"]: e.get("value") for e in plain["containers"][0]["env"]}[
        "GF_AUTH_ANONYMOUS_ENABLED"
    ] == "true"
    assert "PersistentVolumeClaim" not in {d["kind"] for d in render(ALL_ON)}


@pytest.mark.parametrize(
    ("names", "values", "present"),
    [
        (WITH_ADDONS, ALL_ON, True),
        (WITH_ADDONS, {**ALL_ON, "security": {"enabled": False}}, False),
        (("pilot", "grafana"), {"grafana": {"enabled": True}}, False),
    ],
    ids=["security-on", "security-off", "security-not-compiled"],
)
def test_grafana_mtls_policy_only_with_security(
    names: tuple[str, ...], values: dict[str, Any], present: bool
) -> None:
    docs = render(values, names=names)
    policies = [d for d in docs if d["metadata"]["name"] == "grafana-ports-mtls-disabled"]
    if not present:
        assert policies == []
        return
    (policy,) = policies
    assert policy["apiVersion"] == "authentication.istio.io/v1alpha1"
    assert policy["metadata"]["name"] == "grafana-ports-mtls-disabled"
    assert policy["spec"] == {"targets": [{"name": "grafana", "ports": [{"number": 3000}]}]}


def test_tracing_provider_switch() -> None:
    jaeger = render(FEATURES)
    zipkin = render(ZIPKIN)
    (jc,) = pod_spec(jaeger, "istio-tracing")["containers"]
    (zc,) = pod_spec(zipkin, "istio-tracing")["containers"]
    assert jc["image"] == "docker.io/jaegertracing/all-in-one:1.9"
    assert zc["image"] == "docker.io/openzipkin/zipkin:2"
    jenv = {e["name"]: e.get("value") for e in jc["env"]}
    assert jenv["COLLECTOR_ZIPKIN_HTTP_PORT"] == "9411"
    assert jenv["MEMORY_MAX_TRACES"] == "50000"
    zenv = {e["name"]: e.get("value") for e in zc["env"]}
    # ZIPKIN sets tracing.zipkin.node.cpus to 4.
    assert zenv["JAVA_OPTS"] == (
        "-XX:ConcGCThreads=4 -XX:ParallelGCThreads=4 "
        "-Djava.util.concurrent.ForkJoinPool.common.parallelism=4 "
        "-Xms700M -Xmx700M -XX:+UseG1GC -server"
    )
    assert zenv["MEM_MAX_SPANS"] == "500000"
    services = {n for k, n in identities(zipkin) if k == "Service"}
    assert {"zipkin", "tracing"} <= services
    assert not {"jaeger-query", "jaeger-collector", "jaeger-agent"} & services
    assert find(jaeger, "Service", "tracing")["spec"]["ports"][0]["targetPort"] == 16686
    assert find(zipkin, "Service", "tracing")["spec"]["ports"][0]["targetPort"] == 9412
    for docs, app in ((jaeger, "jaeger"), (zipkin, "zipkin")):
        assert find(docs, "Service", "zipkin")["spec"]["selector"] == {"app": app}
        assert find(docs, "Service", "zipkin")["spec"]["ports"][0]["port"] == 9411


def test_zipkin_query_port_probe_delay_and_cpus() -> None:
    plain = {**FEATURES, "tracing": {"enabled": True, "provider": "zipkin"}}
    for values, port, delay in ((plain, 9411, None), (ZIPKIN, 9412, 20)):
        docs = render(values)
        (container,) = pod_spec(docs, "istio-tracing")["containers"]
        assert container["ports"] == [
            {"name": "http-query", "containerPort": port, "protocol": "TCP"}
        ]
        assert {e["name"]: e.get("value") for e in container["env"]}["QUERY_PORT"] == str(port)
        assert container["startupProbe"].get("initialDelaySeconds") == delay
        assert container["readinessProbe"]["httpGet"]["port"] == port
        assert container["livenessProbe"]["tcpSocket"]["port"] == port
        zipkin = find(docs, "Service", "zipkin")["spec"]
        assert zipkin["ports"][0]["targetPort"] == port
        assert find(docs, "Service", "tracing")["spec"]["ports"][0]["targetPort"] == port
    default_env = {
        e["name"]: e.get("value")
        for e in pod_spec(render(plain), "istio-tracing")["containers"][0]["env"]
    }
    assert "-XX:ConcGCThreads=2 " in default_env["JAVA_OPTS"]


def test_tracing_service_values() -> None:
    default = render(ALL_ON)
    zipkin = find(default, "Service", "zipkin")["spec"]
    assert zipkin["type"] == "ClusterIP"
    assert zipkin["ports"][0]["name"] == "http-zipkin"
    assert "annotations" not in find(default, "Service", "tracing")["metadata"]
    docs = render(FEATURES)
    assert find(docs, "Service", "zipkin")["spec"]["type"] == "NodePort"
    assert find(docs, "Service", "tracing")["metadata"]["annotations"] == {
        "example.com/ui": "tracing"
    }
    spans = find(render(ZIPKIN, "--set", "tracing.service.externalPort=9511"), "Service", "zipkin")
    assert spans["spec"]["ports"][0]["name"] == "http-spans"
    assert spans["spec"]["ports"][0]["port"] == 9511


@pytest.mark.parametrize(
    ("addon", "deployment"),
    [
        ("prometheus", "prometheus"),
        ("grafana", "grafana"),
        ("kiali", "kiali"),
        ("servicegraph", "servicegraph"),
    ],
)
def test_replica_count(addon: str, deployment: str) -> None:
    assert find(render(ALL_ON), "Deployment", deployment)["spec"]["replicas"] == 1
    assert find(render(FEATURES), "Deployment", deployment)["spec"]["replicas"] == 2


@pytest.mark.parametrize(("addon", "target"), [("grafana", 3000), ("servicegraph", 8088)])
def test_service_values_of_grafana_and_servicegraph(addon: str, target: int) -> None:
    plain = find(render(ALL_ON), "Service", addon)["spec"]
    assert plain["type"] == "ClusterIP"
    assert "loadBalancerIP" not in plain and "loadBalancerSourceRanges" not in plain
    assert plain["ports"] == [
        {
            "name": {"grafana": "http", "servicegraph": "http-servicegraph"}[addon],
            "port": target,
            "targetPort": target,
            "protocol": "TCP",
        }
    ]
    spec = find(render(FEATURES), "Service", addon)["spec"]
    assert spec["type"] == "LoadBalancer"
    service = FEATURES[addon]["service"]
    assert spec["loadBalancerSourceRanges"] == service["loadBalancerSourceRanges"]
    assert spec.get("loadBalancerIP") == service.get("loadBalancerIP")
    assert spec["ports"][0]["name"] == service.get("name", plain["ports"][0]["name"])
    assert spec["ports"][0]["port"] == service.get("externalPort", target)
    assert spec["ports"][0]["targetPort"] == target


def test_grafana_external_port_reaches_its_mtls_policy() -> None:
    values = {**ALL_ON, "grafana": {"enabled": True, "service": {"externalPort": 8080}}}
    policy = find(render(values), "Policy", "grafana-ports-mtls-disabled")
    assert policy["spec"]["targets"][0]["ports"] == [{"number": 8080}]


def test_prometheus_scrapes_sidecar_pods_with_citadel_certificates() -> None:
    docs = render()
    jobs = scrape_jobs(docs)
    secure = jobs["kubernetes-pods-istio-secure"]
    assert secure["scheme"] == "https"
    assert secure["tls_config"] == {
        "ca_file": "/etc/istio-certs/root-cert.pem",
        "cert_file": "/etc/istio-certs/cert-chain.pem",
        "key_file": "/etc/istio-certs/key.pem",
        "insecure_skip_verify": True,
    }
    keeps = [r for r in secure["relabel_configs"] if r["action"] == "keep"]
    assert keeps[1] == {
        "source_labels": ["__meta_kubernetes_pod_annotation_sidecar_istio_io_status"],
        "action": "keep",
        "regex": "(.+)",
    }
    # kubernetes-pods leaves the pods with a sidecar to the secure job, unless scheme http.
    plain = jobs["kubernetes-pods"]["relabel_configs"][1]
    assert plain["regex"] == "(;.*)|(.*;http)"
    spec = pod_spec(docs, "prometheus")
    (certs,) = [v for v in spec["volumes"] if v["name"] == "istio-certs"]
    assert certs == {"name": "istio-certs", "secret": {"secretName": "istio.prometheus"}}
    assert spec["serviceAccountName"] == "prometheus"
    mounts = {m["name"]: m for m in spec["containers"][0]["volumeMounts"]}
    assert mounts["istio-certs"] == {
        "name": "istio-certs",
        "mountPath": "/etc/istio-certs",
        "readOnly": True,
    }


@pytest.mark.parametrize(
    ("names", "values"),
    [
        (WITH_ADDONS, {"prometheus": {"security": {"enabled": False}}}),
        (WITH_ADDONS, {"security": {"enabled": False}}),
        (("pilot", "prometheus"), {}),
    ],
    ids=["prometheus-security-off", "citadel-off", "citadel-not-compiled"],
)
def test_prometheus_scrapes_plainly_without_citadel_certificates(
    names: tuple[str, ...], values: dict[str, Any]
) -> None:
    docs = render(values, names=names)
    jobs = scrape_jobs(docs)
    assert "kubernetes-pods-istio-secure" not in jobs
    assert [r["source_labels"] for r in jobs["kubernetes-pods"]["relabel_configs"][:2]] == [
        ["__meta_kubernetes_pod_annotation_prometheus_io_scrape"],
        ["__meta_kubernetes_pod_annotation_prometheus_io_path"],
    ]
    spec = pod_spec(docs, "prometheus")
    assert "istio-certs" not in {v["name"] for v in spec["volumes"]}


def test_tracing_services_are_separate_documents_and_match_the_mesh_zipkin_address() -> None:
    docs = render(ALL_ON)
    assert "List" not in {d["kind"] for d in docs}
    mesh = yaml.safe_load(find(docs, "ConfigMap", "istio")["data"]["mesh"])
    assert mesh["defaultConfig"]["tracing"]["zipkin"]["address"] == f"zipkin.{NS}:9411"


def test_kiali_demo_secret_only_when_asked() -> None:
    assert ("Secret", "kiali") not in identities(render(ALL_ON))
    docs = render(FEATURES)
    secret = find(docs, "Secret", "kiali")
    decoded = {k: base64.b64decode(v).decode() for k, v in secret["data"].items()}
    assert decoded == {"username": "admin", "passphrase": "admin"}
    (volume,) = [v for v in pod_spec(docs, "kiali")["volumes"] if v["name"] == "kiali-secret"]
    assert volume["secret"]["secretName"] == "kiali"


def test_kiali_config_and_probes_follow_the_context_path() -> None:
    values = {
        **ALL_ON,
        "kiali": {
            "enabled": True,
            "contextPath": "/console/",
            "dashboard": {"grafanaURL": "https://grafana.example.com"},
        },
    }
    docs = render(values)
    config = yaml.safe_load(find(docs, "ConfigMap", "kiali")["data"]["config.yaml"])
    assert config == {
        "istio_namespace": NS,
        "server": {"port": 20001, "web_root": "/console/"},
        "external_services": {"grafana": {"url": "https://grafana.example.com"}},
    }
    (container,) = pod_spec(docs, "kiali")["containers"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/console/healthz"
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["PROMETHEUS_SERVICE_URL"] == "http://prometheus:9090"


def test_kiali_cluster_role_reads_every_istio_resource_and_writes_nothing() -> None:
    role = find(render(ALL_ON), "ClusterRole", "kiali")
    by_group: dict[str, set[str]] = {}
    for rule in role["rules"]:
        assert set(rule["verbs"]) <= {"get", "list", "watch"}
        for group in rule["apiGroups"]:
            by_group.setdefault(group, set()).update(rule["resources"])
    for group in (
        "networking.istio.io",
        "authentication.istio.io",
        "rbac.istio.io",
        "config.istio.io",
    ):
        assert by_group[group] == {c.plural for c in CRDS if c.group == group}
    assert "secrets" not in by_group[""]


def test_certmanager_issuers_email_and_pdb() -> None:
    docs = render(FEATURES)
    for name, server in (
        ("letsencrypt", "https://acme-v02.api.letsencrypt.org/directory"),
        ("letsencrypt-staging", "https://acme-staging-v02.api.letsencrypt.org/directory"),
    ):
        issuer = find(docs, "ClusterIssuer", name)
        assert issuer["apiVersion"] == "certmanager.k8s.io/v1alpha1"
        assert "namespace" not in issuer["metadata"]
        assert issuer["spec"]["acme"] == {
            "server": server,
            "email": "ops@example.com",
            "privateKeySecretRef": {"name": name},
            "http01": {},
        }
    assert find(docs, "Deployment", "certmanager")["spec"]["replicas"] == 2
    pdb = find(docs, "PodDisruptionBudget", "certmanager")
    assert pdb["spec"]["minAvailable"] == 1
    no_pdb = render(FEATURES, "--set", "global.defaultPodDisruptionBudget.enabled=false")
    assert ("PodDisruptionBudget", "certmanager") not in identities(no_pdb)
    assert ("PodDisruptionBudget", "certmanager") not in identities(render(ALL_ON))
    assert "email" not in find(render(ALL_ON), "ClusterIssuer", "letsencrypt")["spec"]["acme"]


def test_pod_placement_and_pull_secrets() -> None:
    docs = render(FEATURES)
    for name in ADDON_DEPLOYMENTS:
        spec = pod_spec(docs, name)
        assert spec["priorityClassName"] == "mesh-critical"
        expected = {"pool": "tools"} if name == "servicegraph" else {"disk": "ssd"}
        assert spec["nodeSelector"] == expected, name
        if spec.get("automountServiceAccountToken") is False:
            assert spec["imagePullSecrets"] == [{"name": "regcred"}], name
    for account in ("prometheus", "kiali-service-account", "certmanager"):
        assert find(docs, "ServiceAccount", account)["imagePullSecrets"] == [{"name": "regcred"}]
    servicegraph = find(docs, "Deployment", "servicegraph")["spec"]["template"]
    assert servicegraph["spec"]["tolerations"][0]["key"] == "tools"
    assert servicegraph["metadata"]["annotations"] == {
        "sidecar.istio.io/inject": "false",
        "example.com/owner": "mesh",
    }


def test_servicegraph_uses_the_istio_image_and_prometheus() -> None:
    (container,) = pod_spec(render(ALL_ON), "servicegraph")["containers"]
    assert container["image"] == "docker.io/istio/servicegraph:1.0.6"
    assert container["args"] == ["--prometheusAddr=http://prometheus:9090"]


def _injection_template(docs: list[dict[str, Any]]) -> dict[str, Any]:
    """The injector's template as YAML: its own [[ ]] actions dropped or blanked."""
    config = yaml.safe_load(find(docs, "ConfigMap", "istio-sidecar-injector")["data"]["config"])
    lines = [ln for ln in config["template"].splitlines() if not ln.strip().startswith("[[")]
    text = re.sub(r"\[\[.*?\]\]", "x", "\n".join(lines))
    template: dict[str, Any] = yaml.safe_load(text)
    return template


def test_injected_sidecar_exposes_envoy_stats_port() -> None:
    template = _injection_template(render())
    (proxy,) = [c for c in template["containers"] if c["name"] == "istio-proxy"]
    assert {"containerPort": 15090, "protocol": "TCP", "name": "http-envoy-prom"} in proxy["ports"]


# --- (3) Istio and cert-manager custom resources against their CRDs --------------------------


@pytest.mark.parametrize("values", [FEATURES, ZIPKIN], ids=["jaeger", "zipkin"])
def test_custom_resources_validate_against_their_crds(values: dict[str, Any]) -> None:
    schemas = {(f"{c.group}/{c.version}", c.kind): c.schema for c in CRDS}
    docs = render(values)
    ours = addon_ids(docs)
    custom = [d for d in docs if (d["kind"], d["metadata"]["name"]) in ours]
    custom = [d for d in custom if any(g in d["apiVersion"] for g in MESH_CUSTOM_GROUPS)]
    assert sorted(d["kind"] for d in custom) == ["ClusterIssuer", "ClusterIssuer", "Policy"]
    for doc in custom:
        body = {k: v for k, v in doc.items() if k not in ("apiVersion", "kind", "metadata")}
        jsonschema.validate(body, dict(schemas[(doc["apiVersion"], doc["kind"])]))


# --- (4) Kubernetes schemas ------------------------------------------------------------------


@pytest.mark.parametrize("kube", ["1.25", "1.37"])
@pytest.mark.parametrize("values", [ALL_ON, FEATURES, ZIPKIN], ids=["on", "features", "zipkin"])
def test_rendered_objects_validate_against_kubernetes(values: dict[str, Any], kube: str) -> None:
    docs = render(values)
    ours = addon_ids(docs)
    docs = [d for d in docs if (d["kind"], d["metadata"]["name"]) in ours]
    assert len(docs) >= sum(len(objects) for objects in EXPECTED.values())
    assert validate_k8s(docs, kube, strict=True, allow_custom=MESH_CUSTOM_GROUPS) == []


# --- (5) helm lint --strict and helm template under both Helms -------------------------------


@pytest.mark.parametrize("values", [ALL_ON, FEATURES], ids=["on", "features"])
def test_lint_strict_and_template(
    helm: Path, helm_version: str, tmp_path: Path, values: dict[str, Any]
) -> None:
    tree = _tree(WITH_ADDONS, json.dumps(values, sort_keys=True))
    assert_lint_strict(helm, write_tree(tree, tmp_path))
    # Helm 3 and 4 order custom kinds differently: compare the objects, not their order.
    assert by_identity(render(values, helm=helm_version)) == by_identity(render(values, helm=HELM4))


# --- (6) schema ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "setting",
    [
        "prometheus.bogus=1",
        "prometheus.service.nodePort.bogus=1",
        "grafana.bogus=1",
        "grafana.security.bogus=1",
        "tracing.bogus=1",
        "tracing.jaeger.bogus=1",
        "kiali.dashboard.bogus=1",
        "servicegraph.bogus=1",
        "certmanager.bogus=1",
        "tracing.provider=lightstep",
        "certmanager.email=not-an-email",
        "prometheus.retention=six-hours",
        "grafana.ingress.hosts[0]=Not_A_Host",
    ],
)
def test_invalid_values_fail_helm_schema_validation(setting: str) -> None:
    tree = _tree(WITH_ADDONS, "{}")
    with pytest.raises(AssertionError, match="(?i)schema") as error:
        render_tree(tree, "--set", setting)
    path = "/" + setting.split("=")[0].replace(".", "/").replace("[", "/").replace("]", "")
    parent, leaf = path.rsplit("/", 1)
    message = str(error.value)
    assert f"at '{path}'" in message or (
        f"at '{parent}'" in message and f"'{leaf}' not allowed" in message
    ), message


def test_integer_tags_from_set_are_accepted() -> None:
    docs = render(ZIPKIN, "--set", "tracing.zipkin.tag=2")
    assert pod_spec(docs, "istio-tracing")["containers"][0]["image"].endswith("zipkin:2")


# --- (7) containers --------------------------------------------------------------------------


ADDON_DEPLOYMENTS = {
    "prometheus": 65534,
    "grafana": 472,
    "istio-tracing": 1337,
    "kiali": 1337,
    "servicegraph": 1337,
    "certmanager": 1337,
}


@pytest.mark.parametrize("values", [FEATURES, ZIPKIN], ids=["jaeger", "zipkin"])
def test_every_container_is_bounded_and_non_root(values: dict[str, Any]) -> None:
    docs = render(values)
    zipkin = values["tracing"].get("provider") == "zipkin"
    uids = {**ADDON_DEPLOYMENTS, "istio-tracing": 1000 if zipkin else 1337}
    seen = set()
    for doc in workloads(docs):
        name = doc["metadata"]["name"]
        if name not in ADDON_DEPLOYMENTS:
            continue
        seen.add(name)
        spec = doc["spec"]["template"]["spec"]
        assert spec["containers"], f"{name} has no containers"
        for container in [*spec.get("initContainers", []), *spec["containers"]]:
            resources = container.get("resources", {})
            assert resources.get("requests") and resources.get("limits"), (name, container["name"])
        pod = spec["securityContext"]
        assert pod["runAsNonRoot"] is True
        assert pod["seccompProfile"] == {"type": "RuntimeDefault"}
        uid = uids[name]
        assert pod["runAsUser"] == uid, name
        for container in spec["containers"]:
            context = container["securityContext"]
            assert context["allowPrivilegeEscalation"] is False
            assert context["capabilities"] == {"drop": ["ALL"]}
            assert context["runAsUser"] == uid
    assert seen == set(ADDON_DEPLOYMENTS)


def test_no_wildcards_in_addon_rbac() -> None:
    names = {n for k, n in set().union(*EXPECTED.values()) if k == "ClusterRole"}
    roles = [
        d for d in render(ALL_ON) if d["kind"] == "ClusterRole" and d["metadata"]["name"] in names
    ]
    assert len(roles) == len(names) == 3
    for role in roles:
        assert role["rules"], f"ClusterRole {role['metadata']['name']} has no rules"
        for rule in role["rules"]:
            for key in ("apiGroups", "resources", "verbs", "nonResourceURLs"):
                assert "*" not in rule.get(key, []), (role["metadata"]["name"], rule)


# --- (8) helm test -------------------------------------------------------------------------


def helm_test_pods(docs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {
        d["metadata"]["name"]: d
        for d in docs
        if d["kind"] == "Pod" and d["metadata"].get("annotations", {}).get("helm.sh/hook") == "test"
    }


def test_no_helm_test_pods_by_default() -> None:
    assert helm_test_pods(render(ALL_ON)) == {}


@pytest.mark.parametrize("values", [FEATURES, ZIPKIN], ids=["jaeger", "zipkin"])
def test_helm_test_pods_fetch_each_addon_through_its_service(values: dict[str, Any]) -> None:
    docs = render(values)
    pods = helm_test_pods(docs)
    assert set(pods) == {f"{name}-test" for name in HELM_TESTS}
    zipkin = values is ZIPKIN
    services = {
        (d["metadata"]["name"], p["port"])
        for d in docs
        if d["kind"] == "Service"
        for p in d["spec"]["ports"]
    }
    for name, url in HELM_TESTS.items():
        if zipkin and name == "tracing":
            url = "http://tracing.istio-system:80/health"
        pod = pods[f"{name}-test"]
        assert pod["metadata"]["annotations"]["sidecar.istio.io/inject"] == "false"
        assert pod["metadata"]["labels"]["app"] == f"{name}-test"
        spec = pod["spec"]
        assert spec["restartPolicy"] == "Never"
        assert spec["securityContext"]["runAsNonRoot"] is True
        (container,) = spec["containers"]
        assert container["image"] == "docker.io/istio/proxyv2:1.0.6"
        assert container["command"][0] == "curl" and "--fail" in container["command"]
        assert container["command"][-1] == url
        host, port = url.split("/")[2].split(":")
        assert (host.split(".")[0], int(port)) in services
        assert container["resources"]["limits"]
        assert container["securityContext"]["allowPrivilegeEscalation"] is False


@pytest.mark.parametrize("addon", sorted(HELM_TESTS))
def test_helm_test_pod_goes_with_its_addon(addon: str) -> None:
    values = {**ALL_ON, "global": {"enableHelmTest": True}}
    on = set(helm_test_pods(render(values)))
    off = set(helm_test_pods(render(values, "--set", f"{addon}.enabled=false")))
    assert on - off == {f"{addon}-test"}
