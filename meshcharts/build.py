"""Build every chart of the chosen profiles into packages, an index and build.json.

Everything is assembled and packaged in memory first; only when all of it succeeded is
the output folder written, aside, and swapped in. A failed or killed build leaves the
previous output as it was.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from meshcharts.assemble import ChartTree, assemble_chart
from meshcharts.charts import ISTIO_VERSION, all_charts
from meshcharts.fsutil import staged_dir, write_files
from meshcharts.layers import Resolution, resolve
from meshcharts.names import check_version
from meshcharts.package import archive_name, package_chart, source_date_epoch
from meshcharts.profiles import ProfileSet
from meshcharts.repoindex import IndexEntry, index_yaml, timestamp
from meshcharts.setvalues import SetArg

__all__ = ["BuiltPackage", "assemble_profile", "build_packages", "build_json", "write_build"]

NAMESPACE = "istio-system"


@dataclass(frozen=True)
class BuiltPackage:
    """One packaged chart of a build.

    Attributes:
        profile: the profile it was built from.
        tree: the unpacked chart.
        data: the .tgz bytes.
        revision: the control-plane revision ("" for the stable control plane).
        namespace: the namespace to install it into.
    """

    profile: str
    tree: ChartTree
    data: bytes
    revision: str = ""
    namespace: str = NAMESPACE

    @property
    def path(self) -> str:
        """The package path relative to the output folder."""
        return f"{self.profile}/{archive_name(self.tree)}"

    @property
    def sha256(self) -> str:
        """The hex sha256 digest of the package."""
        return hashlib.sha256(self.data).hexdigest()

    def record(self) -> dict[str, str]:
        """The package's entry in build.json."""
        return {
            "profile": self.profile,
            "chart": self.tree.name,
            "version": self.tree.version,
            "app_version": self.tree.app_version,
            "revision": self.revision,
            "namespace": self.namespace,
            "path": self.path,
            "sha256": self.sha256,
        }


def assemble_profile(resolution: Resolution, *, version: str) -> list[ChartTree]:
    """Assemble every chart of a resolved profile, in install order."""
    return [
        assemble_chart(
            all_charts()[chart],
            components,
            resolution.values,
            profile=resolution.profile,
            version=version,
            app_version=ISTIO_VERSION,
        )
        for chart, components in resolution.charts.items()
    ]


def build_packages(
    profiles: ProfileSet,
    names: Sequence[str],
    *,
    version: str,
    sets: Sequence[SetArg] = (),
) -> list[BuiltPackage]:
    """Resolve, assemble and package the charts of ``names``, all in memory.

    Raises:
        UserError: a bad version, profile, ``--set`` or value; nothing has been written.
    """
    check_version(version)
    mtime = source_date_epoch()
    packages: list[BuiltPackage] = []
    for name in names:
        resolution = resolve(profiles, name, sets=sets)
        for tree in assemble_profile(resolution, version=version):
            packages.append(BuiltPackage(name, tree, package_chart(tree, mtime=mtime)))
    return packages


def build_json(packages: Sequence[BuiltPackage]) -> str:
    """build.json: every package with its digest, in build order."""
    return json.dumps({"packages": [p.record() for p in packages]}, indent=2, sort_keys=True) + "\n"


def _index(packages: Sequence[BuiltPackage], prefix: str, stamp: str) -> str:
    entries = [
        IndexEntry.for_package(p.tree.metadata, p.path.removeprefix(prefix), p.data, stamp)
        for p in packages
    ]
    return index_yaml(entries, generated=stamp)


def write_build(packages: Sequence[BuiltPackage], out: Path) -> None:
    """Write packages, ``index.yaml`` files and ``build.json`` to ``out``, atomically.

    ``out/index.yaml`` lists every package; ``out/<profile>/index.yaml`` is a repository
    of one profile, where every chart name and version is unique.
    """
    stamp = timestamp(source_date_epoch())
    files = {p.path: p.data for p in packages}
    files["index.yaml"] = _index(packages, "", stamp).encode()
    for profile in dict.fromkeys(p.profile for p in packages):
        own = [p for p in packages if p.profile == profile]
        files[f"{profile}/index.yaml"] = _index(own, f"{profile}/", stamp).encode()
    files["build.json"] = build_json(packages).encode()
    with staged_dir(out) as staged:
        write_files(staged, files)
