"""YAML text that means the same to every reader: values.yaml and canonical Chart.yaml.

Helm reads values.yaml as YAML 1.1 (go-yaml v2), where ``on``, ``no`` and ``y`` are
booleans, ``0777`` is an octal integer and ``1e3`` a float. :func:`dump_values` therefore
writes a string plain only when no YAML 1.1 reader could take it for anything else;
otherwise it is double-quoted, with every character YAML forbids or folds escaped.

Chart.yaml and index.yaml are written as Helm writes them (sigs.k8s.io/yaml over go-yaml
v2): keys in go-yaml's order, strings plain unless go-yaml would read them as something
else, single- or double-quoted, ``|`` blocks and folding at 80 columns by the same rules.
Two deliberate differences remain: ``version`` and ``appVersion`` are always double-quoted,
and a few strings go-yaml writes plain or single-quoted are double-quoted because a YAML 1.1
reader such as PyYAML would misread them (``<<``, ``=``, ``2001-13-45``) or because they hold
a raw U+2028/U+2029 line separator.

Output is deterministic by construction: nothing depends on the clock or the platform.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import yaml

__all__ = [
    "canonical_yaml",
    "chart_yaml",
    "dump_values",
    "plain_safe",
    "sanitize_metadata",
    "yaml11_ambiguous",
]

_YAML11_WORDS = frozenset(
    {"y", "yes", "n", "no", "true", "false", "on", "off", "null", "~", "<<", "="}
)
# Everything a YAML 1.1 resolver (or go-yaml v2) may read as a number or timestamp begins
# with a digit, a sign or a dot; such strings are always quoted.
_NUMBERISH = re.compile(r"[-+.0-9]")
_PLAIN = re.compile(r"[A-Za-z_/][A-Za-z0-9_./@%+=,()~-]*(?:[ :][A-Za-z0-9_./@%+=,()~-]+)*")
# Characters YAML forbids raw (DEL, C1 controls, U+FFFE/U+FFFF, lone surrogates) or reads
# as line breaks (NEL, U+2028, U+2029), and the byte order mark.
_UNSAFE = re.compile("[\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff\ud800-\udfff]")
Docs = Callable[[tuple[str, ...]], str | None]


def yaml11_ambiguous(text: str) -> bool:
    """Tell whether a YAML 1.1 reader could take ``text`` for a non-string scalar."""
    return text.lower() in _YAML11_WORDS or bool(_NUMBERISH.match(text)) or text == ""


def plain_safe(text: str) -> bool:
    """Tell whether ``text`` can be written as a plain YAML scalar and read back as itself."""
    if yaml11_ambiguous(text) or not _PLAIN.fullmatch(text):
        return False
    return ": " not in text and " #" not in text and not text.endswith(":")


def _double_quoted(text: str) -> str:
    """``text`` double-quoted, escaping controls and what YAML forbids or folds."""
    quoted = json.dumps(text, ensure_ascii=False)
    return _UNSAFE.sub(lambda match: f"\\u{ord(match.group()):04x}", quoted)


def _float(value: float) -> str:
    """A float every YAML 1.1 reader reads back: a '.' in the mantissa, ``.inf``, ``.nan``."""
    if math.isnan(value):
        return ".nan"
    if math.isinf(value):
        return ".inf" if value > 0 else "-.inf"
    mantissa, e, exponent = repr(value).partition("e")
    return (mantissa if "." in mantissa else mantissa + ".0") + e + exponent


def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _float(value)
    if isinstance(value, str):
        return value if plain_safe(value) else _double_quoted(value)
    raise TypeError(f"cannot write {type(value).__name__} as YAML")


def _key(key: Any) -> str:
    if not isinstance(key, str):
        raise TypeError(f"values keys must be strings, not {type(key).__name__}")
    return _scalar(key)


def _block(value: Any, indent: int, path: tuple[str, ...], docs: Docs | None) -> list[str]:
    """Lines for ``value`` as a block node whose lines start at column ``indent``."""
    pad = " " * indent
    lines: list[str] = []
    if isinstance(value, Mapping):
        for key, item in value.items():
            sub = (*path, key)
            doc = docs(sub) if docs else None
            if doc:
                lines.extend(f"{pad}# {line}".rstrip() for line in doc.splitlines())
            lines.extend(_entry(f"{pad}{_key(key)}:", item, indent + 2, sub, docs))
    else:
        for item in value:
            lines.extend(_sequence_item(pad, item, indent, path, docs))
    return lines


def _entry(
    head: str, item: Any, indent: int, path: tuple[str, ...], docs: Docs | None
) -> list[str]:
    if _is_collection(item) and item:
        return [head, *_block(item, indent, path, docs)]
    return [f"{head} {_inline(item)}"]


def _sequence_item(
    pad: str, item: Any, indent: int, path: tuple[str, ...], docs: Docs | None
) -> list[str]:
    if isinstance(item, Mapping) and item:
        # The first key shares the dash line; the rest align under it.
        body = _block(item, indent + 2, path, None)
        return [f"{pad}- {body[0].lstrip()}", *body[1:]]
    if _is_collection(item) and item:
        body = _block(item, indent + 2, path, None)
        return [f"{pad}-", *body]
    return [f"{pad}- {_inline(item)}"]


def _inline(value: Any) -> str:
    if isinstance(value, Mapping):
        return "{}"
    if _is_collection(value):
        return "[]"
    return _scalar(value)


def _is_collection(value: Any) -> bool:
    return isinstance(value, Mapping) or (
        isinstance(value, Sequence) and not isinstance(value, str | bytes)
    )


def dump_values(values: Mapping[str, Any], *, docs: Docs | None = None, header: str = "") -> str:
    """Write ``values`` as block YAML that YAML 1.1 and 1.2 readers load identically.

    Args:
        values: the values tree (mappings with string keys, lists, scalars).
        docs: returns the comment for a key path, or None; comments precede their key.
        header: comment lines put at the top of the file.

    Returns:
        The YAML text, ending with a newline.
    """
    lines = [f"# {line}".rstrip() for line in header.splitlines()]
    if not values:
        return "\n".join([*lines, "{}"]) + "\n"
    return "\n".join([*lines, *_block(values, 0, (), docs)]) + "\n"


# --- what go-yaml v2 reads as a non-string -----------------------------------------------

# go-yaml's resolve map: the spellings of booleans, null and special floats (not "<<",
# which it never looks up).
_GO_WORDS = frozenset(
    [
        *("y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"),
        *("n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"),
        *("~", "null", "Null", "NULL", ".nan", ".NaN", ".NAN", ".inf", ".Inf", ".INF"),
        *("+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF"),
    ]
)
_GO_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?")
_GO_DOT_FLOAT = re.compile(r"\.[0-9]+(?:[eE][-+]?[0-9]+)?")
_GO_BASE60 = re.compile(r"[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?")
_GO_TIMESTAMP = re.compile(
    r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})"
    r"(?:([Tt ])([0-9]{1,2}):([0-9]{1,2}):([0-9]{1,2})(?:[.,][0-9]+)?"
    r"(Z|[-+]([0-9]{2}):([0-9]{2}))?)?"
)
_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"


def _go_uint(text: str, base: int = 0) -> int | None:
    """Go's ``strconv.ParseUint(text, base, ...)`` without the range check; None if invalid."""
    if not text:
        return None
    if base == 0:
        base, text = _go_base(text)
    allowed = _DIGITS[:base] + _DIGITS[:base].upper()
    if any(char not in allowed for char in text):
        return None
    return int(text, base) if text else 0


