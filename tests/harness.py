"""Render arbitrary component sets of the istio chart with real Helm, outside any profile."""

from __future__ import annotations

import dataclasses
import functools
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from tools import HELM4, helm_binaries, run_helm, split_manifest

from meshcharts import (
    BuiltPackage,
    ChartTree,
    Component,
    Layer,
    assemble_chart,
    build_packages,
    load_profiles,
    merge_layers,
)
from meshcharts.base.fsutil import write_files
from meshcharts.catalog.charts import builtin_catalog
from meshcharts.chart.buildinfo import GOLDEN_SOURCE_COMMIT


def assemble_components(
    components: tuple[Component, ...],
    values: Mapping[str, Any] | None = None,
    *,
    chart: str = "istio",
) -> ChartTree:
    """Assemble ``chart`` with exactly ``components`` and ``values`` over their defaults."""
    definition = dataclasses.replace(builtin_catalog().charts[chart], components=components)
    defaults = definition.defaults(components)
    resolved = merge_layers([Layer("chart defaults", defaults), Layer("test", values or {})])
    return assemble_chart(
        definition, components, resolved, profile="test", version="1.0.6", app_version="1.0.6"
    )


def render_tree(tree: ChartTree, *helm_args: str, helm: Path | None = None) -> list[dict[str, Any]]:
    """``helm template`` of a chart tree (Helm 4.1.4 unless ``helm`` is given)."""
    binary = helm or helm_binaries()[HELM4]
    with tempfile.TemporaryDirectory() as scratch:
        root = write_tree(tree, Path(scratch))
        args = ("template", "istio", str(root), "--namespace", "istio-system", *helm_args)
        return split_manifest(run_helm(binary, *args).stdout)


def write_tree(tree: ChartTree, folder: Path) -> Path:
    """Write a chart tree to ``folder/<chart name>`` and return that folder."""
    root = folder / tree.name
    write_files(root, tree.files)
    return root


def assert_lint_strict(helm: Path, chart: Path, *args: str) -> None:
    """``helm lint --strict`` passes on ``chart`` (with extra arguments such as ``-f``)."""
    result = run_helm(helm, "lint", "--strict", str(chart), *args, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 chart(s) failed" in result.stdout


def one(docs: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    """The single rendered object of ``kind`` named ``name``."""
    (doc,) = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    return doc


def workload_containers(docs: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Every container, init containers first, of the Deployments and DaemonSets in ``docs``."""
    for doc in docs:
        if doc["kind"] in ("Deployment", "DaemonSet"):
            spec = doc["spec"]["template"]["spec"]
            yield from spec.get("initContainers", [])
            yield from spec["containers"]


def identities(docs: list[dict[str, Any]]) -> set[tuple[str, str]]:
    """(kind, name) of every rendered object."""
    return {(d["kind"], d["metadata"]["name"]) for d in docs}


@dataclasses.dataclass(frozen=True)
class PackageKey:
    """One package of the built-in build, known without building it."""

    profile: str
    chart: str
    revision: str

    @property
    def path(self) -> str:
        suffix = f"-{self.revision}" if self.revision else ""
        return f"{self.profile}/{self.chart}-1.0.6{suffix}.tgz"

    @property
    def key(self) -> str:
        """``profile/chart`` (``@revision``), the golden folder and renderer case name."""
        return f"{self.profile}/{self.chart}" + (f"@{self.revision}" if self.revision else "")

    @property
    def namespace(self) -> str:
        return f"istio-system-{self.revision}" if self.revision else "istio-system"


@functools.cache
def builtin_keys() -> tuple[PackageKey, ...]:
    """The packages of the built-in build, in build order, from the profiles alone.

    Tests parametrize over these at collection time, which costs milliseconds; the build
    itself (:func:`builtin_build`) runs once, when the first test needs a package.
    """
    profiles = load_profiles()
    keys: list[PackageKey] = []
    for name in sorted(profiles.builtin):
        charts = list(profiles.charts(name))
        ordered = [chart for chart in builtin_catalog().charts if chart in charts]
        keys += [PackageKey(name, chart, "") for chart in ordered]
        if "istio" in ordered:
            keys.append(PackageKey(name, "istio", "canary"))
    return tuple(keys)


@functools.cache
def builtin_build() -> tuple[BuiltPackage, ...]:
    """Every package of every built-in profile at 1.0.6, built once per test session.

    Built with the golden source commit, so the golden tests and every other test share it.
    """
    profiles = load_profiles()
    packages = tuple(
        build_packages(
            profiles, sorted(profiles.builtin), version="1.0.6", source_commit=GOLDEN_SOURCE_COMMIT
        )
    )
    assert [p.path for p in packages] == [k.path for k in builtin_keys()]
    return packages
