"""The ``meshcharts`` command line: a thin layer over the library.

Exit codes: 0 success; 1 a check found differences (golden files); 2 a user error,
printed as one line on stderr with no traceback and nothing written.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from meshcharts.assemble import chart_values
from meshcharts.build import (
    CANARY,
    NAMESPACE,
    assemble_profile,
    build_packages,
    environment_values,
    revision_namespace,
    revision_tree,
    write_build,
)
from meshcharts.charts import ISTIO_VERSION, all_charts
from meshcharts.coexist import coexistence_collisions
from meshcharts.environments import (
    Environment,
    builtin_environments_dir,
    check_profile,
    load_environment,
    load_environments,
    profile_resolution,
    resolve_environment,
)
from meshcharts.errors import UserError
from meshcharts.explain import format_explain, format_provenance, provenance_json
from meshcharts.fsutil import staged_dir, write_files
from meshcharts.golden import compare_golden, expected_golden, golden_base, update_golden
from meshcharts.helm import find_helm
from meshcharts.layers import Resolution, resolve
from meshcharts.lint import format_finding, lint, lint_errors
from meshcharts.names import check_dns_label
from meshcharts.plan import plan_json, plan_markdown, upgrade_plan
from meshcharts.profiles import ProfileSet, load_profiles
from meshcharts.setvalues import SetArg
from meshcharts.valuesfile import provenance_keys, validate_values, values_file, write_atomic
from meshcharts.yamltext import dump_values

app = typer.Typer(
    name="meshcharts",
    help="Compose Istio-style service-mesh Helm charts from Python profiles.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)
golden_app = typer.Typer(help="Check or update the golden files.", no_args_is_help=True)
app.add_typer(golden_app, name="golden")

F = TypeVar("F", bound=Callable[..., Any])

ProfileOpt = Annotated[
    list[str] | None,
    typer.Option("--profile", "-p", help="Profile to build (repeatable; default: all built-ins)."),
]
OneProfileOpt = Annotated[str, typer.Option("--profile", "-p", help="The profile.")]
ProfileOrEnvOpt = Annotated[
    str | None, typer.Option("--profile", "-p", help="The profile (or give --env).")
]
EnvFileOpt = Annotated[
    Path | None,
    typer.Option("--env", help="Environment file: its profile, values and inventory."),
]
SetOpt = Annotated[
    list[str] | None,
    typer.Option("--set", help="KEY=VALUE with Helm's syntax and typing (repeatable)."),
]
SetStringOpt = Annotated[
    list[str] | None,
    typer.Option("--set-string", help="KEY=VALUE, VALUE always a string (repeatable)."),
]
ProfilesDirOpt = Annotated[
    list[Path] | None,
    typer.Option("--profiles", help="Folder of extra profile files (repeatable)."),
]
GoldenOpt = Annotated[Path, typer.Option("--golden", help="The golden folder.")]


def _user_errors(func: F) -> F:
    """Turn a UserError into one red line on stderr and exit code 2."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except UserError as exc:
            typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
            raise typer.Exit(2) from None

    return wrapper  # type: ignore[return-value]


def _sets(sets: list[str] | None, strings: list[str] | None) -> list[SetArg]:
    # Helm applies every --set before every --set-string.
    return [SetArg(s) for s in sets or []] + [SetArg(s, string=True) for s in strings or []]


def _profiles(dirs: list[Path] | None) -> ProfileSet:
    return load_profiles(dirs or [])


def _environment(env: Path | None, profile: str | None) -> tuple[Environment | None, str]:
    """The environment of ``--env`` (if any) and the profile to use."""
    if env is None:
        if profile is None:
            raise UserError("--profile", "missing (give --profile NAME or --env FILE)")
        return None, profile
    environment = load_environment(env)
    if profile is not None and profile != environment.profile:
        raise UserError(
            f"--profile {profile}",
            f"environment {environment.name!r} uses profile {environment.profile!r}",
        )
    return environment, environment.profile


def _resolve(
    available: ProfileSet, environment: Environment | None, profile: str, sets: list[SetArg]
) -> Resolution:
    if environment is None:
        return resolve(available, profile, sets=sets)
    return resolve_environment(available, environment, sets=sets)


