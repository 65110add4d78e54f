"""Grafana's built-in Istio dashboards: one ConfigMap each, provisioned, real metrics only."""

from __future__ import annotations

import functools
import json
import re
from typing import Any

import pytest
import yaml
from harness import assemble_components, render_tree
from test_component_addons import find, pod_spec, render, scrape_jobs

from meshcharts.catalog.addons import GRAFANA, PROMETHEUS
from meshcharts.catalog.dashboards import (
    DASHBOARDS,
    SCRAPED_METRICS,
    Dashboard,
    build,
    dashboard_json,
)
from meshcharts.catalog.galley import GALLEY
from meshcharts.catalog.mixer import MIXER
from meshcharts.catalog.pilot import PILOT
from meshcharts.catalog.security import SECURITY
from meshcharts.checks.render import render_objects

PREFIX = "istio-grafana-dashboards-"
# Istio 1.1's charts/grafana/dashboards/*.json.
UPSTREAM = {
    "galley-dashboard",
    "istio-mesh-dashboard",
    "istio-performance-dashboard",
    "istio-service-dashboard",
    "istio-workload-dashboard",
    "mixer-dashboard",
    "pilot-dashboard",
}
GRAFANA_ON: dict[str, Any] = {"grafana": {"enabled": True}}


def configmap(name: str) -> str:
    """The ConfigMap of a dashboard (Istio 1.1's name is too long with a revision suffix)."""
    return PREFIX + name.removesuffix("-dashboard")


