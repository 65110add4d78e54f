"""Sprig's functions on data: defaults, reflection, conversion, math, lists, dicts, semver.

Numbers follow Go and ``spf13/cast``: sprig's arithmetic converts every operand to
``int64`` (floats truncate, numeric strings parse, anything else is 0) and returns an
:class:`~meshcharts.gotemplate.gotypes.Int64`; ``addf``/``mulf``... compute in decimal.
Go panics inside sprig functions become :class:`FuncError` with Go's message.
"""

from __future__ import annotations

import json
import math
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any, Final

from meshcharts.gotemplate.constraints import parse_version, satisfies
from meshcharts.gotemplate.funcs import FuncMap, GoFunc
from meshcharts.gotemplate.gotypes import (
    FuncError,
    GoStruct,
    Int64,
    IntSlice,
    NilSlice,
    StringSlice,
    deep_copy,
    deep_equal,
    is_empty,
    kind_name,
    type_name,
    unwrap,
)
from meshcharts.gotemplate.goyaml import to_json
from meshcharts.gotemplate.parser import parse_go_int
from meshcharts.gotemplate.sprig_text import strval

__all__ = ["DATA_FUNCS", "to_float64", "to_int64"]

_NIL_DEREF: Final = "runtime error: invalid memory address or nil pointer dereference"
_MAP_TYPE: Final = "map[string]interface {}"


def _wrap64(value: int) -> int:
    return ((value + 2**63) % 2**64) - 2**63


def _trim_zero_decimal(text: str) -> str:
    found_zero = False
    for i in range(len(text), 0, -1):
        char = text[i - 1]
        if char == ".":
            if found_zero:
                return text[: i - 1]
        elif char == "0":
            found_zero = True
        else:
            return text
    return text


def to_int64(value: Any) -> int:
    """``cast.ToInt64``: numbers truncated, numeric strings parsed, anything else 0."""
    value = unwrap(value)
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return _wrap64(value)
    if isinstance(value, float):
        return _wrap64(int(value)) if math.isfinite(value) else -(2**63)
    if isinstance(value, str):
        parsed = parse_go_int(_trim_zero_decimal(value))
        return _wrap64(parsed) if parsed is not None and -(2**63) <= parsed < 2**63 else 0
    return 0


def to_float64(value: Any) -> float:
    """``cast.ToFloat64``."""
    value = unwrap(value)
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return 0.0
    return 0.0


def _atoi(text: str) -> int:
    """``strconv.Atoi`` with errors as 0."""
    digits = text[1:] if text[:1] in "+-" else text
    if not digits.isascii() or not digits.isdigit():
        return 0
    value = int(text)
    return value if -(2**63) <= value < 2**63 else 0


def _int_div(a: int, b: int) -> int:
    if b == 0:
        raise ZeroDivisionError
    quotient = abs(a) // abs(b)
    return quotient if (a < 0) == (b < 0) else -quotient


def _add(*values: Any) -> Int64:
    return Int64(_wrap64(sum(to_int64(v) for v in values)))


def _mul(first: Any, *values: Any) -> Int64:
    product = to_int64(first)
    for value in values:
        product = _wrap64(product * to_int64(value))
    return Int64(product)


def _div(a: Any, b: Any) -> Int64:
    return Int64(_wrap64(_int_div(to_int64(a), to_int64(b))))


def _mod(a: Any, b: Any) -> Int64:
    x, y = to_int64(a), to_int64(b)
    return Int64(x - y * _int_div(x, y))


def _decimal(value: Any) -> Decimal:
    number = to_float64(value)
    return Decimal(repr(number)) if math.isfinite(number) else Decimal(0)


def _decimal_op(op: str, first: Any, rest: tuple[Any, ...]) -> float:
    result = _decimal(first)
    for value in rest:
        operand = _decimal(value)
        if op == "+":
            result += operand
        elif op == "-":
            result -= operand
        elif op == "*":
            result *= operand
        else:
            try:
                result = (result / operand).quantize(Decimal("1e-16"), ROUND_HALF_EVEN)
            except (InvalidOperation, ZeroDivisionError):
                raise FuncError("decimal division by 0") from None
    return float(result)


