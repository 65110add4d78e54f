"""Go values in Python: the type model the template engine executes on.

Go types map to Python types as follows (see :func:`type_name`):

============================  ==============================================
Go                            Python
============================  ==============================================
nil (untyped, invalid)        ``None``
nil ``interface{}`` from a    :data:`NIL_IFACE` (only between a field lookup
map lookup                    and its use; see :func:`unwrap`)
bool / string                 ``bool`` / ``str``
int / int64 / float64         ``int`` / :class:`Int64` / ``float``
[]interface{}                 ``list`` (:class:`NilSlice` for a nil slice)
[]string / []int              :class:`StringSlice` / :class:`IntSlice`
map[string]interface{}        ``dict`` (:class:`ValuesMap` for Helm's Values)
map[string]string             :class:`StringMap`
structs with fields/methods   :class:`GoStruct`
============================  ==============================================

Values that Helm reads from YAML or JSON are ``float`` for every number, as in Go.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

__all__ = [
    "NIL_IFACE",
    "FuncError",
    "GoStruct",
    "Int64",
    "IntSlice",
    "NilSlice",
    "StringMap",
    "StringSlice",
    "ValuesMap",
    "deep_copy",
    "deep_equal",
    "is_empty",
    "kind_name",
    "type_name",
    "unwrap",
]

VALUES_TYPE: Final = "common.Values"
"""Go type name of Helm's ``Values`` maps (Helm 4; Helm 3 says ``chartutil.Values``)."""


class FuncError(Exception):
    """A template function returned an error (or panicked) with this message."""


class _NilInterface:
    """The zero ``interface{}`` a map lookup yields for a missing key or a null value."""

    __slots__ = ()
    _instance: _NilInterface | None = None

    def __new__(cls) -> _NilInterface:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "NIL_IFACE"

    def __bool__(self) -> bool:
        return False


NIL_IFACE: Final = _NilInterface()


class Int64(int):
    """A Go ``int64`` (what sprig's arithmetic returns); plain ``int`` is Go's ``int``."""

    __slots__ = ()


class NilSlice(list[Any]):
    """A nil ``[]interface{}``: empty, but marshalled as ``null``."""

    __slots__ = ()


class StringSlice(list[Any]):
    """A Go ``[]string``."""

    __slots__ = ()


class IntSlice(list[Any]):
    """A Go ``[]int``."""

    __slots__ = ()


class StringMap(dict[str, Any]):
    """A Go ``map[string]string`` (what sprig's ``split`` returns)."""

    __slots__ = ()


class ValuesMap(dict[str, Any]):
    """Helm's ``Values`` type: a ``map[string]interface{}`` with methods (``AsMap``...)."""

    __slots__ = ()


@dataclass(eq=False)
class GoStruct:
    """A Go struct (or pointer to one): named fields, methods and how fmt/json show it.

    Attributes:
        type: Go type name, e.g. ``*common.Capabilities``.
        fields: field name -> value, in declaration order.
        methods: method name -> function (a :class:`~meshcharts.gotemplate.funcs.GoFunc`).
        text: what ``fmt`` prints (a ``String()`` method); None prints the fields.
        json: what ``encoding/json`` marshals; None marshals the fields.
    """

    type: str
    fields: dict[str, Any] = field(default_factory=dict)
    methods: Mapping[str, Any] = field(default_factory=dict)
    text: str | None = None
    json: Any = None


def unwrap(value: Any) -> Any:
    """Turn :data:`NIL_IFACE` into ``None``: what Go does when a value leaves a pipeline."""
    return None if value is NIL_IFACE else value


_SIMPLE_TYPES: Final[dict[type, str]] = {
    bool: "bool",
    int: "int",
    Int64: "int64",
    float: "float64",
    str: "string",
    bytes: "[]uint8",
    list: "[]interface {}",
    NilSlice: "[]interface {}",
    StringSlice: "[]string",
    IntSlice: "[]int",
    dict: "map[string]interface {}",
    StringMap: "map[string]string",
    ValuesMap: VALUES_TYPE,
}


def type_name(value: Any) -> str:
    """The Go type of ``value`` as ``%T`` prints it (``<nil>`` for nil)."""
    if value is None:
        return "<nil>"
    if value is NIL_IFACE:
        return "interface {}"
    if isinstance(value, GoStruct):
        return value.type
    name = _SIMPLE_TYPES.get(type(value))
    if name is not None:
        return name
    for cls, name in _SIMPLE_TYPES.items():
        if isinstance(value, cls) and cls is not bool:
            return name
    return type(value).__name__


def kind_name(value: Any) -> str:
    """The ``reflect.Kind`` of ``value`` (``invalid`` for nil)."""
    if value is None or value is NIL_IFACE:
        return "invalid"
    if isinstance(value, GoStruct):
        return "ptr" if value.type.startswith("*") else "struct"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, Int64):
        return "int64"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float64"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | bytes):
        return "slice"
    if isinstance(value, dict):
        return "map"
    return "invalid"


def is_empty(value: Any) -> bool:
    """Sprig's ``empty``: nil, zero numbers, false, and empty strings, lists and maps."""
    if value is None or value is NIL_IFACE:
        return True
    if isinstance(value, bool):
        return not value
    if isinstance(value, int | float):
        return value == 0
    if isinstance(value, str | list | dict | bytes):
        return len(value) == 0
    return False


def deep_equal(a: Any, b: Any) -> bool:
    """Go's ``reflect.DeepEqual`` on template values: types must match, then contents."""
    a, b = unwrap(a), unwrap(b)
    if a is None or b is None:
        return a is None and b is None
    if type_name(a) != type_name(b):
        return False
    if isinstance(a, NilSlice) != isinstance(b, NilSlice):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(deep_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(deep_equal(a[k], b[k]) for k in a)
    if isinstance(a, float) and math.isnan(a):
        return False
    if isinstance(a, GoStruct):
        return a is b
    return bool(a == b)


def deep_copy(value: Any) -> Any:
    """A deep copy that keeps every Go type (``copystructure.Copy``)."""
    if isinstance(value, dict):
        return type(value)({k: deep_copy(v) for k, v in value.items()})
    if isinstance(value, list):
        return type(value)(deep_copy(v) for v in value)
    return value
