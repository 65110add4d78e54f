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
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from meshcharts.base.fsutil import check_output_dir, staged_dir, write_files
from meshcharts.base.names import check_dns_label, check_version
from meshcharts.chart.assemble import ChartTree
from meshcharts.chart.buildinfo import source_commit as declared_source_commit
from meshcharts.chart.profile import (
    CANARY,
    NAMESPACE,
    assemble_profile,
    revision_namespace,
    revision_trees,
)
from meshcharts.chart.valuesfile import ValuesFile, values_file
from meshcharts.checks.coexist import (
    Collision,
    Installed,
    check_coexistence,
    coexistence_collisions,
    find_collisions,
    rendered_installed,
)
from meshcharts.checks.lint import RULE_IDS, WARNING, Finding, lint, lint_errors
from meshcharts.checks.render import RenderError, undeclared_reads
from meshcharts.errors import LintError, UserError
from meshcharts.inputs.environments import (
    EnvError,
    Environment,
    builtin_environments_dir,
    load_environment,
    load_environments,
)
from meshcharts.inputs.manifest import load_manifest
from meshcharts.inputs.profiles import ProfileSet
from meshcharts.inputs.setvalues import SetArg
from meshcharts.release.index import IndexEntry, index_yaml, timestamp
from meshcharts.release.package import archive_name, package_chart, source_date_epoch
from meshcharts.resolution.environments import check_profile, resolve_environment
from meshcharts.resolution.resolve import Resolution, resolve

if TYPE_CHECKING:
    from meshcharts.checks.releasediff import PackageComparison, PreviousRelease

__all__ = [
    "BreakingChangesError",
    "BuildResult",
    "BuiltPackage",
    "CoexistReport",
    "build_json",
    "build_packages",
    "check_allowed",
    "check_declared_reads",
    "check_revision",
    "environment_values",
    "render_files",
    "run_build",
    "run_render",
    "select_environments",
    "write_build",
]


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


def build_packages(
    profiles: ProfileSet,
    names: Sequence[str],
    *,
    version: str,
    sets: Sequence[SetArg] = (),
    allow: frozenset[str] = frozenset(),
    revisions: Sequence[str] = (CANARY,),
    source_commit: str | None = None,
    warnings: list[tuple[str, Finding]] | None = None,
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
            else ``unknown``; never the git state of the current folder).
        warnings: if given, each lint warning is appended as ``(subject, finding)``.

    A profile or revision named twice is built once.

    Raises:
        UserError: a bad version, profile, revision, ``--set`` or value, an unknown rule in
            ``allow``, a lint error, or a revision that collides with the stable control
            plane; nothing is written.
    """
    check_version(version)
    check_allowed(allow)
    for revision in revisions:
        check_dns_label(revision, what="revision")
    mtime = source_date_epoch()
    commit = declared_source_commit(source_commit)
    packages: list[BuiltPackage] = []
    for name in dict.fromkeys(names):
        resolution = resolve(profiles, name, sets=sets)
        found = lint(resolution)
        _refuse(
            lint_errors(found, allow), f"profile {name!r}", _lint_hint(profiles, name, None, sets)
        )
        if warnings is not None:
            warnings += [(f"profile {name}", f) for f in found if f.severity == WARNING]
        stable = assemble_profile(resolution, version=version, source_commit=commit)
        check_declared_reads(resolution, stable)
        packages += [BuiltPackage(name, tree, package_chart(tree, mtime=mtime)) for tree in stable]
        for revision in dict.fromkeys(revisions):
            canaries = revision_trees(
                profiles, name, revision, version=version, sets=sets, source_commit=commit
            )
            for canary in canaries:
                check_coexistence(
                    _named(stable, canary.name),
                    canary,
                    revision=revision,
                    namespaces=(NAMESPACE, revision_namespace(revision)),
                )
                data = package_chart(canary, mtime=mtime)
                packages.append(
                    BuiltPackage(name, canary, data, revision, revision_namespace(revision))
                )
    return packages


def check_declared_reads(resolution: Resolution, trees: Sequence[ChartTree]) -> None:
    """Refuse a user's component whose templates read values it does not declare.

    Each chart holding a user's component is rendered with its example install values;
    a lookup of a key below such a component's values that is not there is an error (a
    component declares every value it reads, with its default, so that the schema, the
    README and ``--explain`` know it).

    Raises:
        UserError: naming the component's file, the template and the value.
    """
    for tree in trees:
        users = {c.name: c for c in resolution.charts[tree.name] if c.source}
        if not users:
            continue
        try:
            found = undeclared_reads(tree, set(users), namespace=NAMESPACE)
        except RenderError as exc:
            raise UserError(
                f"chart {tree.name} of profile {resolution.profile}",
                f"cannot be rendered to check the values its templates read: {exc}",
            ) from None
        for template, path in found:
            component = users[path.split(".", 1)[0]]
            raise UserError(
                component.source,
                f"component {component.name}: {template} reads values.{path}, which the "
                "component does not declare (add it to its defaults, with docs)",
            )


def _named(trees: Sequence[ChartTree], name: str) -> ChartTree:
    return next(tree for tree in trees if tree.name == name)


def check_allowed(allow: frozenset[str]) -> None:
    """Raise a UserError listing the valid rule IDs if ``allow`` names an unknown rule."""
    for rule in sorted(allow):
        if rule not in RULE_IDS:
            raise UserError(f"--allow {rule}", f"no such lint rule (rules: {', '.join(RULE_IDS)})")


def _lint_hint(
    profiles: ProfileSet, name: str, env: Environment | None, sets: Sequence[SetArg]
) -> str:
    """The ``meshcharts lint`` command that shows the findings, with the user's arguments."""
    args = ["meshcharts", "lint"]
    if env is not None:
        args += ["--env", str(env.path)]
    else:
        args += ["--profile", name]
    profile = profiles.profiles.get(name)
    if profile is not None and name not in profiles.builtin and profile.source:
        args += ["--profiles", str(Path(profile.source).parent)]
    args += [arg for item in sets for arg in (item.flag, item.text)]
    return shlex.join(args)


