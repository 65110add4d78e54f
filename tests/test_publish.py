"""Publishing to a chart-repository folder: idempotent, merge-preserving, served to both Helms."""

from __future__ import annotations

import functools
import hashlib
import json
import shutil
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml
from tools import HELM3, HELM4, run_helm
from typer.testing import CliRunner

import meshcharts.base.fsutil
from meshcharts import build_packages, load_profiles, write_build
from meshcharts.base.fsutil import OutputError
from meshcharts.cli import app
from meshcharts.errors import UserError
from meshcharts.inputs.setvalues import SetArg
from meshcharts.publish.publisher import load_build, merge_index, publish, publish_folder
from meshcharts.release.index import index_yaml


def make_build(
    out: Path, version: str = "1.0.6", sets: tuple[str, ...] = ()
) -> list[dict[str, str]]:
    packages = build_packages(
        load_profiles(), ["default"], version=version, sets=[SetArg(s) for s in sets]
    )
    write_build(packages, out)
    records: list[dict[str, str]] = json.loads((out / "build.json").read_text())["packages"]
    return records


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("builds")
    make_build(root / "v106")
    make_build(root / "v106-changed", sets=("pilot.replicaCount=3",))
    make_build(root / "v107", version="1.0.7")
    make_build(root / "v105", version="1.0.5")
    return {p.name: p for p in root.iterdir()}


def helm_env(home: Path) -> dict[str, str]:
    return {
        "HELM_CACHE_HOME": str(home / "cache"),
        "HELM_CONFIG_HOME": str(home / "config"),
        "HELM_DATA_HOME": str(home / "data"),
    }


def is_subsequence(old: list[str], new: list[str]) -> bool:
    it = iter(new)
    return all(line in it for line in old)


