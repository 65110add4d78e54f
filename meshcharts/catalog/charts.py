"""The catalog: the charts meshcharts can build and the components each may hold.

A :class:`Catalog` is put together by :func:`build_catalog` from parts — chart
definitions and components — each with the place it came from. The built-in catalog is
one such list of parts (:func:`builtin_parts`); a user's files and installed packages add
theirs (:mod:`meshcharts.inputs.components`) through the same function, so a name that
clashes is refused the same way wherever it comes from.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cache
from types import MappingProxyType

from meshcharts.catalog.component import ChartDef, Component
from meshcharts.errors import ProfileError, UserError

__all__ = [
    "ISTIO_VERSION",
    "Catalog",
    "CatalogError",
    "Part",
    "build_catalog",
    "builtin_catalog",
    "builtin_parts",
]

ISTIO_VERSION = "1.0.6"
"""The Istio release the catalog deploys: the charts' appVersion and default version."""

Part = ChartDef | Component
"""A piece of a catalog: a chart definition or a component of one."""


class CatalogError(UserError):
    """A chart or component cannot join the catalog (a clash, an unknown chart, ...).

    The subject is the file or entry point that defined it.
    """


@dataclass(frozen=True, eq=False)  # equal only to itself: a cache key for its defaults
class Catalog:
    """The charts one run can build.

    Attributes:
        charts: chart name -> definition with every component it may hold, in install
            order (the built-in charts first, then a user's in the order they were read).
    """

    charts: Mapping[str, ChartDef]

    def chart(self, name: str, *, profile: str) -> ChartDef:
        """The chart ``name``, or a ProfileError naming the profile and the known charts."""
        found = self.charts.get(name)
        if found is None:
            known = ", ".join(self.charts)
            raise ProfileError(f"profile {profile!r}", f"unknown chart {name!r} (known: {known})")
        return found

    def components(
        self, chart_name: str, names: Sequence[str], *, profile: str
    ) -> tuple[Component, ...]:
        """The components ``names`` of chart ``chart_name``, in the chart's order.

        Raises:
            ProfileError: the chart or a component is unknown.
        """
        chart = self.chart(chart_name, profile=profile)
        known_names = [c.name for c in chart.components]
        unknown = [n for n in names if n not in known_names]
        if unknown:
            raise ProfileError(
                f"profile {profile!r}",
                f"unknown component {unknown[0]!r} for chart {chart_name} "
                f"(known: {', '.join(known_names)})",
            )
        return tuple(c for c in chart.components if c.name in names)

    @property
    def user_components(self) -> tuple[Component, ...]:
        """Every component that came from outside the built-in catalog."""
        return tuple(c for chart in self.charts.values() for c in chart.components if c.source)


def _where(part: Part) -> str:
    return part.source or "the built-in catalog"


def _add_component(chart: ChartDef, component: Component) -> ChartDef:
    if component.name in ("global", *chart.values):
        raise CatalogError(
            _where(component),
            f"component {component.name!r} clashes with the chart value {component.name!r} "
            f"of chart {chart.name}",
        )
    for other in chart.components:
        if replace(other, source="") == replace(component, source=""):
            return chart  # listed by its chart and defined loose too: one component
        if other.name == component.name:
            raise CatalogError(
                _where(component),
                f"component {component.name!r} of chart {chart.name} is already defined by "
                f"{_where(other)}",
            )
        if other.templates == component.templates:
            raise CatalogError(
                _where(component),
                f"component {component.name!r} writes templates/{component.templates}/ of "
                f"chart {chart.name}, as component {other.name!r} of {_where(other)} does "
                "(give it another template_dir)",
            )
    return replace(chart, components=(*chart.components, component))


def build_catalog(parts: Sequence[Part]) -> Catalog:
    """Put a catalog together: every chart first, then every loose component into its chart.

    A chart brings the components it lists; a loose component joins the chart its
    ``chart`` field names.

    Raises:
        CatalogError: two charts of one name, two components of one name (or one template
            folder) in a chart, a component named like a chart value, or a component of
            an unknown chart; the subject is the file that defined the later one.
    """
    charts: dict[str, ChartDef] = {}
    for part in parts:
        if isinstance(part, ChartDef):
            if part.name in charts:
                raise CatalogError(
                    _where(part),
                    f"chart {part.name!r} is already defined by {_where(charts[part.name])}",
                )
            chart = replace(part, components=())
            for component in part.components:
                chart = _add_component(chart, component)
            charts[part.name] = chart
    for part in parts:
        if isinstance(part, Component):
            if part.chart not in charts:
                raise CatalogError(
                    _where(part),
                    f"component {part.name!r} is for chart {part.chart!r}, which no file "
                    f"defines (known: {', '.join(charts)})",
                )
            charts[part.chart] = _add_component(charts[part.chart], part)
    return Catalog(MappingProxyType(charts))


def builtin_parts() -> tuple[Part, ...]:
    """The built-in charts with their components, in install order (CRDs first)."""
    from meshcharts.catalog.istio import GATEWAYS_CHART, ISTIO_CHART
    from meshcharts.catalog.istio_init import ISTIO_INIT_CHART

    return (ISTIO_INIT_CHART, ISTIO_CHART, GATEWAYS_CHART)


@cache
def builtin_catalog() -> Catalog:
    """The built-in catalog (assembled once per process)."""
    return build_catalog(builtin_parts())
