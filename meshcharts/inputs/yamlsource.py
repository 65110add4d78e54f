"""Load a YAML file as plain data, remembering the line of every key and list item.

Plain scalars are resolved as Helm's ``gopkg.in/yaml.v2`` resolves them (the tests check
every form against real Helm), so a file means the same to meshcharts and to ``helm install
-f``: ``off``, ``no``, ``y`` and ``N`` are booleans, ``1.10`` and ``1e3`` floats, ``0777``
and ``0o17`` octal integers, ``1:2:3`` and dates strings; quote a scalar to keep a string.
Only the JSON data model is accepted, because a values file must survive Helm's YAML-to-JSON
conversion unchanged: map keys must be strings; binary and other tagged values, NaN, the
infinities and integers beyond 2^53 (which Helm's float64 would round) are errors at their
``file:line``. A key repeated
in one map is an error (go-yaml refuses it too); ``<<`` merge keys and anchors work, and a
key given beside ``<<`` overrides the merged one.

The input is bounded before anything is built (:mod:`meshcharts.base.limits`): the file's size,
its nesting depth, and the number of nodes once aliases are expanded, so a few hundred
bytes of nested aliases (a "billion laughs" file) fail at once instead of filling memory.

Lines are 1-based and keyed by path: map keys by name, list items by their index as text
(``("values", "gateways", "ports", "2", "port")``); the line of a map entry is its key's.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from yaml.events import CollectionEndEvent, CollectionStartEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from meshcharts.base.kinds import kind_of
from meshcharts.base.limits import (
    MAX_DEPTH,
    MAX_DOCUMENTS,
    MAX_FILE,
    MAX_YAML_NODES,
    LimitError,
    read_limited,
)
from meshcharts.errors import UserError
from meshcharts.gotemplate.goyaml import (
    BOOL_TAG,
    FLOAT_TAG,
    INT_TAG,
    NULL_TAG,
    STR_TAG,
    TIMESTAMP_TAG,
    go_resolve,
    overflows,
)

__all__ = ["SourceDoc", "YamlSourceError", "load_yaml", "load_yaml_documents", "load_yaml_file"]

KeyPath = tuple[str, ...]

_BASE: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
_MERGE = "tag:yaml.org,2002:merge"
_EXACT = 2**53  # Helm's values pass through JSON into float64: larger integers are rounded
_INTEGRAL = re.compile(r"[-+]?(0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|[0-9_]+)")
_GO_TAGS = frozenset({INT_TAG, FLOAT_TAG, BOOL_TAG, NULL_TAG})


class _GoLoader(_BASE):  # type: ignore[misc,valid-type]
    """The safe loader with plain scalars resolved as yaml.v2 resolves them."""

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        if kind is ScalarNode and implicit[0]:
            if value == "<<":
                return _MERGE
            tag = go_resolve(value)[0]
            if tag == STR_TAG and overflows(value):
                return FLOAT_TAG  # a number too large for Go: plain() refuses it
            # yaml.v2 decodes a timestamp into interface{} as its text (Helm sees a string).
            return STR_TAG if tag == TIMESTAMP_TAG else tag
        return super().resolve(kind, value, implicit)


_LOADER: type[yaml.SafeLoader] = _GoLoader


class YamlSourceError(UserError):
    """A YAML file is malformed or holds something a values file cannot: ``file:line`` first."""


@dataclass(frozen=True)
class SourceDoc:
    """A loaded YAML document.

    Attributes:
        data: the document as plain data (dicts with string keys, lists, scalars).
        lines: key path -> 1-based line of the key (or list item).
        source: the file name used in messages.
    """

    data: Any
    lines: dict[KeyPath, int]
    source: str

    def line(self, path: KeyPath) -> int:
        """The line of ``path``, else of its nearest ancestor, else of the document (or 1)."""
        for depth in range(len(path), 0, -1):
            line = self.lines.get(path[:depth])
            if line is not None:
                return line
        return self.lines.get((), 1)

    def where(self, path: KeyPath) -> str:
        """``file:line`` of ``path``, for messages."""
        return f"{self.source}:{self.line(path)}"


def _line(node: Node) -> int:
    return int(node.start_mark.line) + 1


def _scalar_kind(value: Any) -> str | None:
    """Why a constructed scalar is not JSON data, or None if it is."""
    if value is None or isinstance(value, bool | int | float | str):
        return None
    names = {"date": "a timestamp", "datetime": "a timestamp", "bytes": "binary data"}
    return names.get(type(value).__name__, f"a {type(value).__name__}")


class _Builder:
    def __init__(self, loader: yaml.SafeLoader, source: str) -> None:
        self.loader = loader
        self.source = source
        self.lines: dict[KeyPath, int] = {}
        self.active: set[int] = set()
        self.sizes: dict[int, int] = {}

    def fail(self, node: Node, problem: str) -> YamlSourceError:
        return YamlSourceError(f"{self.source}:{_line(node)}", problem)

    def size(self, node: Node, depth: int = 0) -> int:
        """The nodes ``node`` expands to, aliases included (memoized: linear in the graph)."""
        known = self.sizes.get(id(node))
        if known is not None:
            return known
        if depth > MAX_DEPTH:
            raise LimitError(
                f"{self.source}:{_line(node)}", f"nested deeper than {MAX_DEPTH} levels"
            )
        if id(node) in self.active:
            raise self.fail(node, "an alias refers to a node that contains it (a cycle)")
        total = 1
        if isinstance(node, MappingNode | SequenceNode):
            self.active.add(id(node))
            children = (
                [n for pair in node.value for n in pair]
                if isinstance(node, MappingNode)
                else node.value
            )
            for child in children:
                total += self.size(child, depth + 1)
                if total > MAX_YAML_NODES:
                    raise LimitError(
                        f"{self.source}:{_line(node)}",
                        f"expands to more than {MAX_YAML_NODES} nodes (YAML aliases)",
                    )
            self.active.discard(id(node))
        self.sizes[id(node)] = total
        return total

    def build(self, node: Node, path: KeyPath) -> Any:
        if len(path) > MAX_DEPTH:
            raise LimitError(
                f"{self.source}:{_line(node)}", f"nested deeper than {MAX_DEPTH} levels"
            )
        if isinstance(node, ScalarNode):
            return self.scalar(node)
        if id(node) in self.active:
            raise self.fail(node, "an alias refers to a node that contains it (a cycle)")
        self.active.add(id(node))
        try:
            if isinstance(node, MappingNode):
                return self.mapping(node, path)
            if isinstance(node, SequenceNode):
                return self.sequence(node, path)
        finally:
            self.active.discard(id(node))
        raise self.fail(node, f"unsupported YAML node {type(node).__name__}")  # pragma: no cover

    def scalar(self, node: ScalarNode) -> Any:
        if node.tag == STR_TAG:
            return node.value
        if node.tag in _GO_TAGS and not node.style:  # plain: None (PyYAML) or "" (libyaml)
            return self.plain(node)
        try:
            value = self.loader.construct_object(node, deep=True)
        except yaml.YAMLError as exc:
            raise self.fail(node, _problem(exc)) from None
        except ValueError as exc:  # an explicit !!int or !!float that is not one
            raise self.fail(node, str(exc)) from None
        kind = _scalar_kind(value)
        if kind is not None:
            raise self.fail(node, f"{node.value!r} is read as {kind}; quote it to keep a string")
        return value

    def plain(self, node: ScalarNode) -> Any:
        """A plain scalar as yaml.v2 reads it; refuse numbers that JSON and Go cannot hold."""
        value = go_resolve(node.value)[1]
        integral = bool(_INTEGRAL.fullmatch(node.value))
        if overflows(node.value):
            value = math.inf  # yaml.v2 keeps the text; the user meant a number
        elif not isinstance(value, int | float) or isinstance(value, bool):
            return value
        if isinstance(value, float) and not math.isfinite(value) and not integral:
            shown = node.value if len(node.value) <= 40 else node.value[:37] + "..."
            raise self.fail(node, f"{shown} is not a JSON number; quote it to keep a string")
        if (
            isinstance(value, int | float)
            and abs(value) > _EXACT
            and (integral or isinstance(value, int))
        ):
            raise self.fail(node, _BEYOND_GO)  # a float here: beyond 64 bits for yaml.v2
        return value

    def mapping(self, node: MappingNode, path: KeyPath) -> dict[str, Any]:
        if node.tag != _MAP:
            raise self.fail(node, f"tag {node.tag} is not supported in a values file")
        own = [(k, v) for k, v in node.value if k.tag != _MERGE]
        try:
            self.loader.flatten_mapping(node)
        except yaml.YAMLError as exc:
            raise self.fail(node, _problem(exc)) from None
        own_ids = {id(k) for k, _ in own}
        merged = [(k, v) for k, v in node.value if id(k) not in own_ids]
        result: dict[str, Any] = {}
        seen: dict[str, int] = {}
        for key_node, value_node in [*merged, *own]:
            if not isinstance(key_node, ScalarNode):
                raise self.fail(key_node, "a map key must be a string, not a collection")
            key = self.scalar(key_node)
            if not isinstance(key, str):
                raise self.fail(
                    key_node,
                    f"key {key_node.value!r} is read as {kind_of(key)}, not a string; quote it",
                )
            if id(key_node) in own_ids:
                if key in seen:
                    raise self.fail(key_node, f"key {key!r} repeats the one on line {seen[key]}")
                seen[key] = _line(key_node)
            sub = (*path, key)
            self.lines[sub] = _line(key_node)
            result[key] = self.build(value_node, sub)
        return result

    def sequence(self, node: SequenceNode, path: KeyPath) -> list[Any]:
        if node.tag != _SEQ:
            raise self.fail(node, f"tag {node.tag} is not supported in a values file")
        items = []
        for index, item in enumerate(node.value):
            sub = (*path, str(index))
            self.lines[sub] = _line(item)
            items.append(self.build(item, sub))
        return items


_BEYOND_GO = (
    "an integer beyond 2^53, which Helm reads as a rounded float (its values pass through "
    "JSON); quote it to keep a string"
)


def _problem(exc: yaml.YAMLError) -> str:
    problem = getattr(exc, "problem", None) or str(exc)
    context = getattr(exc, "context", None)
    return f"{context}: {problem}" if context else str(problem)


def _invalid(exc: yaml.YAMLError, source: str) -> YamlSourceError:
    """The error for YAML that does not parse, at the line where it fails."""
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        line = int(mark.line) + 1 if mark is not None else 1
        return YamlSourceError(f"{source}:{line}", f"invalid YAML: {_problem(exc)}")
    return YamlSourceError(f"{source}:1", f"invalid YAML: {exc}")


def _check_nesting(text: str, source: str) -> None:
    """Refuse text nested deeper than MAX_DEPTH, from the parser's events (no recursion)."""
    loader = _BASE(text)
    depth = 0
    try:
        while loader.check_event():
            event = loader.get_event()  # type: ignore[no-untyped-call]
            if isinstance(event, CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    mark = event.start_mark
                    line = int(mark.line) + 1 if mark is not None else 1
                    raise LimitError(f"{source}:{line}", f"nested deeper than {MAX_DEPTH} levels")
            elif isinstance(event, CollectionEndEvent):
                depth -= 1
    except yaml.YAMLError:
        return  # the load that follows reports it, with its line
    finally:
        loader.dispose()


def load_yaml(text: str, source: str) -> SourceDoc:
    """Load one YAML document, with the line of every key and list item.

    Args:
        text: the YAML text.
        source: the file name for messages.

    Raises:
        YamlSourceError: invalid YAML, several documents, a key that is not a string or
            repeats, or a value outside the JSON data model; the message starts with
            ``file:line``.
        LimitError: nested deeper than :data:`~meshcharts.base.limits.MAX_DEPTH`, or more than
            :data:`~meshcharts.base.limits.MAX_YAML_NODES` nodes once aliases are expanded.
    """
    _check_nesting(text, source)
    loader = _LOADER(text)
    try:
        try:
            node = loader.get_single_node()
        except yaml.YAMLError as exc:
            raise _invalid(exc, source) from None
        builder = _Builder(loader, source)
        if node is not None:
            builder.size(node)
        data = None if node is None else builder.build(node, ())
        return SourceDoc(data, builder.lines, source)
    finally:
        loader.dispose()


def _read_text(path: Path, name: str) -> str:
    data = read_limited(path, MAX_FILE, what=name)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise YamlSourceError(name, f"cannot be read: not UTF-8 ({exc.reason})") from None


def load_yaml_documents(path: Path, *, source: str | None = None) -> list[SourceDoc]:
    """Read every document of a multi-document YAML file (a manifest); empty ones are skipped.

    Raises:
        YamlSourceError: the file cannot be read, or a document cannot be loaded (as
            :func:`load_yaml`); the message starts with ``file:line``.
        LimitError: larger than :data:`~meshcharts.base.limits.MAX_FILE`, more than
            :data:`~meshcharts.base.limits.MAX_DOCUMENTS` documents, nested too deep, or
            more than :data:`~meshcharts.base.limits.MAX_YAML_NODES` nodes in all.
    """
    name = source if source is not None else str(path)
    text = _read_text(path, name)
    _check_nesting(text, name)
    loader = _LOADER(text)
    documents: list[SourceDoc] = []
    nodes = 0
    try:
        while True:
            try:
                if not loader.check_node():
                    return documents
                node = loader.get_node()
            except yaml.YAMLError as exc:
                raise _invalid(exc, name) from None
            if node is None or (isinstance(node, ScalarNode) and node.tag == NULL_TAG):
                continue
            if len(documents) == MAX_DOCUMENTS:
                raise LimitError(name, f"holds more than {MAX_DOCUMENTS} documents")
            builder = _Builder(loader, name)
            nodes += builder.size(node)
            if nodes > MAX_YAML_NODES:
                raise LimitError(f"{name}:{_line(node)}", f"has more than {MAX_YAML_NODES} nodes")
            data = builder.build(node, ())
            builder.lines[()] = _line(node)  # where the document starts
            documents.append(SourceDoc(data, builder.lines, name))
    finally:
        loader.dispose()


def load_yaml_file(path: Path, *, source: str | None = None) -> SourceDoc:
    """Read and load a YAML file (UTF-8); see :func:`load_yaml`.

    Raises:
        YamlSourceError: the file cannot be read or loaded.
        LimitError: it is larger than :data:`~meshcharts.base.limits.MAX_FILE`.
    """
    name = source if source is not None else str(path)
    return load_yaml(_read_text(path, name), name)
