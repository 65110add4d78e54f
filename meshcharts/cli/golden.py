"""``meshcharts golden check`` and ``meshcharts golden update``: the golden files."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from meshcharts.cli.common import (
    ComponentsDirOpt,
    ProfileOpt,
    ProfilesDirOpt,
    colour,
    golden_app,
    plural,
    profile_set,
    user_errors,
)

GoldenOpt = Annotated[Path, typer.Option("--golden", metavar="DIR", help="The golden folder.")]


@golden_app.command("check")
@user_errors
def golden_check(
    golden: GoldenOpt = Path("golden"),
    profile: ProfileOpt = None,
    profiles: ProfilesDirOpt = None,
    component_dirs: ComponentsDirOpt = None,
) -> None:
    """Compare a fresh build with the golden files (exit 1 if any differ).

    The build is of the given profiles, else of your --profiles, else of the built-ins.
    """
    from meshcharts.release.golden import check_golden_dir, compare_golden, golden_files

    check_golden_dir(golden)
    expected = golden_files(profile_set(profiles, component_dirs), profile or ())
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
@user_errors
def golden_update(
    golden: GoldenOpt = Path("golden"),
    profile: ProfileOpt = None,
    profiles: ProfilesDirOpt = None,
    component_dirs: ComponentsDirOpt = None,
) -> None:
    """Rewrite the golden files from a fresh build; review the result with git diff.

    The build is of the given profiles, else of your --profiles, else of the built-ins.
    """
    from meshcharts.release.golden import compare_golden, golden_files, update_golden

    expected = golden_files(profile_set(profiles, component_dirs), profile or ())
    changed = compare_golden(expected, golden)
    update_golden(expected, golden)
    typer.echo(f"updated {golden}: {plural(len(changed), 'file')} changed, {len(expected)} in all")
