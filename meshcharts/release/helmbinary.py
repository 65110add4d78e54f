"""Finding and running a user's helm binary (for golden manifests and checks).

``meshcharts build`` never needs helm; only the golden manifests, rendered by real
``helm template``, do.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from meshcharts.errors import HelmNotFoundError, MeshchartsError

__all__ = ["find_helm", "helm_template", "helm_version"]


def find_helm() -> Path:
    """The helm binary named by ``MESHCHARTS_HELM``, else the first on PATH.

    Raises:
        HelmNotFoundError: neither gives an executable file.
    """
    named = os.environ.get("MESHCHARTS_HELM")
    if named:
        path = Path(named)
        if not (path.is_file() and os.access(path, os.X_OK)):
            raise HelmNotFoundError(f"MESHCHARTS_HELM={named}", "not an executable file")
        return path
    found = shutil.which("helm")
    if found is None:
        raise HelmNotFoundError(
            "helm",
            "not found: set MESHCHARTS_HELM or put helm on PATH "
            "(python scripts/provision_helm.py fetches Helm 4.1.4)",
        )
    return Path(found)


def _run(helm: Path, *args: str) -> str:
    result = subprocess.run([str(helm), *args], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise MeshchartsError(f"helm {' '.join(args)} failed: {result.stderr.strip()}")
    return result.stdout


def helm_version(helm: Path) -> str:
    """The helm version without the leading ``v`` (``4.1.4``)."""
    return _run(helm, "version", "--template", "{{.Version}}").strip().removeprefix("v")


def helm_template(
    helm: Path, chart: Path, *, release: str, namespace: str, sets: tuple[str, ...] = ()
) -> str:
    """``helm template`` of a chart folder or package with default values (and ``sets``)."""
    args = [arg for item in sets for arg in ("--set", item)]
    return _run(helm, "template", release, str(chart), "--namespace", namespace, *args)
