"""YAML and JSON as Helm's Go libraries write and read them.

* :func:`to_json` is ``encoding/json.Marshal`` (sorted keys, HTML-safe escapes, Go's
  float format).
* :func:`to_yaml` is ``sigs.k8s.io/yaml.Marshal``: JSON first (so numbers become what
  JSON keeps of them), then ``gopkg.in/yaml.v2``'s emitter, ported in
  :mod:`meshcharts.gotemplate.yamlemit` (natural key order, YAML 1.1 quoting, lines
  folded at 80 columns).
* :func:`from_yaml` is ``sigs.k8s.io/yaml.Unmarshal`` into ``interface{}``: YAML 1.1
  scalars resolved as yaml.v2 does (``yes``/``on``/``y`` are booleans), then through JSON,
  so every number is a ``float``.
"""

from __future__ import annotations

import base64
import math
import re
from typing import Any, Final

import yaml

from meshcharts.gotemplate.gofmt import format_float
from meshcharts.gotemplate.gotypes import NIL_IFACE, GoStruct, NilSlice
from meshcharts.gotemplate.parser import parse_go_int

__all__ = [
    "JSONError",
    "from_yaml",
    "go_resolve",
    "overflows",
    "resolves_to_str",
    "json_float",
    "safe_load_all",
    "to_json",
    "to_yaml_tree",
]

STR_TAG: Final = "tag:yaml.org,2002:str"
INT_TAG: Final = "tag:yaml.org,2002:int"
FLOAT_TAG: Final = "tag:yaml.org,2002:float"
BOOL_TAG: Final = "tag:yaml.org,2002:bool"
NULL_TAG: Final = "tag:yaml.org,2002:null"
TIMESTAMP_TAG: Final = "tag:yaml.org,2002:timestamp"
MERGE_TAG: Final = "tag:yaml.org,2002:merge"

_RESOLVE_MAP: Final[dict[str, tuple[str, Any]]] = {
    **{w: (BOOL_TAG, True) for w in ("y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE",
                                     "on", "On", "ON")},
    **{w: (BOOL_TAG, False) for w in ("n", "N", "no", "No", "NO", "false", "False", "FALSE",
                                      "off", "Off", "OFF")},
    **{w: (NULL_TAG, None) for w in ("", "~", "null", "Null", "NULL")},
    **{w: (FLOAT_TAG, math.nan) for w in (".nan", ".NaN", ".NAN")},
    **{w: (FLOAT_TAG, math.inf) for w in (".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF")},
    **{w: (FLOAT_TAG, -math.inf) for w in ("-.inf", "-.Inf", "-.INF")},
    "<<": (MERGE_TAG, "<<"),
}  # fmt: skip
_BINARY: Final = re.compile(r"[-+]?[01]+")
_HINTS: Final = frozenset("+-0123456789yYnNtTfFoO~.")
_YAML_FLOAT: Final = re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")
# go-yaml v2 tries ``time.Parse`` with four layouts; this is their union. A space in a
# layout matches a run of spaces (Go's ``skip``); ``T`` needs a zone and a space takes none.
_TIMESTAMP: Final = re.compile(
    r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})"
    r"(?:([Tt]| +)([0-9]{1,2}):([0-9]{1,2}):([0-9]{1,2})(?:[.,][0-9]+)?"
    r"(Z|[-+]([0-9]{2}):([0-9]{2}))?)?"
)
_JSON_ESCAPES: Final = {
    '"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f",
    "<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029",
}  # fmt: skip
_JSON_SPECIAL: Final = re.compile(r'["\\\x00-\x1f<>&\u2028\u2029]')


class JSONError(ValueError):
    """A value ``encoding/json`` cannot marshal (NaN, infinities)."""


# --- resolving plain scalars as yaml.v2 does ------------------------------------------------


