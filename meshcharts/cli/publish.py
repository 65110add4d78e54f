"""``meshcharts publish``: a build to a chart-repository folder or an OCI registry."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from meshcharts.cli.common import (
    BuildDirOpt,
    FormatOpt,
    TextOrJson,
    app,
    chosen_build_dir,
    hidden_alias,
    plural,
    print_json,
    user_errors,
)


@app.command()
@user_errors
def publish(
    to: Annotated[
        str,
        typer.Option(
            "--to", metavar="TARGET", help="A chart-repository folder or oci://HOST[:PORT]/PATH."
        ),
    ],
    build_dir: BuildDirOpt = Path("charts_out"),
    from_: Annotated[Path | None, hidden_alias("--from")] = None,
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
    from meshcharts.publish.publisher import publish as publish_build

    names = list(dict.fromkeys(profile or []))
    results = publish_build(
        chosen_build_dir(build_dir, from_, "--from"),
        to,
        profiles=names,
        plain_http=plain_http,
        force=force,
        timeout=timeout,
    )
    changed = sum(r.action != "unchanged" for r in results)
    if output is TextOrJson.json:
        print_json(
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
