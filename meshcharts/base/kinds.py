"""How messages name the kind of a value: ``null``, ``a map``, ``a list``, ``an integer``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

__all__ = ["kind_of"]

_SCALARS: Final[Mapping[type, str]] = {
    bool: "a boolean",
    int: "an integer",
    float: "a float",
    str: "a string",
}


def kind_of(value: Any) -> str:
    """The kind of a values-tree node as YAML users call it, with its article."""
    if value is None:
        return "null"
    if isinstance(value, Mapping):
        return "a map"
    if isinstance(value, list | tuple):
        return "a list"
    return _SCALARS.get(type(value), f"a {type(value).__name__}")
