"""A chart of the company's own: Grafana dashboards for the mesh, one ConfigMap each.

It defines a chart (``CHART``) and the component it holds (``COMPONENT``); Grafana's
dashboard sidecar loads every ConfigMap labelled ``grafana_dashboard``. The chart has no
revisions: one copy serves every control plane.
"""

from meshcharts import ChartDef, Component

COMPONENT = Component(
    name="dashboards",
    chart="company-dashboards",
    summary="Dashboards (dashboards): Grafana dashboards as ConfigMaps for Grafana's sidecar",
    defaults={
        "enabled": True,
        "label": "grafana_dashboard",
        "dashboards": [
            {"name": "mesh-overview", "title": "Mesh overview", "refresh": "30s"},
            {"name": "ext-authz", "title": "External authorization", "refresh": "1m"},
        ],
    },
    docs={
        "enabled": "Render the dashboard ConfigMaps.",
        "label": "The label Grafana's dashboard sidecar selects ConfigMaps by.",
        "dashboards": "The dashboards: [{name, title, refresh}], merged by name across layers.",
    },
    schema={
        "dashboards.[]": {
            "type": "object",
            "additionalProperties": False,
            "required": ["name", "title"],
            "properties": {
                "name": {"type": "string", "pattern": "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"},
                "title": {"type": "string"},
                "refresh": {"type": "string"},
            },
        },
    },
    merge_keys={"dashboards": "name"},
    template_path="templates/dashboards",
)

CHART = ChartDef(
    name="company-dashboards",
    description="The company's Grafana dashboards for the mesh",
    keywords=("grafana", "dashboards", "istio"),
    app_version="1.0.0",
    home="https://example.com/platform",
    sources=("https://example.com/platform/meshcharts",),
    template_path="templates/_company-dashboards",
)
