"""Istio 1.1 values files into environment files (``meshcharts import-values``).

A team that installs Istio 1.1's own charts keeps its settings in a values file written for
them. :func:`import_values` reads such a file key by key (each leaf: a scalar, a list or
an empty map) and sorts every key into one of four groups:

- **translated**: an upstream spelling (:data:`~meshcharts.catalog.upstream.UPSTREAM_1_1`),
  or a number or boolean where the chart takes a string (upstream's templates quoted it);
- **unsupported**: a key meshcharts does not take (the reason, and what to use instead), a
  component the profile does not compile in, or a value the chart's schema refuses;
- **dropped**: equal to the profile's value, a null (which leaves the value as it is), an
  empty map (which changes nothing), or an upstream value that describes what meshcharts
  does anyway;
- **kept**: written to the environment file.

The keys the file does not mention take the profile's values, not upstream's defaults.
Without a profile, the smallest built-in profile that compiles in every component the
file enables (upstream's defaults counted) is chosen. The result is checked the way
``meshcharts values --env`` checks an environment: every chart's values against its schema.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import jsonschema

from meshcharts.base.yamltext import dump_values
from meshcharts.catalog.upstream import UPSTREAM_ENABLED, Renamed, spell_value, upstream_answer
from meshcharts.chart.assemble import chart_values
from meshcharts.chart.schema import schema_message, schema_node
from meshcharts.chart.valuesfile import chart_schema, validate_values
from meshcharts.errors import UserError
from meshcharts.gotemplate.gofmt import sprint_value
from meshcharts.inputs.profiles import ProfileSet
from meshcharts.inputs.yamlsource import load_yaml_file
from meshcharts.resolution.environments import profile_resolution
from meshcharts.resolution.resolve import Resolution, resolve_from
from meshcharts.values.keypaths import KeyPath, get_path, leaf_paths
from meshcharts.values.mergerules import PATCH
from meshcharts.values.origins import Layer

__all__ = ["ImportEntry", "ImportedValues", "import_values"]

_MISSING = object()


@dataclass(frozen=True)
class ImportEntry:
    """One key of the imported file and what became of it.

    Attributes:
        key: the upstream key, dotted.
        value: its value in the file.
        detail: translated: the key and value written; unsupported: why, and what to use
            instead; dropped: why; kept: empty.
    """

    key: str
    value: Any
    detail: str = ""


@dataclass(frozen=True)
class ImportedValues:
    """An imported values file: the environment's values and the report.

    Attributes:
        source: the file read.
        profile: the profile the environment installs.
        profile_reason: why that profile (given, or chosen and why).
        values: the environment's ``values`` overlay.
        translated: keys written under another name or in another form.
        unsupported: keys not written, with the reason.
        dropped: keys not written because they change nothing.
        kept: keys written as they were.
        required: values the profile needs at install that the file does not set
            (dotted key -> example).
    """

    source: str
    profile: str
    profile_reason: str
    values: Mapping[str, Any]
    translated: tuple[ImportEntry, ...] = ()
    unsupported: tuple[ImportEntry, ...] = ()
    dropped: tuple[ImportEntry, ...] = ()
    kept: tuple[ImportEntry, ...] = ()
    required: Mapping[str, str] = field(default_factory=dict)

    def environment_text(self, name: str) -> str:
        """The environment file, named ``name`` (its file must be ``<name>.yaml``)."""
        header = (
            f"Imported from {Path(self.source).name} (Istio 1.1 values) by meshcharts "
            f"import-values:\n{len(self.kept)} kept, {len(self.translated)} translated, "
            f"{len(self.unsupported)} unsupported, {len(self.dropped)} dropped."
        )
        document = {"name": name, "profile": self.profile, "values": dict(self.values)}
        return dump_values(document, header=header)

    def report(self) -> str:
        """The report for people: the profile, then each group with its keys."""
        lines = [f"profile {self.profile}: {self.profile_reason}"]
        groups = (
            ("translated", self.translated),
            ("unsupported", self.unsupported),
            ("dropped", self.dropped),
            ("kept", self.kept),
        )
        for title, entries in groups:
            lines.append(f"{title} ({len(entries)}):")
            for entry in entries:
                shown = f"  {entry.key}: {spell_value(entry.value)}"
                lines.append(f"{shown} -> {entry.detail}" if entry.detail else shown)
        for key, example in sorted(self.required.items()):
            lines.append(f"to set at install (profile {self.profile}): {key} (e.g. {example})")
        return "\n".join(lines) + "\n"

    def as_json(self) -> dict[str, Any]:
        """The report and the values as plain data (``--format json``)."""

        def entries(group: tuple[ImportEntry, ...]) -> list[dict[str, Any]]:
            return [{"key": e.key, "value": e.value, "detail": e.detail} for e in group]

        return {
            "source": self.source,
            "profile": self.profile,
            "profile_reason": self.profile_reason,
            "values": dict(self.values),
            "translated": entries(self.translated),
            "unsupported": entries(self.unsupported),
            "dropped": entries(self.dropped),
            "kept": entries(self.kept),
            "required": dict(self.required),
        }


def environment_name(source: Path) -> str:
    """A DNS-label environment name made from a file name (``values-istio-demo``)."""
    # Only [a-z0-9-] remain, with no '-' at either end: a label, unless nothing remains.
    stem = re.sub(r"[^a-z0-9-]+", "-", source.stem.lower()).strip("-")[:63].strip("-")
    return stem or "imported"


def _same(a: Any, b: Any) -> bool:
    """Equal as YAML values: ``1`` is not ``true``, ``1`` equals ``1.0``."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return bool(type(a) is type(b) or {type(a), type(b)} <= {int, float}) and a == b


