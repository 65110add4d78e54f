"""Key paths into values: dotted keys, list items named ``[key=value]``, lookups."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from meshcharts.errors import ValuesError
from meshcharts.values.mergerules import (
    item_segment,
    parse_item_segment,
)

KeyPath = tuple[str, ...]

__all__ = [
    "child",
    "find_item",
    "get_path",
    "indexed_path",
    "is_item_key",
    "KeyPath",
    "leaf_paths",
    "split_key",
]


def find_item(node: Any, segment: str) -> int | None:
    """The index of the item named by ``segment`` (``[key=value]``) in the list ``node``."""
    item = parse_item_segment(segment)
    if item is None or not isinstance(node, list):
        return None
    key = item[0]
    for index, candidate in enumerate(node):
        if (
            isinstance(candidate, Mapping)
            and is_item_key(candidate.get(key))
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
        index = find_item(node, segment)
        return None if index is None else node[index]
    return None


def indexed_path(values: Any, path: KeyPath) -> KeyPath | None:
    """``path`` with each item segment replaced by the item's index in ``values``."""
    node = values
    out: list[str] = []
    for segment in path:
        if isinstance(node, Mapping) and segment in node:
            node = node[segment]
            out.append(segment)
            continue
        index = find_item(node, segment)
        if index is None:
            return None
        node = node[index]
        out.append(str(index))
    return tuple(out)


def is_item_key(value: Any) -> bool:
    """Whether ``value`` can name an item of a keyed list (a string or an integer)."""
    return isinstance(value, str | int) and not isinstance(value, bool)


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
        index = find_item(node, part)
        if index is None:
            raise KeyError(".".join(path))
        node = node[index]
    return node


def _leaves(values: Any, prefix: KeyPath = ()) -> Iterator[KeyPath]:
    if isinstance(values, Mapping) and values:
        for key, value in values.items():
            yield from _leaves(value, (*prefix, key))
    elif prefix:
        yield prefix


def leaf_paths(values: Mapping[str, Any]) -> list[KeyPath]:
    """Every leaf path of a values tree (lists and empty maps are leaves)."""
    return list(_leaves(values))
