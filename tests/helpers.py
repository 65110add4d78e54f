"""Small builders shared by tests."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path


def write_profiles(folder: Path, sources: dict[str, str]) -> Path:
    """Write profile files ``{stem: python source}`` into ``folder`` and return it."""
    folder.mkdir(parents=True, exist_ok=True)
    for stem, source in sources.items():
        (folder / f"{stem}.py").write_text(textwrap.dedent(source))
    return folder


def profile_source(name: str, *, extends: str | None = None, body: str = "") -> str:
    """Python source of a profile file."""
    parent = f"extends={extends!r}," if extends else ""
    return (
        "from meshcharts import Profile\n"
        f"PROFILE = Profile(name={name!r}, description='test profile {name}', {parent} {body})\n"
    )


def run_meshcharts(
    *args: str,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    stdin: str = "",
    timeout: float = 600,
) -> tuple[int, str, str]:
    """``python -m meshcharts ARGS`` in a process of its own (as a user runs it).

    Returns:
        The exit code, stdout and stderr.
    """
    done = subprocess.run(
        [sys.executable, "-m", "meshcharts", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=timeout,
        check=False,
    )
    return done.returncode, done.stdout, done.stderr


def assert_one_line_error(code: int, stderr: str, *parts: str) -> None:
    """The refusal contract: exit 2, one line on stderr holding ``parts``, no traceback."""
    assert code == 2, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    for part in parts:
        assert part in lines[0], lines[0]
