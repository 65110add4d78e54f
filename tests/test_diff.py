"""The semantic diff: values with provenance, then rendered objects, order-insensitive."""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from meshcharts import SetArg, build_packages, load_profiles, resolve
from meshcharts.chart.assemble import ChartTree
from meshcharts.checks.diff import (
    ABSENT,
    PACKAGED_VALUES,
    DiffError,
    DiffReport,
    Origin,
    Side,
    diff_json,
    diff_resolutions,
    format_diff,
    load_package,
    package_side,
    resolution_side,
)
from meshcharts.cli import app
from meshcharts.inputs.environments import builtin_environments_dir, load_environment
from meshcharts.release.package import package_chart
from meshcharts.resolution.environments import resolve_environment

runner = CliRunner()
PROFILES = load_profiles()
VERSION = "1.0.6"


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def profile_side(name: str, *sets: str) -> Side:
    resolution = resolve(PROFILES, name, sets=[SetArg(s) for s in sets])
    return resolution_side(resolution, label=f"profile {name}", version=VERSION)


def env_side(path: Path) -> Side:
    environment = load_environment(path)
    resolution = resolve_environment(PROFILES, environment)
    return resolution_side(resolution, label=f"env {environment.name}", version=VERSION)


def titles(report: DiffReport, change: str) -> set[str]:
    return {o.title for o in report.objects if o.change == change}


