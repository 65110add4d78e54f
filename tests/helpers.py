"""Small builders shared by tests."""

from __future__ import annotations

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
