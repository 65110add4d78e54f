"""Go's ``fmt`` and ``strconv`` formatting of template values.

:func:`sprint_value` is ``%v`` (what a template prints for ``{{ x }}``), :func:`sprintf` is
``fmt.Sprintf`` with the verbs templates use (``%v %s %d %q %t %x %X %o %b %c %f %e %g
%T %%``, flags, width and precision), and :func:`format_float` is ``strconv.FormatFloat``
with shortest-representation digits (Go prints ``1e+06`` where Python prints ``1000000.0``).
"""

from __future__ import annotations

import math
import re
from typing import Any, Final

from meshcharts.gotemplate.gotypes import NIL_IFACE, GoStruct, type_name

__all__ = [
    "format_float",
    "quote",
    "shortest_digits",
    "sprint",
    "sprint_value",
    "sprintf",
    "sprintln",
]

_VERB: Final = re.compile(r"%([-+# 0]*)(\*|\d+)?(?:\.(\*|\d*))?(.)?", re.DOTALL)
_QUOTE_ESCAPES: Final = {
    "\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t",
    "\v": "\\v", "\\": "\\\\", '"': '\\"',
}  # fmt: skip


def shortest_digits(value: float) -> tuple[str, int]:
    """The shortest decimal digits that round-trip ``abs(value)`` and the point position.

    ``value == 0.DIGITS * 10**point``; zero gives ``("0", 1)``.
    """
    mantissa, _, exponent = repr(abs(value)).partition("e")
    whole, _, fraction = mantissa.partition(".")
    digits = whole + fraction
    stripped = digits.lstrip("0")
    point = len(whole) + (int(exponent) if exponent else 0) - (len(digits) - len(stripped))
    stripped = stripped.rstrip("0")
    return (stripped, point) if stripped else ("0", 1)


def _exp_form(sign: str, digits: str, point: int, decimals: int | None) -> str:
    exponent = point - 1
    if decimals is None:
        body = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
    else:
        body = digits[0] + ("." + digits[1:].ljust(decimals, "0") if decimals else "")
    return f"{sign}{body}e{'-' if exponent < 0 else '+'}{abs(exponent):02d}"


def _fixed_form(sign: str, digits: str, point: int) -> str:
    if point <= 0:
        return f"{sign}0.{'0' * -point}{digits}"
    if point >= len(digits):
        return sign + digits + "0" * (point - len(digits))
    return f"{sign}{digits[:point]}.{digits[point:]}"


def format_float(value: float, fmt: str = "g", prec: int = -1) -> str:
    """``strconv.FormatFloat(value, fmt, prec, 64)`` for ``fmt`` in ``e f g``."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    sign = "-" if math.copysign(1.0, value) < 0 else ""
    if prec >= 0:
        return sign + f"{abs(value):.{prec}{fmt}}"
    digits, point = shortest_digits(value)
    if fmt == "e" or (fmt == "g" and not -4 <= point - 1 < 6):
        return _exp_form(sign, digits, point, None)
    return _fixed_form(sign, digits, point)


_PLAIN_QUOTE: Final = re.compile(r"[ !#-\[\]-~]*\Z")
"""Printable ASCII without ``"`` and ``\\``: quoted as is."""


def quote(text: str) -> str:
    """``strconv.Quote``: a double-quoted Go string literal."""
    if _PLAIN_QUOTE.match(text):
        return '"' + text + '"'
    out = ['"']
    for char in text:
        if char in _QUOTE_ESCAPES:
            out.append(_QUOTE_ESCAPES[char])
        elif char.isprintable():
            out.append(char)
        elif ord(char) < 0x80:
            out.append(f"\\x{ord(char):02x}")
        elif ord(char) < 0x10000:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(f"\\U{ord(char):08x}")
    out.append('"')
    return "".join(out)


def sprint_value(value: Any) -> str:
    """``fmt.Sprint(value)``: Go's ``%v``."""
    if isinstance(value, str):
        return value
    if value is None or value is NIL_IFACE:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return format_float(value)
    return _sprint_composite(value)


def _sprint_composite(value: Any) -> str:
    if isinstance(value, bytes):
        return "[" + " ".join(str(b) for b in value) + "]"
    if isinstance(value, list):
        return "[" + " ".join(sprint_value(v) for v in value) + "]"
    if isinstance(value, dict):
        pairs = (f"{k}:{sprint_value(value[k])}" for k in sorted(value))
        return "map[" + " ".join(pairs) + "]"
    if isinstance(value, GoStruct):
        if value.text is not None:
            return value.text
        body = "{" + " ".join(sprint_value(v) for v in value.fields.values()) + "}"
        return "&" + body if value.type.startswith("*") else body
    return str(value)


def sprint(*args: Any) -> str:
    """``fmt.Sprint``: operands joined, with a space between two non-strings."""
    out: list[str] = []
    previous_string = False
    for index, arg in enumerate(args):
        is_string = isinstance(arg, str)
        if index and not is_string and not previous_string:
            out.append(" ")
        out.append(sprint_value(arg))
        previous_string = is_string
    return "".join(out)


def sprintln(*args: Any) -> str:
    """``fmt.Sprintln``: operands joined by spaces, then a newline."""
    return " ".join(sprint_value(a) for a in args) + "\n"


def _bad_verb(verb: str, value: Any) -> str:
    if value is None or value is NIL_IFACE:
        return f"%!{verb}(<nil>)"
    return f"%!{verb}({type_name(value)}={sprint_value(value)})"


