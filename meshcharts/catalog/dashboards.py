r"""Grafana's Istio dashboards, built from Python data.

Istio 1.1 shipped seven dashboards with its Grafana add-on (galley, istio-mesh,
istio-performance, istio-service, istio-workload, mixer, pilot). meshcharts builds its own
seven from the small description below: a dashboard is rows of panels, a panel is a
title, a unit and PromQL targets. The queries read only metrics this mesh produces:

* ``istio_*`` request and TCP metrics: Mixer's Prometheus adapter (``mixer.adapters.
  prometheus``), scraped by the Prometheus job ``istio-mesh``;
* the self-monitoring metrics of Pilot, Galley, Mixer and Citadel on their monitoring port
  (jobs ``pilot``, ``galley``, ``istio-policy``, ``istio-telemetry``, ``citadel``);
* Envoy's own statistics (job ``envoy-stats``) and the kubelets' cAdvisor container metrics
  (job ``kubernetes-cadvisor``).

:data:`SCRAPED_METRICS` names, per scrape job, the metrics the dashboards read from it;
the tests check every panel query against it and against the metric names the rendered
charts define. Each dashboard becomes one ConfigMap ``istio-grafana-dashboards-<name
without -dashboard>`` holding ``<name>.json``: deterministic JSON (sorted keys) in which no
``{{`` occurs (Grafana's legend placeholders are written ``\u007b\u007b``), so that the
text is plain data to Helm's template engine.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

__all__ = [
    "DASHBOARDS",
    "SCRAPED_METRICS",
    "Dashboard",
    "Panel",
    "Row",
    "Target",
    "Variable",
    "build",
    "configmap_name",
    "dashboard_json",
    "template_data",
]


@dataclass(frozen=True)
class Target:
    """One PromQL query of a panel and its legend (``{{label}}`` placeholders allowed)."""

    expr: str
    legend: str = ""


@dataclass(frozen=True)
class Panel:
    """A graph (a time series) or a stat (one current value).

    Attributes:
        title: the panel title.
        targets: its queries.
        unit: Grafana unit of the values (short, percentunit, s, bytes, Bps, ops...).
        kind: ``graph`` or ``stat`` (Grafana 5's singlestat).
        stack: stack the series of a graph.
    """

    title: str
    targets: tuple[Target, ...]
    unit: str = "short"
    kind: str = "graph"
    stack: bool = False


@dataclass(frozen=True)
class Row:
    """A titled row of panels, laid out side by side (at most four to a line)."""

    title: str
    panels: tuple[Panel, ...]


@dataclass(frozen=True)
class Variable:
    """A dashboard variable filled from ``label_values(<metric>, <label>)``."""

    name: str
    label: str
    query: str
    include_all: bool = True


@dataclass(frozen=True)
class Dashboard:
    """One dashboard: its file name (without ``.json``), title, uid, variables and rows."""

    name: str
    title: str
    uid: str
    description: str
    rows: tuple[Row, ...]
    variables: tuple[Variable, ...] = ()
    tags: tuple[str, ...] = field(default=("istio",))


def _stat(title: str, expr: str, unit: str) -> Panel:
    """A single-stat panel of one query."""
    return Panel(title, (Target(expr),), unit=unit, kind="stat")


# --- building --------------------------------------------------------------------------------

_WIDTH = 24  # Grafana's grid is 24 columns wide.
_HEIGHT = 7
_STAT_HEIGHT = 4
_PER_LINE = 4
_REF_IDS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _target(target: Target, ref: str) -> dict[str, Any]:
    return {
        "expr": target.expr,
        "format": "time_series",
        "intervalFactor": 1,
        "legendFormat": target.legend,
        "refId": ref,
    }


def _panel(panel: Panel, ident: int, x: int, y: int, w: int) -> dict[str, Any]:
    body: dict[str, Any] = {
        # null: the default data source (grafana.datasources marks Prometheus isDefault).
        "datasource": None,
        "gridPos": {"h": _STAT_HEIGHT if panel.kind == "stat" else _HEIGHT, "w": w, "x": x, "y": y},
        "id": ident,
        "targets": [_target(t, _REF_IDS[i]) for i, t in enumerate(panel.targets)],
        "title": panel.title,
    }
    if panel.kind == "stat":
        body.update(
            {
                "type": "singlestat",
                "format": panel.unit,
                "valueName": "current",
                "decimals": 2,
                "sparkline": {"show": True},
            }
        )
        return body
    body.update(
        {
            "type": "graph",
            "lines": True,
            "linewidth": 1,
            "fill": 1,
            "stack": panel.stack,
            "nullPointMode": "null",
            "legend": {"show": True, "values": False},
            "tooltip": {"shared": True, "sort": 0, "value_type": "individual"},
            "xaxis": {"mode": "time", "show": True},
            "yaxes": [
                {"format": panel.unit, "logBase": 1, "min": 0, "show": True},
                {"format": "short", "logBase": 1, "show": False},
            ],
        }
    )
    return body


def _variable(variable: Variable) -> dict[str, Any]:
    return {
        "name": variable.name,
        "label": variable.label,
        "type": "query",
        "datasource": None,
        "query": variable.query,
        "refresh": 1,
        "sort": 1,
        "includeAll": variable.include_all,
        "allValue": ".*" if variable.include_all else None,
        "multi": False,
        "hide": 0,
        "current": {},
        "options": [],
    }


def build(dashboard: Dashboard) -> dict[str, Any]:
    """The Grafana 5 dashboard model (schemaVersion 16) of ``dashboard``."""
    panels: list[dict[str, Any]] = []
    ident = 0
    y = 0
    for row in dashboard.rows:
        ident += 1
        panels.append(
            {
                "collapsed": False,
                "gridPos": {"h": 1, "w": _WIDTH, "x": 0, "y": y},
                "id": ident,
                "panels": [],
                "title": row.title,
                "type": "row",
            }
        )
        y += 1
        for start in range(0, len(row.panels), _PER_LINE):
            line = row.panels[start : start + _PER_LINE]
            width = _WIDTH // len(line)
            for i, panel in enumerate(line):
                ident += 1
                panels.append(_panel(panel, ident, i * width, y, width))
            y += max(_STAT_HEIGHT if p.kind == "stat" else _HEIGHT for p in line)
    return {
        "annotations": {"list": []},
        "description": dashboard.description,
        "editable": False,
        "graphTooltip": 1,
        "links": [],
        "panels": panels,
        "refresh": "10s",
        "schemaVersion": 16,
        "tags": list(dashboard.tags),
        "templating": {"list": [_variable(v) for v in dashboard.variables]},
        "time": {"from": "now-30m", "to": "now"},
        "timepicker": {"refresh_intervals": ["10s", "30s", "1m", "5m", "15m", "30m", "1h"]},
        "timezone": "browser",
        "title": dashboard.title,
        "uid": dashboard.uid,
        "version": 1,
    }


# A "{" in a JSON string followed by another "{": JSON's own braces never follow one
# another, so this matches only inside strings (legend placeholders).
_DOUBLE_BRACE = re.compile(r"\{(?=\{)")


def dashboard_json(dashboard: Dashboard) -> str:
    """The dashboard as deterministic JSON text holding no ``{{`` (Helm template syntax)."""
    text = json.dumps(build(dashboard), sort_keys=True, indent=1, ensure_ascii=True)
    return _DOUBLE_BRACE.sub(r"\\u007b", text)


# --- queries ---------------------------------------------------------------------------------


def _quantiles(metric: str, selector: str, by: str, legend: str) -> tuple[Target, ...]:
    """P50, P90 and P99 of a histogram, per ``by`` labels."""
    group = f"le, {by}" if by else "le"
    return tuple(
        Target(
            f"histogram_quantile({q}, sum(rate({metric}_bucket{{{selector}}}[1m])) by ({group}))",
            f"{legend} P{int(q * 100)}".strip(),
        )
        for q in (0.5, 0.9, 0.99)
    )


def _rate(metric: str, selector: str, by: str = "") -> str:
    grouped = f" by ({by})" if by else ""
    return f"sum(rate({metric}{{{selector}}}[1m])){grouped}"


def _success(selector: str, by: str = "") -> str:
    ok = f'{selector}, response_code!~"5.*"'
    return (
        f"{_rate('istio_requests_total', ok, by)} / {_rate('istio_requests_total', selector, by)}"
    )


def _process(job: str, container: str, pod: str) -> tuple[Row, ...]:
    """Resource rows of a Go control-plane component: memory, CPU, open files, goroutines."""
    sel = f'job=~"{job}"'
    cadvisor = f'container=~"{container}", pod=~"{pod}"'
    return (
        Row(
            "Resource usage",
            (
                Panel(
                    "Memory",
                    (
                        Target(
                            f"sum(process_resident_memory_bytes{{{sel}}}) by (job)",
                            "resident {{job}}",
                        ),
                        Target(
                            f"sum(go_memstats_heap_inuse_bytes{{{sel}}}) by (job)",
                            "heap in use {{job}}",
                        ),
                        Target(
                            f"sum(container_memory_working_set_bytes{{{cadvisor}}}) by (container)",
                            "container {{container}}",
                        ),
                    ),
                    unit="bytes",
                ),
                Panel(
                    "CPU",
                    (
                        Target(
                            f"sum(rate(process_cpu_seconds_total{{{sel}}}[1m])) by (job)",
                            "process {{job}}",
                        ),
                        Target(
                            f"sum(rate(container_cpu_usage_seconds_total{{{cadvisor}}}[1m])) by (container)",
                            "container {{container}}",
                        ),
                    ),
                ),
                Panel(
                    "Open files", (Target(f"sum(process_open_fds{{{sel}}}) by (job)", "{{job}}"),)
                ),
                Panel("Goroutines", (Target(f"sum(go_goroutines{{{sel}}}) by (job)", "{{job}}"),)),
            ),
        ),
    )


def _versions(component: str) -> Row:
    return Row(
        "Versions",
        (
            Panel(
                f"{component.capitalize()} versions",
                (Target(f'sum(istio_build{{component="{component}"}}) by (tag)', "{{tag}}"),),
            ),
        ),
    )


# --- the seven dashboards --------------------------------------------------------------------

_DEST = 'reporter="destination"'
_SRC = 'reporter="source"'

_MESH = Dashboard(
    name="istio-mesh-dashboard",
    title="Istio Mesh Dashboard",
    uid="meshcharts-istio-mesh",
    description="The whole mesh: request volume, success rate and latency per workload and service.",
    rows=(
        Row(
            "Global",
            (
                _stat("Global request volume", _rate("istio_requests_total", _DEST), "ops"),
                _stat("Global success rate (non-5xx)", _success(_DEST), "percentunit"),
                _stat(
                    "4xx responses",
                    _rate("istio_requests_total", f'{_DEST}, response_code=~"4.*"'),
                    "ops",
                ),
                _stat(
                    "5xx responses",
                    _rate("istio_requests_total", f'{_DEST}, response_code=~"5.*"'),
                    "ops",
                ),
            ),
        ),
        Row(
            "HTTP/gRPC workloads",
            (
                Panel(
                    "Requests by workload",
                    (
                        Target(
                            _rate(
                                "istio_requests_total",
                                _DEST,
                                "destination_workload, destination_workload_namespace",
                            ),
                            "{{destination_workload}}.{{destination_workload_namespace}}",
                        ),
                    ),
                    unit="ops",
                ),
                Panel(
                    "Success rate by workload",
                    (
                        Target(
                            _success(_DEST, "destination_workload, destination_workload_namespace"),
                            "{{destination_workload}}.{{destination_workload_namespace}}",
                        ),
                    ),
                    unit="percentunit",
                ),
                Panel(
                    "P90 latency by workload",
                    (
                        Target(
                            "histogram_quantile(0.9, sum(rate(istio_request_duration_seconds_bucket"
                            f"{{{_DEST}}}[1m])) by (le, destination_workload, destination_workload_namespace))",
                            "{{destination_workload}}.{{destination_workload_namespace}}",
                        ),
                    ),
                    unit="s",
                ),
            ),
        ),
        Row(
            "TCP workloads",
            (
                Panel(
                    "Bytes received by service",
                    (
                        Target(
                            _rate("istio_tcp_received_bytes_total", _SRC, "destination_service"),
                            "{{destination_service}}",
                        ),
                    ),
                    unit="Bps",
                ),
                Panel(
                    "Bytes sent by service",
                    (
                        Target(
                            _rate("istio_tcp_sent_bytes_total", _SRC, "destination_service"),
                            "{{destination_service}}",
                        ),
                    ),
                    unit="Bps",
                ),
                Panel(
                    "Open connections by service",
                    (
                        Target(
                            f"sum(istio_tcp_connections_opened_total{{{_SRC}}}) by (destination_service) - "
                            f"sum(istio_tcp_connections_closed_total{{{_SRC}}}) by (destination_service)",
                            "{{destination_service}}",
                        ),
                    ),
                ),
            ),
        ),
        Row(
            "Control plane",
            (
                Panel(
                    "Istio components by version",
                    (Target("sum(istio_build) by (component, tag)", "{{component}}: {{tag}}"),),
                ),
            ),
        ),
    ),
)

_SERVICE_SEL = 'destination_service=~"$service"'

_SERVICE = Dashboard(
    name="istio-service-dashboard",
    title="Istio Service Dashboard",
    uid="meshcharts-istio-service",
    description="One service, as its clients (reporter source) and its servers (reporter destination) see it.",
    variables=(
        Variable(
            "service",
            "Service",
            "label_values(istio_requests_total, destination_service)",
            include_all=False,
        ),
        Variable(
            "srcwl",
            "Client workload",
            'label_values(istio_requests_total{destination_service=~"$service"}, source_workload)',
        ),
    ),
    rows=(
        Row(
            "General",
            (
                _stat(
                    "Client request volume",
                    _rate("istio_requests_total", f"{_SRC}, {_SERVICE_SEL}"),
                    "ops",
                ),
                _stat(
                    "Client success rate (non-5xx)",
                    _success(f"{_SRC}, {_SERVICE_SEL}"),
                    "percentunit",
                ),
                _stat(
                    "Server request volume",
                    _rate("istio_requests_total", f"{_DEST}, {_SERVICE_SEL}"),
                    "ops",
                ),
                _stat(
                    "Server success rate (non-5xx)",
                    _success(f"{_DEST}, {_SERVICE_SEL}"),
                    "percentunit",
                ),
                Panel(
                    "Client request duration",
                    _quantiles("istio_request_duration_seconds", f"{_SRC}, {_SERVICE_SEL}", "", ""),
                    unit="s",
                ),
                Panel(
                    "Server request duration",
                    _quantiles(
                        "istio_request_duration_seconds", f"{_DEST}, {_SERVICE_SEL}", "", ""
                    ),
                    unit="s",
                ),
                Panel(
                    "TCP bytes received",
                    (Target(_rate("istio_tcp_received_bytes_total", f"{_SRC}, {_SERVICE_SEL}")),),
                    unit="Bps",
                ),
                Panel(
                    "TCP bytes sent",
                    (Target(_rate("istio_tcp_sent_bytes_total", f"{_SRC}, {_SERVICE_SEL}")),),
                    unit="Bps",
                ),
            ),
        ),
        Row(
            "Clients",
            (
                Panel(
                    "Requests by client and response code",
                    (
                        Target(
                            _rate(
                                "istio_requests_total",
                                f'{_DEST}, {_SERVICE_SEL}, source_workload=~"$srcwl"',
                                "source_workload, source_workload_namespace, response_code, connection_security_policy",
                            ),
                            "{{source_workload}}.{{source_workload_namespace}} {{response_code}} ({{connection_security_policy}})",
                        ),
                    ),
                    unit="ops",
                ),
                Panel(
                    "Success rate by client",
                    (
                        Target(
                            _success(
                                f'{_DEST}, {_SERVICE_SEL}, source_workload=~"$srcwl"',
                                "source_workload, source_workload_namespace",
                            ),
                            "{{source_workload}}.{{source_workload_namespace}}",
                        ),
                    ),
                    unit="percentunit",
                ),
                Panel(
                    "Request duration by client",
                    _quantiles(
                        "istio_request_duration_seconds",
                        f'{_DEST}, {_SERVICE_SEL}, source_workload=~"$srcwl"',
                        "source_workload",
                        "{{source_workload}}",
                    ),
                    unit="s",
                ),
                Panel(
                    "Request size by client",
                    _quantiles(
                        "istio_request_bytes",
                        f'{_DEST}, {_SERVICE_SEL}, source_workload=~"$srcwl"',
                        "source_workload",
                        "{{source_workload}}",
                    ),
                    unit="bytes",
                ),
                Panel(
                    "Response size by client",
                    _quantiles(
                        "istio_response_bytes",
                        f'{_DEST}, {_SERVICE_SEL}, source_workload=~"$srcwl"',
                        "source_workload",
                        "{{source_workload}}",
                    ),
                    unit="bytes",
                ),
            ),
        ),
    ),
)

_WL_DEST = 'destination_workload_namespace=~"$namespace", destination_workload=~"$workload"'
_WL_SRC = 'source_workload_namespace=~"$namespace", source_workload=~"$workload"'

_WORKLOAD = Dashboard(
    name="istio-workload-dashboard",
    title="Istio Workload Dashboard",
    uid="meshcharts-istio-workload",
    description="One workload: what it serves (inbound) and what it calls (outbound).",
    variables=(
        Variable(
            "namespace",
            "Namespace",
            "label_values(istio_requests_total, destination_workload_namespace)",
            include_all=False,
        ),
        Variable(
            "workload",
            "Workload",
            'label_values(istio_requests_total{destination_workload_namespace=~"$namespace"}, destination_workload)',
            include_all=False,
        ),
    ),
    rows=(
        Row(
            "General",
            (
                _stat(
                    "Incoming request volume",
                    _rate("istio_requests_total", f"{_DEST}, {_WL_DEST}"),
                    "ops",
                ),
                _stat(
                    "Incoming success rate (non-5xx)",
                    _success(f"{_DEST}, {_WL_DEST}"),
                    "percentunit",
                ),
                _stat(
                    "Incoming TCP bytes received",
                    _rate("istio_tcp_received_bytes_total", f"{_DEST}, {_WL_DEST}"),
                    "Bps",
                ),
                _stat(
                    "Incoming TCP bytes sent",
                    _rate("istio_tcp_sent_bytes_total", f"{_DEST}, {_WL_DEST}"),
                    "Bps",
                ),
                Panel(
                    "Request duration",
                    _quantiles("istio_request_duration_seconds", f"{_DEST}, {_WL_DEST}", "", ""),
                    unit="s",
                ),
            ),
        ),
        Row(
            "Inbound",
            (
                Panel(
                    "Incoming requests by source and response code",
                    (
                        Target(
                            _rate(
                                "istio_requests_total",
                                f"{_DEST}, {_WL_DEST}",
                                "source_workload, source_workload_namespace, response_code",
                            ),
                            "{{source_workload}}.{{source_workload_namespace}} {{response_code}}",
                        ),
                    ),
                    unit="ops",
                ),
                Panel(
                    "Incoming success rate by source",
                    (
                        Target(
                            _success(
                                f"{_DEST}, {_WL_DEST}", "source_workload, source_workload_namespace"
                            ),
                            "{{source_workload}}.{{source_workload_namespace}}",
                        ),
                    ),
                    unit="percentunit",
                ),
                Panel(
                    "Incoming request duration by source",
                    _quantiles(
                        "istio_request_duration_seconds",
                        f"{_DEST}, {_WL_DEST}",
                        "source_workload",
                        "{{source_workload}}",
                    ),
                    unit="s",
                ),
                Panel(
                    "Incoming TCP bytes by source",
                    (
                        Target(
                            _rate(
                                "istio_tcp_received_bytes_total",
                                f"{_DEST}, {_WL_DEST}",
                                "source_workload",
                            ),
                            "received {{source_workload}}",
                        ),
                        Target(
                            _rate(
                                "istio_tcp_sent_bytes_total",
                                f"{_DEST}, {_WL_DEST}",
                                "source_workload",
                            ),
                            "sent {{source_workload}}",
                        ),
                    ),
                    unit="Bps",
                ),
            ),
        ),
        Row(
            "Outbound",
            (
                Panel(
                    "Outgoing requests by destination and response code",
                    (
                        Target(
                            _rate(
                                "istio_requests_total",
                                f"{_SRC}, {_WL_SRC}",
                                "destination_service, response_code",
                            ),
                            "{{destination_service}} {{response_code}}",
                        ),
                    ),
                    unit="ops",
                ),
                Panel(
                    "Outgoing success rate by destination",
                    (
                        Target(
                            _success(f"{_SRC}, {_WL_SRC}", "destination_service"),
                            "{{destination_service}}",
                        ),
                    ),
                    unit="percentunit",
                ),
                Panel(
                    "Outgoing request duration by destination",
                    _quantiles(
                        "istio_request_duration_seconds",
                        f"{_SRC}, {_WL_SRC}",
                        "destination_service",
                        "{{destination_service}}",
                    ),
                    unit="s",
                ),
                Panel(
                    "Outgoing request and response size",
                    (
                        Target(
                            _rate(
                                "istio_request_bytes_sum",
                                f"{_SRC}, {_WL_SRC}",
                                "destination_service",
                            ),
                            "request {{destination_service}}",
                        ),
                        Target(
                            _rate(
                                "istio_response_bytes_sum",
                                f"{_SRC}, {_WL_SRC}",
                                "destination_service",
                            ),
                            "response {{destination_service}}",
                        ),
                    ),
                    unit="Bps",
                ),
            ),
        ),
    ),
)


def _per_krps(cpu_selector: str) -> str:
    return (
        f"sum(rate(container_cpu_usage_seconds_total{{{cpu_selector}}}[1m])) "
        f"/ (sum(rate(istio_requests_total{{{_DEST}}}[1m])) / 1000)"
    )


_TELEMETRY_CPU = 'pod=~"istio-telemetry-.*", container=~"mixer|istio-proxy"'
_POLICY_CPU = 'pod=~"istio-policy-.*", container=~"mixer|istio-proxy"'
_GATEWAY_CPU = 'pod=~"istio-ingressgateway-.*", container="istio-proxy"'
_PROXY_CPU = 'container="istio-proxy", pod!~"istio-.*"'

_PERFORMANCE = Dashboard(
    name="istio-performance-dashboard",
    title="Istio Performance Dashboard",
    uid="meshcharts-istio-performance",
    description=(
        "Cost of the mesh: CPU and memory of Mixer, the ingress gateway and the application "
        "sidecars, also per 1000 requests a second."
    ),
    rows=(
        Row(
            "CPU",
            (
                Panel(
                    "vCPU per 1k requests/s",
                    (
                        Target(_per_krps(_TELEMETRY_CPU), "istio-telemetry"),
                        Target(_per_krps(_POLICY_CPU), "istio-policy"),
                        Target(_per_krps(_GATEWAY_CPU), "istio-ingressgateway"),
                        Target(_per_krps(_PROXY_CPU), "application sidecars"),
                    ),
                ),
                Panel(
                    "vCPU",
                    (
                        Target(
                            _rate("container_cpu_usage_seconds_total", _TELEMETRY_CPU),
                            "istio-telemetry",
                        ),
                        Target(
                            _rate("container_cpu_usage_seconds_total", _POLICY_CPU), "istio-policy"
                        ),
                        Target(
                            _rate("container_cpu_usage_seconds_total", _GATEWAY_CPU),
                            "istio-ingressgateway",
                        ),
                        Target(
                            _rate("container_cpu_usage_seconds_total", _PROXY_CPU),
                            "application sidecars",
                        ),
                    ),
                ),
            ),
        ),
        Row(
            "Memory and traffic",
            (
                Panel(
                    "Memory",
                    (
                        Target(
                            'sum(container_memory_working_set_bytes{pod=~"istio-telemetry-.*"})',
                            "istio-telemetry",
                        ),
                        Target(
                            'sum(container_memory_working_set_bytes{pod=~"istio-policy-.*"})',
                            "istio-policy",
                        ),
                        Target(
                            f"sum(container_memory_working_set_bytes{{{_GATEWAY_CPU}}})",
                            "istio-ingressgateway",
                        ),
                        Target(
                            f"sum(container_memory_working_set_bytes{{{_PROXY_CPU}}}) / count(container_memory_working_set_bytes{{{_PROXY_CPU}}})",
                            "per application sidecar",
                        ),
                    ),
                    unit="bytes",
                ),
                Panel(
                    "Bytes transferred",
                    (
                        Target(
                            _rate("istio_request_bytes_sum", _DEST)
                            + " + "
                            + _rate("istio_response_bytes_sum", _DEST),
                            "HTTP/gRPC",
                        ),
                        Target(
                            _rate("istio_tcp_sent_bytes_total", _DEST)
                            + " + "
                            + _rate("istio_tcp_received_bytes_total", _DEST),
                            "TCP",
                        ),
                    ),
                    unit="Bps",
                ),
                Panel(
                    "Istio components by version",
                    (Target("sum(istio_build) by (component, tag)", "{{component}}: {{tag}}"),),
                ),
            ),
        ),
    ),
)

_PILOT = Dashboard(
    name="pilot-dashboard",
    title="Istio Pilot Dashboard",
    uid="meshcharts-istio-pilot",
    description="Pilot: its resources, the proxies' xDS connections and rejected configuration.",
    rows=(
        _versions("pilot"),
        *_process("pilot", "discovery|istio-proxy", "istio-pilot-.*"),
        Row(
            "Proxies (xDS)",
            (
                Panel(
                    "Connected proxies", (Target('sum(pilot_xds{job="pilot"})', "xDS connections"),)
                ),
                Panel(
                    "Pushes",
                    (
                        Target(
                            'sum(rate(pilot_xds_pushes{job="pilot"}[1m])) by (type)', "{{type}}"
                        ),
                        Target(
                            'sum(rate(pilot_xds_push_errors{job="pilot"}[1m])) by (type)',
                            "errors {{type}}",
                        ),
                        Target(
                            'sum(rate(pilot_xds_push_timeout{job="pilot"}[1m]))', "push timeouts"
                        ),
                        Target(
                            'sum(rate(pilot_xds_write_timeout{job="pilot"}[1m]))', "write timeouts"
                        ),
                    ),
                    unit="ops",
                ),
                Panel(
                    "Proxy config updates (envoy xds-grpc)",
                    (
                        Target(
                            'sum(rate(envoy_cluster_update_success{cluster_name="xds-grpc"}[1m]))',
                            "successes",
                        ),
                        Target(
                            'sum(rate(envoy_cluster_update_attempt{cluster_name="xds-grpc"}[1m])) - '
                            'sum(rate(envoy_cluster_update_success{cluster_name="xds-grpc"}[1m]))',
                            "failures",
                        ),
                    ),
                    unit="ops",
                ),
                Panel(
                    "Active xDS connections (envoy)",
                    (
                        Target(
                            'sum(envoy_cluster_upstream_cx_active{cluster_name="xds-grpc"})',
                            "connections",
                        ),
                    ),
                ),
            ),
        ),
        Row(
            "Configuration",
            (
                Panel(
                    "Services and virtual services",
                    (
                        Target('max(pilot_services{job="pilot"})', "services"),
                        Target('max(pilot_virt_services{job="pilot"})', "virtual services"),
                    ),
                ),
                Panel(
                    "Listener conflicts",
                    (
                        Target('sum(pilot_conflict_inbound_listener{job="pilot"})', "inbound"),
                        Target(
                            'sum(pilot_conflict_outbound_listener_tcp_over_current_tcp{job="pilot"})',
                            "outbound tcp over tcp",
                        ),
                        Target(
                            'sum(pilot_conflict_outbound_listener_tcp_over_current_http{job="pilot"})',
                            "outbound tcp over http",
                        ),
                        Target(
                            'sum(pilot_conflict_outbound_listener_http_over_current_tcp{job="pilot"})',
                            "outbound http over tcp",
                        ),
                    ),
                ),
                Panel(
                    "Rejected configuration",
                    (
                        Target('sum(pilot_xds_cds_reject{job="pilot"})', "CDS"),
                        Target('sum(pilot_xds_eds_reject{job="pilot"})', "EDS"),
                        Target('sum(pilot_xds_lds_reject{job="pilot"})', "LDS"),
                        Target('sum(pilot_xds_rds_reject{job="pilot"})', "RDS"),
                    ),
                ),
                Panel(
                    "Endpoints by cluster",
                    (
                        Target(
                            'sum(pilot_xds_eds_instances{job="pilot"}) by (cluster)', "{{cluster}}"
                        ),
                    ),
                ),
            ),
        ),
    ),
)

_MIXER_JOBS = "istio-policy|istio-telemetry"

_MIXER = Dashboard(
    name="mixer-dashboard",
    title="Istio Mixer Dashboard",
    uid="meshcharts-istio-mixer",
    description="Mixer (istio-policy and istio-telemetry): resources, gRPC traffic, adapters and configuration.",
    variables=(
        Variable("adapter", "Adapter", "label_values(mixer_runtime_dispatches_total, adapter)"),
    ),
    rows=(
        _versions("mixer"),
        *_process(_MIXER_JOBS, "mixer|istio-proxy", "istio-(policy|telemetry)-.*"),
        Row(
            "Mixer gRPC",
            (
                Panel(
                    "Incoming requests",
                    (
                        Target(
                            "sum(rate(grpc_io_server_completed_rpcs[1m])) by (grpc_server_method)",
                            "{{grpc_server_method}}",
                        ),
                    ),
                    unit="ops",
                ),
                Panel(
                    "Response durations",
                    _quantiles(
                        "grpc_io_server_server_latency",
                        "",
                        "grpc_server_method",
                        "{{grpc_server_method}}",
                    ),
                    unit="ms",
                ),
                Panel(
                    "Server errors",
                    (
                        Target(
                            'sum(rate(grpc_server_handled_total{grpc_code=~"Unknown|Unimplemented|Internal|DataLoss"}[1m])) by (grpc_method)',
                            "{{grpc_method}}",
                        ),
                    ),
                    unit="ops",
                ),
                Panel(
                    "Non-OK responses",
                    (
                        Target(
                            'sum(rate(grpc_server_handled_total{grpc_code!="OK"}[1m])) by (grpc_method, grpc_code)',
                            "{{grpc_method}} {{grpc_code}}",
                        ),
                    ),
                    unit="ops",
                ),
            ),
        ),
        Row(
            "Adapters and configuration",
            (
                Panel(
                    "Adapter dispatches",
                    (
                        Target(
                            'sum(rate(mixer_runtime_dispatches_total{adapter=~"$adapter"}[1m])) by (adapter)',
                            "{{adapter}}",
                        ),
                    ),
                    unit="ops",
                ),
                Panel(
                    "Adapter dispatch duration",
                    _quantiles(
                        "mixer_runtime_dispatch_duration_seconds",
                        'adapter=~"$adapter"',
                        "adapter",
                        "{{adapter}}",
                    ),
                    unit="s",
                ),
                Panel(
                    "Rules",
                    (
                        Target("max(mixer_config_rule_config_count)", "rules"),
                        Target("max(mixer_config_rule_config_error_count)", "rule errors"),
                        Target("max(mixer_config_rule_config_match_error_count)", "match errors"),
                        Target(
                            "max(mixer_config_unsatisfied_action_handler_count)",
                            "unsatisfied actions",
                        ),
                    ),
                ),
                Panel(
                    "Configuration objects",
                    (
                        Target("max(mixer_config_instance_config_count)", "instances"),
                        Target("max(mixer_config_handler_config_count)", "handlers"),
                        Target("max(mixer_config_attribute_count)", "attributes"),
                    ),
                ),
            ),
        ),
    ),
)

_GALLEY = Dashboard(
    name="galley-dashboard",
    title="Istio Galley Dashboard",
    uid="meshcharts-istio-galley",
    description="Galley: resources, configuration validation, the Kubernetes source and MCP clients.",
    rows=(
        _versions("galley"),
        *_process("galley", "galley|validator", "istio-galley-.*"),
        Row(
            "Runtime",
            (
                Panel(
                    "Events per minute",
                    (
                        Target(
                            "sum(rate(galley_runtime_strategy_on_change_total[1m])) * 60",
                            "strategy changes",
                        ),
                        Target(
                            "sum(rate(galley_runtime_processor_events_processed_total[1m])) * 60",
                            "events processed",
                        ),
                        Target(
                            "sum(rate(galley_runtime_processor_snapshots_published_total[1m])) * 60",
                            "snapshots published",
                        ),
                    ),
                ),
                Panel(
                    "Timers per minute",
                    (
                        Target(
                            "sum(rate(galley_runtime_strategy_timer_max_time_reached_total[1m])) * 60",
                            "max time reached",
                        ),
                        Target(
                            "sum(rate(galley_runtime_strategy_timer_quiesce_reached_total[1m])) * 60",
                            "quiesce reached",
                        ),
                        Target(
                            "sum(rate(galley_runtime_strategy_timer_resets_total[1m])) * 60",
                            "timer resets",
                        ),
                    ),
                ),
                Panel(
                    "Events per snapshot",
                    tuple(
                        Target(
                            f"histogram_quantile({q}, sum(rate(galley_runtime_processor_snapshot_events_total_bucket[5m])) by (le))",
                            f"P{int(q * 100)}",
                        )
                        for q in (0.5, 0.9, 0.99)
                    ),
                ),
                Panel(
                    "Instances by type",
                    (
                        Target(
                            "sum(galley_runtime_state_type_instances_total) by (typeURL)",
                            "{{typeURL}}",
                        ),
                    ),
                ),
            ),
        ),
        Row(
            "Validation",
            (
                Panel(
                    "Webhook certificate updates",
                    (
                        Target('sum(galley_validation_cert_key_updates{job="galley"})', "updates"),
                        Target(
                            'sum(galley_validation_cert_key_update_errors{job="galley"})', "errors"
                        ),
                    ),
                ),
                Panel(
                    "Validated resources",
                    (
                        Target(
                            'sum(galley_validation_passed{job="galley"}) by (group, version, resource)',
                            "passed {{group}}/{{version}}/{{resource}}",
                        ),
                        Target(
                            'sum(galley_validation_failed{job="galley"}) by (group, version, resource, reason)',
                            "failed {{resource}}: {{reason}}",
                        ),
                    ),
                ),
                Panel(
                    "Webhook HTTP errors",
                    (
                        Target(
                            'sum(galley_validation_http_error{job="galley"}) by (status)',
                            "{{status}}",
                        ),
                    ),
                ),
            ),
        ),
        Row(
            "Kubernetes source and MCP",
            (
                Panel(
                    "Kubernetes events per minute",
                    (
                        Target(
                            "sum(rate(galley_source_kube_event_success_total[1m])) * 60",
                            "successes",
                        ),
                        Target(
                            "sum(rate(galley_source_kube_event_error_total[1m])) * 60", "errors"
                        ),
                    ),
                ),
                Panel(
                    "Object conversions per minute",
                    (
                        Target(
                            "sum(rate(galley_source_kube_dynamic_converter_success_total[1m])) * 60",
                            "successes",
                        ),
                        Target(
                            "sum(rate(galley_source_kube_dynamic_converter_failure_total[1m])) * 60",
                            "failures",
                        ),
                    ),
                ),
                Panel("MCP clients", (Target("sum(galley_mcp_source_clients_total)", "clients"),)),
                Panel(
                    "MCP requests per minute",
                    (
                        Target(
                            "sum(rate(galley_mcp_source_request_acks_total[1m])) by (collection) * 60",
                            "ACK {{collection}}",
                        ),
                        Target(
                            "sum(rate(galley_mcp_source_request_nacks_total[1m])) by (collection) * 60",
                            "NACK {{collection}}",
                        ),
                    ),
                ),
            ),
        ),
    ),
)

DASHBOARDS: tuple[Dashboard, ...] = (
    _GALLEY,
    _MESH,
    _PERFORMANCE,
    _SERVICE,
    _WORKLOAD,
    _MIXER,
    _PILOT,
)
"""The seven Istio dashboards of the Grafana add-on (Istio 1.1's set), by file name."""

_GO = frozenset(
    {
        "go_goroutines",
        "go_memstats_heap_inuse_bytes",
        "process_cpu_seconds_total",
        "process_open_fds",
        "process_resident_memory_bytes",
        "istio_build",
    }
)
_MIXER_SELF = frozenset(
    {
        "grpc_io_server_completed_rpcs",
        "grpc_io_server_server_latency_bucket",
        "grpc_server_handled_total",
        "mixer_config_attribute_count",
        "mixer_config_handler_config_count",
        "mixer_config_instance_config_count",
        "mixer_config_rule_config_count",
        "mixer_config_rule_config_error_count",
        "mixer_config_rule_config_match_error_count",
        "mixer_config_unsatisfied_action_handler_count",
        "mixer_runtime_dispatch_duration_seconds_bucket",
        "mixer_runtime_dispatches_total",
    }
)

SCRAPED_METRICS: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        "pilot": _GO
        | {
            "pilot_conflict_inbound_listener",
            "pilot_conflict_outbound_listener_http_over_current_tcp",
            "pilot_conflict_outbound_listener_tcp_over_current_http",
            "pilot_conflict_outbound_listener_tcp_over_current_tcp",
            "pilot_services",
            "pilot_virt_services",
            "pilot_xds",
            "pilot_xds_cds_reject",
            "pilot_xds_eds_instances",
            "pilot_xds_eds_reject",
            "pilot_xds_lds_reject",
            "pilot_xds_push_errors",
            "pilot_xds_push_timeout",
            "pilot_xds_pushes",
            "pilot_xds_rds_reject",
            "pilot_xds_write_timeout",
        },
        "galley": _GO
        | {
            "galley_mcp_source_clients_total",
            "galley_mcp_source_request_acks_total",
            "galley_mcp_source_request_nacks_total",
            "galley_runtime_processor_events_processed_total",
            "galley_runtime_processor_snapshot_events_total_bucket",
            "galley_runtime_processor_snapshots_published_total",
            "galley_runtime_state_type_instances_total",
            "galley_runtime_strategy_on_change_total",
            "galley_runtime_strategy_timer_max_time_reached_total",
            "galley_runtime_strategy_timer_quiesce_reached_total",
            "galley_runtime_strategy_timer_resets_total",
            "galley_source_kube_dynamic_converter_failure_total",
            "galley_source_kube_dynamic_converter_success_total",
            "galley_source_kube_event_error_total",
            "galley_source_kube_event_success_total",
            "galley_validation_cert_key_update_errors",
            "galley_validation_cert_key_updates",
            "galley_validation_failed",
            "galley_validation_http_error",
            "galley_validation_passed",
        },
        "istio-policy": _GO | _MIXER_SELF,
        "istio-telemetry": _GO | _MIXER_SELF,
        "envoy-stats": frozenset(
            {
                "envoy_cluster_update_attempt",
                "envoy_cluster_update_success",
                "envoy_cluster_upstream_cx_active",
            }
        ),
        "kubernetes-cadvisor": frozenset(
            {"container_cpu_usage_seconds_total", "container_memory_working_set_bytes"}
        ),
    }
)
"""Scrape job -> the metrics the dashboards read from it (besides Mixer's ``istio_*``).

Facts: the self-monitoring metrics of Istio 1.1's Pilot, Galley and Mixer (their
monitoring port), Envoy's cluster statistics and cAdvisor's container metrics.
"""


def configmap_name(dashboard: Dashboard) -> str:
    """The ConfigMap of a dashboard: ``istio-grafana-dashboards-<name without -dashboard>``.

    Istio 1.1 named it ``istio-grafana-configuration-dashboards-<name>``, up to 66
    characters: too long for a name that must stay within 63 with a revision suffix.
    """
    return f"istio-grafana-dashboards-{dashboard.name.removesuffix('-dashboard')}"


def template_data() -> dict[str, Any]:
    """Generation-time data of the Grafana templates: each dashboard's name and JSON."""
    return {
        "dashboards": tuple(
            {
                "name": d.name,
                "file": f"{d.name}.json",
                "configmap": configmap_name(d),
                "json": dashboard_json(d),
            }
            for d in sorted(DASHBOARDS, key=lambda d: d.name)
        )
    }