def go_resolve(text: str) -> tuple[str, Any]:
    """yaml.v2's ``resolve("", text)``: the tag and value of an unquoted scalar.

    The one resolver of meshcharts: values files are read with it and strings are written
    plain only when it reads them back as themselves (real Helm is the oracle in the tests).
    """
    if text and text[0] not in _HINTS:
        return STR_TAG, text
    found = _RESOLVE_MAP.get(text)
    if found is not None:
        return found
    hint = text[0]
    if hint == ".":
        # ``strconv.ParseFloat(text)``: Python's float() takes the same spellings here
        # (digits, Go's underscores, an exponent); out of range is an error to Go.
        try:
            number = float(text)
        except ValueError:
            return STR_TAG, text
        return (FLOAT_TAG, number) if math.isfinite(number) else (STR_TAG, text)
    if hint in "+-0123456789":
        return _resolve_number(text)
    return STR_TAG, text


def _resolve_number(text: str) -> tuple[str, Any]:
    """The digit and sign branch: timestamp, ``ParseInt``, ``ParseUint``, then ``ParseFloat``."""
    if _is_timestamp(text):
        return TIMESTAMP_TAG, text
    plain = text.replace("_", "")
    value = parse_go_int(plain)
    # ParseInt(plain, 0, 64), else ParseUint (which takes no sign); Go reads 0b/0o/0x itself.
    if value is not None and (
        -(2**63) <= value < 2**63 or (0 <= value < 2**64 and plain[0] != "+")
    ):
        return INT_TAG, value
    if _YAML_FLOAT.match(plain):
        number = float(plain)
        if math.isfinite(number):  # ParseFloat refuses what overflows float64
            return FLOAT_TAG, number
    # yaml.v2's own binary branch, older than Go's 0b: it reads "0b-1" as -1.
    for prefix, sign in (("0b", ""), ("-0b", "-")):
        digits = sign + plain[len(prefix) :]
        if plain.startswith(prefix) and _BINARY.fullmatch(digits):
            number = int(digits, 2)
            if -(2**63) <= number < 2**63:
                return INT_TAG, number
            break
    return STR_TAG, text


def overflows(text: str) -> bool:
    """Whether yaml.v2 reads ``text`` as a string only because it is too large a number.

    Go's parsers refuse an integer beyond 64 bits and a float beyond float64, and yaml.v2
    then keeps the text: a reader that wants numbers can tell the user so.
    """
    if not text or text[0] not in "+-.0123456789" or go_resolve(text)[0] != STR_TAG:
        return False
    if text[0] == ".":
        try:
            return math.isinf(float(text))
        except ValueError:
            return False
    plain = text.replace("_", "")
    return parse_go_int(plain) is not None or bool(_YAML_FLOAT.match(plain))


def _is_timestamp(text: str) -> bool:
    """Whether one of go-yaml v2's ``time.Parse`` layouts accepts ``text``."""
    match = _TIMESTAMP.fullmatch(text)
    if not match:
        return False
    year, month, day, sep, hour, minute, second, zone, zone_h, zone_m = match.groups()
    if sep and (sep[0] == " ") == bool(zone):
        return False
    if not 1 <= int(month) <= 12 or not 1 <= int(day) <= _days_in(int(year), int(month)):
        return False
    if sep and (int(hour) > 23 or int(minute) > 59 or int(second) > 59):
        return False
    # Go allows zone offsets up to 24 hours and 60 minutes.
    return not zone_h or (int(zone_h) <= 24 and int(zone_m) <= 60)


def _days_in(year: int, month: int) -> int:
    if month == 2:
        return 29 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 28
    return 30 if month in (4, 6, 9, 11) else 31


def resolves_to_str(text: str) -> bool:
    """Whether yaml.v2 may write ``text`` unquoted (it reads back as the same string)."""
    if go_resolve(text)[0] != STR_TAG:
        return False
    return not _is_base60_float(text)


_BASE60: Final = re.compile(r"^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$")


