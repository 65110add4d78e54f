"""Semantic diff of two installations: the resolved values, then the rendered objects.

A :class:`Side` is what one installation would be: its resolved values (with provenance
when they come from layers) and its chart trees. :func:`diff_resolutions` compares two
sides and returns a :class:`DiffReport`:

1. **values** — every leaf key path whose value differs (lists compared whole, keys only
   on one side reported as added or removed), with the layer and ``file:line`` that set
   it on each side;
2. **objects** — the Kubernetes objects the charts render to (pure Python,
   :func:`~meshcharts.checks.render.render_objects`, no helm binary), matched by
   kind/namespace/name, so document order and YAML formatting never count. Each changed
   object lists its changed field paths with the old and new values. Lists whose items
   are maps with distinct ``name`` fields (containers, ports, env vars) are matched by name
   (``containers[name=discovery]``), and a change of their order alone is reported as an
   ``(order)`` change; other lists are matched item by item as a line diff matches
   lines (an item removed is indexed as in a, an item added as in b).

Everything is sorted, so the same inputs always give the same report. Sides come from a
:class:`~meshcharts.resolution.resolve.Resolution`
(a profile or an environment: :func:`resolution_side`)
or from built packages (:func:`package_side`, over :func:`load_package`, which has no
provenance: its values are the "packaged values").
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal

import yaml

from meshcharts.base.archive import read_package
from meshcharts.chart.assemble import ChartTree
from meshcharts.chart.profile import NAMESPACE, assemble_profile, revision_namespace
from meshcharts.checks.render import RenderError, render_objects
from meshcharts.errors import UserError
from meshcharts.inputs.profiles import ProfileSet
from meshcharts.inputs.yamlsource import load_yaml
from meshcharts.resolution.resolve import Resolution, resolve
from meshcharts.values.keypaths import KeyPath
from meshcharts.values.origins import ResolvedValues

__all__ = [
    "ABSENT",
    "PACKAGED_VALUES",
    "DiffError",
    "DiffReport",
    "FieldChange",
    "ObjectChange",
    "Origin",
    "Side",
    "ValueChange",
    "diff_json",
    "diff_resolutions",
    "diff_sides",
    "format_diff",
    "load_package",
    "package_side",
    "resolution_side",
]

PACKAGED_VALUES: Final = "packaged values"
"""The layer name shown for values read from a built package (no provenance there)."""

Change = Literal["changed", "added", "removed"]

_LOADER: Final[Any] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class DiffError(UserError):
    """A diff input cannot be read or rendered."""


class _Absent:
    """The value on the side where a key or field does not exist."""

    def __repr__(self) -> str:
        return "<absent>"


ABSENT: Final[Any] = _Absent()


@dataclass(frozen=True)
class Origin:
    """Where one side's value came from: the layer, and ``file:line`` where known."""

    layer: str
    where: str = ""

    def __str__(self) -> str:
        return f"{self.layer} ({self.where})" if self.where else self.layer


@dataclass(frozen=True)
class Side:
    """One installation to compare.

    Attributes:
        label: how the side is shown, e.g. ``env prod``, ``profile demo``, ``istio-1.0.6.tgz``.
        values: its values (for a resolution the merged values of every chart; for a
            package its ``values.yaml``).
        charts: the chart trees rendered for the object diff, in install order.
        provenance: the resolved values with their layers, or None for packaged values.
        source: for packaged values, the file they were read from.
        namespace: the namespace the charts are rendered into (None: each chart's own,
            ``istio-system`` or its revision's namespace).
    """

    label: str
    values: Mapping[str, Any]
    charts: tuple[ChartTree, ...]
    provenance: ResolvedValues | None = None
    source: str = ""
    namespace: str | None = None

    def origin(self, path: KeyPath) -> Origin:
        """The layer (and ``file:line``) behind the value at ``path``."""
        if self.provenance is None:
            return Origin(PACKAGED_VALUES, self.source)
        assignment = self.provenance.origin(path)
        if assignment is None:
            return Origin("unknown")
        return Origin(assignment.layer.name, assignment.where)


@dataclass(frozen=True)
class ValueChange:
    """A values leaf that differs; ``a``/``b`` are ``ABSENT`` on the side without it."""

    path: KeyPath
    a: Any
    b: Any
    a_origin: Origin | None
    b_origin: Origin | None

    @property
    def change(self) -> Change:
        """``changed``, ``added`` (only in b) or ``removed`` (only in a)."""
        return _change(self.a, self.b)

    @property
    def key(self) -> str:
        """The key path as text (``pilot.replicaCount``)."""
        return _format_path(self.path)


