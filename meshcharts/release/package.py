"""Byte-reproducible Helm packages: a hand-written ustar stream in a hand-written gzip.

``tarfile`` and ``gzip`` put the clock, the file name, the platform and padding into
their output, so both formats are written here directly, with every variable field fixed:
entries ``<chart>/<path>`` in Helm's order, mode 0644, uid/gid 0, empty owner names,
mtime ``SOURCE_DATE_EPOCH`` (or 0), no directory entries, no record padding; names that
ustar cannot hold get a PAX ``path`` record, byte for byte as Go's ``archive/tar`` writes
it. Gzip has MTIME 0, no file name, OS 255. The same tree gives the same bytes on every
machine that uses the same zlib; the tar stream equals Helm 4's for the same mtimes.
"""

from __future__ import annotations

import os
import struct
import zlib
from collections.abc import Iterator, Mapping

from meshcharts.chart.assemble import ChartTree
from meshcharts.errors import UserError

__all__ = [
    "archive_name",
    "gzip_bytes",
    "package_chart",
    "source_date_epoch",
    "tar_bytes",
    "tar_order",
]

_BLOCK = 512
_FIRST = ("Chart.yaml", "Chart.lock", "values.yaml", "values.schema.json")


def source_date_epoch() -> int:
    """The timestamp for archive entries: ``SOURCE_DATE_EPOCH`` if set, else 0."""
    raw = os.environ.get("SOURCE_DATE_EPOCH", "0")
    if not raw.isdigit() or int(raw) >= 8**11:
        raise UserError(f"SOURCE_DATE_EPOCH={raw}", "not a non-negative integer of seconds")
    return int(raw)


def tar_order(paths: list[str]) -> list[str]:
    """Order files as ``helm package`` does: fixed files, templates/, then the rest.

    Within a group, files follow a directory walk that sorts names per folder, which
    is the order of the split paths.
    """

    def walk_key(path: str) -> tuple[str, ...]:
        return tuple(path.split("/"))

    first = [p for p in _FIRST if p in paths]
    templates = sorted((p for p in paths if p.startswith("templates/")), key=walk_key)
    rest = sorted(
        (p for p in paths if p not in first and not p.startswith("templates/")), key=walk_key
    )
    return first + templates + rest


def _octal(value: int, width: int) -> bytes:
    return b"%0*o\0" % (width - 1, value)


def _split_name(name: bytes) -> tuple[bytes, bytes] | None:
    """Split a long name into ustar (prefix, name) at a '/', or None if impossible."""
    if len(name) <= 100:
        return b"", name
    for index in range(len(name) - 1, 0, -1):
        if name[index : index + 1] == b"/" and index <= 155 and len(name) - index - 1 <= 100:
            return name[:index], name[index + 1 :]
    return None


def _ascii(name: str) -> bytes:
    """A name for a ustar name field: Go's tar writer drops non-ASCII characters."""
    return "".join(c for c in name if c.isascii() and c != "\0").encode()


def _header(name: bytes, size: int, mtime: int, prefix: bytes = b"") -> bytes:
    """A ustar header for a regular file, as Go's ``archive/tar`` writes it."""
    return _checksummed(
        [
            name.ljust(100, b"\0"),
            _octal(0o644, 8),
            _octal(0, 8),
            _octal(0, 8),
            _octal(size, 12),
            _octal(mtime, 12),
            b" " * 8,
            b"0",
            b"\0" * 100,
            b"ustar\x0000",
            b"\0" * 64,
            _octal(0, 8),
            _octal(0, 8),
            prefix.ljust(155, b"\0"),
            b"\0" * 12,
        ]
    )


def _pax_header(name: bytes, size: int) -> bytes:
    """The header of a PAX 'x' block: Go writes mode, mtime and owner 0, no device numbers."""
    return _checksummed(
        [
            name.ljust(100, b"\0"),
            _octal(0, 8),
            _octal(0, 8),
            _octal(0, 8),
            _octal(size, 12),
            _octal(0, 12),
            b" " * 8,
            b"x",
            b"\0" * 100,
            b"ustar\x0000",
            b"\0" * 247,
        ]
    )


def _checksummed(fields: list[bytes]) -> bytes:
    header = b"".join(fields)
    assert len(header) == _BLOCK
    checksum = b"%06o\0 " % sum(header)
    return header[:148] + checksum + header[156:]


def _pax_record(key: str, value: str) -> bytes:
    body = f" {key}={value}\n".encode()
    length = len(body)
    while len(str(length).encode()) + len(body) != length:
        length = len(str(length).encode()) + len(body)
    return str(length).encode() + body


def _padded(data: bytes) -> bytes:
    return data + b"\0" * (-len(data) % _BLOCK)


def _entries(name: str, data: bytes, mtime: int) -> Iterator[bytes]:
    split = _split_name(name.encode()) if name.isascii() else None
    if split is None:
        # Go's tar writer falls back to a PAX 'path' record holding the real name; the
        # ustar name fields get the name with its non-ASCII characters dropped, truncated.
        record = _pax_record("path", name)
        folder, _, base = name.rpartition("/")
        pax_name = _ascii(f"{folder}/PaxHeaders.0/{base}")[:100].rstrip(b"/")
        yield _pax_header(pax_name, len(record))
        yield _padded(record)
        split = (b"", _ascii(name)[:100])
    prefix, short = split
    yield _header(short, len(data), mtime, prefix=prefix)
    yield _padded(data)


def tar_bytes(files: Mapping[str, bytes], *, root: str, mtime: int) -> bytes:
    """The uncompressed ustar stream of ``files`` under the folder ``root``."""
    parts: list[bytes] = []
    for path in tar_order(list(files)):
        parts.extend(_entries(f"{root}/{path}", files[path], mtime))
    parts.append(b"\0" * (2 * _BLOCK))
    return b"".join(parts)


def gzip_bytes(data: bytes) -> bytes:
    """Gzip ``data`` at level 9 with a fixed header (no name, MTIME 0, OS 255)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    body = compressor.compress(data) + compressor.flush()
    trailer = struct.pack("<II", zlib.crc32(data) & 0xFFFFFFFF, len(data) & 0xFFFFFFFF)
    return b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff" + body + trailer


def archive_name(tree: ChartTree) -> str:
    """``<name>-<version>.tgz``, the file name Helm and chart repositories expect."""
    return f"{tree.name}-{tree.version}.tgz"


def package_chart(tree: ChartTree, *, mtime: int | None = None) -> bytes:
    """The .tgz bytes of a chart tree."""
    stamp = source_date_epoch() if mtime is None else mtime
    return gzip_bytes(tar_bytes(tree.files, root=tree.name, mtime=stamp))
