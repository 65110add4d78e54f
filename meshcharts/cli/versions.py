"""``meshcharts version show`` and ``meshcharts version bump``: the project's chart version."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from meshcharts.cli.common import FormatOpt, TextOrJson, print_json, user_errors, version_app
from meshcharts.release.versioning import chart_version


class BumpPart(StrEnum):
    """Which part of the version ``meshcharts version bump`` raises."""

    major = "major"
    minor = "minor"
    patch = "patch"
    prerelease = "prerelease"


@version_app.command("show")
@user_errors
def version_show(output: FormatOpt = TextOrJson.text) -> None:
    """Print the chart version that build and the other commands use here."""
    found = chart_version(None, Path.cwd())
    if output is TextOrJson.json:
        print_json(found.to_json())
    else:
        typer.echo(found.version)


@version_app.command("bump")
@user_errors
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
    from meshcharts.release.versioning import bump, write_project_version

    old = chart_version(None, Path.cwd()).version
    new = bump(old, part.value, pre)
    path = write_project_version(Path.cwd(), new)
    if output is TextOrJson.json:
        print_json({"old": old, "new": new, "file": str(path)})
    else:
        typer.echo(f"{old} -> {new} ({path.name})")
