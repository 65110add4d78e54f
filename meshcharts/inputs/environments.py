"""Environments: YAML files that layer a team's values over a profile, one per cluster.

An environment file::

    # environments/prod-eu.yaml
    name: prod-eu          # must equal the file name; a DNS-1123 label
    extends: prod          # optional: another environment of the same folder
    profile: default       # the profile whose charts it installs (inherited from the parent)
    values:                # an overlay, merged over the profile's values
      pilot:
        replicaCount: 4
    mesh:                  # optional: the mesh inventory meshcharts lint reads
      namespaces:
        - {name: shop, injection: enabled}

The values of an environment are layered, lowest precedence first: the chart defaults, the
profile's ``extends`` chain (root first), the environment's ``extends`` chain (root first),
then ``--set``. Each environment of the chain is one :class:`~meshcharts.values.merge.Layer`
named ``env <name>`` whose source is the file and whose lines give every key's line, so
each value can be explained down to ``file:line``. ``mesh.namespaces`` is part of that
layer (as the value ``mesh.namespaces``), merged by ``name`` along the chain like every
keyed list.

``profile`` is required at the root of a chain; a child may repeat it but not change it
(its parent's values were written for that profile's components). ``values.mesh`` is an
error: the inventory has one place, the top-level ``mesh``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from meshcharts.base.names import check_dns_label
from meshcharts.errors import InvalidNameError, UserError, ValuesError
from meshcharts.inputs.yamlsource import SourceDoc, YamlSourceError, load_yaml_file
from meshcharts.values.keypaths import KeyPath
from meshcharts.values.merge import merge_layers
from meshcharts.values.mergerules import MergeRules
from meshcharts.values.origins import Layer

__all__ = [
    "EnvError",
    "Environment",
    "builtin_environments_dir",
    "load_environment",
    "load_environments",
]

_FIELDS = ("name", "profile", "extends", "values", "mesh")


class EnvError(UserError):
    """An environment file is malformed, or names an unknown profile or parent.

    The subject is ``file:line`` of the offending key.
    """


@dataclass(frozen=True)
class Environment:
    """A loaded environment with its ``extends`` chain.

    Attributes:
        name: DNS-1123 label, equal to the file stem.
        profile: the profile it installs (given at the root of the chain, inherited).
        path: the file.
        layers: one layer per environment of the chain, root first: name ``env <name>``,
            source the file, lines key path -> line (list items by index).
        namespaces: the ``mesh.namespaces`` inventory, merged by name along the chain.
        profile_where: ``file:line`` where the profile is named, for messages.
    """

    name: str
    profile: str
    path: Path
    layers: tuple[Layer, ...]
    namespaces: tuple[Mapping[str, str], ...]
    profile_where: str = ""

    @property
    def chain(self) -> tuple[str, ...]:
        """The environment names of the ``extends`` chain, root first."""
        return tuple(layer.name.removeprefix("env ") for layer in self.layers)


def builtin_environments_dir() -> Path:
    """The folder of the built-in example environments (inside the wheel, or the checkout)."""
    package = Path(__file__).resolve().parent.parent
    packaged = package / "_builtin_environments"
    return packaged if packaged.is_dir() else package.parent / "environments"


@dataclass(frozen=True)
class _Parsed:
    doc: SourceDoc
    name: str
    profile: str | None
    extends: str | None
    layer: Layer


def _fail(doc: SourceDoc, path: KeyPath, problem: str) -> EnvError:
    return EnvError(doc.where(path), problem)


def _string(doc: SourceDoc, key: str, *, required: bool) -> str | None:
    value = doc.data.get(key)
    if value is None:
        if required:
            raise _fail(doc, (), f"{key} is missing")
        return None
    if not isinstance(value, str):
        raise _fail(doc, (key,), f"{key} must be a string, not {type(value).__name__}")
    return value


def _label(doc: SourceDoc, key: str, value: str, what: str) -> str:
    try:
        return check_dns_label(value, what=what)
    except InvalidNameError as exc:
        raise _fail(doc, (key,), f"{exc.subject}: {exc.problem}") from None


def _below(doc: SourceDoc, prefix: KeyPath, into: KeyPath) -> dict[KeyPath, int]:
    """The lines of the keys under ``prefix``, re-rooted at ``into``."""
    return {
        (*into, *path[len(prefix) :]): line
        for path, line in doc.lines.items()
        if path[: len(prefix)] == prefix and len(path) > len(prefix)
    }


def _read(path: Path, source: str) -> SourceDoc:
    try:
        doc = load_yaml_file(path, source=source)
    except YamlSourceError as exc:
        raise EnvError(exc.subject, exc.problem) from None
    if not isinstance(doc.data, dict):
        raise _fail(doc, (), "an environment file must be a map (name, profile, values, ...)")
    for key in doc.data:
        if key not in _FIELDS:
            raise _fail(doc, (key,), f"unknown key {key!r} (known: {', '.join(_FIELDS)})")
    return doc


def _values(doc: SourceDoc) -> tuple[dict[str, Any], dict[KeyPath, int]]:
    """The layer overlay (``values`` plus the ``mesh`` inventory) and its lines."""
    values = doc.data.get("values")
    if values is None:
        values = {}
    if not isinstance(values, dict):
        raise _fail(doc, ("values",), f"values must be a map, not {type(values).__name__}")
    if "mesh" in values:
        raise _fail(
            doc, ("values", "mesh"), "give the mesh inventory as the top-level mesh.namespaces"
        )
    overlay = dict(values)
    lines = _below(doc, ("values",), ())
    mesh = doc.data.get("mesh")
    if mesh is None:
        return overlay, lines
    if not isinstance(mesh, dict):
        raise _fail(doc, ("mesh",), f"mesh must be a map, not {type(mesh).__name__}")
    for key in mesh:
        if key != "namespaces":
            raise _fail(doc, ("mesh", key), f"unknown key mesh.{key} (known: namespaces)")
    if not isinstance(mesh.get("namespaces") or [], list):
        raise _fail(doc, ("mesh", "namespaces"), "mesh.namespaces must be a list")
    overlay["mesh"] = mesh
    lines.update(_below(doc, ("mesh",), ("mesh",)))
    lines[("mesh",)] = doc.line(("mesh",))
    return overlay, lines


def _parse(path: Path, source: str) -> _Parsed:
    doc = _read(path, source)
    name = _string(doc, "name", required=True)
    assert name is not None
    _label(doc, "name", name, "environment name")
    if name != path.stem:
        raise _fail(doc, ("name",), f"name {name!r} must equal the file name {path.stem!r}")
    extends = _string(doc, "extends", required=False)
    if extends is not None:
        _label(doc, "extends", extends, "extends")
    profile = _string(doc, "profile", required=extends is None)
    overlay, lines = _values(doc)
    layer = Layer(f"env {name}", overlay, source, MappingProxyType(lines))
    return _Parsed(doc, name, profile, extends, layer)


def _sibling_names(folder: Path) -> str:
    names = sorted(p.stem for p in folder.glob("*.yaml"))
    return ", ".join(names) if names else "none"


def _chain(path: Path, cache: dict[Path, _Parsed]) -> list[_Parsed]:
    """The parsed files of ``path``'s extends chain, child first."""
    chain: list[_Parsed] = []
    seen: list[str] = []
    current = path
    while True:
        key = current.resolve()
        parsed = cache.get(key)
        if parsed is None:
            parsed = cache[key] = _parse(current, str(current))
        if parsed.name in seen:
            cycle = " -> ".join([*seen[seen.index(parsed.name) :], parsed.name])
            child = chain[-1]
            raise _fail(child.doc, ("extends",), f"extends cycle: {cycle}")
        seen.append(parsed.name)
        chain.append(parsed)
        if parsed.extends is None:
            return chain
        parent = current.parent / f"{parsed.extends}.yaml"
        if not parent.is_file():
            raise _fail(
                parsed.doc,
                ("extends",),
                f"extends unknown environment {parsed.extends!r} (no {parent.name} beside it; "
                f"known: {_sibling_names(current.parent)})",
            )
        current = parent


