"""The istiocoredns component: CoreDNS with Istio's plugin, for the *.global hosts."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from harness import assemble_components, assert_lint_strict, identities, render_tree, write_tree
from harness import one as _one
from tools import HELM3, HELM4, helm_binaries, run_helm, validate_k8s

from meshcharts import ChartTree
from meshcharts.catalog.istio import ISTIO_CHART
from meshcharts.catalog.istiocoredns import ISTIOCOREDNS
from meshcharts.checks.render import render_objects
from meshcharts.values.keypaths import leaf_paths

Docs = list[dict[str, Any]]
NS = "istio-system"
ON: dict[str, Any] = {"istiocoredns": {"enabled": True}}
FULL: dict[str, Any] = {
    "global": {
        "priorityClassName": "system-cluster-critical",
        "imagePullSecrets": ["regcred"],
        "imagePullPolicy": "Always",
    },
    "istiocoredns": {
        "enabled": True,
        "replicaCount": 2,
        "coreDNSImage": "registry.example/coredns/coredns:1.2.6",
        "coreDNSPluginImage": "registry.example/istio/coredns-plugin:0.2-istio-1.1",
        "resources": {
            "requests": {"cpu": "20m", "memory": "48Mi"},
            "limits": {"cpu": "300m", "memory": "160Mi"},
        },
        "nodeSelector": {"kubernetes.io/os": "linux"},
        "tolerations": [{"key": "dns", "operator": "Exists"}],
        "podAnnotations": {"example.com/owner": "mesh"},
    },
}
OBJECTS = {
    ("ServiceAccount", "istiocoredns-service-account"),
    ("ClusterRole", f"istiocoredns-{NS}"),
    ("ClusterRoleBinding", f"istiocoredns-{NS}"),
    ("ConfigMap", "istiocoredns"),
    ("Deployment", "istiocoredns"),
    ("Service", "istiocoredns"),
}


@functools.cache
def _tree(values_json: str = "{}") -> ChartTree:
    return assemble_components((ISTIOCOREDNS,), json.loads(values_json))


def _render(values: dict[str, Any] | None = None, *args: str) -> Docs:
    return render_tree(_tree(json.dumps(values or {}, sort_keys=True)), *args)


def _pod(docs: Docs) -> dict[str, Any]:
    spec: dict[str, Any] = _one(docs, "Deployment", "istiocoredns")["spec"]["template"]["spec"]
    return spec


def test_every_value_is_documented_and_every_override_exists() -> None:
    leaves = {".".join(p) for p in leaf_paths(ISTIOCOREDNS.defaults)}
    assert leaves - set(ISTIOCOREDNS.docs) == set()
    nodes = {
        ".".join(p[:i]) for p in leaf_paths(ISTIOCOREDNS.defaults) for i in range(1, len(p) + 1)
    }
    assert set(ISTIOCOREDNS.schema) - nodes == set()
    assert ISTIOCOREDNS in ISTIO_CHART.components


def test_off_by_default_and_on_renders_its_objects() -> None:
    assert _render() == []
    assert identities(_render(ON)) == OBJECTS
    assert identities(_render(FULL)) == OBJECTS | {("PodDisruptionBudget", "istiocoredns")}


def test_corefile_sends_global_to_the_plugin_and_the_rest_to_the_node() -> None:
    docs = _render(ON)
    corefile = _one(docs, "ConfigMap", "istiocoredns")["data"]["Corefile"]
    assert corefile.startswith(".:1053 {")
    assert "proxy global 127.0.0.1:8053 {\n        protocol grpc insecure\n    }" in corefile
    assert "proxy . /etc/resolv.conf" in corefile
    pod = _pod(docs)
    assert pod["dnsPolicy"] == "Default"
    assert pod["volumes"][0]["configMap"]["name"] == "istiocoredns"
    plugin = pod["containers"][1]
    assert (plugin["name"], plugin["command"]) == (
        "istio-coredns-plugin",
        ["/usr/local/bin/plugin"],
    )
    assert plugin["ports"] == [{"name": "grpc-dns", "containerPort": 8053, "protocol": "TCP"}]
    # The Service answers on 53 and reaches CoreDNS's unprivileged port by name.
    service = _one(docs, "Service", "istiocoredns")["spec"]
    assert {(p["protocol"], p["port"], p["targetPort"]) for p in service["ports"]} == {
        ("UDP", 53, "dns"),
        ("TCP", 53, "dns-tcp"),
    }
    coredns = pod["containers"][0]
    assert {p["name"]: p["containerPort"] for p in coredns["ports"]} == {
        "dns": 1053,
        "dns-tcp": 1053,
        "http-metrics": 9153,
    }
    assert (
        service["selector"]
        == _one(docs, "Deployment", "istiocoredns")["spec"]["selector"]["matchLabels"]
        == {"app": "istiocoredns"}
    )


def test_values_reach_the_pods() -> None:
    docs = _render(FULL)
    deployment = _one(docs, "Deployment", "istiocoredns")
    assert deployment["spec"]["replicas"] == 2
    pod = _pod(docs)
    coredns, plugin = pod["containers"]
    assert coredns["image"] == "registry.example/coredns/coredns:1.2.6"
    assert plugin["image"] == "registry.example/istio/coredns-plugin:0.2-istio-1.1"
    for container in (coredns, plugin):
        assert container["resources"] == FULL["istiocoredns"]["resources"]
        assert container["imagePullPolicy"] == "Always"
    assert pod["nodeSelector"] == {"kubernetes.io/os": "linux"}
    assert pod["tolerations"] == [{"key": "dns", "operator": "Exists"}]
    assert pod["priorityClassName"] == "system-cluster-critical"
    annotations = deployment["spec"]["template"]["metadata"]["annotations"]
    assert annotations["example.com/owner"] == "mesh"
    assert annotations["sidecar.istio.io/inject"] == "false"
    account = _one(docs, "ServiceAccount", "istiocoredns-service-account")
    assert account["imagePullSecrets"] == [{"name": "regcred"}]
    default = _pod(_render(ON))
    assert [c["image"] for c in default["containers"]] == [
        "coredns/coredns:1.1.2",
        "istio/coredns-plugin:0.2-istio-1.1",
    ]
    defaults = _render({**ON, "global": {"defaultNodeSelector": {"pool": "system"}}})
    assert _pod(defaults)["nodeSelector"] == {"pool": "system"}


def test_budget_only_for_more_than_one_replica() -> None:
    for replicas, budget in ((1, False), (2, True), (3, True)):
        docs = _render({"istiocoredns": {"enabled": True, "replicaCount": replicas}})
        assert (("PodDisruptionBudget", "istiocoredns") in identities(docs)) is budget
    pdb = _one(_render(FULL), "PodDisruptionBudget", "istiocoredns")
    assert pdb["spec"] == {"minAvailable": 1, "selector": {"matchLabels": {"app": "istiocoredns"}}}
    off = {**FULL, "global": {"defaultPodDisruptionBudget": {"enabled": False}}}
    assert ("PodDisruptionBudget", "istiocoredns") not in identities(_render(off))


def test_rbac_reads_service_entries_only() -> None:
    docs = _render(ON)
    role = _one(docs, "ClusterRole", f"istiocoredns-{NS}")
    assert role["rules"] == [
        {
            "apiGroups": ["networking.istio.io"],
            "resources": ["serviceentries"],
            "verbs": ["get", "list", "watch"],
        }
    ]
    binding = _one(docs, "ClusterRoleBinding", f"istiocoredns-{NS}")
    assert binding["roleRef"]["name"] == f"istiocoredns-{NS}"
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "istiocoredns-service-account", "namespace": NS}
    ]


def test_containers_are_non_root_without_capabilities() -> None:
    pod = _pod(_render(ON))
    assert pod["securityContext"]["runAsNonRoot"] is True
    for container in pod["containers"]:
        context = container["securityContext"]
        assert context["runAsNonRoot"] is True
        assert context["allowPrivilegeEscalation"] is False
        assert context["readOnlyRootFilesystem"] is True
        assert context["capabilities"] == {"drop": ["ALL"]}
        assert set(container["resources"]) == {"requests", "limits"}
        assert all(p["containerPort"] > 1024 for p in container["ports"])


def test_a_canary_revision_names_every_object_apart() -> None:
    docs = _render(
        {**ON, "revision": "canary", "istiocoredns": {"enabled": True, "replicaCount": 2}}
    )
    expected = OBJECTS | {("PodDisruptionBudget", "istiocoredns")}
    assert identities(docs) == {(kind, f"{name}-canary") for kind, name in expected}
    assert all(doc["metadata"]["labels"]["istio.io/rev"] == "canary" for doc in docs)
    pod = _one(docs, "Deployment", "istiocoredns-canary")["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == "istiocoredns-service-account-canary"
    assert pod["volumes"][0]["configMap"]["name"] == "istiocoredns-canary"
    assert _one(docs, "Service", "istiocoredns-canary")["spec"]["selector"] == {
        "app": "istiocoredns",
        "istio.io/rev": "canary",
    }


@pytest.mark.parametrize("kube", ["1.25", "1.37"])
def test_rendered_objects_validate_against_kubernetes(kube: str) -> None:
    docs = _render(FULL)
    assert len(docs) == len(OBJECTS) + 1
    assert validate_k8s(docs, kube, strict=True) == []


@pytest.mark.parametrize("values", [ON, FULL], ids=["on", "full"])
def test_the_python_renderer_equals_helm(values: dict[str, Any]) -> None:
    tree = _tree(json.dumps(values, sort_keys=True))
    ours = render_objects(tree, release="istio", namespace=NS)
    key = lambda d: (d["kind"], d["metadata"]["name"])  # noqa: E731
    assert sorted(ours, key=key) == sorted(_render(values), key=key)


@pytest.mark.parametrize("helm", [HELM3, HELM4])
def test_lint_strict_and_template(tmp_path: Path, helm: str) -> None:
    chart = write_tree(_tree(), tmp_path)
    values = tmp_path / "full.yaml"
    values.write_text(yaml.safe_dump(FULL))
    binary = helm_binaries()[helm]
    for extra in ((), ("-f", str(values))):
        assert_lint_strict(binary, chart, *extra)
    rendered = run_helm(binary, "template", "istio", str(chart), "-n", NS, "-f", str(values))
    assert "kind: Deployment" in rendered.stdout


@pytest.mark.parametrize(
    "setting",
    [
        "istiocoredns.coreDNSImage=coredns",
        "istiocoredns.coreDNSImage=coredns/coredns:1.1.2{{x}}",
        "istiocoredns.coreDNSPluginImage=a b/c",
        "istiocoredns.replicaCount=-1",
        "istiocoredns.unknown=1",
    ],
)
def test_invalid_values_fail_helm_schema_validation(tmp_path: Path, setting: str) -> None:
    binary = helm_binaries()[HELM4]
    with_values = ("--set", "istiocoredns.enabled=true", "--set", setting)
    chart = write_tree(_tree(), tmp_path)
    result = run_helm(binary, "template", "istio", str(chart), *with_values, check=False)
    assert result.returncode != 0
    assert "schema" in (result.stderr + result.stdout).lower()
