"""Reproducible .tgz packages and index.yaml, checked byte for byte against real Helm.

Oracle for the archive: Helm 4.1.4 ``helm package`` of the same files with every mtime pinned
(``os.utime``) writes, after gunzip, the same tar stream as :func:`tar_bytes` -- with one
caveat: Helm never copies Chart.yaml, it writes its own serialisation of the metadata, which
differs from ``chart_yaml`` only by the double quotes we put around ``version`` and
``appVersion``. So the stream comparison feeds ``tar_bytes`` the Chart.yaml bytes Helm
archived, and a separate assertion pins down that those bytes are ``chart_yaml`` output minus
the version quotes. (Helm 3.17.2 stamps entries with the wall clock, so it cannot serve as a
byte oracle; the compressed bytes can never match: Go's deflate is not zlib.)
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import os
import re
import subprocess
import sys
import tarfile
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import yaml
from tools import HELM4, run_helm

from meshcharts.base.yamltext import chart_yaml
from meshcharts.chart.assemble import ChartTree
from meshcharts.errors import UserError
from meshcharts.release.index import IndexEntry, index_yaml, timestamp
from meshcharts.release.package import (
    archive_name,
    gzip_bytes,
    package_chart,
    source_date_epoch,
    tar_bytes,
    tar_order,
)

PINNED = 1_700_000_000

METADATA: dict[str, Any] = {
    "apiVersion": "v2",
    "name": "demo",
    "version": "0.1.0",
    "appVersion": "1.20.0",
    "description": "Demo chart for the package tests",
    "type": "application",
    "icon": "https://istio.io/favicons/android-192x192.png",
    "kubeVersion": ">=1.25.0-0",
    "keywords": ["istio", "on"],
}

CRD = """\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  names:
    kind: Widget
    plural: widgets
  scope: Namespaced
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
"""

CONFIGMAP = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ include "demo.name" . }}-{{ .Values.suffix }}
data:
  chart: {{ .Chart.Name | quote }}
"""


def chart_files(
    metadata: Mapping[str, Any], extra: Mapping[str, bytes] | None = None
) -> dict[str, bytes]:
    files = {
        "README.md": b"# demo\n",
        "templates/configmap.yaml": CONFIGMAP.encode(),
        ".helmignore": b"# nothing is ignored\n",
        "values.schema.json": json.dumps(
            {
                "$schema": "http://json-schema.org/draft-07/schema#",
                "type": "object",
                "properties": {"suffix": {"type": "string"}},
            },
            indent=2,
        ).encode(),
        "templates/_helpers.tpl": b'{{- define "demo.name" -}}{{ .Release.Name }}{{- end }}\n',
        "crds/widgets.yaml": CRD.encode(),
        "templates/NOTES.txt": b"Installed {{ .Release.Name }}.\n",
        "templates/a/b.yaml": CONFIGMAP.replace("-{{", "-b-{{").encode(),
        "templates/a-c.yaml": CONFIGMAP.replace("-{{", "-ac-{{").encode(),
        "files/z.txt": "zähler ünïcode\n".encode(),
        "LICENSE": b"Apache-2.0\n",
        "values.yaml": b"suffix: cm\n",
        "Chart.yaml": chart_yaml(metadata).encode(),
    }
    files.update(extra or {})
    return files


def tree_of(metadata: Mapping[str, Any], extra: Mapping[str, bytes] | None = None) -> ChartTree:
    meta = dict(metadata)
    return ChartTree(meta["name"], meta["version"], meta, chart_files(meta, extra))


TREE = tree_of(METADATA)
EXPECTED_ORDER = [
    "Chart.yaml",
    "values.yaml",
    "values.schema.json",
    "templates/NOTES.txt",
    "templates/_helpers.tpl",
    "templates/a/b.yaml",  # walk order: the folder "a" sorts before "a-c.yaml"...
    "templates/a-c.yaml",  # ...although "a-c.yaml" < "a/b.yaml" as whole paths
    "templates/configmap.yaml",
    ".helmignore",
    "LICENSE",
    "README.md",
    "crds/widgets.yaml",
    "files/z.txt",
]

LONG_DIR = "files/" + "/".join(["deeply-nested-folder"] * 5)  # 110 characters
LONG_NAMES: dict[str, bytes] = {
    f"{LONG_DIR}/file.txt": b"prefix split\n",
    "files/" + "n" * 128 + ".txt": b"basename over 100 bytes: PAX\n",
    "files/ünïcode-ß.txt": b"non-ASCII: PAX\n",
    "files/日本/設定.yaml": b"k: v\n",
}