def _enabled(document: Mapping[str, Any]) -> set[str]:
    """The components the file installs, upstream's defaults counted."""
    found = set()
    for name, default in UPSTREAM_ENABLED.items():
        node = document.get(name)
        flag = node.get("enabled", default) if isinstance(node, Mapping) else default
        if flag is True:
            found.add(name)
    mixer = document.get("mixer")
    if "mixer" in found and isinstance(mixer, Mapping):
        # Upstream's chart runs Mixer for its policy and telemetry Deployments (both on by
        # default); with both off nothing of it is installed.
        parts = [mixer.get(part) for part in ("policy", "telemetry")]
        if not any(p.get("enabled", True) if isinstance(p, Mapping) else True for p in parts):
            found.discard("mixer")
    return found


def _choose_profile(profiles: ProfileSet, wanted: set[str]) -> tuple[str, str]:
    """The smallest built-in profile of the istio chart that compiles in ``wanted``."""
    scored = []
    for name in sorted(profiles.builtin):
        compiled = set(profiles.charts(name).get("istio", ()))
        if compiled:
            scored.append((len(wanted - compiled), len(compiled), name))
    if not scored:
        raise UserError("import-values", "no profile builds the istio chart; give --profile")
    missing, _, name = min(scored)
    compiled = set(profiles.charts(name)["istio"])
    shown = ", ".join(sorted(wanted & compiled)) or "none"
    reason = f"chosen: the smallest profile with the components the file enables ({shown})"
    if missing:
        reason += f"; none has {', '.join(sorted(wanted - compiled))}"
    return name, reason


