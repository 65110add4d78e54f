"""Template functions: a Python implementation plus the Go signature it is checked against.

Go's ``text/template`` checks each argument against the function's parameter type before
the call (``wrong type for value; expected string; got float64``) and converts literal
constants by that type (``expected integer; found "x"``). :class:`GoFunc` records the
parameter types so the executor can do the same.

Parameter types: ``any`` (``interface{}``), ``value`` (``reflect.Value``: raw, even
invalid), ``string``, ``int``, ``int64``, ``float64``, ``bool``, ``map``
(``map[string]interface{}``) and ``values`` (Helm's ``common.Values``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

__all__ = ["GO_TYPES", "NILABLE", "FuncMap", "GoFunc", "go_func"]

GO_TYPES: Final = {
    "any": "interface {}",
    "value": "reflect.Value",
    "string": "string",
    "int": "int",
    "int64": "int64",
    "float64": "float64",
    "bool": "bool",
    "map": "map[string]interface {}",
    "values": "common.Values",
}
"""Parameter type -> Go type name, for error messages."""

NILABLE: Final = frozenset({"any", "value", "map", "values"})
"""Parameter types that accept a nil argument."""


@dataclass(frozen=True, slots=True)
class GoFunc:
    """A template function.

    Attributes:
        impl: the implementation; it raises
            :class:`~meshcharts.gotemplate.gotypes.FuncError` for a Go error or panic.
        params: the types of the fixed parameters.
        variadic: the element type of a final ``...`` parameter, if any.
        lazy: ``and``/``or``: arguments are evaluated one by one until the result is known.
    """

    impl: Callable[..., Any]
    params: tuple[str, ...] = ()
    variadic: str | None = None
    lazy: bool = False

    def __post_init__(self) -> None:
        for param in (*self.params, self.variadic or "any"):
            if param not in GO_TYPES:
                raise ValueError(f"unknown parameter type {param!r}")


FuncMap = dict[str, GoFunc]


def go_func(*params: str, variadic: str | None = None) -> Callable[[Callable[..., Any]], GoFunc]:
    """Decorator: wrap an implementation as a :class:`GoFunc` with this signature."""

    def wrap(impl: Callable[..., Any]) -> GoFunc:
        return GoFunc(impl, params, variadic)

    return wrap