def write_env(folder: Path, name: str, body: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.yaml"
    path.write_text(textwrap.dedent(body))
    return path


# --- known pairs ------------------------------------------------------------------------


def test_default_vs_demo_adds_the_addon_objects_and_values() -> None:
    report = diff_resolutions(profile_side("default"), profile_side("demo"))
    added = titles(report, "added")
    assert {
        "Deployment istio-system/grafana",
        "Deployment istio-system/istio-tracing",
        "Service istio-system/tracing",
        "Deployment istio-system/kiali",
        "Deployment istio-system/istio-egressgateway",
    } <= added
    assert not titles(report, "removed")
    values = {v.key: v for v in report.values}
    enabled = values["grafana.enabled"]
    assert (enabled.change, enabled.b, enabled.a_origin) == ("added", True, None)
    assert enabled.b_origin is not None and enabled.b_origin.layer == "profile demo"
    assert enabled.b_origin.where.endswith("demo.py")
    access = values["global.proxy.accessLogFile"]
    assert (access.change, access.a, access.b) == ("changed", "", "/dev/stdout")
    assert access.a_origin == Origin("chart defaults", "meshcharts catalog")
    # An embedded YAML document (the mesh config) is compared field by field.
    mesh = next(o for o in report.objects if o.title == "ConfigMap istio-system/istio")
    assert [(f.path, f.a, f.b) for f in mesh.fields] == [
        ("data.mesh(yaml).accessLogFile", "", "/dev/stdout"),
        ("data.mesh(yaml).disablePolicyChecks", True, False),
    ]


def test_minimal_vs_default() -> None:
    report = diff_resolutions(profile_side("minimal"), profile_side("default"))
    assert {"Deployment istio-system/istio-citadel", "MeshPolicy default"} <= titles(
        report, "added"
    )
    assert not titles(report, "removed")
    sidecar = next(v for v in report.values if v.key == "pilot.sidecar")
    assert (sidecar.a, sidecar.b) == (False, True)
    assert sidecar.a_origin is not None and sidecar.a_origin.layer == "profile minimal"
    pilot = next(o for o in report.objects if o.title == "Deployment istio-system/istio-pilot")
    assert pilot.change == "changed"
    assert any(
        f.path == "spec.template.spec.containers[name=istio-proxy]" and f.change == "added"
        for f in pilot.fields
    )


def _line_of(path: Path, text: str) -> int:
    return next(n for n, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def test_builtin_environments_dev_vs_prod_and_prod_vs_prod_eu() -> None:
    folder = builtin_environments_dir()
    dev, prod, eu = (folder / f"{n}.yaml" for n in ("dev", "prod", "prod-eu"))
    reports = {}
    for a, b in ((dev, prod), (prod, eu)):
        report = reports[b.stem] = diff_resolutions(env_side(a), env_side(b))
        code, stdout, _ = invoke("diff", "--env", str(a), "--env", str(b))
        assert code == 1
        assert stdout == format_diff(report)
        # Every value an environment sets is explained with its file and line.
        assert report.values, f"{a.stem} and {b.stem} differ in no value"
        for value in report.values:
            for origin in (value.a_origin, value.b_origin):
                if origin is not None and origin.layer.startswith("env "):
                    file, _, line = origin.where.rpartition(":")
                    assert Path(file).name in {"dev.yaml", "prod.yaml", "prod-eu.yaml"}
                    assert line.isdigit()
    # dev (demo profile) against prod (default profile, strict mTLS).
    values = {v.key: v for v in reports["prod"].values}
    mtls = values["global.mtls.mode"]
    assert (mtls.a, mtls.b) == ("permissive", "strict")
    assert mtls.a_origin is not None and mtls.a_origin.layer == "profile demo"
    assert mtls.b_origin == Origin("env prod", f"{prod}:{_line_of(prod, 'mode: strict')}")
    assert "Deployment istio-system/grafana" in titles(reports["prod"], "removed")
    assert "MeshPolicy default" in titles(reports["prod"], "changed")
    # prod against prod-eu, which extends it: only what prod-eu changes differs.
    values = {v.key: v for v in reports["prod-eu"].values}
    hub = values["global.hub"]
    assert hub.b_origin == Origin("env prod-eu", f"{eu}:{_line_of(eu, 'hub:')}")
    assert hub.a_origin == Origin("chart defaults", "meshcharts catalog")
    assert {"QuotaSpec istio-system/payments-limit", "rule istio-system/payments-limit"} <= titles(
        reports["prod-eu"], "removed"
    )
    assert not titles(reports["prod-eu"], "added")
    quota = next(
        o for o in reports["prod-eu"].objects if o.title == "handler istio-system/quotahandler"
    )
    assert (
        "spec.params.quotas[name=checkout-limit.instance.istio-system].maxAmount",
        2000,
        1000,
    ) in [(f.path, f.a, f.b) for f in quota.fields]


def test_provenance_names_the_env_file_and_line(tmp_path: Path) -> None:
    base = write_env(
        tmp_path,
        "base",
        """\
        name: base
        profile: default
        values:
          pilot:
            traceSampling: 5
        """,
    )
    other = write_env(
        tmp_path,
        "other",
        """\
        name: other
        profile: default
        values:
          global:
            proxy:
              accessLogFile: /dev/stdout
          pilot:
            traceSampling: 50
        """,
    )
    code, stdout, stderr = invoke("diff", "--env", str(base), "--env", str(other))
    assert (code, stderr) == (1, "")
    assert "a: env base\nb: env other\nvalues: 2 differ\n" in stdout
    assert (
        '  ~ global.proxy.accessLogFile: "" -> "/dev/stdout"\n'
        "      a: chart defaults (meshcharts catalog)\n"
        f"      b: env other ({other}:6)\n"
    ) in stdout
    assert (
        "  ~ pilot.traceSampling: 5 -> 50\n"
        f"      a: env base ({base}:5)\n"
        f"      b: env other ({other}:8)\n"
    ) in stdout
    assert (
        "  ~ Deployment istio-system/istio-pilot\n"
        '      ~ spec.template.spec.containers[name=discovery].env[name=PILOT_TRACE_SAMPLING].value: "5" -> "50"\n'
    ) in stdout


def test_an_extending_environment_shows_which_file_of_the_chain_set_each_value(
    tmp_path: Path,
) -> None:
    prod = write_env(
        tmp_path,
        "prod",
        """\
        name: prod
        profile: default
        values:
          pilot:
            traceSampling: 5
          global:
            proxy:
              accessLogFile: /dev/stdout
        """,
    )
    eu = write_env(
        tmp_path,
        "prod-eu",
        """\
        name: prod-eu
        extends: prod
        values:
          pilot:
            traceSampling: 20
        """,
    )
    report = diff_resolutions(env_side(prod), env_side(eu))
    assert [(v.key, v.a, v.b) for v in report.values] == [("pilot.traceSampling", 5, 20)]
    (value,) = report.values
    assert value.a_origin == Origin("env prod", f"{prod}:5")
    assert value.b_origin == Origin("env prod-eu", f"{eu}:5")
    assert [o.title for o in report.objects] == ["Deployment istio-system/istio-pilot"]
    # The value prod-eu inherits from prod is the same on both sides: not a difference.
    assert all(v.key != "global.proxy.accessLogFile" for v in report.values)


def test_a_missing_env_file_is_a_user_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    code, stdout, stderr = invoke("diff", "--env", str(missing), "--profile", "default")
    assert (code, stdout) == (2, "")
    assert stderr == f"error: --env {missing}: no such file\n"


def test_identical_inputs_exit_0_with_no_differences(tmp_path: Path) -> None:
    code, stdout, _ = invoke("diff", "--profile", "minimal", "--profile", "minimal")
    assert (code, stdout) == (0, "a: profile minimal\nb: profile minimal\nno differences\n")
    # An environment that only restates its profile equals the profile.
    same = write_env(tmp_path, "same", "name: same\nprofile: minimal\nvalues: {}\n")
    code, stdout, _ = invoke("diff", "--env", str(same), "--profile", "minimal")
    assert (code, stdout) == (0, "a: env same\nb: profile minimal\nno differences\n")


# --- packages ---------------------------------------------------------------------------


def _write_packages(tmp_path: Path) -> tuple[Path, Path]:
    old = build_packages(PROFILES, ["minimal"], version="1.0.6", revisions=())
    new = build_packages(
        PROFILES,
        ["minimal"],
        version="1.1.0",
        sets=[SetArg("pilot.traceSampling=10"), SetArg("pilot.replicaCount=2")],
        revisions=(),
    )
    paths = []
    for folder, packages in (("old", old), ("new", new)):
        istio = next(p for p in packages if p.tree.name == "istio")
        path = tmp_path / folder / f"istio-{istio.tree.version}.tgz"
        path.parent.mkdir()
        path.write_bytes(istio.data)
        paths.append(path)
    return paths[0], paths[1]


def test_two_built_packages_of_different_versions_and_values(tmp_path: Path) -> None:
    old, new = _write_packages(tmp_path)
    tree = load_package(old)
    assert (tree.name, tree.version, tree.metadata["name"]) == ("istio", "1.0.6", "istio")
    assert "templates/pilot/deployment.yaml" in tree.files
    code, stdout, _ = invoke("diff", str(old), str(new))
    assert code == 1
    assert stdout.startswith(
        "a: istio-1.0.6.tgz\n"
        "b: istio-1.1.0.tgz\n"
        "values: 2 differ\n"
        "  ~ pilot.replicaCount: 1 -> 2\n"
        f"      a: {PACKAGED_VALUES} ({old}:istio/values.yaml)\n"
        f"      b: {PACKAGED_VALUES} ({new}:istio/values.yaml)\n"
        "  ~ pilot.traceSampling: 1.0 -> 10\n"
    )
    assert (
        "  ~ Deployment istio-system/istio-pilot\n"
        '      ~ metadata.labels["helm.sh/chart"]: "istio-1.0.6" -> "istio-1.1.0"\n'
        '      ~ spec.template.metadata.labels["helm.sh/chart"]: "istio-1.0.6" -> "istio-1.1.0"\n'
        '      ~ spec.template.spec.containers[name=discovery].env[name=PILOT_TRACE_SAMPLING].value: "1" -> "10"\n'
    ) in stdout
    assert invoke("diff", str(old), str(old))[:2] == (
        0,
        f"a: {old}\nb: {old}\nno differences\n",
    )


def test_a_package_equals_the_profile_it_was_built_from_in_objects(tmp_path: Path) -> None:
    old, _ = _write_packages(tmp_path)
    built = profile_side("minimal")
    istio = next(t for t in built.charts if t.name == "istio")
    report = diff_resolutions(
        Side("built", built.values, (istio,), provenance=built.provenance), package_side(old)
    )
    assert report.objects == ()


def test_a_revision_package_renders_into_its_namespace(tmp_path: Path) -> None:
    packages = build_packages(PROFILES, ["minimal"], version=VERSION, revisions=("canary",))
    canary = next(p for p in packages if p.revision == "canary")
    path = tmp_path / "canary.tgz"
    path.write_bytes(canary.data)
    report = diff_resolutions(package_side(path), package_side(path))
    assert report.equal
    side = package_side(path)
    assert side.namespace == "istio-system-canary"


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"not a tarball", "not a chart package (.tgz)"),
        (None, "No such file or directory"),
    ],
)
def test_unreadable_packages_are_user_errors(
    tmp_path: Path, content: bytes | None, problem: str
) -> None:
    path = tmp_path / "bad.tgz"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(DiffError, match=re.escape(problem)):
        load_package(path)
    code, stdout, stderr = invoke("diff", str(path), str(path))
    assert (code, stdout) == (2, "")
    assert stderr.startswith(f"error: {path}: ") and problem in stderr
    assert len(stderr.splitlines()) == 1


