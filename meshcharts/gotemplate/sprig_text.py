"""Sprig's string, regular-expression, encoding and path functions.

Strings are indexed by UTF-8 bytes where Go does (``trunc``, ``substr``), whitespace is
Go's ``unicode.IsSpace``, and ``regexReplaceAll`` expands ``$1``/``${name}`` as Go's
``regexp`` does.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re

# The private parser of the re module: the only way to see the structure of a pattern.
import re._constants as _re_constants  # type: ignore[import-not-found]
import re._parser as _re_parser  # type: ignore[import-not-found]
import zlib
from typing import Any, Final

from meshcharts.gotemplate.funcs import FuncMap, GoFunc, go_func
from meshcharts.gotemplate.gofmt import quote as go_quote
from meshcharts.gotemplate.gofmt import sprint_value
from meshcharts.gotemplate.gotypes import FuncError, StringMap, StringSlice

__all__ = ["TEXT_FUNCS", "strval", "strslice"]

GO_SPACES: Final = "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006" \
    "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"  # fmt: skip
_EXPAND: Final = re.compile(r"\$(?:\{(\w+)\}|(\w+)|(\$))")


def strval(value: Any) -> str:
    """Sprig's ``strval``: a string as is, anything else as ``%v``."""
    if isinstance(value, str):
        return value
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return sprint_value(value)


def strslice(value: Any) -> list[str]:
    """Sprig's ``strslice``: the strings of a list (nils dropped), or ``[strval(v)]``."""
    if isinstance(value, list):
        return StringSlice(strval(v) for v in value if v is not None)
    if value is None:
        return StringSlice()
    return StringSlice([strval(value)])


def _byte_slice(text: str, start: int | None, end: int | None) -> str:
    if text.isascii():
        return text[start:end]
    return text.encode("utf-8")[start:end].decode("utf-8", "replace")


def _byte_len(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode("utf-8"))


@go_func("int", "string")
def _trunc(count: int, text: str) -> str:
    length = _byte_len(text)
    if count < 0 and length + count > 0:
        return _byte_slice(text, length + count, None)
    if count >= 0 and length > count:
        return _byte_slice(text, None, count)
    return text


@go_func("int", "int", "string")
def _substr(start: int, end: int, text: str) -> str:
    if start < 0:
        return _byte_slice(text, None, end)
    if end < 0 or end > _byte_len(text):
        return _byte_slice(text, start, None)
    return _byte_slice(text, start, end)


def _is_separator(char: str) -> bool:
    if char.isascii():
        return not (char.isalnum() or char == "_")
    if char.isalpha() or char.isdecimal():
        return False
    return char in GO_SPACES


@go_func("string")
def _title(text: str) -> str:
    out = []
    previous = " "
    for char in text:
        out.append(char.title() if _is_separator(previous) else char)
        previous = char
    return "".join(out)


@go_func("string")
def _untitle(text: str) -> str:
    out = []
    previous = " "
    for char in text:
        out.append(char.lower() if previous in GO_SPACES else char)
        previous = char
    return "".join(out)


@go_func("string")
def _initials(text: str) -> str:
    return "".join(word[0] for word in text.split() if word)


@go_func("int", "string")
def _abbrev(width: int, text: str) -> str:
    if width < 4:
        return ""
    return text if len(text) <= width else text[: width - 3] + "..."


def _quote_all(*values: Any) -> str:
    return " ".join(go_quote(strval(v)) for v in values if v is not None)


def _squote_all(*values: Any) -> str:
    return " ".join(f"'{strval(v)}'" for v in values if v is not None)


def _cat(*values: Any) -> str:
    return " ".join(sprint_value(v) for v in values if v is not None)


@go_func("int", "string")
def _indent(spaces: int, text: str) -> str:
    pad = " " * spaces
    return pad + text.replace("\n", "\n" + pad)


@go_func("int", "string")
def _nindent(spaces: int, text: str) -> str:
    pad = " " * spaces
    return "\n" + pad + text.replace("\n", "\n" + pad)


