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
_HINTS: Final = frozenset("+-0123456789yYnNtTfFoO~.")
_YAML_FLOAT: Final = re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")
_TIMESTAMP: Final = re.compile(
    r"^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}"
    r"(?:(?:[Tt]|[ \t]+)[0-9]{1,2}:[0-9]{1,2}:[0-9]{1,2}(?:\.[0-9]*)?"
    r"(?:[ \t]*(?:Z|[-+][0-9]{1,2}(?::?[0-9]{2})?))?)?$"
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
    """yaml.v2's ``resolve("", text)``: the tag and value of an unquoted scalar."""
    if text and text[0] not in _HINTS:
        return STR_TAG, text
    found = _RESOLVE_MAP.get(text)
    if found is not None:
        return found
    hint = text[0]
    if hint == ".":
        try:
            return FLOAT_TAG, float(text)
        except ValueError:
            return STR_TAG, text
    if hint in "+-0123456789":
        return _resolve_number(text)
    return STR_TAG, text


def _resolve_number(text: str) -> tuple[str, Any]:
    if _TIMESTAMP.match(text) and text[4:5] == "-":
        return TIMESTAMP_TAG, text
    plain = text.replace("_", "")
    value = parse_go_int(plain) if plain.lstrip("+-")[:2] not in ("0b", "0B") else None
    if value is not None and -(2**63) <= value < 2**64:
        return INT_TAG, value
    if _YAML_FLOAT.match(plain):
        try:
            return FLOAT_TAG, float(plain)
        except ValueError:
            pass
    for prefix, sign in (("0b", 1), ("-0b", -1)):
        if plain.startswith(prefix):
            try:
                number = sign * int(plain[len(prefix) :], 2)
            except ValueError:
                break
            if -(2**63) <= number < 2**64:
                return INT_TAG, number
    return STR_TAG, text


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
