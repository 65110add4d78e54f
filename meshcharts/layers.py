"""From a profile name to its stack of value layers, merged.

The layers, lowest precedence first: the chart defaults of every compiled component,
each profile of the ``extends`` chain (root first), any further layers a caller adds
(environments), and ``--set`` last.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from meshcharts.charts import all_charts, chart_components
from meshcharts.components import Component
from meshcharts.errors import ValuesError
from meshcharts.profiles import ProfileSet
from meshcharts.setvalues import SetArg, apply_sets
from meshcharts.values import Layer, ResolvedValues, merge_layers

__all__ = ["Resolution", "chart_defaults", "resolve"]


@dataclass(frozen=True)
class Resolution:
    """A profile's compiled components and its merged values.

    Attributes:
        profile: the profile name.
        charts: chart name -> compiled components, in install order.
        values: the merged values of all charts, with provenance.
        required: values to set at install (dotted key -> example).
    """

    profile: str
    charts: Mapping[str, tuple[Component, ...]]
    values: ResolvedValues
    required: Mapping[str, str]


def chart_defaults(charts: Mapping[str, tuple[Component, ...]]) -> dict[str, Any]:
    """The default values of the compiled components of every chart, as one tree."""
    trees = [all_charts()[name].defaults(components) for name, components in charts.items()]
    return dict(merge_layers([Layer("chart", tree) for tree in trees]).values)


def _check_known(resolved: ResolvedValues, known: set[str], profile: str) -> None:
    for key in resolved.values:
        if key not in known:
            origin = resolved.origin((key,))
            where = f" (set by {origin.layer.name})" if origin else ""
            raise ValuesError(
                f"value {key!r}{where}",
                f"no component of profile {profile!r} reads it (known: {', '.join(sorted(known))})",
            )


def resolve(
    profiles: ProfileSet,
    name: str,
    *,
    sets: Sequence[SetArg] = (),
    extra_layers: Sequence[Layer] = (),
) -> Resolution:
    """Resolve a profile's components and values.

    Raises:
        ProfileError: unknown profile, component or chart; an extends cycle.
        ValuesError: a malformed ``--set`` or a key that no compiled component reads.
    """
    chain = profiles.chain(name)
    charts = {
        chart: chart_components(chart, components, profile=name)
        for chart in all_charts()
        if (components := profiles.charts(name).get(chart)) is not None
    }
    defaults = chart_defaults(charts)
    layers = [Layer("chart defaults", defaults, "meshcharts catalog")]
    layers += [Layer(f"profile {p.name}", p.values, p.source) for p in chain]
    layers += list(extra_layers)
    if sets:
        base = merge_layers(layers).values
        layers.append(Layer("--set", apply_sets(sets, base), "command line"))
    resolved = merge_layers(layers)
    known = {"global"} | set(defaults)
    _check_known(resolved, known, name)
    return Resolution(name, charts, resolved, profiles.required(name))
