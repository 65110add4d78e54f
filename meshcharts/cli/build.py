"""``meshcharts build`` and ``meshcharts render``: packages and unpacked charts."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from meshcharts.checks.lint import format_finding
from meshcharts.cli.common import (
    BuildDirOpt,
    CaFileOpt,
    CertFileOpt,
    ComponentsDirOpt,
    EnvFileOpt,
    FormatOpt,
    InsecureOpt,
    KeyFileOpt,
    PasswordStdinOpt,
    PlainHttpOpt,
    ProfileOpt,
    ProfileOrEnvOpt,
    ProfilesDirOpt,
    SetOpt,
    SetStringOpt,
    SourceCommitOpt,
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
    set_args,
    user_errors,
)
from meshcharts.release.build import BreakingChangesError, BuildResult, run_build, run_render


def _print_comparisons(result: BuildResult | BreakingChangesError) -> None:
    from meshcharts.checks.releasediff import format_release_diff

    for comparison in result.comparisons:
        if comparison.report is None:
            typer.echo(f"{comparison.path}: new (no package of this profile/chart/revision before)")
            continue
        report = comparison.report
        counts = ", ".join(f"{s} {len(report.of(s))}" for s in ("breaking", "disruptive"))
        typer.echo(f"{comparison.path}: against {comparison.previous}: {counts}")
        if report.breaking:
            typer.echo(format_release_diff(report), nl=False, err=True)


def _print_build(result: BuildResult) -> None:
    for package in result.packages:
        typer.echo(f"{package.path}  sha256:{package.sha256}")
    for file in result.values_files:
        typer.echo(f"{file.path}  (environment {file.environment})")
    _print_comparisons(result)
    for subject, finding in result.warnings:
        typer.echo(f"warning: {subject}: {format_finding(finding)}", err=True)
    typer.echo(
        f"wrote {plural(len(result.packages), 'package')}, "
        f"{plural(len(result.values_files), 'values file')}, an index.yaml per profile and "
        f"build.json to {result.out}"
        + (f" ({plural(len(result.warnings), 'lint warning')})" if result.warnings else "")
    )


if TYPE_CHECKING:
    from meshcharts.checks.releasediff import PreviousRelease


@app.command()
@user_errors
def build(
    profile: ProfileOpt = None,
    version: VersionOpt = None,
    set_: SetOpt = None,
    set_string: SetStringOpt = None,
    build_dir: BuildDirOpt = Path("charts_out"),
    out: Annotated[Path | None, hidden_alias("--out")] = None,
    profiles: ProfilesDirOpt = None,
    component_dirs: ComponentsDirOpt = None,
    allow: Annotated[
        list[str] | None,
        typer.Option(
            "--allow",
            metavar="RULE-ID",
            help="Build despite errors of this lint rule (repeatable).",
        ),
    ] = None,
    revision: Annotated[
        list[str] | None,
        typer.Option(
            "--revision",
            metavar="NAME",
            help="Also build this canary revision, besides 'canary' (repeatable).",
        ),
    ] = None,
    env: Annotated[
        list[Path] | None,
        typer.Option(
            "--env",
            metavar="FILE",
            help="An environment file: write <profile>/values-<env>.yaml for it (repeatable; "
            "default: the built-in examples, for the profiles built).",
        ),
    ] = None,
    env_dir: Annotated[
        list[Path] | None,
        typer.Option(
            "--env-dir",
            metavar="DIR",
            help="A folder of environment files: a values file for each (repeatable).",
        ),
    ] = None,
    previous: Annotated[
        str | None,
        typer.Option(
            "--previous",
            metavar="DIR|oci://HOST/PATH",
            help="An earlier build folder, or the registry it was published to: release-diff "
            "each package against the one before it and refuse breaking changes.",
        ),
    ] = None,
    allow_breaking: Annotated[
        bool, typer.Option("--allow-breaking", help="Build despite breaking changes.")
    ] = False,
    sign: Annotated[
        str | None,
        typer.Option(
            "--sign", metavar="KEY", help="Sign each package with this gpg key (<package>.prov)."
        ),
    ] = None,
    keyring: Annotated[
        Path | None,
        typer.Option(
            "--keyring", metavar="PATH", help="GnuPG home folder or secret keyring file for --sign."
        ),
    ] = None,
    source_commit: SourceCommitOpt = None,
    plain_http: PlainHttpOpt = False,
    ca_file: CaFileOpt = None,
    cert_file: CertFileOpt = None,
    key_file: KeyFileOpt = None,
    insecure: InsecureOpt = False,
    username: UsernameOpt = None,
    password_stdin: PasswordStdinOpt = False,
    timeout: TimeoutOpt = 60,
    output: FormatOpt = TextOrJson.text,
) -> None:
    """Build each profile's charts into packages, values files, index.yaml and build.json.

    The build folder must be missing, empty, or an earlier build: it is replaced whole,
    in one atomic swap, and only when everything succeeded. The registry options apply to
    --previous oci://HOST/PATH (the layout publish writes: PATH/<profile>/<chart>).
    """
    before: Path | PreviousRelease | None = None if previous is None else Path(previous)
    if previous is not None and previous.startswith("oci://"):
        from meshcharts.publish.oci import parse_oci
        from meshcharts.publish.pull import RegistryRelease

        before = RegistryRelease(
            previous,
            registry_connection(plain_http, ca_file, cert_file, key_file, insecure, timeout),
            registry_credentials(parse_oci(previous).host, username, password_stdin),
        )
    try:
        result = run_build(
            profile_set(profiles, component_dirs),
            out=chosen_build_dir(build_dir, out, "--out"),
            version=chosen_version(version),
            names=profile or [],
            sets=set_args(set_, set_string),
            allow=frozenset(allow or []),
            revisions=revision or [],
            env_files=env or [],
            env_dirs=env_dir or [],
            previous=before,
            allow_breaking=allow_breaking,
            sign=sign,
            keyring=keyring,
            source_commit=source_commit,
        )
    except BreakingChangesError as exc:
        if output is TextOrJson.text:
            _print_comparisons(exc)
        raise
    if output is TextOrJson.json:
        print_json(result.to_json())
    else:
        _print_build(result)


@app.command()
@user_errors
def render(
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            metavar="DIR",
            help="Folder for the unpacked charts (missing, empty, or an earlier render).",
        ),
    ],
    profile: ProfileOrEnvOpt = None,
    env: EnvFileOpt = None,
    version: VersionOpt = None,
    set_: SetOpt = None,
    set_string: SetStringOpt = None,
    profiles: ProfilesDirOpt = None,
    component_dirs: ComponentsDirOpt = None,
    source_commit: SourceCommitOpt = None,
) -> None:
    """Write a profile's unpacked charts to OUT/<chart>/ (revisions: OUT/istio@<revision>/)."""
    available = profile_set(profiles, component_dirs)
    environment, name = chosen_environment(env, profile)
    written = run_render(
        available,
        name,
        out=out,
        version=chosen_version(version),
        environment=environment,
        sets=set_args(set_, set_string),
        source_commit=source_commit,
    )
    typer.echo(f"wrote {', '.join(written)} to {out}")
