"""The functions ``text/template`` predefines.

``and or not eq ne lt le gt ge len index print printf println html js urlquery``. Most take
``reflect.Value`` arguments (parameter type ``value``), so nil arguments reach them, and they
report errors with Go's texts (``incompatible types for comparison``...).
"""

from __future__ import annotations

import urllib.parse
from typing import Any, Final

from meshcharts.gotemplate.executor import truth
from meshcharts.gotemplate.funcs import FuncMap, GoFunc
from meshcharts.gotemplate.gofmt import sprint, sprint_value, sprintf, sprintln
from meshcharts.gotemplate.gotypes import NIL_IFACE, FuncError, StringMap, type_name, unwrap

__all__ = ["BUILTINS", "compare", "equal", "go_len"]

_BAD_TYPE: Final = "invalid type for comparison"
_INCOMPATIBLE: Final = "incompatible types for comparison"


def _basic_kind(value: Any) -> str | None:
    """The comparison kind of a value (``bool int float string``), None for others."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    return None


def equal(arg1: Any, *others: Any) -> bool:
    """``eq``: whether ``arg1`` equals any of ``others`` (basic kinds only, as Go)."""
    arg1 = unwrap(arg1)
    if not others:
        raise FuncError("missing argument for comparison")
    kind1 = _basic_kind(arg1)
    for arg in others:
        arg = unwrap(arg)
        kind2 = _basic_kind(arg)
        if kind1 != kind2:
            if arg1 is not None and arg is not None:
                raise FuncError(f"{_INCOMPATIBLE}: {type_name(arg1)} and {type_name(arg)}")
            continue
        if kind1 is None:
            if arg1 is None or arg is None:
                if arg1 is None and arg is None:
                    return True
                continue
            raise FuncError(f"non-comparable types {sprint_value(arg1)}: {type_name(arg1)}")
        if arg1 == arg:
            return True
    return False


def compare(arg1: Any, arg2: Any) -> bool:
    """``lt``: whether ``arg1 < arg2`` for two values of one basic kind."""
    arg1, arg2 = unwrap(arg1), unwrap(arg2)
    kind1, kind2 = _basic_kind(arg1), _basic_kind(arg2)
    if kind1 is None or kind2 is None:
        raise FuncError(_BAD_TYPE)
    if kind1 != kind2:
        raise FuncError(f"{_INCOMPATIBLE}: {type_name(arg1)} and {type_name(arg2)}")
    if kind1 == "bool":
        raise FuncError(_BAD_TYPE)
    return bool(arg1 < arg2)


def _less_or_equal(arg1: Any, arg2: Any) -> bool:
    return compare(arg1, arg2) or equal(arg1, arg2)


def go_len(item: Any) -> int:
    """``len``: bytes of a string, items of a slice or map."""
    item = unwrap(item)
    if item is None:
        raise FuncError("reflect: call of reflect.Value.Type on zero Value")
    if isinstance(item, str):
        return len(item.encode("utf-8")) if not item.isascii() else len(item)
    if isinstance(item, list | dict | bytes):
        return len(item)
    raise FuncError(f"len of type {type_name(item)}")


def _index_arg(index: Any, length: int, what: str) -> int:
    index = unwrap(index)
    if not isinstance(index, int) or isinstance(index, bool):
        kind = "nil" if index is None else type_name(index)
        raise FuncError(f"cannot index slice/array with type {kind}")
    if index < 0 or index >= length:
        raise FuncError(f"{what} out of range: {index}")
    return index


def index(item: Any, *indexes: Any) -> Any:
    """``index``: ``item[i][j]...`` over slices, strings and maps (missing keys: zero)."""
    item = unwrap(item)
    if item is None:
        raise FuncError("index of untyped nil")
    for key in indexes:
        if item is None or item is NIL_IFACE:
            raise FuncError("index of nil pointer")
        if isinstance(item, str):
            data = item.encode("utf-8")
            item = data[_index_arg(key, len(data), "index")]
        elif isinstance(item, list):
            item = item[_index_arg(key, len(item), "index")]
            item = NIL_IFACE if item is None else item
        elif isinstance(item, dict):
            key = unwrap(key)
            if key is None:
                raise FuncError("value is nil; should be of type string")
            if not isinstance(key, str):
                raise FuncError(f"value has type {type_name(key)}; should be string")
            if isinstance(item, StringMap):
                item = item.get(key, "")  # a map[string]string's zero value
                continue
            item = item.get(key)
            item = NIL_IFACE if item is None else item
        else:
            raise FuncError(f"can't index item of type {type_name(item)}")
    return item


_HTML_ESCAPES: Final = {"&": "&amp;", "'": "&#39;", "<": "&lt;", ">": "&gt;", '"': "&#34;",
                        "\x00": "\ufffd"}  # fmt: skip


def _html(*args: Any) -> str:
    return "".join(_HTML_ESCAPES.get(c, c) for c in _eval_args(args))


def _js(*args: Any) -> str:
    text = _eval_args(args)
    table = {"\\": "\\\\", "'": "\\'", '"': '\\"', "<": "\\u003C", ">": "\\u003E", "&": "\\u0026",
             "=": "\\u003D", "\n": "\\n", "\r": "\\r", "\t": "\\t"}  # fmt: skip
    return "".join(table.get(c, c) for c in text)


def _urlquery(*args: Any) -> str:
    return urllib.parse.quote_plus(_eval_args(args))


def _eval_args(args: tuple[Any, ...]) -> str:
    if len(args) == 1 and isinstance(args[0], str):
        return args[0]
    return sprint(*args)


def _not(arg: Any) -> bool:
    return not truth(arg)


def _ne(arg1: Any, arg2: Any) -> bool:
    return not equal(arg1, arg2)


def _struct_call(*_: Any) -> Any:
    raise FuncError("call is not supported by the meshcharts renderer")


BUILTINS: Final[FuncMap] = {
    "and": GoFunc(lambda *a: a[-1], ("value",), "value", lazy=True),
    "or": GoFunc(lambda *a: a[-1], ("value",), "value", lazy=True),
    "not": GoFunc(_not, ("value",)),
    "eq": GoFunc(equal, ("value",), "value"),
    "ne": GoFunc(_ne, ("value", "value")),
    "lt": GoFunc(compare, ("value", "value")),
    "le": GoFunc(_less_or_equal, ("value", "value")),
    "gt": GoFunc(lambda a, b: not _less_or_equal(a, b), ("value", "value")),
    "ge": GoFunc(lambda a, b: not compare(a, b), ("value", "value")),
    "len": GoFunc(go_len, ("value",)),
    "index": GoFunc(index, ("value",), "value"),
    "print": GoFunc(sprint, (), "any"),
    "printf": GoFunc(sprintf, ("string",), "any"),
    "println": GoFunc(sprintln, (), "any"),
    "html": GoFunc(_html, (), "any"),
    "js": GoFunc(_js, (), "any"),
    "urlquery": GoFunc(_urlquery, (), "any"),
    "call": GoFunc(_struct_call, ("value",), "value"),
}
"""The predefined functions of ``text/template`` (``slice`` is sprig's in Helm)."""
