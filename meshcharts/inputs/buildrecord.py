"""Reading a build folder's ``build.json`` as untrusted data.

A build folder may come from a CI artefact or a colleague, so nothing in its ``build.json``
is joined to a path before it is checked: every package entry must name a DNS-1123
profile and chart, a SemVer version, and exactly the path ``<profile>/<chart>-<version>.tgz``
(its ``.prov`` beside it), and the files it names must lie inside the folder once links are
resolved. The file itself is bounded in size and nesting (:mod:`meshcharts.base.limits`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from meshcharts.base.limits import MAX_FILE, load_json, read_limited
from meshcharts.base.names import check_dns_label, check_version
from meshcharts.errors import InvalidNameError, UserError, VersionError

__all__ = ["BUILD_JSON", "PackageRecord", "inside", "read_build_record"]

BUILD_JSON: Final = "build.json"
_SHA256: Final = re.compile(r"[0-9a-f]{64}")
_TEXT_FIELDS: Final = ("profile", "chart", "version", "path", "sha256")


@dataclass(frozen=True)
class PackageRecord:
    """One checked package entry of ``build.json``."""

    profile: str
    chart: str
    version: str
    path: str
    sha256: str
    revision: str = ""
    provenance: str = ""


def inside(folder: Path, relative: str, subject: str) -> Path:
    """``folder / relative``, refused unless it stays inside ``folder`` with links resolved.

    Raises:
        UserError: the path leaves the folder.
    """
    path = folder / relative
    if not path.resolve().is_relative_to(folder.resolve()):
        raise UserError(subject, f"{relative} leads outside {folder}")
    return path


def _text(entry: dict[str, Any], key: str, where: str) -> str:
    value = entry.get(key, "")
    if not isinstance(value, str) or "\0" in value or "\n" in value:
        raise UserError(where, f"{key} must be a one-line string")
    return value


def _record(entry: Any, where: str) -> PackageRecord:
    if not isinstance(entry, dict):
        raise UserError(where, "must be an object")
    fields = {key: _text(entry, key, where) for key in (*_TEXT_FIELDS, "revision", "provenance")}
    try:
        check_dns_label(fields["profile"], what="profile")
        check_dns_label(fields["chart"], what="chart")
        check_version(fields["version"])
        if fields["revision"]:
            check_dns_label(fields["revision"], what="revision")
    except (InvalidNameError, VersionError) as exc:
        raise UserError(where, f"{exc.subject}: {exc.problem}") from None
    expected = f"{fields['profile']}/{fields['chart']}-{fields['version']}.tgz"
    if fields["path"] != expected:
        raise UserError(where, f"path {fields['path']!r} must be {expected!r}")
    if not _SHA256.fullmatch(fields["sha256"]):
        raise UserError(where, "sha256 must be 64 lower-case hex digits")
    if fields["provenance"] not in ("", f"{expected}.prov"):
        raise UserError(where, f"provenance must be {expected + '.prov'!r}")
    return PackageRecord(**fields)


def read_build_record(folder: Path, *, what: str) -> list[PackageRecord]:
    """The package entries of ``folder/build.json``, each checked (see the module docstring).

    Args:
        folder: the build folder.
        what: how the user named it, for messages (``--build-dir charts_out``).

    Raises:
        UserError: the file is missing, too large, not JSON of the expected shape, or an
            entry is malformed or names a path that is not its own.
    """
    path = folder / BUILD_JSON
    if not path.is_file():
        raise UserError(what, f"has no {BUILD_JSON} (is it a meshcharts build folder?)")
    record = load_json(read_limited(path, MAX_FILE), str(path))
    if not isinstance(record, dict) or not isinstance(record.get("packages"), list):
        raise UserError(str(path), 'is not a meshcharts build.json (no "packages" list)')
    entries = [
        _record(entry, f"{path}: packages[{index}]")
        for index, entry in enumerate(record["packages"])
    ]
    seen: set[str] = set()
    for entry in entries:
        if entry.path in seen:
            raise UserError(str(path), f"lists {entry.path} twice")
        seen.add(entry.path)
    return entries
