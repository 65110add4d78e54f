"""The charts meshcharts builds, by name."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from types import MappingProxyType

from meshcharts.catalog.component import ChartDef, Component
from meshcharts.errors import ProfileError

__all__ = ["all_charts", "chart_components"]


@cache
def all_charts() -> Mapping[str, ChartDef]:
    """Every chart, in install order (CRDs first)."""
    from meshcharts.catalog.istio import ISTIO_CHART
    from meshcharts.catalog.istio_init import ISTIO_INIT_CHART

    return MappingProxyType({c.name: c for c in (ISTIO_INIT_CHART, ISTIO_CHART)})


def chart_components(
    chart_name: str, names: tuple[str, ...], *, profile: str
) -> tuple[Component, ...]:
    """The components ``names`` of chart ``chart_name``, in catalog order.

    Raises:
        ProfileError: the chart or a component is unknown.
    """
    charts = all_charts()
    if chart_name not in charts:
        known = ", ".join(charts)
        raise ProfileError(f"profile {profile!r}", f"unknown chart {chart_name!r} (known: {known})")
    chart = charts[chart_name]
    known_names = [c.name for c in chart.components]
    unknown = [n for n in names if n not in known_names]
    if unknown:
        raise ProfileError(
            f"profile {profile!r}",
            f"unknown component {unknown[0]!r} for chart {chart_name} "
            f"(known: {', '.join(known_names)})",
        )
    return tuple(c for c in chart.components if c.name in names)


ISTIO_VERSION = "1.0.6"
"""The Istio release the catalog deploys: the charts' appVersion and default version."""
