"""A port of ``gopkg.in/yaml.v2``'s emitter (``emitterc.go``) for plain data.

``toYaml`` output is often embedded verbatim in a chart (inside a ConfigMap's block scalar),
so it must match Helm byte for byte: the same scalar styles (plain, single- or
double-quoted, literal with chomping and indentation hints), the same line folding at
80 columns, the same "natural" key order and the same indentation (a sequence under a
mapping key is not indented).

It is the one go-yaml emitter of meshcharts: Helm's ``toYaml`` in the template renderer,
and Chart.yaml and index.yaml in Helm's canonical form (:mod:`meshcharts.base.yamltext`),
which pass a ``restyle`` hook to force the quoting of chosen strings.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable
from typing import Any, Final

from meshcharts.gotemplate.gofmt import format_float
from meshcharts.gotemplate.goyaml import resolves_to_str, to_yaml_tree

__all__ = ["Restyle", "marshal", "to_yaml"]

_BREAKS: Final = frozenset("\r\n\x85\u2028\u2029")
_FIRST_INDICATORS: Final = frozenset("#,[]{}&*!|>'\"%@`")
_INNER_FLOW_INDICATORS: Final = frozenset(",?[]{}")
_ESCAPES: Final = {
    "\x00": "0", "\x07": "a", "\x08": "b", "\t": "t", "\n": "n", "\x0b": "v", "\x0c": "f",
    "\r": "r", "\x1b": "e", '"': '"', "\\": "\\", "\x85": "N", "\xa0": "_", "\u2028": "L",
    "\u2029": "P",
}  # fmt: skip
_PLAIN, _SINGLE, _DOUBLE, _LITERAL = "plain", "single", "double", "literal"
_BEST_WIDTH: Final = 80
_BEST_INDENT: Final = 2

Restyle = Callable[[str, str, str | None], str]
"""A hook ``(text, style, key) -> style`` given every string's chosen style: ``"plain"``,
``"single"``, ``"double"`` or ``"literal"``; ``key`` is the mapping key whose value the
string is (None for keys and sequence items). It may only return ``"double"`` instead, the
one style that can hold any string."""


def _printable(char: str) -> bool:
    code = ord(char)
    return (
        code == 0x0A
        or 0x20 <= code <= 0x7E
        or 0xA0 <= code <= 0xD7FF
        or (0xE000 <= code <= 0xFFFD and code != 0xFEFF)
    )


_SIMPLE: Final = re.compile(r"[A-Za-z0-9_/][A-Za-z0-9_./=+-]*\Z")
"""Scalars with nothing for the analysis to find (most keys and values)."""
_WORDS: Final = re.compile(r"( +)")


class _Analysis:
    """What ``yaml_emitter_analyze_scalar`` finds out about a scalar."""

    __slots__ = ("block", "block_plain", "flow_plain", "multiline", "single")

    def __init__(self, value: str) -> None:
        self.multiline = False
        self.flow_plain = self.block_plain = self.single = self.block = True
        if not value:
            self.flow_plain = self.block = False
            return
        if _SIMPLE.match(value):
            return
        flags = _scan(value)
        self.multiline = "line_breaks" in flags
        if flags & {"leading_space", "leading_break", "trailing_space", "trailing_break"}:
            self.flow_plain = self.block_plain = False
        if "trailing_space" in flags:
            self.block = False
        if "break_space" in flags:
            self.flow_plain = self.block_plain = self.single = False
        if flags & {"space_break", "special"}:
            self.flow_plain = self.block_plain = self.single = self.block = False
        if self.multiline:
            self.flow_plain = self.block_plain = False
        if "flow_indicators" in flags:
            self.flow_plain = False
        if "block_indicators" in flags:
            self.block_plain = False


@functools.lru_cache(maxsize=8192)
def _analyze(value: str) -> _Analysis:
    """The (shared, read-only) analysis of a scalar."""
    return _Analysis(value)


def _scan(value: str) -> set[str]:
    """The properties of a non-empty scalar that decide which styles may show it."""
    flags: set[str] = set()
    if value.startswith(("---", "...")):
        flags |= {"block_indicators", "flow_indicators"}
    preceded_by_whitespace = True
    previous_space = previous_break = False
    last = len(value) - 1
    for i, char in enumerate(value):
        followed_by_whitespace = i == last or value[i + 1] in " \t"
        _indicators(flags, i, char, followed_by_whitespace, preceded_by_whitespace)
        if not _printable(char):
            flags.add("special")
        if char == " ":
            flags |= {"leading_space"} if i == 0 else set()
            flags |= {"trailing_space"} if i == last else set()
            flags |= {"break_space"} if previous_break else set()
            previous_space, previous_break = True, False
        elif char in _BREAKS:
            flags.add("line_breaks")
            flags |= {"leading_break"} if i == 0 else set()
            flags |= {"trailing_break"} if i == last else set()
            flags |= {"space_break"} if previous_space else set()
            previous_space, previous_break = False, True
        else:
            previous_space = previous_break = False
        preceded_by_whitespace = char in " \t" or char in _BREAKS
    return flags


def _indicators(flags: set[str], i: int, char: str, followed_ws: bool, preceded_ws: bool) -> None:
    if i == 0:
        if char in _FIRST_INDICATORS:
            flags |= {"flow_indicators", "block_indicators"}
        elif char in "?:":
            flags.add("flow_indicators")
            if followed_ws:
                flags.add("block_indicators")
        elif char == "-" and followed_ws:
            flags |= {"flow_indicators", "block_indicators"}
    elif char in _INNER_FLOW_INDICATORS:
        flags.add("flow_indicators")
    elif char == ":":
        flags.add("flow_indicators")
        if followed_ws:
            flags.add("block_indicators")
    elif char == "#" and preceded_ws:
        flags |= {"flow_indicators", "block_indicators"}


def _key_less(a: str, b: str) -> bool:
    """yaml.v2's ``keyList.Less`` for two string keys ("natural" order: a2 < a10)."""
    for i in range(min(len(a), len(b))):
        if a[i] == b[i]:
            continue
        a_letter, b_letter = a[i].isalpha(), b[i].isalpha()
        if a_letter and b_letter:
            return a[i] < b[i]
        if a_letter or b_letter:
            return b_letter
        return _number_less(a, b, i)
    return len(a) < len(b)