def _write(out: Path, text: str) -> None:
    if out.is_dir():
        raise UserError(f"--out {out}", "is a folder; give a file name")
    try:
        write_atomic(out, text)
    except OSError as exc:
        raise UserError(f"--out {out}", f"cannot be written: {exc.strerror or exc}") from None


@app.command()
@_user_errors
def build(
    profile: ProfileOpt = None,
    version: Annotated[
        str | None,
        typer.Option(
            "--version",
            help="Chart version (strict SemVer 2; default: [chart] version of ./meshcharts.toml, "
            "else the built-in version).",
        ),
    ] = None,
    set_: SetOpt = None,
    set_string: SetStringOpt = None,
    out: Annotated[Path, typer.Option("--out", help="Output folder, replaced atomically.")] = Path(
        "charts_out"
    ),
    profiles: ProfilesDirOpt = None,
    allow: Annotated[
        list[str] | None, typer.Option("--allow", help="Build despite errors of this lint rule.")
    ] = None,
    revision: Annotated[
        list[str] | None,
        typer.Option("--revision", help="Also build this canary revision (besides 'canary')."),
    ] = None,
    env: Annotated[
        Path | None,
        typer.Option(
            "--env",
            help="Folder of environment files (or one file): write <profile>/values-<env>.yaml "
            "for each (default: the built-in examples, for the profiles built).",
        ),
    ] = None,
    previous: Annotated[
        Path | None,
        typer.Option(
            "--previous",
            help="An earlier build output: release-diff each package against it and refuse "
            "breaking changes.",
        ),
    ] = None,
    allow_breaking: Annotated[
        bool, typer.Option("--allow-breaking", help="Build despite breaking changes.")
    ] = False,
    sign: Annotated[
        str | None,
        typer.Option("--sign", help="Sign each package with this gpg key: write <package>.prov."),
    ] = None,
    keyring: Annotated[
        Path | None,
        typer.Option("--keyring", help="GnuPG home folder or secret keyring file for --sign."),
    ] = None,
) -> None:
    """Build the charts of each profile into packages, values files, index.yaml and build.json."""
    from meshcharts.versioning import project_version

    version = version or project_version(Path.cwd()) or ISTIO_VERSION
    available = _profiles(profiles)
    if env is None:
        environments = load_environments(builtin_environments_dir())
    elif env.is_dir():
        environments = load_environments(env)
    else:
        environments = [load_environment(env)]
    names = profile or sorted(
        {*available.builtin, *(e.profile for e in environments if env is not None)}
    )
    for environment in environments if env is not None else []:
        check_profile(available, environment)
    sets = _sets(set_, set_string)
    allowed = frozenset(allow or [])
    packages = build_packages(
        available,
        names,
        version=version,
        sets=sets,
        allow=allowed,
        revisions=[CANARY, *(revision or [])],
    )
    values_files = environment_values(
        available,
        environments,
        names=names,
        version=version,
        sets=sets,
        allow=allowed,
        required=env is not None,
    )
    if previous is not None:
        _check_previous(packages, previous, allow_breaking=allow_breaking)
    provenance = _sign_packages(packages, sign, keyring) if sign else {}
    write_build(packages, out, values_files, provenance=provenance)
    for package in packages:
        typer.echo(f"{package.path}  sha256:{package.sha256}")
    for file in values_files:
        typer.echo(f"{file.path}  (environment {file.environment})")
    typer.echo(
        f"wrote {len(packages)} packages, {len(values_files)} values files, index.yaml and "
        f"build.json to {out}"
    )


@app.command()
@_user_errors
def render(
    out: Annotated[Path, typer.Option("--out", help="Folder for the unpacked charts.")],
    profile: ProfileOrEnvOpt = None,
    env: EnvFileOpt = None,
    version: Annotated[str, typer.Option("--version", help="Chart version.")] = ISTIO_VERSION,
    set_: SetOpt = None,
    set_string: SetStringOpt = None,
    profiles: ProfilesDirOpt = None,
) -> None:
    """Write a profile's unpacked charts to OUT/<chart>/ (revisions: OUT/istio@<revision>/)."""
    available = _profiles(profiles)
    environment, name = _environment(env, profile)
    sets = _sets(set_, set_string)
    if environment is not None:
        check_profile(available, environment)
    packages = build_packages(available, [name], version=version, sets=sets)
    files = (
        environment_values(available, [environment], names=[name], version=version, sets=sets)
        if environment is not None
        else []
    )
    folders = [golden_base(p).split("/", 1)[1] for p in packages]  # istio, istio@canary, ...
    with staged_dir(out) as staged:
        for folder, package in zip(folders, packages, strict=True):
            write_files(staged / folder, package.tree.files)
        write_files(staged, {f.path.split("/", 1)[1]: f.text.encode() for f in files})
    written = folders + [f.path.split("/", 1)[1] for f in files]
    typer.echo(f"wrote {', '.join(dict.fromkeys(written))} to {out}")


