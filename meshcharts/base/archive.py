"""Reading chart packages (``.tgz``) that anyone may have written, within Helm's limits.

The gzip stream is inflated in bounded steps, so a small package that would unpack to
gigabytes fails at the limit, not after; the tar entries are then read from memory. A
package holds regular files under one top folder: absolute paths, ``..``, links, devices
and entries beyond the limits of :mod:`meshcharts.base.limits` are refused, never followed.
"""

from __future__ import annotations

import io
import tarfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Final

from meshcharts.base.limits import (
    MAX_ARCHIVE_ENTRIES,
    MAX_ARCHIVE_FILE,
    MAX_ARCHIVE_SIZE,
    MAX_PACKAGE,
    LimitError,
    read_limited,
    sizes,
)
from meshcharts.errors import UserError

__all__ = ["ArchiveError", "Package", "inflate", "read_package", "unpack"]

_CHUNK: Final = 256 * 1024
# The tar stream carries a 512-byte header per entry and pads each file to 512 bytes.
_TAR_SLACK: Final = 1024 * (MAX_ARCHIVE_ENTRIES + 2)


class ArchiveError(UserError):
    """A file is not a chart package that meshcharts (and Helm) would accept."""


@dataclass(frozen=True)
class Package:
    """An unpacked package: its top folder (the chart name) and its files below it."""

    top: str
    files: dict[str, bytes]


def inflate(data: bytes, subject: str, limit: int = MAX_ARCHIVE_SIZE + _TAR_SLACK) -> bytes:
    """Gunzip ``data`` (one or more members), refusing more than ``limit`` bytes of output.

    Raises:
        LimitError: the stream inflates beyond ``limit``.
        ArchiveError: it is not gzip data.
    """
    out: list[bytes] = []
    total = 0
    rest = data
    try:
        while rest:
            inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
            pending = rest
            while not inflater.eof:
                # With max_length, zlib may hold output for input it has already taken:
                # calling again with what is left (even nothing) drains it.
                chunk = inflater.decompress(pending, _CHUNK)
                pending = inflater.unconsumed_tail
                if not chunk and not pending and not inflater.eof:
                    raise ArchiveError(subject, "not a chart package (.tgz): truncated gzip data")
                total += len(chunk)
                if total > limit:
                    raise LimitError(subject, f"unpacks to more than {sizes(MAX_ARCHIVE_SIZE)}")
                out.append(chunk)
            rest = inflater.unused_data.lstrip(b"\0")
    except zlib.error as exc:
        raise ArchiveError(subject, f"not a chart package (.tgz): {exc}") from None
    return b"".join(out)


def _member_path(member: tarfile.TarInfo, subject: str) -> PurePosixPath:
    path = PurePosixPath(member.name)
    if path.is_absolute() or ".." in path.parts or not path.parts:
        raise ArchiveError(subject, f"entry {member.name!r} points outside the chart")
    return path


def unpack(data: bytes, subject: str) -> Package:
    """Unpack package bytes into a :class:`Package`, checking every entry.

    Raises:
        LimitError: too large, too many entries, or a file beyond the per-file limit.
        ArchiveError: not a gzipped tar of one chart folder, or an entry that is a link,
            a device, an absolute path or one with ``..``.
    """
    tar_bytes = inflate(data, subject)
    files: dict[str, bytes] = {}
    tops: set[str] = set()
    total = 0
    try:
        with tarfile.open(fileobj=io.BytesIO(tar_bytes), mode="r:") as archive:
            for count, member in enumerate(archive, 1):
                if count > MAX_ARCHIVE_ENTRIES:
                    raise LimitError(subject, f"has more than {MAX_ARCHIVE_ENTRIES} entries")
                path = _member_path(member, subject)
                if member.isdir():
                    continue
                if not member.isfile():
                    raise ArchiveError(
                        subject, f"entry {member.name!r} is not a regular file (links refused)"
                    )
                if member.size > MAX_ARCHIVE_FILE:
                    raise LimitError(
                        subject, f"entry {member.name!r} is larger than {sizes(MAX_ARCHIVE_FILE)}"
                    )
                total += member.size
                if total > MAX_ARCHIVE_SIZE:
                    raise LimitError(subject, f"unpacks to more than {sizes(MAX_ARCHIVE_SIZE)}")
                handle = archive.extractfile(member)
                body = handle.read() if handle is not None else b""
                tops.add(path.parts[0])
                if len(path.parts) > 1:
                    files[PurePosixPath(*path.parts[1:]).as_posix()] = body
    except tarfile.TarError as exc:
        raise ArchiveError(subject, f"not a chart package (.tgz): {exc}") from None
    if len(tops) != 1:
        raise ArchiveError(subject, "not a chart package: expected one top-level chart folder")
    return Package(tops.pop(), files)


def read_package(path: Path) -> Package:
    """Read and unpack the package file ``path`` (see :func:`unpack`).

    Raises:
        UserError: the file is missing, too large, or not an acceptable package.
    """
    return unpack(read_limited(path, MAX_PACKAGE), str(path))
