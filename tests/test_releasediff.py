"""Release diff: every change between two packages classified for ``helm upgrade``."""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from meshcharts import SetArg, build_packages, load_profiles
from meshcharts.chart.assemble import ChartTree
from meshcharts.checks.diff import DiffError, load_package
from meshcharts.checks.releasediff import (
    compare_build,
    environment_overlays,
    format_release_diff,
    release_diff,
    release_diff_json,
)
from meshcharts.cli import app
from meshcharts.errors import UserError
from meshcharts.inputs.environments import builtin_environments_dir, load_environment
from meshcharts.release.package import package_chart

runner = CliRunner()
PROFILES = load_profiles()

Objects = dict[str, dict[str, Any]]


def _crd(name: str, versions: list[tuple[str, bool]]) -> dict[str, Any]:
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": name, "annotations": {"helm.sh/resource-policy": "keep"}},
        "spec": {
            "group": "probe.io",
            "names": {"kind": name.split(".")[0].title(), "plural": name.split(".")[0]},
            "scope": "Namespaced",
            "versions": [
                {"name": v, "served": True, "storage": storage, "schema": {}}
                for v, storage in versions
            ],
        },
    }


def _objects() -> Objects:
    labels = {"app": "probe"}
    template = {
        "metadata": {"labels": labels},
        "spec": {"containers": [{"name": "main", "image": "probe:1.0"}]},
    }
    return {
        "deployment": {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "probe"},
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": dict(labels)},
                "template": copy.deepcopy(template),
            },
        },
        "service": {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "probe"},
            "spec": {"clusterIP": "10.0.0.10", "ports": [{"name": "http", "port": 80}]},
        },
        "configmap": {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "probe"},
            "data": {"mode": "a"},
        },
        "job": {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": {"name": "probe-init"},
            "spec": {"template": copy.deepcopy(template)},
        },
        "crd": _crd("widgets.probe.io", [("v1alpha1", False), ("v1", True)]),
        "other-crd": _crd("gadgets.probe.io", [("v1", True)]),
    }


def _package(folder: Path, objects: Objects, version: str, chart: str = "probe") -> Path:
    text = yaml.safe_dump_all(list(objects.values()), sort_keys=True)
    metadata = f"apiVersion: v2\nname: {chart}\nversion: {version}\n"
    tree = ChartTree(
        chart,
        version,
        {"apiVersion": "v2", "name": chart, "version": version},
        {
            "Chart.yaml": metadata.encode(),
            "values.yaml": b"{}\n",
            "templates/objects.yaml": text.encode(),
        },
    )
    path = folder / f"{chart}-{version}.tgz"
    folder.mkdir(parents=True, exist_ok=True)
    path.write_bytes(package_chart(tree, mtime=0))
    return path


def _pair(tmp_path: Path, change: Callable[[Objects], None]) -> tuple[Path, Path]:
    old = _objects()
    new = _objects()
    change(new)
    return _package(tmp_path, old, "1.0.0"), _package(tmp_path, new, "1.1.0")


def _selector(o: Objects) -> None:
    o["deployment"]["spec"]["selector"]["matchLabels"]["app"] = "probe2"


def _cluster_ip(o: Objects) -> None:
    o["service"]["spec"]["clusterIP"] = "10.0.0.20"


def _job(o: Objects) -> None:
    o["job"]["spec"]["template"]["spec"]["containers"][0]["image"] = "probe:2.0"


def _crd_version_removed(o: Objects) -> None:
    o["crd"] = _crd("widgets.probe.io", [("v1", True)])


def _storage(o: Objects) -> None:
    o["crd"] = _crd("widgets.probe.io", [("v1alpha1", True), ("v1", False)])


def _crd_removed(o: Objects) -> None:
    del o["other-crd"]


def _image(o: Objects) -> None:
    o["deployment"]["spec"]["template"]["spec"]["containers"][0]["image"] = "probe:2.0"


def _configmap(o: Objects) -> None:
    o["configmap"]["data"]["mode"] = "b"


def _added(o: Objects) -> None:
    o["extra"] = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "extra"}}


