"""Every built package against real Helm (3 and 4) and real Kubernetes schemas."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from harness import builtin_build, builtin_keys
from helpers import profile_source, write_profiles
from tools import (
    HELM3,
    HELM4,
    MESH_CUSTOM_GROUPS,
    helm_binaries,
    run_helm,
    split_manifest,
    validate_k8s,
)

from meshcharts import BuiltPackage, SetArg, build_packages, load_profiles
from meshcharts.catalog.crds import CRDS

KUBE_VERSIONS = ("1.25", "1.37")
WORKLOAD_KINDS = {"Deployment", "DaemonSet", "StatefulSet", "Job"}


def _packages() -> tuple[BuiltPackage, ...]:
    return builtin_build()


@pytest.fixture(scope="module")
def archives(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("packages")
    paths = {}
    for package in _packages():
        path = root / package.path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(package.data)
        paths[package.path] = path
    return paths


def _install_sets(archive: Path) -> list[str]:
    """``--set`` arguments with the example values of the profile's required values."""
    for package in _packages():
        if archive.as_posix().endswith(package.path):
            return [arg for item in package.tree.install_sets for arg in ("--set", item)]
    return []


@functools.cache
def _template(helm: Path, archive: Path, *extra: str) -> list[dict[str, Any]]:
    args = ("template", "istio", str(archive), "--namespace", "istio-system")
    result = run_helm(helm, *args, *_install_sets(archive), *extra)
    return split_manifest(result.stdout)


PACKAGE_IDS = [k.path for k in builtin_keys()]


