"""Assemble a chart tree in memory: Chart.yaml, values, schema, templates, README.

Pure: the same inputs give the same bytes, and nothing is read but the catalog's own
template files.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from meshcharts.base.yamltext import chart_yaml, dump_values
from meshcharts.catalog.charts import ISTIO_VERSION
from meshcharts.catalog.component import ChartDef, Component
from meshcharts.chart.buildinfo import generator_version, values_digest
from meshcharts.chart.readme import chart_readme
from meshcharts.chart.schema import infer_schema, schema_json
from meshcharts.chart.templating import chart_files, component_files, is_j2, render_j2, strip_j2
from meshcharts.chart.valuesfile import validate_values
from meshcharts.values.origins import ResolvedValues

__all__ = ["ChartTree", "assemble_chart", "chart_values", "render_tree"]


@dataclass(frozen=True)
class ChartTree:
    """An unpacked chart: relative path -> file bytes, plus its Chart.yaml metadata.

    ``required`` lists the values to set at install (dotted key -> example value).
    """

    name: str
    version: str
    metadata: Mapping[str, Any]
    files: Mapping[str, bytes]
    required: Mapping[str, str] = field(default_factory=dict)

    def example_values(self) -> dict[str, Any]:
        """A values tree holding the example of every required value."""
        tree: dict[str, Any] = {}
        for key, example in self.required.items():
            *parents, leaf = key.split(".")
            node = tree
            for part in parents:
                node = node.setdefault(part, {})
            node[leaf] = example
        return tree

    @property
    def install_sets(self) -> tuple[str, ...]:
        """``--set`` arguments with the example values, for rendering checks."""
        return tuple(f"{key}={value}" for key, value in sorted(self.required.items()))

    @property
    def app_version(self) -> str:
        """The chart's ``appVersion``."""
        return str(self.metadata["appVersion"])


def chart_values(
    chart: ChartDef, components: tuple[Component, ...], values: Mapping[str, Any]
) -> dict[str, Any]:
    """The part of the merged values that this chart reads."""
    keys = set(chart.defaults(components))
    return {k: v for k, v in values.items() if k in keys}


def _templates(chart: ChartDef, components: tuple[Component, ...]) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    sources: list[tuple[str, Component | None, Mapping[str, bytes]]] = [
        ("", None, chart_files(chart))
    ]
    sources += [(f"{c.templates}/", c, component_files(c)) for c in components]
    for prefix, component, folder in sources:
        for name, data in folder.items():
            out = f"templates/{prefix}{strip_j2(name)}"
            if is_j2(name):
                context = {
                    "chart": chart,
                    "components": components,
                    "component": component,
                    "data": component.template_data if component else {},
                }
                rendered = render_j2(f"{chart.name}/{prefix}{name}", data.decode(), context)
                data = rendered.encode()
            files[out] = data
    return files


def assemble_chart(
    chart: ChartDef,
    components: tuple[Component, ...],
    resolved: ResolvedValues,
    *,
    profile: str,
    version: str,
    app_version: str = "",
    annotations: Mapping[str, str] | None = None,
    required: Mapping[str, str] | None = None,
    source_commit: str = "unknown",
) -> ChartTree:
    """Assemble one chart of a profile.

    Args:
        chart: the chart definition.
        components: the components compiled in.
        resolved: the profile's merged values (all charts); this chart takes its part.
        profile: the profile name, recorded in Chart.yaml annotations.
        version: the chart version (strict SemVer 2).
        app_version: Chart.yaml ``appVersion`` (default: the chart's own, else the Istio
            release of the catalog).
        annotations: extra Chart.yaml annotations.
        required: values a user must set at install (dotted key -> example).
        source_commit: the commit the build ran from (``meshcharts.io/source-commit``).

    Chart.yaml records the build inputs as annotations (see :mod:`meshcharts.release.signing`):
    generator version, profile, values digest and source commit.

    Raises:
        ValuesError: the values do not satisfy the chart's schema.
    """
    defaults = chart.defaults(components)
    docs = chart.docs(components)
    schema = infer_schema(
        defaults,
        overrides=chart.schema_overrides(components),
        docs=docs,
        title=f"{chart.name} values",
    )
    values = chart_values(chart, components, resolved.values)
    validate_values(values, resolved, chart=chart, components=components)
    metadata: dict[str, Any] = {
        "apiVersion": "v2",
        "name": chart.name,
        "version": version,
        "appVersion": app_version or chart.app_version or ISTIO_VERSION,
        "description": chart.description,
        "type": "application",
        "kubeVersion": chart.kube_version,
        "keywords": list(chart.keywords),
        "home": chart.home,
        "icon": chart.icon,
        "sources": list(chart.sources),
        "annotations": {
            "meshcharts.io/generator-version": generator_version(),
            "meshcharts.io/profile": profile,
            "meshcharts.io/source-commit": source_commit,
            "meshcharts.io/values-digest": values_digest(values),
            **chart.annotations,
            **(annotations or {}),
        },
    }
    header = (
        f"Default values for {chart.name} {version}, profile {profile}.\n"
        "Generated by meshcharts; README.md documents every key."
    )
    files: dict[str, bytes] = {
        "Chart.yaml": chart_yaml(metadata).encode(),
        "values.yaml": dump_values(values, docs=docs.get, header=header).encode(),
        "values.schema.json": schema_json(schema).encode(),
        "README.md": chart_readme(
            chart, components, values, docs, metadata, required or {}
        ).encode(),
        **_templates(chart, components),
    }
    return ChartTree(chart.name, version, metadata, files, dict(required or {}))


def render_tree(chart: ChartDef, components: tuple[Component, ...]) -> ChartTree:
    """The chart's templates and a minimal Chart.yaml, enough to render it with given values.

    No values, schema or README: for checks that render a profile's charts many times
    (one per environment) without assembling and validating them each time.
    """
    metadata: dict[str, Any] = {
        "apiVersion": "v2",
        "name": chart.name,
        "version": _RENDER_VERSION,
        "appVersion": chart.app_version or ISTIO_VERSION,
        "kubeVersion": chart.kube_version,
    }
    files = {"Chart.yaml": chart_yaml(metadata).encode(), **_templates(chart, components)}
    return ChartTree(chart.name, _RENDER_VERSION, metadata, files)


_RENDER_VERSION = "0.0.0-render"
"""The chart version of :func:`render_tree` (labels only; no package carries it)."""
