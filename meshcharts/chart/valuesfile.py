"""Values files for ``helm install -f``: what an environment changes in a packaged chart.

The packaged chart's ``values.yaml`` holds the profile's resolved values. An environment's
values file holds, by default, only what differs from them: a deep diff of the two trees,
changed leaves only, lists whole (Helm replaces lists), and ``null`` for a key the
environment removed (Helm deletes a chart value that a values file sets to null). With
``full`` it holds every value, with the same nulls. Either way, Helm's coalescing of the
file over the chart's values gives exactly the environment's resolved values.

Before anything is written, the values Helm will see (the file coalesced over the chart's
values, as Helm does it) are validated against the chart's ``values.schema.json``; a
violation is a :class:`~meshcharts.errors.ValuesError` naming the file and line that set
the value, the key path and the schema rule. Validators are compiled once per chart and
component set; when the packaged values are known to be valid (a build, a batch), only the
top-level keys the environment changes are validated again.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema

from meshcharts.base.yamltext import dump_values
from meshcharts.catalog.charts import builtin_catalog
from meshcharts.catalog.component import ChartDef, Component
from meshcharts.catalog.upstream import pattern_path, upstream_answer
from meshcharts.chart.schema import infer_schema, schema_message
from meshcharts.errors import MeshchartsError, UserError, ValuesError
from meshcharts.resolution.resolve import Resolution
from meshcharts.values.coalesce import helm_coalesce
from meshcharts.values.keypaths import KeyPath, child
from meshcharts.values.mergerules import dotted, parse_item_segment
from meshcharts.values.origins import DELETED, Assignment, ResolvedValues

__all__ = [
    "ValuesFile",
    "chart_schema",
    "helm_coalesce",
    "minimal_overlay",
    "values_file",
]


@dataclass(frozen=True)
class ValuesFile:
    """A values file for ``helm install -f`` of one chart.

    Attributes:
        chart: the chart it is for.
        profile: the profile whose package it installs over.
        environment: the environment it was computed for ("" for a profile alone).
        values: the file's values (an overlay of the packaged values, or all of them).
        text: the YAML text, with a header and a provenance comment per value.
    """

    chart: str
    profile: str
    environment: str
    values: Mapping[str, Any]
    text: str

    @property
    def path(self) -> str:
        """Where ``meshcharts build`` writes it: ``<profile>/values-<environment>.yaml``.

        A chart other than ``istio`` gets ``<profile>/values-<environment>.<chart>.yaml``.
        """
        suffix = "" if self.chart == "istio" else f".{self.chart}"
        return f"{self.profile}/values-{self.environment}{suffix}.yaml"


# --- diff and coalesce -----------------------------------------------------------------------


def _same(a: Any, b: Any) -> bool:
    """Deep equality that tells ``1`` from ``1.0`` and ``true`` (YAML and JSON types)."""
    if type(a) is not type(b) and not (isinstance(a, Mapping) and isinstance(b, Mapping)):
        return False
    if isinstance(a, Mapping):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def minimal_overlay(packaged: Mapping[str, Any], resolved: Mapping[str, Any]) -> dict[str, Any]:
    """The smallest values file that turns ``packaged`` into ``resolved`` under Helm's rules.

    Changed leaves only; lists whole; ``None`` for each key of ``packaged`` that
    ``resolved`` lacks.
    """
    out: dict[str, Any] = {}
    for key, value in resolved.items():
        if key not in packaged:
            out[key] = copy.deepcopy(value)
            continue
        old = packaged[key]
        if isinstance(value, Mapping) and isinstance(old, Mapping):
            below = minimal_overlay(old, value)
            if below:
                out[key] = below
        elif not _same(value, old):
            out[key] = copy.deepcopy(value)
    for key in packaged:
        if key not in resolved:
            out[key] = None
    return out


def _with_deletions(packaged: Mapping[str, Any], resolved: Mapping[str, Any]) -> dict[str, Any]:
    """``resolved`` in full, plus ``None`` for each key of ``packaged`` it lacks."""
    out: dict[str, Any] = {}
    for key, value in resolved.items():
        old = packaged.get(key)
        if isinstance(value, Mapping) and isinstance(old, Mapping):
            out[key] = _with_deletions(old, value)
        else:
            out[key] = copy.deepcopy(value)
    for key in packaged:
        if key not in resolved:
            out[key] = None
    return out


# --- schema ----------------------------------------------------------------------------------

_PLAIN_OBJECT = {"$schema", "title", "type", "description", "properties", "additionalProperties"}


class _Compiled:
    """A chart's schema with validators compiled once, for the whole tree and any node."""

    def __init__(self, schema: Mapping[str, Any], keys: frozenset[str]) -> None:
        self.schema = schema
        self.keys = keys
        self._validators: dict[int, jsonschema.Draft7Validator] = {}

    def validator(self, node: Mapping[str, Any]) -> jsonschema.Draft7Validator:
        """The validator of a node of this schema (compiled on first use)."""
        found = self._validators.get(id(node))
        if found is None:
            found = self._validators[id(node)] = jsonschema.Draft7Validator(node)
        return found


