r"""Helm's ``--set`` syntax: parse ``a.b[0].c=value,d={x,y}`` and type values as Helm does.

Helm types a ``--set`` value as a boolean (``true``/``false``), null (``null``), a 64-bit
integer (decimal without a leading zero) or else a string; ``--set-string`` keeps every
value a string. Lists in ``{a,b}`` form, ``\\.`` in keys and ``\\,`` in values are
supported.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from meshcharts.errors import ValuesError

__all__ = ["SetArg", "apply_sets", "parse_set", "typed_value"]

PathItem = str | int
_INT64 = 2**63


@dataclass(frozen=True)
class SetArg:
    """One ``--set`` (or ``--set-string``) argument as the user wrote it."""

    text: str
    string: bool = False

    @property
    def flag(self) -> str:
        """The flag the argument came with, for messages."""
        return "--set-string" if self.string else "--set"


def typed_value(text: str) -> Any:
    """Type a ``--set`` value the way Helm's strvals does."""
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered == "null":
        return None
    if text == "0":
        return 0
    if text and text[0] != "0":
        try:
            number = int(text, 10)
        except ValueError:
            return text
        if -_INT64 <= number < _INT64 and "_" not in text:
            return number
    return text


class _Reader:
    """A cursor over one argument, honouring backslash escapes."""

    def __init__(self, arg: SetArg) -> None:
        self.arg = arg
        self.text = arg.text
        self.pos = 0

    def fail(self, problem: str) -> ValuesError:
        return ValuesError(f"{self.arg.flag} {self.text}", problem)

    def done(self) -> bool:
        return self.pos >= len(self.text)

    def read_until(self, stops: str) -> tuple[str, str]:
        """Read up to an unescaped stop character; return (text, stop or '')."""
        out: list[str] = []
        while not self.done():
            char = self.text[self.pos]
            self.pos += 1
            if char == "\\" and not self.done():
                out.append(self.text[self.pos])
                self.pos += 1
            elif char in stops:
                return "".join(out), char
            else:
                out.append(char)
        return "".join(out), ""


def _read_path(reader: _Reader) -> list[PathItem]:
    path: list[PathItem] = []
    while True:
        name, stop = reader.read_until(".[=,")
        if name:
            path.append(name)
        elif stop != "[" or not path:
            raise reader.fail("a key is empty")
        if stop == "[":
            index, close = reader.read_until("]")
            if close != "]" or not index.isdigit():
                raise reader.fail(f"list index [{index}] is not a non-negative integer")
            path.append(int(index))
            stop = reader.text[reader.pos] if not reader.done() else ""
            reader.pos += 1
            if stop == "[":
                reader.pos -= 1
                continue
        if stop == "=":
            return path
        if stop != ".":
            raise reader.fail(f"key {_dotted(path)!r} has no value (expected KEY=VALUE)")


def _read_value(reader: _Reader) -> Any:
    if reader.text.startswith("{", reader.pos):
        reader.pos += 1
        body, stop = reader.read_until("}")
        if stop != "}":
            raise reader.fail("list value is missing its closing '}'")
        items = body.split(",") if body else []
        following, _ = reader.read_until(",")
        if following:
            raise reader.fail(
                "a value starting with '{' is a list {a,b}; write \\{ for a literal brace"
            )
        return [_type(reader.arg, item) for item in items]
    text, _ = reader.read_until(",")
    return _type(reader.arg, text)


def _type(arg: SetArg, text: str) -> Any:
    return text if arg.string else typed_value(text)


def _dotted(path: Sequence[PathItem]) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")


def parse_set(arg: SetArg) -> list[tuple[list[PathItem], Any]]:
    """Parse one argument into (path, value) assignments, in order.

    Raises:
        ValuesError: the argument is malformed; the message quotes it.
    """
    if not arg.text:
        raise ValuesError(arg.flag, "empty argument (expected KEY=VALUE)")
    reader = _Reader(arg)
    assignments: list[tuple[list[PathItem], Any]] = []
    while not reader.done():
        path = _read_path(reader)
        if not isinstance(path[0], str):
            raise reader.fail("a key must start with a name")
        assignments.append((path, _read_value(reader)))
    return assignments


def _assign(node: Any, path: Sequence[PathItem], value: Any, arg: SetArg) -> Any:
    """Return ``node`` with ``value`` set at ``path``, creating maps and lists on the way."""
    head, rest = path[0], path[1:]
    if isinstance(head, int):
        items = list(node) if isinstance(node, list) else []
        items.extend([None] * (head + 1 - len(items)))
        items[head] = _assign(items[head], rest, value, arg) if rest else value
        return items
    mapping = dict(node) if isinstance(node, Mapping) else {}
    mapping[head] = _assign(mapping.get(head), rest, value, arg) if rest else value
    return mapping


def apply_sets(args: Sequence[SetArg], base: Mapping[str, Any]) -> dict[str, Any]:
    """Build the ``--set`` layer: an overlay to merge onto ``base``.

    Lists are indexed against the values resolved so far (as Helm indexes into the values
    of earlier ``-f`` files), so ``ports[1].port=8080`` changes one item and keeps the
    others; the overlay then carries the whole list, which replaces the base list.

    Args:
        args: the arguments, applied in order.
        base: the values of every earlier layer, merged; not modified.

    Returns:
        The overlay tree.
    """
    overlay: dict[str, Any] = {}
    for arg in args:
        for path, value in parse_set(arg):
            top = path[0]
            assert isinstance(top, str)
            current = overlay[top] if top in overlay else copy.deepcopy(base.get(top))
            overlay[top] = _assign(current, path[1:], value, arg) if len(path) > 1 else value
    return overlay