def _go_base(text: str) -> tuple[int, str]:
    """The base of a base-0 number (``0x``, ``0o``, ``0b``, a leading ``0``) and its digits."""
    if not text.startswith("0"):
        return 10, text
    prefixes = {"b": 2, "o": 8, "x": 16}
    if len(text) >= 3 and text[1].lower() in prefixes:
        return prefixes[text[1].lower()], text[2:]
    return 8, text[1:]


def _go_int64(text: str, base: int = 0) -> bool:
    """Whether Go's ``strconv.ParseInt(text, base, 64)`` succeeds."""
    negative = text.startswith("-")
    number = _go_uint(text[1:] if text[:1] in ("+", "-") else text, base)
    return number is not None and number <= 2**63 - (not negative)


def _go_float(text: str, pattern: re.Pattern[str]) -> bool:
    """Whether ``text`` matches ``pattern`` and Go's ``strconv.ParseFloat`` reads it."""
    return bool(pattern.fullmatch(text)) and not math.isinf(float(text))


def _go_timestamp(text: str) -> bool:
    """Whether go-yaml v2 reads ``text`` as a timestamp (its four ``time.Parse`` layouts)."""
    match = _GO_TIMESTAMP.fullmatch(text)
    if not match:
        return False
    year, month, day, sep, hour, minute, second, zone, zone_h, zone_m = match.groups()
    if sep and (sep == " ") == bool(zone):
        return False  # 'T' needs a zone, ' ' takes none
    if not 1 <= int(month) <= 12 or not 1 <= int(day) <= _days_in(int(year), int(month)):
        return False
    if sep and (int(hour) > 23 or int(minute) > 59 or int(second) > 59):
        return False
    return not zone_h or (int(zone_h) <= 24 and int(zone_m) <= 60)


