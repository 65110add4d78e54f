"""Test helpers: real Helm binaries, manifest splitting and Kubernetes schema validation.

Import from tests as ``from tools import ...`` (``tests/`` is on ``sys.path`` because pytest's
default ``prepend`` import mode inserts the directory of the package-less ``conftest.py``).
"""

from __future__ import annotations

import functools
import importlib.resources
import importlib.util
import os
import re
import subprocess
from collections.abc import Collection, Mapping
from pathlib import Path
from types import ModuleType
from typing import Any, cast

import kubernetes_validate
import yaml
from kubernetes_validate import utils as _kv_utils

REPO_ROOT = Path(__file__).resolve().parent.parent
PROVISION_SCRIPT = REPO_ROOT / "scripts" / "provision_helm.py"

HELM3 = "3.17.2"
HELM4 = "4.1.4"
HELM_ENV_VARS: dict[str, str] = {HELM3: "MESHCHARTS_HELM3", HELM4: "MESHCHARTS_HELM4"}

MESH_CUSTOM_GROUPS: tuple[str, ...] = ("istio.io", "certmanager.k8s.io")
"""``allow_custom`` value covering the CRD groups Istio-style charts emit."""


HELM_FORBIDDEN: list[str] = []
"""Set by conftest when the run deselects the ``helm`` marker: a test that reaches Helm
anyway is then an unmarked Helm test, which fails loudly instead of slowing the quick loop."""


@functools.cache
def provision_module() -> ModuleType:
    """Import ``scripts/provision_helm.py`` by path (``scripts`` is not a package).

    Returns:
        The loaded module.
    """
    spec = importlib.util.spec_from_file_location("meshcharts_provision_helm", PROVISION_SCRIPT)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {PROVISION_SCRIPT}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def helm_binaries() -> dict[str, Path]:
    """Return the Helm binaries to test with, keyed ``"3.17.2"`` and ``"4.1.4"``.

    ``$MESHCHARTS_HELM3`` / ``$MESHCHARTS_HELM4`` win when set (``scripts/test.sh`` exports
    them); otherwise the binary is provisioned into the cache by ``scripts/provision_helm.py``
    (a no-op after the first run).
    """
    if HELM_FORBIDDEN:
        raise AssertionError(
            "this test runs real Helm but is not marked helm (tests/conftest.py HELM_NAMES)"
        )
    result: dict[str, Path] = {}
    for version, var in HELM_ENV_VARS.items():
        env = os.environ.get(var)
        if env:
            path = Path(env)
            if not (path.is_file() and os.access(path, os.X_OK)):
                raise FileNotFoundError(f"${var}={env} is not an executable file")
        else:
            path = cast(Path, provision_module().provision(version))
        result[version] = path
    return result