class TextOrJson(StrEnum):
    """Output formats of the reports: text for people, JSON for tools."""

    text = "text"
    json = "json"


@app.command()
@_user_errors
def values(
    profile: ProfileOrEnvOpt = None,
    env: EnvFileOpt = None,
    set_: SetOpt = None,
    set_string: SetStringOpt = None,
    chart: Annotated[
        str | None,
        typer.Option("--chart", help="Only the values this chart reads (with --env: istio)."),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write the values file here (atomically).")
    ] = None,
    full: Annotated[
        bool,
        typer.Option("--full", help="With --env: every value, not only what differs."),
    ] = False,
    explain: Annotated[
        str | None, typer.Option("--explain", help="Show the layers that set KEY.")
    ] = None,
    explain_all: Annotated[
        bool, typer.Option("--explain-all", help="Show the layers behind every value.")
    ] = False,
    output: Annotated[
        TextOrJson, typer.Option("--format", help="--explain-all output: text or json.")
    ] = TextOrJson.text,
    profiles: ProfilesDirOpt = None,
) -> None:
    """Print or write resolved values, an environment's values file, or their provenance.

    With --env FILE: the values file for helm install -f of the chart (istio unless
    --chart): only what differs from the packaged chart's values.yaml (--full: all),
    validated against the chart's values.schema.json before anything is written.
    """
    available = _profiles(profiles)
    environment, name = _environment(env, profile)
    resolution = _resolve(available, environment, name, _sets(set_, set_string))
    if chart is not None and chart not in resolution.charts:
        raise UserError(
            f"--chart {chart}",
            f"not built by profile {name!r} (charts: {', '.join(resolution.charts)})",
        )
    if explain is not None:
        typer.echo(format_explain(resolution.values, explain), nl=False)
        return
    if explain_all:
        tops = provenance_keys(resolution, chart) if chart is not None else None
        dump = provenance_json if output is TextOrJson.json else format_provenance
        text = dump(resolution.values, tops)
    elif environment is not None:
        text = values_file(
            resolution,
            profile_resolution(available, environment.profile),
            chart=chart or "istio",
            environment=environment.name,
            full=full,
        ).text
    else:
        text = _profile_values(resolution, chart, validate=out is not None)
    if out is None:
        typer.echo(text, nl=False)
        return
    _write(out, text)
    typer.echo(f"wrote {out}")


def _profile_values(resolution: Resolution, chart: str | None, *, validate: bool) -> str:
    """A profile's resolved values as YAML (one chart's part with ``chart``)."""
    tree = dict(resolution.values.values)
    charts = [chart] if chart is not None else list(resolution.charts)
    if validate:
        for name in charts:
            components = resolution.charts[name]
            part = chart_values(all_charts()[name], components, tree)
            validate_values(part, resolution.values, chart=name, components=components)
    if chart is not None:
        tree = chart_values(all_charts()[chart], resolution.charts[chart], tree)
    return dump_values(tree)


@app.command("profiles")
@_user_errors
def list_profiles(profiles: ProfilesDirOpt = None) -> None:
    """List the profiles with their descriptions."""
    available = _profiles(profiles)
    width = max(len(name) for name in available.names())
    for name in available.names():
        item = available.get(name)
        parent = f" (extends {item.extends})" if item.extends else ""
        typer.echo(f"{name.ljust(width)}  {item.description}{parent}")


