"""The ``meshcharts`` command line: a thin layer over the library.

Every command parses its options, calls the library, and prints the result as text for
people or, with ``--format json``, as JSON for tools. Exit codes: 0 success; 1 a check
found differences or errors (golden files, lint, diff, release-diff); 2 a user error,
printed as one line on stderr with no traceback and nothing written.

One vocabulary across commands: ``--env FILE`` is one environment file (``build`` and
``diff`` take it more than once; ``build --env-dir DIR`` takes a folder of them),
``--build-dir DIR`` the build folder, ``--version SEMVER`` the chart version (default: the
``[chart] version`` of ``./meshcharts.toml``, else the built-in one), ``--format`` the
output format.
"""

from __future__ import annotations

import errno
import functools
import json
import os
import sys
from collections.abc import Callable, Sequence
from enum import StrEnum
from pathlib import Path
from typing import IO, Annotated, Any, TypeVar

import typer
import typer.main

from meshcharts.assemble import chart_values
from meshcharts.build import (
    CANARY,
    BreakingChangesError,
    BuildResult,
    check_revision,
    run_build,
    run_render,
)
from meshcharts.charts import ISTIO_VERSION, all_charts
from meshcharts.environments import (
    Environment,
    check_profile,
    load_environment,
    profile_resolution,
    resolve_environment,
)
from meshcharts.errors import UserError
from meshcharts.explain import explain_json, format_explain, format_provenance, provenance_json
from meshcharts.fsutil import write_atomic
from meshcharts.layers import Resolution, resolve
from meshcharts.lint import format_finding, lint, lint_errors, lint_summary
from meshcharts.profiles import ProfileSet, load_profiles
from meshcharts.setvalues import SetArg
from meshcharts.valuesfile import provenance_keys, validate_values, values_file
from meshcharts.versioning import chart_version
from meshcharts.yamltext import dump_values

CONTEXT = {"help_option_names": ["-h", "--help"]}

app = typer.Typer(
    name="meshcharts",
    help="Compose Istio-style service-mesh Helm charts from Python profiles.",
    no_args_is_help=True,
    add_completion=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    context_settings=CONTEXT,
)
golden_app = typer.Typer(
    help="Check or update the golden files.",
    no_args_is_help=True,
    rich_markup_mode=None,
    context_settings=CONTEXT,
)
app.add_typer(golden_app, name="golden")
version_app = typer.Typer(
    help="Show or bump the project's chart version.",
    no_args_is_help=True,
    rich_markup_mode=None,
    context_settings=CONTEXT,
)
app.add_typer(version_app, name="version")

F = TypeVar("F", bound=Callable[..., Any])


class TextOrJson(StrEnum):
    """Output formats of the reports: text for people, JSON for tools."""

    text = "text"
    json = "json"


class PlanFormat(StrEnum):
    """Output formats of ``meshcharts plan``: the report formats, and Markdown."""

    markdown = "markdown"
    text = "text"
    json = "json"


VERSION_HELP = (
    "Chart version, strict SemVer 2 (default: [chart] version of ./meshcharts.toml, "
    f"else {ISTIO_VERSION})."
)

ProfileOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--profile",
        "-p",
        metavar="NAME",
        help="Profile to build (repeatable; default: every built-in profile).",
    ),
]
OneProfileOpt = Annotated[str, typer.Option("--profile", "-p", metavar="NAME", help="The profile.")]
ProfileOrEnvOpt = Annotated[
    str | None,
    typer.Option("--profile", "-p", metavar="NAME", help="The profile (or give --env)."),
]
EnvFileOpt = Annotated[
    Path | None,
    typer.Option(
        "--env", metavar="FILE", help="One environment file: its profile, values and inventory."
    ),
]
SetOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--set", metavar="KEY=VALUE", help="A value with Helm's syntax and typing (repeatable)."
    ),
]
SetStringOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--set-string", metavar="KEY=VALUE", help="A value that stays a string (repeatable)."
    ),
]
ProfilesDirOpt = Annotated[
    list[Path] | None,
    typer.Option("--profiles", metavar="DIR", help="Folder of extra profile files (repeatable)."),
]
VersionOpt = Annotated[str | None, typer.Option("--version", metavar="SEMVER", help=VERSION_HELP)]
BuildDirOpt = Annotated[
    Path,
    typer.Option("--build-dir", metavar="DIR", help="The build folder (build.json, packages)."),
]


