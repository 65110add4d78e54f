"""Values layering with Helm's rules, declared keyed-list merges, and the provenance of every leaf.

Layers merge in order, each over the result of the previous ones: maps merge key by
key, lists and scalars replace, and a null deletes the key (a null with nothing to delete
is dropped, so no null is ever left in the result, chart defaults included). Merging works
on deep copies (deepmerge with map and list strategies of our own), so no input layer is
ever modified. Alongside the merge, every leaf each layer sets is recorded, so that any key
can be explained as the chain of layers that set it, from the chart defaults to ``--set``.

A list whose path carries a declared merge rule (:mod:`meshcharts.values.mergerules`, e.g. the
``ports`` of a gateway, keyed by ``name``) merges item by item instead of replacing: items
with the same key merge as maps, new items are appended, ``{name: x, $patch: delete}``
removes one. Provenance then names each item by its key: the path segment ``[name=http2]``.

This sequential rule differs from Helm's in corner cases that meshcharts never relies on:
Helm merges all ``-f`` files first and coalesces them over the chart values at the end, so
it keeps nulls with nothing to delete, and a map in a late layer brings back chart
defaults that an earlier layer deleted or replaced by a scalar.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache, cached_property
from types import MappingProxyType
from typing import Any

from deepmerge import Merger

from meshcharts.base.kinds import kind_of
from meshcharts.errors import ValuesError
from meshcharts.values.mergerules import (
    NO_RULES,
    PATCH,
    MergeRule,
    MergeRules,
    dotted,
    item_segment,
    parse_item_segment,
)

__all__ = [
    "DELETED",
    "Assignment",
    "KeyPath",
    "Layer",
    "ResolvedValues",
    "child",
    "get_path",
    "leaf_paths",
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
        index_path = _index_path(self.values, path)
        return self.lines.get(index_path) if index_path else None

    @property
    def title(self) -> str:
        """``name (source)`` or just ``name``, for messages."""
        return f"{self.name} ({self.source})" if self.source else self.name


def _find_item(node: Any, segment: str) -> int | None:
    """The index of the item named by ``segment`` (``[key=value]``) in the list ``node``."""
    item = parse_item_segment(segment)
    if item is None or not isinstance(node, list):
        return None
    key = item[0]
    for index, candidate in enumerate(node):
        if (
            isinstance(candidate, Mapping)
            and _is_key(candidate.get(key))
            and item_segment(key, candidate[key]) == segment
        ):
            return index
    return None


def child(node: Any, segment: str) -> Any:
    """The value below ``node`` at one path segment, or None if there is none.

    A segment is a map key, a list index, or an item segment ``[key=value]``.
    """
    if isinstance(node, Mapping):
        return node.get(segment)
    if isinstance(node, list):
        if segment.isascii() and segment.isdigit():
            return node[int(segment)] if int(segment) < len(node) else None
        index = _find_item(node, segment)
        return None if index is None else node[index]
    return None


def _index_path(values: Any, path: KeyPath) -> KeyPath | None:
    """``path`` with each item segment replaced by the item's index in ``values``."""
    node = values
    out: list[str] = []
    for segment in path:
        if isinstance(node, Mapping) and segment in node:
            node = node[segment]
            out.append(segment)
            continue
        index = _find_item(node, segment)
        if index is None:
            return None
        node = node[index]
        out.append(str(index))
    return tuple(out)


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


# --- merging ---------------------------------------------------------------------------------


class _ItemError(Exception):
    """A keyed list of a layer is malformed; ``path`` follows the layer's own structure."""

    def __init__(self, path: KeyPath, shown: str, problem: str) -> None:
        super().__init__(problem)
        self.path = path
        self.shown = shown
        self.problem = problem


def _is_key(value: Any) -> bool:
    return isinstance(value, str | int) and not isinstance(value, bool)


@dataclass(frozen=True)
class _Item:
    segment: str
    index: int
    values: dict[str, Any]
    delete: bool