def _round(value: Any, places: int, *round_on: float) -> float:
    pivot = round_on[0] if round_on else 0.5
    power = 10.0**places
    digit = power * to_float64(value)
    fraction = math.modf(digit)[0]
    return (math.ceil(digit) if fraction >= pivot else math.floor(digit)) / power


MAX_SEQUENCE: Final = 10_000_000


def _until_step(start: int, stop: int, step: int) -> IntSlice:
    if step and abs((stop - start) // step) > MAX_SEQUENCE:
        raise FuncError(f"a sequence of more than {MAX_SEQUENCE} numbers")
    if stop < start:
        return IntSlice(range(start, stop, step)) if step < 0 else IntSlice()
    return IntSlice(range(start, stop, step)) if step > 0 else IntSlice()


def _until(count: int) -> IntSlice:
    return _until_step(0, count, 1 if count >= 0 else -1)


def _seq(*params: int) -> str:
    if not params or len(params) > 3:
        return ""
    if len(params) == 1:
        start, end, step = 1, params[0], 1 if params[0] >= 1 else -1
        values = _until_step(start, end + step, step)
    else:
        start, end = params[0], params[-1]
        direction = -1 if end < start else 1
        step = params[1] if len(params) == 3 else direction
        if len(params) == 3 and step * direction < 0:
            return ""
        values = _until_step(start, end + direction, step)
    return " ".join(str(v) for v in values)


# --- defaults and reflection ------------------------------------------------------------


def _default(default: Any, *given: Any) -> Any:
    if not given or is_empty(given[0]):
        return default
    return given[0]


def _coalesce(*values: Any) -> Any:
    return next((v for v in values if not is_empty(v)), None)


def _ternary(if_true: Any, if_false: Any, condition: bool) -> Any:
    return if_true if condition else if_false


def _must_to_json(value: Any) -> str:
    try:
        return to_json(value)
    except ValueError as exc:
        raise FuncError(str(exc)) from None


def _to_pretty_json(value: Any) -> str:
    try:
        data = json.loads(to_json(value))
    except ValueError:
        return ""
    return _go_indent_json(data)


def _go_indent_json(data: Any) -> str:
    text = json.dumps(data, indent=2, ensure_ascii=False, separators=(",", ": "))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _to_raw_json(value: Any) -> str:
    try:
        text = to_json(value)
    except ValueError:
        return ""
    return text.replace("\\u003c", "<").replace("\\u003e", ">").replace("\\u0026", "&")


def _must_from_json(text: str) -> Any:
    try:
        return json.loads(text, parse_int=float, parse_constant=_reject_constant)
    except ValueError as exc:
        raise FuncError(str(exc)) from None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"invalid character '{name[0]}' looking for beginning of value")


def _type_is_like(target: str, value: Any) -> bool:
    name = type_name(value)
    return target in (name, "*" + name)


# --- lists ------------------------------------------------------------------------------------


def _as_list(value: Any, action: str) -> list[Any]:
    """The items of a slice, or the error sprig gives for anything else."""
    value = unwrap(value)
    if value is None:
        raise FuncError(_NIL_DEREF)
    if isinstance(value, list):
        return value
    if isinstance(value, bytes):
        return list(value)
    raise FuncError(f"Cannot {action} type {kind_name(value)}")


def _push(items: Any, value: Any) -> list[Any]:
    return [*_as_list(items, "push on"), value]


def _prepend(items: Any, value: Any) -> list[Any]:
    return [value, *_as_list(items, "prepend on")]


def _first(items: Any) -> Any:
    values = _as_list(items, "find first on")
    return values[0] if values else None


def _last(items: Any) -> Any:
    values = _as_list(items, "find last on")
    return values[-1] if values else None


def _rest(items: Any) -> list[Any]:
    values = _as_list(items, "find rest on")
    return values[1:] if values else NilSlice()


def _initial(items: Any) -> list[Any]:
    values = _as_list(items, "find initial on")
    return values[:-1] if values else NilSlice()


def _reverse(items: Any) -> list[Any]:
    return _as_list(items, "find reverse on")[::-1]


def _compact(items: Any) -> list[Any]:
    return [v for v in _as_list(items, "compact on") if not is_empty(v)]