@dataclass(frozen=True)
class FieldChange:
    """A field of an object that differs; ``a``/``b`` are ``ABSENT`` where it is missing."""

    path: str
    a: Any
    b: Any

    @property
    def change(self) -> Change:
        """``changed``, ``added`` (only in b) or ``removed`` (only in a)."""
        return _change(self.a, self.b)


@dataclass(frozen=True)
class ObjectChange:
    """A rendered object that differs, is added (only in b) or removed (only in a)."""

    kind: str
    namespace: str
    name: str
    change: Change
    fields: tuple[FieldChange, ...] = ()

    @property
    def title(self) -> str:
        """``Kind namespace/name``, or ``Kind name`` for a cluster-scoped object."""
        scope = f"{self.namespace}/" if self.namespace else ""
        return f"{self.kind} {scope}{self.name}"


@dataclass(frozen=True)
class DiffReport:
    """What differs between two sides: values first, then rendered objects, both sorted."""

    a: str
    b: str
    values: tuple[ValueChange, ...]
    objects: tuple[ObjectChange, ...]

    @property
    def equal(self) -> bool:
        """Whether nothing differs."""
        return not self.values and not self.objects

    def to_json(self) -> dict[str, Any]:
        """The report as JSON data; a side's entry is left out where it has no value."""
        return {
            "a": self.a,
            "b": self.b,
            "equal": self.equal,
            "values": [_value_json(change) for change in self.values],
            "objects": [_object_json(change) for change in self.objects],
        }


# --- building sides ---------------------------------------------------------------------


def resolution_side(resolution: Resolution, *, label: str, version: str) -> Side:
    """The side of a resolved profile or environment: its charts assembled at ``version``."""
    charts = tuple(assemble_profile(resolution, version=version))
    return Side(label, resolution.values.values, charts, provenance=resolution.values)


def load_package(path: Path) -> ChartTree:
    """Read a built chart package (``.tgz``) into a chart tree, in memory, within Helm's limits.

    Raises:
        DiffError: the file is missing, too large, not a gzipped tar of one chart with a
            Chart.yaml, or holds links, absolute paths or ``..`` entries.
    """
    try:
        package = read_package(path)
    except UserError as exc:
        raise DiffError(exc.subject, exc.problem) from None
    top, tree = package.top, package.files
    if "Chart.yaml" not in tree:
        raise DiffError(str(path), f"not a chart package: no {top}/Chart.yaml")
    metadata = _load_yaml(tree["Chart.yaml"], path, f"{top}/Chart.yaml")
    if not isinstance(metadata, dict):
        raise DiffError(str(path), f"{top}/Chart.yaml is not a mapping")
    name = str(metadata.get("name", top))
    return ChartTree(name, str(metadata.get("version", "")), metadata, tree)


def package_side(path: Path, *, label: str | None = None) -> Side:
    """The side of a built package: its ``values.yaml`` ("packaged values") and its chart.

    A revision's ``istio`` chart (``revision`` set in its values) is rendered into the
    revision's namespace, as ``meshcharts build`` installs it.

    Raises:
        DiffError: the package cannot be read, or its values.yaml is not a mapping.
    """
    tree = load_package(path)
    loaded = _load_yaml(tree.files.get("values.yaml", b"{}"), path, f"{tree.name}/values.yaml")
    values = {} if loaded is None else loaded
    if not isinstance(values, dict):
        raise DiffError(str(path), f"{tree.name}/values.yaml is not a mapping")
    revision = values.get("revision")
    namespace = revision_namespace(revision) if isinstance(revision, str) and revision else None
    return Side(
        label or path.name,
        values,
        (tree,),
        source=f"{path}:{tree.name}/values.yaml",
        namespace=namespace,
    )