def _days_in(year: int, month: int) -> int:
    if month == 2:
        return 29 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 28
    return 30 if month in (4, 6, 9, 11) else 31


def _go_number_or_time(text: str) -> bool:
    """go-yaml v2's resolution of a string starting with a digit or a sign."""
    if _go_timestamp(text):
        return True
    plain = text.replace("_", "")
    unsigned = _go_uint(plain)
    if _go_int64(plain) or (unsigned is not None and unsigned < 2**64):
        return True
    return _go_float(plain, _GO_FLOAT) or (plain.startswith("0b") and _go_int64(plain[2:], 2))


def _go_non_string(text: str) -> bool:
    """Whether go-yaml v2 would read ``text``, written plain, as something else than it."""
    if text in _GO_WORDS or not text:
        return True
    if text[0] == ".":
        return _go_float(text, _GO_DOT_FLOAT)
    return text[0] in "+-0123456789" and (
        _go_number_or_time(text) or bool(_GO_BASE60.fullmatch(text))
    )


def _yaml11_string(text: str) -> bool:
    """Whether PyYAML (YAML 1.1) reads ``text``, written plain, as a string."""
    # Every implicit resolver of PyYAML resolves to something else than a string.
    table = yaml.resolver.Resolver.yaml_implicit_resolvers
    candidates = table.get(text[:1], []) + table.get(None, [])
    return not any(regexp.match(text) for _, regexp in candidates)


# --- go-yaml v2's scalar styles ----------------------------------------------------------

_WIDTH = 80
_BREAKS = "\r\n\x85\u2028\u2029"
_FIRST_INDICATORS = "#,[]{}&*!|>'\"%@`"
_ESCAPES = {
    "\0": "0",
    "\a": "a",
    "\b": "b",
    "\t": "t",
    "\n": "n",
    "\v": "v",
    "\f": "f",
    "\r": "r",
    "\x1b": "e",
    '"': '"',
    "\\": "\\",
    "\x85": "N",
    "\xa0": "_",
    "\u2028": "L",
    "\u2029": "P",
}


