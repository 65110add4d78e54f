"""Build every chart of the chosen profiles into packages, an index and build.json.

Besides the packages, a build writes the values file of each environment for the package
of its profile (``<profile>/values-<env>.yaml``, for ``helm install -f``). Values files are
computed from values alone: each profile's charts are assembled once per build, whatever
the number of environments.

Everything is assembled and packaged in memory first; only when all of it succeeded is
the output folder written, aside, and swapped in. A failed or killed build leaves the
previous output as it was.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from meshcharts.assemble import ChartTree, assemble_chart
from meshcharts.charts import ISTIO_VERSION, all_charts
from meshcharts.coexist import check_coexistence
from meshcharts.environments import EnvError, Environment, resolve_environment
from meshcharts.errors import LintError
from meshcharts.fsutil import staged_dir, write_files
from meshcharts.layers import Resolution, resolve
from meshcharts.lint import lint, lint_errors
from meshcharts.names import check_dns_label, check_version, revision_version
from meshcharts.package import archive_name, package_chart, source_date_epoch
from meshcharts.profiles import ProfileSet
from meshcharts.provenance import source_commit as current_source_commit
from meshcharts.repoindex import IndexEntry, index_yaml, timestamp
from meshcharts.setvalues import SetArg
from meshcharts.values import Layer
from meshcharts.valuesfile import ValuesFile, values_file

__all__ = [
    "BuiltPackage",
    "assemble_profile",
    "build_json",
    "build_packages",
    "environment_values",
    "write_build",
]

NAMESPACE = "istio-system"
CANARY = "canary"


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

    def record(self, *, signed: bool = False) -> dict[str, str]:
        """The package's entry in build.json (``provenance``: the .prov path, if signed)."""
        record = {
            "profile": self.profile,
            "chart": self.tree.name,
            "version": self.tree.version,
            "app_version": self.tree.app_version,
            "revision": self.revision,
            "namespace": self.namespace,
            "path": self.path,
            "sha256": self.sha256,
        }
        if signed:
            record["provenance"] = f"{self.path}.prov"
        return record


def assemble_profile(
    resolution: Resolution, *, version: str, source_commit: str = "unknown"
) -> list[ChartTree]:
    """Assemble every chart of a resolved profile, in install order."""
    return [
        assemble_chart(
            all_charts()[chart],
            components,
            resolution.values,
            profile=resolution.profile,
            version=version,
            app_version=ISTIO_VERSION,
            required=resolution.required,
            source_commit=source_commit,
        )
        for chart, components in resolution.charts.items()
    ]


def build_packages(
    profiles: ProfileSet,
    names: Sequence[str],
    *,
    version: str,
    sets: Sequence[SetArg] = (),
    allow: frozenset[str] = frozenset(),
    revisions: Sequence[str] = (CANARY,),
    source_commit: str | None = None,
) -> list[BuiltPackage]:
    """Resolve, lint, assemble and package the charts of ``names``, all in memory.

    Besides each profile's charts, every revision in ``revisions`` gets its own ``istio``
    chart (a canary control plane): ``revision`` baked into its values, installed into
    ``istio-system-<revision>``, versioned as a SemVer pre-release of ``version``, and
    checked to coexist with the stable control plane.

    Args:
        profiles: the available profiles.
        names: the profiles to build.
        version: the chart version (strict SemVer 2).
        sets: ``--set`` arguments, the last layer.
        allow: lint rules whose errors do not stop the build.
        revisions: the canary revisions to build (DNS-1123 labels).
        source_commit: recorded as ``meshcharts.io/source-commit`` (None: ``$SOURCE_COMMIT``,
            else the git HEAD of the current folder, else ``unknown``).

    Raises:
        UserError: a bad version, profile, revision, ``--set`` or value, a lint error, or
            a revision that collides with the stable control plane; nothing is written.
    """
    check_version(version)
    for revision in revisions:
        check_dns_label(revision, what="revision")
    mtime = source_date_epoch()
    commit = current_source_commit() if source_commit is None else source_commit
    packages: list[BuiltPackage] = []
    for name in names:
        resolution = resolve(profiles, name, sets=sets)
        _refuse_lint_errors(resolution, allow)
        stable = assemble_profile(resolution, version=version, source_commit=commit)
        packages += [BuiltPackage(name, tree, package_chart(tree, mtime=mtime)) for tree in stable]
        if "istio" not in resolution.charts:
            continue
        for revision in dict.fromkeys(revisions):
            canary = revision_tree(
                profiles, name, revision, version=version, sets=sets, source_commit=commit
            )
            check_coexistence(
                _istio(stable),
                canary,
                revision=revision,
                namespaces=(NAMESPACE, revision_namespace(revision)),
            )
            data = package_chart(canary, mtime=mtime)
            packages.append(
                BuiltPackage(name, canary, data, revision, revision_namespace(revision))
            )
    return packages


def _istio(trees: Sequence[ChartTree]) -> ChartTree:
    return next(tree for tree in trees if tree.name == "istio")


def revision_namespace(revision: str) -> str:
    """The namespace a revision's control plane is installed into."""
    return f"{NAMESPACE}-{revision}"