def _is_base60_float(text: str) -> bool:
    if not text or not ("0" <= text[0] <= "9" or text[0] in "+-" or text[0] == "."):
        return False
    return ":" in text and bool(_BASE60.match(text))


# --- reading YAML (sigs.k8s.io/yaml.Unmarshal) --------------------------------------------


_BaseLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_SEQ_TAG: Final = "tag:yaml.org,2002:seq"
_MAP_TAG: Final = "tag:yaml.org,2002:map"
_SCALAR_TAGS: Final = frozenset({INT_TAG, FLOAT_TAG, BOOL_TAG, NULL_TAG, TIMESTAMP_TAG})
_RESOLVED_FIRST: Final = frozenset(k for k in yaml.SafeLoader.yaml_implicit_resolvers if k)
"""First characters of plain scalars that PyYAML may resolve to something but a string."""


class _SafeLoader(_BaseLoader):  # type: ignore[misc]
    """``yaml.safe_load``'s loader, quicker to see that a plain scalar is a string."""

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        if kind is yaml.ScalarNode and implicit[0] and value and value[0] not in _RESOLVED_FIRST:
            return STR_TAG
        return super().resolve(kind, value, implicit)


class _GoLoader(_BaseLoader):  # type: ignore[misc]
    """A safe loader that resolves plain scalars with yaml.v2's rules."""

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        if kind is yaml.ScalarNode and implicit[0]:
            return go_resolve(value)[0]
        return super().resolve(kind, value, implicit)

    def construct_go_scalar(self, node: Any) -> Any:
        return go_resolve(self.construct_scalar(node))[1]


for _tag in (INT_TAG, FLOAT_TAG, BOOL_TAG, NULL_TAG, TIMESTAMP_TAG):
    _GoLoader.add_constructor(_tag, _GoLoader.construct_go_scalar)
_GoLoader.add_constructor(STR_TAG, _GoLoader.construct_yaml_str)


def _construct(loader: Any, node: Any) -> Any:
    """Build a composed node's value.

    Maps with string keys, lists and scalars are built directly; anything else (merge keys,
    other keys, explicit tags) by the loader's own constructors.
    """
    if isinstance(node, yaml.ScalarNode):
        if node.tag == STR_TAG:
            return node.value
        if node.tag in _SCALAR_TAGS:
            return loader.yaml_constructors[node.tag](loader, node)
    elif isinstance(node, yaml.SequenceNode) and node.tag == _SEQ_TAG:
        return [_construct(loader, item) for item in node.value]
    elif (
        isinstance(node, yaml.MappingNode)
        and node.tag == _MAP_TAG
        and all(key.tag == STR_TAG for key, _ in node.value)
    ):
        return {key.value: _construct(loader, value) for key, value in node.value}
    return loader.construct_document(node)


def _load_all(loader_class: Any, text: str) -> list[Any]:
    loader = loader_class(text)
    try:
        documents = []
        while loader.check_node():
            documents.append(_construct(loader, loader.get_node()))
        return documents
    finally:
        loader.dispose()


def safe_load_all(text: str) -> list[Any]:
    """``list(yaml.safe_load_all(text))``, faster (same values, same errors).

    Raises:
        yaml.YAMLError: the text is not YAML.
    """
    return _load_all(_SafeLoader, text)