def _keyed_items(
    path: KeyPath, index_path: KeyPath, items: Sequence[Any], rule: MergeRule
) -> tuple[list[_Item], bool]:
    """Check a layer's keyed list; its items and whether it replaces (``$patch: replace``)."""
    replace = False
    out: list[_Item] = []
    seen: set[str] = set()
    for index, item in enumerate(items):
        where, shown = (*index_path, str(index)), f"{dotted(path)}[{index}]"
        how = f"items of this list merge by key {rule.key} (rule {rule.text} of {rule.owner})"
        if not isinstance(item, Mapping):
            raise _ItemError(where, shown, f"is {kind_of(item)}, not a map: {how}")
        directive = item.get(PATCH)
        if PATCH in item and set(item) == {PATCH} and directive == "replace":
            replace = True
            continue
        if PATCH in item and directive != "delete":
            raise _ItemError(
                where,
                shown,
                f"{PATCH}: {directive!r} is not a directive (use {PATCH}: delete with the "
                f"item's {rule.key}, or an item {{{PATCH}: replace}} alone)",
            )
        key = item.get(rule.key)
        if not _is_key(key):
            raise _ItemError(where, shown, f"has no {rule.key} (a string or an integer): {how}")
        segment = item_segment(rule.key, key)
        if segment in seen:
            raise _ItemError(where, shown, f"repeats {rule.key} {key!r}: {how}")
        seen.add(segment)
        values = {k: v for k, v in item.items() if k != PATCH}
        out.append(_Item(segment, index, values, directive == "delete"))
    return out, replace


class _Strategies:
    """deepmerge strategies that know the declared rules of one merge."""

    def __init__(self, rules: MergeRules, keyed: bool) -> None:
        self.rules = rules
        self.keyed = keyed

    def rule(self, path: Sequence[str]) -> MergeRule | None:
        return self.rules.rule_for(tuple(path)) if self.keyed else None

    def maps(self, config: Merger, path: list[str], base: dict[str, Any], nxt: Any) -> Any:
        """Merge ``nxt`` into ``base`` by key; a null deletes the key (Helm's rule)."""
        for key, value in nxt.items():
            if value is None:
                base.pop(key, None)
            elif key in base:
                base[key] = config.value_strategy([*path, key], base[key], value)
            else:
                base[key] = self.fresh([*path, key], value)
        return base

    def lists(self, config: Merger, path: list[str], base: list[Any], nxt: Any) -> Any:
        """A list replaces the base list, or merges into it by key where a rule says so."""
        rule = self.rule(path)
        if rule is None:
            return nxt
        return self.merge_keyed(config, path, base, nxt, rule)

    def replace(self, config: Merger, path: list[str], base: Any, nxt: Any) -> Any:
        """Scalars and changes of type replace the base value outright."""
        return self.fresh(path, nxt)

    def fresh(self, path: list[str], value: Any) -> Any:
        """A value with nothing below it to merge into: nulls dropped, keyed lists applied."""
        if isinstance(value, dict):
            return {k: self.fresh([*path, k], v) for k, v in value.items() if v is not None}
        if isinstance(value, list):
            rule = self.rule(path)
            if rule is not None:
                return self.merge_keyed(None, path, [], value, rule)
        return value

    def merge_keyed(
        self, config: Merger | None, path: list[str], base: list[Any], nxt: Any, rule: MergeRule
    ) -> list[Any]:
        items, replace = _keyed_items(tuple(path), tuple(path), nxt, rule)
        result = [] if replace else base
        positions: dict[str, int] = {}
        for index, current in enumerate(result):
            if isinstance(current, dict) and _is_key(current.get(rule.key)):
                positions.setdefault(item_segment(rule.key, current[rule.key]), index)
        deleted: set[int] = set()
        for item in items:
            position = positions.get(item.segment)
            if item.delete:
                if position is not None:
                    deleted.add(position)
                    del positions[item.segment]
            elif position is not None and config is not None:
                result[position] = self.maps(
                    config, [*path, item.segment], result[position], item.values
                )
            else:
                positions[item.segment] = len(result)
                result.append(self.fresh([*path, item.segment], item.values))
        return [item for index, item in enumerate(result) if index not in deleted]