@go_func("string", "string", "int")
def _plural(one: str, many: str, count: int) -> str:
    return one if count == 1 else many


def _go_split(text: str, sep: str, limit: int = -1) -> list[str]:
    """Go's ``strings.SplitN`` (an empty separator splits into characters)."""
    if limit == 0:
        return []
    if sep == "":
        chars = list(text)
        if 0 < limit < len(chars):
            chars = [*chars[: limit - 1], "".join(chars[limit - 1 :])]
        return chars
    return text.split(sep, limit - 1) if limit > 0 else text.split(sep)


@go_func("string", "string")
def _split(sep: str, text: str) -> StringMap:
    return StringMap({f"_{i}": part for i, part in enumerate(_go_split(text, sep))})


@go_func("string", "int", "string")
def _splitn(sep: str, count: int, text: str) -> StringMap:
    return StringMap({f"_{i}": part for i, part in enumerate(_go_split(text, sep, count))})


@go_func("string", "string")
def _split_list(sep: str, text: str) -> StringSlice:
    return StringSlice(_go_split(text, sep))


@go_func("string", "any")
def _join(sep: str, value: Any) -> str:
    return sep.join(strslice(value))


@go_func("any")
def _sort_alpha(value: Any) -> StringSlice:
    if isinstance(value, list):
        return StringSlice(sorted(strslice(value), key=lambda s: s.encode("utf-8")))
    return StringSlice([strval(value)])


def _case_words(text: str) -> list[str]:
    """Words of an identifier: split at non-alphanumerics and lower-to-upper changes."""
    words = re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+|[A-Z]+", text)
    return [w for w in words if w]


@go_func("string")
def _snakecase(text: str) -> str:
    return "_".join(w.lower() for w in _case_words(text))


@go_func("string")
def _kebabcase(text: str) -> str:
    return "-".join(w.lower() for w in _case_words(text))


@go_func("string")
def _camelcase(text: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in text.split("_"))


@go_func("string")
def _swapcase(text: str) -> str:
    return text.swapcase()


_REPEATS: Final = frozenset(
    {_re_constants.MAX_REPEAT, _re_constants.MIN_REPEAT, _re_constants.POSSESSIVE_REPEAT}
)


def _starts_with_repeat(items: Any) -> bool:
    """Whether a parsed pattern can begin with a repetition (so iterations can overlap)."""
    if not items:
        return False
    op, arg = items[0]
    if op in _REPEATS:
        return bool(arg[1] > 1)
    if op == _re_constants.SUBPATTERN:
        return _starts_with_repeat(arg[-1])
    if op == _re_constants.BRANCH:
        return any(_starts_with_repeat(branch) for branch in arg[1])
    return False


def _ambiguous(items: Any) -> bool:
    """Whether a pattern repeats a body that begins with a repetition (``(a+)+``, ``(a|b*)*``).

    Such a repeat can split its input in exponentially many ways, and Python's backtracking
    engine tries them all; a body that begins with a fixed character (``(-[a-z]+)*``)
    cannot, and is allowed.
    """
    for op, arg in items:
        if op in _REPEATS:
            if arg[1] > 1 and _starts_with_repeat(arg[2]):
                return True
            if _ambiguous(arg[2]):
                return True
        elif op == _re_constants.SUBPATTERN:
            if _ambiguous(arg[-1]):
                return True
        elif op == _re_constants.BRANCH and any(_ambiguous(b) for b in arg[1]):
            return True
    return False


MAX_REPEAT_OUTPUT: Final = 64 * 1024 * 1024


def _repeat(count: int, text: str) -> str:
    if max(count, 0) * len(text) > MAX_REPEAT_OUTPUT:
        raise FuncError(f"repeat of {count} would write more than {MAX_REPEAT_OUTPUT} characters")
    return text * max(count, 0)