def _uniq(items: Any) -> list[Any]:
    result: list[Any] = []
    for value in _as_list(items, "find uniq on"):
        if not any(deep_equal(value, seen) for seen in result):
            result.append(value)
    return result


def _without(items: Any, *omit: Any) -> list[Any]:
    values = _as_list(items, "find without on")
    return [v for v in values if not any(deep_equal(v, o) for o in omit)]


def _has(needle: Any, haystack: Any) -> bool:
    if unwrap(haystack) is None:
        return False
    return any(deep_equal(needle, v) for v in _as_list(haystack, "find has on"))


def _slice(items: Any, *indices: Any) -> Any:
    value = unwrap(items)
    if not isinstance(value, list):
        if value is None:
            raise FuncError(_NIL_DEREF)
        raise FuncError(f"list should be type of slice or array but {kind_name(value)}")
    if not value:
        return None
    start = to_int64(indices[0]) if indices else 0
    end = to_int64(indices[1]) if len(indices) > 1 else len(value)
    if not 0 <= start <= end <= len(value):
        raise FuncError("reflect: slice index out of range")
    return type(value)(value[start:end]) if type(value) is not NilSlice else value[start:end]


def _concat(*lists: Any) -> list[Any]:
    result: list[Any] = NilSlice()
    for items in lists:
        value = unwrap(items)
        if not isinstance(value, list):
            raise FuncError(f"Cannot concat type {kind_name(value)} as list")
        if value:
            result = [*result, *value]
    return result


def _chunk(size: int, items: Any) -> list[Any]:
    values = _as_list(items, "chunk")
    if size <= 0:
        raise FuncError("runtime error: integer divide by zero")
    return [values[i : i + size] for i in range(0, len(values), size)]


# --- dicts --------------------------------------------------------------------------------------


def _dict(*pairs: Any) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for i in range(0, len(pairs), 2):
        result[strval(pairs[i])] = pairs[i + 1] if i + 1 < len(pairs) else ""
    return result


def _get(mapping: dict[str, Any] | None, key: str) -> Any:
    if mapping is None or key not in mapping:
        return ""
    return mapping[key]


def _set(mapping: dict[str, Any] | None, key: str, value: Any) -> dict[str, Any]:
    if mapping is None:
        raise FuncError("assignment to entry in nil map")
    mapping[key] = value
    return mapping


def _unset(mapping: dict[str, Any] | None, key: str) -> dict[str, Any] | None:
    if mapping is not None:
        mapping.pop(key, None)
    return mapping


def _has_key(mapping: dict[str, Any] | None, key: str) -> bool:
    return mapping is not None and key in mapping


def _pluck(key: str, *mappings: dict[str, Any] | None) -> list[Any]:
    return [m[key] for m in mappings if m is not None and key in m]


def _keys(*mappings: dict[str, Any] | None) -> list[str]:
    return StringSlice(k for m in mappings if m for k in sorted(m))


def _pick(mapping: dict[str, Any] | None, *keys: str) -> dict[str, Any]:
    source = mapping or {}
    return {k: source[k] for k in keys if k in source}


def _omit(mapping: dict[str, Any] | None, *keys: str) -> dict[str, Any]:
    return {k: v for k, v in (mapping or {}).items() if k not in keys}


def _values(mapping: dict[str, Any] | None) -> list[Any]:
    source = mapping or {}
    return [source[k] for k in sorted(source)]


def _mergo(dst: dict[str, Any], src: dict[str, Any], overwrite: bool) -> None:
    """``mergo.Merge`` of two ``map[string]interface{}`` (with ``WithOverride``)."""
    for key, value in src.items():
        if value is None:
            if overwrite:
                dst[key] = None
            continue
        present = key in dst
        current = dst.get(key)
        if isinstance(value, dict) and isinstance(current, dict) and current:
            _mergo(current, value, overwrite)
        elif overwrite or not present or is_empty(current):
            dst[key] = value


def _merge(dst: dict[str, Any] | None, *sources: dict[str, Any] | None) -> dict[str, Any]:
    result = {} if dst is None else dst
    for source in sources:
        _mergo(result, source or {}, overwrite=False)
    return result


