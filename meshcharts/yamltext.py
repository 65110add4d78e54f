"""YAML text that means the same to every reader: values.yaml and canonical Chart.yaml.

Helm reads values.yaml as YAML 1.1 (go-yaml v2), where ``on``, ``no`` and ``y`` are
booleans, ``0777`` is an octal integer and ``1e3`` a float. A string is therefore written
plain only when no YAML 1.1 reader could take it for anything else; otherwise it is
double-quoted. Output is deterministic by construction: mappings keep their order (or are
sorted, for Chart.yaml) and nothing depends on the clock or the platform.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

__all__ = ["canonical_yaml", "chart_yaml", "dump_values", "plain_safe", "yaml11_ambiguous"]

_YAML11_WORDS = frozenset(
    {"y", "yes", "n", "no", "true", "false", "on", "off", "null", "~", "<<", "="}
)
# Everything a YAML 1.1 resolver (or go-yaml v2) may read as a number or timestamp begins
# with a digit, a sign or a dot; such strings are always quoted.
_NUMBERISH = re.compile(r"^[-+.0-9]")
_PLAIN = re.compile(r"^[A-Za-z_/][A-Za-z0-9_./@%+=,()~-]*(?:[ :][A-Za-z0-9_./@%+=,()~-]+)*$")
Docs = Callable[[tuple[str, ...]], str | None]


def yaml11_ambiguous(text: str) -> bool:
    """Tell whether a YAML 1.1 reader could take ``text`` for a non-string scalar."""
    return text.lower() in _YAML11_WORDS or bool(_NUMBERISH.match(text)) or text == ""


def plain_safe(text: str) -> bool:
    """Tell whether ``text`` can be written as a plain YAML scalar and read back as itself."""
    if yaml11_ambiguous(text) or not _PLAIN.match(text):
        return False
    return ": " not in text and " #" not in text and not text.endswith(":")


def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        text = repr(value)
        return text if ("." in text or "e" in text or "n" in text) else text + ".0"
    if isinstance(value, str):
        return value if plain_safe(value) else json.dumps(value, ensure_ascii=False)
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


# --- Chart.yaml in Helm's canonical form -------------------------------------------------

_CHART_INDICATORS = set("-?:,[]{}#&*!|>'\"%@`")
_FOLD_WIDTH = 80


def _chart_scalar(text: str, column: int, *, quote: bool = False) -> str:
    """Render a Chart.yaml string the way go-yaml v2 (sigs.k8s.io/yaml) does."""
    if quote or yaml11_ambiguous(text):
        return json.dumps(text, ensure_ascii=False)
    if (
        text[0] in _CHART_INDICATORS
        or text != text.strip()
        or ": " in text
        or " #" in text
        or text.endswith(":")
        or any(ch in text for ch in "\n\t")
    ):
        return "'" + text.replace("'", "''") + "'"
    return _fold(text, column)


def _fold(text: str, column: int) -> str:
    """Break a plain scalar at spaces past column 80, as go-yaml's emitter does."""
    out: list[str] = []
    words = text.split(" ")
    for index, word in enumerate(words):
        if index:
            if column > _FOLD_WIDTH and word:
                out.append("\n  ")
                column = 2
            else:
                out.append(" ")
                column += 1
        out.append(word)
        column += len(word)
    return "".join(out)


_QUOTED_KEYS = frozenset({"version", "appVersion"})


def _is_empty(value: Any) -> bool:
    return value is None or value is False or (not isinstance(value, int) and not value)


def _canonical(value: Any, indent: int, key: str = "") -> list[str]:
    """Lines of a mapping or sequence in go-yaml v2 block style (sorted, unindented lists)."""
    pad = " " * indent
    lines: list[str] = []
    if isinstance(value, Mapping):
        for name in sorted(value):
            item = value[name]
            if _is_empty(item):
                continue
            head = f"{pad}{_chart_scalar(name, indent)}:"
            if isinstance(item, Mapping):
                lines += [head, *_canonical(item, indent + 2)]
            elif isinstance(item, list | tuple):
                lines += [head, *_canonical(item, indent)]
            else:
                lines.append(f"{head} {_canonical_scalar(item, len(head) + 1, name)}")
        return lines
    for item in value:
        if isinstance(item, Mapping):
            body = _canonical(item, indent + 2)
            lines += [f"{pad}- {body[0].lstrip()}", *body[1:]]
        else:
            lines.append(f"{pad}- {_canonical_scalar(item, indent + 2, key)}")
    return lines


def _canonical_scalar(value: Any, column: int, key: str) -> str:
    if isinstance(value, str):
        return _chart_scalar(value, column, quote=key in _QUOTED_KEYS)
    return _scalar(value)


def canonical_yaml(value: Mapping[str, Any]) -> str:
    """Write a mapping the way Helm's sigs.k8s.io/yaml does: sorted keys, empties dropped.

    ``version`` and ``appVersion`` strings are always double-quoted so that no reader
    takes them for numbers.
    """
    return "\n".join(_canonical(value, 0)) + "\n"


def chart_yaml(metadata: Mapping[str, Any]) -> str:
    """Write Chart.yaml metadata in Helm's canonical form.

    Keys are sorted at every level and empty fields dropped, as Helm's re-serialisation
    does; ``version`` and ``appVersion`` are double-quoted.
    """
    return canonical_yaml(metadata)