def _number_less(a: str, b: str, i: int) -> bool:
    """Compare the digit runs of ``a`` and ``b`` that start at their first difference ``i``."""
    a_num = b_num = 0
    if a[i] == "0" or b[i] == "0":
        for j in range(i - 1, -1, -1):
            if not a[j].isdecimal():
                break
            if a[j] != "0":
                a_num = b_num = 1
                break
    a_end, a_num = _digits(a, i, a_num)
    b_end, b_num = _digits(b, i, b_num)
    if a_num != b_num:
        return a_num < b_num
    if a_end != b_end:
        return a_end < b_end
    return a[i] < b[i]


def _digits(text: str, start: int, number: int) -> tuple[int, int]:
    end = start
    while end < len(text) and text[end].isdecimal():
        number = number * 10 + ord(text[end]) - 48
        end += 1
    return end, number


def _compare_keys(a: str, b: str) -> int:
    return -1 if _key_less(a, b) else 1 if _key_less(b, a) else 0


@functools.lru_cache(maxsize=4096)
def _sorted_keys(keys: tuple[str, ...]) -> list[str]:
    """Map keys in yaml.v2's order (maps of one shape recur: their order is cached).

    yaml.v2's order is not transitive when digit runs meet letters (``2t`` < ``9b`` <
    ``25`` < ``2t``); Go then sorts such keys in whatever order its map hands them over,
    so Helm's own output varies from run to run. Sorting by code point first makes the
    result depend on the keys alone, whatever order the mapping holds them in.
    """
    return sorted(sorted(keys), key=functools.cmp_to_key(_compare_keys))


