"""Environment files: loading, extends chains, layering with provenance, errors, build output."""

from __future__ import annotations

import json
import re
import textwrap
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from meshcharts import assemble_chart, load_profiles, resolve
from meshcharts.checks.lint import lint
from meshcharts.cli import app
from meshcharts.errors import UserError
from meshcharts.inputs.environments import (
    EnvError,
    Environment,
    builtin_environments_dir,
    load_environment,
    load_environments,
)
from meshcharts.inputs.setvalues import SetArg
from meshcharts.inputs.yamlsource import YamlSourceError, load_yaml
from meshcharts.resolution.environments import profile_resolution, resolve_environment
from meshcharts.values.explain import format_explain

REPO = Path(__file__).resolve().parent.parent
PROFILES = load_profiles()
runner = CliRunner()


def write_envs(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for stem, text in files.items():
        (folder / f"{stem}.yaml").write_text(textwrap.dedent(text).lstrip())
    return folder


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


# --- the built-in examples -----------------------------------------------------------------------


def test_builtin_environments() -> None:
    assert builtin_environments_dir() == REPO / "environments"
    envs = {e.name: e for e in load_environments(builtin_environments_dir())}
    assert list(envs) == ["dev", "prod", "prod-eu", "staging"]  # sorted by name
    assert {n: (e.profile, e.chain) for n, e in envs.items()} == {
        "dev": ("demo", ("dev",)),
        "prod": ("default", ("prod",)),
        "prod-eu": ("default", ("prod", "prod-eu")),
        "staging": ("default", ("staging",)),
    }
    assert [dict(ns) for ns in envs["prod-eu"].namespaces] == [
        {"name": "shop", "injection": "enabled"},
        {"name": "shop-eu", "injection": "enabled"},
    ]
    for env in envs.values():
        assert [layer.source for layer in env.layers] == [
            str(builtin_environments_dir() / f"{name}.yaml") for name in env.chain
        ]


@pytest.mark.parametrize("name", ["dev", "staging", "prod", "prod-eu"])
def test_builtin_environments_are_lint_clean(name: str) -> None:
    env = load_environment(builtin_environments_dir() / f"{name}.yaml")
    assert [f for f in lint(resolve_environment(PROFILES, env)) if f.severity == "error"] == []


def test_environments_ship_in_the_wheel() -> None:
    config = tomllib.loads((REPO / "pyproject.toml").read_text())
    include = config["tool"]["hatch"]["build"]["targets"]["wheel"]["force-include"]
    assert include["environments"] == "meshcharts/_builtin_environments"
    assert include["profiles"] == "meshcharts/_builtin_profiles"


# --- layering and provenance ---------------------------------------------------------------------

BASE = """\
    # a regional base
    name: base
    profile: demo
    values:
      pilot:
        traceSampling: 50.0
        autoscaleMin: 2
      gateways:
        istio-ingressgateway:
          ports:
            - name: http2
              nodePort: 30080
    mesh:
      namespaces:
        - name: apps
          injection: disabled
    """

CHILD = """\
    name: child
    extends: base
    values:
      pilot:
        traceSampling: 25.0
        env:
          GODEBUG: null
    mesh:
      namespaces:
        - name: apps
          injection: enabled
        - name: more
          injection: enabled
    """


@pytest.fixture
def chain(tmp_path: Path) -> Environment:
    folder = write_envs(tmp_path / "envs", {"base": BASE, "child": CHILD})
    return load_environment(folder / "child.yaml")


def test_chain_layers_and_lines(chain: Environment, tmp_path: Path) -> None:
    base, child = chain.layers
    assert (chain.name, chain.profile, chain.chain) == ("child", "demo", ("base", "child"))
    assert (base.name, base.source) == ("env base", str(tmp_path / "envs" / "base.yaml"))
    assert child.source == str(tmp_path / "envs" / "child.yaml")
    assert base.lines[("pilot", "traceSampling")] == 6
    assert base.lines[("gateways", "istio-ingressgateway", "ports", "0", "nodePort")] == 12
    assert base.lines[("mesh", "namespaces", "0", "injection")] == 16
    assert child.lines[("pilot", "env", "GODEBUG")] == 7
    assert [dict(ns) for ns in chain.namespaces] == [
        {"name": "apps", "injection": "enabled"},
        {"name": "more", "injection": "enabled"},
    ]
    assert chain.profile_where == f"{tmp_path / 'envs' / 'base.yaml'}:3"


def test_layers_in_order_with_file_and_line(chain: Environment, tmp_path: Path) -> None:
    resolution = resolve_environment(PROFILES, chain, sets=[SetArg("pilot.traceSampling=10")])
    demo = PROFILES.get("demo").source
    envs = tmp_path / "envs"
    assert format_explain(resolution.values, "pilot.traceSampling").splitlines() == [
        "pilot.traceSampling",
        "  1. chart defaults (meshcharts catalog): 1.0",
        f"  2. profile demo ({demo}): 100.0",
        f"  3. env base ({envs / 'base.yaml'}:6): 50.0",
        f"  4. env child ({envs / 'child.yaml'}:5): 25.0",
        "  5. --set (command line): 10  <- wins",
    ]


@pytest.mark.parametrize(
    ("key", "layer", "where"),
    [
        ("pilot.image", "chart defaults", "meshcharts catalog"),
        ("global.proxy.accessLogFile", "profile demo", "demo.py"),
        ("pilot.autoscaleMin", "env base", "base.yaml:7"),
        ("gateways.istio-ingressgateway.ports[name=http2].nodePort", "env base", "base.yaml:12"),
        ("gateways.istio-ingressgateway.ports[name=http2].port", "chart defaults", "catalog"),
        ("pilot.traceSampling", "env child", "child.yaml:5"),
        ("mesh.namespaces[name=apps].injection", "env child", "child.yaml:11"),
        ("mesh.namespaces[name=more].name", "env child", "child.yaml:12"),
        ("pilot.replicaCount", "--set", "command line"),
    ],
)
def test_provenance_of_values_set_at_each_layer(
    chain: Environment, key: str, layer: str, where: str
) -> None:
    resolution = resolve_environment(PROFILES, chain, sets=[SetArg("pilot.replicaCount=2")])
    explained = dict(resolution.values.explain(key))
    winner = next(iter(explained.values()))[-1] if len(explained) == 1 else None
    assert winner is not None
    assert winner.layer.name == layer
    assert winner.where.endswith(where)


def test_a_null_in_an_environment_deletes_and_is_explained(chain: Environment) -> None:
    resolution = resolve_environment(PROFILES, chain)
    assert "GODEBUG" not in resolution.values.values["pilot"]["env"]
    ((_, history),) = resolution.values.explain("pilot.env.GODEBUG")
    assert [a.layer.name for a in history] == ["chart defaults", "env child"]
    assert history[-1].where.endswith("child.yaml:7")


def test_resolve_environment_is_resolve_with_the_layers(chain: Environment) -> None:
    sets = [SetArg("pilot.autoscaleMax=7")]
    ours = resolve_environment(PROFILES, chain, sets=sets)
    plain = resolve(PROFILES, chain.profile, sets=sets, extra_layers=chain.layers)
    assert ours.values.values == plain.values.values
    assert [a.path for a in ours.values.assignments] == [a.path for a in plain.values.assignments]
    assert ours.values.values["mesh"]["namespaces"] == [dict(n) for n in chain.namespaces]


def test_the_profile_is_resolved_once_per_profile_set() -> None:
    assert profile_resolution(PROFILES, "default") is profile_resolution(PROFILES, "default")
    assert profile_resolution(load_profiles(), "default") is not profile_resolution(
        PROFILES, "default"
    )


def test_lint_reads_the_environment_inventory(tmp_path: Path) -> None:
    folder = write_envs(
        tmp_path,
        {
            "strict": """\
                name: strict
                profile: default
                values:
                  global:
                    mtls:
                      mode: strict
                mesh:
                  namespaces:
                    - {name: legacy, injection: disabled}
                """
        },
    )
    code, stdout, _ = invoke("lint", "--env", str(folder / "strict.yaml"))
    assert code == 1
    assert "MTLS-UNINJECTED error: global.mtls.mode is strict but namespace 'legacy'" in stdout
    code, _, _ = invoke("lint", "--env", str(builtin_environments_dir() / "staging.yaml"))
    assert code == 0


# --- errors -----------------------------------------------------------------------------------------

ERRORS = [
    pytest.param(
        {"a": "name: a\nextends: b\n", "b": "name: b\nextends: a\n"},
        "a",
        "b.yaml:2: extends cycle: a -> b -> a",
        id="cycle",
    ),
    pytest.param(
        {"a": "name: a\nextends: a\n"}, "a", "a.yaml:2: extends cycle: a -> a", id="self cycle"
    ),
    pytest.param(
        {"a": "name: a\nvalues: {}\nextends: nope\n"},
        "a",
        "a.yaml:3: extends unknown environment 'nope' (no nope.yaml beside it; known: a)",
        id="unknown parent",
    ),
    pytest.param(
        {"a": "name: a\nprofile: nope\n"},
        "a",
        "a.yaml:2: unknown profile 'nope' (known: " + ", ".join(PROFILES.names()) + ")",
        id="unknown profile",
    ),
    pytest.param(
        {"Prod": "name: Prod\nprofile: default\n"},
        "Prod",
        "Prod.yaml:1: environment name 'Prod': not a DNS-1123 label (lower-case letters, "
        "digits and '-', starting and ending with a letter or digit, at most 63 characters)",
        id="bad name",
    ),
    pytest.param(
        {"a": "name: b\nprofile: default\n"},
        "a",
        "a.yaml:1: name 'b' must equal the file name 'a'",
        id="name is not the file name",
    ),
    pytest.param(
        {"a": "name: a\nprofile: default\nvalue:\n  pilot: {}\n"},
        "a",
        "a.yaml:3: unknown key 'value' (known: name, profile, extends, values, mesh)",
        id="unknown key",
    ),
    pytest.param(
        {"a": "name: a\nvalues: {}\n"}, "a", "a.yaml:1: profile is missing", id="no profile"
    ),
    pytest.param(
        {"a": "name: a\nextends: b\nprofile: demo\n", "b": "name: b\nprofile: default\n"},
        "a",
        "a.yaml:3: profile 'demo' differs from profile 'default' of b, which it extends "
        "(an environment keeps its parent's profile)",
        id="child changes the profile",
    ),
    pytest.param(
        {"a": "name: a\nprofile: default\nvalues:\n  pilot: {}\n  nope: 1\n"},
        "a",
        "a.yaml:5: values.nope: no component of profile 'default' reads it (known: certmanager, "
        "galley, gateways, global, istio_cni, mesh, mixer, pilot, prometheus, revision, security, "
        "sidecarInjectorWebhook, singletonOwner, trafficPolicies)",
        id="a value no component reads",
    ),
    pytest.param(
        {"a": "name: a\nprofile: default\nvalues:\n  mesh: {}\n"},
        "a",
        "a.yaml:4: give the mesh inventory as the top-level mesh.namespaces",
        id="values.mesh",
    ),
    pytest.param(
        {"a": "name: a\nprofile: default\nmesh:\n  zones: []\n"},
        "a",
        "a.yaml:4: unknown key mesh.zones (known: namespaces)",
        id="unknown mesh key",
    ),
    pytest.param(
        {"a": "name: a\nprofile: default\nmesh:\n  namespaces:\n    - injection: enabled\n"},
        "a",
        "a.yaml:5: mesh.namespaces[0]: has no name (a string or an integer): items of this "
        "list merge by key name (rule mesh.namespaces of environment files)",
        id="inventory entry without a name",
    ),
    pytest.param(
        {"a": "name: a\nprofile: default\nvalues: [1]\n"},
        "a",
        "a.yaml:3: values must be a map, not list",
        id="values not a map",
    ),
    pytest.param(
        {"a": "name: a\nprofile: default\nprofile: demo\n"},
        "a",
        "a.yaml:3: key 'profile' repeats the one on line 2",
        id="duplicate key",
    ),
    pytest.param(
        {"a": "name: a\nprofile: default\nvalues:\n  global:\n    tag: .nan\n"},
        "a",
        "a.yaml:5: .nan is not a JSON number; quote it to keep a string",
        id="nan",
    ),
    pytest.param(
        {"a": "name: a\nprofile: default\nvalues:\n  pilot:\n    replicaCount: " + "9" * 40 + "\n"},
        "a",
        "a.yaml:5: an integer beyond 2^53, which Helm reads as a rounded float (its values "
        "pass through JSON); quote it to keep a string",
        id="huge-integer",
    ),
    pytest.param(
        {"a": "name: a\nprofile: default\nvalues:\n  pilot:\n    env:\n      on: x\n"},
        "a",
        "a.yaml:6: key 'on' is read as a boolean, not a string; quote it",
        id="YAML 1.1 boolean key",
    ),
    pytest.param(
        {"a": "name: a\nprofile: default\nvalues:\n  pilot: [\n"},
        "a",
        "a.yaml:5: invalid YAML: while parsing a flow node: did not find expected node content",
        id="invalid YAML",
    ),
    pytest.param(
        {"a": "- 1\n"},
        "a",
        "a.yaml:1: an environment file must be a map (name, profile, values, ...)",
        id="not a map",
    ),
]


@pytest.mark.parametrize(("files", "target", "message"), ERRORS)
def test_environment_errors(
    tmp_path: Path, files: dict[str, str], target: str, message: str
) -> None:
    folder = write_envs(tmp_path, files)
    with pytest.raises(EnvError) as caught:
        env = load_environment(folder / f"{target}.yaml")
        resolve_environment(PROFILES, env)
    assert str(caught.value) == f"{folder}/{message}"


@pytest.mark.parametrize(("files", "target", "message"), ERRORS)
@pytest.mark.parametrize("command", ["values", "lint", "render", "build"])
def test_environment_errors_are_one_line_exit_2_and_write_nothing(
    tmp_path: Path, files: dict[str, str], target: str, message: str, command: str
) -> None:
    folder = write_envs(tmp_path / "envs", files)
    out = tmp_path / "out"
    env = str(folder if command == "build" else folder / f"{target}.yaml")
    args = [command, "--env-dir" if command == "build" else "--env", env]
    if command == "build":
        args += ["--profile", "default", "--profile", "demo"]
    if command != "lint":
        args += ["--build-dir" if command == "build" else "--out", str(out)]
    code, stdout, stderr = invoke(*args)
    assert code == 2, stdout
    lines = stderr.splitlines()
    assert len(lines) == 1
    if command != "build":  # a build loads every file of the folder: another may fail first
        assert lines[0] == f"error: {folder}/{message}"
    assert not out.exists()


def test_missing_file_and_folder(tmp_path: Path) -> None:
    with pytest.raises(EnvError, match="no such file"):
        load_environment(tmp_path / "nope.yaml")
    with pytest.raises(EnvError, match="not a file"):
        load_environment(tmp_path)
    with pytest.raises(EnvError, match="not a folder"):
        load_environments(tmp_path / "nope")


def test_yaml_loader_lines_merge_keys_and_json_data_only() -> None:
    doc = load_yaml("base: &b\n  x: 1\n  z: 2\nm:\n  <<: *b\n  z: 3\nl:\n  - a: off\n", "t.yaml")
    assert doc.data == {"base": {"x": 1, "z": 2}, "m": {"x": 1, "z": 3}, "l": [{"a": False}]}
    assert doc.lines[("m", "z")] == 6 and doc.lines[("l", "0", "a")] == 8
    assert doc.where(("l", "0", "a", "deeper")) == "t.yaml:8"
    for text, problem in [
        ("a: &x [*x]\n", "an alias refers to a node that contains it (a cycle)"),
        ("? [a]\n: 1\n", "a map key must be a string, not a collection"),
        ("a: !!set {x}\n", "tag tag:yaml.org,2002:set is not supported in a values file"),
        ("a: 1\n---\nb: 2\n", "invalid YAML"),
        ("y: 1\n", "key 'y' is read as a boolean, not a string; quote it"),
    ]:
        with pytest.raises(YamlSourceError, match=re.escape(problem)):
            load_yaml(text, "t.yaml")


# --- build ------------------------------------------------------------------------------------------


def test_build_writes_the_values_of_the_builtin_environments(tmp_path: Path) -> None:
    code, stdout, stderr = invoke("build", "--build-dir", str(tmp_path / "out"))
    assert code == 0, stderr
    out = tmp_path / "out"
    assert sorted(p.relative_to(out).as_posix() for p in out.glob("*/values-*.yaml")) == [
        "default/values-prod-eu.yaml",
        "default/values-prod.yaml",
        "default/values-staging.yaml",
        "demo/values-dev.yaml",
    ]
    record = json.loads((out / "build.json").read_text())
    assert [(v["environment"], v["path"]) for v in record["values"]] == [
        ("dev", "demo/values-dev.yaml"),
        ("prod", "default/values-prod.yaml"),
        ("prod-eu", "default/values-prod-eu.yaml"),
        ("staging", "default/values-staging.yaml"),
    ]
    text = (out / "default" / "values-prod-eu.yaml").read_text()
    assert "# Install: helm install istio default/istio-1.0.6.tgz" in text
    assert yaml.safe_load(text)["global"]["hub"] == "registry.eu.example.com/istio"
    assert "wrote 19 packages, 4 values files" in stdout


def test_build_of_other_profiles_skips_the_builtin_environments(tmp_path: Path) -> None:
    code, _, _ = invoke("build", "--profile", "minimal", "--build-dir", str(tmp_path / "out"))
    assert code == 0
    assert list((tmp_path / "out").glob("*/values-*.yaml")) == []


def test_build_env_folder_adds_the_profiles_it_needs(tmp_path: Path) -> None:
    folder = write_envs(
        tmp_path / "envs",
        {"edge": "name: edge\nprofile: minimal\nvalues:\n  pilot:\n    autoscaleMin: 2\n"},
    )
    code, _, stderr = invoke(
        "build", "--env-dir", str(folder), "--build-dir", str(tmp_path / "out")
    )
    assert code == 0, stderr
    assert yaml.safe_load((tmp_path / "out" / "minimal" / "values-edge.yaml").read_text()) == {
        "pilot": {"autoscaleMin": 2}
    }
    code, _, stderr = invoke(
        "build",
        "--env-dir",
        str(folder),
        "--profile",
        "default",
        "--build-dir",
        str(tmp_path / "o2"),
    )
    assert code == 2
    assert stderr.strip() == (
        f"error: {folder / 'edge.yaml'}:2: profile 'minimal' is not part of this build "
        "(add --profile minimal)"
    )
    assert not (tmp_path / "o2").exists()


def test_build_refuses_an_environment_with_lint_errors(tmp_path: Path) -> None:
    folder = write_envs(
        tmp_path / "envs",
        {
            "strict": "name: strict\nprofile: default\nvalues:\n  global:\n    mtls:\n"
            "      mode: strict\nmesh:\n  namespaces:\n    - {name: old, injection: disabled}\n"
        },
    )
    args = ["build", "--env-dir", str(folder), "--profile", "default"]
    code, _, stderr = invoke(*args, "--build-dir", str(tmp_path / "out"))
    assert code == 2
    assert "environment 'strict'" in stderr and "lint errors MTLS-UNINJECTED" in stderr
    assert not (tmp_path / "out").exists()
    code, _, _ = invoke(*args, "--allow", "MTLS-UNINJECTED", "--build-dir", str(tmp_path / "out"))
    assert code == 0
    assert (tmp_path / "out" / "default" / "values-strict.yaml").is_file()


def test_each_chart_is_assembled_once_whatever_the_number_of_environments(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    real = assemble_chart

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(kwargs["profile"])
        return real(*args, **kwargs)

    monkeypatch.setattr("meshcharts.chart.profile.assemble_chart", counting)
    many = {
        f"e{i}": f"name: e{i}\nprofile: default\nvalues:\n  pilot:\n    autoscaleMin: {i % 5 + 1}\n"
        for i in range(25)
    }
    empty = tmp_path / "empty"
    empty.mkdir()
    for folder, out in [(empty, "a"), (write_envs(tmp_path / "many", many), "b")]:
        calls.clear()
        code, _, stderr = invoke(
            "build",
            "--profile",
            "default",
            "--env-dir",
            str(folder),
            "--build-dir",
            str(tmp_path / out),
        )
        assert code == 0, stderr
        assert calls == ["default"] * 3  # istio-init, istio and its canary, once each
    assert len(list((tmp_path / "b" / "default").glob("values-*.yaml"))) == 25


def test_render_and_plan_with_an_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = builtin_environments_dir() / "prod.yaml"
    code, stdout, stderr = invoke("render", "--env", str(env), "--out", str(tmp_path / "r"))
    assert code == 0, stderr
    assert sorted(p.name for p in (tmp_path / "r").iterdir()) == [
        ".meshcharts",
        "istio",
        "istio-init",
        "istio@canary",
        "values-prod.yaml",
    ]
    monkeypatch.chdir(tmp_path)
    # plan checks that the packages it names exist (it does not read them).
    for name in ("istio-init-1.1.0", "istio-1.0.6", "istio-1.1.0-canary"):
        package = tmp_path / "charts_out" / "default" / f"{name}.tgz"
        package.parent.mkdir(parents=True, exist_ok=True)
        package.write_bytes(b"")
    code, stdout, _ = invoke("plan", "--env", str(env), "--from", "1.0.6", "--to", "1.1.0")
    assert code == 0
    assert (
        "helm install istio-canary charts_out/default/istio-1.1.0-canary.tgz --namespace "
        "istio-system-canary --create-namespace --devel -f charts_out/default/values-prod.yaml"
    ) in stdout
    code, _, stderr = invoke("plan", "--from", "1.0.6", "--to", "1.1.0")
    assert code == 2 and "--profile: missing (give --profile NAME or --env FILE)" in stderr


def test_profile_and_env_must_agree() -> None:
    env = builtin_environments_dir() / "dev.yaml"
    code, _, stderr = invoke("values", "--env", str(env), "--profile", "default")
    assert code == 2
    assert stderr.strip() == "error: --profile default: environment 'dev' uses profile 'demo'"
    code, _, _ = invoke("values", "--env", str(env), "--profile", "demo")
    assert code == 0


def test_env_error_is_a_user_error() -> None:
    assert issubclass(EnvError, UserError)