def run_helm(
    helm: Path,
    *args: str,
    cwd: Path | None = None,
    check: bool = True,
    env: Mapping[str, str] | None = None,
    timeout: float = 300,
) -> subprocess.CompletedProcess[str]:
    """Run ``helm *args`` and capture its output as text.

    Args:
        helm: Helm executable.
        *args: Helm arguments, e.g. ``"template", "rel", str(chart)``.
        cwd: Working directory.
        check: When true, a nonzero exit raises :class:`AssertionError`.
        env: Extra environment variables, merged over ``os.environ``.
        timeout: Seconds before the process is killed.

    Returns:
        The completed process (``stdout``/``stderr`` are ``str``).

    Raises:
        AssertionError: If ``check`` and Helm exits nonzero; the message holds the command,
            exit status, stdout and stderr.
    """
    full_env = None if env is None else {**os.environ, **env}
    proc = subprocess.run(
        [str(helm), *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
    )
    if check and proc.returncode != 0:
        raise AssertionError(
            f"{helm} {' '.join(args)} exited {proc.returncode}\n"
            f"--- stdout ---\n{proc.stdout}\n--- stderr ---\n{proc.stderr}"
        )
    return proc


def split_manifest(text: str) -> list[dict[str, Any]]:
    """Parse a multi-document YAML manifest (e.g. ``helm template`` output).

    Empty documents (``---`` followed only by comments such as ``# Source: ...``) are skipped.

    Raises:
        AssertionError: If a non-empty document is not a mapping.
    """
    docs: list[dict[str, Any]] = []
    for index, doc in enumerate(yaml.safe_load_all(text)):
        if doc is None:
            continue
        if not isinstance(doc, dict):
            raise AssertionError(f"document {index} is a {type(doc).__name__}, not a mapping")
        docs.append(doc)
    return docs


def _shipped_minors() -> dict[str, str]:
    """Map ``"1.NN"`` to the full schema version shipped by kubernetes_validate."""
    return {_kv_utils.major_minor(full): full for full in cast(list[str], _kv_utils.all_versions())}


def supported_kube_versions() -> list[str]:
    """Return the Kubernetes minor versions kubernetes_validate ships schemas for, oldest first.

    With kubernetes-validate 1.37.0 that is ``1.25`` ... ``1.37``.
    """
    return sorted(_shipped_minors(), key=lambda v: tuple(int(p) for p in v.split(".")))


_KUBE_VERSION_RE = re.compile(r"^v?(\d+)\.(\d+)(?:\.\d+)?$")


def _normalize_kube_version(kube_version: str) -> str:
    """Return ``"1.NN"`` for ``kube_version`` or raise if there is no exact schema set for it.

    kubernetes_validate itself compares versions as strings and silently falls back to an
    older schema set (``"1.3"`` validates against 1.29) or crashes (``"1.24"`` -> IndexError),
    so the minor version is checked here first.
    """
    match = _KUBE_VERSION_RE.match(kube_version)
    if match is None:
        raise ValueError(f"malformed Kubernetes version {kube_version!r}")
    minor = f"{int(match.group(1))}.{int(match.group(2))}"
    if minor not in _shipped_minors():
        raise ValueError(
            f"kubernetes-validate {kubernetes_validate.__version__} has no schemas for "
            f"Kubernetes {minor}; available: {', '.join(supported_kube_versions())}"
        )
    return minor


def _api_group(api_version: str) -> str:
    """Return the API group of an ``apiVersion`` (``""`` for the core group ``v1``)."""
    return api_version.rpartition("/")[0]


@functools.cache
def _schema_group_labels(minor: str) -> frozenset[str]:
    """Return the group labels (``apps``, ``networking``...) with schemas for ``minor``.

    Schema files are named ``<kind>-<label>-<version>.json`` where the label is the first
    DNS label of the group (kubernetes_validate drops the rest of the domain).
    """
    schema_dir = f"v{_shipped_minors()[minor]}-local-strict"
    folder = importlib.resources.files("kubernetes_validate") / "kubernetes-json-schema"
    labels = set()
    for entry in (folder / schema_dir).iterdir():
        parts = entry.name.removesuffix(".json").split("-")
        if len(parts) == 3:
            labels.add(parts[1])
    return frozenset(labels)


def _is_builtin_group(group: str, minor: str) -> bool:
    """Whether ``group`` is served by Kubernetes itself rather than by a CRD.

    True for the core group, dot-less groups (``apps``, ``policy``...) and ``*.k8s.io``
    groups whose first label has schemas (``networking.k8s.io`` yes;
    ``certmanager.k8s.io`` and ``gateway.networking.k8s.io`` no). kubernetes_validate keys
    schemas on the first label only, so ``networking.istio.io`` must be excluded here or it
    would be checked against ``networking.k8s.io`` schemas.
    """
    if "." not in group:
        return True
    return group.endswith(".k8s.io") and group.split(".", 1)[0] in _schema_group_labels(minor)


def _group_allowed(group: str, allow_custom: Collection[str]) -> bool:
    """Whether ``group`` equals or is a subdomain of an entry of ``allow_custom``."""
    return any(group == allowed or group.endswith("." + allowed) for allowed in allow_custom)


def _describe(index: int, doc: Mapping[str, Any]) -> str:
    """Return ``"#i Kind/name (apiVersion)"`` for error messages."""
    metadata = doc.get("metadata")
    name = metadata.get("name", "?") if isinstance(metadata, dict) else "?"
    return f"#{index} {doc.get('kind', '?')}/{name} ({doc.get('apiVersion', '?')})"


def validate_k8s(
    manifest_docs: list[dict[str, Any]],
    kube_version: str,
    *,
    strict: bool = True,
    allow_custom: Collection[str] = (),
) -> list[str]:
    """Validate manifest documents against the Kubernetes OpenAPI schemas of a version.

    Uses ``kubernetes_validate.validate`` (offline; the schemas ship inside the package).
    In ``strict`` mode unknown fields are errors.

    Documents of a built-in API group (see :func:`_is_builtin_group`) must have a schema
    for ``kube_version``; a missing one (e.g. ``policy/v1beta1`` PodDisruptionBudget,
    removed in 1.25) is an error. Documents of other (custom resource) groups are errors
    too unless their group matches ``allow_custom``, meaning they are validated elsewhere
    against their CRD. An entry matches the group itself and its subdomains: ``"istio.io"``
    allows ``networking.istio.io`` and ``security.istio.io`` (see :data:`MESH_CUSTOM_GROUPS`).

    Args:
        manifest_docs: Parsed documents, e.g. from :func:`split_manifest`.
        kube_version: ``"1.25"``, ``"v1.37"``, ``"1.37.2"``...; its minor must be shipped.
        strict: Reject fields the schema does not declare.
        allow_custom: API groups (or parent domains) whose documents are skipped here.

    Returns:
        One message per invalid document; empty when everything is valid.

    Raises:
        ValueError: If no schemas for the minor of ``kube_version`` are shipped.
    """
    version = _normalize_kube_version(kube_version)
    errors: list[str] = []
    for index, doc in enumerate(manifest_docs):
        where = _describe(index, doc)
        api_version, kind = doc.get("apiVersion"), doc.get("kind")
        if not isinstance(api_version, str) or not isinstance(kind, str):
            errors.append(f"{where}: apiVersion and kind must be strings")
            continue
        group = _api_group(api_version)
        if not _is_builtin_group(group, version):
            if not _group_allowed(group, allow_custom):
                errors.append(
                    f"{where}: custom resource group {group!r} has no built-in schema "
                    f"(validate it against its CRD and pass allow_custom)"
                )
            continue
        try:
            kubernetes_validate.validate(doc, version, strict)
        except kubernetes_validate.ValidationError as exc:
            path = ".".join(str(p) for p in exc.path) or "<root>"
            errors.append(f"{where}: {path}: {exc.message}")
        except kubernetes_validate.SchemaNotFoundError as exc:
            errors.append(f"{where}: {exc.message}")
    return errors
