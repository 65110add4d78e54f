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

# isort: off
# Importing a command module registers its commands on ``app``, and ``meshcharts --help``
# lists the commands in the order they were registered: keep this the order of the help.
from meshcharts.cli import build, values, checks, publish, versions, golden  # noqa: F401

# isort: on
from meshcharts.cli.common import app, colour, plural
from meshcharts.cli.entry import main, run

__all__ = ["app", "colour", "main", "plural", "run"]