def _alias(name: str) -> Any:
    """A hidden option that keeps an earlier name of ``--build-dir`` working in scripts."""
    return typer.Option(name, metavar="DIR", hidden=True, help="Old name of --build-dir.")


def _build_dir(build_dir: Path, old: Path | None, old_name: str) -> Path:
    """``--build-dir``, or the folder given under its old name (not both, if they differ)."""
    if old is None:
        return build_dir
    if build_dir != Path("charts_out") and build_dir != old:
        raise UserError(old_name, "is the old name of --build-dir; give one of them, not both")
    return old


SourceCommitOpt = Annotated[
    str | None,
    typer.Option(
        "--source-commit",
        metavar="SHA",
        help="Record this commit in Chart.yaml (default: $SOURCE_COMMIT, else unknown).",
    ),
]
FormatOpt = Annotated[TextOrJson, typer.Option("--format", metavar="FORMAT", help="text or json.")]
GoldenOpt = Annotated[Path, typer.Option("--golden", metavar="DIR", help="The golden folder.")]


# --- output ----------------------------------------------------------------------------------


def colour(stream: IO[str]) -> bool:
    """Whether to colour what goes to ``stream``: a terminal, no ``NO_COLOR``, not ``dumb``."""
    isatty = getattr(stream, "isatty", None)
    return (
        bool(isatty and isatty())
        and not os.environ.get("NO_COLOR")
        and os.environ.get("TERM") != "dumb"
    )


def _error(message: str) -> None:
    # One line, always: a message that spans lines (a tool's stderr, say) is joined.
    text = "error: " + " ".join(message.split())
    typer.echo(typer.style(text, fg=typer.colors.RED) if colour(sys.stderr) else text, err=True)


def _json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False, default=str))


def plural(count: int, word: str, many: str | None = None) -> str:
    """``1 package``, ``2 packages`` (``many`` for irregular plurals)."""
    return f"{count} {word}" if count == 1 else f"{count} {many or word + 's'}"


# What the machine refuses is the user's to fix: a full disk, a read-only file system, no
# permission, a name too long. Each is named with the path, as a user error.
_USER_ERRNOS = frozenset(
    {
        errno.ENOSPC,
        errno.EDQUOT,
        errno.EROFS,
        errno.EACCES,
        errno.EPERM,
        errno.ENAMETOOLONG,
        errno.ENOTDIR,
        errno.EISDIR,
        errno.ELOOP,
        errno.EMFILE,
        errno.ENOENT,
    }
)


