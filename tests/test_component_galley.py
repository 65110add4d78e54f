"""The galley component: Istio configuration validation and the MCP config server."""

from __future__ import annotations

import base64
import functools
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from harness import assemble_components, identities, render_tree
from harness import one as _one
from harness import write_tree as _write
from tools import HELM3, HELM4, MESH_CUSTOM_GROUPS, helm_binaries, run_helm, validate_k8s

from meshcharts import ChartTree
from meshcharts.catalog.crds import CRDS
from meshcharts.catalog.galley import GALLEY
from meshcharts.checks.render import render_objects

Docs = list[dict[str, Any]]
HELMS = (HELM3, HELM4)
NS = "istio-system"
CA = "-----BEGIN CERTIFICATE-----\nTUlJQ2RqQ0NBZDhDQVFFd0RRWUpL\n-----END CERTIFICATE-----\n"

GALLEY_OBJECTS = {
    ("ServiceAccount", "istio-galley-service-account"),
    ("ConfigMap", "istio-galley-configuration"),
    ("ClusterRole", "istio-galley-istio-system"),
    ("ClusterRoleBinding", "istio-galley-admin-role-binding-istio-system"),
    ("Service", "istio-galley"),
    ("Deployment", "istio-galley"),
    ("ValidatingWebhookConfiguration", "istio-galley"),
}
MIXER_KINDS = {
    "rules",
    "attributemanifests",
    "circonuses",
    "cloudwatches",
    "deniers",
    "dogstatsds",
    "fluentds",
    "kubernetesenvs",
    "listcheckers",
    "memquotas",
    "noops",
    "opas",
    "prometheuses",
    "rbacs",
    "solarwindses",
    "stackdrivers",
    "statsds",
    "stdios",
    "apikeys",
    "authorizations",
    "checknothings",
    "listentries",
    "logentries",
    "metrics",
    "quotas",
    "reportnothings",
    "tracespans",
}
PILOT_RULES = {
    "networking.istio.io": (
        "v1alpha3",
        {
            "destinationrules",
            "envoyfilters",
            "gateways",
            "serviceentries",
            "sidecars",
            "virtualservices",
        },
    ),
    "authentication.istio.io": ("v1alpha1", {"meshpolicies", "policies"}),
    "rbac.istio.io": (
        "v1alpha1",
        {"clusterrbacconfigs", "rbacconfigs", "servicerolebindings", "serviceroles"},
    ),
    "config.istio.io": (
        "v1alpha2",
        {"httpapispecbindings", "httpapispecs", "quotaspecbindings", "quotaspecs"},
    ),
}


@functools.cache
def _tree(values_json: str) -> ChartTree:
    return assemble_components((GALLEY,), json.loads(values_json))


@functools.cache
def _cached(values_json: str, args: tuple[str, ...], helm: str) -> Docs:
    return render_tree(_tree(values_json), *args, helm=helm_binaries()[helm])


def _render(values: dict[str, Any] | None = None, *args: str, helm: str = HELM4) -> Docs:
    return _cached(json.dumps(values or {}, sort_keys=True), args, helm)


def _container(docs: Docs) -> dict[str, Any]:
    deployment = _one(docs, "Deployment", "istio-galley")
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    result: dict[str, Any] = container
    return result


def test_enabled_false_removes_every_galley_object() -> None:
    assert identities(_render()) == GALLEY_OBJECTS
    assert identities(_render({}, "--set", "galley.enabled=false")) == set()


def test_validation_disabled_removes_only_the_webhook() -> None:
    docs = _render({}, "--set", "galley.validation.enabled=false")
    assert identities(docs) == GALLEY_OBJECTS - {("ValidatingWebhookConfiguration", "istio-galley")}
    config = _one(docs, "ConfigMap", "istio-galley-configuration")
    assert set(config["data"]) == {"accesslist.yaml"}
    container = _container(docs)
    assert "--enable-validation=false" in container["command"]
    assert not any("webhook" in arg for arg in container["command"])
    assert 9443 not in {p["containerPort"] for p in container["ports"]}
    service = _one(docs, "Service", "istio-galley")
    assert {p["name"]: p["port"] for p in service["spec"]["ports"]} == {
        "http-monitoring": 15014,
        "grpc-mcp": 9901,
    }
    role = _one(docs, "ClusterRole", "istio-galley-istio-system")
    assert role["rules"], "the istio-galley ClusterRole has no rules"
    assert all("admissionregistration.k8s.io" not in r["apiGroups"] for r in role["rules"])