@app.command("check-coexist")
@_user_errors
def check_coexist(
    profile: OneProfileOpt,
    revision: Annotated[str, typer.Option("--revision", help="The canary revision.")] = CANARY,
    version: Annotated[str, typer.Option("--version", help="Chart version.")] = ISTIO_VERSION,
    set_: SetOpt = None,
    set_string: SetStringOpt = None,
    profiles: ProfilesDirOpt = None,
) -> None:
    """Check that a revision's control plane can run beside the stable one (exit 2 if not)."""
    available = _profiles(profiles)
    check_dns_label(revision, what="revision")
    sets = _sets(set_, set_string)
    stable = assemble_profile(resolve(available, profile, sets=sets), version=version)
    istio = [tree for tree in stable if tree.name == "istio"]
    if not istio:
        raise UserError(
            f"profile {profile!r}", "builds no istio chart, so there is no control plane"
        )
    canary = revision_tree(available, profile, revision, version=version, sets=sets)
    namespaces = (NAMESPACE, revision_namespace(revision))
    collisions = coexistence_collisions(istio[0], canary, revision=revision, namespaces=namespaces)
    for collision in collisions:
        typer.echo(f"{collision.kind}: {collision.detail}", err=True)
    if collisions:
        raise UserError(
            f"revision {revision!r} of profile {profile!r}",
            f"{len(collisions)} collisions with the stable control plane",
        )
    typer.echo(
        f"profile {profile}: revision {revision} in {namespaces[1]} can run beside {namespaces[0]}"
    )


@app.command("lint")
@_user_errors
def lint_command(
    profile: ProfileOrEnvOpt = None,
    env: EnvFileOpt = None,
    set_: SetOpt = None,
    set_string: SetStringOpt = None,
    profiles: ProfilesDirOpt = None,
) -> None:
    """Check a profile (or an environment) for the mistakes of early Istio rollouts (exit 1)."""
    available = _profiles(profiles)
    environment, name = _environment(env, profile)
    resolution = _resolve(available, environment, name, _sets(set_, set_string))
    findings = lint(resolution)
    for finding in findings:
        typer.echo(format_finding(finding))
    if lint_errors(findings):
        raise typer.Exit(1)


class PlanFormat(StrEnum):
    """Output formats of ``meshcharts plan``."""

    markdown = "markdown"
    json = "json"


@app.command()
@_user_errors
def plan(
    from_version: Annotated[str, typer.Option("--from", help="Installed chart version.")],
    to_version: Annotated[str, typer.Option("--to", help="Chart version to upgrade to.")],
    revision: Annotated[str, typer.Option("--revision", help="Canary revision name.")] = "canary",
    output: Annotated[
        PlanFormat, typer.Option("--format", help="markdown or json.")
    ] = PlanFormat.markdown,
    charts: Annotated[str, typer.Option("--charts", help="Build output folder.")] = "charts_out",
    profile: ProfileOrEnvOpt = None,
    env: EnvFileOpt = None,
    profiles: ProfilesDirOpt = None,
) -> None:
    """Print the staged canary upgrade plan from one chart version to another.

    With --env FILE the canary is installed with the environment's values file, as
    meshcharts build writes it: CHARTS/<profile>/values-<env>.yaml.
    """
    environment, name = _environment(env, profile)
    _profiles(profiles).get(name)
    steps = upgrade_plan(
        name,
        from_version=from_version,
        to_version=to_version,
        revision=revision,
        charts=charts,
        values_file=f"{charts}/{name}/values-{environment.name}.yaml" if environment else "",
    )
    typer.echo(plan_json(steps) if output is PlanFormat.json else plan_markdown(steps), nl=False)


