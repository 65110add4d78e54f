"""From a profile name to its stack of value layers, merged.

The layers, lowest precedence first: the chart defaults of every compiled component,
each profile of the ``extends`` chain (root first), any further layers a caller adds
(environments), and ``--set`` last. Lists merge by the keys the compiled components
declare (:mod:`meshcharts.values.mergerules`), every other list replaces (Helm's rule).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any

from meshcharts.catalog.charts import Catalog, builtin_catalog
from meshcharts.catalog.component import ChartDef, Component
from meshcharts.errors import ValuesError
from meshcharts.inputs.profiles import ProfileSet
from meshcharts.inputs.setvalues import SetArg, apply_sets, parse_set
from meshcharts.values.keypaths import KeyPath
from meshcharts.values.merge import merge_layers
from meshcharts.values.mergerules import MergeRule, MergeRules
from meshcharts.values.origins import Layer, ResolvedValues

__all__ = [
    "Resolution",
    "chart_defaults",
    "known_keys",
    "merge_rules",
    "resolve",
    "resolve_from",
    "set_layer",
]


@dataclass(frozen=True)
class Resolution:
    """A profile's compiled components and its merged values.

    Attributes:
        profile: the profile name.
        charts: chart name -> compiled components, in install order.
        values: the merged values of all charts, with provenance.
        required: values to set at install (dotted key -> example).
        catalog: the catalog the charts come from (built-in charts and the user's).
    """

    profile: str
    charts: Mapping[str, tuple[Component, ...]]
    values: ResolvedValues
    required: Mapping[str, str]
    catalog: Catalog = field(default_factory=builtin_catalog)

    def chart(self, name: str) -> ChartDef:
        """The definition of the compiled chart ``name``."""
        return self.catalog.charts[name]


Compiled = tuple[tuple[str, tuple[str, ...]], ...]
"""Charts and component names: a cache key for the catalog's own components."""

Charts = Mapping[str, tuple[Component, ...]]


def _catalog_key(charts: Charts, catalog: Catalog) -> Compiled | None:
    """A cache key if every component is the catalog's own object, else None."""
    key = []
    for name, components in charts.items():
        chart = catalog.charts.get(name)
        own = {c.name: c for c in chart.components} if chart else {}
        if any(own.get(c.name) is not c for c in components):
            return None
        key.append((name, tuple(c.name for c in components)))
    return tuple(key)


def _components(key: Compiled, catalog: Catalog) -> dict[str, tuple[Component, ...]]:
    charts = {}
    for name, names in key:
        by_name = {c.name: c for c in catalog.charts[name].components}
        charts[name] = tuple(by_name[n] for n in names)
    return charts


def _merged_defaults(charts: Charts, catalog: Catalog) -> dict[str, Any]:
    trees = [catalog.charts[name].defaults(components) for name, components in charts.items()]
    return dict(merge_layers([Layer("chart", tree) for tree in trees]).values)


@lru_cache(maxsize=256)
def _cached_defaults(key: Compiled, catalog: Catalog) -> dict[str, Any]:
    return _merged_defaults(_components(key, catalog), catalog)


def chart_defaults(charts: Charts, catalog: Catalog | None = None) -> dict[str, Any]:
    """The default values of the compiled components of every chart, as one tree (a copy).

    Args:
        charts: chart name -> compiled components.
        catalog: where the charts are defined (default: the built-in catalog).
    """
    catalog = catalog or builtin_catalog()
    key = _catalog_key(charts, catalog)
    if key is None:
        return _merged_defaults(charts, catalog)
    return copy.deepcopy(_cached_defaults(key, catalog))


def _merge_rules(charts: Charts, catalog: Catalog) -> MergeRules:
    rules: list[MergeRule] = []
    for name, components in charts.items():
        rules += catalog.charts[name].merge_rules(components).rules
    return MergeRules(tuple(rules))


@lru_cache(maxsize=256)
def _cached_rules(key: Compiled, catalog: Catalog) -> MergeRules:
    return _merge_rules(_components(key, catalog), catalog)


def merge_rules(charts: Charts, catalog: Catalog | None = None) -> MergeRules:
    """The keyed-list merge rules declared by the charts and their compiled components."""
    catalog = catalog or builtin_catalog()
    key = _catalog_key(charts, catalog)
    return _merge_rules(charts, catalog) if key is None else _cached_rules(key, catalog)


def unknown_key_problem(key: str, known: set[str], catalog: Catalog, profile: str) -> str:
    """Why a top-level values key is refused: a component left out, or no such key."""
    charts = sorted(
        c.name for c in catalog.charts.values() if key in {p.name for p in c.components}
    )
    if charts:
        return (
            f"component {key} (chart {charts[0]}) is not compiled into profile {profile!r}: "
            "use a profile that has it, or add it to the profile's charts"
        )
    return f"no component of profile {profile!r} reads it (known: {', '.join(sorted(known))})"


def _check_known(resolved: ResolvedValues, known: set[str], profile: str, catalog: Catalog) -> None:
    for key in resolved.values:
        if key not in known:
            origin = resolved.origin((key,))
            where = f" (set by {origin.layer.name})" if origin else ""
            raise ValuesError(
                f"value {key!r}{where}", unknown_key_problem(key, known, catalog, profile)
            )


def known_keys(charts: Charts, catalog: Catalog | None = None) -> set[str]:
    """The top-level keys the compiled charts read: ``global`` and their values."""
    catalog = catalog or builtin_catalog()
    known = {"global"}
    for name, components in charts.items():
        known |= set(catalog.charts[name].values)
        known |= {c.name for c in components if c.defaults is not None}
    return known


def _set_path(path: Sequence[str | int]) -> KeyPath:
    """The path a ``--set`` assignment records: up to its first list index (lists are whole)."""
    keys: list[str] = []
    for part in path:
        if not isinstance(part, str):
            break
        keys.append(part)
    return tuple(keys)


def set_layer(sets: Sequence[SetArg], base: Mapping[str, Any]) -> Layer:
    """The ``--set`` layer over ``base``: it records only the paths the arguments set.

    Raises:
        ValuesError: a malformed argument, or one that descends into a value of another kind.
    """
    overlay = apply_sets(sets, base)
    paths = tuple(_set_path(path) for arg in sets for path, _ in parse_set(arg))
    return Layer("--set", overlay, "command line", paths=paths, keyed=False)


def resolve_from(
    base: Resolution, *, sets: Sequence[SetArg] = (), extra_layers: Sequence[Layer] = ()
) -> Resolution:
    """Continue a resolution with more layers, then ``--set``; ``base`` is not modified.

    Raises:
        ValuesError: a malformed ``--set``, a malformed keyed list, or a key that no
            compiled component reads.
    """
    resolved = base.values
    if extra_layers:
        resolved = merge_layers(extra_layers, base=resolved)
    if sets:
        resolved = merge_layers([set_layer(sets, resolved.values)], base=resolved)
    if resolved is not base.values:
        known = known_keys(base.charts, base.catalog)
        _check_known(resolved, known, base.profile, base.catalog)
    return replace(base, values=resolved)


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
    catalog = profiles.catalog
    wanted = profiles.charts(name)
    for chart in wanted:
        catalog.chart(chart, profile=name)  # an unknown chart is an error, not skipped
    charts = {
        chart: catalog.components(chart, wanted[chart], profile=name)
        for chart in catalog.charts
        if chart in wanted
    }
    defaults = chart_defaults(charts, catalog)
    layers = [Layer("chart defaults", defaults, "meshcharts catalog")]
    layers += [Layer(f"profile {p.name}", p.values, p.source) for p in chain]
    resolved = merge_layers(layers, rules=merge_rules(charts, catalog))
    _check_known(resolved, known_keys(charts, catalog), name, catalog)
    base = Resolution(name, charts, resolved, profiles.required(name), catalog)
    return resolve_from(base, sets=sets, extra_layers=extra_layers)
