"""The project's chart version, kept in ``meshcharts.toml`` (``[chart] version = "X.Y.Z"``)."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

import semver

from meshcharts.base.fsutil import write_atomic
from meshcharts.base.limits import read_limited
from meshcharts.base.names import check_version
from meshcharts.catalog.charts import ISTIO_VERSION
from meshcharts.errors import UserError, VersionError

__all__ = [
    "PROJECT_FILE",
    "VersionSource",
    "bump",
    "chart_version",
    "project_version",
    "write_project_version",
]

PROJECT_FILE = "meshcharts.toml"
PARTS = ("major", "minor", "patch", "prerelease")
_VERSION_LINE = re.compile(r'^(\s*version\s*=\s*)"[^"\n]*"', re.MULTILINE)


def project_version(folder: Path) -> str | None:
    """The ``[chart] version`` of ``folder/meshcharts.toml``, or None without that file."""
    path = folder / PROJECT_FILE
    if not path.is_file():
        return None
    raw = read_limited(path, 1024 * 1024)
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UserError(str(path), f"cannot be read: {exc}") from None
    chart = data.get("chart", {})
    if not isinstance(chart, dict):
        raise UserError(str(path), "[chart] must be a table")
    version = chart.get("version")
    if not isinstance(version, str):
        raise UserError(str(path), 'has no [chart] version = "X.Y.Z"')
    check_version(version)
    return version


@dataclass(frozen=True)
class VersionSource:
    """A chart version and where it came from (``--version``, the file, or built in)."""

    version: str
    source: str

    def to_json(self) -> dict[str, str]:
        """The version as JSON data."""
        return {"version": self.version, "source": self.source}


def chart_version(explicit: str | None, folder: Path) -> VersionSource:
    """The chart version every command that assembles charts uses.

    ``explicit`` (``--version``) wins; else ``[chart] version`` of ``folder/meshcharts.toml``;
    else the built-in version.

    Raises:
        VersionError: the version is not strict SemVer 2.
        UserError: ``meshcharts.toml`` cannot be read.
    """
    if explicit is not None:
        check_version(explicit)
        return VersionSource(explicit, "--version")
    found = project_version(folder)
    if found is not None:
        return VersionSource(found, str(folder / PROJECT_FILE))
    return VersionSource(ISTIO_VERSION, "built-in")


def bump(version: str, part: str, pre: str = "rc") -> str:
    """The next version after ``version`` (SemVer 2; build metadata is dropped).

    A pre-release is followed by its own release when that is what ``part`` asks for:
    ``2.0.0-rc.1`` bumps (major) to ``2.0.0``, ``1.3.0-rc.1`` (minor) to ``1.3.0``,
    ``1.2.4-rc.1`` (patch) to ``1.2.4``. ``prerelease`` bumps ``1.2.3`` to
    ``1.2.4-<pre>.0`` and ``1.2.4-<pre>.0`` to ``1.2.4-<pre>.1``; another ``--pre``
    restarts at ``1.2.4-<other>.0``.
    """
    check_version(version)
    v = semver.Version.parse(version)
    if part == "major":
        keep = v.prerelease is not None and v.minor == 0 and v.patch == 0
        return str(semver.Version(v.major if keep else v.major + 1, 0, 0))
    if part == "minor":
        keep = v.prerelease is not None and v.patch == 0
        return str(semver.Version(v.major, v.minor if keep else v.minor + 1, 0))
    if part == "patch":
        return str(semver.Version(v.major, v.minor, v.patch if v.prerelease else v.patch + 1))
    if part == "prerelease":
        if not re.fullmatch(r"[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*", pre) or pre[0].isdigit():
            raise VersionError(f"--pre {pre}", "not a pre-release identifier such as rc or beta")
        if v.prerelease is None:
            return f"{v.major}.{v.minor}.{v.patch + 1}-{pre}.0"
        head, _, last = v.prerelease.rpartition(".")
        if head == pre and last.isdigit():
            return f"{v.major}.{v.minor}.{v.patch}-{pre}.{int(last) + 1}"
        return f"{v.major}.{v.minor}.{v.patch}-{pre}.0"
    raise UserError(part, f"not one of {', '.join(PARTS)}")


def write_project_version(folder: Path, version: str) -> Path:
    """Set ``[chart] version`` in ``folder/meshcharts.toml`` (created if missing)."""
    check_version(version)
    path = folder / PROJECT_FILE
    text = read_limited(path, 1024 * 1024).decode("utf-8") if path.is_file() else ""
    if "[chart]" in text and _VERSION_LINE.search(text.split("[chart]", 1)[1]):
        before, after = text.split("[chart]", 1)
        text = before + "[chart]" + _VERSION_LINE.sub(rf'\g<1>"{version}"', after, count=1)
    elif "[chart]" in text:
        text = text.replace("[chart]", f'[chart]\nversion = "{version}"', 1)
    else:
        if text and not text.endswith("\n"):
            text += "\n"
        text += f'[chart]\nversion = "{version}"\n'
    write_atomic(path, text.encode(), what=str(path))
    if project_version(folder) != version:
        raise UserError(str(path), "could not be updated")
    return path
