"""The checks: ``check-coexist``, ``lint``, ``plan``, ``diff`` and ``release-diff``."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from meshcharts.chart.profile import CANARY
from meshcharts.checks.lint import format_finding, lint, lint_errors, lint_summary
from meshcharts.cli.common import (
    BuildDirOpt,
    CaFileOpt,
    CertFileOpt,
    ComponentsDirOpt,
    EnvFileOpt,
    FormatOpt,
    InsecureOpt,
    KeyFileOpt,
    OneProfileOpt,
    Package,
    PasswordStdinOpt,
    PlainHttpOpt,
    ProfileOrEnvOpt,
    ProfilesDirOpt,
    SetOpt,
    SetStringOpt,
    TextOrJson,
    TimeoutOpt,
    UsernameOpt,
    VersionOpt,
    app,
    chosen_build_dir,
    chosen_environment,
    chosen_version,
    hidden_alias,
    plural,
    print_json,
    profile_set,
    registry_connection,
    registry_credentials,
    resolve_choice,
    set_args,
    user_errors,
)
from meshcharts.errors import UserError
from meshcharts.inputs.environments import load_environment
from meshcharts.release.build import check_revision
from meshcharts.resolution.environments import check_profile

if TYPE_CHECKING:  # imported when a package comes from a registry
    from meshcharts.publish.credentials import Credentials
    from meshcharts.publish.oci import Connection
    from meshcharts.publish.pull import ChartRef


class PlanFormat(StrEnum):
    """Output formats of ``meshcharts plan``: the report formats, and Markdown."""

    markdown = "markdown"
    text = "text"
    json = "json"


@app.command("check-coexist")
@user_errors
def check_coexist(
    profile: OneProfileOpt,
    revision: Annotated[
        str, typer.Option("--revision", metavar="NAME", help="The canary revision.")
    ] = CANARY,
    version: VersionOpt = None,
    set_: SetOpt = None,
    set_string: SetStringOpt = None,
    against: Annotated[
        Path | None,
        typer.Option(
            "--against",
            metavar="MANIFEST",
            help="Compare with an installed release's objects (helm get manifest) instead "
            "of the profile's stable control plane.",
        ),
    ] = None,
    against_namespace: Annotated[
        str,
        typer.Option(
            "--against-namespace",
            metavar="NS",
            help="Namespace of the manifest's objects that name none.",
        ),
    ] = "istio-system",
    profiles: ProfilesDirOpt = None,
    component_dirs: ComponentsDirOpt = None,
    output: FormatOpt = TextOrJson.text,
) -> None:
    """Check that a revision's control plane can run beside the stable one (exit 2 if not).

    With --against MANIFEST: beside the installed release those objects belong to, for
    example an Istio 1.1 installed by its own charts.
    """
    report = check_revision(
        profile_set(profiles, component_dirs),
        profile,
        revision,
        version=chosen_version(version),
        sets=set_args(set_, set_string),
        against=against,
        against_namespace=against_namespace,
    )
    if output is TextOrJson.json:
        print_json(report.to_json())
    else:
        for collision in report.collisions:
            typer.echo(f"{collision.kind}: {collision.detail}", err=True)
    if not report.ok:
        raise UserError(
            f"revision {revision!r} of profile {profile!r}",
            f"{plural(len(report.collisions), 'collision')} with {_other_side(report.against)}",
        )
    if output is TextOrJson.text:
        stable, canary = report.namespaces
        beside = f"the release of {report.against} in {stable}" if report.against else stable
        typer.echo(f"profile {profile}: revision {revision} in {canary} can run beside {beside}")


def _other_side(against: str) -> str:
    return f"the installed release of {against}" if against else "the stable control plane"


@app.command("lint")
@user_errors
def lint_command(
    profile: ProfileOrEnvOpt = None,
    env: EnvFileOpt = None,
    set_: SetOpt = None,
    set_string: SetStringOpt = None,
    profiles: ProfilesDirOpt = None,
    component_dirs: ComponentsDirOpt = None,
    output: FormatOpt = TextOrJson.text,
) -> None:
    """Check a profile (or an environment) for the mistakes of early Istio rollouts (exit 1)."""
    available = profile_set(profiles, component_dirs)
    environment, name = chosen_environment(env, profile)
    resolution = resolve_choice(available, environment, name, set_args(set_, set_string))
    findings = lint(resolution)
    subject = f"environment {environment.name}" if environment else f"profile {name}"
    errors = lint_errors(findings)
    if output is TextOrJson.json:
        print_json(
            {
                "subject": subject,
                "findings": [finding.to_json() for finding in findings],
                "errors": len(errors),
                "warnings": len(findings) - len(errors),
            }
        )
    else:
        for finding in findings:
            typer.echo(format_finding(finding))
        typer.echo(f"{subject}: {lint_summary(findings)}")
    if errors:
        raise typer.Exit(1)


@app.command()
@user_errors
def plan(
    from_version: Annotated[
        str, typer.Option("--from", metavar="SEMVER", help="The installed chart version.")
    ],
    to_version: Annotated[
        str, typer.Option("--to", metavar="SEMVER", help="The chart version to upgrade to.")
    ],
    revision: Annotated[
        str, typer.Option("--revision", metavar="NAME", help="The canary revision.")
    ] = CANARY,
    output: Annotated[
        PlanFormat, typer.Option("--format", metavar="FORMAT", help="markdown, text or json.")
    ] = PlanFormat.markdown,
    build_dir: BuildDirOpt = Path("charts_out"),
    charts_dir: Annotated[Path | None, hidden_alias("--charts")] = None,
    previous: Annotated[
        Path | None,
        typer.Option(
            "--previous",
            metavar="DIR",
            help="The build folder of the installed version (default: --build-dir).",
        ),
    ] = None,
    profile: ProfileOrEnvOpt = None,
    env: EnvFileOpt = None,
    profiles: ProfilesDirOpt = None,
    component_dirs: ComponentsDirOpt = None,
) -> None:
    """Print the staged canary upgrade plan from one chart version to another.

    The packages it installs must exist: the new version's in --build-dir, the installed
    version's in --previous. With --env FILE the canary is installed with the environment's
    values file, as meshcharts build writes it: <build-dir>/<profile>/values-<env>.yaml.
    """
    from meshcharts.checks.plan import (
        check_packages,
        plan_json,
        plan_markdown,
        plan_text,
        upgrade_plan,
    )

    environment, name = chosen_environment(env, profile)
    profile_set(profiles, component_dirs).get(name)
    charts = str(chosen_build_dir(build_dir, charts_dir, "--charts"))
    steps = upgrade_plan(
        name,
        from_version=from_version,
        to_version=to_version,
        revision=revision,
        charts=charts,
        previous=str(previous) if previous is not None else "",
        values_file=f"{charts}/{name}/values-{environment.name}.yaml" if environment else "",
    )
    check_packages(steps)
    show = {PlanFormat.json: plan_json, PlanFormat.text: plan_text}.get(output, plan_markdown)
    typer.echo(show(steps), nl=False)


@app.command("diff")
@user_errors
def diff_command(
    old: Annotated[
        Path | None,
        typer.Argument(metavar="OLD.tgz", help="A built chart package.", show_default=False),
    ] = None,
    new: Annotated[
        Path | None,
        typer.Argument(
            metavar="NEW.tgz", help="The package to compare it with.", show_default=False
        ),
    ] = None,
    env: Annotated[
        list[Path] | None,
        typer.Option(
            "--env", metavar="FILE", help="An environment file to compare (give two sides)."
        ),
    ] = None,
    profile: Annotated[
        list[str] | None,
        typer.Option(
            "--profile", "-p", metavar="NAME", help="A profile to compare (give two sides)."
        ),
    ] = None,
    version: VersionOpt = None,
    output: FormatOpt = TextOrJson.text,
    profiles: ProfilesDirOpt = None,
    component_dirs: ComponentsDirOpt = None,
) -> None:
    """Compare two environments, profiles or packages: values with provenance, then objects.

    The two sides are every --env, then every --profile (in that order), or two .tgz
    packages. Exit 0 when they are equal, 1 when they differ.
    """
    from meshcharts.checks.diff import diff_json, diff_sides, format_diff

    report = diff_sides(
        profile_set(profiles, component_dirs),
        packages=[path for path in (old, new) if path is not None],
        env_files=env or [],
        names=profile or [],
        version=chosen_version(version),
    )
    typer.echo(diff_json(report) if output is TextOrJson.json else format_diff(report), nl=False)
    if not report.equal:
        raise typer.Exit(1)


@app.command("release-diff")
@user_errors
def release_diff_command(
    old: Annotated[
        Package,
        typer.Argument(
            metavar="OLD",
            parser=Package,
            help="The released package: a .tgz, or oci://HOST/PATH/NAME:VERSION.",
            show_default=False,
        ),
    ],
    new: Annotated[
        Package,
        typer.Argument(
            metavar="NEW",
            parser=Package,
            help="The package to upgrade to: a .tgz, or oci://HOST/PATH/NAME:VERSION.",
            show_default=False,
        ),
    ],
    env: Annotated[
        Path | None,
        typer.Option("--env", metavar="FILE", help="Apply this environment's values file to both."),
    ] = None,
    output: FormatOpt = TextOrJson.text,
    allow_breaking: Annotated[
        bool, typer.Option("--allow-breaking", help="Exit 0 even with breaking changes.")
    ] = False,
    profiles: ProfilesDirOpt = None,
    component_dirs: ComponentsDirOpt = None,
    plain_http: PlainHttpOpt = False,
    ca_file: CaFileOpt = None,
    cert_file: CertFileOpt = None,
    key_file: KeyFileOpt = None,
    insecure: InsecureOpt = False,
    username: UsernameOpt = None,
    password_stdin: PasswordStdinOpt = False,
    timeout: TimeoutOpt = 60,
) -> None:
    """Classify every change from OLD to NEW for helm upgrade: breaking, disruptive or safe.

    A package given as oci://HOST/PATH/NAME:VERSION is pulled from the registry first (the
    same TLS options and credentials as publish). Exit 1 when a change is breaking (unless
    --allow-breaking), else 0.
    """
    connection = registry_connection(plain_http, ca_file, cert_file, key_file, insecure, timeout)
    hosts = {ref.host: ref for ref in (_chart_ref(text) for text in (old, new)) if ref is not None}
    credentials = {host: registry_credentials(host, username, password_stdin) for host in hosts}
    with ExitStack() as stack:
        paths = [
            stack.enter_context(_package_file(text, connection, credentials)) for text in (old, new)
        ]
        # A pulled package is shown by its reference, not by its temporary file.
        labels = (old, new) if hosts else None
        _release_diff(paths, labels, env, output, allow_breaking, profiles, component_dirs)


def _chart_ref(text: str) -> ChartRef | None:
    from meshcharts.publish.pull import parse_chart_ref

    return parse_chart_ref(text) if text.startswith("oci://") else None


@contextmanager
def _package_file(
    text: str, connection: Connection, credentials: Mapping[str, Credentials | None]
) -> Iterator[Path]:
    """A package argument as a file: itself, or pulled from a registry into a temporary one."""
    ref = _chart_ref(text)
    if ref is None:
        yield Path(text)
        return
    from meshcharts.publish.pull import pulled_package

    with pulled_package(text, connection=connection, credentials=credentials[ref.host]) as path:
        yield path


def _release_diff(
    paths: list[Path],
    labels: tuple[str, str] | None,
    env: Path | None,
    output: TextOrJson,
    allow_breaking: bool,
    profiles: list[Path] | None,
    component_dirs: list[Path] | None,
) -> None:
    """Run the release diff of two package files and print it (exit 1 when breaking)."""
    from meshcharts.checks.diff import load_package
    from meshcharts.checks.releasediff import (
        environment_overlays,
        format_release_diff,
        release_diff,
        release_diff_json,
    )

    old, new = paths
    overlays = None
    if env is not None:
        environment = load_environment(env)
        available = profile_set(profiles, component_dirs)
        check_profile(available, environment)
        charts = list(dict.fromkeys([load_package(old).name, load_package(new).name]))
        overlays = environment_overlays(available, environment, charts)
    report = release_diff(old, new, overlays=overlays, labels=labels)
    if output is TextOrJson.json:
        typer.echo(release_diff_json(report), nl=False)
    else:
        typer.echo(format_release_diff(report), nl=False)
    if report.breaking and not allow_breaking:
        raise typer.Exit(1)
