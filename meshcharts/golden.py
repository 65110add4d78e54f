"""Golden files: the reviewed chart trees and ``helm template`` manifests of every profile.

``golden/<profile>/<chart>/`` holds the unpacked chart and
``golden/<profile>/<chart>.manifest.yaml`` what Helm 4.1.4 renders from it with default
values. ``check`` compares a fresh build with them; ``update`` rewrites them in one
atomic swap, for review with ``git diff``.
"""

from __future__ import annotations

import difflib
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from meshcharts.build import BuiltPackage
from meshcharts.errors import HelmNotFoundError
from meshcharts.fsutil import staged_dir, write_files
from meshcharts.helm import helm_template, helm_version

__all__ = [
    "GOLDEN_HELM",
    "GoldenDiff",
    "compare_golden",
    "expected_golden",
    "golden_base",
    "update_golden",
]

GOLDEN_HELM = "4.1.4"


@dataclass(frozen=True)
class GoldenDiff:
    """One golden file that differs: its path and a unified diff (or what is missing)."""

    path: str
    diff: str


def golden_base(package: BuiltPackage) -> str:
    """The golden path of a package without suffix: ``<profile>/<chart>[@<revision>]``."""
    suffix = f"@{package.revision}" if package.revision else ""
    return f"{package.profile}/{package.tree.name}{suffix}"


def expected_golden(packages: Sequence[BuiltPackage], helm: Path) -> dict[str, bytes]:
    """Every golden file a build should have, by path relative to the golden folder.

    Raises:
        HelmNotFoundError: ``helm`` is not the Helm version goldens are rendered with.
    """
    version = helm_version(helm)
    if version != GOLDEN_HELM:
        raise HelmNotFoundError(
            f"helm {helm}",
            f"is {version}; golden manifests are rendered by Helm {GOLDEN_HELM} "
            "(set MESHCHARTS_HELM)",
        )
    files: dict[str, bytes] = {}
    with tempfile.TemporaryDirectory(prefix="meshcharts-golden-") as scratch:
        for package in packages:
            base = golden_base(package)
            files.update({f"{base}/{rel}": data for rel, data in package.tree.files.items()})
            archive = Path(scratch) / f"{len(files)}.tgz"
            archive.write_bytes(package.data)
            manifest = helm_template(
                helm,
                archive,
                release=package.tree.name,
                namespace=package.namespace,
                sets=package.tree.install_sets,
            )
            files[f"{base}.manifest.yaml"] = manifest.encode()
    return files


def _existing(golden_dir: Path) -> dict[str, bytes]:
    if not golden_dir.is_dir():
        return {}
    return {
        path.relative_to(golden_dir).as_posix(): path.read_bytes()
        for path in sorted(golden_dir.rglob("*"))
        if path.is_file()
    }


def _diff(path: str, old: bytes, new: bytes) -> str:
    return "".join(
        difflib.unified_diff(
            old.decode(errors="replace").splitlines(keepends=True),
            new.decode(errors="replace").splitlines(keepends=True),
            fromfile=f"golden/{path}",
            tofile=f"build/{path}",
        )
    )


def compare_golden(expected: Mapping[str, bytes], golden_dir: Path) -> list[GoldenDiff]:
    """Compare a build's golden files with ``golden_dir``: changed, missing and stale files."""
    existing = _existing(golden_dir)
    diffs: list[GoldenDiff] = []
    for path in sorted(set(expected) | set(existing)):
        if path not in existing:
            diffs.append(
                GoldenDiff(
                    path, f"missing golden file golden/{path} (run: meshcharts golden update)\n"
                )
            )
        elif path not in expected:
            diffs.append(
                GoldenDiff(path, f"stale golden file golden/{path}: the build no longer makes it\n")
            )
        elif existing[path] != expected[path]:
            diffs.append(GoldenDiff(path, _diff(path, existing[path], expected[path])))
    return diffs


def update_golden(expected: Mapping[str, bytes], golden_dir: Path) -> None:
    """Replace the golden folder with ``expected`` in one swap."""
    with staged_dir(golden_dir) as staged:
        write_files(staged, expected)
