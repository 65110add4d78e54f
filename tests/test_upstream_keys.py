"""Every key of Istio 1.1's values files has an answer here, and no accepted key is ignored.

tests/data/upstream_1_1/keys.tsv lists every leaf key of the upstream 1.1.0 chart's values
files (the chart's, its sub-charts', the values-istio-*.yaml profiles). Each key is either
answered by meshcharts.catalog.upstream (translated to another key, or refused with the
reason and the replacement) or accepted by the schema of the chart that holds it, with
every component compiled in. An accepted key must be read: changing its value changes
what the chart renders (with the feature it belongs to switched on).
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers import assert_one_line_error, run_meshcharts

from meshcharts import ChartTree, Layer, assemble_chart, merge_layers
from meshcharts.catalog.charts import builtin_catalog
from meshcharts.catalog.component import ChartDef
from meshcharts.catalog.upstream import (
    UPSTREAM_1_1,
    Renamed,
    Unsupported,
    pattern_path,
    upstream_answer,
)
from meshcharts.chart.schema import schema_node
from meshcharts.chart.valuesfile import chart_schema
from meshcharts.checks.render import RenderError, render_objects
from meshcharts.values.keypaths import get_path, leaf_paths

DATA = Path(__file__).resolve().parent / "data" / "upstream_1_1"


def _upstream_keys() -> list[tuple[str, ...]]:
    keys = []
    for line in (DATA / "keys.tsv").read_text().splitlines():
        if line and not line.startswith("#"):
            keys.append(tuple(line.split("\t")[0].split(" ")))
    return keys


UPSTREAM_KEYS = _upstream_keys()


def _node(schema: Mapping[str, Any], path: tuple[str, ...]) -> Mapping[str, Any] | None:
    """The schema node of ``path``; None when the schema refuses the key."""
    node = schema_node(schema, path)
    return None if node is None or "not" in node else node


def _full_chart(name: str) -> ChartDef:
    return builtin_catalog().charts[name]


def _accepted(path: tuple[str, ...]) -> str | None:
    """The chart whose full schema takes ``path`` (global: the istio chart's own keys).

    Upstream's keys are the istio chart's: it is asked first (istio-init lets the istio
    chart's cert-manager keys through, reading only ``certmanager.enabled``).
    """
    charts = builtin_catalog().charts
    for name in sorted(charts, key=lambda n: n != "istio"):
        chart = charts[name]
        if path[0] == "global" and len(path) > 1:
            known = chart_schema(chart, chart.components)["properties"]["global"]
            if path[1] not in known.get("properties", {}):
                continue
        if _node(chart_schema(chart, chart.components), path) is not None:
            return name
    return None


def _key_id(path: tuple[str, ...]) -> str:
    return ".".join(path)


@pytest.mark.parametrize("path", UPSTREAM_KEYS, ids=_key_id)
def test_every_upstream_key_has_an_answer(path: tuple[str, ...]) -> None:
    answered = upstream_answer(path)
    accepted = _accepted(path)
    assert answered or accepted, f"{_key_id(path)}: neither accepted nor answered"
    assert not (answered and accepted), f"{_key_id(path)}: accepted and also refused"


def test_the_key_list_is_the_upstream_one() -> None:
    # Spot facts of the 1.1.0 files, so that a truncated list cannot pass.
    keys = {_key_id(p) for p in UPSTREAM_KEYS}
    assert len(keys) == len(UPSTREAM_KEYS) > 300
    assert {
        "global.mtls.enabled",
        "global.proxy.envoyStatsd.host",
        "istiocoredns.coreDNSImage",
    } <= keys
    assert "gateways.istio-ilbgateway.serviceAnnotations.cloud.google.com/load-balancer-type" in {
        ".".join(p) for p in UPSTREAM_KEYS
    }


# --- accepted keys are read ------------------------------------------------------------------

# Values that switch on what a key belongs to, by key prefix (the longest prefix wins; the
# "enabled" keys above a key are switched on without being listed).
CONTEXTS: dict[str, dict[str, Any]] = {
    "mixer.policy.replicaCount": {"mixer.policy.autoscaleEnabled": False},
    "mixer.telemetry.replicaCount": {"mixer.telemetry.autoscaleEnabled": False},
    "tracing.zipkin": {"tracing.provider": "zipkin"},
    "tracing.jaeger": {"tracing.provider": "jaeger"},
    "grafana.accessMode": {"grafana.persist": True},
    "grafana.storageClassName": {"grafana.persist": True},
    "grafana.contextPath": {"grafana.ingress.enabled": True},
    "prometheus.contextPath": {"prometheus.ingress.enabled": True},
    "global.sds": {"global.sds.useNormalJwt": True, "nodeagent.enabled": True},
    # Read where a component sets no resources of its own (upstream: Galley, Mixer policy).
    "global.defaultResources": {"pilot.resources": None},
    "gateways.istio-ingressgateway.meshExpansionPorts": {"global.meshExpansion.enabled": True},
    # A budget needs more than one pod to keep during a drain.
    "global.defaultPodDisruptionBudget": {"pilot.autoscaleMin": 2},
    # Istio 1.1 features: refused on a 1.0 tag.
    "gateways.istio-ingressgateway.sds": {"global.tag": "1.1.0"},
    "global.multiCluster": {"global.tag": "1.1.0"},
    "global.proxy.envoyStatsd": {"global.proxy.envoyStatsd.host": "statsd.istio-system"},
    "global.proxy.envoyMetricsService": {
        "global.proxy.envoyMetricsService.host": "metrics.istio-system"
    },
    "global.tracer.lightstep": {
        "global.proxy.tracer": "lightstep",
        "global.tracer.lightstep.address": "lightstep-satellite:443",
    },
}


def _set(tree: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    for key in path[:-1]:
        tree = tree.setdefault(key, {})
    tree[path[-1]] = value


def _get(tree: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    try:
        return get_path(tree, path)
    except KeyError:
        return None


def _context(defaults: Mapping[str, Any], path: tuple[str, ...]) -> dict[str, Any]:
    """Values over the chart's defaults that make ``path`` matter."""
    values: dict[str, Any] = {}
    for depth in range(1, len(path)):
        above = path[:depth]
        if isinstance(_get(defaults, (*above, "enabled")), bool):
            _set(values, (*above, "enabled"), True)
    key = _key_id(path)
    for prefix in sorted(CONTEXTS, key=len):
        if key == prefix or key.startswith(prefix + "."):
            for dotted, value in CONTEXTS[prefix].items():
                _set(values, tuple(dotted.split(".")), value)
    return values


def _mutated(value: Any) -> Any:
    if isinstance(value, bool):
        return not value
    if isinstance(value, int | float):
        return value + 7
    if isinstance(value, str):
        return f"{value}x" if value else "probe"
    if isinstance(value, list):
        return [] if value else ["probe"]
    if isinstance(value, Mapping) and value:
        first = sorted(value)[0]
        return {**value, first: _mutated(value[first])}
    if isinstance(value, Mapping):
        return {"probe": "x"}
    return "probe"


@functools.cache
def _tree(name: str) -> ChartTree:
    chart = _full_chart(name)
    components = chart.components
    defaults = chart.defaults(components)
    resolved = merge_layers([Layer("chart defaults", defaults)])
    chart = dataclasses.replace(chart, components=components)
    return assemble_chart(
        chart, components, resolved, profile="test", version="1.0.6", app_version="1.0.6"
    )


@functools.cache
def _render(name: str, values_json: str) -> str:
    try:
        docs = render_objects(
            _tree(name), release="istio", namespace="istio-system", values=json.loads(values_json)
        )
    except RenderError as exc:
        return f"error: {exc}"
    return json.dumps(docs, sort_keys=True)


READ_KEYS = [p for p in UPSTREAM_KEYS if upstream_answer(p) is None and _accepted(p)]


@pytest.mark.parametrize("path", READ_KEYS, ids=_key_id)
def test_an_accepted_key_changes_what_renders(path: tuple[str, ...]) -> None:
    name = _accepted(path)
    assert name is not None
    chart = _full_chart(name)
    defaults = chart.defaults(chart.components)
    base = copy.deepcopy(defaults)
    context = _context(defaults, path)
    for leaf_path in leaf_paths(context):
        _set(base, leaf_path, get_path(context, leaf_path))
    changed = copy.deepcopy(base)
    _set(changed, path, _mutated(_get(base, path)))
    before = _render(name, json.dumps(base, sort_keys=True))
    after = _render(name, json.dumps(changed, sort_keys=True))
    assert not before.startswith("error:"), before
    assert after != before, f"{_key_id(path)} is accepted but changes nothing that renders"


# --- refused keys say what to write instead --------------------------------------------------


def _example(pattern: str) -> tuple[str, ...]:
    """An upstream key the pattern answers (the pattern itself when no file has one)."""
    for path in UPSTREAM_KEYS:
        found = upstream_answer(path)
        if found is not None and found[0] == pattern:
            return path
    return pattern_path(pattern)


@pytest.mark.parametrize("pattern", sorted(UPSTREAM_1_1))
def test_a_refused_key_names_its_replacement(pattern: str, tmp_path: Path) -> None:
    answer = UPSTREAM_1_1[pattern]
    path = _example(pattern)
    value: Any = "probe"
    if isinstance(answer, Renamed) and answer.values:
        value = next(iter(answer.values))
    values: dict[str, Any] = {}
    _set(values, path, value)
    env = tmp_path / "upstream.yaml"
    env.write_text(yaml.safe_dump({"name": "upstream", "profile": "demo", "values": values}))
    out = tmp_path / "v.yaml"
    code, _, stderr = run_meshcharts("values", "--env", str(env), "--out", str(out))
    expected = answer.target if isinstance(answer, Renamed) else answer.instead or answer.reason
    # The message names the key where the answer applies: the example or a map above it.
    named = next(path[:i] for i in range(1, len(path) + 1) if upstream_answer(path[:i]))
    assert_one_line_error(code, stderr, "upstream.yaml:", ".".join(named), expected)
    assert not out.exists()


def test_renamed_values_translate() -> None:
    mtls = UPSTREAM_1_1["global.mtls.enabled"]
    assert isinstance(mtls, Renamed)
    assert mtls.translate(True) == "strict" and mtls.translate(False) == "permissive"
    with pytest.raises(KeyError):
        mtls.translate(1)


def test_every_answer_is_worded() -> None:
    for pattern, answer in UPSTREAM_1_1.items():
        if isinstance(answer, Unsupported):
            assert answer.reason and not answer.reason.endswith("."), pattern
        else:
            assert answer.target and answer.note, pattern
