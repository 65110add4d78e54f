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
    revision_namespace,
    revision_tree,
    write_build,
)
from meshcharts.charts import ISTIO_VERSION, all_charts
from meshcharts.coexist import coexistence_collisions
from meshcharts.errors import UserError
from meshcharts.explain import format_explain
from meshcharts.fsutil import staged_dir, write_files
from meshcharts.golden import compare_golden, expected_golden, update_golden
from meshcharts.helm import find_helm
from meshcharts.layers import resolve
from meshcharts.lint import format_finding, lint, lint_errors
from meshcharts.names import check_dns_label
from meshcharts.plan import plan_json, plan_markdown, upgrade_plan
from meshcharts.profiles import ProfileSet, load_profiles
from meshcharts.setvalues import SetArg
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


@app.command()
@_user_errors
def build(
    profile: ProfileOpt = None,
    version: Annotated[
        str, typer.Option("--version", help="Chart version (strict SemVer 2).")
    ] = ISTIO_VERSION,
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
) -> None:
    """Build the charts of each profile into packages, index.yaml and build.json."""
    available = _profiles(profiles)
    names = profile or sorted(available.builtin)
    sets = _sets(set_, set_string)
    packages = build_packages(
        available,
        names,
        version=version,
        sets=sets,
        allow=frozenset(allow or []),
        revisions=[CANARY, *(revision or [])],
    )
    write_build(packages, out)
    for package in packages:
        typer.echo(f"{package.path}  sha256:{package.sha256}")
    typer.echo(f"wrote {len(packages)} packages, index.yaml and build.json to {out}")


@app.command()
@_user_errors
def render(
    profile: OneProfileOpt,
    out: Annotated[Path, typer.Option("--out", help="Folder for the unpacked charts.")],
    version: Annotated[str, typer.Option("--version", help="Chart version.")] = ISTIO_VERSION,
    set_: SetOpt = None,
    set_string: SetStringOpt = None,
    profiles: ProfilesDirOpt = None,
) -> None:
    """Write the unpacked chart trees of a profile to OUT/<chart>/."""
    packages = build_packages(
        _profiles(profiles), [profile], version=version, sets=_sets(set_, set_string)
    )
    with staged_dir(out) as staged:
        for package in packages:
            write_files(staged / package.tree.name, package.tree.files)
    typer.echo(f"wrote {', '.join(p.tree.name for p in packages)} to {out}")


@app.command()
@_user_errors
def values(
    profile: OneProfileOpt,
    set_: SetOpt = None,
    set_string: SetStringOpt = None,
    chart: Annotated[
        str | None, typer.Option("--chart", help="Only the values this chart reads.")
    ] = None,
    explain: Annotated[
        str | None, typer.Option("--explain", help="Show the layers that set KEY.")
    ] = None,
    profiles: ProfilesDirOpt = None,
) -> None:
    """Print a profile's resolved values as YAML, or explain where a key's value came from."""
    resolution = resolve(_profiles(profiles), profile, sets=_sets(set_, set_string))
    if explain is not None:
        typer.echo(format_explain(resolution.values, explain), nl=False)
        return
    tree = dict(resolution.values.values)
    if chart is not None:
        if chart not in resolution.charts:
            raise UserError(
                f"--chart {chart}",
                f"not built by profile {profile!r} (charts: {', '.join(resolution.charts)})",
            )
        tree = chart_values(all_charts()[chart], resolution.charts[chart], tree)
    typer.echo(dump_values(tree), nl=False)


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
    profile: OneProfileOpt,
    set_: SetOpt = None,
    set_string: SetStringOpt = None,
    profiles: ProfilesDirOpt = None,
) -> None:
    """Check a profile for the mistakes of early Istio rollouts (exit 1 on an error)."""
    resolution = resolve(_profiles(profiles), profile, sets=_sets(set_, set_string))
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
    profile: OneProfileOpt,
    from_version: Annotated[str, typer.Option("--from", help="Installed chart version.")],
    to_version: Annotated[str, typer.Option("--to", help="Chart version to upgrade to.")],
    revision: Annotated[str, typer.Option("--revision", help="Canary revision name.")] = "canary",
    output: Annotated[
        PlanFormat, typer.Option("--format", help="markdown or json.")
    ] = PlanFormat.markdown,
    charts: Annotated[str, typer.Option("--charts", help="Build output folder.")] = "charts_out",
    profiles: ProfilesDirOpt = None,
) -> None:
    """Print the staged canary upgrade plan from one chart version to another."""
    _profiles(profiles).get(profile)
    steps = upgrade_plan(
        profile, from_version=from_version, to_version=to_version, revision=revision, charts=charts
    )
    typer.echo(plan_json(steps) if output is PlanFormat.json else plan_markdown(steps), nl=False)


def _golden_build() -> tuple[dict[str, bytes], Path]:
    available = load_profiles()
    packages = build_packages(available, sorted(available.builtin), version=ISTIO_VERSION)
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