class _Emitter:
    """The emitter state: output, column, indentation stack and context flags."""

    def __init__(self, restyle: Restyle | None = None) -> None:
        self.restyle = restyle
        self.key: str | None = None
        self.out: list[str] = []
        self.column = 0
        self.indent = -1
        self.indents: list[int] = []
        self.whitespace = True
        self.indention = True
        self.flow_level = 0
        self.simple_key_context = False
        self.mapping_context = False

    # --- low-level writing ---

    def put(self, text: str) -> None:
        self.out.append(text)
        self.column += len(text)

    def put_break(self) -> None:
        self.out.append("\n")
        self.column = 0

    def write_break(self, char: str) -> None:
        if char == "\n":
            self.put_break()
        else:
            self.out.append(char)
            self.column = 0

    def write_indent(self) -> None:
        indent = max(self.indent, 0)
        if (
            not self.indention
            or self.column > indent
            or (self.column == indent and not self.whitespace)
        ):
            self.put_break()
        if self.column < indent:
            self.put(" " * (indent - self.column))
        self.whitespace = self.indention = True

    def indicator(
        self, text: str, need_whitespace: bool, is_whitespace: bool, is_indention: bool
    ) -> None:
        if need_whitespace and not self.whitespace:
            self.put(" ")
        self.put(text)
        self.whitespace = is_whitespace
        self.indention = self.indention and is_indention

    def increase_indent(self, flow: bool, indentless: bool) -> None:
        self.indents.append(self.indent)
        if self.indent < 0:
            self.indent = _BEST_INDENT if flow else 0
        elif not indentless:
            self.indent += _BEST_INDENT

    def pop_indent(self) -> None:
        self.indent = self.indents.pop()

    # --- nodes ---

    def node(self, value: Any, *, mapping: bool = False, simple_key: bool = False) -> None:
        self.mapping_context = mapping
        self.simple_key_context = simple_key
        if isinstance(value, list):
            self.sequence(value)
        elif isinstance(value, dict):
            self.mapping(value)
        else:
            text, style = _scalar(value)
            self.scalar(text, style, _analyze(text), string=isinstance(value, str))

    def sequence(self, items: list[Any]) -> None:
        if self.flow_level or not items:
            self.indicator("[", True, True, False)
            self.increase_indent(True, False)
            self.pop_indent()
            self.indicator("]", False, False, False)
            return
        self.increase_indent(False, self.mapping_context and not self.indention)
        for item in items:
            self.write_indent()
            self.indicator("-", True, False, True)
            self.key = None
            self.node(item)
        self.pop_indent()

    def mapping(self, mapping: dict[str, Any]) -> None:
        if self.flow_level or not mapping:
            self.indicator("{", True, True, False)
            self.increase_indent(True, False)
            self.pop_indent()
            self.indicator("}", False, False, False)
            return
        self.increase_indent(False, False)
        for key in _sorted_keys(tuple(mapping)):
            self.write_indent()
            text, style = _scalar(key)
            analysis = _analyze(text)
            self.key = None
            if not analysis.multiline and len(text.encode("utf-8")) <= 128:
                self.mapping_context, self.simple_key_context = True, True
                self.scalar(text, style, analysis)
                self.indicator(":", False, False, False)
            else:
                self.indicator("?", True, False, True)
                self.mapping_context, self.simple_key_context = True, False
                self.scalar(text, style, analysis)
                self.write_indent()
                self.indicator(":", True, False, True)
            self.key = key
            self.node(mapping[key], mapping=True)
        self.pop_indent()

    def scalar(self, text: str, style: str, analysis: _Analysis, *, string: bool = True) -> None:
        style = self.select_style(text, style, analysis)
        if string and self.restyle is not None:
            style = self.restyle(text, style, self.key)
        self.increase_indent(True, False)
        allow_breaks = not self.simple_key_context
        if style == _PLAIN:
            self.plain(text, allow_breaks)
        elif style == _SINGLE:
            self.single_quoted(text, allow_breaks)
        elif style == _DOUBLE:
            self.double_quoted(text, allow_breaks)
        else:
            self.literal(text)
        self.pop_indent()

    def select_style(self, text: str, style: str, analysis: _Analysis) -> str:
        if self.simple_key_context and analysis.multiline:
            style = _DOUBLE
        if style == _PLAIN:
            plain_ok = analysis.flow_plain if self.flow_level else analysis.block_plain
            if not plain_ok or (not text and (self.flow_level or self.simple_key_context)):
                style = _SINGLE
        if style == _SINGLE and not analysis.single:
            style = _DOUBLE
        if style == _LITERAL and (not analysis.block or self.flow_level or self.simple_key_context):
            style = _DOUBLE
        return style

    # --- scalar writers ---

    def plain(self, value: str, allow_breaks: bool) -> None:
        if not self.whitespace:
            self.put(" ")
        if any(char in _BREAKS for char in value):
            self.plain_with_breaks(value, allow_breaks)
            return
        for run in _WORDS.split(value):
            if run == " " and allow_breaks and self.column > _BEST_WIDTH:
                self.write_indent()
            elif run:
                self.put(run)
        self.whitespace = self.indention = False

    def plain_with_breaks(self, value: str, allow_breaks: bool) -> None:
        """The character-by-character writer (plain scalars never hold breaks in practice)."""
        spaces = breaks = False
        for i, char in enumerate(value):
            if char == " ":
                nxt = value[i + 1 : i + 2]
                if allow_breaks and not spaces and self.column > _BEST_WIDTH and nxt != " ":
                    self.write_indent()
                else:
                    self.put(char)
                spaces = True
            elif char in _BREAKS:
                if not breaks and char == "\n":
                    self.put_break()
                self.write_break(char)
                self.indention = breaks = True
            else:
                if breaks:
                    self.write_indent()
                self.put(char)
                self.indention = spaces = breaks = False
        self.whitespace = self.indention = False

    def single_quoted(self, value: str, allow_breaks: bool) -> None:
        self.indicator("'", True, False, False)
        spaces = breaks = False
        last = len(value) - 1
        for i, char in enumerate(value):
            if char == " ":
                if (
                    allow_breaks
                    and not spaces
                    and self.column > _BEST_WIDTH
                    and 0 < i < last
                    and value[i + 1] != " "
                ):
                    self.write_indent()
                else:
                    self.put(char)
                spaces = True
            elif char in _BREAKS:
                if not breaks and char == "\n":
                    self.put_break()
                self.write_break(char)
                self.indention = breaks = True
            else:
                if breaks:
                    self.write_indent()
                self.put("''" if char == "'" else char)
                self.indention = spaces = breaks = False
        self.indicator("'", False, False, False)
        self.whitespace = self.indention = False

    def double_quoted(self, value: str, allow_breaks: bool) -> None:
        self.indicator('"', True, False, False)
        spaces = False
        last = len(value) - 1
        # go-yaml's is_bom looks at the start of the value, not at the character: a value
        # that starts with U+FEFF has every character escaped.
        escape_all = value.startswith("\ufeff")
        for i, char in enumerate(value):
            if escape_all or not _printable(char) or char in _BREAKS or char in '"\\':
                self.put("\\" + _escape(char))
                spaces = False
            elif char == " ":
                if allow_breaks and not spaces and self.column > _BEST_WIDTH and 0 < i < last:
                    self.write_indent()
                    if value[i + 1] == " ":
                        self.put("\\")
                else:
                    self.put(char)
                spaces = True
            else:
                self.put(char)
                spaces = False
        self.indicator('"', False, False, False)
        self.whitespace = self.indention = False

    def literal(self, value: str) -> None:
        self.indicator("|", True, False, False)
        if value[:1] == " " or value[:1] in _BREAKS:
            self.indicator(str(_BEST_INDENT), False, False, False)
        chomp = ""
        if not value or value[-1] not in _BREAKS:
            chomp = "-"
        elif len(value) == 1 or value[-2] in _BREAKS:
            chomp = "+"
        if chomp:
            self.indicator(chomp, False, False, False)
        self.put_break()
        self.indention = self.whitespace = True
        breaks = True
        for char in value:
            if char in _BREAKS:
                self.write_break(char)
                self.indention = breaks = True
            else:
                if breaks:
                    self.write_indent()
                self.put(char)
                self.indention = breaks = False


