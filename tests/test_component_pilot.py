"""The pilot component: istio-pilot, its autoscaler, and the global keys Pilot reads."""

from __future__ import annotations

import functools
import json
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from harness import assemble_components, assert_lint_strict, identities, one, write_tree
from tools import HELM3, HELM4, helm_binaries, run_helm, split_manifest, validate_k8s

from meshcharts import ChartTree
from meshcharts.catalog.pilot import PILOT
from meshcharts.checks.render import render_objects

Docs = list[dict[str, Any]]
NS = "istio-system"


@functools.cache
def _tree() -> ChartTree:
    return assemble_components((PILOT,))


@functools.cache
def _chart() -> Path:
    scratch = Path(tempfile.mkdtemp(prefix="pilot-test-"))
    return write_tree(_tree(), scratch)


@functools.cache
def _helm(values_json: str, helm: str) -> Docs:
    # A values file (not the chart defaults): null removes a default, as for a user.
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as handle:
        yaml.safe_dump(json.loads(values_json), handle)
    args = ("template", "istio", str(_chart()), "--namespace", NS, "-f", handle.name)
    try:
        return split_manifest(run_helm(helm_binaries()[helm], *args).stdout)
    finally:
        Path(handle.name).unlink()


def render(values: dict[str, Any] | None = None, *, helm: str = HELM4) -> Docs:
    """``helm template`` of the pilot-only chart with ``values`` as a values file."""
    return _helm(json.dumps(values or {}, sort_keys=True), helm)


def _pod(docs: Docs) -> dict[str, Any]:
    spec: dict[str, Any] = one(docs, "Deployment", "istio-pilot")["spec"]["template"]["spec"]
    return spec


def _discovery(docs: Docs) -> dict[str, Any]:
    container: dict[str, Any] = _pod(docs)["containers"][0]
    assert container["name"] == "discovery"
    return container


def _env(container: dict[str, Any]) -> dict[str, str | None]:
    return {e["name"]: e.get("value") for e in container["env"]}


# --- every upstream key changes what renders --------------------------------------------------

NO_HPA = {"pilot": {"autoscaleEnabled": False}}

UPSTREAM_KEYS: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    # key: (values enabling it, values changing it)
    "pilot.enabled": ({}, {"pilot": {"enabled": False}}),
    "pilot.autoscaleEnabled": ({}, NO_HPA),
    "pilot.autoscaleMin": ({}, {"pilot": {"autoscaleMin": 2}}),
    "pilot.autoscaleMax": ({}, {"pilot": {"autoscaleMax": 9}}),
    "pilot.cpu.targetAverageUtilization": (
        {},
        {"pilot": {"cpu": {"targetAverageUtilization": 50}}},
    ),
    "pilot.replicaCount": (NO_HPA, {"pilot": {"autoscaleEnabled": False, "replicaCount": 3}}),
    "pilot.image": ({}, {"pilot": {"image": "example.com/mesh/pilot:1.1.0"}}),
    "pilot.sidecar": ({}, {"pilot": {"sidecar": False}}),
    "pilot.traceSampling": ({}, {"pilot": {"traceSampling": 100.0}}),
    "pilot.keepaliveMaxServerConnectionAge": (
        {},
        {"pilot": {"keepaliveMaxServerConnectionAge": "1h"}},
    ),
    "pilot.env.GODEBUG": ({}, {"pilot": {"env": {"GODEBUG": "gctrace=2"}}}),
    "pilot.env.PILOT_PUSH_THROTTLE": ({}, {"pilot": {"env": {"PILOT_PUSH_THROTTLE": "50"}}}),
    "pilot.nodeSelector": ({}, {"pilot": {"nodeSelector": {"pool": "mesh"}}}),
    "pilot.resources.requests.cpu": ({}, {"pilot": {"resources": {"requests": {"cpu": "1"}}}}),
    "pilot.resources.requests.memory": (
        {},
        {"pilot": {"resources": {"requests": {"memory": "1Gi"}}}},
    ),
    "global.oneNamespace": ({}, {"global": {"oneNamespace": True}}),
    "global.priorityClassName": ({}, {"global": {"priorityClassName": "mesh-critical"}}),
    "global.defaultResources.requests.cpu": (
        {"pilot": {"resources": None}},
        {"pilot": {"resources": None}, "global": {"defaultResources": {"requests": {"cpu": "1"}}}},
    ),
}


@pytest.mark.parametrize("key", sorted(UPSTREAM_KEYS))
def test_each_upstream_key_changes_the_render(key: str) -> None:
    base, changed = UPSTREAM_KEYS[key]
    assert render(changed) != render(base)


# --- the effects -------------------------------------------------------------------------------


def test_defaults_render_pilot_with_an_autoscaler() -> None:
    docs = render()
    assert {
        ("Deployment", "istio-pilot"),
        ("Service", "istio-pilot"),
        ("HorizontalPodAutoscaler", "istio-pilot"),
        ("ServiceAccount", "istio-pilot-service-account"),
        ("ConfigMap", "istio"),
    } <= identities(docs)
    assert "replicas" not in one(docs, "Deployment", "istio-pilot")["spec"]
    hpa = one(docs, "HorizontalPodAutoscaler", "istio-pilot")["spec"]
    assert (hpa["minReplicas"], hpa["maxReplicas"]) == (1, 5)
    assert hpa["metrics"][0]["resource"]["target"]["averageUtilization"] == 80
    assert render({"pilot": {"enabled": False}}) == []