def _definition(chart: str | ChartDef) -> ChartDef:
    """A chart definition, or the built-in chart of that name."""
    return chart if isinstance(chart, ChartDef) else builtin_catalog().charts[chart]


def _schema_of(definition: ChartDef, components: Sequence[Component]) -> _Compiled:
    defaults = definition.defaults(tuple(components))
    schema = infer_schema(
        defaults,
        overrides=definition.schema_overrides(tuple(components)),
        docs=definition.docs(tuple(components)),
        title=f"{definition.name} values",
    )
    return _Compiled(schema, frozenset(defaults))


_COMPILED: dict[tuple[int, tuple[str, ...]], tuple[ChartDef, _Compiled]] = {}
"""Compiled schemas by chart definition (its identity) and component names."""


def _compile(chart: str | ChartDef, components: Sequence[Component]) -> _Compiled:
    definition = _definition(chart)
    own = {c.name: c for c in definition.components}
    if not all(own.get(c.name) is c for c in components):
        return _schema_of(definition, components)
    key = (id(definition), tuple(c.name for c in components))
    hit = _COMPILED.get(key)
    if hit is None or hit[0] is not definition:
        hit = _COMPILED[key] = (definition, _schema_of(definition, components))
    return hit[1]


def chart_schema(chart: str | ChartDef, components: Sequence[Component]) -> Mapping[str, Any]:
    """The chart's ``values.schema.json`` (as assembled) for ``components``, compiled once."""
    return _compile(chart, components).schema


Found = list[tuple[KeyPath, jsonschema.ValidationError]]


def _errors(
    compiled: _Compiled,
    node: Mapping[str, Any],
    value: Any,
    trusted: Any,
    path: KeyPath,
    found: Found,
) -> None:
    """Collect the violations of ``value`` against ``node``, re-checking only what changed.

    Where the schema node is a plain object (type, properties, additionalProperties) and
    a trusted value of it is known, only the changed properties are descended into;
    anything else is validated whole.
    """
    plain = set(node) <= _PLAIN_OBJECT and node.get("type") == "object"
    properties = node.get("properties", {})
    if (
        plain
        and isinstance(value, Mapping)
        and isinstance(trusted, Mapping)
        and all(key in properties for key in value)
    ):
        for key, item in value.items():
            if key in trusted and _same(item, trusted[key]):
                continue
            _errors(compiled, properties[key], item, trusted.get(key), (*path, key), found)
        return
    found += [
        ((*path, *(str(p) for p in error.absolute_path)), error)
        for error in compiled.validator(node).iter_errors(value)
    ]


def _first_error(
    values: Mapping[str, Any], compiled: _Compiled, trusted: Mapping[str, Any] | None
) -> tuple[KeyPath, jsonschema.ValidationError] | None:
    """The first schema violation (by path)."""
    found: Found = []
    _errors(compiled, compiled.schema, values, trusted, (), found)
    if not found:
        return None
    path, error = min(found, key=lambda item: item[0])
    if error.validator == "additionalProperties":
        instance: Any = error.instance
        schema: Any = error.schema
        extra = sorted(set(instance) - set(schema.get("properties", {})))
        path = (*path, extra[0]) if extra else path
    return path, error


def _shown_path(resolved: ResolvedValues, path: KeyPath) -> str:
    """``path`` for messages: keyed items by key, other list items as ``[i]``."""
    node: Any = resolved.values
    shown: list[str] = []
    for segment in resolved.canonical(path) or path:
        is_index = isinstance(node, list) and parse_item_segment(segment) is None
        shown.append(f"[{segment}]" if is_index else segment)
        node = child(node, segment)
    return dotted(shown)


