"""The golden files: one test per built chart, discovered from the build, plus the CLI."""

from __future__ import annotations

import functools
import shutil
from pathlib import Path

import pytest
from harness import builtin_build, builtin_keys
from tools import HELM4, helm_binaries
from typer.testing import CliRunner

from meshcharts.cli import app
from meshcharts.release.golden import compare_golden, expected_golden

GOLDEN = Path(__file__).resolve().parent.parent / "golden"


@functools.cache
def _expected() -> dict[str, bytes]:
    return expected_golden(list(builtin_build()), helm_binaries()[HELM4])


def _cases() -> list[str]:
    return [key.key for key in builtin_keys()]


@pytest.mark.parametrize("case", _cases())
def test_golden_case(case: str) -> None:
    expected = {
        path: data
        for path, data in _expected().items()
        if path.startswith((f"{case}/", f"{case}.manifest"))
    }
    assert f"{case}.manifest.yaml" in expected
    diffs = [d for d in compare_golden(_expected(), GOLDEN) if d.path in expected]
    assert not diffs, (
        "golden files differ (bash scripts/update-goldens.sh, then review git diff):\n"
        + "".join(d.diff for d in diffs)
    )


def test_no_stale_golden_files() -> None:
    stale = [d.path for d in compare_golden(_expected(), GOLDEN) if d.path not in _expected()]
    assert stale == []


def test_golden_check_reports_changed_missing_and_stale_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MESHCHARTS_HELM", str(helm_binaries()[HELM4]))
    golden = tmp_path / "golden"
    shutil.copytree(GOLDEN, golden)
    result = CliRunner().invoke(app, ["golden", "check", "--golden", str(golden)])
    assert result.exit_code == 0, result.output
    values = golden / "minimal" / "istio" / "values.yaml"
    values.write_text(values.read_text().replace("replicaCount: 1", "replicaCount: 7"))
    (golden / "default" / "istio-init.manifest.yaml").unlink()
    (golden / "default" / "leftover.txt").write_text("old\n")
    result = CliRunner().invoke(app, ["golden", "check", "--golden", str(golden)])
    assert result.exit_code == 1
    assert "-  replicaCount: 7\n+  replicaCount: 1\n" in result.stdout
    assert "missing golden file golden/default/istio-init.manifest.yaml" in result.stdout
    assert "stale golden file golden/default/leftover.txt" in result.stdout
    result = CliRunner().invoke(app, ["golden", "update", "--golden", str(golden)])
    assert result.exit_code == 0
    result = CliRunner().invoke(app, ["golden", "check", "--golden", str(golden)])
    assert result.exit_code == 0


def test_golden_needs_the_pinned_helm(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MESHCHARTS_HELM", str(helm_binaries()["3.17.2"]))
    result = CliRunner().invoke(app, ["golden", "check", "--golden", str(tmp_path)])
    assert result.exit_code == 2
    assert "golden manifests are rendered by Helm 4.1.4" in result.stderr
    monkeypatch.setenv("MESHCHARTS_HELM", str(tmp_path / "no-helm"))
    result = CliRunner().invoke(app, ["golden", "check", "--golden", str(tmp_path)])
    assert result.exit_code == 2
    assert "not an executable file" in result.stderr
