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

from meshcharts.base.fsutil import MARKER, check_output_dir, staged_dir, write_files
from meshcharts.errors import HelmNotFoundError, UserError
from meshcharts.inputs.profiles import ProfileSet
from meshcharts.release.build import BuiltPackage, build_packages
from meshcharts.release.helmbinary import helm_template, helm_version

__all__ = [
    "GOLDEN_HELM",
    "GoldenDiff",
    "check_golden_dir",
    "compare_golden",
    "expected_golden",
    "golden_base",
    "golden_files",
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


def check_golden_dir(golden_dir: Path) -> None:
    """Raise a UserError unless ``golden_dir`` is a folder (before an 18 s golden build)."""
    if not golden_dir.is_dir():
        raise UserError(
            f"--golden {golden_dir}",
            "no such folder (run in the meshcharts repository, or give --golden DIR; "
            "meshcharts golden update creates it)",
        )


def _existing(golden_dir: Path) -> dict[str, bytes]:
    if not golden_dir.is_dir():
        return {}
    return {
        path.relative_to(golden_dir).as_posix(): path.read_bytes()
        for path in sorted(golden_dir.rglob("*"))
        if path.is_file() and path.relative_to(golden_dir).as_posix() != MARKER
    }


def _golden_layout(golden_dir: Path) -> bool:
    """Whether ``golden_dir`` holds golden files of before the marker: profile folders only."""
    entries = [p for p in golden_dir.iterdir() if p.name != MARKER]
    return bool(entries) and all(p.is_dir() and any(p.glob("*.manifest.yaml")) for p in entries)


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
    """Replace the golden folder with ``expected`` in one swap.

    Raises:
        UserError: ``golden_dir`` is not a golden folder (nor missing or empty).
    """
    what = f"--golden {golden_dir}"
    if not (golden_dir.is_dir() and not golden_dir.is_symlink() and _golden_layout(golden_dir)):
        check_output_dir(golden_dir, what=what)
    with staged_dir(golden_dir, what=what) as staged:
        write_files(staged, expected)


def golden_profiles(profiles: ProfileSet, names: Sequence[str] = ()) -> list[str]:
    """The profiles a golden folder holds: ``names``, else the user's, else the built-ins."""
    if names:
        for name in names:
            profiles.get(name)
        return sorted(dict.fromkeys(names))
    user = [name for name in profiles.names() if name not in profiles.builtin]
    return user or sorted(profiles.builtin)


def golden_files(profiles: ProfileSet | None = None, names: Sequence[str] = ()) -> dict[str, bytes]:
    """Every golden file a fresh build of the profiles makes (needs Helm 4.1.4).

    Args:
        profiles: the available profiles (default: the built-ins).
        names: the profiles to build (default: the user's profiles of ``profiles`` if it
            has any, else the built-ins; see :func:`golden_profiles`).

    Raises:
        HelmNotFoundError: no helm, or not the version goldens are rendered with.
        UserError: an unknown profile, or a profile that does not build.
    """
    from meshcharts.catalog.charts import ISTIO_VERSION
    from meshcharts.chart.buildinfo import GOLDEN_SOURCE_COMMIT
    from meshcharts.inputs.profiles import load_profiles
    from meshcharts.release.helmbinary import find_helm

    available = profiles or load_profiles()
    packages = build_packages(
        available,
        golden_profiles(available, names),
        version=ISTIO_VERSION,
        source_commit=GOLDEN_SOURCE_COMMIT,
    )
    return expected_golden(packages, find_helm())
