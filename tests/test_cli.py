from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from helpers import profile_source, write_profiles
from typer.testing import CliRunner

from meshcharts import load_profiles
from meshcharts.cli import app

runner = CliRunner()


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["build", "--profile", "nope"],
            f"profile 'nope': unknown (known: {', '.join(load_profiles().names())})",
        ),
        (["build", "--version", "1.0"], "version '1.0': not a strict SemVer 2 version"),
        (["build", "--version", "v1.2.3"], "version 'v1.2.3': not a strict SemVer 2 version"),
        (
            ["build", "--set", "pilot.replicaCount"],
            "--set pilot.replicaCount: key 'pilot.replicaCount' has no value",
        ),
        (
            ["build", "--set", "pilot[x]=1"],
            "--set pilot[x]=1: list index [x] is not a non-negative integer",
        ),
        (
            ["build", "--set", "pilot.nope=1"],
            "chart istio: value pilot.nope (set by --set, command line)",
        ),
        (
            ["build", "--set", "pilot.replicaCount=many"],
            "value pilot.replicaCount (set by --set, command line): "
            '"many" is not of type "integer"',
        ),
        (
            ["values", "--profile", "default", "--explain", "nope.x"],
            "nope.x: no layer sets this key",
        ),
        (["render", "--profile", "default"], None),
    ],
)
def test_user_errors_are_one_line_exit_2_and_write_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], message: str | None
) -> None:
    monkeypatch.chdir(tmp_path)
    code, stdout, stderr = invoke(*args, *(["--build-dir", "out"] if args[0] == "build" else []))
    assert code == 2
    if message is not None:
        assert stderr.startswith("error: ")
        assert message in stderr
        assert stderr.count("\n") == 1
        assert "Traceback" not in stderr
    assert not (tmp_path / "out").exists()
    assert not list(tmp_path.iterdir())


def test_extends_cycle_and_bad_name_from_the_cli(tmp_path: Path) -> None:
    folder = write_profiles(
        tmp_path / "p",
        {"a": profile_source("a", extends="b"), "b": profile_source("b", extends="a")},
    )
    code, _, stderr = invoke(
        "build", "--profiles", str(folder), "--profile", "a", "--build-dir", str(tmp_path / "o")
    )
    assert (code, stderr.strip()) == (2, "error: profile 'a': extends cycle: a -> b -> a")
    bad = write_profiles(tmp_path / "q", {"Bad": profile_source("Bad")})
    code, _, stderr = invoke("profiles", "--profiles", str(bad))
    assert code == 2
    assert "profile name 'Bad': not a DNS-1123 label" in stderr


def test_build_writes_packages_index_and_build_json(tmp_path: Path) -> None:
    code, stdout, _ = invoke("build", "--profile", "minimal", "--build-dir", str(tmp_path / "out"))
    assert code == 0
    assert sorted(
        p.relative_to(tmp_path / "out").as_posix()
        for p in (tmp_path / "out").rglob("*")
        if p.is_file()
    ) == [
        ".meshcharts",
        "build.json",
        "minimal/index.yaml",
        "minimal/istio-1.0.6-canary.tgz",
        "minimal/istio-1.0.6.tgz",
        "minimal/istio-init-1.0.6.tgz",
    ]
    assert "minimal/istio-1.0.6.tgz  sha256:" in stdout


def test_set_is_the_last_layer_and_typed_like_helm() -> None:
    code, stdout, _ = invoke(
        "values",
        "--profile",
        "default",
        "--set",
        "pilot.replicaCount=3,pilot.env.A=true",
        "--set-string",
        "pilot.env.B=007",
    )
    assert code == 0
    values = yaml.safe_load(stdout)
    assert values["pilot"]["replicaCount"] == 3
    assert values["pilot"]["env"]["B"] == "007"


def test_values_for_one_chart(tmp_path: Path) -> None:
    code, stdout, _ = invoke("values", "--profile", "minimal", "--chart", "istio-init")
    assert code == 0
    assert yaml.safe_load(stdout) == {"certmanager": {"enabled": False}}


def test_explain_shows_each_layer_and_the_winner() -> None:
    code, stdout, _ = invoke(
        "values",
        "--profile",
        "minimal",
        "--set",
        "pilot.sidecar=true",
        "--explain",
        "pilot.sidecar",
    )
    assert code == 0
    lines = stdout.splitlines()
    assert lines[0] == "pilot.sidecar"
    assert lines[1].startswith("  1. chart defaults (meshcharts catalog): true")
    assert lines[2].startswith("  2. profile minimal (") and lines[2].endswith(
        "profiles/minimal.py): false"
    )
    assert lines[3] == "  3. --set (command line): true  <- wins"


def test_profiles_lists_descriptions() -> None:
    code, stdout, _ = invoke("profiles")
    assert code == 0
    names = [line.split()[0] for line in stdout.splitlines()]
    assert names == sorted(names)
    assert {"default", "minimal"} <= set(names)
    assert "(extends default)" in next(
        line for line in stdout.splitlines() if line.startswith("minimal")
    )


def test_render_writes_unpacked_trees(tmp_path: Path) -> None:
    code, _, _ = invoke("render", "--profile", "default", "--out", str(tmp_path / "r"))
    assert code == 0
    assert sorted(p.name for p in (tmp_path / "r").iterdir()) == [
        ".meshcharts",
        "istio",
        "istio-init",
        "istio@canary",
    ]
    assert b"revision: canary" in (tmp_path / "r" / "istio@canary" / "values.yaml").read_bytes()
    assert b'revision: ""' in (tmp_path / "r" / "istio" / "values.yaml").read_bytes()
    for chart in ("istio", "istio-init"):
        for name in (
            "Chart.yaml",
            "values.yaml",
            "values.schema.json",
            "README.md",
            "templates/_helpers.tpl",
            "templates/NOTES.txt",
        ):
            assert (tmp_path / "r" / chart / name).is_file(), (chart, name)
