"""Canary control planes: packages, names, labels, selectors and singletons, under real Helm."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import pytest
import semver
from tools import HELM4, helm_binaries, run_helm, split_manifest

from meshcharts import BuiltPackage, build_packages, load_profiles, write_build
from meshcharts.checks.render import render_objects
from meshcharts.cli import app

PROFILES = sorted(p for p in load_profiles().builtin if "istio" in load_profiles().charts(p))
"""The built-in profiles with a control plane (the istio chart, which has revisions)."""


@functools.cache
def _packages() -> tuple[BuiltPackage, ...]:
    return tuple(
        build_packages(load_profiles(), PROFILES, version="1.0.6", revisions=("canary", "next"))
    )


def _package(profile: str, revision: str) -> BuiltPackage:
    return next(
        p
        for p in _packages()
        if p.profile == profile and p.revision == revision and p.tree.name == "istio"
    )


@functools.cache
def _helm_objects(profile: str, revision: str, tmp: Path) -> list[dict[str, Any]]:
    package = _package(profile, revision)
    archive = tmp / f"{profile}-{revision or 'stable'}.tgz"
    archive.write_bytes(package.data)
    sets = [a for s in package.tree.install_sets for a in ("--set", s)]
    out = run_helm(
        helm_binaries()[HELM4],
        "template",
        "istio",
        str(archive),
        "--namespace",
        package.namespace,
        *sets,
    )
    return split_manifest(out.stdout)


@pytest.fixture(scope="module")
def tmp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("revision")


@pytest.mark.parametrize("profile", PROFILES)
def test_every_profile_builds_a_canary_package(profile: str) -> None:
    canary = _package(profile, "canary")
    record = canary.record()
    assert record["revision"] == "canary"
    assert record["namespace"] == "istio-system-canary"
    assert record["version"] == "1.0.6-canary"
    assert record["path"] == f"{profile}/istio-1.0.6-canary.tgz"
    assert semver.Version.parse(record["version"]).prerelease == "canary"
    assert b"revision: canary\n" in canary.tree.files["values.yaml"]
    assert b"singletonOwner: false\n" in canary.tree.files["values.yaml"]


@pytest.mark.parametrize("profile", PROFILES)
def test_canary_objects_are_suffixed_labelled_and_selected(profile: str, tmp: Path) -> None:
    stable = _helm_objects(profile, "", tmp)
    canary = _helm_objects(profile, "canary", tmp)
    assert stable, f"the {profile} stable package renders nothing"
    assert canary, f"the {profile} canary package renders nothing"
    stable_names = {(d["kind"], d["metadata"]["name"]) for d in stable}
    for doc in canary:
        name = doc["metadata"]["name"]
        assert name.endswith("-canary"), (doc["kind"], name)
        assert doc["metadata"]["labels"]["istio.io/rev"] == "canary", (doc["kind"], name)
        assert (doc["kind"], name) not in stable_names
        selector = doc.get("spec", {}).get("selector", {})
        if doc["kind"] in ("Deployment", "DaemonSet"):
            assert selector["matchLabels"]["istio.io/rev"] == "canary"
            assert doc["spec"]["template"]["metadata"]["labels"]["istio.io/rev"] == "canary"
        if doc["kind"] == "Service" and selector:
            assert selector["istio.io/rev"] == "canary"
    assert all(d["metadata"]["labels"]["istio.io/rev"] == "default" for d in stable)
    assert not [
        d
        for d in canary
        if d["kind"]
        in (
            "MeshPolicy",
            "ClusterRbacConfig",
            "ValidatingWebhookConfiguration",
            "CustomResourceDefinition",
        )
    ]


def test_canary_injector_selects_revision_labelled_namespaces(tmp: Path) -> None:
    (hook,) = [
        d
        for d in _helm_objects("default", "canary", tmp)
        if d["kind"] == "MutatingWebhookConfiguration"
    ]
    assert hook["webhooks"][0]["namespaceSelector"] == {
        "matchLabels": {"istio.io/rev": "canary"},
        "matchExpressions": [{"key": "istio-injection", "operator": "DoesNotExist"}],
    }
    (stable,) = [
        d for d in _helm_objects("default", "", tmp) if d["kind"] == "MutatingWebhookConfiguration"
    ]
    assert stable["webhooks"][0]["namespaceSelector"] == {
        "matchLabels": {"istio-injection": "enabled"}
    }


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("revision", ["", "canary"])
def test_build_time_renderer_agrees_with_helm(profile: str, revision: str, tmp: Path) -> None:
    package = _package(profile, revision)
    ours = render_objects(
        package.tree,
        release="istio",
        namespace=package.namespace,
        values=package.tree.example_values(),
    )

    def key(doc: dict[str, Any]) -> tuple[str, str]:
        return doc["kind"], doc["metadata"]["name"]

    assert sorted(ours, key=key) == sorted(_helm_objects(profile, revision, tmp), key=key)


def test_extra_revision_and_build_json(tmp_path: Path) -> None:
    write_build(list(_packages()), tmp_path / "out")
    records = json.loads((tmp_path / "out" / "build.json").read_text())["packages"]
    revisions = {
        (r["profile"], r["revision"], r["namespace"]) for r in records if r["chart"] == "istio"
    }
    assert PROFILES, "no built-in profiles"
    for profile in PROFILES:
        assert {
            (profile, "", "istio-system"),
            (profile, "canary", "istio-system-canary"),
            (profile, "next", "istio-system-next"),
        } <= revisions


def test_cli_revision_option_and_bad_name(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    result = CliRunner().invoke(
        app,
        ["build", "--profile", "minimal", "--revision", "blue", "--build-dir", str(tmp_path / "o")],
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "o" / "minimal" / "istio-1.0.6-blue.tgz").is_file()
    assert (tmp_path / "o" / "minimal" / "istio-1.0.6-canary.tgz").is_file()
    bad = CliRunner().invoke(
        app, ["build", "--revision", "Blue!", "--build-dir", str(tmp_path / "p")]
    )
    assert bad.exit_code == 2
    assert "revision 'Blue!': not a DNS-1123 label" in bad.stderr
    assert not (tmp_path / "p").exists()