def diff_sides(
    profiles: ProfileSet,
    *,
    packages: Sequence[Path] = (),
    env_files: Sequence[Path] = (),
    names: Sequence[str] = (),
    version: str,
) -> DiffReport:
    """Compare two sides, as ``meshcharts diff`` does.

    The sides are two packages, or every environment file then every profile name (two
    in all). Labels are file names where they differ, paths where they are the same.

    Raises:
        UserError: not exactly two sides, or a side cannot be read, resolved or rendered.
    """
    from meshcharts.inputs.environments import load_environment
    from meshcharts.resolution.environments import resolve_environment

    if (packages and (env_files or names)) or len(packages) + len(env_files) + len(names) != 2:
        raise UserError(
            "meshcharts diff", "give two sides: two of --env/--profile, or two .tgz packages"
        )
    if packages:
        same = packages[0].name == packages[1].name
        a, b = (package_side(path, label=str(path) if same else path.name) for path in packages)
        return diff_resolutions(a, b)
    sides: list[Side] = []
    loaded = [load_environment(path) for path in env_files]
    same = len(loaded) == 2 and loaded[0].name == loaded[1].name
    for environment in loaded:
        label = f"env {environment.path if same else environment.name}"
        resolution = resolve_environment(profiles, environment)
        sides.append(resolution_side(resolution, label=label, version=version))
    for name in names:
        resolution = resolve(profiles, name)
        sides.append(resolution_side(resolution, label=f"profile {name}", version=version))
    return diff_resolutions(sides[0], sides[1])


def _load_yaml(data: bytes, path: Path, name: str) -> Any:
    """A file of a package, read as Helm reads it and within the YAML limits."""
    try:
        return load_yaml(data.decode("utf-8"), f"{path}:{name}").data
    except UnicodeDecodeError as exc:
        raise DiffError(f"{path}:{name}", f"is not UTF-8 ({exc.reason})") from None
    except UserError as exc:
        raise DiffError(exc.subject, exc.problem) from None


# --- comparing ----------------------------------------------------------------------------


def _change(a: Any, b: Any) -> Change:
    if a is ABSENT:
        return "added"
    if b is ABSENT:
        return "removed"
    return "changed"