def test_a_package_without_chart_yaml_is_a_user_error(tmp_path: Path) -> None:
    tree = ChartTree("x", "0.1.0", {}, {"values.yaml": b"{}\n"})
    path = tmp_path / "x.tgz"
    path.write_bytes(package_chart(tree, mtime=0))
    with pytest.raises(DiffError, match=r"no x/Chart.yaml"):
        load_package(path)


@pytest.mark.parametrize(
    "args",
    [
        ["diff", "--profile", "default"],
        ["diff", "--profile", "default", "--profile", "demo", "--profile", "minimal"],
        ["diff", "--profile", "default", "x.tgz"],
        ["diff", "a.tgz"],
        ["diff"],
    ],
)
def test_not_two_sides_is_a_user_error(args: list[str]) -> None:
    code, stdout, stderr = invoke(*args)
    assert (code, stdout) == (2, "")
    assert stderr == (
        "error: meshcharts diff: give two sides: two of --env/--profile, or two .tgz packages\n"
    )


def test_unknown_profile_is_a_user_error() -> None:
    code, _, stderr = invoke("diff", "--profile", "default", "--profile", "nope")
    assert code == 2
    assert stderr.startswith("error: profile 'nope': unknown")


# --- order and formatting ---------------------------------------------------------------


def _tree(templates: dict[str, str], values: str = "{}\n") -> ChartTree:
    metadata = {"apiVersion": "v2", "name": "probe", "version": "0.1.0"}
    files = {"Chart.yaml": b"apiVersion: v2\nname: probe\nversion: 0.1.0\n"}
    files["values.yaml"] = values.encode()
    files |= {f"templates/{name}": text.encode() for name, text in templates.items()}
    return ChartTree("probe", "0.1.0", metadata, files)