@app.command("diff")
@_user_errors
def diff_command(
    packages: Annotated[
        list[Path] | None,
        typer.Argument(help="Two built chart packages (.tgz) to compare.", show_default=False),
    ] = None,
    env: Annotated[
        list[Path] | None, typer.Option("--env", help="Environment file to compare (repeatable).")
    ] = None,
    profile: Annotated[
        list[str] | None, typer.Option("--profile", "-p", help="Profile to compare (repeatable).")
    ] = None,
    version: Annotated[str, typer.Option("--version", help="Chart version.")] = ISTIO_VERSION,
    output: Annotated[TextOrJson, typer.Option("--format", help="text or json.")] = TextOrJson.text,
    profiles: ProfilesDirOpt = None,
) -> None:
    """Compare two environments, profiles or packages: values with provenance, then objects.

    The two sides are every --env, then every --profile (in that order), or two .tgz
    packages. Exit 0 when they are equal, 1 when they differ.
    """
    from meshcharts.diff import (
        Side,
        diff_json,
        diff_resolutions,
        format_diff,
        package_side,
        resolution_side,
    )
    from meshcharts.environments import load_environment, resolve_environment

    envs, names, archives = env or [], profile or [], packages or []
    if (archives and (envs or names)) or len(envs) + len(names) + len(archives) != 2:
        raise UserError(
            "meshcharts diff", "give two sides: two of --env/--profile, or two .tgz packages"
        )
    sides: list[Side] = []
    if archives:
        same = archives[0].name == archives[1].name
        sides = [package_side(path, label=str(path) if same else path.name) for path in archives]
    available = _profiles(profiles)
    loaded = [load_environment(path) for path in envs]
    same = len(loaded) == 2 and loaded[0].name == loaded[1].name
    for environment in loaded:
        label = f"env {environment.path if same else environment.name}"
        resolution = resolve_environment(available, environment)
        sides.append(resolution_side(resolution, label=label, version=version))
    for name in names:
        resolution = resolve(available, name)
        sides.append(resolution_side(resolution, label=f"profile {name}", version=version))
    report = diff_resolutions(sides[0], sides[1])
    typer.echo(diff_json(report) if output is TextOrJson.json else format_diff(report), nl=False)
    if not report.equal:
        raise typer.Exit(1)


class BumpPart(StrEnum):
    """Which part of the version ``meshcharts version bump`` raises."""

    major = "major"
    minor = "minor"
    patch = "patch"
    prerelease = "prerelease"


version_app = typer.Typer(help="Show or bump the project's chart version.", no_args_is_help=True)
app.add_typer(version_app, name="version")


@version_app.command("show")
@_user_errors
def version_show() -> None:
    """Print the chart version that meshcharts build uses here."""
    from meshcharts.versioning import project_version

    typer.echo(project_version(Path.cwd()) or ISTIO_VERSION)


@version_app.command("bump")
@_user_errors
def version_bump(
    part: Annotated[BumpPart, typer.Argument(help="major, minor, patch or prerelease.")],
    pre: Annotated[
        str, typer.Option("--pre", help="Pre-release identifier for 'prerelease'.")
    ] = "rc",
) -> None:
    """Bump [chart] version in ./meshcharts.toml (created from the built-in version if missing)."""
    from meshcharts.versioning import bump, project_version, write_project_version

    old = project_version(Path.cwd()) or ISTIO_VERSION
    new = bump(old, part.value, pre)
    path = write_project_version(Path.cwd(), new)
    typer.echo(f"{old} -> {new} ({path.name})")


@app.command()
@_user_errors
def publish(
    to: Annotated[
        str, typer.Option("--to", help="A chart-repository folder or oci://HOST[:PORT]/PATH.")
    ],
    from_: Annotated[
        Path, typer.Option("--from", help="A build output folder (build.json).")
    ] = Path("charts_out"),
    profile: Annotated[
        list[str] | None,
        typer.Option(
            "--profile",
            "-p",
            help="Publish only this profile, straight into TARGET (repeatable; default: every "
            "profile, each into TARGET/<profile>).",
        ),
    ] = None,
    plain_http: Annotated[
        bool, typer.Option("--plain-http", help="Talk HTTP, not HTTPS, to the registry.")
    ] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Replace a different package of the same version.")
    ] = False,
) -> None:
    """Publish a build to a chart-repository folder or an OCI registry (idempotent)."""
    from meshcharts.publish import publish as publish_build

    results = publish_build(from_, to, profiles=profile or [], plain_http=plain_http, force=force)
    for result in results:
        typer.echo(f"{result.action:9}  {result.package.path}  ->  {result.where}")
    changed = sum(r.action != "unchanged" for r in results)
    typer.echo(f"published {changed} packages, {len(results) - changed} unchanged, to {to}")