def _compile(pattern: str) -> re.Pattern[str]:
    """Compile a Go RE2 pattern with Python's ``re`` (the common subset).

    RE2 runs every pattern in linear time; Python's backtracking engine can take
    exponential time on a repeat of a repeat (``(a+)+$``), so such patterns are refused
    here rather than left to hang a build.
    """
    try:
        compiled = re.compile(pattern.replace(r"\z", r"\Z"))
    except re.error as exc:
        raise FuncError(f"error parsing regexp: {exc}: `{pattern}`") from None
    if _ambiguous(_re_parser.parse(compiled.pattern).data):
        raise FuncError(
            f"regexp `{pattern}` repeats a repetition, which Python's regexp engine may run "
            "in exponential time (RE2 does not); meshcharts refuses it"
        )
    return compiled


def _expand(match: re.Match[str], template: str) -> str:
    """Go's ``Regexp.Expand``: ``$1``, ``${1}``, ``$name``, ``${name}`` and ``$$``."""

    def group(ref: re.Match[str]) -> str:
        name = ref.group(1) or ref.group(2)
        if name is None:
            return "$"
        try:
            value = match.group(int(name) if name.isdecimal() else name)
        except IndexError:
            return ""
        return value or ""

    return _EXPAND.sub(group, template)


@go_func("string", "string")
def _regex_match(pattern: str, text: str) -> bool:
    try:
        return _compile(pattern).search(text) is not None
    except FuncError:
        return False


@go_func("string", "string")
def _must_regex_match(pattern: str, text: str) -> bool:
    return _compile(pattern).search(text) is not None


@go_func("string", "string")
def _regex_find(pattern: str, text: str) -> str:
    match = _compile(pattern).search(text)
    return match.group() if match else ""


@go_func("string", "string", "int")
def _regex_find_all(pattern: str, text: str, count: int) -> StringSlice:
    found = [m.group() for m in _compile(pattern).finditer(text)]
    return StringSlice(found if count < 0 else found[:count])


@go_func("string", "string", "string")
def _regex_replace_all(pattern: str, text: str, replacement: str) -> str:
    return _compile(pattern).sub(lambda m: _expand(m, replacement), text)


@go_func("string", "string", "string")
def _regex_replace_all_literal(pattern: str, text: str, replacement: str) -> str:
    return _compile(pattern).sub(lambda _: replacement, text)


@go_func("string", "string", "int")
def _regex_split(pattern: str, text: str, count: int) -> StringSlice:
    if count == 0:
        return StringSlice()
    parts = _compile(pattern).split(text, maxsplit=0 if count < 0 else count - 1)
    return StringSlice(parts)


@go_func("string")
def _b64dec(text: str) -> str:
    try:
        return base64.b64decode(text, validate=True).decode("utf-8", "replace")
    except (binascii.Error, ValueError):
        return "illegal base64 data at input byte 0"


@go_func("string")
def _b32dec(text: str) -> str:
    try:
        return base64.b32decode(text).decode("utf-8", "replace")
    except (binascii.Error, ValueError):
        return "illegal base32 data at input byte 0"


def go_clean(path: str) -> str:
    """Go's ``path.Clean``."""
    if not path:
        return "."
    rooted = path.startswith("/")
    parts: list[str] = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if parts and parts[-1] != "..":
                parts.pop()
            elif not rooted:
                parts.append("..")
            continue
        parts.append(part)
    cleaned = "/".join(parts)
    return ("/" + cleaned if rooted else cleaned) or ("/" if rooted else ".")


@go_func("string")
def _base(path: str) -> str:
    if not path:
        return "."
    path = path.rstrip("/")
    return path.rsplit("/", 1)[-1] if path else "/"


@go_func("string")
def _dir(path: str) -> str:
    return go_clean(path[: path.rfind("/") + 1])


@go_func("string")
def _ext(path: str) -> str:
    name = path.rsplit("/", 1)[-1]
    dot = name.rfind(".")
    return name[dot:] if dot >= 0 else ""


def _simple(impl: Any, *params: str) -> GoFunc:
    return GoFunc(impl, params)