def _escape(char: str) -> str:
    if char in _ESCAPES:
        return _ESCAPES[char]
    code = ord(char)
    if code <= 0xFF:
        return f"x{code:02X}"
    if code <= 0xFFFF:
        return f"u{code:04X}"
    return f"U{code:08X}"


def _scalar(value: Any) -> tuple[str, str]:
    """The text and requested style yaml.v2's encoder gives a scalar."""
    if value is None:
        return "null", _PLAIN
    if isinstance(value, bool):
        return ("true" if value else "false"), _PLAIN
    if isinstance(value, int):
        return str(value), _PLAIN
    if isinstance(value, float):
        if math.isnan(value):
            return ".nan", _PLAIN
        if math.isinf(value):
            return (".inf" if value > 0 else "-.inf"), _PLAIN
        return format_float(value), _PLAIN
    text = str(value)
    if "\n" in text:
        return text, _LITERAL
    return text, (_PLAIN if resolves_to_str(text) else _DOUBLE)


def marshal(value: Any, restyle: Restyle | None = None) -> str:
    """``yaml.v2.Marshal`` of a tree of dicts, lists and scalars (string keys).

    Args:
        value: the tree.
        restyle: a hook that may double-quote strings go-yaml would write otherwise.
    """
    emitter = _Emitter(restyle)
    emitter.node(value)
    emitter.indent = -1
    emitter.write_indent()
    return "".join(emitter.out)


def to_yaml(value: Any) -> str:
    """Helm's ``toYaml``: ``sigs.k8s.io/yaml.Marshal(value)`` without its final newline.

    Raises:
        JSONError: the value holds NaN or an infinity.
    """
    return marshal(to_yaml_tree(value)).removesuffix("\n")
