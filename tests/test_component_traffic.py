"""The trafficPolicies component: VirtualService + DestinationRule pairs from a values list."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from harness import assemble_components, identities, render_tree
from harness import one as _one
from harness import write_tree as _write
from tools import HELM3, HELM4, MESH_CUSTOM_GROUPS, helm_binaries, run_helm, validate_k8s

from meshcharts import ChartTree, Component
from meshcharts.catalog.crds import CRDS
from meshcharts.catalog.security import SECURITY
from meshcharts.catalog.traffic import TRAFFIC_POLICIES

Docs = list[dict[str, Any]]
HELMS = (HELM3, HELM4)
NS = "istio-system"

REVIEWS: dict[str, Any] = {
    "name": "reviews",
    "host": "reviews",
    "namespace": "bookinfo",
    "subsets": [
        {"name": "v1", "labels": {"version": "v1"}, "weight": 90},
        {"name": "v2", "labels": {"version": "v2", "track": "canary"}, "weight": 10},
        {"name": "v3", "labels": {"version": "v3"}},
    ],
    "mirror": {"subset": "v3"},
    "fault": {"delay": {"fixedDelay": "5s", "percent": 10}, "abort": {"httpStatus": 503}},
    "retries": {"attempts": 3, "perTryTimeout": "2s", "retryOn": "5xx,connect-failure"},
    "timeout": "10.5s",
    "trafficPolicy": {
        "loadBalancer": {"simple": "LEAST_CONN"},
        "connectionPool": {
            "tcp": {"maxConnections": 1000000, "connectTimeout": "30ms"},
            "http": {"http1MaxPendingRequests": 10, "maxRetries": 3},
        },
    },
}
RATINGS: dict[str, Any] = {
    "name": "ratings",
    "host": "ratings.default.svc.cluster.local",
    "gateways": ["mesh", "istio-system/bookinfo-gateway"],
    "subsets": [{"name": "v1", "labels": {"version": "v1", "ready": "true"}}],
}
ENTRIES = {"trafficPolicies": [REVIEWS, RATINGS]}
PAIRS = {
    ("VirtualService", "reviews"),
    ("DestinationRule", "reviews"),
    ("VirtualService", "ratings"),
    ("DestinationRule", "ratings"),
}


@functools.cache
def _tree(values_json: str, with_security: bool = False) -> ChartTree:
    components: tuple[Component, ...] = (TRAFFIC_POLICIES,)
    if with_security:
        components = (SECURITY, TRAFFIC_POLICIES)
    return assemble_components(components, json.loads(values_json))


@functools.cache
def _cached(values_json: str, with_security: bool, args: tuple[str, ...], helm: str) -> Docs:
    return render_tree(_tree(values_json, with_security), *args, helm=helm_binaries()[helm])


def _render(
    values: dict[str, Any] | None = None,
    *args: str,
    helm: str = HELM4,
    with_security: bool = False,
) -> Docs:
    return _cached(json.dumps(values or {}, sort_keys=True), with_security, args, helm)


def _helm_template(tmp_path: Path, helm: str, values: Any) -> Any:
    """``helm template`` of the default chart with ``values`` in a values file."""
    chart = _write(_tree("{}"), tmp_path)
    values_file = tmp_path / "values.yaml"
    values_file.write_text(values if isinstance(values, str) else yaml.safe_dump(values))
    binary = helm_binaries()[helm]
    args = ("template", "istio", str(chart), "-n", NS, "-f", str(values_file))
    return run_helm(binary, *args, check=False)


def test_empty_list_renders_nothing_and_entries_render_their_pairs() -> None:
    assert _render() == []
    assert identities(_render(ENTRIES)) == PAIRS
    assert identities(_render({"trafficPolicies": [RATINGS]})) == {
        ("VirtualService", "ratings"),
        ("DestinationRule", "ratings"),
    }


@pytest.mark.parametrize("helm", HELMS)
def test_entries_from_a_values_file_render_the_same(tmp_path: Path, helm: str) -> None:
    result = _helm_template(tmp_path, helm, ENTRIES)
    assert result.returncode == 0, result.stderr
    docs = [d for d in yaml.safe_load_all(result.stdout) if d]
    assert docs == _render(ENTRIES)


def test_virtual_service_routes_by_weight_with_mirror_fault_retries_timeout() -> None:
    service = _one(_render(ENTRIES), "VirtualService", "reviews")
    assert service["apiVersion"] == "networking.istio.io/v1alpha3"
    assert service["metadata"]["namespace"] == "bookinfo"
    assert service["spec"] == {
        "hosts": ["reviews"],
        "http": [
            {
                "route": [
                    {"destination": {"host": "reviews", "subset": "v1"}, "weight": 90},
                    {"destination": {"host": "reviews", "subset": "v2"}, "weight": 10},
                ],
                "mirror": {"host": "reviews", "subset": "v3"},
                "fault": {
                    "delay": {"percent": 10, "fixedDelay": "5s"},
                    "abort": {"percent": 100, "httpStatus": 503},
                },
                "retries": {"attempts": 3, "perTryTimeout": "2s", "retryOn": "5xx,connect-failure"},
                "timeout": "10.5s",
            }
        ],
    }


def test_lone_subset_takes_all_traffic_and_gateways_are_kept() -> None:
    service = _one(_render(ENTRIES), "VirtualService", "ratings")
    assert service["metadata"]["namespace"] == NS
    assert service["spec"] == {
        "hosts": ["ratings.default.svc.cluster.local"],
        "gateways": ["mesh", "istio-system/bookinfo-gateway"],
        "http": [
            {
                "route": [
                    {
                        "destination": {
                            "host": "ratings.default.svc.cluster.local",
                            "subset": "v1",
                        },
                        "weight": 100,
                    }
                ]
            }
        ],
    }


def test_destination_rule_declares_subsets_and_traffic_policy() -> None:
    rule = _one(_render(ENTRIES), "DestinationRule", "reviews")
    assert rule["metadata"]["namespace"] == "bookinfo"
    assert rule["spec"] == {
        "host": "reviews",
        "trafficPolicy": REVIEWS["trafficPolicy"],
        "subsets": [{"name": s["name"], "labels": s["labels"]} for s in REVIEWS["subsets"]],
    }
    assert _one(_render(ENTRIES), "DestinationRule", "ratings")["spec"] == {
        "host": "ratings.default.svc.cluster.local",
        "subsets": [{"name": "v1", "labels": {"version": "v1", "ready": "true"}}],
    }


@pytest.mark.parametrize("mode", ["off", "permissive", "strict"])
def test_strict_mtls_keeps_istio_mutual_on_the_host_rule(mode: str) -> None:
    values = {**ENTRIES, "global": {"mtls": {"mode": mode}}}
    docs = _render(values, with_security=True)
    for name in ("reviews", "ratings"):
        policy = _one(docs, "DestinationRule", name)["spec"].get("trafficPolicy", {})
        assert ("tls" in policy) == (mode == "strict")
        if mode == "strict":
            assert policy["tls"] == {"mode": "ISTIO_MUTUAL"}
    assert _one(docs, "DestinationRule", "reviews")["spec"]["trafficPolicy"]["loadBalancer"] == {
        "simple": "LEAST_CONN"
    }
    disabled = _render(values, "--set", "security.enabled=false", with_security=True)
    assert "trafficPolicy" not in _one(disabled, "DestinationRule", "ratings")["spec"]


def _crd_schemas() -> dict[tuple[str, str], dict[str, Any]]:
    return {(f"{c.group}/{c.version}", c.kind): dict(c.schema) for c in CRDS}


def test_custom_resources_validate_against_their_crds() -> None:
    schemas = _crd_schemas()
    docs = _render({**ENTRIES, "global": {"mtls": {"mode": "strict"}}}, with_security=True)
    custom = [d for d in docs if d["apiVersion"].startswith("networking.istio.io/")]
    assert len(custom) == 6
    for doc in custom:
        body = {k: v for k, v in doc.items() if k not in ("apiVersion", "kind", "metadata")}
        jsonschema.validate(body, schemas[(doc["apiVersion"], doc["kind"])])


@pytest.mark.parametrize("kube", ["1.25", "1.37"])
def test_rendered_objects_validate_against_kubernetes(kube: str) -> None:
    docs = _render(ENTRIES)
    assert docs, "nothing rendered"
    assert validate_k8s(docs, kube, strict=True, allow_custom=MESH_CUSTOM_GROUPS) == []


@pytest.mark.parametrize("helm", HELMS)
@pytest.mark.parametrize("values", [{}, ENTRIES], ids=["empty", "entries"])
def test_lint_strict_and_template_pass(tmp_path: Path, helm: str, values: dict[str, Any]) -> None:
    chart = _write(_tree(json.dumps(values, sort_keys=True)), tmp_path)
    lint = run_helm(helm_binaries()[helm], "lint", "--strict", str(chart), check=False)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    assert _render(values, helm=helm) == _render(values)


def _entry(**changes: Any) -> dict[str, Any]:
    return {"trafficPolicies": [{**REVIEWS, **changes}]}


def _subsets(*weights: int) -> list[dict[str, Any]]:
    return [
        {"name": f"v{i}", "labels": {"version": f"v{i}"}, "weight": w}
        for i, w in enumerate(weights, 1)
    ]


@pytest.mark.parametrize("helm", HELMS)
@pytest.mark.parametrize(
    ("values", "message"),
    [
        (
            _entry(subsets=_subsets(50, 40), mirror={"subset": "v1"}),
            "trafficPolicies[0] (reviews): the subset weights add up to 90; "
            "they must add up to 100",
        ),
        (
            _entry(subsets=_subsets(60, 60), mirror={"subset": "v1"}),
            "the subset weights add up to 120; they must add up to 100",
        ),
        (
            _entry(
                subsets=[{"name": "a", "labels": {"x": "1"}}, {"name": "b", "labels": {"x": "2"}}]
            ),
            "the subset weights add up to 0",
        ),
        (
            _entry(mirror={"subset": "v9"}),
            "trafficPolicies[0] (reviews): mirror.subset v9 is not one of its subsets",
        ),
        (
            _entry(subsets=[*_subsets(100), *_subsets(0)], mirror={"subset": "v1"}),
            "trafficPolicies[0] (reviews): two subsets are named v1",
        ),
        (
            {"trafficPolicies": [REVIEWS, REVIEWS]},
            "trafficPolicies[1]: another entry is already named bookinfo/reviews",
        ),
    ],
)
def test_inconsistent_entries_fail_helm_template_with_a_message(
    tmp_path: Path, helm: str, values: dict[str, Any], message: str
) -> None:
    result = _helm_template(tmp_path, helm, values)
    assert result.returncode != 0
    assert message in result.stderr


@pytest.mark.parametrize("helm", HELMS)
@pytest.mark.parametrize(
    ("values", "key"),
    [
        (_entry(timeout="10 s"), "timeout"),
        (_entry(timeout="10sec"), "timeout"),
        (_entry(retries={"attempts": 2, "perTryTimeout": "1d"}), "perTryTimeout"),
        (_entry(fault={"delay": {"fixedDelay": "5"}}), "fixedDelay"),
        (_entry(fault={"abort": {"httpStatus": 600}}), "httpStatus"),
        (_entry(fault={"abort": {"httpStatus": 503, "percent": 101}}), "percent"),
        (_entry(subsets=_subsets(101)), "weight"),
        (_entry(mirror={"subset": "v3", "percent": 50}), "percent"),
        (_entry(bogus=1), "bogus"),
        (_entry(trafficPolicy={"loadBalancer": {"simple": "FASTEST"}}), "simple"),
        ({"trafficPolicies": [{"name": "r", "subsets": _subsets(100)}]}, "host"),
        ({"trafficPolicies": {"name": "r"}}, "trafficPolicies"),
        # Helm replaces lists: a lone --set-style entry lacks the required keys.
        ({"trafficPolicies": [{"timeout": "5s"}]}, "name"),
    ],
)
def test_invalid_entries_fail_helm_schema_validation(
    tmp_path: Path, helm: str, values: dict[str, Any], key: str
) -> None:
    result = _helm_template(tmp_path, helm, values)
    assert result.returncode != 0
    assert "schema" in result.stderr.lower()
    assert key in result.stderr


@pytest.mark.parametrize("helm", HELMS)
def test_set_on_a_list_index_replaces_the_list(tmp_path: Path, helm: str) -> None:
    chart = _write(_tree(json.dumps(ENTRIES, sort_keys=True)), tmp_path)
    binary = helm_binaries()[helm]
    result = run_helm(
        binary,
        "template",
        "istio",
        str(chart),
        "--set",
        "trafficPolicies[0].timeout=5s",
        check=False,
    )
    assert result.returncode != 0
    assert "schema" in result.stderr.lower()


def test_component_has_no_enabled_switch_and_no_workloads() -> None:
    assert TRAFFIC_POLICIES.defaults == []
    assert not [d for d in _render(ENTRIES) if d["kind"] == "Deployment"]