def _is_env(assignment: Assignment) -> bool:
    return assignment.layer.name.startswith("env ")


def _upstream_rule(
    resolved: ResolvedValues, path: KeyPath, error: jsonschema.ValidationError
) -> str | None:
    """For a key that Istio 1.1's charts had and this chart lacks: what to write instead."""
    # An unknown key, a refused global key, or a map where this chart takes a scalar or a
    # list (Istio 1.1's grafana.image.repository against grafana.image).
    shape = error.validator == "type" and isinstance(error.instance, Mapping)
    if error.validator not in ("additionalProperties", "not") and not shape:
        return None
    leaf, value = _upstream_leaf(path, resolved.values)
    found = upstream_answer(leaf) if leaf else upstream_answer(path, below=True)
    if found is None:
        return None
    pattern, answer = found
    full = leaf or (*path, *pattern_path(pattern)[len(path) :])
    return (
        f"Istio 1.1's {'.'.join(full)} is not a key here: {answer.hint(value)} "
        "(meshcharts import-values translates Istio 1.1 values files)"
    )


def _upstream_leaf(path: KeyPath, values: Mapping[str, Any]) -> tuple[KeyPath, Any]:
    """The first leaf at or below ``path`` that Istio 1.1's table answers, with its value."""
    node: Any = values
    for segment in path:
        node = node.get(segment) if isinstance(node, Mapping) else None
    stack: list[tuple[KeyPath, Any]] = [(path, node)]
    while stack:
        where, item = stack.pop()
        if isinstance(item, Mapping) and item:
            stack += [
                ((*where, str(key)), item[key]) for key in sorted(item, key=str, reverse=True)
            ]
        elif upstream_answer(where) is not None:
            return where, item
    return (), None


def _violation(
    resolved: ResolvedValues, chart: str, path: KeyPath, error: jsonschema.ValidationError
) -> ValuesError:
    origin = resolved.origin(path)
    shown = _shown_path(resolved, path) or "(top level)"
    rule = _upstream_rule(resolved, path, error) or (
        f"{schema_message(error)} [schema: {error.validator}]"
    )
    if origin is None:
        return ValuesError(f"chart {chart}: value {shown}", rule)
    # The line of the bad value itself when the layer set a whole list or map above it.
    line = origin.layer.line(resolved.canonical(path) or path) or origin.line
    source = origin.layer.source
    where = f"{source}:{line}" if source and line else source
    if _is_env(origin):
        prefix = "" if path[:1] == ("mesh",) else "values."
        return ValuesError(where, f"{prefix}{shown}: {rule}")
    where = f", {where}" if where else ""
    return ValuesError(f"chart {chart}: value {shown} (set by {origin.layer.name}{where})", rule)


def validate_values(
    values: Mapping[str, Any],
    resolved: ResolvedValues,
    *,
    chart: str | ChartDef,
    components: Sequence[Component],
    trusted: Mapping[str, Any] | None = None,
) -> None:
    """Validate a chart's values against its schema, naming the layer that set a bad value.

    Args:
        values: the chart's values as Helm will see them.
        resolved: their provenance.
        chart: the chart (a built-in chart may be given by name).
        components: the chart's compiled components.
        trusted: values known to be valid; only the top-level keys that differ from them
            are validated again.

    Raises:
        ValuesError: ``file:line: values.<key>: <message> [schema: <rule>]`` for a value
            an environment file set, ``chart <chart>: value <key> (set by <layer>, <source>):
            ...`` otherwise.
    """
    found = _first_error(values, _compile(chart, components), trusted)
    if found is not None:
        raise _violation(resolved, _definition(chart).name, *found)


# --- the file --------------------------------------------------------------------------------


def _describe(assignment: Assignment, path: KeyPath | None = None) -> str:
    """``env prod (prod.yaml:12)``: the layer, and the line of ``path`` (or its own) there."""
    line = assignment.layer.line(path) if path is not None else assignment.line
    if assignment.layer.source and line:
        return f"{assignment.layer.name} ({Path(assignment.layer.source).name}:{line})"
    return assignment.layer.name