def _pad(text: str, flags: str, width: int | None, zero_ok: bool) -> str:
    if width is None or len(text) >= width:
        return text
    if "-" in flags:
        return text.ljust(width)
    if "0" in flags and zero_ok:
        sign = text[0] if text[:1] in "+- " else ""
        return sign + text[len(sign) :].rjust(width - len(sign), "0")
    return text.rjust(width)


def _format_int(value: int, verb: str, flags: str, prec: int | None) -> str | None:
    bases = {"d": "", "v": "", "x": "x", "X": "X", "o": "o", "b": "b", "O": "o"}
    if verb == "c":
        return chr(value) if 0 <= value <= 0x10FFFF else "\ufffd"
    if verb == "q":
        return "'" + chr(value) + "'"
    if verb == "U":
        return f"U+{value:04X}"
    if verb not in bases:
        return None
    body = format(abs(value), bases[verb]) if bases[verb] else str(abs(value))
    if prec is not None:
        body = body.rjust(prec, "0") if prec or value else ""
    if "#" in flags and verb in "xXob":
        body = {"x": "0x", "X": "0X", "o": "0", "b": "0b"}[verb] + body
    if verb == "O":
        body = "0o" + body
    sign = "-" if value < 0 else "+" if "+" in flags else " " if " " in flags else ""
    return sign + body


def _format_float_verb(value: float, verb: str, flags: str, prec: int | None) -> str | None:
    if verb in "vgG":
        text = format_float(value, "g", -1 if prec is None else prec)
        text = text.upper() if verb == "G" else text
    elif verb in "eEfF":
        text = format_float(value, verb.lower(), 6 if prec is None else prec)
        text = text.upper() if verb == "E" else text
    else:
        return None
    if "+" in flags and not text.startswith("-"):
        text = "+" + text
    return text


def _format_string(value: str, verb: str, prec: int | None) -> str | None:
    if prec is not None:
        value = value[:prec]
    if verb in "vs":
        return value
    if verb == "q":
        return quote(value)
    if verb in "xX":
        text = value.encode("utf-8").hex()
        return text.upper() if verb == "X" else text
    return None


def _format_one(value: Any, verb: str, flags: str, width: int | None, prec: int | None) -> str:
    """Format one operand with one verb, as ``fmt`` does (bad verbs give ``%!v(T=x)``)."""
    text: str | None
    zero_ok = True
    if value is None or value is NIL_IFACE:
        text = "<nil>" if verb == "v" else None
    elif isinstance(value, bool):
        text = ("true" if value else "false") if verb in "vt" else None
    elif isinstance(value, int):
        text = _format_int(value, verb, flags, prec)
    elif isinstance(value, float):
        text = _format_float_verb(value, verb, flags, prec)
    elif isinstance(value, str):
        text, zero_ok = _format_string(value, verb, prec), False
    elif isinstance(value, list | dict):
        text = _format_composite(value, verb, flags, prec)
    else:
        text = sprint_value(value) if verb in "vs" else None
    if text is None:
        return _bad_verb(verb, value)
    return _pad(text, flags, width, zero_ok)


def _format_composite(value: Any, verb: str, flags: str, prec: int | None) -> str:
    if isinstance(value, list):
        return "[" + " ".join(_format_one(v, verb, flags, None, prec) for v in value) + "]"
    pairs = (
        _format_one(k, verb, flags, None, prec) + ":" + _format_one(v, verb, flags, None, prec)
        for k, v in sorted(value.items())
    )
    return "map[" + " ".join(pairs) + "]"


def sprintf(format_string: str, *args: Any) -> str:
    """``fmt.Sprintf`` (without explicit argument indexes)."""
    out: list[str] = []
    arg_index = 0
    pos = 0
    while True:
        percent = format_string.find("%", pos)
        if percent < 0:
            out.append(format_string[pos:])
            break
        out.append(format_string[pos:percent])
        match = _VERB.match(format_string, percent)
        assert match is not None
        flags, width_text, prec_text, verb = match.groups()
        pos = match.end()
        if verb is None:
            out.append("%!(NOVERB)")
            break
        if verb == "%":
            out.append("%")
            continue
        width, arg_index = _star(width_text, args, arg_index)
        prec, arg_index = (
            _star(prec_text, args, arg_index) if prec_text is not None else (None, arg_index)
        )
        if arg_index >= len(args):
            out.append(f"%!{verb}(MISSING)")
            continue
        value = args[arg_index]
        arg_index += 1
        if verb == "T":
            out.append(_pad(type_name(value), flags, width, False))
        else:
            out.append(_format_one(value, verb, flags, width, prec))
    if arg_index < len(args):
        extra = ", ".join(
            "<nil>" if a is None else f"{type_name(a)}={sprint_value(a)}" for a in args[arg_index:]
        )
        out.append(f"%!(EXTRA {extra})")
    return "".join(out)


def _star(text: str | None, args: tuple[Any, ...], index: int) -> tuple[int | None, int]:
    """A width or precision: digits, ``*`` (taken from the arguments) or absent."""
    if text is None:
        return None, index
    if text == "*":
        if index < len(args) and isinstance(args[index], int) and abs(args[index]) <= _TOO_LARGE:
            return int(args[index]), index + 1
        return None, index + 1
    # Go's fmt ignores a width or precision beyond 1e6 (fmt.tooLarge); so does this.
    if len(text) > 7 or (text and int(text) > _TOO_LARGE):
        return None, index
    return (int(text) if text else 0), index


_TOO_LARGE = 1_000_000
