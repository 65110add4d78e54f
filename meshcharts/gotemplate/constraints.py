"""``Masterminds/semver`` v3 versions and constraints, for sprig's ``semverCompare``.

Constraints: ``=``, ``!=``, ``>``, ``<``, ``>=``, ``<=``, ``~``, ``~>``, ``^``, wildcards
(``1.2.x``, ``*``), partial versions (``1.2``), hyphen ranges (``1.2 - 1.4``), AND with
``,`` or spaces, OR with ``||``. As in Masterminds, a pre-release version only satisfies a
constraint that names a pre-release itself (hence ``>=1.25.0-0``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from meshcharts.gotemplate.gotypes import FuncError

__all__ = ["Version", "parse_version", "satisfies"]

_VERSION: Final = re.compile(
    r"^v?([0-9]+)(\.[0-9]+)?(\.[0-9]+)?"
    r"(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$"
)
_CONSTRAINT: Final = re.compile(
    r"^\s*(=|!=|>=|=>|<=|=<|>|<|~>|~|\^)?\s*v?([0-9xX*]+)(\.[0-9xX*]+)?(\.[0-9xX*]+)?"
    r"(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?\s*$"
)
_HYPHEN: Final = re.compile(r"\s*(\S+)\s+-\s+(\S+)\s*")
_FIND: Final = re.compile(
    r"(?:=|!=|>=|=>|<=|=<|>|<|~>|~|\^)?\s*v?[0-9xX*]+(?:\.[0-9xX*]+){0,2}"
    r"(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?"
)


@dataclass(frozen=True)
class Version:
    """A semantic version (``v``, missing minor/patch and build metadata tolerated)."""

    major: int
    minor: int
    patch: int
    prerelease: str = ""
    metadata: str = ""

    def compare(self, other: Version) -> int:
        """-1, 0 or 1 as ``self`` is lower than, equal to or higher than ``other``."""
        mine = (self.major, self.minor, self.patch)
        theirs = (other.major, other.minor, other.patch)
        if mine != theirs:
            return -1 if mine < theirs else 1
        return _compare_prerelease(self.prerelease, other.prerelease)

    def __str__(self) -> str:
        text = f"{self.major}.{self.minor}.{self.patch}"
        text += f"-{self.prerelease}" if self.prerelease else ""
        return text + (f"+{self.metadata}" if self.metadata else "")


def _compare_prerelease(a: str, b: str) -> int:
    if a == b:
        return 0
    if not a:
        return 1
    if not b:
        return -1
    for x, y in zip(a.split("."), b.split("."), strict=False):
        if x == y:
            continue
        if x.isdigit() and y.isdigit():
            return -1 if int(x) < int(y) else 1
        if x.isdigit() != y.isdigit():
            return -1 if x.isdigit() else 1
        return -1 if x < y else 1
    return -1 if len(a.split(".")) < len(b.split(".")) else 1


def parse_version(text: str) -> Version:
    """``semver.NewVersion``.

    Raises:
        FuncError: not a semantic version.
    """
    match = _VERSION.match(text.strip())
    if match is None:
        raise FuncError("Invalid Semantic Version")
    major, minor, patch, pre, meta = match.groups()
    return Version(
        int(major), int((minor or ".0")[1:]), int((patch or ".0")[1:]), pre or "", meta or ""
    )


@dataclass(frozen=True)
class _Constraint:
    op: str
    version: Version
    dirty: bool
    minor_dirty: bool
    patch_dirty: bool

    def check(self, v: Version) -> bool:
        c = self.version
        if v.prerelease and not c.prerelease:
            return False
        op = self.op
        if op in ("", "="):
            return self.tilde(v) if self.dirty else v.compare(c) == 0
        if op == "!=":
            return not self.tilde(v) if self.dirty else v.compare(c) != 0
        if op == ">":
            return self.greater(v)
        if op == "<":
            return v.compare(c) < 0
        if op in (">=", "=>"):
            return v.compare(c) >= 0
        if op in ("<=", "=<"):
            return self.less_or_equal(v)
        if op in ("~", "~>"):
            return self.tilde(v)
        return self.caret(v)

    def greater(self, v: Version) -> bool:
        c = self.version
        if not self.dirty:
            return v.compare(c) > 0
        if v.major != c.major:
            return v.major > c.major
        if self.minor_dirty:
            return False
        if self.patch_dirty:
            return v.minor > c.minor
        return v.compare(c) > 0

    def less_or_equal(self, v: Version) -> bool:
        c = self.version
        if not self.dirty:
            return v.compare(c) <= 0
        if v.major > c.major:
            return False
        return not (v.major == c.major and v.minor > c.minor and not self.minor_dirty)

    def tilde(self, v: Version) -> bool:
        c = self.version
        if v.compare(c) < 0:
            return False
        if (
            (c.major, c.minor, c.patch) == (0, 0, 0)
            and not self.minor_dirty
            and not self.patch_dirty
        ):
            return True
        if v.major != c.major:
            return False
        return v.minor == c.minor or self.minor_dirty

    def caret(self, v: Version) -> bool:
        c = self.version
        if v.compare(c) < 0:
            return False
        if c.major > 0 or self.minor_dirty:
            return v.major == c.major
        if v.major > 0:
            return False
        if c.minor > 0 or self.patch_dirty:
            return v.minor == c.minor
        if v.minor > 0:
            return False
        return v.patch == c.patch


def _is_x(part: str | None) -> bool:
    return part is None or part.lstrip(".") in ("x", "X", "*")


def _parse_constraint(text: str) -> _Constraint:
    match = _CONSTRAINT.match(text)
    if match is None:
        raise FuncError(f"improper constraint: {text}")
    op, major, minor, patch, pre, _ = match.groups()
    pre = pre or ""
    if major in ("x", "X", "*"):
        return _Constraint(op or "", parse_version("0.0.0" + pre), True, False, False)
    if _is_x(minor):
        return _Constraint(op or "", parse_version(f"{major}.0.0{pre}"), True, True, False)
    if _is_x(patch):
        return _Constraint(op or "", parse_version(f"{major}{minor}.0{pre}"), True, False, True)
    return _Constraint(op or "", parse_version(f"{major}{minor}{patch}{pre}"), False, False, False)


def _parse_group(text: str) -> list[_Constraint]:
    text = _HYPHEN.sub(lambda m: f">= {m.group(1)}, <= {m.group(2)}", text).strip()
    if not text:
        return [_parse_constraint("*")]
    parts: list[str] = []
    for piece in text.split(","):
        found = [m.group() for m in _FIND.finditer(piece)]
        if not found or _FIND.sub("", piece).strip():
            raise FuncError(f"improper constraint: {piece.strip()}")
        parts.extend(found)
    return [_parse_constraint(part) for part in parts]


def satisfies(constraint: str, version: str) -> bool:
    """Sprig's ``semverCompare``: whether ``version`` meets ``constraint``.

    Raises:
        FuncError: an invalid constraint or version.
    """
    groups = [_parse_group(group) for group in constraint.split("||")]
    parsed = parse_version(version)
    return any(all(c.check(parsed) for c in group) for group in groups)