def _comments(
    resolved: ResolvedValues, overlay: Mapping[str, Any]
) -> Callable[[KeyPath], str | None]:
    """Provenance comments for the values file: who set each leaf, or removed it."""

    def comment(path: KeyPath) -> str | None:
        chains = resolved.provenance()
        value: Any = overlay
        for part in path:
            value = value.get(part) if isinstance(value, Mapping) else None
        if isinstance(value, Mapping) and value:
            return None
        if value is None:
            removed = chains.get(path) or []
            return f"removed by {_describe(removed[-1])}" if removed else "removed"
        if not isinstance(value, list):
            chain = chains.get(path)
            origin = chain[-1] if chain else resolved.origin(path)
            if origin is None or origin.layer.name == "chart defaults":
                return None
            return f"from {_describe(origin)}"
        # A list: every layer whose values are still in it, at the line of the list.
        setters = [
            chain[-1]
            for leaf, chain in chains.items()
            if leaf[: len(path)] == path and chain and chain[-1].value is not DELETED
        ]
        setters += [a for a in chains.get(path, [])[-1:] if not a.merged]
        layers = {id(a.layer): a.layer for a in setters if a.layer.name != "chart defaults"}
        ordered = [layer for layer in resolved.layers if id(layer) in layers]
        names = [_describe(Assignment(layer, path, None), path) for layer in ordered]
        if not names:
            return None
        rule = resolved.rules.rule_for(path)
        how = f"items merged by {rule.key}" if rule is not None else "replaced"
        return f"{how}: " + ", ".join(names)

    return comment


def _header(
    resolution: Resolution, chart: str, environment: str, full: bool, package: str | None
) -> str:
    what = "every value" if full else "only what differs from the chart's values.yaml"
    subject = f"environment {environment}" if environment else f"profile {resolution.profile}"
    layers = ", ".join(dict.fromkeys(layer.name for layer in resolution.values.layers))
    package = package or f"<the {chart} package of profile {resolution.profile}>"
    return (
        f"Values of {subject} for chart {chart} of profile {resolution.profile}:\n"
        f"{what}, checked against the chart's values.schema.json.\n"
        f"Layers: {layers}. Generated by meshcharts.\n"
        f"Install: helm install {chart} {package} --namespace istio-system -f <this file>"
    )


def values_file(
    resolution: Resolution,
    packaged_resolution: Resolution,
    *,
    chart: str = "istio",
    environment: str = "",
    full: bool = False,
    trusted: bool = False,
    package: str | None = None,
) -> ValuesFile:
    """The values file that installs ``resolution`` over the package of its profile.

    Args:
        resolution: the environment's resolution.
        packaged_resolution: the resolution the package was built from (the profile, with
            the build's ``--set``).
        chart: the chart the file is for.
        environment: the environment name, for the header.
        full: every value instead of only what differs from the packaged values.
        trusted: the packaged values are known to be valid (only changed keys are
            validated again).
        package: the chart package's path, for the install command in the header.

    Raises:
        UserError: the profile builds no such chart.
        ValuesError: the values Helm will see violate the chart's schema.
    """
    if chart not in resolution.charts:
        raise UserError(
            f"--chart {chart}",
            f"not built by profile {resolution.profile!r} (charts: {', '.join(resolution.charts)})",
        )
    components = resolution.charts[chart]
    definition = resolution.chart(chart)
    keys = _compile(definition, components).keys
    packaged = {k: v for k, v in packaged_resolution.values.values.items() if k in keys}
    resolved = {k: v for k, v in resolution.values.values.items() if k in keys}
    overlay = _with_deletions(packaged, resolved) if full else minimal_overlay(packaged, resolved)
    installed = helm_coalesce(overlay, packaged)
    if not _same(installed, resolved):  # pragma: no cover - a bug, not a user error
        raise MeshchartsError(f"values file of {environment or resolution.profile} is not exact")
    validate_values(
        installed,
        resolution.values,
        chart=definition,
        components=components,
        trusted=packaged if trusted else None,
    )
    header = _header(resolution, chart, environment, full, package)
    text = dump_values(overlay, docs=_comments(resolution.values, overlay), header=header)
    return ValuesFile(chart, resolution.profile, environment, overlay, text)


def provenance_keys(resolution: Resolution, chart: str) -> frozenset[str]:
    """The top-level keys of ``chart`` in a resolution (for ``--explain-all --chart``)."""
    return frozenset(resolution.chart(chart).defaults(resolution.charts[chart]))