@app.command("release-diff")
@_user_errors
def release_diff_command(
    old: Annotated[Path, typer.Argument(help="The released package (.tgz).", show_default=False)],
    new: Annotated[Path, typer.Argument(help="The package to upgrade to.", show_default=False)],
    env: Annotated[
        Path | None,
        typer.Option("--env", help="Environment file: apply its values file to both."),
    ] = None,
    output: Annotated[TextOrJson, typer.Option("--format", help="text or json.")] = TextOrJson.text,
    allow_breaking: Annotated[
        bool, typer.Option("--allow-breaking", help="Exit 0 even with breaking changes.")
    ] = False,
    profiles: ProfilesDirOpt = None,
) -> None:
    """Classify every change from OLD to NEW for helm upgrade: breaking, disruptive or safe.

    Exit 1 when a change is breaking (unless --allow-breaking), else 0.
    """
    from meshcharts.diff import load_package
    from meshcharts.releasediff import (
        environment_overlays,
        format_release_diff,
        release_diff,
        release_diff_json,
    )

    overlays = None
    if env is not None:
        environment = load_environment(env)
        available = _profiles(profiles)
        check_profile(available, environment)
        charts = [load_package(old).name, load_package(new).name]
        overlays = environment_overlays(available, environment, list(dict.fromkeys(charts)))
    report = release_diff(old, new, overlays=overlays)
    if output is TextOrJson.json:
        typer.echo(release_diff_json(report), nl=False)
    else:
        typer.echo(format_release_diff(report), nl=False)
    if report.breaking and not allow_breaking:
        raise typer.Exit(1)


def _check_previous(packages: list[Any], previous: Path, *, allow_breaking: bool) -> None:
    """Release-diff each package against ``previous``; refuse breaking changes."""
    from meshcharts.releasediff import compare_build, format_release_diff

    keys = [(p.profile, p.tree.name, p.revision, p.path, p.data) for p in packages]
    breaking: list[str] = []
    for result in compare_build(keys, previous):
        if result.report is None:
            typer.echo(f"{result.path}: new (no package of this profile/chart/revision before)")
            continue
        counts = ", ".join(f"{s} {len(result.report.of(s))}" for s in ("breaking", "disruptive"))
        typer.echo(f"{result.path}: against {result.previous}: {counts}")
        if result.report.breaking:
            breaking.append(result.path)
            typer.echo(format_release_diff(result.report), nl=False, err=True)
    if breaking and not allow_breaking:
        raise UserError(
            f"--previous {previous}",
            f"breaking changes for helm upgrade in {', '.join(breaking)} "
            "(see meshcharts release-diff; --allow-breaking builds anyway)",
        )


def _sign_packages(packages: list[Any], key: str, keyring: Path | None) -> dict[str, bytes]:
    """The ``.prov`` file of each package, by package path."""
    from meshcharts.package import archive_name
    from meshcharts.provenance import sign_package

    return {
        p.path: sign_package(
            p.tree.metadata, archive_name(p.tree), p.data, key=key, keyring=keyring
        )
        for p in packages
    }


def _golden_build() -> tuple[dict[str, bytes], Path]:
    available = load_profiles()
    from meshcharts.provenance import GOLDEN_SOURCE_COMMIT

    packages = build_packages(
        available,
        sorted(available.builtin),
        version=ISTIO_VERSION,
        source_commit=GOLDEN_SOURCE_COMMIT,
    )
    helm = find_helm()
    return expected_golden(packages, helm), helm


@golden_app.command("check")
@_user_errors
def golden_check(golden: GoldenOpt = Path("golden")) -> None:
    """Compare a fresh build of the built-ins with the golden files (exit 1 if any differ)."""
    expected, _ = _golden_build()
    diffs = compare_golden(expected, golden)
    for diff in diffs:
        typer.echo(diff.diff, nl=False)
    if diffs:
        typer.secho(
            f"{len(diffs)} golden files differ; review, then run: meshcharts golden update",
            fg=typer.colors.RED,
            err=True,
        )
        raise typer.Exit(1)
    typer.echo(f"{len(expected)} golden files match")


@golden_app.command("update")
@_user_errors
def golden_update(golden: GoldenOpt = Path("golden")) -> None:
    """Rewrite the golden files from a fresh build; review the result with git diff."""
    expected, _ = _golden_build()
    changed = compare_golden(expected, golden)
    update_golden(expected, golden)
    typer.echo(f"updated {golden}: {len(changed)} files changed, {len(expected)} in all")


def main() -> None:
    """Run the command line."""
    app()