@cache
def _merger(rules: MergeRules, keyed: bool) -> Merger:
    strategies = _Strategies(rules, keyed)
    return Merger(
        [(dict, [strategies.maps]), (list, [strategies.lists])],
        [strategies.replace],
        [strategies.replace],
    )


# --- provenance ------------------------------------------------------------------------------


def _walk(
    values: Mapping[str, Any],
    path: KeyPath,
    index_path: KeyPath,
    rules: MergeRules,
) -> Iterator[tuple[KeyPath, Any, bool]]:
    """Yield ``(path, value, merged)`` for each leaf a layer sets.

    Leaves are scalars, lists, empty maps, nulls, and the fields of keyed list items (named
    by their key). Raise _ItemError on a malformed keyed list or a ``$patch`` outside one.

    An empty map is an assignment of its own path only: it replaces a value that is not a
    map, but merges into a map without changing anything below it.
    """
    for key, value in values.items():
        sub, sub_index = (*path, key), (*index_path, key)
        if isinstance(value, Mapping) and value:
            yield from _walk(value, sub, sub_index, rules)
        elif isinstance(value, list) and (rule := rules.rule_for(sub)) is not None:
            yield from _walk_keyed(value, sub, sub_index, rule, rules)
        else:
            if isinstance(value, list):
                _refuse_patch(value, sub, sub_index)
            yield sub, DELETED if value is None else value, isinstance(value, Mapping)


def _walk_keyed(
    value: list[Any], path: KeyPath, index_path: KeyPath, rule: MergeRule, rules: MergeRules
) -> Iterator[tuple[KeyPath, Any, bool]]:
    items, replace = _keyed_items(path, index_path, value, rule)
    below: list[tuple[KeyPath, Any, bool]] = []
    for item in items:
        item_path = (*path, item.segment)
        if item.delete:
            if not replace:  # with replace, deleting an item changes nothing
                below.append((item_path, DELETED, False))
        else:
            below.extend(_walk(item.values, item_path, (*index_path, str(item.index)), rules))
    if replace:
        # The whole list is replaced (covering the items that went away); the items that
        # replace it are still named by their keys.
        yield path, [item.values for item in items if not item.delete], False
        yield from below
    elif not items:
        yield path, [], True
    else:
        yield from below


def _refuse_patch(value: list[Any], path: KeyPath, index_path: KeyPath) -> None:
    for index, item in enumerate(value):
        if isinstance(item, Mapping) and PATCH in item:
            raise _ItemError(
                (*index_path, str(index)),
                f"{dotted(path)}[{index}]",
                f"{PATCH} works only in lists that merge by key; this list replaces "
                "(Helm's rule for lists)",
            )


def _assignments(layer: Layer, rules: MergeRules) -> list[Assignment]:
    if layer.paths is not None:
        recorded = []
        for path in dict.fromkeys(layer.paths):
            try:
                value = get_path(layer.values, path)
            except KeyError:
                value = None
            recorded.append(Assignment(layer, path, DELETED if value is None else value))
        return recorded
    effective = rules if layer.keyed else NO_RULES
    try:
        return [
            Assignment(layer, path, value, merged)
            for path, value, merged in _walk(layer.values, (), (), effective)
        ]
    except _ItemError as error:
        line = layer.lines.get(error.path)
        subject = f"{layer.source}:{line}" if layer.source and line else layer.title
        raise ValuesError(subject, f"{error.shown}: {error.problem}") from None


# --- paths -----------------------------------------------------------------------------------

_SEGMENT = re.compile(r"([^\[\]]*)((?:\[[^=\[\]]+=[^\]]*\])*)")
_ITEMS = re.compile(r"\[[^=\[\]]+=[^\]]*\]")