def _merge_overwrite(dst: dict[str, Any] | None, *sources: dict[str, Any] | None) -> dict[str, Any]:
    result = {} if dst is None else dst
    for source in sources:
        _mergo(result, source or {}, overwrite=True)
    return result


def _dig(*args: Any) -> Any:
    if len(args) < 3:
        raise FuncError("dig needs at least three arguments")
    mapping, default = args[-1], args[-2]
    if type(mapping) is not dict:
        raise FuncError(
            f"interface conversion: interface {{}} is {type_name(mapping)}, not {_MAP_TYPE}"
        )
    keys = args[:-2]
    for key in keys:
        if not isinstance(key, str):
            raise FuncError(f"interface conversion: interface {{}} is {type_name(key)}, not string")
    for depth, key in enumerate(keys):
        if key not in mapping:
            return default
        step = mapping[key]
        if depth == len(keys) - 1:
            return step
        if type(step) is not dict:
            raise FuncError(
                f"interface conversion: interface {{}} is {type_name(step)}, not {_MAP_TYPE}"
            )
        mapping = step
    return default


def _deep_copy(value: Any) -> Any:
    if value is None:
        raise FuncError("deepCopy error: copy: Cannot copy nil")
    return deep_copy(value)


def _semver(text: str) -> GoStruct:
    version = parse_version(text)
    fields = {
        "Major": Int64(version.major), "Minor": Int64(version.minor),
        "Patch": Int64(version.patch), "Prerelease": version.prerelease,
        "Metadata": version.metadata, "Original": text,
    }  # fmt: skip
    return GoStruct("*semver.Version", fields, text=str(version), json=str(version))


def _fn(impl: Any, *params: str, variadic: str | None = None) -> GoFunc:
    return GoFunc(impl, params, variadic)


_ANY1 = ("any",)
_ANY2 = ("any", "any")

