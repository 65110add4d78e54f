"""The project's chart version in meshcharts.toml: SemVer bumps and the build's default."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from meshcharts.catalog.charts import ISTIO_VERSION
from meshcharts.cli import app
from meshcharts.errors import UserError
from meshcharts.release.versioning import bump, project_version, write_project_version


@pytest.mark.parametrize(
    ("version", "part", "expected"),
    [
        ("1.2.3", "major", "2.0.0"),
        ("1.2.3", "minor", "1.3.0"),
        ("1.2.3", "patch", "1.2.4"),
        ("1.2.3", "prerelease", "1.2.4-rc.0"),
        ("1.2.4-rc.0", "prerelease", "1.2.4-rc.1"),
        ("1.2.4-rc.9", "prerelease", "1.2.4-rc.10"),
        ("1.2.4-rc", "prerelease", "1.2.4-rc.0"),
        ("1.2.4-beta.3", "prerelease", "1.2.4-rc.0"),
        ("1.2.4-rc.1", "patch", "1.2.4"),
        ("1.3.0-rc.1", "minor", "1.3.0"),
        ("1.3.1-rc.1", "minor", "1.4.0"),
        ("2.0.0-rc.1", "major", "2.0.0"),
        ("2.1.0-rc.1", "major", "3.0.0"),
        ("1.2.3+build.7", "patch", "1.2.4"),
    ],
)
def test_bump(version: str, part: str, expected: str) -> None:
    assert bump(version, part) == expected


def test_bump_with_another_pre_id_and_errors() -> None:
    assert bump("1.2.3", "prerelease", "beta") == "1.2.4-beta.0"
    assert bump("1.2.4-beta.0", "prerelease", "beta") == "1.2.4-beta.1"
    with pytest.raises(UserError, match="--pre 1x"):
        bump("1.2.3", "prerelease", "1x")
    with pytest.raises(UserError):
        bump("1.2", "patch")
    with pytest.raises(UserError, match="not one of"):
        bump("1.2.3", "huge")


def test_project_file_round_trip(tmp_path: Path) -> None:
    assert project_version(tmp_path) is None
    path = tmp_path / "meshcharts.toml"
    path.write_text('# release settings\n[chart]\nversion = "1.0.6"  # current\n\n[other]\nx = 1\n')
    assert project_version(tmp_path) == "1.0.6"
    write_project_version(tmp_path, "1.1.0")
    assert path.read_text() == (
        '# release settings\n[chart]\nversion = "1.1.0"  # current\n\n[other]\nx = 1\n'
    )
    path.write_text('[chart]\nversion = "1.x"\n')
    with pytest.raises(UserError):
        project_version(tmp_path)
    path.write_text("[chart\n")
    with pytest.raises(UserError, match="cannot be read"):
        project_version(tmp_path)


def test_cli_bump_then_build_uses_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    result = runner.invoke(app, ["version", "show"])
    assert result.output.strip() == ISTIO_VERSION
    result = runner.invoke(app, ["version", "bump", "minor"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "meshcharts.toml").read_text() == '[chart]\nversion = "1.1.0"\n'
    result = runner.invoke(app, ["version", "bump", "prerelease", "--pre", "beta"])
    assert result.output.strip() == "1.1.0 -> 1.1.1-beta.0 (meshcharts.toml)"
    result = runner.invoke(app, ["build", "-p", "minimal", "--build-dir", "out"])
    assert result.exit_code == 0, result.output
    record = json.loads((tmp_path / "out/build.json").read_text())
    assert {p["version"] for p in record["packages"]} == {"1.1.1-beta.0", "1.1.1-beta.0.canary"}
    result = runner.invoke(
        app, ["build", "-p", "minimal", "--build-dir", "out2", "--version", "2.0.0"]
    )
    assert result.exit_code == 0, result.output
    record = json.loads((tmp_path / "out2/build.json").read_text())
    assert record["packages"][0]["version"] == "2.0.0"
    result = runner.invoke(app, ["version", "bump", "sideways"])
    assert result.exit_code == 2
