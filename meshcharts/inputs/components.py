"""A user's own components and charts: from Python files, folders and installed packages.

A component file defines ``COMPONENT`` (or ``COMPONENTS``, a sequence) of
:class:`~meshcharts.catalog.component.Component`, and may define ``CHART`` (or
``CHARTS``) of :class:`~meshcharts.catalog.component.ChartDef`, as a profile file defines
``PROFILE``. They are found in the folders given with ``--components DIR``, beside the
profiles of ``--profiles DIR`` (a file there may define a profile, parts, or both), and
in installed packages through the entry point group ``meshcharts.components`` (an entry
point names a module that defines them, or a part or a sequence of parts itself).

Every part records where it came from (``source``): template folders are found relative
to it, and every error names it.
"""

from __future__ import annotations

import dataclasses
import importlib.metadata
import importlib.util
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

from meshcharts.catalog.charts import (
    Catalog,
    CatalogError,
    Part,
    build_catalog,
    builtin_catalog,
    builtin_parts,
)
from meshcharts.catalog.component import ChartDef, Component
from meshcharts.errors import UserError

__all__ = [
    "ENTRY_POINT_GROUP",
    "check_template_folders",
    "defines_parts",
    "entry_point_parts",
    "load_catalog",
    "module_parts",
    "parts_of",
    "run_file",
]

ENTRY_POINT_GROUP = "meshcharts.components"
_NAMES = ("COMPONENT", "COMPONENTS", "CHART", "CHARTS")


def run_file(path: Path, error: type[UserError]) -> ModuleType:
    """Execute a user's Python file as a module of its own, and return the module.

    Raises:
        UserError: (of class ``error``) the file cannot be loaded or fails while it runs;
            the subject is the file.
    """
    module_name = f"meshcharts._user_{abs(hash(str(path.resolve())))}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise error(str(path), "cannot be loaded as a Python file")
    module = importlib.util.module_from_spec(spec)
    # Read-only: no __pycache__ is written into the user's folder.
    writes_bytecode, sys.dont_write_bytecode = sys.dont_write_bytecode, True
    try:
        spec.loader.exec_module(module)
    except UserError as exc:  # e.g. a Profile(...) with a wrong field
        raise error(str(path), exc.problem) from None
    except (Exception, SystemExit) as exc:  # a user's file can fail in any way; report it
        raise error(str(path), f"failed to load: {_failure(exc)}") from None
    finally:
        sys.dont_write_bytecode = writes_bytecode
        sys.modules.pop(module_name, None)
    return module


def _failure(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}"


def _with_source(part: Any, source: str, subject: str) -> Part:
    """``part`` with ``source`` set (and on a chart's own components that have none)."""
    if isinstance(part, Component):
        return part if part.source else dataclasses.replace(part, source=source)
    if isinstance(part, ChartDef):
        # A chart may hold built-in components too: they keep the built-in templates.
        builtin = {id(c) for chart in builtin_parts() for c in _components(chart)}
        components = tuple(
            c if c.source or id(c) in builtin else dataclasses.replace(c, source=source)
            for c in part.components
        )
        owned = part if part.source else dataclasses.replace(part, source=source)
        return dataclasses.replace(owned, components=components)
    raise CatalogError(
        subject,
        f"defines a {type(part).__name__} where a meshcharts Component or ChartDef belongs",
    )


def _components(part: Part) -> tuple[Component, ...]:
    return part.components if isinstance(part, ChartDef) else (part,)


def parts_of(value: Any, source: str, subject: str) -> list[Part]:
    """A part, or a sequence of parts, with ``source`` recorded on each.

    Raises:
        CatalogError: something else than Components and ChartDefs.
    """
    if isinstance(value, Component | ChartDef):
        return [_with_source(value, source, subject)]
    if isinstance(value, Sequence) and not isinstance(value, str):
        return [_with_source(item, source, subject) for item in value]
    return [_with_source(value, source, subject)]


def module_parts(module: ModuleType, source: str, subject: str) -> list[Part]:
    """The parts a module defines: ``CHART``/``CHARTS`` first, then ``COMPONENT``/``COMPONENTS``.

    Raises:
        CatalogError: a name holds something else than parts.
    """
    parts: list[Part] = []
    for name in ("CHART", "CHARTS", "COMPONENT", "COMPONENTS"):
        if hasattr(module, name):
            parts += parts_of(getattr(module, name), source, f"{subject}: {name}")
    return parts