def dashboard_maps(docs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {
        d["metadata"]["name"]: d
        for d in docs
        if d["kind"] == "ConfigMap"
        and d["metadata"]["name"].startswith(PREFIX)
        and d["metadata"]["name"] != "istio-grafana-dashboards"
    }


# --- PromQL metric names ---------------------------------------------------------------------

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_MATCHERS = re.compile(r"\{[^{}]*\}")
_RANGE = re.compile(r"\[[^\]]*\]")
_GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
_IDENT = re.compile(r"(?<![\w.])[A-Za-z_:][A-Za-z0-9_:]*")
_KEYWORDS = {"and", "or", "unless", "bool", "offset"}
_LABEL_VALUES = re.compile(r"^label_values\((.*),\s*([A-Za-z_][A-Za-z0-9_]*)\)$")


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression reads (functions, labels and keywords left out)."""
    text = _STRING.sub('""', expr)
    text = _MATCHERS.sub("", text)
    text = _RANGE.sub("", text)
    text = _GROUPING.sub("", text)
    names = set()
    for match in _IDENT.finditer(text):
        if text[match.end() :].lstrip().startswith("(") or match.group() in _KEYWORDS:
            continue
        names.add(match.group())
    return names


def queries(dashboard: Dashboard) -> list[str]:
    """Every PromQL expression of a dashboard: its panels' targets and its variables."""
    model = build(dashboard)
    found = [t["expr"] for p in model["panels"] for t in p.get("targets", [])]
    for variable in model["templating"]["list"]:
        match = _LABEL_VALUES.match(variable["query"])
        assert match, variable["query"]
        found.append(match.group(1))
    return found


def test_metric_name_extraction() -> None:
    expr = (
        'histogram_quantile(0.9, sum(rate(a_bucket{x=~"f(o)o", y!="b"}[1m])) by (le, z)) '
        '/ ignoring(k) b_total * 60 + label_replace(c, "d", "$1", "e", "(.*)")'
    )
    assert metric_names(expr) == {"a_bucket", "b_total", "c"}
    assert metric_names("sum(istio_build) by (component, tag)") == {"istio_build"}


# --- the metrics this mesh produces ----------------------------------------------------------


@functools.cache
def mesh_docs() -> list[dict[str, Any]]:
    """Pilot, Citadel, Galley, Mixer, Prometheus and Grafana, rendered by Helm."""
    components = (PILOT, SECURITY, GALLEY, MIXER, PROMETHEUS, GRAFANA)
    return render_tree(assemble_components(components, GRAFANA_ON))


def mixer_metrics(docs: list[dict[str, Any]]) -> set[str]:
    """The series names of the Prometheus handler of Mixer (namespace istio)."""
    (handler,) = [
        d
        for d in docs
        if d["kind"] == "handler" and d["spec"].get("compiledAdapter") == "prometheus"
    ]
    names = set()
    for metric in handler["spec"]["params"]["metrics"]:
        name = f"{handler['spec']['params'].get('namespace', 'istio')}_{metric['name']}"
        suffixes = ("_bucket", "_sum", "_count") if metric["kind"] == "DISTRIBUTION" else ("",)
        names |= {name + s for s in suffixes}
    return names


def produced_metrics(docs: list[dict[str, Any]]) -> dict[str, set[str]]:
    """Metric name -> the scrape jobs of the rendered Prometheus that bring it in."""
    jobs = scrape_jobs(docs)
    produced: dict[str, set[str]] = {}
    assert "istio-mesh" in jobs
    for name in mixer_metrics(docs):
        produced.setdefault(name, set()).add("istio-mesh")
    for job, names in SCRAPED_METRICS.items():
        assert job in jobs, f"no scrape job {job}"
        dropped = [
            re.compile(rule["regex"])
            for rule in jobs[job].get("metric_relabel_configs", [])
            if rule.get("action") == "drop" and rule["source_labels"] == ["__name__"]
        ]
        for name in names:
            if not any(regex.fullmatch(name) for regex in dropped):
                produced.setdefault(name, set()).add(job)
    return produced


def test_the_mixer_handler_defines_the_standard_istio_metrics() -> None:
    names = mixer_metrics(mesh_docs())
    assert {"istio_requests_total", "istio_request_duration_seconds_bucket"} <= names
    assert "istio_tcp_sent_bytes_total" in names


@pytest.mark.parametrize("dashboard", DASHBOARDS, ids=[d.name for d in DASHBOARDS])
def test_every_query_reads_only_metrics_this_mesh_scrapes(dashboard: Dashboard) -> None:
    produced = produced_metrics(mesh_docs())
    used = set().union(*(metric_names(q) for q in queries(dashboard)))
    assert used, dashboard.name
    assert used - set(produced) == set()


def test_every_declared_metric_is_used_and_scraped() -> None:
    used = {n for d in DASHBOARDS for q in queries(d) for n in metric_names(q)}
    declared = set().union(*SCRAPED_METRICS.values())
    assert declared - used == set()
    # The Envoy metrics survive envoy-stats' drop rules, the xds-grpc cluster included.
    produced = produced_metrics(mesh_docs())
    assert declared <= set(produced)
    job = scrape_jobs(mesh_docs())["envoy-stats"]
    for rule in job["metric_relabel_configs"]:
        if rule["source_labels"] == ["cluster_name"]:
            assert not re.fullmatch(rule["regex"], "xds-grpc")


def test_the_cross_check_fails_on_an_unknown_metric() -> None:
    produced = produced_metrics(mesh_docs())
    assert metric_names('sum(rate(istio_request_count{reporter="source"}[1m]))') - set(produced)


# --- the dashboards --------------------------------------------------------------------------


def test_the_seven_upstream_dashboards() -> None:
    assert {d.name for d in DASHBOARDS} == UPSTREAM
    assert len({d.uid for d in DASHBOARDS}) == len({d.title for d in DASHBOARDS}) == 7


@pytest.mark.parametrize("dashboard", DASHBOARDS, ids=[d.name for d in DASHBOARDS])
def test_dashboard_model(dashboard: Dashboard) -> None:
    model = build(dashboard)
    assert model["title"] == dashboard.title
    assert model["schemaVersion"] == 16
    ids = [p["id"] for p in model["panels"]]
    assert len(ids) == len(set(ids))
    for panel in model["panels"]:
        grid = panel["gridPos"]
        assert grid["x"] >= 0 and grid["x"] + grid["w"] <= 24
        if panel["type"] != "row":
            assert panel["targets"], panel["title"]
            assert panel["datasource"] is None
    text = dashboard_json(dashboard)
    assert "{{" not in text
    assert json.loads(text) == model
    assert text == json.dumps(json.loads(text), sort_keys=True, indent=1).replace("{{", "\\u007b{")


def test_legend_placeholders_survive_the_escaping() -> None:
    (mesh,) = [d for d in DASHBOARDS if d.name == "istio-mesh-dashboard"]
    legends = {
        t["legendFormat"]
        for p in json.loads(dashboard_json(mesh))["panels"]
        for t in p.get("targets", [])
    }
    assert "{{destination_workload}}.{{destination_workload_namespace}}" in legends


# --- rendered --------------------------------------------------------------------------------


def test_dashboards_render_only_with_grafana() -> None:
    assert dashboard_maps(render()) == {}
    assert dashboard_maps(render({"grafana": {"enabled": False}})) == {}
    assert set(dashboard_maps(render(GRAFANA_ON))) == {configmap(n) for n in UPSTREAM}


def test_one_configmap_per_dashboard_holding_its_json() -> None:
    maps = dashboard_maps(render(GRAFANA_ON))
    for dashboard in DASHBOARDS:
        data = maps[configmap(dashboard.name)]["data"]
        assert list(data) == [f"{dashboard.name}.json"]
        assert data[f"{dashboard.name}.json"] == dashboard_json(dashboard)
        assert json.loads(data[f"{dashboard.name}.json"])["uid"] == dashboard.uid


def test_the_istio_provider_reads_the_folder_they_are_mounted_in() -> None:
    docs = render(GRAFANA_ON)
    providers = yaml.safe_load(
        find(docs, "ConfigMap", "istio-grafana")["data"]["dashboardproviders.yaml"]
    )
    (istio,) = [p for p in providers["providers"] if p["name"] == "istio"]
    spec = pod_spec(docs, "grafana")
    (mount,) = [m for m in spec["containers"][0]["volumeMounts"] if m["name"] == "dashboards"]
    assert mount["mountPath"] == istio["options"]["path"]
    (volume,) = [v for v in spec["volumes"] if v["name"] == "dashboards"]
    sources = [s["configMap"]["name"] for s in volume["projected"]["sources"]]
    assert sources == ["istio-grafana-dashboards", *sorted(configmap(n) for n in UPSTREAM)]


def test_a_users_dashboard_of_the_same_file_name_replaces_a_builtin_one() -> None:
    values = {
        "grafana": {"enabled": True, "dashboards": {"pilot-dashboard.json": {"title": "Mine"}}}
    }
    docs = render(values)
    assert configmap("pilot-dashboard") not in dashboard_maps(docs)
    assert len(dashboard_maps(docs)) == 6
    own = find(docs, "ConfigMap", "istio-grafana-dashboards")["data"]
    assert json.loads(own["pilot-dashboard.json"]) == {"title": "Mine"}
    (volume,) = [v for v in pod_spec(docs, "grafana")["volumes"] if v["name"] == "dashboards"]
    names = [s["configMap"]["name"] for s in volume["projected"]["sources"]]
    assert configmap("pilot-dashboard") not in names and len(names) == 7


def test_meshcharts_own_renderer_agrees_with_helm() -> None:
    components = (PILOT, SECURITY, GALLEY, MIXER, PROMETHEUS, GRAFANA)
    tree = assemble_components(components, GRAFANA_ON)
    ours = render_objects(tree, release="istio", namespace="istio-system")
    assert dashboard_maps(ours) == dashboard_maps(mesh_docs())
    assert find(ours, "Deployment", "grafana") == find(mesh_docs(), "Deployment", "grafana")