TEXT_FUNCS: Final[FuncMap] = {
    "trim": _simple(lambda s: s.strip(GO_SPACES), "string"),
    "trimAll": _simple(lambda cut, s: s.strip(cut), "string", "string"),
    "trimall": _simple(lambda cut, s: s.strip(cut), "string", "string"),
    "trimSuffix": _simple(lambda x, s: s.removesuffix(x), "string", "string"),
    "trimPrefix": _simple(lambda x, s: s.removeprefix(x), "string", "string"),
    "upper": _simple(str.upper, "string"),
    "lower": _simple(str.lower, "string"),
    "title": _title,
    "untitle": _untitle,
    "substr": _substr,
    "repeat": _simple(_repeat, "int", "string"),
    "nospace": _simple(lambda s: "".join(c for c in s if c not in GO_SPACES), "string"),
    "trunc": _trunc,
    "abbrev": _abbrev,
    "initials": _initials,
    "contains": _simple(lambda sub, s: sub in s, "string", "string"),
    "hasPrefix": _simple(lambda pre, s: s.startswith(pre), "string", "string"),
    "hasSuffix": _simple(lambda suf, s: s.endswith(suf), "string", "string"),
    "quote": GoFunc(_quote_all, (), "any"),
    "squote": GoFunc(_squote_all, (), "any"),
    "cat": GoFunc(_cat, (), "any"),
    "indent": _indent,
    "nindent": _nindent,
    "replace": _simple(lambda old, new, s: s.replace(old, new), "string", "string", "string"),
    "plural": _plural,
    "sha1sum": _simple(lambda s: hashlib.sha1(s.encode()).hexdigest(), "string"),
    "sha256sum": _simple(lambda s: hashlib.sha256(s.encode()).hexdigest(), "string"),
    "sha512sum": _simple(lambda s: hashlib.sha512(s.encode()).hexdigest(), "string"),
    "adler32sum": _simple(lambda s: str(zlib.adler32(s.encode())), "string"),
    "toString": _simple(strval, "any"),
    "split": _split,
    "splitn": _splitn,
    "splitList": _split_list,
    "toStrings": _simple(strslice, "any"),
    "join": _join,
    "sortAlpha": _sort_alpha,
    "snakecase": _snakecase,
    "kebabcase": _kebabcase,
    "camelcase": _camelcase,
    "swapcase": _swapcase,
    "regexMatch": _regex_match,
    "mustRegexMatch": _must_regex_match,
    "regexFind": _regex_find,
    "mustRegexFind": _regex_find,
    "regexFindAll": _regex_find_all,
    "mustRegexFindAll": _regex_find_all,
    "regexReplaceAll": _regex_replace_all,
    "mustRegexReplaceAll": _regex_replace_all,
    "regexReplaceAllLiteral": _regex_replace_all_literal,
    "mustRegexReplaceAllLiteral": _regex_replace_all_literal,
    "regexSplit": _regex_split,
    "mustRegexSplit": _regex_split,
    "regexQuoteMeta": _simple(lambda s: re.sub(r"([\\.+*?()|\[\]{}^$])", r"\\\1", s), "string"),
    "b64enc": _simple(lambda s: base64.b64encode(s.encode()).decode("ascii"), "string"),
    "b64dec": _b64dec,
    "b32enc": _simple(lambda s: base64.b32encode(s.encode()).decode("ascii"), "string"),
    "b32dec": _b32dec,
    "base": _base,
    "dir": _dir,
    "clean": _simple(go_clean, "string"),
    "ext": _ext,
    "isAbs": _simple(lambda s: s.startswith("/"), "string"),
    "osBase": _base,
    "osDir": _dir,
    "osClean": _simple(go_clean, "string"),
    "osExt": _ext,
    "osIsAbs": _simple(lambda s: s.startswith("/"), "string"),
}
"""Sprig's string functions (Go semantics; ``upper``/``lower`` use Python's case tables)."""