def test_autoscaling_off_uses_replica_count() -> None:
    docs = render({"pilot": {"autoscaleEnabled": False, "replicaCount": 3}})
    assert one(docs, "Deployment", "istio-pilot")["spec"]["replicas"] == 3
    assert ("HorizontalPodAutoscaler", "istio-pilot") not in identities(docs)
    scaled = {
        "pilot": {"autoscaleMin": 2, "autoscaleMax": 7, "cpu": {"targetAverageUtilization": 60}}
    }
    hpa = one(render(scaled), "HorizontalPodAutoscaler", "istio-pilot")["spec"]
    assert (hpa["minReplicas"], hpa["maxReplicas"]) == (2, 7)
    assert hpa["metrics"][0]["resource"]["target"]["averageUtilization"] == 60


def test_discovery_arguments_and_environment() -> None:
    values = {
        "pilot": {
            "image": "example.com/mesh/pilot:1.1.0",
            "traceSampling": 100.0,
            "keepaliveMaxServerConnectionAge": "1h",
            "env": {"PILOT_PUSH_THROTTLE": "50", "EXTRA": "x"},
            "resources": {"requests": {"cpu": "1"}},
        }
    }
    discovery = _discovery(render(values))
    assert discovery["image"] == "example.com/mesh/pilot:1.1.0"
    args = discovery["args"]
    assert args[args.index("--keepaliveMaxServerConnectionAge") + 1] == "1h"
    env = _env(discovery)
    assert env["PILOT_TRACE_SAMPLING"] == "100"
    assert (env["PILOT_PUSH_THROTTLE"], env["GODEBUG"], env["EXTRA"]) == ("50", "gctrace=1", "x")
    assert discovery["resources"] == {
        "requests": {"cpu": "1", "memory": "2048Mi"},
        "limits": {"cpu": "2000m", "memory": "4096Mi"},
    }


def test_one_namespace_restricts_discovery_to_the_release_namespace() -> None:
    args = _discovery(render({"global": {"oneNamespace": True}}))["args"]
    assert args[args.index("-a") + 1] == NS
    assert "-a" not in _discovery(render())["args"]


def test_sidecar_off_serves_mtls_xds_from_discovery() -> None:
    pod = _pod(render({"pilot": {"sidecar": False}}))
    assert [c["name"] for c in pod["containers"]] == ["discovery"]
    args = pod["containers"][0]["args"]
    assert args[args.index("--secureGrpcAddr") + 1] == ":15011"
    assert [c["name"] for c in _pod(render())["containers"]] == ["discovery", "istio-proxy"]


def test_node_selector_priority_class_and_default_resources() -> None:
    pod = _pod(render({"pilot": {"nodeSelector": {"pool": "mesh"}}}))
    assert pod["nodeSelector"] == {"pool": "mesh"}
    fallback = {"global": {"defaultNodeSelector": {"kubernetes.io/arch": "amd64"}}}
    assert _pod(render(fallback))["nodeSelector"] == {"kubernetes.io/arch": "amd64"}
    pod = _pod(render({"global": {"priorityClassName": "mesh-critical"}}))
    assert pod["priorityClassName"] == "mesh-critical"
    assert "priorityClassName" not in _pod(render())
    # Without resources of its own, discovery gets global.defaultResources.
    values = {
        "pilot": {"resources": None},
        "global": {"defaultResources": {"requests": {"cpu": "1"}}},
    }
    assert _discovery(render(values))["resources"] == {"requests": {"cpu": "1"}}


# --- validity ----------------------------------------------------------------------------------

VARIANTS: dict[str, dict[str, Any]] = {
    "defaults": {},
    "one-namespace": {"global": {"oneNamespace": True, "priorityClassName": "mesh-critical"}},
    "no-sidecar-no-hpa": {"pilot": {"sidecar": False, "autoscaleEnabled": False}},
}


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_python_renderer_matches_helm(variant: str) -> None:
    tree = assemble_components((PILOT,), VARIANTS[variant])
    ours = render_objects(tree, release="istio", namespace=NS)
    key = lambda d: (d["kind"], d["metadata"]["name"])  # noqa: E731
    assert sorted(ours, key=key) == sorted(render(VARIANTS[variant]), key=key)


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_objects_validate_against_kubernetes(variant: str) -> None:
    docs = render(VARIANTS[variant])
    assert docs
    assert validate_k8s(docs, "1.37", strict=True) == []


@pytest.mark.parametrize("helm", [HELM3, HELM4])
def test_lint_strict_with_one_namespace(helm: str, tmp_path: Path) -> None:
    values = tmp_path / "values.yaml"
    values.write_text(yaml.safe_dump(VARIANTS["one-namespace"]))
    assert_lint_strict(helm_binaries()[helm], _chart(), "-f", str(values))


def test_schema_rejects_a_non_boolean_one_namespace() -> None:
    result = run_helm(
        helm_binaries()[HELM4],
        "template",
        "istio",
        str(_chart()),
        "--set",
        "global.oneNamespace=sometimes",
        check=False,
    )
    assert result.returncode != 0
    assert "oneNamespace" in result.stderr