def _numbers(value: Any) -> Any:
    """``1.0`` as ``1``: Helm reads every number as a float64, so they are the same value."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, Mapping):
        return {key: _numbers(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_numbers(item) for item in value]
    return value


def _canonical(value: Any) -> str:
    """JSON text with sorted keys that tells ``true`` from ``1`` and ``"1"`` from ``1``."""
    return json.dumps(_numbers(value), sort_keys=True, ensure_ascii=False, default=str)


def _same(a: Any, b: Any) -> bool:
    return a is b or _canonical(a) == _canonical(b)


def _value_leaves(values: Any, prefix: KeyPath) -> Iterator[tuple[KeyPath, Any]]:
    """Leaves of a values tree: scalars, lists and empty maps."""
    if isinstance(values, Mapping) and values:
        for key in sorted(values, key=str):
            yield from _value_leaves(values[key], (*prefix, str(key)))
    else:
        yield prefix, values


def _value_changes(a: Any, b: Any, path: KeyPath) -> Iterator[tuple[KeyPath, Any, Any]]:
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        for key in sorted(set(a) | set(b), key=str):
            sub = (*path, str(key))
            if key not in b:
                yield from ((p, v, ABSENT) for p, v in _value_leaves(a[key], sub))
            elif key not in a:
                yield from ((p, ABSENT, v) for p, v in _value_leaves(b[key], sub))
            else:
                yield from _value_changes(a[key], b[key], sub)
    elif not _same(a, b):
        yield path, a, b


def _named(items: list[Any]) -> list[str] | None:
    """The ``name`` of every item, if all are maps with distinct string names."""
    names = [item.get("name") if isinstance(item, dict) else None for item in items]
    if not items or not all(isinstance(n, str) for n in names) or len(set(names)) < len(names):
        return None
    return [str(n) for n in names]


def _field_changes(a: Any, b: Any, path: str) -> Iterator[FieldChange]:
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b), key=str):
            sub = _join(path, str(key))
            if key not in b:
                yield FieldChange(sub, a[key], ABSENT)
            elif key not in a:
                yield FieldChange(sub, ABSENT, b[key])
            else:
                yield from _field_changes(a[key], b[key], sub)
    elif isinstance(a, list) and isinstance(b, list):
        yield from _list_changes(a, b, path)
    elif not _same(a, b):
        embedded = _embedded_yaml(a), _embedded_yaml(b)
        if embedded[0] is not None and embedded[1] is not None:
            yield from _field_changes(*embedded, f"{path}(yaml)")
        else:
            yield FieldChange(path, a, b)


def _embedded_yaml(value: Any) -> dict[str, Any] | None:
    """A multi-line string that holds a YAML (or JSON) map, parsed; else None."""
    if not isinstance(value, str) or "\n" not in value.strip():
        return None
    try:
        loaded = load_yaml(value, "embedded").data
    except UserError:
        return None
    return loaded if isinstance(loaded, dict) else None


def _list_changes(a: list[Any], b: list[Any], path: str) -> Iterator[FieldChange]:
    names_a, names_b = _named(a), _named(b)
    if names_a is not None and names_b is not None:
        by_a, by_b = dict(zip(names_a, a, strict=True)), dict(zip(names_b, b, strict=True))
        for name in sorted(set(names_a) | set(names_b)):
            sub = f"{path}[name={name}]"
            yield from _field_changes(by_a.get(name, ABSENT), by_b.get(name, ABSENT), sub)
        common = set(names_a) & set(names_b)
        order_a, order_b = [n for n in names_a if n in common], [n for n in names_b if n in common]
        if order_a != order_b:
            yield FieldChange(f"{path}(order)", order_a, order_b)
    else:
        yield from _sequence_changes(a, b, path)


def _sequence_changes(a: list[Any], b: list[Any], path: str) -> Iterator[FieldChange]:
    """Items removed (indexed as in a), added (indexed as in b) or changed in place."""
    matcher = difflib.SequenceMatcher(None, [_canonical(x) for x in a], [_canonical(x) for x in b])
    for tag, a1, a2, b1, b2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        if tag == "replace" and a2 - a1 == b2 - b1:
            for i, j in zip(range(a1, a2), range(b1, b2), strict=True):
                yield from _field_changes(a[i], b[j], f"{path}[{i}]")
            continue
        for i in range(a1, a2):
            yield FieldChange(f"{path}[{i}]", a[i], ABSENT)
        for j in range(b1, b2):
            yield FieldChange(f"{path}[{j}]", ABSENT, b[j])


def _segment(key: str) -> str:
    plain = key and not any(c in key for c in ".[]\"' ") and not key.isdigit()
    return key if plain else json.dumps(key, ensure_ascii=False)


def _join(path: str, key: str) -> str:
    segment = _segment(key)
    if not path:
        return segment
    return f"{path}.{segment}" if segment == key else f"{path}[{segment}]"


def _format_path(path: KeyPath) -> str:
    text = ""
    for key in path:
        text = _join(text, key)
    return text


ObjectKey = tuple[str, str, str]


def _object_key(obj: Mapping[str, Any]) -> ObjectKey:
    metadata = obj.get("metadata")
    meta = metadata if isinstance(metadata, Mapping) else {}
    return (str(obj.get("kind", "")), str(meta.get("namespace") or ""), str(meta.get("name", "")))


def _index_objects(objects: Sequence[Mapping[str, Any]]) -> dict[ObjectKey, Mapping[str, Any]]:
    """Objects by kind/namespace/name; duplicates get ``#2``, ``#3``... in a fixed order."""
    groups: dict[ObjectKey, list[Mapping[str, Any]]] = {}
    for obj in objects:
        groups.setdefault(_object_key(obj), []).append(obj)
    indexed: dict[ObjectKey, Mapping[str, Any]] = {}
    for (kind, namespace, name), group in groups.items():
        for number, obj in enumerate(sorted(group, key=_canonical), 1):
            indexed[(kind, namespace, name if number == 1 else f"{name}#{number}")] = obj
    return indexed


def _install_values(tree: ChartTree) -> dict[str, Any]:
    """The example of every required value that the chart's values leave empty."""
    values = _load_yaml(tree.files.get("values.yaml", b"{}"), Path(tree.name), "values.yaml")
    result: dict[str, Any] = {}
    for key, example in sorted(tree.required.items()):
        *parents, leaf = key.split(".")
        node: Any = values
        for part in key.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        if node in (None, ""):
            target = result
            for part in parents:
                target = target.setdefault(part, {})
            target[leaf] = example
    return result


def _render(side: Side) -> list[dict[str, Any]]:
    objects: list[dict[str, Any]] = []
    for tree in side.charts:
        namespace = side.namespace or NAMESPACE
        try:
            objects += render_objects(
                tree, release=tree.name, namespace=namespace, values=_install_values(tree)
            )
        except RenderError as exc:
            raise DiffError(f"{side.label}: chart {tree.name}", f"does not render: {exc}") from None
    return objects


def _object_changes(a: Side, b: Side) -> Iterator[ObjectChange]:
    objects_a, objects_b = _index_objects(_render(a)), _index_objects(_render(b))
    for key in sorted(set(objects_a) | set(objects_b)):
        if key not in objects_b:
            yield ObjectChange(*key, "removed")
        elif key not in objects_a:
            yield ObjectChange(*key, "added")
        else:
            fields = tuple(_field_changes(objects_a[key], objects_b[key], ""))
            if fields:
                yield ObjectChange(*key, "changed", fields)