def _user_errors(func: F) -> F:
    """Turn a UserError (and the machine's refusals) into one red line and exit code 2."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except UserError as exc:
            _error(str(exc))
            raise typer.Exit(2) from None
        except OSError as exc:
            if exc.errno not in _USER_ERRNOS:
                raise
            where = exc.filename if exc.filename is not None else "meshcharts"
            _error(f"{where}: {exc.strerror or exc}")
            raise typer.Exit(2) from None
        except RecursionError:
            _error("input: nested too deeply to process")
            raise typer.Exit(2) from None

    return wrapper  # type: ignore[return-value]


def _tool_version() -> str:
    from meshcharts.provenance import generator_version

    return generator_version()


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"meshcharts {_tool_version()}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            is_eager=True,
            callback=_print_version,
            help="Print meshcharts' own version and exit.",
        ),
    ] = False,
    debug: Annotated[
        bool,
        typer.Option("--debug", help="Show the traceback of an unexpected error (a bug)."),
    ] = False,
) -> None:
    """Compose Istio-style service-mesh Helm charts from Python profiles."""


# --- shared parsing --------------------------------------------------------------------------


def _sets(sets: list[str] | None, strings: list[str] | None) -> list[SetArg]:
    # Helm applies every --set before every --set-string.
    return [SetArg(s) for s in sets or []] + [SetArg(s, string=True) for s in strings or []]


def _profiles(dirs: list[Path] | None) -> ProfileSet:
    return load_profiles(list(dict.fromkeys(dirs or [])))


def _version(explicit: str | None) -> str:
    return chart_version(explicit, Path.cwd()).version


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


# --- build and render ------------------------------------------------------------------------


def _print_comparisons(result: BuildResult | BreakingChangesError) -> None:
    from meshcharts.releasediff import format_release_diff

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


@app.command()
@_user_errors
def build(
    profile: ProfileOpt = None,
    version: VersionOpt = None,
    set_: SetOpt = None,
    set_string: SetStringOpt = None,
    build_dir: BuildDirOpt = Path("charts_out"),
    out: Annotated[Path | None, _alias("--out")] = None,
    profiles: ProfilesDirOpt = None,
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
        Path | None,
        typer.Option(
            "--previous",
            metavar="DIR",
            help="An earlier build folder: release-diff each package against it and refuse "
            "breaking changes.",
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
    output: FormatOpt = TextOrJson.text,
) -> None:
    """Build each profile's charts into packages, values files, index.yaml and build.json.

    The build folder must be missing, empty, or an earlier build: it is replaced whole,
    in one atomic swap, and only when everything succeeded.
    """
    try:
        result = run_build(
            _profiles(profiles),
            out=_build_dir(build_dir, out, "--out"),
            version=_version(version),
            names=profile or [],
            sets=_sets(set_, set_string),
            allow=frozenset(allow or []),
            revisions=revision or [],
            env_files=env or [],
            env_dirs=env_dir or [],
            previous=previous,
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
        _json(result.to_json())
    else:
        _print_build(result)


@app.command()
@_user_errors
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
    source_commit: SourceCommitOpt = None,
) -> None:
    """Write a profile's unpacked charts to OUT/<chart>/ (revisions: OUT/istio@<revision>/)."""
    available = _profiles(profiles)
    environment, name = _environment(env, profile)
    written = run_render(
        available,
        name,
        out=out,
        version=_version(version),
        environment=environment,
        sets=_sets(set_, set_string),
        source_commit=source_commit,
    )
    typer.echo(f"wrote {', '.join(written)} to {out}")


# --- values and profiles ---------------------------------------------------------------------


