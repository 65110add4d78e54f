"""PodDisruptionBudgets only where a node drain can honour them (istio/istio#12602).

A budget of minAvailable 1 over a single pod allows no eviction: ``kubectl drain`` waits
forever. Each control-plane Deployment gets a budget only when it keeps more than one
pod: replicas above 1, or, when autoscaling, autoscaleMin above 1; and never without
``global.defaultPodDisruptionBudget.enabled``.
"""

from __future__ import annotations

import functools
import json
from typing import Any

import pytest
from harness import assemble_components, render_tree
from tools import validate_k8s

from meshcharts.catalog.istio import ISTIO_CHART
from meshcharts.checks.lint import drain_blockers
from meshcharts.checks.render import render_objects

NS = "istio-system"

# name of the budget -> (values that enable its component, path of its replica settings,
# whether it autoscales, its selector)
CASES: dict[str, tuple[dict[str, Any], tuple[str, ...], bool, dict[str, str]]] = {
    "istio-pilot": ({}, ("pilot",), True, {"app": "pilot", "istio": "pilot"}),
    "istio-policy": ({}, ("mixer", "policy"), True, {"app": "policy", "istio": "mixer", "istio-mixer-type": "policy"}),
    "istio-telemetry": ({}, ("mixer", "telemetry"), True, {"app": "telemetry", "istio": "mixer", "istio-mixer-type": "telemetry"}),
    "istio-ingressgateway": ({}, ("gateways", "istio-ingressgateway"), True, {"app": "istio-ingressgateway", "istio": "ingressgateway"}),
    "istio-galley": ({}, ("galley",), False, {"app": "galley", "istio": "galley"}),
    "istio-citadel": ({}, ("security",), False, {"app": "security", "istio": "citadel"}),
    "istio-sidecar-injector": ({}, ("sidecarInjectorWebhook",), False, {"app": "sidecarInjectorWebhook", "istio": "sidecar-injector"}),
    "certmanager": ({"certmanager": {"enabled": True}}, ("certmanager",), False, {"app": "certmanager"}),
    "istiocoredns": ({"istiocoredns": {"enabled": True}}, ("istiocoredns",), False, {"app": "istiocoredns"}),
}  # fmt: skip


def _nested(path: tuple[str, ...], leaf: dict[str, Any]) -> dict[str, Any]:
    tree: dict[str, Any] = leaf
    for key in reversed(path):
        tree = {key: tree}
    return tree


def _merged(*trees: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for tree in trees:
        for key, value in tree.items():
            if isinstance(value, dict) and isinstance(result.get(key), dict):
                result[key] = _merged(result[key], value)
            else:
                result[key] = value
    return result


@functools.cache
def _render(values_json: str) -> list[dict[str, Any]]:
    tree = assemble_components(ISTIO_CHART.components, json.loads(values_json))
    return render_objects(tree, release="istio", namespace=NS)


def render(values: dict[str, Any]) -> list[dict[str, Any]]:
    return _render(json.dumps(values, sort_keys=True))


def budgets(docs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == "PodDisruptionBudget"}


def test_the_defaults_render_no_budget() -> None:
    everything = _merged(*(enable for enable, *_ in CASES.values()))
    assert budgets(render(everything)) == {}


def _settings(autoscales: bool, pods: int, *, autoscale: bool) -> dict[str, Any]:
    if autoscale:
        return {"autoscaleEnabled": True, "autoscaleMin": pods, "autoscaleMax": max(pods, 5)}
    settings: dict[str, Any] = {"replicaCount": pods}
    if autoscales:
        settings["autoscaleEnabled"] = False
    return settings


@pytest.mark.parametrize("pods", [0, 1, 2, 3])
@pytest.mark.parametrize("name", sorted(CASES))
def test_a_budget_only_from_two_pods(name: str, pods: int) -> None:
    enable, path, autoscales, selector = CASES[name]
    for autoscale in (False, True) if autoscales else (False,):
        if autoscale and pods == 0:
            continue  # the schema asks autoscaleMin >= 1
        values = _merged(enable, _nested(path, _settings(autoscales, pods, autoscale=autoscale)))
        docs = render(values)
        found = budgets(docs)
        assert (name in found) == (pods > 1), (name, pods, autoscale, sorted(found))
        if name in found:
            assert found[name]["apiVersion"] == "policy/v1"
            assert found[name]["spec"] == {"minAvailable": 1, "selector": {"matchLabels": selector}}
            assert found[name]["metadata"]["namespace"] == NS
        # Whatever renders, no budget blocks a drain.
        assert list(drain_blockers(docs, namespace=NS)) == []
        off = _merged(values, {"global": {"defaultPodDisruptionBudget": {"enabled": False}}})
        assert budgets(render(off)) == {}


def test_budgets_select_their_deployment_and_validate() -> None:
    values = _merged(
        *(
            _merged(enable, _nested(path, _settings(autoscales, 2, autoscale=autoscales)))
            for enable, path, autoscales, _ in CASES.values()
        )
    )
    docs = render(values)
    found = budgets(docs)
    assert set(found) == set(CASES)
    deployments = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Deployment"}
    for name, budget in found.items():
        labels = deployments[name]["spec"]["template"]["metadata"]["labels"]
        selector = budget["spec"]["selector"]["matchLabels"]
        assert selector.items() <= labels.items()
        assert selector == deployments[name]["spec"]["selector"]["matchLabels"]
    assert validate_k8s(list(found.values()), "1.25", strict=True) == []
    # Helm renders the same budgets as the pure-Python renderer.
    helm = budgets(render_tree(assemble_components(ISTIO_CHART.components, values)))
    assert helm == found


def test_a_canary_budget_is_named_and_selects_apart() -> None:
    docs = render({"revision": "canary", "pilot": {"autoscaleMin": 2}})
    (budget,) = budgets(docs).values()
    assert budget["metadata"]["name"] == "istio-pilot-canary"
    assert budget["spec"]["selector"]["matchLabels"] == {
        "app": "pilot",
        "istio": "pilot",
        "istio.io/rev": "canary",
    }
