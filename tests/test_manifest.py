"""``check-coexist --against MANIFEST``: a canary beside a release installed by other means."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers import assert_one_line_error, run_meshcharts

from meshcharts import load_profiles
from meshcharts.base.limits import MAX_DOCUMENTS
from meshcharts.chart.profile import revision_trees
from meshcharts.checks.coexist import rendered_installed
from meshcharts.inputs.manifest import load_manifest
from meshcharts.release.build import check_revision

UPSTREAM = Path(__file__).resolve().parent / "data" / "upstream_1_1" / "installed-manifest.yaml"


def _canary_objects() -> list[dict[str, Any]]:
    (tree,) = revision_trees(load_profiles(), "default", "canary", version="1.0.6")
    return [dict(o) for o in rendered_installed("canary", tree, "istio-system-canary").objects]


def _with(tmp_path: Path, *documents: dict[str, Any]) -> Path:
    manifest = tmp_path / "installed.yaml"
    extra = "".join("---\n" + yaml.safe_dump(doc) for doc in documents)
    manifest.write_text(UPSTREAM.read_text() + extra)
    return manifest


CONTROL_PLANES = sorted(p for p in load_profiles().builtin if "istio" in load_profiles().charts(p))


@pytest.mark.parametrize("profile", CONTROL_PLANES)
def test_every_canary_runs_beside_an_upstream_11_install(profile: str) -> None:
    report = check_revision(load_profiles(), profile, "canary", version="1.0.6", against=UPSTREAM)
    assert report.collisions == ()


def test_the_canary_runs_beside_an_upstream_11_install() -> None:
    report = check_revision(load_profiles(), "default", "canary", version="1.0.6", against=UPSTREAM)
    assert report.ok and report.collisions == ()
    assert report.namespaces == ("istio-system", "istio-system-canary")
    code, stdout, stderr = run_meshcharts(
        "check-coexist", "-p", "default", "--against", str(UPSTREAM)
    )
    assert code == 0, stderr
    assert (
        "can run beside the release of" in stdout
        and "installed-manifest.yaml in istio-system" in stdout
    )


def test_the_upstream_manifest_is_read_whole() -> None:
    objects = load_manifest(UPSTREAM)
    kinds = {o["kind"] for o in objects}
    assert {"Deployment", "MutatingWebhookConfiguration", "MeshPolicy", "ClusterRole"} <= kinds
    (pilot,) = [
        o for o in objects if o["kind"] == "Deployment" and o["metadata"]["name"] == "istio-pilot"
    ]
    assert pilot["spec"]["selector"] == {"matchLabels": {"istio": "pilot"}}


def test_a_planted_object_collision_is_caught(tmp_path: Path) -> None:
    cluster_role = next(o for o in _canary_objects() if o["kind"] == "ClusterRole")
    name = cluster_role["metadata"]["name"]
    planted = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": {"name": name},
    }
    manifest = _with(tmp_path, planted)
    code, stdout, stderr = run_meshcharts(
        "check-coexist", "-p", "default", "--against", str(manifest), "--format", "json"
    )
    assert code == 2
    report = json.loads(stdout)
    assert report["collisions"] == [{"kind": "object", "detail": f"both define ClusterRole/{name}"}]
    assert report["against"] == str(manifest)
    assert "collision with the installed release of" in stderr.splitlines()[-1]


def test_namespaced_objects_collide_only_in_their_namespace(tmp_path: Path) -> None:
    config = next(o for o in _canary_objects() if o["kind"] == "ConfigMap")
    name = config["metadata"]["name"]
    elsewhere = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}}
    report = check_revision(
        load_profiles(), "default", "canary", version="1.0.6", against=_with(tmp_path, elsewhere)
    )
    assert report.ok  # istio-system, the default namespace of the manifest
    same = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": "istio-system-canary"},
    }
    report = check_revision(
        load_profiles(), "default", "canary", version="1.0.6", against=_with(tmp_path, same)
    )
    assert [c.kind for c in report.collisions] == ["object"]
    report = check_revision(
        load_profiles(),
        "default",
        "canary",
        version="1.0.6",
        against=_with(tmp_path, elsewhere),
        against_namespace="istio-system-canary",
    )
    assert [c.kind for c in report.collisions] == ["object"]


def test_an_injector_selecting_every_namespace_collides(tmp_path: Path) -> None:
    everywhere = {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "MutatingWebhookConfiguration",
        "metadata": {"name": "other-injector"},
        "webhooks": [{"name": "inject.example.com", "namespaceSelector": {}}],
    }
    report = check_revision(
        load_profiles(), "default", "canary", version="1.0.6", against=_with(tmp_path, everywhere)
    )
    assert [c.kind for c in report.collisions] == ["injector"]
    assert "other-injector/inject.example.com" in report.collisions[0].detail


def test_a_list_contributes_its_items(tmp_path: Path) -> None:
    manifest = tmp_path / "list.yaml"
    items = [
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"c{i}"}} for i in range(3)
    ]
    manifest.write_text(yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": items}))
    assert [o["metadata"]["name"] for o in load_manifest(manifest)] == ["c0", "c1", "c2"]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "holds no Kubernetes object"),
        ("---\n---\n", "holds no Kubernetes object"),
        ("- a\n", ":1: a document is not a map"),
        ("apiVersion: v1\nmetadata: {name: x}\n", ":1: a document has no kind"),
        ("kind: ConfigMap\nmetadata: {name: x}\n", ":1: a document has no apiVersion"),
        ("apiVersion: v1\nkind: ConfigMap\n---\n", ":1: a document ConfigMap has no metadata.name"),
        (
            "apiVersion: v1\nkind: A\nmetadata: {name: a}\n---\napiVersion: v1\nkind: B\nmetadata: {}\n",
            ":5: a document B has no metadata.name",
        ),
        ("apiVersion: v1\nkind: List\nitems:\n- 3\n", ":4: item 0 is not a map"),
        ("a: [\n", "invalid YAML"),
    ],
)
def test_a_bad_manifest_is_one_line(text: str, problem: str, tmp_path: Path) -> None:
    manifest = tmp_path / "bad.yaml"
    manifest.write_text(text)
    with pytest.raises(Exception, match="bad.yaml") as caught:
        load_manifest(manifest)
    assert problem in str(caught.value)
    code, _, stderr = run_meshcharts("check-coexist", "-p", "minimal", "--against", str(manifest))
    assert_one_line_error(code, stderr, "bad.yaml", problem)


def test_too_many_documents_is_a_limit(tmp_path: Path) -> None:
    manifest = tmp_path / "many.yaml"
    manifest.write_text(
        "---\n{apiVersion: v1, kind: A, metadata: {name: a}}\n" * (MAX_DOCUMENTS + 1)
    )
    with pytest.raises(Exception, match=f"more than {MAX_DOCUMENTS} documents"):
        load_manifest(manifest)


def test_a_missing_manifest_and_a_bad_namespace_are_one_line(tmp_path: Path) -> None:
    code, _, stderr = run_meshcharts(
        "check-coexist", "-p", "minimal", "--against", str(tmp_path / "no.yaml")
    )
    assert_one_line_error(code, stderr, "no.yaml")
    code, _, stderr = run_meshcharts(
        "check-coexist",
        "-p",
        "minimal",
        "--against",
        str(UPSTREAM),
        "--against-namespace",
        "Bad_NS",
    )
    assert_one_line_error(code, stderr, "Bad_NS", "DNS-1123")