@app.command()
@_user_errors
def values(
    profile: ProfileOrEnvOpt = None,
    env: EnvFileOpt = None,
    set_: SetOpt = None,
    set_string: SetStringOpt = None,
    chart: Annotated[
        str | None,
        typer.Option(
            "--chart", metavar="CHART", help="Only the values this chart reads (with --env: istio)."
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", metavar="FILE", help="Write the result to this file (atomically)."),
    ] = None,
    full: Annotated[
        bool,
        typer.Option("--full", help="With --env: every value, not only what differs."),
    ] = False,
    explain: Annotated[
        str | None, typer.Option("--explain", metavar="KEY", help="Show the layers that set KEY.")
    ] = None,
    explain_all: Annotated[
        bool, typer.Option("--explain-all", help="Show the layers behind every value.")
    ] = False,
    output: Annotated[
        TextOrJson,
        typer.Option(
            "--format", metavar="FORMAT", help="text or json (text: YAML, or the explanation)."
        ),
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
    as_json = output is TextOrJson.json
    if explain is not None:
        text = (explain_json if as_json else format_explain)(resolution.values, explain)
    elif explain_all:
        tops = provenance_keys(resolution, chart) if chart is not None else None
        text = (provenance_json if as_json else format_provenance)(resolution.values, tops)
    elif environment is not None:
        file = values_file(
            resolution,
            profile_resolution(available, environment.profile),
            chart=chart or "istio",
            environment=environment.name,
            full=full,
        )
        text = _dumps(file.values) if as_json else file.text
    else:
        tree = _profile_values(resolution, chart, validate=out is not None)
        text = _dumps(tree) if as_json else dump_values(tree)
    if out is None:
        typer.echo(text, nl=False)
        return
    if out.is_dir():
        raise UserError(f"--out {out}", "is a folder; give a file name")
    write_atomic(out, text.encode(), what=f"--out {out}")
    typer.echo(f"wrote {out}")


def _dumps(data: Any) -> str:
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _profile_values(resolution: Resolution, chart: str | None, *, validate: bool) -> dict[str, Any]:
    """A profile's resolved values (one chart's part with ``chart``)."""
    tree = dict(resolution.values.values)
    charts = [chart] if chart is not None else list(resolution.charts)
    if validate:
        for name in charts:
            components = resolution.charts[name]
            part = chart_values(all_charts()[name], components, tree)
            validate_values(part, resolution.values, chart=name, components=components)
    if chart is not None:
        tree = chart_values(all_charts()[chart], resolution.charts[chart], tree)
    return tree


@app.command("profiles")
@_user_errors
def list_profiles(profiles: ProfilesDirOpt = None, output: FormatOpt = TextOrJson.text) -> None:
    """List the profiles with their descriptions."""
    available = _profiles(profiles)
    items = [available.get(name) for name in available.names()]
    if output is TextOrJson.json:
        _json(
            [
                {
                    "name": item.name,
                    "description": item.description,
                    "extends": item.extends,
                    "builtin": item.name in available.builtin,
                    "source": item.source,
                }
                for item in items
            ]
        )
        return
    width = max(len(item.name) for item in items)
    for item in items:
        parent = f" (extends {item.extends})" if item.extends else ""
        typer.echo(f"{item.name.ljust(width)}  {item.description}{parent}")


# --- checks ----------------------------------------------------------------------------------


@app.command("check-coexist")
@_user_errors
def check_coexist(
    profile: OneProfileOpt,
    revision: Annotated[
        str, typer.Option("--revision", metavar="NAME", help="The canary revision.")
    ] = CANARY,
    version: VersionOpt = None,
    set_: SetOpt = None,
    set_string: SetStringOpt = None,
    profiles: ProfilesDirOpt = None,
    output: FormatOpt = TextOrJson.text,
) -> None:
    """Check that a revision's control plane can run beside the stable one (exit 2 if not)."""
    report = check_revision(
        _profiles(profiles),
        profile,
        revision,
        version=_version(version),
        sets=_sets(set_, set_string),
    )
    if output is TextOrJson.json:
        _json(report.to_json())
    else:
        for collision in report.collisions:
            typer.echo(f"{collision.kind}: {collision.detail}", err=True)
    if not report.ok:
        raise UserError(
            f"revision {revision!r} of profile {profile!r}",
            f"{plural(len(report.collisions), 'collision')} with the stable control plane",
        )
    if output is TextOrJson.text:
        stable, canary = report.namespaces
        typer.echo(f"profile {profile}: revision {revision} in {canary} can run beside {stable}")


@app.command("lint")
@_user_errors
def lint_command(
    profile: ProfileOrEnvOpt = None,
    env: EnvFileOpt = None,
    set_: SetOpt = None,
    set_string: SetStringOpt = None,
    profiles: ProfilesDirOpt = None,
    output: FormatOpt = TextOrJson.text,
) -> None:
    """Check a profile (or an environment) for the mistakes of early Istio rollouts (exit 1)."""
    available = _profiles(profiles)
    environment, name = _environment(env, profile)
    resolution = _resolve(available, environment, name, _sets(set_, set_string))
    findings = lint(resolution)
    subject = f"environment {environment.name}" if environment else f"profile {name}"
    errors = lint_errors(findings)
    if output is TextOrJson.json:
        _json(
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
@_user_errors
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
    charts_dir: Annotated[Path | None, _alias("--charts")] = None,
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
) -> None:
    """Print the staged canary upgrade plan from one chart version to another.

    The packages it installs must exist: the new version's in --build-dir, the installed
    version's in --previous. With --env FILE the canary is installed with the environment's
    values file, as meshcharts build writes it: <build-dir>/<profile>/values-<env>.yaml.
    """
    from meshcharts.plan import check_packages, plan_json, plan_markdown, plan_text, upgrade_plan

    environment, name = _environment(env, profile)
    _profiles(profiles).get(name)
    charts = str(_build_dir(build_dir, charts_dir, "--charts"))
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
@_user_errors
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
) -> None:
    """Compare two environments, profiles or packages: values with provenance, then objects.

    The two sides are every --env, then every --profile (in that order), or two .tgz
    packages. Exit 0 when they are equal, 1 when they differ.
    """
    from meshcharts.diff import diff_json, diff_sides, format_diff

    report = diff_sides(
        _profiles(profiles),
        packages=[path for path in (old, new) if path is not None],
        env_files=env or [],
        names=profile or [],
        version=_version(version),
    )
    typer.echo(diff_json(report) if output is TextOrJson.json else format_diff(report), nl=False)
    if not report.equal:
        raise typer.Exit(1)


@app.command("release-diff")
@_user_errors
def release_diff_command(
    old: Annotated[
        Path,
        typer.Argument(metavar="OLD.tgz", help="The released package.", show_default=False),
    ],
    new: Annotated[
        Path,
        typer.Argument(metavar="NEW.tgz", help="The package to upgrade to.", show_default=False),
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
        charts = list(dict.fromkeys([load_package(old).name, load_package(new).name]))
        overlays = environment_overlays(available, environment, charts)
    report = release_diff(old, new, overlays=overlays)
    if output is TextOrJson.json:
        typer.echo(release_diff_json(report), nl=False)
    else:
        typer.echo(format_release_diff(report), nl=False)
    if report.breaking and not allow_breaking:
        raise typer.Exit(1)


# --- publishing and versions -----------------------------------------------------------------


@app.command()
@_user_errors
def publish(
    to: Annotated[
        str,
        typer.Option(
            "--to", metavar="TARGET", help="A chart-repository folder or oci://HOST[:PORT]/PATH."
        ),
    ],
    build_dir: BuildDirOpt = Path("charts_out"),
    from_: Annotated[Path | None, _alias("--from")] = None,
    profile: Annotated[
        list[str] | None,
        typer.Option(
            "--profile",
            "-p",
            metavar="NAME",
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
    timeout: Annotated[
        float,
        typer.Option(
            "--timeout",
            metavar="SECONDS",
            min=0.1,
            help="Deadline of each registry request: connection and whole reply.",
        ),
    ] = 60,
    output: FormatOpt = TextOrJson.text,
) -> None:
    """Publish a build to a chart-repository folder or an OCI registry (idempotent)."""
    from meshcharts.publish import publish as publish_build

    names = list(dict.fromkeys(profile or []))
    results = publish_build(
        _build_dir(build_dir, from_, "--from"),
        to,
        profiles=names,
        plain_http=plain_http,
        force=force,
        timeout=timeout,
    )
    changed = sum(r.action != "unchanged" for r in results)
    if output is TextOrJson.json:
        _json(
            {
                "target": to,
                "published": changed,
                "unchanged": len(results) - changed,
                "results": [
                    {"action": r.action, "package": r.package.path, "where": r.where}
                    for r in results
                ],
            }
        )
        return
    for result in results:
        typer.echo(f"{result.action:9}  {result.package.path}  ->  {result.where}")
    typer.echo(
        f"published {plural(changed, 'package')}, {len(results) - changed} unchanged, to {to}"
    )


class BumpPart(StrEnum):
    """Which part of the version ``meshcharts version bump`` raises."""

    major = "major"
    minor = "minor"
    patch = "patch"
    prerelease = "prerelease"


@version_app.command("show")
@_user_errors
def version_show(output: FormatOpt = TextOrJson.text) -> None:
    """Print the chart version that build and the other commands use here."""
    found = chart_version(None, Path.cwd())
    if output is TextOrJson.json:
        _json(found.to_json())
    else:
        typer.echo(found.version)


@version_app.command("bump")
@_user_errors
def version_bump(
    part: Annotated[
        BumpPart, typer.Argument(metavar="PART", help="major, minor, patch or prerelease.")
    ],
    pre: Annotated[
        str,
        typer.Option("--pre", metavar="ID", help="Pre-release identifier for 'prerelease'."),
    ] = "rc",
    output: FormatOpt = TextOrJson.text,
) -> None:
    """Bump the chart version in ./meshcharts.toml (created from the built-in one if missing)."""
    from meshcharts.versioning import bump, write_project_version

    old = chart_version(None, Path.cwd()).version
    new = bump(old, part.value, pre)
    path = write_project_version(Path.cwd(), new)
    if output is TextOrJson.json:
        _json({"old": old, "new": new, "file": str(path)})
    else:
        typer.echo(f"{old} -> {new} ({path.name})")


# --- golden files ----------------------------------------------------------------------------


@golden_app.command("check")
@_user_errors
def golden_check(golden: GoldenOpt = Path("golden")) -> None:
    """Compare a fresh build of the built-ins with the golden files (exit 1 if any differ)."""
    from meshcharts.golden import check_golden_dir, compare_golden, golden_files

    check_golden_dir(golden)
    expected = golden_files()
    diffs = compare_golden(expected, golden)
    for diff in diffs:
        typer.echo(diff.diff, nl=False)
    if diffs:
        verb = "differs" if len(diffs) == 1 else "differ"
        message = (
            f"{plural(len(diffs), 'golden file')} {verb}; review, then: meshcharts golden update"
        )
        styled = typer.style(message, fg=typer.colors.RED) if colour(sys.stderr) else message
        typer.echo(styled, err=True)
        raise typer.Exit(1)
    typer.echo(
        f"{plural(len(expected), 'golden file')} {'matches' if len(expected) == 1 else 'match'}"
    )


@golden_app.command("update")
@_user_errors
def golden_update(golden: GoldenOpt = Path("golden")) -> None:
    """Rewrite the golden files from a fresh build; review the result with git diff."""
    from meshcharts.golden import compare_golden, golden_files, update_golden

    expected = golden_files()
    changed = compare_golden(expected, golden)
    update_golden(expected, golden)
    typer.echo(f"updated {golden}: {plural(len(changed), 'file')} changed, {len(expected)} in all")


def _usage_error(exc: Exception) -> str | None:
    """The one-line message of a command-line usage error (click's), else None."""
    format_message = getattr(exc, "format_message", None)
    if not callable(format_message) or not hasattr(exc, "exit_code"):
        return None
    ctx = getattr(exc, "ctx", None)
    path = getattr(ctx, "command_path", "meshcharts")
    return f"{format_message()} (see {path} -h)"


def run(argv: Sequence[str] | None = None) -> int:
    """Run the command line on ``argv`` (default: ``sys.argv[1:]``); the exit code.

    Every failure is one line on stderr: a usage error exits 2, an unexpected error (a bug
    in meshcharts) exits 3 with a hint to rerun with ``--debug`` for the traceback.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args or bool(os.environ.get("MESHCHARTS_DEBUG"))
    command = typer.main.get_command(app)
    try:
        result = command.main(args=args, prog_name="meshcharts", standalone_mode=False)
    except KeyboardInterrupt:
        _error("interrupted")
        return 130
    except Exception as exc:
        if type(exc).__name__ == "NoArgsIsHelpError":  # a group without its command: its help
            typer.echo(getattr(exc, "format_message", str)(), err=True)
            return 2
        message = _usage_error(exc)
        if message is not None:
            _error(message)
            return 2
        if type(exc).__name__ == "Abort":
            _error("aborted")
            return 130
        if debug:
            raise
        detail = " ".join(str(exc).split())[:300]
        _error(
            f"internal error: {type(exc).__name__}: {detail} (a bug in meshcharts; rerun "
            "with meshcharts --debug ... for the traceback)"
        )
        return 3
    return result if isinstance(result, int) else 0


def main() -> None:
    """Run the command line and exit with its code."""
    sys.exit(run())