def test_service_ports_and_deployment_wiring() -> None:
    docs = _render()
    service = _one(docs, "Service", "istio-galley")
    assert {(p["name"], p["port"], p["targetPort"]) for p in service["spec"]["ports"]} == {
        ("https-validation", 443, 9443),
        ("http-monitoring", 15014, 15014),
        ("grpc-mcp", 9901, 9901),
    }
    container = _container(docs)
    command = container["command"]
    assert command[:2] == ["/usr/local/bin/galley", "server"]
    file_flag = command.index("--validation-webhook-config-file")
    assert command[file_flag + 1] == "/etc/config/validatingwebhookconfiguration.yaml"
    assert {"--validation-port=9443", "--webhook-name=istio-galley", "--insecure=true"} <= set(
        command
    )
    assert {p["containerPort"] for p in container["ports"]} == {9443, 15014, 9901}
    pod = _one(docs, "Deployment", "istio-galley")["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == "istio-galley-service-account"
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes["config"]["configMap"]["name"] == "istio-galley-configuration"
    assert volumes["certs"]["secret"]["secretName"] == "istio.istio-galley-service-account"
    secure = _container(_render({"global": {"controlPlaneSecurityEnabled": True}}))
    assert "--insecure=false" in secure["command"]


def test_pod_settings_image_replicas_node_selector_priority_class() -> None:
    values = {
        "galley": {
            "image": "example.com/mesh/galley:1.1.0",
            "replicaCount": 3,
            "nodeSelector": {"pool": "mesh"},
            "podAnnotations": {"team": "mesh"},
        },
        "global": {"priorityClassName": "mesh-critical"},
    }
    deployment = _one(_render(values), "Deployment", "istio-galley")
    assert deployment["spec"]["replicas"] == 3
    template = deployment["spec"]["template"]
    assert template["metadata"]["annotations"]["team"] == "mesh"
    pod = template["spec"]
    assert pod["containers"][0]["image"] == "example.com/mesh/galley:1.1.0"
    assert (pod["nodeSelector"], pod["priorityClassName"]) == ({"pool": "mesh"}, "mesh-critical")
    fallback = {"global": {"defaultNodeSelector": {"kubernetes.io/arch": "amd64"}}}
    pod = _one(_render(fallback), "Deployment", "istio-galley")["spec"]["template"]["spec"]
    assert pod["nodeSelector"] == {"kubernetes.io/arch": "amd64"}
    assert "priorityClassName" not in pod


def test_default_resources_apply_when_galley_sets_none() -> None:
    values = {"global": {"defaultResources": {"requests": {"cpu": "20m"}}}}
    container = _container(_render(values, "--set", "galley.resources=null"))
    assert container["resources"] == {"requests": {"cpu": "20m"}}


UPSTREAM_KEYS: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    # key: (values enabling it, values changing it)
    "galley.enabled": ({}, {"galley": {"enabled": False}}),
    "galley.image": ({}, {"galley": {"image": "example.com/mesh/galley:1.1.0"}}),
    "galley.replicaCount": ({}, {"galley": {"replicaCount": 2}}),
    "galley.nodeSelector": ({}, {"galley": {"nodeSelector": {"pool": "mesh"}}}),
    "global.priorityClassName": ({}, {"global": {"priorityClassName": "mesh-critical"}}),
}


@pytest.mark.parametrize("key", sorted(UPSTREAM_KEYS))
def test_each_upstream_key_changes_the_render(key: str) -> None:
    base, changed = UPSTREAM_KEYS[key]
    assert _render(changed) != _render(base)


