"""Bounds on everything meshcharts reads from outside: files, archives, YAML, JSON, replies.

Outside data is hostile until bounded: an environment file, a package, a ``build.json``,
an ``index.yaml`` or a registry's reply may come from anyone. Every reader checks these
limits before it builds anything large and fails with a :class:`LimitError` naming the
input and the limit, so no input of under a megabyte can make a command use gigabytes.
The archive limits are Helm's own (``MaxDecompressedChartSize``, ``MaxDecompressedFileSize``
of ``helm.sh/helm/v3/pkg/chart/loader``), so meshcharts accepts no package Helm refuses.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any, Final

from meshcharts.errors import UserError

__all__ = [
    "MAX_ARCHIVE_ENTRIES",
    "MAX_ARCHIVE_FILE",
    "MAX_ARCHIVE_SIZE",
    "MAX_DEPTH",
    "MAX_DOCUMENTS",
    "MAX_FILE",
    "MAX_PACKAGE",
    "MAX_RESPONSE",
    "MAX_YAML_NODES",
    "LimitError",
    "check_depth",
    "load_json",
    "read_limited",
    "sizes",
]

MiB: Final = 1024 * 1024

MAX_FILE: Final = 16 * MiB
"""An environment, values, index, build.json or meshcharts.toml file."""

MAX_PACKAGE: Final = 32 * MiB
"""A chart package (.tgz) as stored: charts are kilobytes; Helm's own charts a few MiB."""

MAX_ARCHIVE_SIZE: Final = 100 * MiB
"""Everything a package unpacks to (Helm: ``MaxDecompressedChartSize``)."""

MAX_ARCHIVE_FILE: Final = 5 * MiB
"""One file in a package (Helm: ``MaxDecompressedFileSize``)."""

MAX_ARCHIVE_ENTRIES: Final = 10_000
"""Entries in a package (a chart has tens)."""

MAX_YAML_NODES: Final = 1_000_000
"""Nodes of one YAML document once its aliases are expanded (a billion-laughs file has
billions from a few hundred bytes; the largest values file here has a few thousand)."""

MAX_DOCUMENTS: Final = 10_000
"""Documents of one multi-document YAML file (a control plane's manifest has a few hundred)."""

MAX_DEPTH: Final = 100
"""Nesting of maps and lists in YAML or JSON, and of ``--set`` keys."""

MAX_RESPONSE: Final = 16 * MiB
"""A registry reply that meshcharts reads whole (manifests, tag lists, tokens)."""


class LimitError(UserError):
    """An input exceeds one of the limits above: the subject names it, the problem the limit."""


def sizes(count: int) -> str:
    """``16 MiB`` or ``512 bytes``, for messages."""
    return f"{count // MiB} MiB" if count >= MiB and count % MiB == 0 else f"{count} bytes"


def read_limited(path: Path, limit: int = MAX_FILE, *, what: str | None = None) -> bytes:
    """The bytes of the regular file ``path``, refused beyond ``limit``.

    A FIFO, a device or a folder is refused before it is opened for reading (reading
    ``/dev/zero`` would never end).

    Raises:
        LimitError: the file is larger than ``limit``.
        UserError: it is missing, not a regular file, or cannot be read.
    """
    subject = what or str(path)
    try:
        info = path.stat()
    except OSError as exc:
        raise UserError(subject, f"cannot be read: {exc.strerror or exc}") from None
    if not stat.S_ISREG(info.st_mode):
        raise UserError(subject, "is not a regular file")
    if info.st_size > limit:
        raise LimitError(subject, f"is larger than the limit of {sizes(limit)}")
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOCTTY", 0))
        with os.fdopen(fd, "rb") as stream:
            data = stream.read(limit + 1)
    except OSError as exc:
        raise UserError(subject, f"cannot be read: {exc.strerror or exc}") from None
    if len(data) > limit:  # it grew while we read it
        raise LimitError(subject, f"is larger than the limit of {sizes(limit)}")
    return data


def check_depth(text: str, subject: str, limit: int = MAX_DEPTH) -> None:
    """Refuse JSON text nested deeper than ``limit`` (counted without recursion)."""
    depth = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > limit:
                raise LimitError(subject, f"is nested deeper than {limit} levels")
        elif char in "]}":
            depth -= 1


def load_json(data: bytes, subject: str) -> Any:
    """Parse JSON bytes that are bounded in size, refusing deep nesting and non-JSON numbers.

    Raises:
        LimitError: nested deeper than :data:`MAX_DEPTH`.
        UserError: not UTF-8 JSON, or it holds NaN or an infinity.
    """
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UserError(subject, f"is not UTF-8: {exc.reason}") from None
    check_depth(text, subject)

    def refuse(name: str) -> None:
        raise ValueError(f"{name} is not a JSON number")

    try:
        return json.loads(text, parse_constant=refuse)
    except ValueError as exc:
        raise UserError(subject, f"is not valid JSON: {exc}") from None
