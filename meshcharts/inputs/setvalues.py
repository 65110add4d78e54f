r"""Helm's ``--set`` syntax: parse ``a.b[0].c=value,d={x,y}`` and type values as Helm does.

Helm types a ``--set`` value as a boolean (``true``/``false`` in any case), null (``null``),
a 64-bit integer (ASCII decimal, optionally signed, without a leading zero) or else a
string; ``--set-string`` keeps every value a string. Lists in ``{a,b}`` form, ``\\.`` in
keys and ``\\,`` in values and list items are supported; a trailing lone backslash is
dropped, as Helm drops it.

As in Helm, a path may not descend into an existing value of another kind (``a.b`` when
``a`` is a scalar, a list or null; ``a[0]`` when ``a`` is a map, a scalar or null), except
that a list item that is not a map is replaced by one (``list[0].k``). meshcharts is
stricter than Helm where Helm silently ignores or reinterprets malformed input: an empty
argument, an empty or missing key (``=1``, ``.a=1``, ``[0]=1``), a signed or unterminated
index (``a[+1]``, ``a[0``) are errors.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from meshcharts.base.kinds import kind_of
from meshcharts.base.limits import MAX_DEPTH
from meshcharts.errors import ValuesError

__all__ = ["MAX_INDEX", "SetArg", "apply_sets", "parse_set", "typed_value"]

PathItem = str | int
MAX_INDEX = 65536
"""The largest list index Helm accepts (``strvals.MaxIndex``)."""

_INT64 = 2**63
_DECIMAL = re.compile(r"[+-]?[0-9]+")
_INDEX = re.compile(r"[0-9]+")


class _Absent:
    """Marks a key that does not exist (as opposed to one holding null)."""


_ABSENT: Any = _Absent()


@dataclass(frozen=True)
class SetArg:
    """One ``--set`` (or ``--set-string``) argument as the user wrote it."""

    text: str
    string: bool = False

    @property
    def flag(self) -> str:
        """The flag the argument came with, for messages."""
        return "--set-string" if self.string else "--set"

    @property
    def subject(self) -> str:
        """The flag and argument, as messages quote them."""
        text = self.text if len(self.text) <= 120 else self.text[:117] + "..."
        return f"{self.flag} {text}" if self.text else f"{self.flag} ''"


def typed_value(text: str) -> Any:
    """Type a ``--set`` value the way Helm's ``strvals.typedVal`` does.

    ``true``/``false``/``null`` compare case-insensitively with Unicode case folding (Go's
    ``strings.EqualFold``); an integer is ``[+-]?[0-9]+`` in the int64 range whose first
    character is not ``0`` (``0`` itself excepted), so ``007`` and `` 5`` stay strings.
    """
    folded = text.casefold()
    if folded in ("true", "false"):
        return folded == "true"
    if folded == "null":
        return None
    if _DECIMAL.fullmatch(text) and (text == "0" or text[0] != "0"):
        number = int(text)
        if -_INT64 <= number < _INT64:
            return number
    return text


class _Reader:
    """A cursor over one argument, honouring backslash escapes."""

    def __init__(self, arg: SetArg) -> None:
        self.arg = arg
        self.text = arg.text
        self.pos = 0

    def fail(self, problem: str) -> ValuesError:
        return ValuesError(self.arg.subject, problem)

    def done(self) -> bool:
        return self.pos >= len(self.text)

    def next_char(self) -> str:
        """The character at the cursor, consumed ('' at the end)."""
        char = self.text[self.pos : self.pos + 1]
        self.pos += 1
        return char

    def read_until(self, stops: str) -> tuple[str, str]:
        """Read up to an unescaped stop character; return (text, stop or '').

        A backslash takes the next character literally; a lone backslash at the end of
        the argument is dropped (Helm's ``runesUntil``).
        """
        out: list[str] = []
        while not self.done():
            char = self.next_char()
            if char == "\\":
                out.append(self.next_char())
            elif char in stops:
                return "".join(out), char
            else:
                out.append(char)
        return "".join(out), ""


def _read_index(reader: _Reader) -> int:
    index, close = reader.read_until("]")
    if close != "]":
        raise reader.fail(f"list index [{index} is missing its closing ']'")
    if not _INDEX.fullmatch(index):
        raise reader.fail(f"list index [{index}] is not a non-negative integer")
    if int(index) > MAX_INDEX:
        raise reader.fail(f"index {int(index)} is larger than Helm's limit {MAX_INDEX}")
    return int(index)


def _read_path(reader: _Reader) -> list[PathItem]:
    path: list[PathItem] = []
    while True:
        name, stop = reader.read_until(".[=,")
        if name:
            path.append(name)
        elif stop != "[" or not path:
            raise reader.fail("a key is empty")
        if len(path) > MAX_DEPTH:
            raise reader.fail(f"the key is nested deeper than {MAX_DEPTH} levels")
        while stop == "[":
            path.append(_read_index(reader))
            stop = reader.next_char()
        if stop == "=":
            return path
        if stop != ".":
            raise reader.fail(f"key {_dotted(path)!r} has no value (expected KEY=VALUE)")


def _read_list(reader: _Reader) -> list[str]:
    """The items of a ``{a,b}`` value (the '{' already read), split at unescaped commas."""
    items: list[str] = []
    stop = ","
    while stop == ",":
        item, stop = reader.read_until(",}")
        if not stop:
            raise reader.fail("list value is missing its closing '}'")
        items.append(item)
    following, _ = reader.read_until(",")
    if following:
        raise reader.fail(
            "a value starting with '{' is a list {a,b}; write \\{ for a literal brace"
        )
    return items


def _read_value(reader: _Reader) -> Any:
    if reader.text.startswith("{", reader.pos):
        reader.pos += 1
        return [_type(reader.arg, item) for item in _read_list(reader)]
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
        raise ValuesError(arg.subject, "empty argument (expected KEY=VALUE)")
    reader = _Reader(arg)
    assignments: list[tuple[list[PathItem], Any]] = []
    while not reader.done():
        path = _read_path(reader)
        if not isinstance(path[0], str):
            raise reader.fail("a key must start with a name")
        assignments.append((path, _read_value(reader)))
    return assignments


def _container(existing: Any, path: Sequence[PathItem], depth: int, arg: SetArg) -> Any:
    """The map or list that ``path[depth]`` indexes, starting from the value there now.

    Raises:
        ValuesError: the value there is of another kind (Helm fails on it too).
    """
    want_list = isinstance(path[depth], int)
    in_list = depth > 0 and isinstance(path[depth - 1], int)
    if isinstance(existing, list) if want_list else isinstance(existing, Mapping):
        return existing
    # Helm replaces a list item that is not a map by one, and fills a null item with a list.
    if existing is _ABSENT or (in_list and (existing is None or not want_list)):
        return [] if want_list else {}
    raise ValuesError(
        arg.subject,
        f"cannot set {_dotted(path)}: {_dotted(path[:depth])} is {kind_of(existing)}, "
        f"not a {'list' if want_list else 'map'}",
    )


def _assign(node: Any, path: Sequence[PathItem], depth: int, value: Any, arg: SetArg) -> Any:
    """Return a copy of ``node`` (what ``path[depth]`` indexes) with ``value`` set at ``path``."""
    head = path[depth]
    if isinstance(head, int):
        items = list(node)
        items.extend([None] * (head + 1 - len(items)))
        items[head] = _set_below(items[head], path, depth + 1, value, arg)
        return items
    mapping = dict(node)
    mapping[head] = _set_below(mapping.get(head, _ABSENT), path, depth + 1, value, arg)
    return mapping


def _set_below(existing: Any, path: Sequence[PathItem], depth: int, value: Any, arg: SetArg) -> Any:
    if depth == len(path):
        return value
    return _assign(_container(existing, path, depth, arg), path, depth, value, arg)


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

    Raises:
        ValuesError: an argument is malformed, or descends into a value of another kind.
    """
    overlay: dict[str, Any] = {}
    for arg in args:
        for path, value in parse_set(arg):
            top = path[0]
            assert isinstance(top, str)
            current = overlay.get(top, _ABSENT)
            if current is _ABSENT and top in base:
                current = copy.deepcopy(base[top])
            overlay[top] = _set_below(current, path, 1, value, arg)
    return overlay
