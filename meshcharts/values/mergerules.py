"""Merge rules declared per values path: which lists merge their items by a key.

Helm's rules apply everywhere by default: maps merge key by key, lists and scalars replace,
and a null deletes the key. A component (or a chart, for its own top-level values) may
declare that the list at a path holds named items, e.g. ``{"*.ports": "name"}`` in the
``gateways`` component: a layer's list there is then merged into the list so far item by
item, matching items by their ``name``:

- an item whose key is already in the list is merged into that item (Helm's map rules,
  so a null deletes one of its fields);
- an item with a new key is appended, in the layer's order;
- an item ``{name: x, $patch: delete}`` removes item ``x`` (nothing happens if there is
  none);
- an item ``{$patch: replace}`` anywhere in the layer's list makes the rest of that list
  replace the list so far (Helm's rule, for this one layer);
- an empty list changes nothing (use ``[{$patch: replace}]`` to empty the list).

The ``$patch`` directives are Kubernetes' strategic-merge-patch spellings; they never reach
the merged values. ``--set`` never merges by key: it indexes lists (``ports[1].port=8080``)
against the values so far, as Helm does, and its lists replace.

Patterns are dotted paths from the top of the values; a ``*`` segment matches any map key
and a ``[]`` segment any item of a list. Provenance names an item of a keyed list by its
key, as the path segment ``[name=http2]``:
``gateways.istio-ingressgateway.ports[name=http2].port``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "NO_RULES",
    "PATCH",
    "MergeRule",
    "MergeRules",
    "dotted",
    "item_segment",
    "parse_item_segment",
]

PATCH = "$patch"
"""The directive key of a keyed-list item (``delete``, or ``replace`` alone in an item)."""

Path = tuple[str, ...]

_ITEM = re.compile(r"\[([^=\[\]]+)=(.*)\]", re.DOTALL)


def item_segment(key: str, value: Any) -> str:
    """The path segment naming the item of a keyed list whose ``key`` is ``value``."""
    shown = value if isinstance(value, str) else json.dumps(value)
    return f"[{key}={shown}]"


def parse_item_segment(segment: str) -> tuple[str, str] | None:
    """``(key, value text)`` of an item segment ``[key=value]``, or None for a map key."""
    match = _ITEM.fullmatch(segment)
    return (match.group(1), match.group(2)) if match else None


def dotted(path: Iterable[str]) -> str:
    """A key path as text: map keys joined by dots, item segments and indexes appended.

    ``("gateways", "gw", "ports", "[name=http2]", "port")`` ->
    ``gateways.gw.ports[name=http2].port``; ``("a", "[0]")`` -> ``a[0]``.
    """
    text = ""
    for segment in path:
        if segment.startswith("[") and segment.endswith("]"):
            text += segment
        else:
            text += f".{segment}" if text else segment
    return text


@dataclass(frozen=True)
class MergeRule:
    """A list path whose items merge by key.

    Attributes:
        pattern: path segments from the top of the values; ``*`` matches any map key and
            ``[]`` any list item.
        key: the item field that names an item, e.g. ``name``.
        owner: who declared it, e.g. ``component gateways`` or ``chart istio``.
        declared: the pattern as declared (below the component), for messages.
    """

    pattern: Path
    key: str
    owner: str
    declared: str

    def matches(self, path: Path) -> bool:
        """Whether the list at ``path`` (item segments included) follows this rule."""
        if len(path) != len(self.pattern):
            return False
        for want, have in zip(self.pattern, path, strict=True):
            if want == "*":
                if parse_item_segment(have) is not None:
                    return False
            elif want == "[]":
                if parse_item_segment(have) is None:
                    return False
            elif want != have:
                return False
        return True

    @property
    def text(self) -> str:
        """The pattern from the top of the values, e.g. ``gateways.*.ports``."""
        return ".".join(self.pattern)

    def describe(self) -> str:
        """``merged by key name (rule gateways.*.ports of component gateways)``."""
        return f"merged by key {self.key} (rule {self.text} of {self.owner})"


REPLACED = "replaced (Helm's rule for lists)"
"""How a list without a declared rule merges."""


@dataclass(frozen=True)
class MergeRules:
    """The declared merge rules of one set of compiled charts."""

    rules: tuple[MergeRule, ...] = ()
    _cache: dict[Path, MergeRule | None] = field(
        default_factory=dict, compare=False, hash=False, repr=False
    )

    def rule_for(self, path: Path) -> MergeRule | None:
        """The rule of the list at ``path``, or None (the list replaces, Helm's rule)."""
        if not self.rules:
            return None
        try:
            return self._cache[path]
        except KeyError:
            pass
        found = next((rule for rule in self.rules if rule.matches(path)), None)
        self._cache[path] = found
        return found

    def describe(self, path: Path) -> str:
        """How the list at ``path`` merges, for ``--explain``."""
        rule = self.rule_for(path)
        return rule.describe() if rule else REPLACED

    @classmethod
    def declared(cls, tables: Iterable[tuple[Path, Mapping[str, str], str]]) -> MergeRules:
        """Rules from ``(prefix, {dotted pattern below prefix: key}, owner)`` tables."""
        rules = []
        for prefix, table, owner in tables:
            for pattern, key in sorted(table.items()):
                below = tuple(pattern.split(".")) if pattern else ()
                rules.append(MergeRule((*prefix, *below), key, owner, pattern))
        return cls(tuple(rules))


NO_RULES = MergeRules()
"""Helm's rules only: every list replaces."""