@pytest.mark.parametrize("key", sorted(UPSTREAM_KEYS))
def test_python_renderer_matches_helm(key: str) -> None:
    values = UPSTREAM_KEYS[key][1]
    ours = render_objects(_tree(json.dumps(values, sort_keys=True)), release="istio", namespace=NS)
    order = lambda d: (d["kind"], d["metadata"]["name"])  # noqa: E731
    assert sorted(ours, key=order) == sorted(_render(values), key=order)


def test_pod_disruption_budget_only_when_replicated() -> None:
    assert "PodDisruptionBudget" not in {d["kind"] for d in _render()}
    docs = _render({}, "--set", "galley.replicaCount=2")
    pdb = _one(docs, "PodDisruptionBudget", "istio-galley")
    assert pdb["apiVersion"] == "policy/v1"
    assert pdb["spec"] == {
        "minAvailable": 1,
        "selector": {"matchLabels": {"app": "galley", "istio": "galley"}},
    }
    off = ("--set", "global.defaultPodDisruptionBudget.enabled=false")
    assert "PodDisruptionBudget" not in {
        d["kind"] for d in _render({}, "--set", "galley.replicaCount=2", *off)
    }


def _rules(webhook: dict[str, Any]) -> dict[str, tuple[str, set[str]]]:
    result = {}
    for rule in webhook["rules"]:
        assert rule["operations"] == ["CREATE", "UPDATE"]
        (group,) = rule["apiGroups"]
        (version,) = rule["apiVersions"]
        result[group] = (version, set(rule["resources"]))
    return result


def _check_webhooks(webhooks: list[dict[str, Any]], failure_policy: str, ca: str | None) -> None:
    assert [w["name"] for w in webhooks] == [
        "pilot.validation.istio.io",
        "mixer.validation.istio.io",
    ]
    for webhook, path in zip(webhooks, ("/admitpilot", "/admitmixer"), strict=True):
        client: dict[str, Any] = {
            "service": {"name": "istio-galley", "namespace": NS, "path": path, "port": 443}
        }
        if ca is not None:
            client["caBundle"] = ca
        assert webhook["clientConfig"] == client
        assert webhook["failurePolicy"] == failure_policy
        assert webhook["sideEffects"] == "None"
        assert webhook["admissionReviewVersions"] == ["v1beta1", "v1"]
    assert _rules(webhooks[0]) == PILOT_RULES
    assert _rules(webhooks[1]) == {"config.istio.io": ("v1alpha2", MIXER_KINDS)}


def test_webhook_rules_and_fail_open_without_a_ca_bundle() -> None:
    for args in ((), ("--is-upgrade",)):
        webhook = _one(_render({}, *args), "ValidatingWebhookConfiguration", "istio-galley")
        assert webhook["apiVersion"] == "admissionregistration.k8s.io/v1"
        _check_webhooks(webhook["webhooks"], "Ignore", None)


def test_ca_bundle_enforces_validation_from_the_first_upgrade() -> None:
    values = {"galley": {"validation": {"caBundle": CA}}}
    encoded = base64.b64encode(CA.encode()).decode()
    install = _one(_render(values), "ValidatingWebhookConfiguration", "istio-galley")
    _check_webhooks(install["webhooks"], "Ignore", encoded)
    upgrade = _one(
        _render(values, "--is-upgrade"), "ValidatingWebhookConfiguration", "istio-galley"
    )
    _check_webhooks(upgrade["webhooks"], "Fail", encoded)


def test_galley_configmap_holds_the_same_webhooks_enforced() -> None:
    config = _one(_render(), "ConfigMap", "istio-galley-configuration")
    webhook = yaml.safe_load(config["data"]["validatingwebhookconfiguration.yaml"])
    assert webhook["kind"] == "ValidatingWebhookConfiguration"
    assert webhook["metadata"]["name"] == "istio-galley"
    _check_webhooks(webhook["webhooks"], "Fail", None)
    access = yaml.safe_load(config["data"]["accesslist.yaml"])
    assert access == {
        "allowed": [
            f"spiffe://cluster.local/ns/{NS}/sa/istio-mixer-service-account",
            f"spiffe://cluster.local/ns/{NS}/sa/istio-pilot-service-account",
        ]
    }