def defines_parts(module: ModuleType) -> bool:
    """Whether a module defines any of ``COMPONENT``, ``COMPONENTS``, ``CHART``, ``CHARTS``."""
    return any(hasattr(module, name) for name in _NAMES)


def _folder_parts(folder: Path) -> list[Part]:
    if not folder.is_dir():
        raise CatalogError(f"--components {folder}", "not a folder")
    parts: list[Part] = []
    for path in sorted(folder.glob("*.py")):
        module = run_file(path, CatalogError)
        if hasattr(module, "PROFILE"):
            raise CatalogError(str(path), "defines a PROFILE: put profiles in --profiles DIR")
        if not defines_parts(module):
            raise CatalogError(
                str(path), "must define COMPONENT, COMPONENTS, CHART or CHARTS (meshcharts parts)"
            )
        parts += module_parts(module, str(path), str(path))
    return parts


def _entry_point_source(entry: importlib.metadata.EntryPoint, loaded: Any) -> str:
    module = loaded if isinstance(loaded, ModuleType) else sys.modules.get(entry.module)
    return str(getattr(module, "__file__", "") or f"entry point {entry.name}")


def entry_point_parts() -> list[Part]:
    """The parts of every installed package's ``meshcharts.components`` entry point.

    Raises:
        CatalogError: an entry point fails to import or names something else than parts;
            the subject names the entry point.
    """
    parts: list[Part] = []
    found = sorted(
        importlib.metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda e: (e.name, e.value)
    )
    for entry in found:
        subject = f"entry point {entry.name} = {entry.value}"
        try:
            loaded = entry.load()
        except (Exception, SystemExit) as exc:  # an installed plugin can fail in any way
            raise CatalogError(subject, f"failed to import: {_failure(exc)}") from None
        source = _entry_point_source(entry, loaded)
        if isinstance(loaded, ModuleType):
            if not defines_parts(loaded):
                raise CatalogError(subject, "the module defines no COMPONENT(S) or CHART(S)")
            parts += module_parts(loaded, source, subject)
        else:
            parts += parts_of(loaded, source, subject)
    return parts


def _has_files(folder: Path, depth: int = 0) -> bool:
    """Whether ``folder`` holds a file that is not hidden (searched a few levels down)."""
    for child in folder.iterdir():
        if child.name.startswith("."):
            continue
        if child.is_file() or (child.is_dir() and depth < 8 and _has_files(child, depth + 1)):
            return True
    return False


def check_template_folders(parts: Sequence[Part]) -> None:
    """Refuse a user's part whose template folder is missing or empty.

    Raises:
        CatalogError: naming the file that defines the part, and the folder.
    """
    for part in parts:
        pieces: list[Part] = [part, *(part.components if isinstance(part, ChartDef) else ())]
        for piece in pieces:
            folder = piece.template_folder()
            if folder is None or not piece.source:
                continue
            what = f"{'chart' if isinstance(piece, ChartDef) else 'component'} {piece.name}"
            if not folder.is_dir():
                problem = "is not a folder" if folder.exists() else "does not exist"
                raise CatalogError(piece.source, f"{what}: template folder {folder} {problem}")
            if not _has_files(folder):
                raise CatalogError(piece.source, f"{what}: template folder {folder} is empty")


def load_catalog(
    profile_parts: Sequence[Part] = (),
    component_dirs: Iterable[Path] = (),
    *,
    entry_points: bool = True,
) -> Catalog:
    """The built-in catalog with the user's parts added.

    Args:
        profile_parts: parts defined beside the profiles of ``--profiles`` folders.
        component_dirs: ``--components`` folders.
        entry_points: also load the installed packages' entry points.

    Raises:
        CatalogError: a file or entry point fails to load, or a part clashes with another
            or names an unknown chart.
    """
    user: list[Part] = entry_point_parts() if entry_points else []
    user += profile_parts
    for folder in dict.fromkeys(component_dirs):
        user += _folder_parts(folder)
    if not user:
        return builtin_catalog()  # one object: what is computed of it is cached
    check_template_folders(user)
    return build_catalog([*builtin_parts(), *user])