@pytest.mark.parametrize(
    ("change", "severity", "title", "path", "reason"),
    [
        (_selector, "breaking", "Deployment probe", "spec.selector.matchLabels.app", "immutable"),
        (_cluster_ip, "breaking", "Service probe", "spec.clusterIP", "immutable"),
        (_job, "breaking", "Job probe-init", "spec.template", "immutable"),
        (
            _crd_version_removed,
            "breaking",
            "CustomResourceDefinition widgets.probe.io",
            "spec.versions[name=v1alpha1]",
            "v1alpha1 removed",
        ),
        (
            _storage,
            "breaking",
            "CustomResourceDefinition widgets.probe.io",
            "spec.versions[name=v1",
            "storage version",
        ),
        (
            _crd_removed,
            "breaking",
            "CustomResourceDefinition gadgets.probe.io",
            "",
            "orphans it",
        ),
        (_image, "disruptive", "Deployment probe", "spec.template", "restarts"),
        (_configmap, "safe", "ConfigMap probe", "data.mode", ""),
        (_added, "safe", "ConfigMap extra", "", "added"),
    ],
)
def test_each_class_of_change(
    tmp_path: Path,
    change: Callable[[Objects], None],
    severity: str,
    title: str,
    path: str,
    reason: str,
) -> None:
    old, new = _pair(tmp_path, change)
    report = release_diff(old, new)
    assert report.findings, "the change is found"
    assert {f.severity for f in report.findings} == {severity}
    assert {f.title.replace("probe/", "") for f in report.findings} == {title}
    assert all(f.path.startswith(path) for f in report.findings)
    assert all(reason in f.reason for f in report.findings)
    assert report.breaking is (severity == "breaking")
    code_expected = 1 if severity == "breaking" else 0
    result = runner.invoke(app, ["release-diff", str(old), str(new)])
    assert result.exit_code == code_expected, result.output
    assert result.stdout == format_release_diff(report)
    allowed = runner.invoke(app, ["release-diff", str(old), str(new), "--allow-breaking"])
    assert allowed.exit_code == 0
    as_json = runner.invoke(app, ["release-diff", str(old), str(new), "--format", "json"])
    assert json.loads(as_json.stdout) == json.loads(release_diff_json(report))
    counts = json.loads(as_json.stdout)["counts"]
    assert counts[severity] == len(report.findings)
    assert counts["removed"] == len(report.removed) == (1 if change is _crd_removed else 0)


def test_clearing_a_cluster_ip_and_an_unchanged_release_are_safe(tmp_path: Path) -> None:
    def clear(o: Objects) -> None:
        del o["service"]["spec"]["clusterIP"]

    old, new = _pair(tmp_path, clear)
    assert {f.severity for f in release_diff(old, new).findings} == {"safe"}
    same = release_diff(old, old)
    assert same.findings == ()
    assert "no differences" in format_release_diff(same)


def test_a_removed_crd_without_keep_is_deleted_with_its_resources(tmp_path: Path) -> None:
    def plain(o: Objects) -> None:
        del o["other-crd"]["metadata"]["annotations"]

    old = _objects()
    plain(old)
    new = copy.deepcopy(old)
    del new["other-crd"]
    report = release_diff(_package(tmp_path, old, "1.0.0"), _package(tmp_path, new, "1.1.0"))
    (finding,) = report.findings
    assert finding.severity == "breaking"
    assert "deletes it and every custom resource" in finding.reason


def _webhook(kind: str, name: str) -> dict[str, Any]:
    return {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": kind,
        "metadata": {"name": name},
        "webhooks": [{"name": f"{name}.probe.io", "sideEffects": "None"}],
    }


def test_removed_workloads_services_and_webhooks_are_disruptive(tmp_path: Path) -> None:
    old = _objects()
    old["injector"] = _webhook("MutatingWebhookConfiguration", "probe-injector")
    old["validator"] = _webhook("ValidatingWebhookConfiguration", "probe-validator")
    old["cronjob"] = {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": "probe-cron"},
        "spec": {"schedule": "@daily", "jobTemplate": {"spec": copy.deepcopy(old["job"]["spec"])}},
    }
    new = copy.deepcopy(old)
    for key in ("deployment", "service", "injector", "validator", "cronjob", "job", "configmap"):
        del new[key]
    report = release_diff(_package(tmp_path, old, "1.0.0"), _package(tmp_path, new, "1.1.0"))
    severities = {f.title.replace("probe/", ""): f.severity for f in report.findings}
    assert severities == {
        "Deployment probe": "disruptive",
        "Service probe": "disruptive",
        "MutatingWebhookConfiguration probe-injector": "disruptive",
        "ValidatingWebhookConfiguration probe-validator": "disruptive",
        "CronJob probe-cron": "disruptive",
        "Job probe-init": "disruptive",
        "ConfigMap probe": "safe",
    }
    assert len(report.removed) == 7
    assert all(
        f.change == "removed" and "helm upgrade deletes it" in f.reason for f in report.removed
    )
    reasons = {f.kind: f.reason for f in report.removed}
    assert "its pods" in reasons["Deployment"]
    assert "lose the endpoint" in reasons["Service"]
    assert "sidecar injection stops" in reasons["MutatingWebhookConfiguration"]
    assert "no longer validated" in reasons["ValidatingWebhookConfiguration"]
    assert not report.breaking
    text = format_release_diff(report)
    assert "\nbreaking: 0, disruptive: 6, safe: 1 (removed objects: 7)\n" in text
    assert "      - (object)\n        (Service removed: helm upgrade deletes it" in text
    counts = json.loads(release_diff_json(report))["counts"]
    assert counts == {"breaking": 0, "disruptive": 6, "removed": 7, "safe": 1}