@pytest.mark.parametrize("package", PACKAGE_IDS)
def test_lint_strict(helm: Path, archives: dict[str, Path], package: str) -> None:
    result = run_helm(helm, "lint", "--strict", str(archives[package]), check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 chart(s) failed" in result.stdout


@pytest.mark.parametrize("kube", KUBE_VERSIONS)
@pytest.mark.parametrize("package", PACKAGE_IDS)
def test_rendered_objects_validate_against_kubernetes(
    helm: Path, archives: dict[str, Path], package: str, kube: str
) -> None:
    docs = _template(helm, archives[package])
    assert docs, "the chart renders nothing"
    assert validate_k8s(docs, kube, strict=True, allow_custom=MESH_CUSTOM_GROUPS) == []


def _crd_schemas() -> dict[tuple[str, str], dict[str, Any]]:
    return {(f"{c.group}/{c.version}", c.kind): dict(c.schema) for c in CRDS}


@pytest.mark.parametrize("package", PACKAGE_IDS)
def test_custom_resources_validate_against_their_crds(
    helms: dict[str, Path], archives: dict[str, Path], package: str
) -> None:
    schemas = _crd_schemas()
    docs = _template(helms[HELM4], archives[package])
    assert docs, "the chart renders nothing"
    for doc in docs:
        group = doc["apiVersion"].split("/")[0]
        if not any(group == g or group.endswith("." + g) for g in MESH_CUSTOM_GROUPS):
            continue
        key = (doc["apiVersion"], doc["kind"])
        assert key in schemas, f"{key} has no CRD in istio-init"
        body = {k: v for k, v in doc.items() if k not in ("apiVersion", "kind", "metadata")}
        jsonschema.validate(body, schemas[key])


@pytest.mark.parametrize("package", PACKAGE_IDS)
def test_helm3_and_helm4_render_the_same_objects(
    helms: dict[str, Path], archives: dict[str, Path], package: str
) -> None:
    def key(doc: dict[str, Any]) -> tuple[str, str]:
        return doc["kind"], doc["metadata"]["name"]

    helm3 = sorted(_template(helms[HELM3], archives[package]), key=key)
    assert helm3 == sorted(_template(helms[HELM4], archives[package]), key=key)


def _containers(doc: dict[str, Any]) -> Iterator[dict[str, Any]]:
    spec = doc["spec"]["template"]["spec"]
    assert spec["containers"], f"{doc['metadata']['name']} has no containers"
    yield from spec.get("initContainers", [])
    yield from spec["containers"]


@pytest.mark.parametrize("package", [p for p in PACKAGE_IDS if "/istio-1" in p])
def test_every_container_has_requests_and_limits(
    helms: dict[str, Path], archives: dict[str, Path], package: str
) -> None:
    workloads = [
        d for d in _template(helms[HELM4], archives[package]) if d["kind"] in WORKLOAD_KINDS
    ]
    assert workloads
    for doc in workloads:
        for container in _containers(doc):
            resources = container.get("resources", {})
            assert resources.get("requests") and resources.get("limits"), (
                doc["metadata"]["name"],
                container["name"],
            )


def test_istio_init_crds_are_plain_kept_templates(
    helms: dict[str, Path], archives: dict[str, Path]
) -> None:
    default = _template(helms[HELM4], archives["default/istio-init-1.0.6.tgz"])
    with_certmanager = _template(
        helms[HELM4], archives["default/istio-init-1.0.6.tgz"], "--set", "certmanager.enabled=true"
    )
    assert {d["kind"] for d in default} == {"CustomResourceDefinition"}
    assert all(d["apiVersion"] == "apiextensions.k8s.io/v1" for d in default)
    assert all(
        d["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep" for d in with_certmanager
    )
    groups = {d["spec"]["group"] for d in default}
    assert groups == {
        "networking.istio.io",
        "authentication.istio.io",
        "rbac.istio.io",
        "config.istio.io",
    }
    added = {d["metadata"]["name"] for d in with_certmanager} - {
        d["metadata"]["name"] for d in default
    }
    assert added == {
        f"{p}.certmanager.k8s.io"
        for p in ("clusterissuers", "issuers", "certificates", "orders", "challenges")
    }


COMPONENT_DEPLOYMENTS = {
    "pilot": "istio-pilot",
    "security": "istio-citadel",
    "sidecarInjectorWebhook": "istio-sidecar-injector",
    "galley": "istio-galley",
    "mixer": "istio-telemetry",
    "gateways": "istio-ingressgateway",
    "prometheus": "prometheus",
}


@pytest.mark.parametrize("component", sorted(COMPONENT_DEPLOYMENTS))
def test_enabled_false_removes_a_component(
    helms: dict[str, Path], archives: dict[str, Path], component: str
) -> None:
    archive = archives["default/istio-1.0.6.tgz"]
    on = {(d["kind"], d["metadata"]["name"]) for d in _template(helms[HELM4], archive)}
    off = {
        (d["kind"], d["metadata"]["name"])
        for d in _template(helms[HELM4], archive, "--set", f"{component}.enabled=false")
    }
    assert off < on
    assert ("Deployment", COMPONENT_DEPLOYMENTS[component]) in on - off


def test_injector_selects_labelled_namespaces(
    helms: dict[str, Path], archives: dict[str, Path]
) -> None:
    docs = _template(helms[HELM4], archives["default/istio-1.0.6.tgz"])
    (webhook,) = [d for d in docs if d["kind"] == "MutatingWebhookConfiguration"]
    assert webhook["apiVersion"] == "admissionregistration.k8s.io/v1"
    assert webhook["webhooks"][0]["namespaceSelector"] == {
        "matchLabels": {"istio-injection": "enabled"}
    }


def test_minimal_is_smaller_than_default(archives: dict[str, Path], helms: dict[str, Path]) -> None:
    minimal = _template(helms[HELM4], archives["minimal/istio-1.0.6.tgz"])
    default = _template(helms[HELM4], archives["default/istio-1.0.6.tgz"])
    assert len(minimal) < len(default)
    assert not [d for d in minimal if d["kind"] == "MutatingWebhookConfiguration"]


def test_unknown_key_fails_helm_with_its_schema_error(
    helm: Path, archives: dict[str, Path]
) -> None:
    result = run_helm(
        helm,
        "template",
        "istio",
        str(archives["default/istio-1.0.6.tgz"]),
        "--set",
        "pilot.replicaCont=2",
        check=False,
    )
    assert result.returncode != 0
    assert "replicaCont" in result.stderr
    assert "schema" in result.stderr.lower()


LITERAL = "{{ .Release.Name }}"


def test_values_are_data_never_code(tmp_path: Path) -> None:
    body = "values={'pilot': {'env': {'FROM_PROFILE': '{{ .Values.global.hub }}'}}}"
    folder = write_profiles(
        tmp_path / "p", {"inject": profile_source("inject", extends="minimal", body=body)}
    )
    sets = [SetArg(r"pilot.env.FROM_SET=\{\{ .Release.Name \}\}")]
    built = build_packages(load_profiles([folder]), ["inject"], version="1.0.6", sets=sets)
    (package,) = [p for p in built if p.tree.name == "istio" and not p.revision]
    archive = tmp_path / "istio.tgz"
    archive.write_bytes(package.data)
    for helm in helm_binaries().values():
        docs = _template(helm, archive)
        (pilot,) = [
            d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"] == "istio-pilot"
        ]
        container = pilot["spec"]["template"]["spec"]["containers"][0]
        env = {e["name"]: e.get("value") for e in container["env"]}
        assert env["FROM_SET"] == LITERAL
        assert env["FROM_PROFILE"] == "{{ .Values.global.hub }}"


def test_required_value_fails_install_early_but_not_lint(
    helm: Path, archives: dict[str, Path]
) -> None:
    archive = str(archives["remote/istio-1.0.6.tgz"])
    result = run_helm(
        helm, "template", "istio", archive, "--namespace", "istio-system", check=False
    )
    assert result.returncode != 0
    assert "global.istioRemote needs global.remotePilotAddress" in result.stderr
    assert run_helm(helm, "lint", "--strict", archive, check=False).returncode == 0
