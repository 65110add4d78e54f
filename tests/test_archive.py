"""The one package reader: bounded inflation, and what a package may hold."""

from __future__ import annotations

import gzip
import io
import tarfile

import pytest

from meshcharts.base.archive import ArchiveError, inflate, unpack
from meshcharts.base.limits import LimitError


@pytest.mark.parametrize("size", [0, 1, 255 * 1024, 256 * 1024, 3 * 1024 * 1024 + 17])
def test_inflate_returns_every_byte_whatever_the_chunking(size: int) -> None:
    data = bytes(range(256)) * (size // 256) + b"\0" * (size % 256)
    assert inflate(gzip.compress(data), "x") == data


def test_inflate_reads_every_member_and_refuses_truncation() -> None:
    assert inflate(gzip.compress(b"a") + gzip.compress(b"b"), "x") == b"ab"
    with pytest.raises(ArchiveError, match="truncated"):
        inflate(gzip.compress(b"x" * 100_000)[:-30], "x")
    with pytest.raises(LimitError, match="unpacks to more than"):
        inflate(gzip.compress(b"\0" * 5000), "x", limit=4096)


def test_unpack_keeps_the_files_below_the_chart_folder() -> None:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        for name, body in [
            ("istio/Chart.yaml", b"name: istio\n"),
            ("istio/templates/a.yaml", b"a"),
        ]:
            info = tarfile.TarInfo(name)
            info.size = len(body)
            tar.addfile(info, io.BytesIO(body))
    package = unpack(gzip.compress(raw.getvalue()), "p.tgz")
    assert package.top == "istio"
    assert package.files == {"Chart.yaml": b"name: istio\n", "templates/a.yaml": b"a"}