def _go_printable(char: str) -> bool:
    """go-yaml's ``is_printable``: what it may write unescaped (no tab, nothing past BMP)."""
    code = ord(char)
    return (
        char == "\n"
        or 0x20 <= code <= 0x7E
        or 0xA0 <= code <= 0xD7FF
        or (0xE000 <= code <= 0xFFFD and code != 0xFEFF)
    )


@dataclass(frozen=True)
class _Allowed:
    """The styles go-yaml's ``yaml_emitter_analyze_scalar`` allows for a string."""

    multiline: bool
    plain: bool
    single: bool
    block: bool


def _indicators(text: str) -> bool:
    """Whether ``text`` holds a block-context indicator that rules out a plain scalar."""
    if text.startswith(("---", "...")) or text[0] in _FIRST_INDICATORS:
        return True
    followed = [i + 1 == len(text) or text[i + 1] in " \t" for i in range(len(text))]
    if text[0] in "?:-" and followed[0]:
        return True
    preceded = [True] + [char in " \t\0" + _BREAKS for char in text[:-1]]
    return any(
        (char == ":" and followed[i]) or (char == "#" and preceded[i])
        for i, char in enumerate(text)
        if i
    )


def _allowed(text: str) -> _Allowed:
    if not text:
        return _Allowed(multiline=False, plain=True, single=True, block=False)
    breaks = any(char in _BREAKS for char in text)
    special = not all(map(_go_printable, text))
    space_break = re.search(f" [{_BREAKS}]", text) is not None
    break_space = re.search(f"[{_BREAKS}] ", text) is not None
    edges = text[0] in " " + _BREAKS or text[-1] in " " + _BREAKS
    return _Allowed(
        multiline=breaks,
        plain=not (edges or break_space or space_break or special or breaks or _indicators(text)),
        single=not (break_space or space_break or special),
        block=not (text.endswith(" ") or space_break or special),
    )


def _style(text: str, *, simple_key: bool, quote: bool) -> str:
    """go-yaml v2's style for a string: plain, single, double or literal."""
    if "\u2028" in text or "\u2029" in text:
        return "double"  # go-yaml would write the separator raw: every reader folds it
    allowed = _allowed(text)
    if "\n" in text and not quote:
        wanted = "literal"
    else:
        wanted = "plain" if not quote and not _go_non_string(text) else "double"
    if simple_key and allowed.multiline:
        wanted = "double"
    if wanted == "plain" and (not allowed.plain or (simple_key and not text)):
        wanted = "single"
    if wanted == "single" and not allowed.single:
        wanted = "double"
    if wanted == "literal" and (not allowed.block or simple_key):
        wanted = "double"
    if wanted == "plain" and not _yaml11_string(text):
        wanted = "double"  # go-yaml would write it plain: a YAML 1.1 reader misreads it
    return wanted


class _Writer:
    """Text written from a column, breaking lines to an indent as go-yaml's emitter does."""

    def __init__(self, column: int, indent: int, *, breaks: bool) -> None:
        self.parts: list[str] = []
        self.column = column
        self.indent = indent
        self.breaks = breaks

    def put(self, text: str) -> None:
        self.parts.append(text)
        self.column += len(text)

    def fold_at(self, text: str, index: int, previous_space: bool) -> bool:
        """Whether to break the line at the space ``text[index]`` (go-yaml's rule)."""
        return (
            self.breaks
            and not previous_space
            and self.column > _WIDTH
            and 0 < index < len(text) - 1
        )

    def new_line(self) -> None:
        self.parts.append("\n" + " " * self.indent)
        self.column = self.indent

    def text(self) -> str:
        return "".join(self.parts)


def _write_plain(text: str, out: _Writer) -> None:
    previous_space = False
    for index, char in enumerate(text):
        if char == " " and out.fold_at(text, index, previous_space) and text[index + 1] != " ":
            out.new_line()
        else:
            out.put(char)
        previous_space = char == " "