def _refuse(errors: Sequence[Finding], subject: str, hint: str) -> None:
    if errors:
        rules = ", ".join(sorted({f.rule for f in errors}))
        raise LintError(subject, f"lint errors {rules} (see {hint}; --allow RULE-ID builds anyway)")


def environment_values(
    profiles: ProfileSet,
    environments: Sequence[Environment],
    *,
    names: Sequence[str],
    version: str,
    sets: Sequence[SetArg] = (),
    allow: frozenset[str] = frozenset(),
    required: bool = True,
    warnings: list[tuple[str, Finding]] | None = None,
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
        warnings: if given, each lint warning is appended as ``(subject, finding)``.

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
        found = lint(resolution)
        _refuse(
            lint_errors(found, allow),
            f"environment {env.name!r} ({env.path})",
            _lint_hint(profiles, env.profile, env, sets),
        )
        if warnings is not None:
            warnings += [(f"environment {env.name}", f) for f in found if f.severity == WARNING]
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
    seen: dict[tuple[str, str], str] = {}
    for package in packages:
        key = (package.tree.name, package.tree.version)
        if key in seen:
            raise UserError(
                f"{package.tree.name} {package.tree.version}",
                f"built twice ({seen[key]} and {package.path}); one repository index holds "
                "each chart version once",
            )
        seen[key] = package.path
    entries = [
        IndexEntry.for_package(p.tree.metadata, p.path.removeprefix(prefix), p.data, stamp)
        for p in packages
    ]
    return index_yaml(entries, generated=stamp)


LEGACY_MARKERS = ("build.json",)
"""Files that mark a build folder written before :data:`~meshcharts.base.fsutil.MARKER` existed."""


def write_build(
    packages: Sequence[BuiltPackage],
    out: Path,
    values: Sequence[ValuesFile] = (),
    provenance: Mapping[str, bytes] | None = None,
    *,
    what: str | None = None,
) -> None:
    """Write packages, values files, ``index.yaml`` files and ``build.json`` to ``out``, atomically.

    ``out/<profile>/index.yaml`` is a chart repository of one profile, where every chart
    name and version is unique (two profiles build charts of the same name and version, so
    there is no index of the whole build). ``provenance`` maps a package path to its signed
    ``.prov`` file, written as ``<package>.prov`` (not byte-reproducible: signatures carry
    their creation time).

    ``out`` must be missing, empty, or a folder meshcharts wrote (see
    :func:`~meshcharts.base.fsutil.check_output_dir`); it is replaced whole, in one swap.

    Raises:
        UserError: ``out`` is not meshcharts' to replace or cannot be written, or a chart
            version appears twice in one profile.
    """
    subject = what or f"--build-dir {out}"
    check_output_dir(out, what=subject, legacy=LEGACY_MARKERS)
    provenance = provenance or {}
    stamp = timestamp(source_date_epoch())
    files = {p.path: p.data for p in packages}
    for profile in dict.fromkeys(p.profile for p in packages):
        own = [p for p in packages if p.profile == profile]
        files[f"{profile}/index.yaml"] = _index(own, f"{profile}/", stamp).encode()
    files.update({v.path: v.text.encode() for v in values})
    files.update({f"{path}.prov": data for path, data in provenance.items()})
    files["build.json"] = build_json(packages, values, frozenset(provenance)).encode()
    with staged_dir(out, what=subject) as staged:
        write_files(staged, files)


# --- the whole build, as ``meshcharts build`` runs it -----------------------------------------


class BreakingChangesError(UserError):
    """``--previous``: a package has breaking changes for ``helm upgrade``.

    Attributes:
        comparisons: every package's comparison with the previous build.
    """

    def __init__(
        self, subject: str, problem: str, comparisons: Sequence[PackageComparison]
    ) -> None:
        super().__init__(subject, problem)
        self.comparisons = tuple(comparisons)


@dataclass(frozen=True)
class BuildResult:
    """What :func:`run_build` wrote and found.

    Attributes:
        out: the build folder.
        packages: every package, in build order.
        values_files: every environment's values file.
        warnings: lint warnings (they do not stop a build): subject -> finding, in order.
        comparisons: with ``previous``, each package against the earlier build.
    """

    out: Path
    packages: tuple[BuiltPackage, ...]
    values_files: tuple[ValuesFile, ...]
    warnings: tuple[tuple[str, Finding], ...] = ()
    comparisons: tuple[PackageComparison, ...] = field(default=())

    def to_json(self) -> dict[str, object]:
        """The result as JSON data: build.json's records, the folder, warnings, comparisons."""
        record = json.loads(build_json(self.packages, self.values_files))
        return {
            "build_dir": str(self.out),
            "packages": record["packages"],
            "values": record["values"],
            "warnings": [
                {"subject": subject, **finding.to_json()} for subject, finding in self.warnings
            ],
            "comparisons": [
                {
                    "path": c.path,
                    "previous": c.previous,
                    "breaking": c.report is not None and c.report.breaking,
                }
                for c in self.comparisons
            ],
        }


def select_environments(
    files: Sequence[Path] = (), folders: Sequence[Path] = ()
) -> tuple[list[Environment], bool]:
    """The environments of a build, and whether the user chose them.

    Without ``files`` and ``folders``: the built-in examples (not chosen). Each file and
    every ``*.yaml`` of each folder is loaded once; two environments of one name are an
    error, as their values files would have the same name.

    Raises:
        EnvError: a file or folder is missing or invalid, or a name is taken twice.
    """
    if not files and not folders:
        return load_environments(builtin_environments_dir()), False
    loaded: dict[Path, Environment] = {}
    for folder in dict.fromkeys(folders):
        for env in load_environments(folder):
            loaded.setdefault(env.path.resolve(), env)
    for path in dict.fromkeys(files):
        if path.is_dir():
            raise EnvError(f"--env {path}", "is a folder; give --env-dir DIR for a folder")
        env = load_environment(path)
        loaded.setdefault(env.path.resolve(), env)
    by_name: dict[str, Environment] = {}
    for env in loaded.values():
        other = by_name.setdefault(env.name, env)
        if other is not env:
            raise EnvError(str(env.path), f"environment {env.name!r} is also {other.path}")
    return sorted(by_name.values(), key=lambda env: env.name), True


def _compare_previous(
    packages: Sequence[BuiltPackage], previous: Path | PreviousRelease, *, allow_breaking: bool
) -> tuple[PackageComparison, ...]:
    from meshcharts.checks.releasediff import compare_build  # releasediff renders; it imports build

    keys = [(p.profile, p.tree.name, p.revision, p.path, p.data) for p in packages]
    comparisons = tuple(compare_build(keys, previous))
    breaking = [c.path for c in comparisons if c.report is not None and c.report.breaking]
    if breaking and not allow_breaking:
        raise BreakingChangesError(
            f"--previous {previous}",
            f"breaking changes for helm upgrade in {', '.join(breaking)} "
            "(see meshcharts release-diff; --allow-breaking builds anyway)",
            comparisons,
        )
    return comparisons


def _sign(packages: Sequence[BuiltPackage], key: str, keyring: Path | None) -> dict[str, bytes]:
    from meshcharts.release.signing import sign_package

    return {
        p.path: sign_package(
            p.tree.metadata, archive_name(p.tree), p.data, key=key, keyring=keyring
        )
        for p in packages
    }


def run_build(
    profiles: ProfileSet,
    *,
    out: Path,
    version: str,
    names: Sequence[str] = (),
    sets: Sequence[SetArg] = (),
    allow: frozenset[str] = frozenset(),
    revisions: Sequence[str] = (),
    env_files: Sequence[Path] = (),
    env_dirs: Sequence[Path] = (),
    previous: Path | PreviousRelease | None = None,
    allow_breaking: bool = False,
    sign: str | None = None,
    keyring: Path | None = None,
    source_commit: str | None = None,
) -> BuildResult:
    """Everything ``meshcharts build`` does: build, check, sign and write the build folder.

    Args:
        profiles: the available profiles.
        out: the build folder (missing, empty, or an earlier build: it is replaced whole).
        version: the chart version.
        names: the profiles to build (default: every built-in profile, and the profiles of
            the chosen environments).
        sets: ``--set`` arguments.
        allow: lint rules whose errors do not stop the build.
        revisions: canary revisions besides ``canary``.
        env_files: environment files; with ``env_dirs``, the environments whose values
            files the build writes (default: the built-in examples, for the profiles built).
        env_dirs: folders of environment files.
        previous: an earlier build folder, or another source of the previous release's
            packages (e.g. :class:`~meshcharts.publish.pull.RegistryRelease`): release-diff
            each package against it.
        allow_breaking: build despite breaking changes against ``previous``.
        sign: a gpg key to sign every package with (``<package>.prov``).
        keyring: the GnuPG home or keyring file for ``sign``.
        source_commit: recorded in every Chart.yaml (None: ``$SOURCE_COMMIT`` or unknown).

    Raises:
        UserError: any bad input; nothing is written.
        BreakingChangesError: breaking changes against ``previous`` were not allowed.
    """
    check_output_dir(out, what=f"--build-dir {out}", legacy=LEGACY_MARKERS)
    check_version(version)
    check_allowed(allow)
    environments, chosen = select_environments(env_files, env_dirs)
    for env in environments if chosen else []:
        check_profile(profiles, env)
    default = sorted({*profiles.builtin, *(e.profile for e in environments if chosen)})
    built = list(dict.fromkeys(names)) or default
    warnings: list[tuple[str, Finding]] = []
    packages = build_packages(
        profiles,
        built,
        version=version,
        sets=sets,
        allow=allow,
        revisions=[CANARY, *revisions],
        source_commit=source_commit,
        warnings=warnings,
    )
    values_files = environment_values(
        profiles,
        environments,
        names=built,
        version=version,
        sets=sets,
        allow=allow,
        required=chosen,
        warnings=warnings,
    )
    comparisons = (
        _compare_previous(packages, previous, allow_breaking=allow_breaking)
        if previous is not None
        else ()
    )
    provenance = _sign(packages, sign, keyring) if sign else {}
    write_build(packages, out, values_files, provenance=provenance)
    return BuildResult(
        out,
        tuple(packages),
        tuple(values_files),
        tuple(warnings),
        comparisons,
    )


# --- render and coexistence, as ``meshcharts render`` and ``check-coexist`` run them ---------


RENDER_LEGACY_MARKERS = ("istio-init/Chart.yaml",)
"""A file every render wrote before :data:`~meshcharts.base.fsutil.MARKER` existed."""


def render_files(
    profiles: ProfileSet,
    name: str,
    *,
    version: str,
    environment: Environment | None = None,
    sets: Sequence[SetArg] = (),
    source_commit: str | None = None,
) -> dict[str, bytes]:
    """The unpacked charts of one profile (or environment) as ``meshcharts render`` writes them.

    ``<chart>/...`` for each chart, ``istio@canary/...`` for the canary control plane, and
    with an environment ``values-<env>.yaml`` (``values-<env>.<chart>.yaml`` for another
    chart whose values it changes).

    Raises:
        UserError: as :func:`build_packages` and :func:`environment_values`.
    """
    if environment is not None:
        check_profile(profiles, environment)
    packages = build_packages(
        profiles, [name], version=version, sets=sets, source_commit=source_commit
    )
    files: dict[str, bytes] = {}
    for package in packages:
        folder = package.tree.name + (f"@{package.revision}" if package.revision else "")
        files.update({f"{folder}/{rel}": data for rel, data in package.tree.files.items()})
    if environment is not None:
        for file in environment_values(
            profiles, [environment], names=[name], version=version, sets=sets
        ):
            files[file.path.split("/", 1)[1]] = file.text.encode()
    return files


def run_render(
    profiles: ProfileSet,
    name: str,
    *,
    out: Path,
    version: str,
    environment: Environment | None = None,
    sets: Sequence[SetArg] = (),
    source_commit: str | None = None,
) -> list[str]:
    """Write :func:`render_files` to ``out`` (replaced whole, atomically); the top entries.

    Raises:
        UserError: a bad input, or ``out`` is not meshcharts' to replace.
    """
    what = f"--out {out}"
    check_output_dir(out, what=what, legacy=RENDER_LEGACY_MARKERS)
    files = render_files(
        profiles,
        name,
        version=version,
        environment=environment,
        sets=sets,
        source_commit=source_commit,
    )
    with staged_dir(out, what=what) as staged:
        write_files(staged, files)
    return list(dict.fromkeys(path.split("/", 1)[0] for path in files))


@dataclass(frozen=True)
class CoexistReport:
    """Whether a revision's control plane can run beside the stable one.

    Attributes:
        profile: the profile.
        revision: the canary revision.
        namespaces: the stable (or installed) and the revision's namespace.
        collisions: every reason they cannot run side by side (none: they can).
        against: the manifest of an installed release compared instead of the profile's
            stable control plane ("" when none).
    """

    profile: str
    revision: str
    namespaces: tuple[str, str]
    collisions: tuple[Collision, ...]
    against: str = ""

    @property
    def ok(self) -> bool:
        """Whether the two control planes can run side by side."""
        return not self.collisions

    def to_json(self) -> dict[str, object]:
        """The report as JSON data."""
        return {
            "profile": self.profile,
            "revision": self.revision,
            "namespaces": list(self.namespaces),
            "against": self.against or None,
            "ok": self.ok,
            "collisions": [{"kind": c.kind, "detail": c.detail} for c in self.collisions],
        }


def check_revision(
    profiles: ProfileSet,
    name: str,
    revision: str = CANARY,
    *,
    version: str,
    sets: Sequence[SetArg] = (),
    against: Path | None = None,
    against_namespace: str = NAMESPACE,
) -> CoexistReport:
    """Render the stable and the revision's control plane of ``name`` and compare them.

    With ``against``, the revision's control plane is compared with the objects of an
    installed release instead (``helm get manifest`` of an upstream Istio 1.1 install, say):
    object identities, injector selectors and singletons.

    Args:
        profiles: the profiles.
        name: the profile.
        revision: the canary revision.
        version: the chart version.
        sets: ``--set`` arguments.
        against: a manifest file of an installed release.
        against_namespace: the namespace of its namespaced objects that name none.

    Raises:
        UserError: a bad input, or the profile builds no ``istio`` chart.
    """
    check_dns_label(revision, what="revision")
    check_dns_label(against_namespace, what="namespace")
    check_version(version)
    resolution = resolve(profiles, name, sets=sets)
    canaries = revision_trees(profiles, name, revision, version=version, sets=sets)
    if not canaries:
        raise UserError(
            f"profile {name!r}", "builds no chart with revisions, so there is no control plane"
        )
    if against is not None:
        installed = Installed(
            f"installed {against.name}", against_namespace, load_manifest(against)
        )
        namespaces = (against_namespace, revision_namespace(revision))
        found = [
            collision
            for canary in canaries
            for collision in find_collisions(
                installed, rendered_installed(f"revision {revision}", canary, namespaces[1])
            )
        ]
        return CoexistReport(name, revision, namespaces, tuple(found), str(against))
    stable = assemble_profile(resolution, version=version)
    namespaces = (NAMESPACE, revision_namespace(revision))
    collisions = [
        collision
        for canary in canaries
        for collision in coexistence_collisions(
            _named(stable, canary.name), canary, revision=revision, namespaces=namespaces
        )
    ]
    return CoexistReport(name, revision, namespaces, tuple(collisions))
