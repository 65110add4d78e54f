"""Build hook: refuse, in one clear line, to install meshcharts on a Python older than 3.11.

pip resolves the dependencies of a local project before it checks its Requires-Python, so
on an older Python it stops at a dependency (typer) instead of naming the real cause.
Metadata hooks run first, under the Python that pip installs for.
"""

from __future__ import annotations

import sys
from typing import Any

from hatchling.metadata.plugin.interface import MetadataHookInterface

MINIMUM = (3, 11)
CLASSIFIERS = [
    "Environment :: Console",
    "Intended Audience :: System Administrators",
    "Operating System :: POSIX :: Linux",
    "Programming Language :: Python :: 3",
    "Programming Language :: Python :: 3.11",
    "Programming Language :: Python :: 3.12",
    "Programming Language :: Python :: 3.13",
    "Topic :: System :: Clustering",
    "Topic :: Software Development :: Code Generators",
]


class PythonVersionHook(MetadataHookInterface):
    """Set the classifiers; fail with a one-line reason on an unsupported Python."""

    PLUGIN_NAME = "custom"

    def update(self, metadata: dict[str, Any]) -> None:
        """Check the interpreter, then add the classifiers."""
        if sys.version_info < MINIMUM:
            found = ".".join(map(str, sys.version_info[:3]))
            raise SystemExit(
                f"meshcharts needs Python {'.'.join(map(str, MINIMUM))} or newer; "
                f"this is Python {found} ({sys.executable})"
            )
        metadata["classifiers"] = list(CLASSIFIERS)
