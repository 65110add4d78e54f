"""A user's own components and charts: the worked example, every guarantee, every error.

The example (``examples/company``) adds a component to the built-in ``istio`` chart
(``extAuthz``), declares a chart of its own (``company-dashboards``) and uses the built-in
``gateways`` chart through a profile; installed packages bring parts through an entry point.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from harness import assert_lint_strict, write_tree
from helpers import assert_one_line_error, run_meshcharts
from tools import (
    HELM3,
    HELM4,
    MESH_CUSTOM_GROUPS,
    REPO_ROOT,
    run_helm,
    split_manifest,
    validate_k8s,
)

from meshcharts import build_packages, load_profiles
from meshcharts.catalog.crds import CRDS
from meshcharts.chart.profile import revision_trees
from meshcharts.checks.render import render_objects
from meshcharts.release.build import BuiltPackage

EXAMPLE = REPO_ROOT / "examples" / "company"
PROFILES = EXAMPLE / "profiles"
COMPONENTS = EXAMPLE / "components"
EXAMPLE_ARGS = ("--profiles", str(PROFILES), "--components", str(COMPONENTS))


@functools.cache
def example_build() -> tuple[BuiltPackage, ...]:
    profiles = load_profiles([PROFILES], [COMPONENTS])
    return tuple(build_packages(profiles, ["company", "company-edge"], version="1.0.6"))


# --- the worked example ------------------------------------------------------------------------


def test_example_parts_join_the_catalog() -> None:
    catalog = load_profiles([PROFILES], [COMPONENTS]).catalog
    assert list(catalog.charts) == ["istio-init", "istio", "gateways", "company-dashboards"]
    (authz,) = [c for c in catalog.charts["istio"].components if c.name == "extAuthz"]
    assert authz.source == str(COMPONENTS / "extauthz.py")
    chart = catalog.charts["company-dashboards"]
    assert chart.source == str(COMPONENTS / "dashboards.py")
    assert [c.name for c in chart.components] == ["dashboards"]
    assert [c.name for c in catalog.user_components] == ["extAuthz", "dashboards"]


def test_example_builds_its_charts_with_a_canary_for_the_control_plane() -> None:
    records = {(p.profile, p.tree.name, p.revision) for p in example_build()}
    assert records == {
        ("company", "istio-init", ""),
        ("company", "istio", ""),
        ("company", "company-dashboards", ""),
        ("company", "istio", "canary"),
        ("company-edge", "gateways", ""),
    }


def _package(profile: str, chart: str, revision: str = "") -> BuiltPackage:
    (found,) = [
        p
        for p in example_build()
        if (p.profile, p.tree.name, p.revision) == (profile, chart, revision)
    ]
    return found


EXAMPLE_PACKAGES = [
    ("company", "istio", ""),
    ("company", "istio", "canary"),
    ("company", "company-dashboards", ""),
    ("company-edge", "gateways", ""),
]


@pytest.fixture(scope="module")
def example_charts(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str, str], Path]:
    root = tmp_path_factory.mktemp("example")
    found = {}
    for key in EXAMPLE_PACKAGES:
        package = _package(*key)
        found[key] = write_tree(package.tree, root / "-".join(filter(None, key)))
    return found


@pytest.mark.parametrize("key", EXAMPLE_PACKAGES, ids=lambda k: "-".join(filter(None, k)))
@pytest.mark.parametrize("helm_version", [HELM3, HELM4])
def test_example_charts_lint_render_and_validate(
    helms: dict[str, Path],
    example_charts: dict[tuple[str, str, str], Path],
    key: tuple[str, str, str],
    helm_version: str,
) -> None:
    chart = example_charts[key]
    namespace = "istio-system-canary" if key[2] else "istio-system"
    assert_lint_strict(helms[helm_version], chart)
    out = run_helm(helms[helm_version], "template", key[1], str(chart), "--namespace", namespace)
    docs = split_manifest(out.stdout)
    assert docs, "the chart renders nothing"
    for kube in ("1.25", "1.37"):
        assert validate_k8s(docs, kube, strict=True, allow_custom=MESH_CUSTOM_GROUPS) == []
    schemas = {(f"{c.group}/{c.version}", c.kind): dict(c.schema) for c in CRDS}
    for doc in docs:
        group = doc["apiVersion"].split("/")[0]
        if any(group == g or group.endswith("." + g) for g in MESH_CUSTOM_GROUPS):
            body = {k: v for k, v in doc.items() if k not in ("apiVersion", "kind", "metadata")}
            jsonschema.validate(body, schemas[(doc["apiVersion"], doc["kind"])])


def test_the_component_renders_its_objects_and_its_filter() -> None:
    docs = render_objects(_package("company", "istio").tree, release="istio", namespace="ns")
    kinds = {(d["kind"], d["metadata"]["name"]) for d in docs}
    assert {
        ("Deployment", "ext-authz"),
        ("Service", "ext-authz"),
        ("EnvoyFilter", "ext-authz"),
    } <= kinds
    (envoy_filter,) = [d for d in docs if d["kind"] == "EnvoyFilter"]
    config = envoy_filter["spec"]["filters"][0]["filterConfig"]
    assert (
        config["grpc_service"]["google_grpc"]["target_uri"] == "ext-authz.ns.svc.cluster.local:9191"
    )
    assert envoy_filter["spec"]["workloadLabels"] == {"authz": "external"}


def test_the_canary_carries_the_component_suffixed_and_labelled() -> None:
    profiles = load_profiles([PROFILES], [COMPONENTS])
    (canary,) = revision_trees(profiles, "company", "blue", version="1.0.6")
    docs = render_objects(canary, release="istio-blue", namespace="istio-system-blue")
    authz = [d for d in docs if d["metadata"]["name"].startswith("ext-authz")]
    assert {d["metadata"]["name"] for d in authz} == {"ext-authz-blue"}
    assert len(authz) == 3
    assert all(d["metadata"]["labels"]["istio.io/rev"] == "blue" for d in authz)


def test_the_user_chart_has_notes_readme_and_strict_schema() -> None:
    tree = _package("company", "company-dashboards").tree
    assert "templates/NOTES.txt" in tree.files
    assert "templates/_helpers.tpl" in tree.files
    readme = tree.files["README.md"].decode()
    assert "| `dashboards.label` | string |" in readme
    assert "helm install company-dashboards company-dashboards-1.0.6.tgz" in readme
    schema = json.loads(tree.files["values.schema.json"])
    assert schema["additionalProperties"] is False
    assert schema["properties"]["dashboards"]["additionalProperties"] is False
    metadata = yaml.safe_load(tree.files["Chart.yaml"])
    assert metadata["appVersion"] == "1.0.0"
    assert metadata["home"] == "https://example.com/platform"
    istio_readme = _package("company", "istio").tree.files["README.md"].decode()
    assert "| `extAuthz.failOpen` | bool | `false` | Let requests through" in istio_readme


def test_the_schema_refuses_an_undeclared_key_of_a_user_component(tmp_path: Path) -> None:
    out = tmp_path / "out"
    args = ("build", *EXAMPLE_ARGS, "-p", "company", "--build-dir", str(out))
    code, _, stderr = run_meshcharts(*args, "--set", "extAuthz.bogus=1")
    assert_one_line_error(code, stderr, "extAuthz", "bogus")
    code, _, stderr = run_meshcharts(*args, "--set", "extAuthz.port=70000")
    assert_one_line_error(code, stderr, "extAuthz.port", "70000")
    assert not out.exists()


def test_explain_names_the_profile_file_that_set_a_user_value() -> None:
    code, stdout, stderr = run_meshcharts(
        "values", *EXAMPLE_ARGS, "-p", "company", "--explain", "extAuthz.failOpen"
    )
    assert code == 0, stderr
    assert "chart defaults (meshcharts catalog): false" in stdout
    assert f"profile company ({PROFILES / 'company.py'}): false  <- wins" in stdout


def test_a_user_list_merges_by_its_declared_key(tmp_path: Path) -> None:
    env = tmp_path / "ops.yaml"
    env.write_text(
        "name: ops\nprofile: company\nvalues:\n  dashboards:\n    dashboards:\n"
        "      - {name: mesh-overview, refresh: 5s}\n      - {name: latency, title: Latency}\n"
    )
    code, stdout, stderr = run_meshcharts(
        "values", *EXAMPLE_ARGS, "--env", str(env), "--full", "--chart", "company-dashboards"
    )
    assert code == 0, stderr
    dashboards = yaml.safe_load(stdout)["dashboards"]["dashboards"]
    assert dashboards == [
        {"name": "mesh-overview", "title": "Mesh overview", "refresh": "5s"},
        {"name": "ext-authz", "title": "External authorization", "refresh": "1m"},
        {"name": "latency", "title": "Latency"},
    ]


def test_example_packages_are_reproducible(tmp_path: Path) -> None:
    digests = []
    for out in ("a", "b"):
        code, _, stderr = run_meshcharts(
            "build", *EXAMPLE_ARGS, "-p", "company", "-p", "company-edge",
            "--build-dir", str(tmp_path / out), "--source-commit", "abc",
        )  # fmt: skip
        assert code == 0, stderr
        records = json.loads((tmp_path / out / "build.json").read_text())["packages"]
        assert records
        digests.append(sorted((r["path"], r["sha256"]) for r in records))
    assert digests[0] == digests[1]


def test_goldens_in_the_users_own_folder(helms: dict[str, Path], tmp_path: Path) -> None:
    env = {"MESHCHARTS_HELM": str(helms[HELM4]), "PATH": "/usr/bin:/bin"}
    golden = tmp_path / "golden"
    args = ("--golden", str(golden), *EXAMPLE_ARGS, "-p", "company-edge")
    code, stdout, stderr = run_meshcharts("golden", "update", *args, env=env)
    assert code == 0, stderr
    assert (golden / "company-edge" / "gateways" / "Chart.yaml").is_file()
    assert not (golden / "default").exists()
    assert run_meshcharts("golden", "check", *args, env=env)[0] == 0
    (golden / "company-edge" / "gateways" / "values.yaml").write_text("changed: true\n")
    code, stdout, _ = run_meshcharts("golden", "check", *args, env=env)
    assert code == 1
    assert "values.yaml" in stdout


def test_reading_the_example_writes_nothing_beside_it(tmp_path: Path) -> None:
    """Profile and component files are only read: no bytecode is left in the user's folders."""
    code, _, stderr = run_meshcharts(
        "profiles", *EXAMPLE_ARGS, env={"PATH": "/usr/bin:/bin"}, cwd=tmp_path
    )
    assert code == 0, stderr
    assert "company-edge" in run_meshcharts("profiles", *EXAMPLE_ARGS)[1]
    assert not list(EXAMPLE.rglob("__pycache__"))