@dataclass
class _Sorter:
    """Sorts the keys of one file against one profile's resolution."""

    resolution: Resolution
    values: dict[str, Any] = field(default_factory=dict)
    translated: list[ImportEntry] = field(default_factory=list)
    unsupported: list[ImportEntry] = field(default_factory=list)
    dropped: list[ImportEntry] = field(default_factory=list)
    kept: list[ImportEntry] = field(default_factory=list)

    def chart_of(self, top: str) -> str | None:
        """The chart of the profile that reads top-level key ``top``."""
        catalog = self.resolution.catalog
        for name, components in self.resolution.charts.items():
            if top in {c.name for c in components} or top in catalog.charts[name].values:
                return name
        if top == "global" and self.resolution.charts:
            return (
                "istio" if "istio" in self.resolution.charts else next(iter(self.resolution.charts))
            )
        return None

    def add(self, path: KeyPath, value: Any) -> None:
        """Sort one upstream key."""
        key = ".".join(path)
        found = upstream_answer(path)
        if found is None:
            self.place(ImportEntry(key, value), path, value)
            return
        answer = found[1]
        if isinstance(answer, Renamed):
            try:
                new_value = answer.translate(value)
            except KeyError:
                why = f"a value Istio 1.1 did not take either; see {answer.target}"
                self.unsupported.append(ImportEntry(key, value, why))
                return
            detail = f"{answer.target}: {spell_value(new_value)} ({answer.note})"
            entry = ImportEntry(key, value, detail)
            self.place(entry, tuple(answer.target.split(".")), new_value)
        elif answer.same is None or any(_same(value, same) for same in answer.same):
            self.dropped.append(ImportEntry(key, value, f"meshcharts does this: {answer.reason}"))
        else:
            self.unsupported.append(ImportEntry(key, value, answer.hint()))

    def place(self, entry: ImportEntry, path: KeyPath, value: Any) -> None:
        """Keep a (possibly translated) key if the profile takes it and it changes something.

        ``entry`` is the upstream key; with a detail, it was translated to ``path``.
        """
        chart = self.chart_of(path[0])
        if chart is None:
            self.not_compiled(entry, path, value)
            return
        schema = chart_schema(self.resolution.chart(chart), self.resolution.charts[chart])
        node = schema_node(schema, path)
        if value is None or (isinstance(value, Mapping) and not value):
            why = (
                "null: the profile's value stays"
                if value is None
                else "an empty map changes nothing"
            )
            self.dropped.append(replace(entry, detail=why))
            return
        if node is None or "not" in node:
            self.unsupported.append(replace(entry, detail=f"not a value of chart {chart}"))
            return
        if node.get("type") == "string" and isinstance(value, bool | int | float):
            value = sprint_value(value)
            entry = replace(
                entry, detail=entry.detail or f"{value!r} (a string, as upstream quoted it)"
            )
        error = next(iter(jsonschema.Draft7Validator(node).iter_errors(value)), None)
        if error is not None:
            self.unsupported.append(replace(entry, detail=schema_message(error)))
        elif self.unchanged(path, value):
            was = f" (as {entry.detail})" if entry.detail else ""
            detail = f"equal to profile {self.resolution.profile}'s value{was}"
            self.dropped.append(replace(entry, detail=detail))
        else:
            (self.translated if entry.detail else self.kept).append(entry)
            self.write(path, value)

    def unchanged(self, path: KeyPath, value: Any) -> bool:
        """Whether ``value`` is the profile's value already."""
        current = _lookup(self.resolution.values.values, path)
        return current is not _MISSING and _same(current, value)

    def write(self, path: KeyPath, value: Any) -> None:
        """Set ``value`` at ``path`` in the environment's values."""
        if isinstance(value, list) and self.resolution.values.rules.rule_for(path) is not None:
            # Upstream's list replaces the chart's; a keyed list here would merge into it.
            value = [{PATCH: "replace"}, *value]
        target = self.values
        for segment in path[:-1]:
            target = target.setdefault(segment, {})
        target[path[-1]] = value

    def not_compiled(self, entry: ImportEntry, path: KeyPath, value: Any) -> None:
        """A key of a component the profile leaves out, or of nothing at all."""
        profile = self.resolution.profile
        charts = self.resolution.catalog.charts.values()
        if not any(path[0] in {c.name for c in chart.components} for chart in charts):
            known = path[0] in UPSTREAM_ENABLED
            why = (
                f"Istio 1.1's {path[0]} has no meshcharts component"
                if known
                else "not a key of Istio 1.1's charts nor of meshcharts"
            )
            self.unsupported.append(replace(entry, detail=why))
        elif path[-1] == "enabled" and value is False:
            why = f"off already: {path[0]} is not compiled into profile {profile}"
            self.dropped.append(replace(entry, detail=why))
        else:
            why = (
                f"component {path[0]} is not compiled into profile {profile}; "
                "choose a profile that has it (--profile)"
            )
            self.unsupported.append(replace(entry, detail=why))


def import_values(
    profiles: ProfileSet, source: Path, *, profile: str | None = None
) -> ImportedValues:
    """Read an Istio 1.1 values file and make an environment's values of it.

    Args:
        profiles: the profiles (and their catalog) to import into.
        source: the upstream values file.
        profile: the profile to install; None: chosen from what the file enables.

    Returns:
        The environment's values and the report.

    Raises:
        UserError: the file cannot be read or is not a map of values, or an unknown
            profile.
        ValuesError: the imported values fail a chart's schema (a meshcharts defect: every
            key was checked on its own).
    """
    document = load_yaml_file(source).data
    if document is None:
        document = {}
    if not isinstance(document, Mapping):
        raise UserError(str(source), "is not a map of values")
    if profile is None:
        profile, reason = _choose_profile(profiles, _enabled(document))
    else:
        if profile not in profiles.profiles:
            known = ", ".join(profiles.names())
            raise UserError(f"--profile {profile}", f"unknown profile (known: {known})")
        reason = "given"
    base = profile_resolution(profiles, profile)
    sorter = _Sorter(base)
    for path in sorted(leaf_paths(document)):
        sorter.add(path, get_path(document, path))
    _check(base, sorter.values, str(source))
    required = {
        key: example
        for key, example in base.required.items()
        if _lookup(sorter.values, tuple(key.split("."))) is _MISSING
    }
    return ImportedValues(
        source=str(source),
        profile=profile,
        profile_reason=reason,
        values=sorter.values,
        translated=tuple(sorter.translated),
        unsupported=tuple(sorter.unsupported),
        dropped=tuple(sorter.dropped),
        kept=tuple(sorter.kept),
        required=required,
    )


def _lookup(values: Mapping[str, Any], path: KeyPath) -> Any:
    """The value at ``path``, or ``_MISSING``."""
    try:
        return get_path(values, path)
    except KeyError:
        return _MISSING


def _check(base: Resolution, values: Mapping[str, Any], source: str) -> None:
    """Validate the imported values as ``values --env`` would."""
    layer = Layer("env imported", values, source)
    resolution = resolve_from(base, extra_layers=[layer])
    for name, components in resolution.charts.items():
        part = chart_values(resolution.chart(name), components, resolution.values.values)
        validate_values(
            part, resolution.values, chart=resolution.chart(name), components=components
        )