def test_packages_of_different_charts_are_a_user_error(tmp_path: Path) -> None:
    old = _package(tmp_path, _objects(), "1.0.6", chart="istio")
    new = _package(tmp_path, _objects(), "1.0.7", chart="istio-init")
    with pytest.raises(DiffError) as caught:
        release_diff(old, new)
    assert isinstance(caught.value, UserError)
    expected = (
        "istio-init-1.0.7.tgz: chart istio-init, but istio-1.0.6.tgz is chart istio "
        "(release-diff compares two versions of one chart)"
    )
    assert str(caught.value) == expected
    result = runner.invoke(app, ["release-diff", str(old), str(new)])
    assert result.exit_code == 2
    assert expected in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_text_report_groups_by_severity(tmp_path: Path) -> None:
    def many(o: Objects) -> None:
        _selector(o)
        _image(o)
        _configmap(o)

    old, new = _pair(tmp_path, many)
    text = format_release_diff(release_diff(old, new))
    assert text.startswith(
        "old: probe-1.0.0.tgz\nnew: probe-1.1.0.tgz\n"
        "breaking: 1, disruptive: 1, safe: 1 (removed objects: 0)\n"
        "breaking:\n  Deployment probe\n"
        '      ~ spec.selector.matchLabels.app: "probe" -> "probe2"\n'
        "        (Deployment spec.selector is immutable: helm upgrade fails)\n"
        "disruptive:\n"
    )
    assert text.index("disruptive:") < text.index("safe:")


# --- real packages --------------------------------------------------------------------------


def _istio(folder: Path, version: str, *sets: str, profile: str = "minimal") -> Path:
    packages = build_packages(
        PROFILES, [profile], version=version, sets=[SetArg(s) for s in sets], revisions=()
    )
    istio = next(p for p in packages if p.tree.name == "istio")
    path = folder / f"istio-{version}.tgz"
    folder.mkdir(parents=True, exist_ok=True)
    path.write_bytes(istio.data)
    return path


def test_two_builds_with_different_values(tmp_path: Path) -> None:
    old = _istio(tmp_path / "old", "1.0.6")
    new = _istio(tmp_path / "new", "1.0.7", "pilot.traceSampling=10")
    report = release_diff(old, new)
    assert not report.breaking
    disruptive = {f.path for f in report.of("disruptive")}
    assert "spec.template.spec.containers[name=discovery].env[name=PILOT_TRACE_SAMPLING].value" in (
        disruptive
    )
    # The chart label (with the version) is on every object: safe outside pod templates.
    assert any(f.path.startswith("metadata.labels") for f in report.of("safe"))


def test_env_values_file_is_applied_to_both(tmp_path: Path) -> None:
    env = load_environment(builtin_environments_dir() / "prod.yaml")
    old = _istio(tmp_path / "old", "1.0.6", profile=env.profile)
    new = _istio(tmp_path / "new", "1.0.7", "pilot.autoscaleMin=5", profile=env.profile)
    plain = release_diff(old, new)
    assert plain.findings
    assert any(f.b == 5 for f in plain.findings)
    overlays = environment_overlays(PROFILES, env, ["istio"])
    assert overlays["istio"]["pilot"]["autoscaleMin"] == 3
    # prod sets pilot.autoscaleMin itself: with its values file, both releases agree.
    assert not any(f.b == 5 for f in release_diff(old, new, overlays=overlays).findings)
    result = runner.invoke(app, ["release-diff", str(old), str(new), "--env", str(env.path)])
    assert result.exit_code == 0, result.output
    assert "5" not in result.stdout.split("\n", 2)[2]


def test_unreadable_package_is_a_user_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.tgz"
    bad.write_bytes(b"nope")
    result = runner.invoke(app, ["release-diff", str(bad), str(bad)])
    assert result.exit_code == 2
    assert "not a chart package" in result.stderr