def test_publish_twice_refuse_force(builds: dict[str, Path], tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    first = publish(builds["v106"], str(repo), profiles=["default"])
    assert [r.action for r in first] == ["copied"] * 3
    index = (repo / "index.yaml").read_bytes()
    again = publish(builds["v106"], str(repo), profiles=["default"])
    assert [r.action for r in again] == ["unchanged"] * 3
    assert (repo / "index.yaml").read_bytes() == index

    args = [
        "publish",
        "--build-dir",
        str(builds["v106-changed"]),
        "--to",
        str(repo),
        "-p",
        "default",
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    assert "istio 1.0.6" in result.output and "different package" in result.output
    assert (repo / "index.yaml").read_bytes() == index
    assert (repo / "istio-1.0.6.tgz").read_bytes() == (
        builds["v106"] / "default/istio-1.0.6.tgz"
    ).read_bytes()

    result = CliRunner().invoke(app, [*args, "--force"])
    assert result.exit_code == 0, result.output
    entries = yaml.safe_load((repo / "index.yaml").read_text())["entries"]
    changed = {
        r["path"]: r["sha256"]
        for r in json.loads((builds["v106-changed"] / "build.json").read_text())["packages"]
    }
    assert (
        next(e for e in entries["istio"] if e["version"] == "1.0.6")["digest"]
        == changed["default/istio-1.0.6.tgz"]
    )
    assert (
        hashlib.sha256((repo / "istio-1.0.6.tgz").read_bytes()).hexdigest()
        == changed["default/istio-1.0.6.tgz"]
    )


def test_merge_keeps_helm_written_entries_byte_for_byte(
    builds: dict[str, Path], helms: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    for package in (builds["v106"] / "default").glob("*.tgz"):
        shutil.copyfile(package, repo / package.name)
    run_helm(helms[HELM4], "repo", "index", str(repo), env=helm_env(tmp_path / "h"))
    old = (repo / "index.yaml").read_text()
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1000")
    results = publish(builds["v107"], str(repo), profiles=["default"])
    assert [r.action for r in results] == ["copied"] * 3
    new = (repo / "index.yaml").read_text()
    old_lines = [line for line in old.splitlines() if not line.startswith("generated:")]
    assert is_subsequence(old_lines, new.splitlines())
    assert new.endswith('generated: "1970-01-01T00:16:40Z"\n')
    loaded = yaml.safe_load(new)["entries"]
    assert [e["version"] for e in loaded["istio"]] == [
        "1.0.7",
        "1.0.7-canary",
        "1.0.6",
        "1.0.6-canary",
    ]
    assert loaded["istio"][0]["created"] == "1970-01-01T00:16:40Z"
    # Publishing the old packages again is a no-op: the Helm-written entries stay as they were.
    again = publish(builds["v106"], str(repo), profiles=["default"])
    assert [r.action for r in again] == ["unchanged"] * 3
    assert (repo / "index.yaml").read_text() == new


def test_lower_version_refused(builds: dict[str, Path], tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    publish(builds["v107"], str(repo), profiles=["default"])
    result = CliRunner().invoke(
        app, ["publish", "--build-dir", str(builds["v105"]), "--to", str(repo), "-p", "default"]
    )
    assert result.exit_code == 2
    assert "1.0.5: is lower than" in result.output and "1.0.7" in result.output
    assert not list(repo.glob("*1.0.5*"))


def test_interrupted_index_write_then_rerun(
    builds: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Packages are written first and index.yaml last; a failed index write is completed by a rerun."""
    repo = tmp_path / "repo"
    publish(builds["v106"], str(repo), profiles=["default"])
    index = (repo / "index.yaml").read_bytes()
    real_write = meshcharts.base.fsutil.write_atomic

    def fail_on_index(path: Path, data: bytes, **options: Any) -> None:
        if path.name == "index.yaml":
            raise OutputError(str(path), "cannot be written: No space left on device")
        real_write(path, data, **options)

    monkeypatch.setattr("meshcharts.publish.publisher.write_atomic", fail_on_index)
    with pytest.raises(UserError, match="index.yaml: cannot be written"):
        publish_folder(load_build(builds["v107"], ["default"]), repo)
    assert (repo / "istio-1.0.7.tgz").is_file()  # packages went first
    assert (repo / "index.yaml").read_bytes() == index  # the old index is intact
    monkeypatch.setattr("meshcharts.publish.publisher.write_atomic", real_write)
    results = publish(builds["v107"], str(repo), profiles=["default"])
    assert [r.action for r in results] == ["copied"] * 3
    entries = yaml.safe_load((repo / "index.yaml").read_text())["entries"]
    assert len(entries["istio"]) == 4 and len(entries["istio-init"]) == 2
    for entry in entries["istio"] + entries["istio-init"]:
        data = (repo / entry["urls"][0]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["digest"]
    assert not [p for p in repo.iterdir() if p.name.startswith(".")]


@pytest.mark.parametrize("kind", ["folder", "link"])
def test_an_index_that_is_not_a_file_is_refused_before_any_write(
    builds: dict[str, Path], tmp_path: Path, kind: str
) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    if kind == "folder":
        (repo / "index.yaml").mkdir()
    else:
        (tmp_path / "elsewhere.yaml").write_text("apiVersion: v1\nentries: {}\n")
        (repo / "index.yaml").symlink_to(tmp_path / "elsewhere.yaml")
    with pytest.raises(UserError, match="index.yaml: is not a regular file"):
        publish(builds["v107"], str(repo), profiles=["default"])
    assert sorted(p.name for p in repo.iterdir()) == ["index.yaml"]


def test_every_profile_gets_its_own_repository(tmp_path: Path) -> None:
    out = tmp_path / "out"
    write_build(build_packages(load_profiles(), ["default", "minimal"], version="1.0.6"), out)
    repo = tmp_path / "repo"
    publish(out, str(repo))
    assert sorted(p.name for p in repo.iterdir()) == ["default", "minimal"]
    for profile in ("default", "minimal"):
        entries = yaml.safe_load((repo / profile / "index.yaml").read_text())["entries"]
        assert entries["istio"][0]["urls"] == ["istio-1.0.6.tgz"]
    with pytest.raises(UserError, match="more than one profile"):
        publish_folder(load_build(out), tmp_path / "flat")
    with pytest.raises(UserError, match="--profile nope"):
        publish(out, str(repo), profiles=["nope"])


def test_provenance_files_travel(builds: dict[str, Path], tmp_path: Path) -> None:
    source = tmp_path / "signed"
    shutil.copytree(builds["v106"], source)
    (source / "default/istio-1.0.6.tgz.prov").write_bytes(b"signed body\n")
    repo = tmp_path / "repo"
    publish(source, str(repo), profiles=["default"])
    assert (repo / "istio-1.0.6.tgz.prov").read_bytes() == b"signed body\n"
    assert not (repo / "istio-init-1.0.6.tgz.prov").exists()


def test_merge_index_rewrites_unknown_layouts() -> None:
    assert merge_index("{apiVersion: v1, entries: {}}", [], "x") == index_yaml([], generated="x")


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    root = tmp_path / "served"
    root.mkdir()
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1})
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", root
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def test_both_helms_pull_from_the_served_folder(
    builds: dict[str, Path], helms: dict[str, Path], served: tuple[str, Path], tmp_path: Path
) -> None:
    url, root = served
    publish(builds["v106"], str(root), profiles=["default"])
    publish(builds["v107"], str(root), profiles=["default"])
    records = [
        r
        for build in ("v106", "v107")
        for r in json.loads((builds[build] / "build.json").read_text())["packages"]
    ]
    assert records, "the builds list no packages"
    for helm_version in (HELM3, HELM4):
        env = helm_env(tmp_path / helm_version)
        run_helm(helms[helm_version], "repo", "add", "local", url, env=env, timeout=60)
        for record in records:
            dest = tmp_path / f"{helm_version}-{record['version']}"
            dest.mkdir(exist_ok=True)
            run_helm(
                helms[helm_version],
                "pull",
                f"local/{record['chart']}",
                "--version",
                record["version"],
                "-d",
                str(dest),
                env=env,
                timeout=60,
            )
            data = (dest / Path(record["path"]).name).read_bytes()
            assert hashlib.sha256(data).hexdigest() == record["sha256"], (helm_version, record)