def revision_tree(
    profiles: ProfileSet,
    name: str,
    revision: str,
    *,
    version: str,
    sets: Sequence[SetArg] = (),
    source_commit: str = "unknown",
) -> ChartTree:
    """The ``istio`` chart of profile ``name`` as the control plane of ``revision``.

    The stable control plane keeps the mesh-wide singletons, so the revision does not own
    them until the upgrade hands them over.
    """
    layer = Layer(f"revision {revision}", {"revision": revision, "singletonOwner": False})
    resolution = resolve(profiles, name, sets=sets, extra_layers=[layer])
    chart = all_charts()["istio"]
    return assemble_chart(
        chart,
        resolution.charts["istio"],
        resolution.values,
        profile=name,
        version=revision_version(version, revision),
        app_version=ISTIO_VERSION,
        required=resolution.required,
        source_commit=source_commit,
    )


def _refuse_lint_errors(resolution: Resolution, allow: frozenset[str]) -> None:
    errors = lint_errors(lint(resolution), allow)
    if errors:
        rules = ", ".join(sorted({f.rule for f in errors}))
        raise LintError(
            f"profile {resolution.profile!r}",
            f"lint errors {rules} (see meshcharts lint --profile {resolution.profile}; "
            "--allow RULE-ID builds anyway)",
        )


def environment_values(
    profiles: ProfileSet,
    environments: Sequence[Environment],
    *,
    names: Sequence[str],
    version: str,
    sets: Sequence[SetArg] = (),
    allow: frozenset[str] = frozenset(),
    required: bool = True,
) -> list[ValuesFile]:
    """The values files of ``environments`` for the packages of the profiles ``names``.

    For each environment: ``<profile>/values-<env>.yaml`` for the ``istio`` chart (when the
    profile builds it), and ``<profile>/values-<env>.<chart>.yaml`` for any other chart
    whose values the environment changes. Each profile is resolved once; no chart is
    assembled. The build's ``--set`` is part of the packages, and the last layer here.

    Args:
        profiles: the available profiles.
        environments: the environments.
        names: the profiles of this build.
        version: the chart version, for the install command in each file's header.
        sets: the build's ``--set`` arguments.
        allow: lint rules whose errors do not stop the build.
        required: an environment whose profile is not built is an error (else skipped).

    Raises:
        UserError: an environment's profile is not built (with ``required``) or unknown,
            its values fail the chart's schema, or it has lint errors not allowed.
    """
    packaged: dict[str, Resolution] = {}
    files: list[ValuesFile] = []
    for env in environments:
        if env.profile not in names:
            if required:
                raise EnvError(
                    env.profile_where or str(env.path),
                    f"profile {env.profile!r} is not part of this build (add --profile "
                    f"{env.profile})",
                )
            continue
        resolution = resolve_environment(profiles, env, sets=sets)
        errors = lint_errors(lint(resolution), allow)
        if errors:
            rules = ", ".join(sorted({f.rule for f in errors}))
            raise LintError(
                f"environment {env.name!r} ({env.path})",
                f"lint errors {rules} (see meshcharts lint --env {env.path}; "
                "--allow RULE-ID builds anyway)",
            )
        if env.profile not in packaged:
            packaged[env.profile] = resolve(profiles, env.profile, sets=sets)
        base = packaged[env.profile]
        for chart in resolution.charts:
            file = values_file(
                resolution,
                base,
                chart=chart,
                environment=env.name,
                trusted=True,
                package=f"{env.profile}/{chart}-{version}.tgz",
            )
            if chart == "istio" or file.values:
                files.append(file)
    return files


def build_json(
    packages: Sequence[BuiltPackage],
    values: Sequence[ValuesFile] = (),
    signed: frozenset[str] = frozenset(),
) -> str:
    """build.json: every package with its digest, in build order, and every values file.

    A package whose path is in ``signed`` lists its ``.prov`` file as ``provenance``.
    """
    record: dict[str, list[dict[str, str]]] = {
        "packages": [p.record(signed=p.path in signed) for p in packages]
    }
    record["values"] = [
        {
            "environment": v.environment,
            "profile": v.profile,
            "chart": v.chart,
            "path": v.path,
            "sha256": hashlib.sha256(v.text.encode()).hexdigest(),
        }
        for v in values
    ]
    return json.dumps(record, indent=2, sort_keys=True) + "\n"


def _index(packages: Sequence[BuiltPackage], prefix: str, stamp: str) -> str:
    entries = [
        IndexEntry.for_package(p.tree.metadata, p.path.removeprefix(prefix), p.data, stamp)
        for p in packages
    ]
    return index_yaml(entries, generated=stamp)


def write_build(
    packages: Sequence[BuiltPackage],
    out: Path,
    values: Sequence[ValuesFile] = (),
    provenance: Mapping[str, bytes] | None = None,
) -> None:
    """Write packages, values files, ``index.yaml`` files and ``build.json`` to ``out``, atomically.

    ``out/index.yaml`` lists every package; ``out/<profile>/index.yaml`` is a repository
    of one profile, where every chart name and version is unique. ``provenance`` maps a
    package path to its signed ``.prov`` file, written as ``<package>.prov`` (not
    byte-reproducible: signatures carry their creation time).
    """
    provenance = provenance or {}
    stamp = timestamp(source_date_epoch())
    files = {p.path: p.data for p in packages}
    files["index.yaml"] = _index(packages, "", stamp).encode()
    for profile in dict.fromkeys(p.profile for p in packages):
        own = [p for p in packages if p.profile == profile]
        files[f"{profile}/index.yaml"] = _index(own, f"{profile}/", stamp).encode()
    files.update({v.path: v.text.encode() for v in values})
    files.update({f"{path}.prov": data for path, data in provenance.items()})
    files["build.json"] = build_json(packages, values, frozenset(provenance)).encode()
    with staged_dir(out) as staged:
        write_files(staged, files)