def _jsonable(value: Any) -> Any:
    """What a YAML value becomes after a trip through JSON into ``interface{}``."""
    if isinstance(value, dict):
        return {_json_key(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            raise JSONError(f"json: unsupported value: {format_float(value)}")
        return float(value)
    return str(value)


def _json_key(key: Any) -> str:
    if isinstance(key, str):
        return key
    if isinstance(key, bool):
        return "true" if key else "false"
    if key is None:
        return "null"
    if isinstance(key, float):
        return format_float(key)
    return str(key)


def from_yaml(text: str) -> Any:
    """Parse one YAML document as Helm does (``sigs.k8s.io/yaml.Unmarshal``).

    Raises:
        yaml.YAMLError: the text is not YAML.
        JSONError: it holds a value JSON cannot carry (``.nan``, ``.inf``).
    """
    documents = _load_all(_GoLoader, text)
    return _jsonable(documents[0] if documents else None)


# --- writing JSON (encoding/json.Marshal) --------------------------------------------------


def json_float(value: float) -> str:
    """``encoding/json``'s float format: ``%f``-like, exponent outside [1e-6, 1e21)."""
    if not math.isfinite(value):
        raise JSONError(f"json: unsupported value: {format_float(value)}")
    magnitude = abs(value)
    if magnitude != 0 and (magnitude < 1e-6 or magnitude >= 1e21):
        text = format_float(value, "e")
        mantissa, _, exponent = text.partition("e")
        if exponent[0] == "-" and exponent[1] == "0":
            exponent = "-" + exponent[2:]
        return f"{mantissa}e{exponent}"
    return format_float(value, "f")


def _json_string(text: str) -> str:
    def escape(match: re.Match[str]) -> str:
        char = match.group()
        return _JSON_ESCAPES.get(char) or f"\\u{ord(char):04x}"

    return '"' + _JSON_SPECIAL.sub(escape, text) + '"'


def to_json(value: Any) -> str:
    """``json.Marshal(value)`` as text.

    Raises:
        JSONError: NaN or an infinity.
    """
    if value is None or value is NIL_IFACE or isinstance(value, NilSlice):
        return "null"
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, str):
        return _json_string(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return json_float(value)
    return _json_composite(value)


def _json_composite(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ",".join(to_json(v) for v in value) + "]"
    if isinstance(value, dict):
        items = (f"{_json_string(str(k))}:{to_json(value[k])}" for k in sorted(value))
        return "{" + ",".join(items) + "}"
    if isinstance(value, bytes):
        return '"' + base64.b64encode(value).decode("ascii") + '"'
    if isinstance(value, GoStruct):
        return to_json(value.json if value.json is not None else value.fields)
    return _json_string(str(value))


# --- the tree sigs.k8s.io/yaml hands to yaml.v2 --------------------------------------------

_NEL_RUN: Final = re.compile(r"[ \t]*(?:\x85[ \t]*)+")


def _fold_nel(text: str) -> str:
    """A string after its trip through JSON text read as YAML.

    ``encoding/json`` leaves U+0085 (NEL) unescaped, and YAML reads it as a line break
    inside a double-quoted scalar, which folds (one break: a space).
    """

    def fold(match: re.Match[str]) -> str:
        breaks = match.group().count("\x85")
        return " " if breaks == 1 else "\n" * (breaks - 1)

    return _NEL_RUN.sub(fold, text)


def to_yaml_tree(value: Any) -> Any:
    """What ``JSONToYAML`` decodes from ``json.Marshal(value)``.

    Integers where JSON wrote integers, floats otherwise, string keys.

    Raises:
        JSONError: NaN or an infinity.
    """
    if value is None or value is NIL_IFACE or isinstance(value, NilSlice):
        return None
    if isinstance(value, str):
        return _fold_nel(value) if "\x85" in value else value
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return _yaml_number(value)
    return _yaml_composite(value)


def _yaml_number(value: float) -> Any:
    """A float64 after JSON -> YAML: an integer when JSON wrote it without a point."""
    text = json_float(value)
    if "." in text or "e" in text:
        return value
    number = int(text)
    return number if -(2**63) <= number < 2**64 else value


def _yaml_composite(value: Any) -> Any:
    if isinstance(value, list):
        return [to_yaml_tree(v) for v in value]
    if isinstance(value, dict):
        return {to_yaml_tree(str(k)): to_yaml_tree(v) for k, v in value.items()}
    if isinstance(value, GoStruct):
        return to_yaml_tree(value.json if value.json is not None else value.fields)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    return str(value)