def _write_single(text: str, out: _Writer) -> None:
    out.put("'")
    previous_space = False
    for index, char in enumerate(text):
        if char == " " and out.fold_at(text, index, previous_space) and text[index + 1] != " ":
            out.new_line()
        else:
            out.put("''" if char == "'" else char)
        previous_space = char == " "
    out.put("'")


def _escape(char: str) -> str:
    code = ord(char)
    if char in _ESCAPES:
        return "\\" + _ESCAPES[char]
    if code <= 0xFF:
        return f"\\x{code:02X}"
    return f"\\u{code:04X}" if code <= 0xFFFF else f"\\U{code:08X}"


def _write_double(text: str, out: _Writer) -> None:
    out.put('"')
    # go-yaml's is_bom looks at the start of the value, not at the character: a value that
    # starts with U+FEFF has every character escaped.
    escape_all = text.startswith("\ufeff")
    previous_space = False
    for index, char in enumerate(text):
        if escape_all or not _go_printable(char) or char in _BREAKS or char in '"\\':
            out.put(_escape(char))
        elif char == " " and out.fold_at(text, index, previous_space):
            out.new_line()
            if text[index + 1] == " ":
                out.put("\\")
        else:
            out.put(char)
        previous_space = char == " " and not escape_all
    out.put('"')


def _write_literal(text: str, out: _Writer) -> None:
    """A ``|`` block: indentation hint if it starts with a space or break, chomping hint."""
    hint = "2" if text[0] in " \n" else ""
    if not text.endswith("\n"):
        hint += "-"
    elif text == "\n" or text.endswith("\n\n"):
        hint += "+"
    out.put("|" + hint)
    lines = text.split("\n")
    if text.endswith("\n"):
        lines.pop()
    for line in lines:
        out.parts.append("\n" + (" " * out.indent + line if line else ""))
    if text.endswith("\n"):
        out.parts.append("\n")


_WRITERS = {
    "plain": _write_plain,
    "single": _write_single,
    "double": _write_double,
    "literal": _write_literal,
}


def _go_scalar(
    text: str, column: int, indent: int, *, key: bool = False, quote: bool = False
) -> str:
    """``text`` as go-yaml writes a string that starts at ``column``.

    Args:
        text: the string.
        column: the column the string starts at (after the separating space, if any).
        indent: the indentation of continuation lines.
        key: whether the string is a simple mapping key (never folded).
        quote: whether to double-quote it in any case.

    Returns:
        The text, without a final line break: a ``|`` block whose string ends with a line
        break is written with one line break less, the caller's standing for it.
    """
    out = _Writer(column, indent, breaks=not key)
    _WRITERS[_style(text, simple_key=key, quote=quote)](text, out)
    written = out.text()
    return written[:-1] if written.endswith("\n") else written


# --- Chart.yaml and index.yaml in Helm's canonical form --------------------------------------

_QUOTED_KEYS = frozenset({"version", "appVersion"})
# Maps whose empty values are kept (Go map[string]string); every other map is a Go struct
# whose empty fields are dropped (``omitempty``).
_FREE_MAPS = frozenset({"annotations"})
_SIMPLE_KEY_BYTES = 128
_SURROGATES = re.compile("[\ud800-\udfff]")


def _go_less(left: str, right: str) -> bool:
    """go-yaml v2's key order: letters by code point after non-letters, digit runs by value."""
    for i, (a, b) in enumerate(zip(left, right, strict=False)):
        if a == b:
            continue
        if a.isalpha() or b.isalpha():
            return a < b if a.isalpha() and b.isalpha() else b.isalpha()
        a_end, a_number = _digit_run(left, i)
        b_end, b_number = _digit_run(right, i)
        if (a == "0" or b == "0") and _nonzero_digit_before(left, i):
            # Go starts both numbers at 1 here: a leading 1 before each run of digits.
            a_number = _int64(10 ** (a_end - i) + a_number)
            b_number = _int64(10 ** (b_end - i) + b_number)
        if a_number != b_number:
            return a_number < b_number
        return a_end < b_end if a_end != b_end else a < b
    return len(left) < len(right)


