"""Every command is a thin call: its library twin gives a Python user exactly what it prints."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from meshcharts import (
    chart_version,
    check_packages,
    check_revision,
    diff_sides,
    import_values,
    load_profiles,
    run_build,
    upgrade_plan,
)
from meshcharts.checks.diff import diff_json
from meshcharts.checks.plan import plan_json
from meshcharts.cli import app

runner = CliRunner()


def cli_json(*args: str) -> object:
    result = runner.invoke(app, [*args, "--format", "json"])
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.stdout)


def test_build(tmp_path: Path) -> None:
    library = run_build(load_profiles(), out=tmp_path / "lib", version="1.0.6", names=["minimal"])
    printed = cli_json("build", "-p", "minimal", "--build-dir", str(tmp_path / "cli"))
    assert isinstance(printed, dict)
    assert printed["packages"] == library.to_json()["packages"]
    for name in ("build.json", "minimal/index.yaml", "minimal/istio-1.0.6.tgz"):
        assert (tmp_path / "lib" / name).read_bytes() == (tmp_path / "cli" / name).read_bytes()


def test_check_coexist() -> None:
    report = check_revision(load_profiles(), "minimal", "blue", version="1.0.6")
    assert cli_json("check-coexist", "-p", "minimal", "--revision", "blue") == report.to_json()


@pytest.mark.parametrize("sides", [("minimal", "default"), ("demo", "demo-auth")])
def test_diff(sides: tuple[str, str]) -> None:
    report = diff_sides(load_profiles(), names=list(sides), version="1.0.6")
    printed = cli_json("diff", "-p", sides[0], "-p", sides[1])
    assert printed == json.loads(diff_json(report))


def test_plan(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    plan = upgrade_plan("minimal", from_version="1.0.6", to_version="1.0.7")
    for package in plan.packages:
        Path(package).parent.mkdir(parents=True, exist_ok=True)
        Path(package).write_bytes(b"")
    check_packages(plan)
    printed = cli_json("plan", "-p", "minimal", "--from", "1.0.6", "--to", "1.0.7")
    assert printed == json.loads(plan_json(plan))


def test_import_values() -> None:
    source = Path(__file__).resolve().parent / "data" / "upstream_1_1" / "sds-auth.yaml"
    imported = import_values(load_profiles(), source, profile="default")
    printed = cli_json("import-values", str(source), "-p", "default")
    assert printed == {**imported.as_json(), "name": "sds-auth", "out": None}


def test_version_show(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "meshcharts.toml").write_text('[chart]\nversion = "2.1.0"\n')
    assert cli_json("version", "show") == chart_version(None, tmp_path).to_json()
