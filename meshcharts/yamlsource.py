"""Load a YAML file as plain data, remembering the line of every key and list item.

Scalars are read with PyYAML's safe loader: YAML 1.1, as Helm's go-yaml reads a values
file, so a file means the same to meshcharts and to ``helm install -f`` (``off`` and ``no``
are booleans, ``1.10`` a float, ``0777`` an octal integer; quote them to keep strings).
Only the JSON data model is accepted, because a values file must survive Helm's YAML-to-JSON
conversion unchanged: map keys must be strings, and timestamps, binary and other tagged
values are errors. A key repeated in one map is an error (go-yaml refuses it too); ``<<``
merge keys and anchors work, and a key given beside ``<<`` overrides the merged one.

Lines are 1-based and keyed by path: map keys by name, list items by their index as text
(``("values", "gateways", "ports", "2", "port")``); the line of a map entry is its key's.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from meshcharts.errors import UserError

__all__ = ["SourceDoc", "YamlSourceError", "load_yaml", "load_yaml_file"]

KeyPath = tuple[str, ...]

_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
_MERGE = "tag:yaml.org,2002:merge"
_MAX_DEPTH = 100


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
        """The line of ``path``, or of its nearest ancestor that has one (1 at worst)."""
        for depth in range(len(path), 0, -1):
            line = self.lines.get(path[:depth])
            if line is not None:
                return line
        return 1

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

    def fail(self, node: Node, problem: str) -> YamlSourceError:
        return YamlSourceError(f"{self.source}:{_line(node)}", problem)

    def build(self, node: Node, path: KeyPath) -> Any:
        if len(path) > _MAX_DEPTH:
            raise self.fail(node, f"nested deeper than {_MAX_DEPTH} levels")
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
        try:
            value = self.loader.construct_object(node, deep=True)
        except yaml.YAMLError as exc:
            raise self.fail(node, _problem(exc)) from None
        kind = _scalar_kind(value)
        if kind is not None:
            raise self.fail(node, f"{node.value!r} is read as {kind}; quote it to keep a string")
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
                    f"key {key_node.value!r} is read as {_kind(key)}, not a string; quote it",
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


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    return {bool: "a boolean", int: "an integer", float: "a float"}.get(
        type(value), f"a {type(value).__name__}"
    )


def _problem(exc: yaml.YAMLError) -> str:
    problem = getattr(exc, "problem", None) or str(exc)
    context = getattr(exc, "context", None)
    return f"{context}: {problem}" if context else str(problem)


def load_yaml(text: str, source: str) -> SourceDoc:
    """Load one YAML document, with the line of every key and list item.

    Args:
        text: the YAML text.
        source: the file name for messages.

    Raises:
        YamlSourceError: invalid YAML, several documents, a key that is not a string or
            repeats, or a value outside the JSON data model; the message starts with
            ``file:line``.
    """
    loader = _LOADER(text)
    try:
        try:
            node = loader.get_single_node()
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line = int(mark.line) + 1 if mark is not None else 1
            raise YamlSourceError(f"{source}:{line}", f"invalid YAML: {_problem(exc)}") from None
        except yaml.YAMLError as exc:
            raise YamlSourceError(f"{source}:1", f"invalid YAML: {exc}") from None
        builder = _Builder(loader, source)
        data = None if node is None else builder.build(node, ())
        return SourceDoc(data, builder.lines, source)
    finally:
        loader.dispose()


def load_yaml_file(path: Path, *, source: str | None = None) -> SourceDoc:
    """Read and load a YAML file (UTF-8); see :func:`load_yaml`.

    Raises:
        YamlSourceError: the file cannot be read or loaded.
    """
    name = source if source is not None else str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise YamlSourceError(name, f"cannot be read: {exc}") from None
    return load_yaml(text, name)