def _digit_run(text: str, start: int) -> tuple[int, int]:
    """The end of the run of digits at ``start`` and its value, as Go's int64 arithmetic has it."""
    end, number = start, 0
    while end < len(text) and text[end].isdecimal():
        number = _int64(number * 10 + ord(text[end]) - ord("0"))
        end += 1
    return end, number


def _nonzero_digit_before(text: str, index: int) -> bool:
    """Whether the digits right before ``index`` hold a non-zero one (``an = 1`` in Go)."""
    for char in reversed(text[:index]):
        if not char.isdecimal():
            return False
        if char != "0":
            return True
    return False


def _int64(number: int) -> int:
    return (number + 2**63) % 2**64 - 2**63


def _sorted_keys(mapping: Mapping[str, Any]) -> list[str]:
    """The keys in go-yaml's order.

    go-yaml's order is not transitive when digit runs meet letters (``2t`` < ``9b`` <
    ``25`` < ``2t``); Go sorts such keys in whatever order its map hands them over, so
    Helm's own output then varies from run to run. Here the keys are sorted by code point
    first, then by insertion sort (which is what Go's ``sort.Sort`` does with up to 12
    keys): the result depends on the keys alone, and is one of the orders Helm writes.
    """
    keys = sorted(mapping)
    for i in range(1, len(keys)):
        j = i
        while j > 0 and _go_less(keys[j], keys[j - 1]):
            keys[j], keys[j - 1] = keys[j - 1], keys[j]
            j -= 1
    return keys


def _is_empty(value: Any) -> bool:
    return value is None or value is False or (not isinstance(value, int) and not value)


def _canonical(value: Any, indent: int, *, keep_empty: bool = False) -> list[str]:
    """Lines of a mapping or sequence in go-yaml v2 block style (sorted, unindented lists)."""
    lines: list[str] = []
    if isinstance(value, Mapping):
        for name in _sorted_keys(value):
            item = value[name]
            if keep_empty or not _is_empty(item):
                lines += _canonical_entry(name, item, indent)
        return lines
    for item in value:
        lines += _canonical_item(item, indent)
    return lines


def _canonical_entry(name: str, item: Any, indent: int) -> list[str]:
    pad = " " * indent
    head, simple = _canonical_key(name, indent)
    if not simple and (isinstance(item, Mapping | list | tuple) and item):
        raise ValueError(f"key {name!r}: a key of over 128 bytes or lines takes a scalar value")
    if isinstance(item, Mapping) and item:
        return [head, *_canonical(item, indent + 2, keep_empty=name in _FREE_MAPS)]
    if isinstance(item, list | tuple) and item:
        return [head, *_canonical(item, indent)]
    if not simple:
        head += f"\n{pad}:"
    last = head.rsplit("\n", 1)[-1]
    return [f"{head} {_canonical_scalar(item, len(last) + 1, indent + 2, name)}"]


def _canonical_key(name: str, indent: int) -> tuple[str, bool]:
    """The key and its ':' (simple), or '? key' (a key go-yaml will not write simple)."""
    pad = " " * indent
    if any(char in _BREAKS for char in name) or len(name.encode()) > _SIMPLE_KEY_BYTES:
        return f"{pad}? {_go_scalar(name, indent + 2, indent + 2)}", False
    return f"{pad}{_go_scalar(name, indent, indent, key=True)}:", True


def _canonical_item(item: Any, indent: int) -> list[str]:
    pad = " " * indent
    body = _canonical(item, indent + 2) if isinstance(item, Mapping | list | tuple) else []
    if body:
        # A collection starts on the dash line; the rest aligns under its first line.
        return [f"{pad}- {body[0].lstrip()}", *body[1:]]
    return [f"{pad}- {_canonical_scalar(item, indent + 2, indent + 2, '')}"]


