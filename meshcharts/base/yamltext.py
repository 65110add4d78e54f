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
from typing import Any

import yaml

from meshcharts.gotemplate.yamlemit import marshal

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


# --- Chart.yaml and index.yaml in Helm's canonical form --------------------------------------

_QUOTED_KEYS = frozenset({"version", "appVersion"})
# Maps whose empty values are kept (Go map[string]string); every other map is a Go struct
# whose empty fields are dropped (``omitempty``).
_FREE_MAPS = frozenset({"annotations"})
_SURROGATES = re.compile("[\ud800-\udfff]")


def _yaml11_string(text: str) -> bool:
    """Whether PyYAML (YAML 1.1) reads ``text``, written plain, as a string."""
    # Every implicit resolver of PyYAML resolves to something else than a string.
    table = yaml.resolver.Resolver.yaml_implicit_resolvers
    candidates = table.get(text[:1], []) + table.get(None, [])
    return not any(regexp.match(text) for _, regexp in candidates)


def _restyle(text: str, style: str, key: str | None) -> str:
    """The deliberate differences from go-yaml's quoting (see the module documentation)."""
    if key in _QUOTED_KEYS or "\u2028" in text or "\u2029" in text:
        return "double"  # go-yaml writes line separators raw: every reader folds them
    if style == "plain" and not _yaml11_string(text):
        return "double"  # go-yaml writes it plain: a YAML 1.1 reader misreads it
    return style


def _is_empty(value: Any) -> bool:
    return value is None or value is False or (not isinstance(value, int) and not value)


def _go_fields(value: Any, *, keep_empty: bool = False) -> Any:
    """``value`` as Helm's structs hold it: empty fields dropped, lone surrogates replaced.

    Go's JSON encoding replaces a lone surrogate by U+FFFD; ``annotations`` is a string map,
    whose empty values Helm keeps.
    """
    if isinstance(value, str):
        return _SURROGATES.sub("\ufffd", value)
    if isinstance(value, Mapping):
        return {
            _go_fields(key): _go_fields(item, keep_empty=key in _FREE_MAPS)
            for key, item in value.items()
            if keep_empty or not _is_empty(item)
        }
    if isinstance(value, list | tuple):
        return [_go_fields(item) for item in value]
    return value


def canonical_yaml(value: Mapping[str, Any]) -> str:
    """Write a mapping the way Helm's sigs.k8s.io/yaml (go-yaml v2) does.

    Keys are in go-yaml's order; empty fields are dropped, except in ``annotations`` (a
    string map, whose empty values Helm keeps); strings are written in go-yaml's style by
    its one port (:func:`meshcharts.gotemplate.yamlemit.marshal`), with the few deliberate
    differences of the module documentation: ``version`` and ``appVersion`` strings are
    always double-quoted so that no reader takes them for numbers.
    """
    return marshal(_go_fields(value), restyle=_restyle)


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