def _dot_parts(key: str) -> list[str]:
    """Split on the dots outside ``[...]``."""
    parts, current, depth = [], "", 0
    for char in key:
        if char == "[":
            depth += 1
        elif char == "]" and depth:
            depth -= 1
        if char == "." and not depth:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return parts


def split_key(key: str) -> KeyPath:
    """Split a dotted key (``pilot.resources.limits``) into a key path.

    An item of a keyed list is named by its key in brackets after the list:
    ``gateways.istio-ingressgateway.ports[name=http2].port``.

    Raises:
        ValuesError: the key is empty or has an empty part (``a..b``, ``.a``).
    """
    if "[" not in key:
        parts = tuple(key.split("."))
        if not all(parts):
            raise ValuesError(key or "''", "not a dotted key path")
        return parts
    out: list[str] = []
    for part in _dot_parts(key):
        match = _SEGMENT.fullmatch(part)
        if match is None or not match.group(2):
            if not part:
                raise ValuesError(key, "not a dotted key path")
            out.append(part)
            continue
        head, items = match.groups()
        if not head and not out:
            raise ValuesError(key, "not a dotted key path")
        if head:
            out.append(head)
        out.extend(_ITEMS.findall(items))
    return tuple(out)


def get_path(values: Mapping[str, Any], path: KeyPath) -> Any:
    """Return the value at ``path``; raise KeyError if it is absent.

    A segment ``[key=value]`` names the item of a list whose ``key`` is ``value``.
    """
    node: Any = values
    for part in path:
        if isinstance(node, Mapping) and part in node:
            node = node[part]
            continue
        index = _find_item(node, part)
        if index is None:
            raise KeyError(".".join(path))
        node = node[index]
    return node


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


def _leaves(values: Any, prefix: KeyPath = ()) -> Iterator[KeyPath]:
    if isinstance(values, Mapping) and values:
        for key, value in values.items():
            yield from _leaves(value, (*prefix, key))
    elif prefix:
        yield prefix


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
            found = _find_item(node, segment)
            if found is not None:
                node = node[found]
                out.append(segment)
                continue
            if not (segment.isascii() and segment.isdigit() and int(segment) < len(node)):
                return None
            node = node[int(segment)]
            rule = self.rules.rule_for(tuple(out))
            if rule is not None and isinstance(node, Mapping) and _is_key(node.get(rule.key)):
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


def merge_layers(
    layers: Sequence[Layer],
    *,
    rules: MergeRules | None = None,
    base: ResolvedValues | None = None,
) -> ResolvedValues:
    """Merge layers in order (later wins) and record who set each leaf.

    Args:
        layers: the layers, lowest precedence first. They are not modified.
        rules: the declared keyed-list merges (default: those of ``base``, or none: Helm's
            rules only).
        base: merged values to continue from (its layers come first); not modified.

    Returns:
        The merged values and their provenance.

    Raises:
        ValuesError: a list that merges by key is malformed in a layer (an item that is not
            a map, has no key or repeats one, or an unknown ``$patch``), or ``$patch`` is
            used in a list that replaces.
    """
    if rules is None:
        rules = base.rules if base is not None else NO_RULES
    merged: dict[str, Any] = copy.deepcopy(dict(base.values)) if base is not None else {}
    assignments: list[Assignment] = list(base.assignments) if base is not None else []
    for layer in layers:
        recorded = _assignments(layer, rules)
        merger = _merger(rules, layer.keyed and bool(rules.rules))
        merged = merger.merge(merged, copy.deepcopy(dict(layer.values)))
        assignments.extend(recorded)
    previous = base.layers if base is not None else ()
    return ResolvedValues(merged, (*previous, *layers), tuple(assignments), rules)


def leaf_paths(values: Mapping[str, Any]) -> list[KeyPath]:
    """Every leaf path of a values tree (lists and empty maps are leaves)."""
    return list(_leaves(values))