def _canonical_scalar(value: Any, column: int, indent: int, key: str) -> str:
    if isinstance(value, str):
        return _go_scalar(value, column, indent, quote=key in _QUOTED_KEYS)
    if isinstance(value, Mapping):
        return "{}"
    if isinstance(value, list | tuple):
        return "[]"
    return _scalar(value)


def canonical_yaml(value: Mapping[str, Any]) -> str:
    """Write a mapping the way Helm's sigs.k8s.io/yaml (go-yaml v2) does.

    Keys are in go-yaml's order; empty fields are dropped, except in ``annotations`` (a
    string map, whose empty values Helm keeps); strings are written in go-yaml's style
    (see the module documentation for the few deliberate differences). ``version`` and
    ``appVersion`` strings are always double-quoted so that no reader takes them for
    numbers.
    """
    return "\n".join(_canonical(_valid_unicode(value), 0)) + "\n"


def _valid_unicode(value: Any) -> Any:
    """``value`` with lone surrogates replaced by U+FFFD, as Go's JSON encoding does."""
    if isinstance(value, str):
        return _SURROGATES.sub("\ufffd", value)
    if isinstance(value, Mapping):
        return {_valid_unicode(k): _valid_unicode(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_valid_unicode(item) for item in value]
    return value


# --- Helm's sanitising of Chart.yaml strings ---------------------------------------------

# Go's unicode.IsSpace.
_GO_SPACES = frozenset("\t\n\v\f\r \x85\xa0\u1680\u2028\u2029\u202f\u205f\u3000") | {
    chr(code) for code in range(0x2000, 0x200B)
}
_SANITIZED = ("name", "description", "home", "icon", "condition", "tags", "appVersion")
_SANITIZED_LISTS = ("sources", "keywords")
_SANITIZED_MAINTAINER = ("name", "email", "url")


def _sanitize(text: str) -> str:
    """Helm's ``sanitizeString``: whitespace becomes a space, non-printables go."""
    return "".join(
        " " if char in _GO_SPACES else char
        for char in text
        if char in _GO_SPACES or unicodedata.category(char)[0] in "LMNPS"
    )


def _sanitize_fields(fields: Mapping[str, Any], names: Sequence[str]) -> dict[str, Any]:
    return {
        key: _sanitize(value) if key in names and isinstance(value, str) else value
        for key, value in fields.items()
    }


def sanitize_metadata(metadata: Mapping[str, Any]) -> dict[str, Any]:
    """Chart metadata as Helm keeps it after loading (``Metadata.Validate``).

    Helm replaces every whitespace character of ``name``, ``description``, ``home``,
    ``icon``, ``condition``, ``tags``, ``appVersion``, ``kubeVersion``, each source,
    keyword and maintainer field by a space and drops non-printable characters; so
    ``helm package`` and ``helm show chart`` carry the sanitised text.
    """
    out = _sanitize_fields(metadata, (*_SANITIZED, "kubeVersion"))
    for key in _SANITIZED_LISTS:
        if isinstance(out.get(key), list):
            out[key] = [_sanitize(v) if isinstance(v, str) else v for v in out[key]]
    if isinstance(out.get("maintainers"), list):
        out["maintainers"] = [
            _sanitize_fields(m, _SANITIZED_MAINTAINER) if isinstance(m, Mapping) else m
            for m in out["maintainers"]
        ]
    return out


def chart_yaml(metadata: Mapping[str, Any]) -> str:
    """Write Chart.yaml metadata in Helm's canonical form.

    The metadata is first sanitised as Helm does when it loads a chart
    (:func:`sanitize_metadata`); then it is written by :func:`canonical_yaml`, so the text
    equals ``helm show chart`` output except for the double quotes around ``version``
    and ``appVersion``.
    """
    return canonical_yaml(sanitize_metadata(metadata))