def diff_resolutions(a: Side, b: Side) -> DiffReport:
    """Compare two sides: the values that differ, then the rendered objects that differ.

    Raises:
        DiffError: a chart of either side does not render.
    """
    values = tuple(
        ValueChange(
            path,
            va,
            vb,
            None if va is ABSENT else a.origin(path),
            None if vb is ABSENT else b.origin(path),
        )
        for path, va, vb in _value_changes(a.values, b.values, ())
    )
    return DiffReport(a.label, b.label, values, tuple(_object_changes(a, b)))


# --- output -----------------------------------------------------------------------------


def _show(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


def _side_json(value: Any, origin: Origin | None) -> dict[str, Any]:
    entry: dict[str, Any] = {"value": value}
    if origin is not None:
        entry["layer"] = origin.layer
        entry["where"] = origin.where
    return entry


def _value_json(change: ValueChange) -> dict[str, Any]:
    entry: dict[str, Any] = {"path": change.key, "change": change.change}
    if change.a is not ABSENT:
        entry["a"] = _side_json(change.a, change.a_origin)
    if change.b is not ABSENT:
        entry["b"] = _side_json(change.b, change.b_origin)
    return entry


def _object_json(change: ObjectChange) -> dict[str, Any]:
    fields: list[dict[str, Any]] = []
    for field in change.fields:
        entry: dict[str, Any] = {"path": field.path, "change": field.change}
        if field.a is not ABSENT:
            entry["a"] = field.a
        if field.b is not ABSENT:
            entry["b"] = field.b
        fields.append(entry)
    return {
        "kind": change.kind,
        "namespace": change.namespace,
        "name": change.name,
        "change": change.change,
        "fields": fields,
    }


def diff_json(report: DiffReport) -> str:
    """The report as indented JSON with sorted keys, and a final newline."""
    text = json.dumps(report.to_json(), indent=2, sort_keys=True, ensure_ascii=False, default=str)
    return text + "\n"


_MARK: Final = {"changed": "~", "added": "+", "removed": "-"}


def _change_lines(path: str, a: Any, b: Any, indent: str) -> list[str]:
    if isinstance(a, str) and isinstance(b, str) and ("\n" in a or "\n" in b):
        hunks = list(difflib.unified_diff(a.splitlines(), b.splitlines(), lineterm="", n=0))
        return [f"{indent}~ {path}: (text)", *(f"{indent}    {line}" for line in hunks[2:])]
    if a is ABSENT:
        return [f"{indent}+ {path}: {_show(b)}"]
    if b is ABSENT:
        return [f"{indent}- {path}: {_show(a)}"]
    return [f"{indent}~ {path}: {_show(a)} -> {_show(b)}"]


def _value_lines(value: ValueChange) -> list[str]:
    """A changed value; a list (one leaf) is shown item by item when that is shorter."""
    if isinstance(value.a, list) and isinstance(value.b, list):
        lines = [f"  ~ {value.key}: (list)"]
        for item in _list_changes(value.a, value.b, ""):
            lines += _change_lines(item.path, item.a, item.b, "      ")
        return lines
    return _change_lines(value.key, value.a, value.b, "  ")


def format_diff(report: DiffReport) -> str:
    """The report for people: values with their provenance on each side, then objects.

    A list value is one leaf (it is replaced whole by a layer, or merged by a key), but its
    change is shown item by item, as for lists in objects.

    Example::

        a: env dev
        b: env prod
        values: 1 differ
          ~ pilot.replicaCount: 1 -> 3
              a: env dev (environments/dev.yaml:7)
              b: env prod (environments/prod.yaml:9)
        objects: 1 differ
          ~ Deployment istio-system/istio-pilot
              ~ spec.replicas: 1 -> 3
    """
    header = [f"a: {report.a}", f"b: {report.b}"]
    if report.equal:
        return "\n".join([*header, "no differences"]) + "\n"
    lines = [*header, f"values: {len(report.values)} differ"]
    for value in report.values:
        lines += _value_lines(value)
        if value.a_origin is not None:
            lines.append(f"      a: {value.a_origin}")
        if value.b_origin is not None:
            lines.append(f"      b: {value.b_origin}")
    lines.append(f"objects: {len(report.objects)} differ")
    for obj in report.objects:
        lines.append(f"  {_MARK[obj.change]} {obj.title}")
        for field in obj.fields:
            lines += _change_lines(field.path, field.a, field.b, "      ")
    return "\n".join(lines) + "\n"
