"""The merge engine: values layered with Helm's rules and declared keyed-list merges.

Layers merge in order, each over the result of the previous ones: maps merge key by
key, lists and scalars replace, and a null deletes the key (a null with nothing to delete
is dropped, so no null is ever left in the result, chart defaults included). Merging works
on deep copies, so no input layer is ever modified. Alongside the merge, every leaf each
layer sets is recorded (:class:`~meshcharts.values.origins.Assignment`), so that any key
can be explained as the chain of layers that set it, from the chart defaults to ``--set``.

deepmerge does the merging: one ``Merger`` per rule set, with strategies of our own
registered for maps, lists, scalars and changes of type (:class:`_Strategies`). Its
built-in strategies cannot express Helm's null-deletes, keyed lists with ``$patch`` or a
list rule that depends on the path, so those strategies are ours.

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
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from deepmerge import Merger

from meshcharts.base.kinds import kind_of
from meshcharts.errors import ValuesError
from meshcharts.values.keypaths import (
    KeyPath,
    get_path,
    is_item_key,
)
from meshcharts.values.mergerules import (
    NO_RULES,
    PATCH,
    MergeRule,
    MergeRules,
    dotted,
    item_segment,
)
from meshcharts.values.origins import DELETED, Assignment, Layer, ResolvedValues

__all__ = ["merge_layers"]


class _ItemError(Exception):
    """A keyed list of a layer is malformed; ``path`` follows the layer's own structure."""

    def __init__(self, path: KeyPath, shown: str, problem: str) -> None:
        super().__init__(problem)
        self.path = path
        self.shown = shown
        self.problem = problem


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
        if not is_item_key(key):
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
            if isinstance(current, dict) and is_item_key(current.get(rule.key)):
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