# --- build --previous -----------------------------------------------------------------------


def _cli_build(out: Path, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["build", "-p", "minimal", "--build-dir", str(out), *args])
    return result.exit_code, result.stdout, result.stderr


def test_build_previous_reports_each_package_and_new_ones(tmp_path: Path) -> None:
    old = tmp_path / "old"
    assert _cli_build(old, "--version", "1.0.6")[0] == 0
    new = tmp_path / "new"
    code, stdout, stderr = _cli_build(
        new,
        "--version",
        "1.0.7",
        "--set",
        "pilot.traceSampling=10",
        "--revision",
        "blue",
        "--previous",
        str(old),
    )
    assert code == 0, stderr
    assert "minimal/istio-1.0.7.tgz: against minimal/istio-1.0.6.tgz: breaking 0, disruptive" in (
        stdout
    )
    assert "minimal/istio-1.0.7-blue.tgz: new (no package of this profile/chart/revision" in stdout
    assert (new / "build.json").is_file()


def _built(version: str, *sets: str) -> list[tuple[str, str, str, str, bytes]]:
    """The (profile, chart, revision, path, bytes) of a minimal build with revision x."""
    packages = build_packages(
        PROFILES, ["minimal"], version=version, sets=[SetArg(s) for s in sets], revisions=["x"]
    )
    return [(p.profile, p.tree.name, p.revision, p.path, p.data) for p in packages]


def test_compare_build_matches_each_package_of_the_same_chart(tmp_path: Path) -> None:
    # The library alone (no CLI): an old build folder is its packages and build.json.
    old = tmp_path / "old"
    entries = []
    for profile, chart, revision, path, data in _built("1.0.6"):
        (old / path).parent.mkdir(parents=True, exist_ok=True)
        (old / path).write_bytes(data)
        version = path.split("/", 1)[1].removeprefix(f"{chart}-").removesuffix(".tgz")
        entries.append(
            {
                "profile": profile,
                "chart": chart,
                "revision": revision,
                "version": version,
                "path": path,
                "sha256": hashlib.sha256(data).hexdigest(),
            }
        )
    (old / "build.json").write_text(json.dumps({"packages": entries}))
    new = _built("1.0.7", "pilot.traceSampling=10")
    results = compare_build(new, old)
    assert len(results) == len(entries) == 3  # istio-init, istio and istio of revision x
    for result, entry in zip(results, entries, strict=True):
        assert result.previous == entry["path"]
        assert result.path == entry["path"].replace("1.0.6", "1.0.7")
        assert result.report is not None and not result.report.breaking
        assert result.report.removed == ()
    # The chart label (with the version) bumps the pod templates of the istio charts.
    disruptive = {r.previous for r in results if r.report is not None and r.report.of("disruptive")}
    assert disruptive == {e["path"] for e in entries if e["chart"] == "istio"}


def test_build_previous_refuses_breaking_changes(tmp_path: Path) -> None:
    old = tmp_path / "old"
    assert _cli_build(old, "--version", "1.0.6", "--revision", "x")[0] == 0
    record = json.loads((old / "build.json").read_text())
    init = next(e for e in record["packages"] if e["chart"] == "istio-init")
    # The old release had one more CRD: upgrading to the new build removes it.
    path = old / init["path"]
    tree = load_package(path)
    extra = yaml.safe_dump(_crd("widgets.probe.io", [("v1", True)])).encode()
    files = {**tree.files, "templates/zz-widgets.yaml": extra}
    path.write_bytes(package_chart(replace(tree, files=files), mtime=0))
    new = tmp_path / "new"
    code, stdout, stderr = _cli_build(new, "--version", "1.0.7", "--previous", str(old))
    assert code == 2
    assert f"breaking changes for helm upgrade in {init['path'].replace('1.0.6', '1.0.7')}" in (
        stderr
    )
    assert "CustomResourceDefinition widgets.probe.io" in stderr
    assert not new.exists(), "nothing is written on refusal"
    code, _, stderr = _cli_build(
        new, "--version", "1.0.7", "--previous", str(old), "--allow-breaking"
    )
    assert code == 0, stderr
    assert (new / "build.json").is_file()


def test_build_previous_without_build_json_is_a_user_error(tmp_path: Path) -> None:
    code, _, stderr = _cli_build(tmp_path / "new", "--previous", str(tmp_path))
    assert code == 2
    assert "no build.json" in stderr
    assert not (tmp_path / "new").exists()
