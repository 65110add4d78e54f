"""Profiles: Python files that pick components per chart and set their values.

A profile file defines ``PROFILE = Profile(...)``. Built-in profiles ship with
meshcharts; ``--profiles DIR`` adds every ``*.py`` file of DIR (a file there may define
components and charts too). A profile may extend another; the chain is resolved root
first, so the child's values apply last. The profile set also carries the catalog of
charts and components the profiles compile: the built-in one plus the user's.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from types import MappingProxyType, ModuleType
from typing import Any

from meshcharts.base.limits import MAX_DEPTH
from meshcharts.base.names import check_dns_label
from meshcharts.catalog.charts import Catalog, Part, builtin_catalog
from meshcharts.errors import ProfileError
from meshcharts.inputs.components import defines_parts, load_catalog, module_parts, run_file

__all__ = ["Profile", "ProfileSet", "builtin_profiles_dir", "load_profiles"]


@dataclass(frozen=True)
class Profile:
    """A named composition of the charts.

    Attributes:
        name: DNS-1123 name; must match the file name (``demo`` in ``demo.py``).
        description: one line shown by ``meshcharts profiles``.
        extends: the parent profile, or None.
        charts: chart name -> the components compiled into it. A chart missing here is
            inherited from the parent; a profile that names no chart builds none.
        values: values applied over the parent's (Helm layering rules).
        required: values a user must set at install (dotted key -> an example value);
            the chart README lists them, and checks render the chart with the examples.
        source: the file the profile was loaded from (set by the loader).
    """

    name: str
    description: str
    extends: str | None = None
    charts: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}))
    values: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    required: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    source: str = ""

    def __post_init__(self) -> None:
        """Check every field's type, so a wrong profile fails where it is made."""
        _expect(self, "name", self.name, str)
        _expect(self, "description", self.description, str)
        if self.extends is not None:
            _expect(self, "extends", self.extends, str)
        _expect(self, "charts", self.charts, Mapping)
        for chart, components in self.charts.items():
            _expect(self, "charts", chart, str, "a chart name")
            if isinstance(components, str) or not isinstance(components, tuple | list):
                raise ProfileError(
                    _subject(self),
                    f"charts[{chart!r}] must be a tuple of component names, not "
                    f"{type(components).__name__}",
                )
            for component in components:
                _expect(self, f"charts[{chart!r}]", component, str, "a component name")
        _expect(self, "values", self.values, Mapping)
        _check_data(self, "values", self.values, 0)
        _expect(self, "required", self.required, Mapping)
        for key, example in self.required.items():
            _expect(self, "required", key, str, "a dotted key")
            _expect(self, f"required[{key!r}]", example, str, "an example value")


def _subject(profile: Profile) -> str:
    name = profile.name if isinstance(profile.name, str) else repr(profile.name)
    return profile.source or f"profile {name!r}"


def _expect(profile: Profile, field_name: str, value: Any, kind: type, what: str = "") -> None:
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        names: dict[type, str] = {str: "a string", Mapping: "a mapping"}
        wanted = what or names.get(kind, kind.__name__)
        raise ProfileError(
            _subject(profile), f"{field_name} must be {wanted}, not {type(value).__name__}"
        )


_SCALARS = (str, int, float, bool, type(None))


def _check_data(profile: Profile, path: str, value: Any, depth: int) -> None:
    """Values must be YAML/JSON data: maps with string keys, lists, scalars; bounded depth."""
    if depth > MAX_DEPTH:
        raise ProfileError(_subject(profile), f"{path} is nested deeper than {MAX_DEPTH} levels")
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise ProfileError(_subject(profile), f"{path}: key {key!r} must be a string")
            _check_data(profile, f"{path}.{key}", item, depth + 1)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _check_data(profile, f"{path}[{index}]", item, depth + 1)
    elif isinstance(value, float) and not math.isfinite(value):
        raise ProfileError(_subject(profile), f"{path}: {value} is not a JSON number")
    elif not isinstance(value, _SCALARS):
        raise ProfileError(
            _subject(profile),
            f"{path}: {type(value).__name__} is not a values type (map, list, string, "
            "number, boolean or None)",
        )


def builtin_profiles_dir() -> Path:
    """The folder of the built-in profiles (inside the wheel, or the source checkout)."""
    package = Path(__file__).resolve().parent.parent
    packaged = package / "_builtin_profiles"
    return packaged if packaged.is_dir() else package.parent / "profiles"


