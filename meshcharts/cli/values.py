"""``meshcharts values`` and ``meshcharts profiles``: resolved values and the profiles."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from meshcharts.base.fsutil import write_atomic
from meshcharts.base.names import check_dns_label
from meshcharts.base.yamltext import dump_values
from meshcharts.chart.assemble import chart_values
from meshcharts.chart.importvalues import environment_name, import_values
from meshcharts.chart.valuesfile import provenance_keys, validate_values, values_file
from meshcharts.cli.common import (
    ComponentsDirOpt,
    EnvFileOpt,
    FormatOpt,
    ProfileOrEnvOpt,
    ProfilesDirOpt,
    SetOpt,
    SetStringOpt,
    TextOrJson,
    app,
    chosen_environment,
    print_json,
    profile_set,
    resolve_choice,
    set_args,
    user_errors,
)
from meshcharts.errors import UserError
from meshcharts.resolution.environments import profile_resolution
from meshcharts.resolution.resolve import Resolution
from meshcharts.values.explain import (
    explain_json,
    format_explain,
    format_provenance,
    provenance_json,
)


@app.command()
@user_errors
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
    component_dirs: ComponentsDirOpt = None,
) -> None:
    """Print or write resolved values, an environment's values file, or their provenance.

    With --env FILE: the values file for helm install -f of the chart (istio unless
    --chart): only what differs from the packaged chart's values.yaml (--full: all),
    validated against the chart's values.schema.json before anything is written.
    """
    available = profile_set(profiles, component_dirs)
    environment, name = chosen_environment(env, profile)
    resolution = resolve_choice(available, environment, name, set_args(set_, set_string))
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
            part = chart_values(resolution.chart(name), components, tree)
            validate_values(
                part, resolution.values, chart=resolution.chart(name), components=components
            )
    if chart is not None:
        tree = chart_values(resolution.chart(chart), resolution.charts[chart], tree)
    return tree


@app.command("profiles")
@user_errors
def list_profiles(
    profiles: ProfilesDirOpt = None,
    component_dirs: ComponentsDirOpt = None,
    output: FormatOpt = TextOrJson.text,
) -> None:
    """List the profiles with their descriptions."""
    available = profile_set(profiles, component_dirs)
    items = [available.get(name) for name in available.names()]
    if output is TextOrJson.json:
        print_json(
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


@app.command("import-values")
@user_errors
def import_values_command(
    file: Annotated[
        Path, typer.Argument(metavar="FILE", help="An Istio 1.1 values file (helm install -f).")
    ],
    profile: Annotated[
        str | None,
        typer.Option(
            "--profile",
            "-p",
            metavar="NAME",
            help="The profile to install (default: the smallest with what the file enables).",
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            metavar="ENV.yaml",
            help="Write the environment file here (atomically); its name is the file's stem.",
        ),
    ] = None,
    output: FormatOpt = TextOrJson.text,
    profiles: ProfilesDirOpt = None,
    component_dirs: ComponentsDirOpt = None,
) -> None:
    """Turn an Istio 1.1 values file into an environment file, with a report.

    Every key is translated (Istio 1.1's spelling to meshcharts'), unsupported (with the
    reason and what to use instead), dropped (equal to the profile's value), or kept. The
    environment passes meshcharts values --env. Without --out the environment file goes to
    stdout and the report to stderr.
    """
    available = profile_set(profiles, component_dirs)
    if out is not None:
        if out.is_dir():
            raise UserError(f"--out {out}", "is a folder; give a file name")
        if out.suffix != ".yaml":
            raise UserError(f"--out {out}", "an environment file is named <name>.yaml")
        name = check_dns_label(out.name.removesuffix(".yaml"), what=f"--out {out}: name")
    else:
        name = environment_name(file)
    imported = import_values(available, file, profile=profile)
    text = imported.environment_text(name)
    if out is not None:
        write_atomic(out, text.encode(), what=f"--out {out}")
    if output is TextOrJson.json:
        print_json({**imported.as_json(), "name": name, "out": str(out) if out else None})
    elif out is not None:
        typer.echo(imported.report(), nl=False)
        typer.echo(f"wrote {out}")
    else:
        typer.echo(text, nl=False)
        typer.echo(imported.report(), nl=False, err=True)
