from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import meshcharts.release.build
from meshcharts import build_packages, load_profiles, write_build
from meshcharts.errors import UserError


def _run_build(out: Path, *, env: dict[str, str] | None = None, umask: int | None = None) -> None:
    script = (
        "import os, sys\n"
        f"{f'os.umask({umask})' if umask is not None else ''}\n"
        "from meshcharts.cli import main\n"
        f"sys.argv = ['meshcharts', 'build', '--build-dir', {str(out)!r}]\n"
        "main()\n"
    )
    # The source commit is a build input; pin it so that a commit made meanwhile cannot count.
    pinned = {"SOURCE_COMMIT": "1" * 40}
    subprocess.run(
        [sys.executable, "-c", script],
        check=True,
        env={**os.environ, **pinned, **(env or {})},
        capture_output=True,
    )


def _digests(out: Path) -> dict[str, str]:
    return {
        p.relative_to(out).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(out.rglob("*"))
        if p.is_file()
    }


def test_build_is_byte_identical_across_runs_clocks_timezones_umask_and_folders(
    tmp_path: Path,
) -> None:
    _run_build(tmp_path / "a")
    _run_build(tmp_path / "deeper" / "b", env={"TZ": "Pacific/Kiritimati"}, umask=0o077)
    _run_build(tmp_path / "c", env={"TZ": "America/Los_Angeles", "LC_ALL": "C"}, umask=0o002)
    first = _digests(tmp_path / "a")
    assert first == _digests(tmp_path / "deeper" / "b") == _digests(tmp_path / "c")
    assert len([p for p in first if p.endswith(".tgz")]) >= 4


def test_build_json_lists_every_package_with_its_digest(tmp_path: Path) -> None:
    _run_build(tmp_path / "out")
    record = json.loads((tmp_path / "out" / "build.json").read_text())
    packages = record["packages"]
    assert {(p["profile"], p["chart"]) for p in packages} >= {
        ("default", "istio"),
        ("default", "istio-init"),
        ("minimal", "istio"),
        ("minimal", "istio-init"),
    }
    for package in packages:
        assert set(package) == {
            "profile",
            "chart",
            "version",
            "app_version",
            "revision",
            "namespace",
            "path",
            "sha256",
        }
        data = (tmp_path / "out" / package["path"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == package["sha256"]
        assert (
            package["path"] == f"{package['profile']}/{package['chart']}-{package['version']}.tgz"
        )
        stable = package["revision"] == ""
        assert package["namespace"] == ("istio-system" if stable else "istio-system-canary")
        assert package["version"] == ("1.0.6" if stable else "1.0.6-canary")


def test_index_digests_and_pinned_timestamps(tmp_path: Path) -> None:
    _run_build(tmp_path / "out", env={"SOURCE_DATE_EPOCH": "1700000000"})
    out = tmp_path / "out"
    index_paths = sorted(out.glob("*/index.yaml"))
    assert [p.parent.name for p in index_paths] == sorted(load_profiles().builtin)
    assert not (out / "index.yaml").exists()
    assert index_paths, "no index.yaml written"
    for index_path in index_paths:
        index = yaml.safe_load(index_path.read_text())
        assert index["generated"] == "2023-11-14T22:13:20Z"
        assert index["entries"], f"{index_path} has no entries"
        for versions in index["entries"].values():
            assert versions, f"{index_path} lists a chart without versions"
            for entry in versions:
                package = index_path.parent / entry["urls"][0]
                assert entry["digest"] == hashlib.sha256(package.read_bytes()).hexdigest()
                assert entry["created"] == "2023-11-14T22:13:20Z"


def test_failed_build_leaves_previous_output_untouched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    profiles = load_profiles()
    write_build(build_packages(profiles, ["minimal"], version="1.0.6"), out)
    before = _digests(out)

    def explode(root: Path, files: dict[str, bytes]) -> None:
        (root / "partial.tgz").write_bytes(b"half")
        raise OSError("disk full")

    monkeypatch.setattr(meshcharts.release.build, "write_files", explode)
    with pytest.raises(UserError, match=r"--build-dir .*/out: cannot be written: disk full"):
        write_build(build_packages(profiles, ["default"], version="2.0.0"), out)
    assert _digests(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_user_error_writes_nothing(tmp_path: Path) -> None:
    with pytest.raises(UserError):
        build_packages(load_profiles(), ["default", "nope"], version="1.0.6")
    assert not list(tmp_path.iterdir())


def test_version_is_recorded_in_chart_and_file_name() -> None:
    packages = build_packages(load_profiles(), ["minimal"], version="1.1.0-rc.1")
    assert [p.path for p in packages] == [
        "minimal/istio-init-1.1.0-rc.1.tgz",
        "minimal/istio-1.1.0-rc.1.tgz",
        "minimal/istio-1.1.0-rc.1.canary.tgz",
    ]
    for package in packages:
        chart = yaml.safe_load(package.tree.files["Chart.yaml"])
        assert chart["version"] == package.tree.version
        assert chart["appVersion"] == "1.0.6"
        assert chart["kubeVersion"].endswith("-0")
