"""First contact with the command line: owned output folders, one version source, one
vocabulary across commands, and the conventions of a command-line tool."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
import typer.main
import yaml
from typer.testing import CliRunner

from meshcharts.base.fsutil import MARKER
from meshcharts.catalog.charts import ISTIO_VERSION
from meshcharts.chart.buildinfo import generator_version
from meshcharts.checks.lint import RULE_IDS
from meshcharts.cli import app, colour
from meshcharts.errors import UserError
from meshcharts.release.golden import update_golden

runner = CliRunner()
README = Path(__file__).resolve().parent.parent / "README.md"


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def one_error_line(stderr: str) -> str:
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("error: ") and "Traceback" not in stderr
    return lines[0]


# --- output folders are owned, never taken ------------------------------------------------

OUT_COMMANDS = {
    "build": ["build", "-p", "minimal", "--build-dir"],
    "render": ["render", "-p", "minimal", "--out"],
}


def _snapshot(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): (
            f"link:{p.readlink()}" if p.is_symlink() else p.read_text() if p.is_file() else "dir"
        )
        for p in sorted(root.rglob("*"))
    }


@pytest.mark.parametrize("command", sorted(OUT_COMMANDS))
@pytest.mark.parametrize(
    ("target", "problem"),
    [
        ("keep", "is not empty and was not written by meshcharts (it holds 'notes.txt')"),
        (".", "is the current folder"),
        ("..", "contains the current folder"),
        ("/", "is the root folder"),
        ("HOME", "is the home folder"),
        ("keep/notes.txt", "exists and is not a folder"),
        ("keep/notes.txt/sub", "cannot be created: keep/notes.txt is not a folder"),
        ("link", "is a symbolic link"),
    ],
)
def test_a_users_files_survive_every_refused_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str, target: str, problem: str
) -> None:
    home = tmp_path / "home"
    work = home / "projects" / "work"
    (work / "keep").mkdir(parents=True)
    (work / "keep" / "notes.txt").write_text("important\n")
    (work / "link").symlink_to("keep")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(work)
    before = _snapshot(tmp_path)
    given = str(home) if target == "HOME" else target
    code, _, stderr = invoke(*OUT_COMMANDS[command], given)
    assert code == 2
    line = one_error_line(stderr)
    assert problem in line and given in line
    assert _snapshot(tmp_path) == before


@pytest.mark.parametrize("command", sorted(OUT_COMMANDS))
def test_missing_empty_and_own_folders_are_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "empty").mkdir()
    for target in ("new/deeper", "empty", "empty"):  # the second write replaces the first
        code, _, stderr = invoke(*OUT_COMMANDS[command], target)
        assert code == 0, stderr
        assert (tmp_path / target / MARKER).is_file()
    # A folder meshcharts wrote is replaced whole: a file added since then goes.
    (tmp_path / "empty" / "stray.txt").write_text("x")
    assert invoke(*OUT_COMMANDS[command], "empty")[0] == 0
    assert not (tmp_path / "empty" / "stray.txt").exists()


def test_a_build_folder_of_before_the_marker_is_still_replaced(tmp_path: Path) -> None:
    old = tmp_path / "old"
    old.mkdir()
    (old / "build.json").write_text('{"packages": []}\n')
    code, _, stderr = invoke("build", "-p", "minimal", "--build-dir", str(old))
    assert code == 0, stderr
    assert (old / "minimal" / "istio-1.0.6.tgz").is_file()


def test_golden_update_refuses_a_folder_that_is_not_golden(tmp_path: Path) -> None:
    folder = tmp_path / "g"
    folder.mkdir()
    (folder / "mine.txt").write_text("x")
    with pytest.raises(UserError, match="not written by meshcharts"):
        update_golden({"a/b.manifest.yaml": b"x"}, folder)
    assert (folder / "mine.txt").read_text() == "x"


def test_golden_check_without_a_golden_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MESHCHARTS_HELM", str(tmp_path / "no-helm"))  # never reached
    code, _, stderr = invoke("golden", "check")
    assert code == 2
    assert "--golden golden: no such folder" in one_error_line(stderr)


# --- one version source --------------------------------------------------------------------


def test_every_command_reads_the_version_as_build_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert invoke("version", "bump", "patch")[0] == 0
    assert invoke("version", "show")[1].strip() == "1.0.7"
    assert invoke("build", "-p", "minimal")[0] == 0
    record = json.loads((tmp_path / "charts_out" / "build.json").read_text())
    assert {p["version"] for p in record["packages"]} == {"1.0.7", "1.0.7-canary"}
    assert invoke("render", "-p", "minimal", "--out", "r")[0] == 0
    chart = yaml.safe_load((tmp_path / "r" / "istio" / "Chart.yaml").read_text())
    assert chart["version"] == "1.0.7"
    code, stdout, _ = invoke("diff", "-p", "minimal", "-p", "minimal", "--format", "json")
    assert code == 0 and json.loads(stdout)["equal"]
    assert invoke("render", "-p", "minimal", "--out", "r2", "--version", "2.0.0")[0] == 0
    chart = yaml.safe_load((tmp_path / "r2" / "istio" / "Chart.yaml").read_text())
    assert chart["version"] == "2.0.0"


@pytest.mark.parametrize("command", ["build", "render", "check-coexist", "diff"])
def test_version_help_names_the_rule_not_a_fixed_default(command: str) -> None:
    _, stdout, _ = invoke(command, "--help")
    flat = " ".join(stdout.split())
    assert "[default: 1.0.6]" not in flat
    assert f"default: [chart] version of ./meshcharts.toml, else {ISTIO_VERSION}" in flat


def test_repeated_profiles_are_built_once(tmp_path: Path) -> None:
    out = tmp_path / "out"
    code, _, stderr = invoke("build", "-p", "minimal", "-p", "minimal", "--build-dir", str(out))
    assert code == 0, stderr
    record = json.loads((out / "build.json").read_text())
    paths = [p["path"] for p in record["packages"]]
    assert len(paths) == len(set(paths)) == 3
    index = yaml.safe_load((out / "minimal" / "index.yaml").read_text())
    versions = [(name, e["version"]) for name, items in index["entries"].items() for e in items]
    assert len(versions) == len(set(versions)) == 3
    assert not (out / "index.yaml").exists(), "profiles share chart versions: no whole-build index"


# --- conventions ---------------------------------------------------------------------------


def test_version_flag_prints_the_tools_version() -> None:
    code, stdout, _ = invoke("--version")
    assert (code, stdout) == (0, f"meshcharts {generator_version()}\n")


@pytest.mark.parametrize(
    "args", [["-h"], ["build", "-h"], ["golden", "check", "-h"], ["version", "-h"]]
)
def test_short_help(args: list[str]) -> None:
    code, stdout, _ = invoke(*args)
    assert code == 0 and stdout.startswith("Usage: meshcharts")


def test_completion_can_be_installed() -> None:
    _, stdout, _ = invoke("--help")
    assert "--install-completion" in stdout and "--show-completion" in stdout


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("tty", "env", "expected"),
    [
        (True, {}, True),
        (False, {}, False),
        (True, {"NO_COLOR": "1"}, False),
        (True, {"NO_COLOR": ""}, True),  # no-color.org: set and not empty
        (True, {"TERM": "dumb"}, False),
        (True, {"TERM": "xterm-256color"}, True),
    ],
)
def test_colour_only_on_a_terminal_without_no_color(
    monkeypatch: pytest.MonkeyPatch, tty: bool, env: dict[str, str], expected: bool
) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert colour(_Tty() if tty else io.StringIO()) is expected


def test_errors_are_plain_text_off_a_terminal() -> None:
    _, _, stderr = invoke("build", "-p", "nope")
    assert "\x1b[" not in stderr


def _commands() -> dict[str, Any]:
    """Every leaf command of the CLI by its name (``golden check``)."""
    found: dict[str, Any] = {}

    def walk(command: Any, prefix: str) -> None:
        subcommands = getattr(command, "commands", None)
        if subcommands:
            for name, sub in subcommands.items():
                walk(sub, f"{prefix} {name}".strip())
        else:
            found[prefix] = command

    walk(typer.main.get_command(app), "")
    return found


def test_help_is_not_eaten_by_markup_and_metavars_are_words() -> None:
    for name in _commands():
        code, stdout, _ = invoke(*name.split(), "--help")
        assert code == 0, name
        assert not re.search(r"<(bool|str|int|Path|list\[[^]]*\])>", stdout), name
        assert "  " not in stdout.splitlines()[2].strip(), name  # no word lost in the summary
    _, stdout, _ = invoke("build", "--help")
    assert "[chart] version" in " ".join(stdout.split())


def test_lint_summary_when_clean_and_when_not() -> None:
    code, stdout, _ = invoke("lint", "-p", "default")
    assert (code, stdout) == (0, f"profile default: no findings ({len(RULE_IDS)} rules)\n")
    args = [
        "lint",
        "-p",
        "default",
        "--set",
        "global.enableTracing=true",
        "--set",
        "pilot.traceSampling=0",
    ]
    code, stdout, _ = invoke(*args)
    assert code == 0
    assert stdout.splitlines()[-1] == "profile default: 0 errors, 1 warning"


def test_build_prints_lint_warnings_and_still_builds(tmp_path: Path) -> None:
    sets = ["--set", "global.enableTracing=true", "--set", "pilot.traceSampling=0"]
    code, stdout, stderr = invoke(
        "build", "-p", "minimal", *sets, "--build-dir", str(tmp_path / "o")
    )
    assert code == 0, stderr
    assert "warning: profile minimal: TRACING-SAMPLING warning:" in stderr
    assert stdout.splitlines()[-1].endswith("(1 lint warning)")


def test_unknown_allow_rule_lists_the_valid_ids(tmp_path: Path) -> None:
    code, _, stderr = invoke("build", "--allow", "NOSUCH-RULE", "--build-dir", str(tmp_path / "o"))
    assert code == 2
    assert one_error_line(stderr) == (
        f"error: --allow NOSUCH-RULE: no such lint rule (rules: {', '.join(RULE_IDS)})"
    )
    assert not (tmp_path / "o").exists()


def test_the_lint_hint_repeats_the_users_arguments(tmp_path: Path) -> None:
    sets = ["--set", "global.mtls.mode=strict", "--set", "gateways.enabled=false"]
    code, _, stderr = invoke("build", "-p", "default", *sets, "--build-dir", str(tmp_path / "o"))
    assert code == 2
    line = one_error_line(stderr)
    assert (
        "see meshcharts lint --profile default --set global.mtls.mode=strict "
        "--set gateways.enabled=false;" in line
    )


def test_plurals(tmp_path: Path) -> None:
    env = tmp_path / "one.yaml"
    env.write_text("name: one\nprofile: minimal\n")
    code, stdout, stderr = invoke(
        "build", "--env", str(env), "-p", "minimal", "--build-dir", str(tmp_path / "o")
    )
    assert code == 0, stderr
    assert "3 packages, 1 values file," in stdout.splitlines()[-1]


def test_env_is_one_file_and_a_folder_needs_env_dir(tmp_path: Path) -> None:
    code, _, stderr = invoke("build", "--env", str(tmp_path), "--build-dir", str(tmp_path / "o"))
    assert code == 2
    assert "is a folder; give --env-dir DIR" in one_error_line(stderr)
    for command in (["values"], ["lint"], ["render", "--out", str(tmp_path / "r")]):
        code, _, stderr = invoke(*command, "--env", str(tmp_path))
        assert code == 2 and "not a file" in one_error_line(stderr), command


def test_plan_names_packages_that_exist(tmp_path: Path) -> None:
    args = ["plan", "-p", "minimal", "--from", "1.0.6", "--to", "1.0.7"]
    code, _, stderr = invoke(*args, "--build-dir", str(tmp_path / "nope"))
    assert code == 2
    assert one_error_line(stderr).startswith(
        f"error: {tmp_path / 'nope'}/minimal/istio-init-1.0.7.tgz: no such package"
    )
    for version in ("1.0.6", "1.0.7"):
        assert (
            invoke(
                "build",
                "-p",
                "minimal",
                "--version",
                version,
                "--build-dir",
                str(tmp_path / version),
            )[0]
            == 0
        )
    code, stdout, stderr = invoke(
        *args,
        "--build-dir",
        str(tmp_path / "1.0.7"),
        "--previous",
        str(tmp_path / "1.0.6"),
        "--format",
        "text",
    )
    assert code == 0, stderr
    assert f"$ helm upgrade istio {tmp_path / '1.0.6'}/minimal/istio-1.0.6.tgz" in stdout
    assert f"{tmp_path / '1.0.7'}/minimal/istio-1.0.7-canary.tgz" in stdout


# --- one vocabulary: every command against one table --------------------------------------

SHARED = {"--profiles", "--components"}
REGISTRY = {
    "--plain-http",
    "--ca-file",
    "--cert-file",
    "--key-file",
    "--insecure-skip-tls-verify",
    "--username",
    "--password-stdin",
    "--timeout",
}
TABLE: dict[str, tuple[set[str], tuple[str, ...]]] = {
    # command: (options besides --help, --format choices)
    "build": (
        {
            "--profile",
            "--version",
            "--set",
            "--set-string",
            "--build-dir",
            "--allow",
            "--revision",
            "--env",
            "--env-dir",
            "--previous",
            "--allow-breaking",
            "--sign",
            "--keyring",
            "--source-commit",
            "--format",
        }
        | SHARED
        | REGISTRY,
        ("text", "json"),
    ),
    "render": (
        {"--out", "--profile", "--env", "--version", "--set", "--set-string", "--source-commit"}
        | SHARED,
        (),
    ),
    "values": (
        {
            "--profile",
            "--env",
            "--set",
            "--set-string",
            "--chart",
            "--out",
            "--full",
            "--explain",
            "--explain-all",
            "--format",
        }
        | SHARED,
        ("text", "json"),
    ),
    "import-values": ({"--profile", "--out", "--format"} | SHARED, ("text", "json")),
    "profiles": ({"--format"} | SHARED, ("text", "json")),
    "check-coexist": (
        {
            "--profile",
            "--revision",
            "--version",
            "--set",
            "--set-string",
            "--against",
            "--against-namespace",
            "--format",
        }
        | SHARED,
        ("text", "json"),
    ),
    "lint": (
        {"--profile", "--env", "--set", "--set-string", "--format"} | SHARED,
        ("text", "json"),
    ),
    "plan": (
        {
            "--from",
            "--to",
            "--revision",
            "--format",
            "--build-dir",
            "--previous",
            "--profile",
            "--env",
        }
        | SHARED,
        ("markdown", "text", "json"),
    ),
    "diff": ({"--env", "--profile", "--version", "--format"} | SHARED, ("text", "json")),
    "release-diff": (
        {"--env", "--format", "--allow-breaking"} | SHARED | REGISTRY,
        ("text", "json"),
    ),
    "publish": (
        {"--to", "--build-dir", "--profile", "--url", "--force", "--format"} | REGISTRY,
        ("text", "json"),
    ),
    "registry login": (REGISTRY | {"--registry-config"}, ()),
    "registry logout": ({"--registry-config"}, ()),
    "version show": ({"--format"}, ("text", "json")),
    "version bump": ({"--pre", "--format"}, ("text", "json")),
    "golden check": ({"--golden", "--profile"} | SHARED, ()),
    "golden update": ({"--golden", "--profile"} | SHARED, ()),
}


def _help_options(text: str) -> set[str]:
    options = set()
    for line in text.split("Options:", 1)[1].splitlines():
        options |= set(
            re.findall(
                r"(?:^|[ ,])(--[a-z][-a-z]*)",
                line.split("  ", 2)[1] if line.startswith("  -") else "",
            )
        )
    return options - {"--help"}


def test_every_command_against_the_table() -> None:
    commands = _commands()
    assert set(commands) == set(TABLE)
    for name, (options, formats) in TABLE.items():
        code, stdout, _ = invoke(*name.split(), "--help")
        assert code == 0
        assert _help_options(stdout) == options, name
        params = {p.name: p for p in commands[name].params}
        if formats:
            choices = params["output"].type_descriptor.choices
            assert tuple(str(c.value) for c in choices) == formats, name
            assert " or ".join([", ".join(formats[:-1]), formats[-1]]) in " ".join(stdout.split())
        else:
            assert "--format" not in options


def _usage_block() -> str:
    text = README.read_text()
    return text.split("## Usage", 1)[1].split("```text", 1)[1].split("```", 1)[0]


def test_readme_usage_matches_the_cli() -> None:
    block = _usage_block()
    shared = block.split("REGISTRY OPTIONS:", 1)[1]
    registry = set(re.findall(r"--[a-z][-a-z]*", shared))
    assert registry, "the usage block lacks the REGISTRY OPTIONS it refers to"
    groups: dict[str, set[str]] = {}
    current = ""
    for line in block.split("REGISTRY OPTIONS:", 1)[0].splitlines():
        if line.startswith("meshcharts "):
            words = line.split()
            if words[1].startswith("-"):  # the tool's own options
                current = ""
                continue
            grouped = words[1] in ("golden", "version", "registry")
            current = f"{words[1]} {words[2]}" if grouped else words[1]
        if current:
            found = set(re.findall(r"--[a-z][-a-z]*", line))
            found |= registry if "[REGISTRY OPTIONS]" in line else set()
            found |= {"--profile"} if re.search(r"[\s\[(]-p NAME", line) else set()
            groups.setdefault(current, set()).update(found)
    for name, (options, _) in TABLE.items():
        assert name in groups, f"README usage lacks meshcharts {name}"
        assert groups[name] == options, (name, sorted(groups[name] ^ options))
    assert set(groups) == set(TABLE)


def test_every_json_output_is_documented() -> None:
    text = README.read_text()
    section = text.split("### JSON output", 1)[1].split("\n## ", 1)[0]
    for name, (_, formats) in TABLE.items():
        if "json" in formats:
            assert f"`{name}" in section, f"README JSON output section lacks {name}"


JSON_RUNS = [
    (["profiles"], {"name", "description", "extends", "builtin", "source"}),
    (["version", "show"], {"version", "source"}),
    (["lint", "-p", "default"], {"subject", "findings", "errors", "warnings"}),
    (["check-coexist", "-p", "minimal"], {"profile", "revision", "namespaces", "ok", "collisions"}),
    (
        ["values", "-p", "minimal"],
        {
            "global",
            "pilot",
            "certmanager",
            "trafficPolicies",
            "revision",
            "singletonOwner",
            "mesh",
        },
    ),
    (["diff", "-p", "minimal", "-p", "default"], {"a", "b", "equal", "values", "objects"}),
]


@pytest.mark.parametrize(("args", "keys"), JSON_RUNS, ids=[" ".join(a[:1]) for a, _ in JSON_RUNS])
def test_json_outputs_parse(args: list[str], keys: set[str]) -> None:
    code, stdout, stderr = invoke(*args, "--format", "json")
    assert code in (0, 1), stderr
    data = json.loads(stdout)
    item = data[0] if isinstance(data, list) else data
    assert keys <= set(item), sorted(set(item))


def test_build_and_bump_json(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    code, stdout, _ = invoke("version", "bump", "minor", "--format", "json")
    assert code == 0 and json.loads(stdout) == {
        "old": ISTIO_VERSION,
        "new": "1.1.0",
        "file": str(tmp_path / "meshcharts.toml"),
    }
    code, stdout, stderr = invoke("build", "-p", "minimal", "--format", "json")
    assert code == 0, stderr
    data = json.loads(stdout)
    assert set(data) == {"build_dir", "packages", "values", "warnings", "comparisons"}
    assert [p["path"] for p in data["packages"]] == [
        "minimal/istio-init-1.1.0.tgz",
        "minimal/istio-1.1.0.tgz",
        "minimal/istio-1.1.0-canary.tgz",
    ]
    record = json.loads((tmp_path / "charts_out" / "build.json").read_text())
    assert data["packages"] == record["packages"]
    code, stdout, _ = invoke(
        "values", "-p", "minimal", "--explain", "pilot.sidecar", "--format", "json"
    )
    chain = json.loads(stdout)["pilot.sidecar"]
    assert [c["layer"] for c in chain] == ["chart defaults", "profile minimal"] and chain[-1][
        "wins"
    ]


def test_the_old_names_of_build_dir_still_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Scripts written for --out (build), --from (publish) and --charts (plan) keep working."""
    monkeypatch.chdir(tmp_path)
    assert invoke("build", "-p", "minimal", "--out", "old")[0] == 0
    assert (tmp_path / "old" / "minimal" / "istio-1.0.6.tgz").is_file()
    code, _, stderr = invoke("publish", "--from", "old", "--to", "repo", "-p", "minimal")
    assert code == 0, stderr
    assert (tmp_path / "repo" / "istio-1.0.6.tgz").is_file()
    assert invoke("build", "-p", "minimal", "--version", "1.0.7", "--out", "new")[0] == 0
    args = ["plan", "-p", "minimal", "--from", "1.0.6", "--to", "1.0.7", "--previous", "old"]
    code, stdout, stderr = invoke(*args, "--charts", "new")
    assert code == 0, stderr
    assert "new/minimal/istio-1.0.7-canary.tgz" in stdout
    code, _, stderr = invoke("build", "-p", "minimal", "--out", "a", "--build-dir", "b")
    assert code == 2
    assert "--out: is the old name of --build-dir" in one_error_line(stderr)
    _, help_text, _ = invoke("build", "--help")
    assert "--out" not in help_text  # one name in help: --build-dir
