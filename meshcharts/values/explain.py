"""Provenance, told for people and for tools: the chain of layers behind every value.

For a key and every leaf below it, each layer that set it, oldest first, with its source
(``file:line`` where there is one), the winner marked; for every list on the way, the merge
rule it followed (merged by a declared key, or replaced: Helm's rule).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from typing import Any

from meshcharts.values.keypaths import KeyPath
from meshcharts.values.mergerules import PATCH, dotted, parse_item_segment
from meshcharts.values.origins import DELETED, Assignment, ResolvedValues

__all__ = ["explain_json", "format_explain", "format_provenance", "provenance_json"]


def _show(assignment: Assignment) -> str:
    if assignment.value is not DELETED:
        return json.dumps(assignment.value, sort_keys=True, ensure_ascii=False)
    if assignment.path and parse_item_segment(assignment.path[-1]) is not None:
        return f"(deleted by {PATCH}: delete)"
    return "(deleted by null)"


def _noise(leaf: KeyPath, chain: Sequence[Assignment], leaves: Collection[KeyPath]) -> bool:
    """An empty map or keyed list merged into a container whose own leaves are listed."""
    return all(a.merged or a.value == {} for a in chain) and any(
        other[: len(leaf)] == leaf and other != leaf for other in leaves
    )


def _entry(resolved: ResolvedValues, leaf: KeyPath, chain: Sequence[Assignment]) -> list[str]:
    lines = [dotted(leaf)]
    lines += [f"  list {dotted(path)}: {rule}" for path, rule in resolved.list_rules(leaf)]
    for index, assignment in enumerate(chain, 1):
        where = f" ({assignment.where})" if assignment.where else ""
        mark = "  <- wins" if index == len(chain) else ""
        lines.append(f"  {index}. {assignment.layer.name}{where}: {_show(assignment)}{mark}")
    return lines


def format_explain(resolved: ResolvedValues, key: str) -> str:
    """Text explaining ``key`` and every leaf below it: each layer that set it, winner last.

    Raises:
        ValuesError: no layer sets the key.
    """
    explained = dict(resolved.explain(key))
    lines: list[str] = []
    for leaf, chain in explained.items():
        if not _noise(leaf, chain, explained):
            lines += _entry(resolved, leaf, chain)
    return "\n".join(lines) + "\n"


def _selected(
    resolved: ResolvedValues, tops: Collection[str] | None
) -> dict[KeyPath, list[Assignment]]:
    chains = resolved.provenance()
    return {
        path: chain
        for path, chain in chains.items()
        if (tops is None or path[0] in tops) and not _noise(path, chain, chains)
    }


def format_provenance(resolved: ResolvedValues, tops: Collection[str] | None = None) -> str:
    """:func:`format_explain` of every path any layer set (below ``tops`` if given)."""
    lines: list[str] = []
    for leaf, chain in _selected(resolved, tops).items():
        lines += _entry(resolved, leaf, chain)
    return "\n".join(lines) + "\n"


def _chains_json(chains: dict[KeyPath, list[Assignment]]) -> str:
    document: dict[str, list[dict[str, Any]]] = {}
    for leaf, chain in chains.items():
        document[dotted(leaf)] = [
            {
                "layer": assignment.layer.name,
                "source": assignment.layer.source or None,
                "line": assignment.line,
                "value": None if assignment.value is DELETED else assignment.value,
                "deleted": assignment.value is DELETED,
                "wins": index == len(chain) - 1,
            }
            for index, assignment in enumerate(chain)
        ]
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def explain_json(resolved: ResolvedValues, key: str) -> str:
    """:func:`format_explain` for tools: the shape of :func:`provenance_json`, for one key.

    Raises:
        ValuesError: no layer sets the key.
    """
    explained = dict(resolved.explain(key))
    return _chains_json(
        {leaf: chain for leaf, chain in explained.items() if not _noise(leaf, chain, explained)}
    )


def provenance_json(resolved: ResolvedValues, tops: Collection[str] | None = None) -> str:
    """The whole provenance map as JSON, for tools.

    ``{"<key path>": [{"layer", "source", "line", "value", "deleted", "wins"}, ...]}``:
    every path any layer set (below the top-level keys ``tops`` if given), sorted, each
    with the layers that set it, oldest first; ``line`` is null where the source has no
    lines (chart defaults, profiles, ``--set``), ``value`` is null and ``deleted`` true for
    a null that deleted the key, and ``wins`` marks the last one.
    """
    return _chains_json(_selected(resolved, tops))