def members(data: bytes) -> list[tarfile.TarInfo]:
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
        return archive.getmembers()


def contents(data: bytes) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
        for member in archive.getmembers():
            handle = archive.extractfile(member)
            assert handle is not None
            out[member.name] = handle.read()
    return out


@pytest.fixture(autouse=True)
def _no_source_date_epoch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)


# --- format ----------------------------------------------------------------------------------


def test_gzip_header_is_fixed() -> None:
    data = package_chart(TREE)
    assert data[:10] == bytes.fromhex("1f8b0800000000 00 02ff".replace(" ", ""))
    raw = gzip.decompress(data)  # checks CRC32 and ISIZE
    assert raw == tar_bytes(TREE.files, root="demo", mtime=0)


def test_gzip_bytes_round_trip_and_level_9() -> None:
    payload = os.urandom(5000) + b"a" * 100_000
    data = gzip_bytes(payload)
    assert gzip.decompress(data) == payload
    assert data[8] == 2  # XFL: maximum compression
    assert len(data) < len(payload) - 90_000


def test_entry_order_and_no_directories() -> None:
    found = members(package_chart(TREE))
    assert [m.name for m in found] == [f"demo/{p}" for p in EXPECTED_ORDER]
    assert all(m.isfile() and m.type == tarfile.REGTYPE for m in found)


@pytest.mark.parametrize(
    ("paths", "expected"),
    [
        (["b", "Chart.yaml", "a"], ["Chart.yaml", "a", "b"]),
        (
            ["templates/x.yaml", "values.yaml", "Chart.lock", "values.schema.json", "Chart.yaml"],
            ["Chart.yaml", "Chart.lock", "values.yaml", "values.schema.json", "templates/x.yaml"],
        ),
        # A walk lists the folder "x" (and so x/...) before "x-y", "x.y" and "x0".
        (["x/y", "x-y", "x.y", "x/a/b", "x0"], ["x/a/b", "x/y", "x-y", "x.y", "x0"]),
        (
            ["templates/z", "a/templates/x", "templatesx"],
            ["templates/z", "a/templates/x", "templatesx"],
        ),
        (["B", "a", "_", "A"], ["A", "B", "_", "a"]),
    ],
)
def test_tar_order(paths: list[str], expected: list[str]) -> None:
    assert tar_order(paths) == expected


def test_header_fields() -> None:
    found = members(package_chart(TREE, mtime=12345))
    assert found, "the package has no members"
    for member in found:
        assert member.mode == 0o644
        assert (member.uid, member.gid, member.uname, member.gname) == (0, 0, "", "")
        assert member.mtime == 12345
        assert (member.devmajor, member.devminor) == (0, 0)