# --- errors -------------------------------------------------------------------------------------

TEMPLATE = (
    "{{- if .Values.NAME.enabled }}\napiVersion: v1\nkind: ConfigMap\nmetadata:\n"
    '  name: {{ include "istio.resourceName" (dict "name" "NAME" "root" $) | quote }}\n'
    "data:\n  mode: {{ .Values.NAME.mode | quote }}\n{{- end }}\n"
)


def write_component(
    folder: Path,
    name: str = "probe",
    *,
    chart: str = "istio",
    template: str | None = TEMPLATE,
    extra: str = "",
    file: str = "probe.py",
) -> Path:
    """A component file (and its template folder, unless ``template`` is None)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / file).write_text(
        "from meshcharts import Component\n"
        f"COMPONENT = Component(name={name!r}, chart={chart!r}, summary='A probe',\n"
        f"    defaults={{'enabled': True, 'mode': 'on'}}, docs={{'mode': 'The mode.'}}{extra})\n"
    )
    if template is not None:
        templates = folder / "templates" / name
        templates.mkdir(parents=True, exist_ok=True)
        (templates / "configmap.yaml").write_text(template.replace("NAME", name))
    return folder / file


def write_profile(folder: Path, components: tuple[str, ...] = ("pilot", "probe")) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "mine.py").write_text(
        "from meshcharts import Profile\n"
        f"PROFILE = Profile(name='mine', description='Mine', charts={{'istio': {components!r}}})\n"
    )
    return folder


def build_mine(tmp_path: Path, *extra: str) -> tuple[int, str, str]:
    profiles = write_profile(tmp_path / "profiles")
    return run_meshcharts(
        "build", "--profiles", str(profiles), "--components", str(tmp_path / "components"),
        "-p", "mine", "--build-dir", str(tmp_path / "out"), *extra,
    )  # fmt: skip


def test_a_user_component_builds(tmp_path: Path) -> None:
    write_component(tmp_path / "components")
    code, _, stderr = build_mine(tmp_path)
    assert code == 0, stderr
    with tarfile.open(tmp_path / "out" / "mine" / "istio-1.0.6.tgz") as archive:
        assert "istio/templates/probe/configmap.yaml" in archive.getnames()


@pytest.mark.parametrize(
    ("setup", "parts"),
    [
        pytest.param(
            lambda d: write_component(d, "pilot"),
            [
                "probe.py",
                "component 'pilot' of chart istio is already defined by the built-in catalog",
            ],
            id="component-name-clash",
        ),
        pytest.param(
            lambda d: write_component(d, "revision"),
            ["probe.py", "clashes with the chart value 'revision'"],
            id="component-named-like-a-chart-value",
        ),
        pytest.param(
            lambda d: write_component(d, chart="nope"),
            ["probe.py", "is for chart 'nope', which no file defines"],
            id="unknown-chart",
        ),
        pytest.param(
            lambda d: (
                d.mkdir(parents=True),
                (d / "chart.py").write_text(
                    "from meshcharts import ChartDef\nCHART = ChartDef(name='istio', description='x')\n"
                ),
            ),
            ["chart.py", "chart 'istio' is already defined by the built-in catalog"],
            id="chart-name-clash",
        ),
        pytest.param(
            lambda d: write_component(d, template=None),
            ["probe.py", "component probe: template folder", "does not exist"],
            id="missing-template-folder",
        ),
        pytest.param(
            lambda d: (
                write_component(d, template=None),
                (d / "templates" / "probe").mkdir(parents=True),
            ),
            ["probe.py", "component probe: template folder", "is empty"],
            id="empty-template-folder",
        ),
        pytest.param(
            lambda d: (
                write_component(d),
                (d / "templates" / "probe" / "big.yaml").write_bytes(b"#" * (5 * 1024 * 1024 + 1)),
            ),
            ["probe.py: component probe", "big.yaml: is larger than the limit of 5 MiB"],
            id="template-file-beyond-helms-limit",
        ),
        pytest.param(
            lambda d: write_component(d, template=TEMPLATE + "{{ .Values.NAME.missing }}\n"),
            [
                "probe.py",
                "component probe: istio/templates/probe/configmap.yaml reads values.probe.missing",
            ],
            id="reads-an-undeclared-value",
        ),
        pytest.param(
            lambda d: write_component(d, template=TEMPLATE + "{{ tpl .Values.NAME.mode $ }}\n"),
            ["profile 'mine': lint errors VALUES-AS-CODE"],
            id="tpl-on-values",
        ),
        pytest.param(
            lambda d: write_component(d, template=TEMPLATE + "# [= data.x =]\n"),
            ["profile 'mine': lint errors VALUES-AS-CODE"],
            id="generator-delimiter",
        ),
        pytest.param(
            lambda d: (
                d.mkdir(parents=True),
                (d / "broken.py").write_text("import nowhere_to_be_found\n"),
            ),
            ["broken.py", "failed to load: ModuleNotFoundError"],
            id="file-fails-to-import",
        ),
        pytest.param(
            lambda d: (d.mkdir(parents=True), (d / "empty.py").write_text("X = 1\n")),
            ["empty.py", "must define COMPONENT, COMPONENTS, CHART or CHARTS"],
            id="file-defines-nothing",
        ),
    ],
)
def test_bad_parts_are_one_line_errors_naming_the_file(
    tmp_path: Path, setup: Any, parts: list[str]
) -> None:
    setup(tmp_path / "components")
    code, _, stderr = build_mine(tmp_path)
    assert_one_line_error(code, stderr, *parts)
    assert not (tmp_path / "out").exists(), "a refused build wrote its folder"


@pytest.mark.parametrize(
    ("line", "finding", "allowed"),
    [
        # Allowed, tpl still cannot build: the build's render check does not run it.
        ("{{ tpl .Values.NAME.mode $ }}", "probe/configmap.yaml:9 calls tpl", 2),
        ("# [= data.x =]", "probe/configmap.yaml:9 holds the generator delimiter [=", 0),
    ],
)
def test_lint_names_the_template_line_that_makes_values_code(
    tmp_path: Path, line: str, finding: str, allowed: int
) -> None:
    write_component(tmp_path / "components", template=TEMPLATE + line + "\n")
    profiles = write_profile(tmp_path / "profiles")
    args = ("--profiles", str(profiles), "--components", str(tmp_path / "components"))
    code, stdout, _ = run_meshcharts("lint", *args, "-p", "mine")
    assert code == 1
    (reported,) = [text for text in stdout.splitlines() if text.startswith("VALUES-AS-CODE")]
    assert finding in reported
    assert f"component probe ({tmp_path / 'components' / 'probe.py'})" in reported
    code, _, stderr = build_mine(tmp_path, "--allow", "VALUES-AS-CODE")
    assert code == allowed, stderr
    if allowed:
        assert_one_line_error(code, stderr, "chart istio of profile mine", "tpl is not supported")


def test_a_user_chart_with_revisions_must_name_its_objects_apart(tmp_path: Path) -> None:
    components = tmp_path / "components"
    (components / "templates" / "_chart").mkdir(parents=True)
    (components / "templates" / "_chart" / "NOTES.txt").write_text("notes\n")
    (components / "templates" / "probe").mkdir(parents=True)
    (components / "templates" / "probe" / "role.yaml").write_text(
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n"
        '  name: {{ printf "probe-%s" .Values.probe.mode | quote }}\nrules: []\n'
    )
    (components / "probe.py").write_text(
        "from meshcharts import ChartDef, Component\n"
        "COMPONENT = Component(name='probe', chart='probes', summary='A probe',\n"
        "    defaults={'mode': 'on'}, docs={'mode': 'The mode.'})\n"
        "CHART = ChartDef(name='probes', description='Probes', revisions=True,\n"
        "    values={'revision': ''}, template_path='templates/_chart')\n"
    )
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    (profiles / "mine.py").write_text(
        "from meshcharts import Profile\n"
        "PROFILE = Profile(name='mine', description='Mine', charts={'probes': ('probe',)})\n"
    )
    code, _, stderr = run_meshcharts(
        "build", "--profiles", str(profiles), "--components", str(components), "-p", "mine",
        "--build-dir", str(tmp_path / "out"),
    )  # fmt: skip
    assert_one_line_error(code, stderr, "revision 'canary'", "both define ClusterRole/probe-on")
    # Named apart with the revision, it builds, with a canary package of the chart.
    (components / "templates" / "probe" / "role.yaml").write_text(
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n"
        '  name: {{ list "probe" .Values.probe.mode .Values.revision | compact | join "-" | quote }}\n'
        "rules: []\n"
    )
    code, _, stderr = run_meshcharts(
        "build", "--profiles", str(profiles), "--components", str(components), "-p", "mine",
        "--build-dir", str(tmp_path / "out"),
    )  # fmt: skip
    assert code == 0, stderr
    records = json.loads((tmp_path / "out" / "build.json").read_text())["packages"]
    assert {(r["chart"], r["revision"]) for r in records} == {("probes", ""), ("probes", "canary")}


# --- installed packages ---------------------------------------------------------------------------


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def build_wheel(folder: Path, module_source: str, templates: dict[str, str]) -> Path:
    """A tiny wheel of the package ``acme_mesh`` with a ``meshcharts.components`` entry point."""
    files: dict[str, bytes] = {"acme_mesh/__init__.py": module_source.encode()}
    files |= {f"acme_mesh/templates/{k}": v.encode() for k, v in templates.items()}
    info = "acme_mesh-0.1.0.dist-info"
    files[f"{info}/METADATA"] = b"Metadata-Version: 2.1\nName: acme-mesh\nVersion: 0.1.0\n"
    files[f"{info}/WHEEL"] = (
        b"Wheel-Version: 1.0\nGenerator: meshcharts-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    )
    files[f"{info}/entry_points.txt"] = b"[meshcharts.components]\nacme = acme_mesh\n"
    record = [_record_line(name, data) for name, data in files.items()] + [f"{info}/RECORD,,"]
    files[f"{info}/RECORD"] = ("\n".join(record) + "\n").encode()
    wheel = folder / "acme_mesh-0.1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return wheel


def pip_install(wheel: Path, target: Path) -> None:
    # Into a folder of its own (not the test venv itself), so no later test sees the plugin.
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
         "--disable-pip-version-check", "--target", str(target), str(wheel)],
        check=True, timeout=300,
    )  # fmt: skip


def with_path(target: Path) -> dict[str, str]:
    import os

    return {**os.environ, "PYTHONPATH": str(target)}


ACME = (
    "from meshcharts import Component\n"
    "COMPONENT = Component(name='acmeProbe', chart='istio', summary='ACME probe',\n"
    "    defaults={'enabled': True, 'mode': 'on'}, docs={'mode': 'The mode.'},\n"
    "    template_path='templates/acmeProbe')\n"
)


def test_a_component_of_an_installed_package_is_found_through_its_entry_point(
    tmp_path: Path,
) -> None:
    wheel = build_wheel(
        tmp_path, ACME, {"acmeProbe/configmap.yaml": TEMPLATE.replace("NAME", "acmeProbe")}
    )
    target = tmp_path / "site"
    pip_install(wheel, target)
    profiles = write_profile(tmp_path / "profiles", ("pilot", "acmeProbe"))
    code, _, stderr = run_meshcharts(
        "build", "--profiles", str(profiles), "-p", "mine", "--build-dir", str(tmp_path / "out"),
        env=with_path(target),
    )  # fmt: skip
    assert code == 0, stderr
    with tarfile.open(tmp_path / "out" / "mine" / "istio-1.0.6.tgz") as archive:
        member = archive.extractfile("istio/templates/acmeProbe/configmap.yaml")
        assert member is not None
        assert b".Values.acmeProbe.mode" in member.read()


def test_an_entry_point_that_fails_to_import_is_one_line(tmp_path: Path) -> None:
    wheel = build_wheel(tmp_path, "raise RuntimeError('acme is broken')\n", {"x/y.yaml": "x: 1\n"})
    target = tmp_path / "site"
    pip_install(wheel, target)
    code, _, stderr = run_meshcharts("profiles", env=with_path(target))
    assert_one_line_error(
        code, stderr, "entry point acme = acme_mesh", "RuntimeError: acme is broken"
    )


def test_a_user_chart_is_published_and_release_diffed_like_the_built_ins(tmp_path: Path) -> None:
    for version, label in (("1.0.6", "grafana_dashboard"), ("1.0.7", "dashboards")):
        code, _, stderr = run_meshcharts(
            "build", *EXAMPLE_ARGS, "-p", "company", "--version", version,
            "--set", f"dashboards.label={label}", "--build-dir", str(tmp_path / version),
        )  # fmt: skip
        assert code == 0, stderr
    repo = tmp_path / "repo"
    code, _, stderr = run_meshcharts(
        "publish", "--to", str(repo), "--build-dir", str(tmp_path / "1.0.6")
    )
    assert code == 0, stderr
    index = yaml.safe_load((repo / "company" / "index.yaml").read_text())
    assert [e["version"] for e in index["entries"]["company-dashboards"]] == ["1.0.6"]
    assert (repo / "company" / "company-dashboards-1.0.6.tgz").is_file()
    old = tmp_path / "1.0.6" / "company" / "company-dashboards-1.0.6.tgz"
    new = tmp_path / "1.0.7" / "company" / "company-dashboards-1.0.7.tgz"
    code, stdout, stderr = run_meshcharts(
        "release-diff", str(old), str(new), *EXAMPLE_ARGS, "--format", "json"
    )
    assert code == 0, stderr
    report = json.loads(stdout)
    assert not report["breaking"]
    changed = {(c["kind"], c["name"]) for c in report["changes"]}
    assert ("ConfigMap", "dashboard-mesh-overview") in changed


def test_a_component_listed_by_its_chart_and_defined_loose_is_one_component(tmp_path: Path) -> None:
    folder = tmp_path / "components"
    write_component(folder, chart="probes")
    (folder / "templates" / "_chart").mkdir()
    (folder / "templates" / "_chart" / "NOTES.txt").write_text("notes\n")
    (folder / "chart.py").write_text(
        "from meshcharts import ChartDef\nfrom probe import COMPONENT\n"
        "CHART = ChartDef(name='probes', description='Probes', values={'revision': ''},\n"
        "    components=(COMPONENT,), template_path='templates/_chart')\n"
    )
    sys.path.insert(0, str(folder))
    try:
        catalog = load_profiles([], [folder]).catalog
    finally:
        sys.path.remove(str(folder))
        sys.modules.pop("probe", None)
    assert [c.name for c in catalog.charts["probes"].components] == ["probe"]