def _profile_of(path: Path, module: ModuleType) -> Profile:
    profile = getattr(module, "PROFILE", None)
    if not isinstance(profile, Profile):
        raise ProfileError(str(path), "must define PROFILE = meshcharts.Profile(...)")
    if profile.name != path.stem:
        raise ProfileError(str(path), f"defines profile {profile.name!r}; name it {path.stem!r}")
    check_dns_label(profile.name, what="profile name")
    return Profile(**{**profile.__dict__, "source": str(path)})


@cache
def _load_builtin(folder: Path) -> tuple[Profile, ...]:
    return tuple(
        _profile_of(path, run_file(path, ProfileError)) for path in sorted(folder.glob("*.py"))
    )


def _load_dir(folder: Path) -> tuple[list[Profile], list[Part]]:
    """The profiles of a ``--profiles`` folder, and the parts defined beside them."""
    if not folder.is_dir():
        raise ProfileError(f"--profiles {folder}", "not a folder")
    profiles: list[Profile] = []
    parts: list[Part] = []
    for path in sorted(folder.glob("*.py")):
        module = run_file(path, ProfileError)
        if defines_parts(module):
            parts += module_parts(module, str(path), str(path))
            if not hasattr(module, "PROFILE"):
                continue
        profiles.append(_profile_of(path, module))
    return profiles, parts


@dataclass(frozen=True)
class ProfileSet:
    """The profiles available to one run, built-ins plus the user's, and the catalog.

    Attributes:
        profiles: name -> profile.
        builtin: the names of the built-in profiles.
        catalog: the charts and components the profiles compile (built-in and the user's).
    """

    profiles: Mapping[str, Profile]
    builtin: frozenset[str]
    catalog: Catalog = field(default_factory=builtin_catalog)

    def names(self) -> list[str]:
        """All profile names, sorted."""
        return sorted(self.profiles)

    def get(self, name: str) -> Profile:
        """The profile called ``name``, or a ProfileError listing the valid names."""
        try:
            return self.profiles[name]
        except KeyError:
            known = ", ".join(self.names())
            raise ProfileError(f"profile {name!r}", f"unknown (known: {known})") from None

    def chain(self, name: str) -> tuple[Profile, ...]:
        """The ``extends`` chain of ``name``, root first.

        Raises:
            ProfileError: unknown profile or parent, or an ``extends`` cycle.
        """
        chain: list[Profile] = []
        seen: list[str] = []
        current: str | None = name
        while current is not None:
            if current in seen:
                cycle = " -> ".join([*seen[seen.index(current) :], current])
                raise ProfileError(f"profile {name!r}", f"extends cycle: {cycle}")
            seen.append(current)
            if current not in self.profiles and chain:
                raise ProfileError(
                    f"profile {chain[-1].name!r}", f"extends unknown profile {current!r}"
                )
            profile = self.get(current)
            chain.append(profile)
            current = profile.extends
        return tuple(reversed(chain))

    def required(self, name: str) -> dict[str, str]:
        """Install-time values of ``name`` and its parents (dotted key -> example)."""
        result: dict[str, str] = {}
        for profile in self.chain(name):
            result.update(profile.required)
        return result

    def charts(self, name: str) -> dict[str, tuple[str, ...]]:
        """Chart -> components of ``name``, children overriding their parents per chart."""
        result: dict[str, tuple[str, ...]] = {}
        for profile in self.chain(name):
            result.update(profile.charts)
        return result


def load_profiles(
    extra_dirs: Iterable[Path] = (),
    component_dirs: Iterable[Path] = (),
    *,
    entry_points: bool = True,
) -> ProfileSet:
    """Load the built-in profiles, those in ``extra_dirs``, and the catalog they compile.

    Args:
        extra_dirs: ``--profiles`` folders; a file there may also define components and
            charts (:mod:`meshcharts.inputs.components`).
        component_dirs: ``--components`` folders of component and chart files.
        entry_points: add the parts of installed packages (entry point group
            ``meshcharts.components``).

    Raises:
        ProfileError: a file fails to load, or a user profile reuses a taken name.
        CatalogError: a component or chart fails to load or clashes with another.
    """
    profiles: dict[str, Profile] = {p.name: p for p in _load_builtin(builtin_profiles_dir())}
    builtin = frozenset(profiles)
    parts: list[Part] = []
    for folder in dict.fromkeys(extra_dirs):
        found, beside = _load_dir(folder)
        parts += beside
        for profile in found:
            if profile.name in profiles:
                taken = profiles[profile.name].source
                raise ProfileError(
                    profile.source, f"profile {profile.name!r} is already defined in {taken}"
                )
            profiles[profile.name] = profile
    catalog = load_catalog(parts, component_dirs, entry_points=entry_points)
    return ProfileSet(MappingProxyType(profiles), builtin, catalog)