def test_end_of_archive_is_two_zero_blocks_without_record_padding() -> None:
    raw = tar_bytes(TREE.files, root="demo", mtime=0)
    expected = sum(512 + -(-len(d) // 512) * 512 for d in TREE.files.values()) + 1024
    assert len(raw) == expected
    assert len(raw) % 10240 != 0  # tarfile would pad to a 10240-byte record
    assert raw[-1024:] == bytes(1024)
    # The last member's data ends right before the two zero blocks.
    last = TREE.files[EXPECTED_ORDER[-1]]
    padded = -(-len(last) // 512) * 512
    assert raw[-1024 - padded : -1024 - padded + len(last)] == last


def test_raw_header_bytes() -> None:
    raw = tar_bytes({"Chart.yaml": b"x"}, root="c", mtime=8)
    header = raw[:512]
    assert header[:100] == b"c/Chart.yaml".ljust(100, b"\0")
    assert header[100:108] == b"0000644\0"
    assert header[108:124] == b"0000000\0" * 2
    assert header[124:136] == b"00000000001\0"
    assert header[136:148] == b"00000000010\0"
    assert header[148:156] == b"%06o\0 " % (sum(header[:148]) + 8 * 32 + sum(header[156:]))
    assert header[156:157] == b"0"
    assert header[257:265] == b"ustar\x0000"
    assert header[265:329] == bytes(64)
    assert header[329:345] == b"0000000\0" * 2
    assert raw[512:1024] == b"x" + bytes(511)
    assert len(raw) == 2048


def test_long_and_non_ascii_paths_read_back() -> None:
    tree = tree_of(METADATA, LONG_NAMES)
    assert len(f"demo/{LONG_DIR}/file.txt") > 100
    read = contents(package_chart(tree))
    assert read == {f"demo/{path}": data for path, data in tree.files.items()}


def test_long_path_uses_the_ustar_prefix() -> None:
    path = f"{LONG_DIR}/file.txt"
    raw = tar_bytes({path: b"x"}, root="demo", mtime=0)
    assert raw[:100].rstrip(b"\0") == b"file.txt"
    assert raw[345:500].rstrip(b"\0") == f"demo/{LONG_DIR}".encode()
    assert raw[156:157] == b"0"  # no PAX header needed


def go_ascii(text: str) -> bytes:
    """Go's tar writer drops the non-ASCII characters of names in ustar name fields."""
    return text.encode("ascii", errors="ignore")


@pytest.mark.parametrize(
    "path", ["files/ünïcode-ß.txt", "files/" + "n" * 128 + ".txt", "x" * 180 + "/" + "y" * 30]
)
def test_pax_path_record(path: str) -> None:
    raw = tar_bytes({path: b"data"}, root="demo", mtime=1234)
    assert raw[156:157] == b"x"
    folder, _, base = f"demo/{path}".rpartition("/")
    assert raw[:100].rstrip(b"\0") == go_ascii(f"{folder}/PaxHeaders.0/{base}")[:100]
    # The 'x' block: mode, owner and mtime 0, no device numbers (Go's writeRawFile).
    assert raw[100:124] == b"0000000\0" * 3
    assert raw[136:148] == b"00000000000\0"
    assert raw[257:265] == b"ustar\x0000"
    assert raw[265:512] == bytes(247)
    record = f" path=demo/{path}\n".encode()
    size = len(record) + len(str(len(record) + 3))
    assert raw[512 : 512 + size] == str(size).encode() + record
    entry = raw[1024:1536]
    assert entry[:100].rstrip(b"\0") == go_ascii(f"demo/{path}")[:100]
    assert entry[100:108] == b"0000644\0"
    assert entry[136:148] == b"00000002322\0"
    assert entry[329:345] == b"0000000\0" * 2
    assert entry[345:500] == bytes(155)
    with tarfile.open(fileobj=io.BytesIO(raw)) as archive:
        assert archive.getnames() == [f"demo/{path}"]


def test_archive_name() -> None:
    assert archive_name(TREE) == "demo-0.1.0.tgz"


# --- determinism -----------------------------------------------------------------------------


def test_same_tree_same_bytes() -> None:
    again = tree_of(dict(reversed(list(METADATA.items()))))
    shuffled = ChartTree("demo", "0.1.0", METADATA, dict(reversed(list(TREE.files.items()))))
    assert package_chart(TREE) == package_chart(again) == package_chart(shuffled)


CHILD = """
import base64, hashlib, json, sys
from meshcharts.chart.assemble import ChartTree
from meshcharts.release.package import package_chart
spec = json.load(sys.stdin)
files = {p: base64.b64decode(d) for p, d in spec["files"].items()}
print(hashlib.sha256(package_chart(ChartTree("demo", "0.1.0", spec["meta"], files))).hexdigest())
"""


def child_digest(tmp_path: Path, env: Mapping[str, str], umask: str) -> str:
    spec = json.dumps(
        {
            "meta": METADATA,
            "files": {p: base64.b64encode(d).decode() for p, d in TREE.files.items()},
        }
    )
    clean = {k: v for k, v in os.environ.items() if k != "SOURCE_DATE_EPOCH"}
    proc = subprocess.run(
        ["sh", "-c", f'umask {umask} && exec "$0" -c "$1"', sys.executable, CHILD],
        input=spec,
        env={**clean, **env},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    return proc.stdout.strip()


def test_bytes_do_not_depend_on_tz_umask_locale_or_hash_seed(tmp_path: Path) -> None:
    expected = hashlib.sha256(package_chart(TREE)).hexdigest()
    settings = [
        ({"TZ": "UTC", "PYTHONHASHSEED": "0"}, "022"),
        ({"TZ": "Asia/Kathmandu", "PYTHONHASHSEED": "1", "LC_ALL": "C"}, "077"),
        ({"TZ": "America/St_Johns", "PYTHONHASHSEED": "4242", "LC_ALL": "C.UTF-8"}, "000"),
    ]
    with ThreadPoolExecutor(len(settings)) as pool:
        digests = list(pool.map(lambda s: child_digest(tmp_path, *s), settings))
    assert digests == [expected] * len(settings)


def test_source_date_epoch_sets_every_mtime(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1718000000")
    data = package_chart(TREE)
    assert {m.mtime for m in members(data)} == {1718000000}
    assert data[4:8] == bytes(4)  # the gzip MTIME stays 0
    assert data != package_chart(TREE, mtime=0)
    assert package_chart(TREE, mtime=5) == package_chart(tree_of(METADATA), mtime=5)
    assert {m.mtime for m in members(package_chart(TREE, mtime=5))} == {5}


def test_without_source_date_epoch_mtime_is_zero() -> None:
    assert source_date_epoch() == 0
    assert {m.mtime for m in members(package_chart(TREE))} == {0}


@pytest.mark.parametrize("value", ["abc", "-1", "1.5", " 1", str(8**11), "1e9"])
def test_bad_source_date_epoch(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", value)
    with pytest.raises(UserError) as caught:
        package_chart(TREE)
    assert "SOURCE_DATE_EPOCH" in str(caught.value)


# --- Helm as the oracle ----------------------------------------------------------------------


def write_tree(folder: Path, files: Mapping[str, bytes], mtime: int) -> Path:
    for path, data in files.items():
        target = folder / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        os.utime(target, (mtime, mtime))
    return folder


def unquote_versions(text: str) -> str:
    return re.sub(r'^((?:version|appVersion): )"(.*)"$', r"\1\2", text, flags=re.M)


@pytest.mark.parametrize(
    "extra",
    [
        pytest.param({}, id="demo"),
        pytest.param({f"{LONG_DIR}/file.txt": b"x\n"}, id="ustar prefix split"),
        pytest.param({"files/" + "n" * 128 + ".txt": b"x\n"}, id="PAX for a 128-byte basename"),
        pytest.param(
            {"files/ünïcode-ß.txt": b"x\n", "files/日本/設定.yaml": b"k: v\n"},
            id="PAX for non-ASCII names",
        ),
        pytest.param({"x" * 180 + "/" + "y" * 30: b"x\n"}, id="PAX for an unsplittable path"),
        pytest.param(
            {"files/" + "ü" * 60 + ".txt": b"x\n", "files/" + "é" * 40 + "/" + "a" * 90: b"y\n"},
            id="PAX for long non-ASCII names",
        ),
    ],
)
def test_tar_stream_equals_helm4_package(
    helms: dict[str, Path], tmp_path: Path, extra: dict[str, bytes]
) -> None:
    tree = tree_of(METADATA, extra)
    source = write_tree(tmp_path / "src-folder", tree.files, PINNED)
    run_helm(helms[HELM4], "package", str(source), "-d", str(tmp_path / "out"))
    helm_raw = gzip.decompress((tmp_path / "out" / archive_name(tree)).read_bytes())
    with tarfile.open(fileobj=io.BytesIO(helm_raw)) as archive:
        handle = archive.extractfile("demo/Chart.yaml")
        assert handle is not None
        helm_chart_yaml = handle.read()
    # Helm re-serialises Chart.yaml: the same text as ours but with version/appVersion plain.
    assert helm_chart_yaml.decode() == unquote_versions(chart_yaml(METADATA))
    assert helm_chart_yaml != tree.files["Chart.yaml"]
    ours = tar_bytes({**tree.files, "Chart.yaml": helm_chart_yaml}, root="demo", mtime=PINNED)
    assert ours == helm_raw


@pytest.fixture(scope="module")
def packaged(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("packaged")
    path = folder / archive_name(TREE)
    path.write_bytes(package_chart(tree_of(METADATA, LONG_NAMES), mtime=1718000000))
    return path


@pytest.mark.parametrize(
    "command",
    [
        ("lint", "--strict"),
        ("template", "rel", "--include-crds"),
        ("show", "chart"),
    ],
    ids=" ".join,
)
def test_helm_accepts_our_package(helm: Path, packaged: Path, command: tuple[str, ...]) -> None:
    proc = run_helm(helm, *command[:2], str(packaged), *command[2:])
    if command[0] == "lint":
        assert "1 chart(s) linted, 0 chart(s) failed" in proc.stdout
        assert "[WARNING]" not in proc.stdout and "[ERROR]" not in proc.stdout
    elif command[0] == "template":
        docs = [d for d in yaml.safe_load_all(proc.stdout) if d]
        assert [d["kind"] for d in docs] == ["CustomResourceDefinition"] + ["ConfigMap"] * 3
        names = sorted(d["metadata"]["name"] for d in docs[1:])
        assert names == ["rel-ac-cm", "rel-b-cm", "rel-cm"]
    else:
        assert yaml.safe_load(proc.stdout) == yaml.safe_load(chart_yaml(METADATA))


# --- repository index ------------------------------------------------------------------------

INDEXED = [
    {**METADATA, "version": version}
    for version in ["0.2.0", "0.10.0", "1.0.0-rc.1", "0.1.0", "1.0.0"]
] + [{**METADATA, "name": "other", "version": "2.0.0", "appVersion": "1.10"}]


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[IndexEntry]]:
    folder = tmp_path_factory.mktemp("repo")
    entries = []
    for metadata in INDEXED:
        tree = tree_of(metadata)
        data = package_chart(tree)
        (folder / archive_name(tree)).write_bytes(data)
        entries.append(IndexEntry.for_package(metadata, archive_name(tree), data, timestamp(0)))
    return folder, entries


@pytest.fixture(scope="module")
def helm_indexes(
    helms: dict[str, Path],
    repo: tuple[Path, list[IndexEntry]],
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, str]:
    folder, _ = repo

    def index(version: str) -> str:
        copy = tmp_path_factory.mktemp(f"repo-{version}")
        for tgz in folder.glob("*.tgz"):
            (copy / tgz.name).write_bytes(tgz.read_bytes())
        run_helm(helms[version], "repo", "index", str(copy))
        return (copy / "index.yaml").read_text(encoding="utf-8")

    return {version: index(version) for version in helms}


def test_index_structure_equals_helms(
    helm_version: str, repo: tuple[Path, list[IndexEntry]], helm_indexes: dict[str, str]
) -> None:
    folder, entries = repo
    ours = yaml.safe_load(index_yaml(entries, generated=timestamp(0)))
    theirs = yaml.safe_load(helm_indexes[helm_version])
    assert ours.keys() == theirs.keys() == {"apiVersion", "entries", "generated"}
    assert ours["apiVersion"] == theirs["apiVersion"] == "v1"
    assert ours["entries"].keys() == theirs["entries"].keys() == {"demo", "other"}
    for name, versions in theirs["entries"].items():
        assert [e["version"] for e in ours["entries"][name]] == [e["version"] for e in versions]
        for mine, helms_entry in zip(ours["entries"][name], versions, strict=True):
            assert mine.keys() == helms_entry.keys()
            for key in mine.keys() - {"created"}:
                assert mine[key] == helms_entry[key], key
            url = mine["urls"][0]
            assert mine["digest"] == hashlib.sha256((folder / url).read_bytes()).hexdigest()
    assert [e["version"] for e in ours["entries"]["demo"]] == [
        "1.0.0", "1.0.0-rc.1", "0.10.0", "0.2.0", "0.1.0",
    ]  # fmt: skip
    assert ours["generated"] == "1970-01-01T00:00:00Z"


def test_index_bytes_equal_helms_but_timestamps_and_version_quotes(
    helm_version: str, repo: tuple[Path, list[IndexEntry]], helm_indexes: dict[str, str]
) -> None:
    _, entries = repo
    stamp = re.compile(r"^(\s*(?:created|generated): ).*$", flags=re.M)
    ours = stamp.sub(r"\1T", index_yaml(entries, generated=timestamp(0)))
    theirs = stamp.sub(r"\1T", helm_indexes[helm_version])
    ours = re.sub(r'^(\s*(?:version|appVersion): )"(.*)"$', r"\1\2", ours, flags=re.M)
    theirs = re.sub(r'^(\s*(?:version|appVersion): )"(.*)"$', r"\1\2", theirs, flags=re.M)
    assert ours == theirs


@pytest.mark.parametrize(
    ("epoch", "text"),
    [
        (0, "1970-01-01T00:00:00Z"),
        (1718000000, "2024-06-10T06:13:20Z"),
        (PINNED, "2023-11-14T22:13:20Z"),
    ],
)
def test_timestamp(epoch: int, text: str) -> None:
    assert timestamp(epoch) == text