DATA_FUNCS: Final[FuncMap] = {
    "default": _fn(_default, "any", variadic="any"),
    "empty": _fn(is_empty, "any"),
    "coalesce": _fn(_coalesce, variadic="any"),
    "all": _fn(lambda *v: all(not is_empty(x) for x in v), variadic="any"),
    "any": _fn(lambda *v: any(not is_empty(x) for x in v), variadic="any"),
    "compact": _fn(_compact, *_ANY1),
    "mustCompact": _fn(_compact, *_ANY1),
    "ternary": _fn(_ternary, "any", "any", "bool"),
    "mustToJson": _fn(_must_to_json, *_ANY1),
    "toPrettyJson": _fn(_to_pretty_json, *_ANY1),
    "mustToPrettyJson": _fn(_to_pretty_json, *_ANY1),
    "toRawJson": _fn(_to_raw_json, *_ANY1),
    "mustToRawJson": _fn(_to_raw_json, *_ANY1),
    "mustFromJson": _fn(_must_from_json, "string"),
    "deepCopy": _fn(_deep_copy, *_ANY1),
    "mustDeepCopy": _fn(_deep_copy, *_ANY1),
    "typeOf": _fn(type_name, *_ANY1),
    "typeIs": _fn(lambda target, v: target == type_name(v), "string", "any"),
    "typeIsLike": _fn(_type_is_like, "string", "any"),
    "kindOf": _fn(kind_name, *_ANY1),
    "kindIs": _fn(lambda target, v: target == kind_name(v), "string", "any"),
    "deepEqual": _fn(deep_equal, *_ANY2),
    "atoi": _fn(_atoi, "string"),
    "int": _fn(to_int64, *_ANY1),
    "int64": _fn(lambda v: Int64(to_int64(v)), *_ANY1),
    "float64": _fn(to_float64, *_ANY1),
    "add": _fn(_add, variadic="any"),
    "add1": _fn(lambda v: Int64(_wrap64(to_int64(v) + 1)), *_ANY1),
    "sub": _fn(lambda a, b: Int64(_wrap64(to_int64(a) - to_int64(b))), *_ANY2),
    "mul": _fn(_mul, "any", variadic="any"),
    "div": _fn(_div, *_ANY2),
    "mod": _fn(_mod, *_ANY2),
    "max": _fn(lambda a, *r: Int64(max([to_int64(a), *map(to_int64, r)])), "any", variadic="any"),
    "biggest": _fn(
        lambda a, *r: Int64(max([to_int64(a), *map(to_int64, r)])), "any", variadic="any"
    ),
    "min": _fn(lambda a, *r: Int64(min([to_int64(a), *map(to_int64, r)])), "any", variadic="any"),
    "maxf": _fn(lambda a, *r: max([to_float64(a), *map(to_float64, r)]), "any", variadic="any"),
    "minf": _fn(lambda a, *r: min([to_float64(a), *map(to_float64, r)]), "any", variadic="any"),
    "add1f": _fn(lambda v: _decimal_op("+", v, (1,)), *_ANY1),
    "addf": _fn(lambda *v: _decimal_op("+", 0.0, v), variadic="any"),
    "subf": _fn(lambda a, *v: _decimal_op("-", a, v), "any", variadic="any"),
    "mulf": _fn(lambda a, *v: _decimal_op("*", a, v), "any", variadic="any"),
    "divf": _fn(lambda a, *v: _decimal_op("/", a, v), "any", variadic="any"),
    "ceil": _fn(lambda v: float(math.ceil(to_float64(v))), *_ANY1),
    "floor": _fn(lambda v: float(math.floor(to_float64(v))), *_ANY1),
    "round": _fn(_round, "any", "int", variadic="float64"),
    "until": _fn(_until, "int"),
    "untilStep": _fn(_until_step, "int", "int", "int"),
    "seq": _fn(_seq, variadic="int"),
    "list": _fn(lambda *v: list(v), variadic="any"),
    "tuple": _fn(lambda *v: list(v), variadic="any"),
    "append": _fn(_push, *_ANY2),
    "push": _fn(_push, *_ANY2),
    "mustAppend": _fn(_push, *_ANY2),
    "mustPush": _fn(_push, *_ANY2),
    "prepend": _fn(_prepend, *_ANY2),
    "mustPrepend": _fn(_prepend, *_ANY2),
    "first": _fn(_first, *_ANY1),
    "mustFirst": _fn(_first, *_ANY1),
    "last": _fn(_last, *_ANY1),
    "mustLast": _fn(_last, *_ANY1),
    "rest": _fn(_rest, *_ANY1),
    "mustRest": _fn(_rest, *_ANY1),
    "initial": _fn(_initial, *_ANY1),
    "mustInitial": _fn(_initial, *_ANY1),
    "reverse": _fn(_reverse, *_ANY1),
    "mustReverse": _fn(_reverse, *_ANY1),
    "uniq": _fn(_uniq, *_ANY1),
    "mustUniq": _fn(_uniq, *_ANY1),
    "without": _fn(_without, "any", variadic="any"),
    "mustWithout": _fn(_without, "any", variadic="any"),
    "has": _fn(_has, *_ANY2),
    "mustHas": _fn(_has, *_ANY2),
    "slice": _fn(_slice, "any", variadic="any"),
    "mustSlice": _fn(_slice, "any", variadic="any"),
    "concat": _fn(_concat, variadic="any"),
    "chunk": _fn(_chunk, "int", "any"),
    "mustChunk": _fn(_chunk, "int", "any"),
    "dict": _fn(_dict, variadic="any"),
    "get": _fn(_get, "map", "string"),
    "set": _fn(_set, "map", "string", "any"),
    "unset": _fn(_unset, "map", "string"),
    "hasKey": _fn(_has_key, "map", "string"),
    "pluck": _fn(_pluck, "string", variadic="map"),
    "keys": _fn(_keys, variadic="map"),
    "pick": _fn(_pick, "map", variadic="string"),
    "omit": _fn(_omit, "map", variadic="string"),
    "values": _fn(_values, "map"),
    "merge": _fn(_merge, "map", variadic="map"),
    "mustMerge": _fn(_merge, "map", variadic="map"),
    "mergeOverwrite": _fn(_merge_overwrite, "map", variadic="map"),
    "mustMergeOverwrite": _fn(_merge_overwrite, "map", variadic="map"),
    "dig": _fn(_dig, variadic="any"),
    "semverCompare": _fn(satisfies, "string", "string"),
    "semver": _fn(_semver, "string"),
}
"""Sprig's data functions."""