_INVENTORY_RULES = MergeRules.declared([((), {"mesh.namespaces": "name"}, "environment files")])


def _environment(path: Path, cache: dict[Path, _Parsed]) -> Environment:
    chain = _chain(path, cache)
    root = chain[-1]
    assert root.profile is not None  # required at the root
    for parsed in chain[:-1]:
        if parsed.profile is not None and parsed.profile != root.profile:
            raise _fail(
                parsed.doc,
                ("profile",),
                f"profile {parsed.profile!r} differs from profile {root.profile!r} of "
                f"{root.name}, which it extends (an environment keeps its parent's profile)",
            )
    layers = tuple(parsed.layer for parsed in reversed(chain))
    inventory_layers = [
        Layer(layer.name, {"mesh": layer.values["mesh"]}, layer.source, layer.lines)
        for layer in layers
        if "mesh" in layer.values
    ]
    try:
        merged = merge_layers(inventory_layers, rules=_INVENTORY_RULES).values
    except ValuesError as exc:
        raise EnvError(exc.subject, exc.problem) from None
    namespaces = merged.get("mesh", {}).get("namespaces", [])
    return Environment(
        name=chain[0].name,
        profile=root.profile,
        path=path,
        layers=layers,
        namespaces=tuple(MappingProxyType(dict(ns)) for ns in namespaces),
        profile_where=root.doc.where(("profile",)),
    )


def load_environment(path: Path) -> Environment:
    """Load the environment file ``path`` and its ``extends`` chain.

    Raises:
        EnvError: the file (or a parent) is not valid YAML, has an unknown or malformed
            key, a name that is not its file name or not DNS-1123, no profile at the root,
            a profile that differs from its parent's, an unknown parent, an extends cycle,
            or a malformed ``mesh.namespaces``; the subject is ``file:line``.
    """
    if not path.is_file():
        raise EnvError(f"--env {path}", "not a file" if path.exists() else "no such file")
    return _environment(path, {})


def load_environments(folder: Path) -> list[Environment]:
    """Load every ``*.yaml`` environment of ``folder``, sorted by name (parents parsed once).

    Raises:
        EnvError: the folder does not exist, or a file is invalid (see load_environment).
    """
    if not folder.is_dir():
        raise EnvError(f"--env {folder}", "not a folder")
    cache: dict[Path, _Parsed] = {}
    paths = sorted(folder.glob("*.yaml"), key=lambda path: path.stem)
    return [_environment(path, cache) for path in paths]
