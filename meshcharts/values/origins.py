"""Where values come from: layers, their assignments, and resolved values that explain them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType
from typing import Any

from meshcharts.errors import ValuesError
from meshcharts.values.keypaths import (
    KeyPath,
    find_item,
    get_path,
    indexed_path,
    is_item_key,
    split_key,
)
from meshcharts.values.mergerules import (
    NO_RULES,
    MergeRules,
    item_segment,
    parse_item_segment,
)

__all__ = ["Assignment", "DELETED", "Layer", "ResolvedValues"]


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
        lines: key path -> line in ``source``, where known. Paths follow the file's
            structure: a list item is named by its index (``("ports", "2", "port")``).
        paths: the paths this layer sets, when that is not every leaf of ``values`` (the
            ``--set`` layer carries whole copies of the top-level keys it changes).
        keyed: whether declared keyed merges apply to this layer's lists. ``--set`` is
            not keyed: it indexes lists against the values so far, and its lists replace.
    """

    name: str
    values: Mapping[str, Any]
    source: str = ""
    lines: Mapping[KeyPath, int] = field(default_factory=lambda: MappingProxyType({}))
    paths: tuple[KeyPath, ...] | None = None
    keyed: bool = True

    def line(self, path: KeyPath) -> int | None:
        """The line in ``source`` of the value at ``path`` (item segments allowed)."""
        line = self.lines.get(path)
        if line is not None or not self.lines:
            return line
        indexed = indexed_path(self.values, path)
        return self.lines.get(indexed) if indexed else None

    @property
    def title(self) -> str:
        """``name (source)`` or just ``name``, for messages."""
        return f"{self.name} ({self.source})" if self.source else self.name


@dataclass(frozen=True)
class Assignment:
    """A layer setting (or, with ``DELETED``, removing) the value at a key path.

    ``merged`` marks a value merged into what was there rather than replacing it (an empty
    map, an empty keyed list): it is the assignment of its own path only, not of the
    values below it.
    """

    layer: Layer
    path: KeyPath
    value: Any
    merged: bool = False

    @property
    def line(self) -> int | None:
        """The line of the assignment in its layer's file, if known."""
        return self.layer.line(self.path)

    @property
    def where(self) -> str:
        """``file:line`` (or just the file, or nothing) for messages."""
        line = self.line
        if self.layer.source and line:
            return f"{self.layer.source}:{line}"
        return self.layer.source


def _covers(assignment: Assignment, path: KeyPath) -> bool:
    """Whether ``assignment`` set ``path`` itself or a parent of it.

    An empty map (or empty keyed list) counts for its own path only: merged into a map it
    changes nothing below.
    """
    if assignment.path == path:
        return True
    if assignment.merged or _is_empty_map(assignment):
        return False
    return assignment.path == path[: len(assignment.path)]


def _is_empty_map(assignment: Assignment) -> bool:
    return isinstance(assignment.value, Mapping) and not assignment.value


@dataclass(frozen=True)
class ResolvedValues:
    """The merged values of a stack of layers, with the provenance of every leaf.

    Attributes:
        values: the merged values.
        layers: the layers, lowest precedence first.
        assignments: every leaf each layer set, in layer order.
        rules: the declared keyed-list merge rules the layers were merged with.
    """

    values: Mapping[str, Any]
    layers: tuple[Layer, ...]
    assignments: tuple[Assignment, ...]
    rules: MergeRules = NO_RULES

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

    def provenance(self) -> Mapping[KeyPath, list[Assignment]]:
        """Every path any layer set, sorted, with its chain (winner last): ``explain`` of all.

        Computed once per resolution; read it, do not change it.
        """
        return self._provenance

    @cached_property
    def _provenance(self) -> dict[KeyPath, list[Assignment]]:
        by_path: dict[KeyPath, list[int]] = {}
        for index, assignment in enumerate(self.assignments):
            by_path.setdefault(assignment.path, []).append(index)
        result: dict[KeyPath, list[Assignment]] = {}
        for leaf in sorted(by_path):
            indexes: list[int] = []
            for depth in range(1, len(leaf) + 1):
                for index in by_path.get(leaf[:depth], ()):
                    if depth == len(leaf) or not self.assignments[index].merged:
                        indexes.append(index)
            result[leaf] = [self.assignments[i] for i in sorted(indexes)]
        return result

    def canonical(self, path: KeyPath) -> KeyPath | None:
        """``path`` with list indexes of keyed lists turned into item segments.

        Returns:
            The path, or None if it names no value.
        """
        node: Any = self.values
        out: list[str] = []
        for segment in path:
            if isinstance(node, Mapping):
                if segment not in node:
                    return None
                node = node[segment]
                out.append(segment)
                continue
            if not isinstance(node, list):
                return None
            found = find_item(node, segment)
            if found is not None:
                node = node[found]
                out.append(segment)
                continue
            if not (segment.isascii() and segment.isdigit() and int(segment) < len(node)):
                return None
            node = node[int(segment)]
            rule = self.rules.rule_for(tuple(out))
            if rule is not None and isinstance(node, Mapping) and is_item_key(node.get(rule.key)):
                out.append(item_segment(rule.key, node[rule.key]))
            else:
                out.append(segment)
        return tuple(out)

    def origin(self, path: KeyPath) -> Assignment | None:
        """The latest assignment behind the value at ``path``: to it, above it or below it.

        Returns:
            The assignment, or None if ``path`` names no value (it was never set, or it was
            deleted or replaced since: :meth:`explain` tells that story). A list item is
            named by its index (``("ports", "0")``), as schema errors name it, or in a keyed
            list by its key (``("ports", "[name=http2]")``); an item of a list that
            replaces is answered for the whole list.
        """
        if not path:
            return None
        canonical = self.canonical(path)
        if canonical is None:
            return None
        related = [
            a
            for a in self.assignments
            if _covers(a, canonical) or canonical == a.path[: len(canonical)]
        ]
        return related[-1] if related else None

    def list_rules(self, leaf: KeyPath) -> list[tuple[KeyPath, str]]:
        """The lists on the way to ``leaf`` (or at it) and how each merges, for ``--explain``."""
        found: list[tuple[KeyPath, str]] = []
        for depth in range(1, len(leaf) + 1):
            prefix = leaf[:depth]
            below = leaf[depth] if depth < len(leaf) else None
            keyed_item = below is not None and parse_item_segment(below) is not None
            try:
                here = get_path(self.values, prefix)
            except KeyError:
                here = None
            if (
                keyed_item
                or isinstance(here, list)
                or (below is None and self.rules.rule_for(prefix) is not None)
            ):
                found.append((prefix, self.rules.describe(prefix)))
        return found
