"""Values layering with Helm's rules, and the provenance of every leaf.

Layers merge in order, each over the result of the previous ones: maps merge key by
key, lists and scalars replace, and a null deletes the key (a null with nothing to delete
is dropped, so no null is ever left in the result, chart defaults included). Merging works
on deep copies (deepmerge with our own map strategy), so no input layer is ever modified.
Alongside the merge, every leaf each layer sets is recorded, so that any key can be
explained as the chain of layers that set it, from the chart defaults to ``--set``.

This sequential rule differs from Helm's in corner cases that meshcharts never relies on:
Helm merges all ``-f`` files first and coalesces them over the chart values at the end, so
it keeps nulls with nothing to delete, and a map in a late layer brings back chart
defaults that an earlier layer deleted or replaced by a scalar.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from deepmerge import Merger

from meshcharts.errors import ValuesError

__all__ = [
    "DELETED",
    "Assignment",
    "KeyPath",
    "Layer",
    "ResolvedValues",
    "get_path",
    "merge_layers",
    "split_key",
]

KeyPath = tuple[str, ...]


class _Deleted:
    """Marks an assignment that deleted a key (a null in a layer)."""

    def __repr__(self) -> str:
        return "<deleted>"


DELETED: Any = _Deleted()


@dataclass(frozen=True)
class Layer:
    """One source of values.

    Attributes:
        name: how the layer is shown, e.g. ``chart defaults``, ``profile demo``, ``--set``.
        values: the overlay tree this layer contributes.
        source: the file it came from, if any.
        lines: key path -> line in ``source``, where known.
    """

    name: str
    values: Mapping[str, Any]
    source: str = ""
    lines: Mapping[KeyPath, int] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class Assignment:
    """A layer setting (or, with ``DELETED``, removing) the value at a key path."""

    layer: Layer
    path: KeyPath
    value: Any

    @property
    def where(self) -> str:
        """``file:line`` (or just the file, or nothing) for messages."""
        line = self.layer.lines.get(self.path)
        if self.layer.source and line:
            return f"{self.layer.source}:{line}"
        return self.layer.source


def _merge_maps(config: Merger, path: list[str], base: dict[str, Any], nxt: Any) -> Any:
    """Merge ``nxt`` into ``base`` by key; a null deletes the key (Helm's rule)."""
    for key, value in nxt.items():
        if value is None:
            base.pop(key, None)
        elif key in base:
            base[key] = config.value_strategy([*path, key], base[key], value)
        else:
            base[key] = _drop_nulls(value)
    return base


def _drop_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_nulls(v) for k, v in value.items() if v is not None}
    return value


def _replace(config: Merger, path: list[str], base: Any, nxt: Any) -> Any:
    """Lists, scalars and changes of type replace the base value outright."""
    return _drop_nulls(nxt)


_MERGER = Merger([(dict, [_merge_maps]), (list, [_replace])], [_replace], [_replace])


def _walk_overlay(values: Mapping[str, Any], prefix: KeyPath = ()) -> Iterator[tuple[KeyPath, Any]]:
    """Yield the (path, value) leaves a layer sets: scalars, lists, empty maps, nulls.

    An empty map is an assignment of its own path only: it replaces a value that is not a
    map, but merges into a map without changing anything below it.
    """
    for key, value in values.items():
        path = (*prefix, key)
        if isinstance(value, Mapping) and value:
            yield from _walk_overlay(value, path)
        else:
            yield path, DELETED if value is None else value


def _leaves(values: Any, prefix: KeyPath = ()) -> Iterator[KeyPath]:
    if isinstance(values, Mapping) and values:
        for key, value in values.items():
            yield from _leaves(value, (*prefix, key))
    elif prefix:
        yield prefix


def split_key(key: str) -> KeyPath:
    """Split a dotted key (``pilot.resources.limits``) into a key path.

    Raises:
        ValuesError: the key is empty or has an empty part (``a..b``, ``.a``).
    """
    parts = tuple(key.split("."))
    if not all(parts):
        raise ValuesError(key or "''", "not a dotted key path")
    return parts


def get_path(values: Mapping[str, Any], path: KeyPath) -> Any:
    """Return the value at ``path``; raise KeyError if it is absent."""
    node: Any = values
    for part in path:
        if not isinstance(node, Mapping) or part not in node:
            raise KeyError(".".join(path))
        node = node[part]
    return node


def _exists(values: Any, path: KeyPath) -> bool:
    """Whether ``path`` names a value (list items by their index, as schema errors do)."""
    node: Any = values
    for part in path:
        if isinstance(node, Mapping) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isascii() and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return False
    return True


def _covers(assignment: Assignment, path: KeyPath) -> bool:
    """Whether ``assignment`` set ``path`` itself or a parent of it.

    An empty map counts for its own path only: merged into a map it changes nothing below.
    """
    if assignment.path == path:
        return True
    return assignment.path == path[: len(assignment.path)] and not _is_empty_map(assignment)


def _is_empty_map(assignment: Assignment) -> bool:
    return isinstance(assignment.value, Mapping) and not assignment.value


@dataclass(frozen=True)
class ResolvedValues:
    """The merged values of a stack of layers, with the provenance of every leaf."""

    values: Mapping[str, Any]
    layers: tuple[Layer, ...]
    assignments: tuple[Assignment, ...]

    def explain(self, key: str) -> list[tuple[KeyPath, list[Assignment]]]:
        """The chain of assignments behind ``key`` and every leaf below it.

        Each entry is a leaf path and the assignments that touched it, oldest first;
        the last one is the winner. An assignment to a parent path (a whole list or map
        replaced, or deleted) is part of the chain of every leaf below it.

        Raises:
            ValuesError: no layer ever set ``key`` or anything below it.
        """
        path = split_key(key)
        leaves = sorted(
            {a.path for a in self.assignments if a.path[: len(path)] == path}
            | ({path} if any(_covers(a, path) for a in self.assignments) else set())
        )
        if not leaves:
            raise ValuesError(key, "no layer sets this key")
        return [(leaf, self._chain(leaf)) for leaf in leaves]

    def _chain(self, leaf: KeyPath) -> list[Assignment]:
        return [a for a in self.assignments if _covers(a, leaf)]

    def origin(self, path: KeyPath) -> Assignment | None:
        """The latest assignment behind the value at ``path``: to it, above it or below it.

        Returns:
            The assignment, or None if ``path`` names no value (it was never set, or it was
            deleted or replaced since: :meth:`explain` tells that story). A list item is
            named by its index (``("ports", "0")``) and answered for the whole list.
        """
        if not path or not _exists(self.values, path):
            return None
        related = [a for a in self.assignments if _covers(a, path) or path == a.path[: len(path)]]
        return related[-1] if related else None


def merge_layers(layers: Sequence[Layer]) -> ResolvedValues:
    """Merge layers in order (later wins) and record who set each leaf.

    Args:
        layers: the layers, lowest precedence first. They are not modified.

    Returns:
        The merged values and their provenance.
    """
    merged: dict[str, Any] = {}
    assignments: list[Assignment] = []
    for layer in layers:
        merged = _MERGER.merge(merged, copy.deepcopy(dict(layer.values)))
        assignments.extend(
            Assignment(layer, path, value) for path, value in _walk_overlay(layer.values)
        )
    return ResolvedValues(merged, tuple(layers), tuple(assignments))


def leaf_paths(values: Mapping[str, Any]) -> list[KeyPath]:
    """Every leaf path of a values tree (lists and empty maps are leaves)."""
    return list(_leaves(values))
