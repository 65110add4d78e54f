"""The top level of the command line: its own options, and ``run`` and ``main`` to start it.

Not named ``main.py``: the package re-exports the function ``main`` (the console script
``meshcharts.cli:main``), which would hide a submodule of the same name.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import Annotated

import typer
import typer.main

from meshcharts.cli.common import app, print_error


def _tool_version() -> str:
    from meshcharts.chart.buildinfo import generator_version

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
        print_error("interrupted")
        return 130
    except Exception as exc:
        if type(exc).__name__ == "NoArgsIsHelpError":  # a group without its command: its help
            typer.echo(getattr(exc, "format_message", str)(), err=True)
            return 2
        message = _usage_error(exc)
        if message is not None:
            print_error(message)
            return 2
        if type(exc).__name__ == "Abort":
            print_error("aborted")
            return 130
        if debug:
            raise
        detail = " ".join(str(exc).split())[:300]
        print_error(
            f"internal error: {type(exc).__name__}: {detail} (a bug in meshcharts; rerun "
            "with meshcharts --debug ... for the traceback)"
        )
        return 3
    return result if isinstance(result, int) else 0


def main() -> None:
    """Run the command line and exit with its code."""
    sys.exit(run())