def test_webhook_resources_are_istio_crds() -> None:
    plurals = {(c.group, c.plural) for c in CRDS}
    webhook = _one(_render(), "ValidatingWebhookConfiguration", "istio-galley")
    assert webhook["webhooks"], "the istio-galley ValidatingWebhookConfiguration has no webhooks"
    for hook in webhook["webhooks"]:
        assert hook["rules"], f"webhook {hook['name']} has no rules"
        for rule in hook["rules"]:
            for resource in rule["resources"]:
                assert (rule["apiGroups"][0], resource) in plurals


def test_cluster_role_is_least_privilege() -> None:
    role = _one(_render(), "ClusterRole", "istio-galley-istio-system")
    rules = role["rules"]
    for rule in rules:
        for key in ("apiGroups", "resources", "verbs"):
            assert "*" not in rule[key], rule
    writes = [r for r in rules if set(r["verbs"]) - {"get", "list", "watch"}]
    assert writes == [
        {
            "apiGroups": ["admissionregistration.k8s.io"],
            "resources": ["validatingwebhookconfigurations"],
            "resourceNames": ["istio-galley"],
            "verbs": ["get", "list", "watch", "update"],
        },
        {
            "apiGroups": ["apps"],
            "resources": ["deployments/finalizers"],
            "resourceNames": ["istio-galley"],
            "verbs": ["update"],
        },
    ]
    # Read access to exactly the Istio kinds the MCP server publishes.
    istio = {
        (group, resource)
        for r in rules
        for group in r["apiGroups"]
        if group.endswith("istio.io")
        for resource in r["resources"]
    }
    assert istio == {(c.group, c.plural) for c in CRDS if not c.certmanager}
    binding = _one(_render(), "ClusterRoleBinding", "istio-galley-admin-role-binding-istio-system")
    assert binding["roleRef"]["name"] == "istio-galley-istio-system"
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "istio-galley-service-account", "namespace": NS}
    ]


@pytest.mark.parametrize("kube", ["1.25", "1.37"])
def test_rendered_objects_validate_against_kubernetes(kube: str) -> None:
    for values in ({}, {"galley": {"replicaCount": 2, "validation": {"caBundle": CA}}}):
        docs = _render(values)
        assert docs, f"nothing rendered with {values}"
        assert validate_k8s(docs, kube, strict=True, allow_custom=MESH_CUSTOM_GROUPS) == []


def test_renders_no_custom_resources() -> None:
    assert not [d for d in _render() if d["apiVersion"].split("/")[0].endswith("istio.io")]


@pytest.mark.parametrize("helm", HELMS)
def test_lint_strict_and_template_pass(tmp_path: Path, helm: str) -> None:
    chart = _write(_tree("{}"), tmp_path)
    lint = run_helm(helm_binaries()[helm], "lint", "--strict", str(chart), check=False)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    assert _render(helm=helm) == _render()


@pytest.mark.parametrize("helm", HELMS)
@pytest.mark.parametrize(
    ("setting", "key"),
    [
        ("galley.bogus=1", "bogus"),
        ("galley.validation.bogus=1", "bogus"),
        ("galley.validation.caBundle=not-a-certificate", "caBundle"),
        ("galley.replicaCount=-1", "replicaCount"),
    ],
)
def test_invalid_values_fail_helm_schema_validation(
    tmp_path: Path, helm: str, setting: str, key: str
) -> None:
    chart = _write(_tree("{}"), tmp_path)
    result = run_helm(
        helm_binaries()[helm], "template", "istio", str(chart), "--set", setting, check=False
    )
    assert result.returncode != 0
    assert "schema" in result.stderr.lower()
    assert key in result.stderr


def test_every_container_has_requests_and_limits() -> None:
    deployments = [d for d in _render() if d["kind"] == "Deployment"]
    assert deployments, "no Deployment rendered"
    for doc in deployments:
        containers = doc["spec"]["template"]["spec"]["containers"]
        assert containers, f"{doc['metadata']['name']} has no containers"
        for container in containers:
            assert container["resources"]["requests"] and container["resources"]["limits"]
