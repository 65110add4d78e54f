"""Provenance, told for people: the chain of layers behind a value."""

from __future__ import annotations

import json
from typing import Any

from meshcharts.values import DELETED, ResolvedValues

__all__ = ["format_explain"]


def _show(value: Any) -> str:
    return (
        "(deleted by null)"
        if value is DELETED
        else json.dumps(value, sort_keys=True, ensure_ascii=False)
    )


def format_explain(resolved: ResolvedValues, key: str) -> str:
    """Text explaining ``key`` and every leaf below it: each layer that set it, winner last.

    Raises:
        ValuesError: no layer sets the key.
    """
    lines: list[str] = []
    for leaf, chain in resolved.explain(key):
        lines.append(".".join(leaf))
        for index, assignment in enumerate(chain, 1):
            where = f" ({assignment.where})" if assignment.where else ""
            mark = "  <- wins" if index == len(chain) else ""
            lines.append(
                f"  {index}. {assignment.layer.name}{where}: {_show(assignment.value)}{mark}"
            )
    return "\n".join(lines) + "\n"