def _side(label: str, tree: ChartTree, values: dict[str, Any] | None = None) -> Side:
    return Side(label, values or {}, (tree,), namespace="ns")


ONE = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: first
  namespace: ns
data:
  a: "1"
  b: two
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: ns}
spec:
  template:
    spec:
      containers:
      - name: app
        image: app:1
        env: [{name: A, value: "x"}, {name: B, value: "y"}]
      - name: proxy
        image: proxy:1
"""

# The same objects in another order, split over other files, in another YAML style.
TWO = {
    "z.yaml": """\
# a comment
kind: Deployment
apiVersion: "apps/v1"
spec:
  template:
    spec:
      containers:
        - {image: 'app:1', name: app, env: [{value: x, name: A}, {name: B, value: 'y'}]}
        - image: "proxy:1"
          name: proxy
metadata:
  namespace: ns
  name: web
""",
    "a.yaml": '---\n{"kind": "ConfigMap", "apiVersion": "v1", "data": {"b": "two", "a": "1"},'
    ' "metadata": {"namespace": "ns", "name": "first"}}\n...\n',
}


def test_document_order_and_yaml_formatting_do_not_count() -> None:
    report = diff_resolutions(_side("a", _tree({"all.yaml": ONE})), _side("b", _tree(TWO)))
    assert report.equal
    assert format_diff(report) == "a: a\nb: b\nno differences\n"


def test_field_paths_named_list_items_order_and_added_objects() -> None:
    changed = (
        ONE.replace("image: app:1", "image: app:2")
        .replace('{name: B, value: "y"}', '{name: C, value: "z"}')
        .replace("  b: two\n", "  b: two\n  c: three\n")
    )
    reordered = changed.replace(
        "      - name: app\n        image: app:2\n"
        '        env: [{name: A, value: "x"}, {name: C, value: "z"}]\n'
        "      - name: proxy\n        image: proxy:1\n",
        "      - name: proxy\n        image: proxy:1\n"
        "      - name: app\n        image: app:2\n"
        '        env: [{name: A, value: "x"}, {name: C, value: "z"}]\n',
    )
    extra = "---\napiVersion: v1\nkind: Namespace\nmetadata: {name: extra}\n"
    report = diff_resolutions(
        _side("a", _tree({"all.yaml": ONE})), _side("b", _tree({"all.yaml": reordered + extra}))
    )
    assert [(o.title, o.change) for o in report.objects] == [
        ("ConfigMap ns/first", "changed"),
        ("Deployment ns/web", "changed"),
        ("Namespace extra", "added"),
    ]
    assert [(f.path, f.change, f.a, f.b) for f in report.objects[0].fields] == [
        ("data.c", "added", ABSENT, "three")
    ]
    containers = "spec.template.spec.containers"
    assert [(f.path, f.change) for f in report.objects[1].fields] == [
        (f"{containers}[name=app].env[name=B]", "removed"),
        (f"{containers}[name=app].env[name=C]", "added"),
        (f"{containers}[name=app].image", "changed"),
        (f"{containers}(order)", "changed"),
    ]
    text = format_diff(report)
    assert text.endswith(
        "objects: 3 differ\n"
        "  ~ ConfigMap ns/first\n"
        '      + data.c: "three"\n'
        "  ~ Deployment ns/web\n"
        f'      - {containers}[name=app].env[name=B]: {{"name": "B", "value": "y"}}\n'
        f'      + {containers}[name=app].env[name=C]: {{"name": "C", "value": "z"}}\n'
        f'      ~ {containers}[name=app].image: "app:1" -> "app:2"\n'
        f'      ~ {containers}(order): ["app", "proxy"] -> ["proxy", "app"]\n'
        "  + Namespace extra\n"
    )


def test_values_keys_only_on_one_side_and_typed_comparison() -> None:
    tree = _tree({})
    a = Side("a", {"x": {"y": 1, "gone": {"deep": "v"}}, "flag": True, "n": 1}, (tree,))
    b = Side("b", {"x": {"y": 1.0, "new": [1, 2]}, "flag": 1, "n": "1"}, (tree,))
    report = diff_resolutions(a, b)
    # Helm reads every number as a float64 (1 == 1.0), but never a boolean or a string.
    assert [(v.key, v.change) for v in report.values] == [
        ("flag", "changed"),
        ("n", "changed"),
        ("x.gone.deep", "removed"),
        ("x.new", "added"),
    ]
    assert all(v.a_origin in (None, Origin(PACKAGED_VALUES)) for v in report.values)


def test_lists_are_one_value_shown_item_by_item() -> None:
    tree = _tree({})
    ports_a = [{"name": "http", "port": 80}, {"name": "tcp", "port": 31400}]
    ports_b = [{"name": "http", "port": 8080}, {"name": "tls", "port": 15443}]
    a = Side("a", {"ports": ports_a, "args": ["--a", "--b", "--c"]}, (tree,))
    b = Side("b", {"ports": ports_b, "args": ["--a", "--x", "--c", "--d"]}, (tree,))
    report = diff_resolutions(a, b)
    assert [(v.key, v.a, v.b) for v in report.values] == [
        ("args", ["--a", "--b", "--c"], ["--a", "--x", "--c", "--d"]),
        ("ports", ports_a, ports_b),
    ]
    assert format_diff(report) == (
        "a: a\n"
        "b: b\n"
        "values: 2 differ\n"
        "  ~ args: (list)\n"
        '      ~ [1]: "--b" -> "--x"\n'
        '      + [3]: "--d"\n'
        f"      a: {PACKAGED_VALUES}\n"
        f"      b: {PACKAGED_VALUES}\n"
        "  ~ ports: (list)\n"
        "      ~ [name=http].port: 80 -> 8080\n"
        '      - [name=tcp]: {"name": "tcp", "port": 31400}\n'
        '      + [name=tls]: {"name": "tls", "port": 15443}\n'
        f"      a: {PACKAGED_VALUES}\n"
        f"      b: {PACKAGED_VALUES}\n"
        "objects: 0 differ\n"
    )


def test_multi_line_text_changes_are_shown_as_line_diffs() -> None:
    template = "kind: ConfigMap\nmetadata: {name: s}\ndata:\n  script: {{ .Values.s | quote }}\n"
    a = _tree({"cm.yaml": template}, 's: "#!/bin/sh\\n{{x\\necho one\\n"\n')
    b = _tree({"cm.yaml": template}, 's: "#!/bin/sh\\n{{x\\necho two\\n"\n')
    text = format_diff(diff_resolutions(_side("a", a), _side("b", b)))
    assert text.endswith(
        "  ~ ConfigMap s\n"
        "      ~ data.script: (text)\n"
        "          @@ -3 +3 @@\n"
        "          -echo one\n"
        "          +echo two\n"
    )


# --- JSON -------------------------------------------------------------------------------


def test_json_output_structure(tmp_path: Path) -> None:
    code, stdout, _ = invoke(
        "diff", "--profile", "minimal", "--profile", "default", "--format", "json"
    )
    assert code == 1
    data = json.loads(stdout)
    assert set(data) == {"a", "b", "equal", "values", "objects"}
    assert (data["a"], data["b"], data["equal"]) == ("profile minimal", "profile default", False)
    sidecar = next(v for v in data["values"] if v["path"] == "pilot.sidecar")
    assert sidecar["change"] == "changed"
    assert sidecar["a"]["value"] is False and sidecar["a"]["layer"] == "profile minimal"
    assert sidecar["a"]["where"].endswith("minimal.py")
    assert sidecar["b"] == {"layer": "chart defaults", "value": True, "where": "meshcharts catalog"}
    added = next(v for v in data["values"] if v["change"] == "added")
    assert "a" not in added and set(added["b"]) == {"value", "layer", "where"}
    citadel = next(o for o in data["objects"] if o["name"] == "istio-citadel")
    assert citadel == {
        "kind": "Deployment",
        "namespace": "istio-system",
        "name": "istio-citadel",
        "change": "added",
        "fields": [],
    }
    pilot = next(
        o for o in data["objects"] if (o["kind"], o["name"]) == ("Deployment", "istio-pilot")
    )
    assert pilot["change"] == "changed"
    assert pilot["fields"], "istio-pilot is changed but lists no fields"
    assert all({"path", "change"} <= set(f) for f in pilot["fields"])
    assert data["objects"] == sorted(
        data["objects"], key=lambda o: (o["kind"], o["namespace"], o["name"])
    )
    report = diff_resolutions(profile_side("minimal"), profile_side("default"))
    assert stdout == diff_json(report)
    code, stdout, _ = invoke("diff", "-p", "demo", "-p", "demo", "--format", "json")
    assert code == 0
    assert json.loads(stdout) == {
        "a": "profile demo",
        "b": "profile demo",
        "equal": True,
        "values": [],
        "objects": [],
    }
