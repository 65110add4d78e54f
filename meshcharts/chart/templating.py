"""Template files of charts and components, and Jinja2 for generation-time logic.

A built-in chart's own templates are ``meshcharts/templates/<chart>/_chart/`` (after its
``shared_templates``), a built-in component's ``meshcharts/templates/<chart>/<folder>/``.
A user's part names its folder with ``template_path``, absolute or relative to the file
that defines it; a user's component without one uses ``templates/<folder>/`` beside that
file. User folders are read within limits (file size, number of files, depth).

Helm templates are Go templates and are copied byte for byte. A file ending in ``.j2``
is rendered first by Jinja2 with delimiters that occur in no Go template, YAML or shell
script (``[% %]``, ``[= =]``, ``[# #]``), StrictUndefined and the trailing newline kept;
a rendered file that still holds a delimiter fails the build. Jinja only ever sees
catalog data, never user values, so nothing a user writes can become template syntax.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import jinja2

from meshcharts.base.limits import (
    MAX_ARCHIVE_FILE,
    MAX_ARCHIVE_SIZE,
    LimitError,
    read_limited,
    sizes,
)
from meshcharts.catalog.component import ChartDef, Component
from meshcharts.errors import TemplateError, UserError

__all__ = [
    "DELIMITERS",
    "chart_files",
    "component_files",
    "render_j2",
    "template_files",
]

DELIMITERS = ("[%", "%]", "[=", "=]", "[#", "#]")
_SUFFIX = ".j2"


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        block_start_string="[%",
        block_end_string="%]",
        variable_start_string="[=",
        variable_end_string="=]",
        comment_start_string="[#",
        comment_end_string="#]",
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_j2(name: str, source: str, context: Mapping[str, Any]) -> str:
    """Render one ``.j2`` template and check no generator delimiter is left in it.

    Raises:
        TemplateError: the template fails to render or leaves a delimiter behind.
    """
    try:
        text = _environment().from_string(source).render(**context)
    except jinja2.TemplateError as exc:
        line = getattr(exc, "lineno", None)
        raise TemplateError(f"{name}:{line or '?'}: {exc}") from exc
    leftover = [d for d in DELIMITERS if d in text]
    if leftover:
        raise TemplateError(f"{name}: rendered output still holds {', '.join(leftover)}")
    return text


MAX_TEMPLATE_FILES = 1_000
MAX_TEMPLATE_DEPTH = 16


def _walk(node: Traversable, prefix: str) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    for child in node.iterdir():
        rel = f"{prefix}{child.name}"
        if child.is_dir():
            files.update(_walk(child, rel + "/"))
        elif not child.name.startswith("."):
            files[rel] = child.read_bytes()
    return files


@cache
def template_files(chart: str, folder: str) -> Mapping[str, bytes]:
    """The files of the built-in folder ``meshcharts/templates/<chart>/<folder>/``.

    Read once per process; an absent folder has no files.
    """
    node = resources.files("meshcharts") / "templates" / chart / folder
    return _walk(node, "") if node.is_dir() else {}


def _user_walk(folder: Path, prefix: str, files: dict[str, bytes], depth: int) -> None:
    if depth > MAX_TEMPLATE_DEPTH:
        raise LimitError(str(folder), f"nested deeper than {MAX_TEMPLATE_DEPTH} folders")
    for child in sorted(folder.iterdir()):
        if child.name.startswith("."):
            continue
        rel = f"{prefix}{child.name}"
        if child.is_dir() and not child.is_symlink():
            _user_walk(child, rel + "/", files, depth + 1)
            continue
        if len(files) >= MAX_TEMPLATE_FILES:
            raise LimitError(str(folder), f"more than {MAX_TEMPLATE_FILES} template files")
        # Helm's own limits on what a chart unpacks to: the chart must be packageable.
        files[rel] = read_limited(child, MAX_ARCHIVE_FILE)
        if sum(map(len, files.values())) > MAX_ARCHIVE_SIZE:
            raise LimitError(str(folder), f"the templates hold more than {sizes(MAX_ARCHIVE_SIZE)}")


@cache
def user_template_files(folder: Path) -> Mapping[str, bytes]:
    """The files of a user's template folder, by relative path (read once per process).

    Raises:
        UserError: the folder is missing, not a folder, or holds no file.
        LimitError: a file larger than 5 MiB or all of them larger than 100 MiB (Helm's
            limits of a chart), more than 1,000 files, or folders nested too deep.
    """
    if not folder.is_dir():
        problem = "not a folder" if folder.exists() else "no such folder"
        raise UserError(f"template folder {folder}", problem)
    files: dict[str, bytes] = {}
    _user_walk(folder, "", files, 0)
    if not files:
        raise UserError(f"template folder {folder}", "holds no template file")
    return files


def component_files(component: Component) -> Mapping[str, bytes]:
    """The template files of a component, by path below its folder.

    Raises:
        UserError: a user's component whose template folder is missing or empty.
    """
    folder = component.template_folder()
    if folder is None:
        return template_files(component.chart, component.templates)
    try:
        return user_template_files(folder)
    except UserError as exc:
        raise UserError(
            component.source, f"component {component.name}: {exc.subject}: {exc.problem}"
        ) from None


def chart_files(chart: ChartDef) -> dict[str, bytes]:
    """The chart's own template files (shared folders first), by path below ``templates/``.

    Raises:
        UserError: a user's chart whose ``template_path`` is missing or empty.
    """
    files: dict[str, bytes] = {}
    for shared in chart.shared_templates:
        files.update(template_files(*shared.split("/", 1)))
    folder = chart.template_folder()
    if folder is not None:
        try:
            files.update(user_template_files(folder))
        except UserError as exc:
            raise UserError(
                chart.source, f"chart {chart.name}: {exc.subject}: {exc.problem}"
            ) from None
    elif not chart.source:
        files.update(template_files(chart.name, "_chart"))
    return files


def is_j2(name: str) -> bool:
    """Tell whether a template file is rendered by Jinja before packaging."""
    return name.endswith(_SUFFIX)


def strip_j2(name: str) -> str:
    """The output name of a template file (``crds.yaml.j2`` -> ``crds.yaml``)."""
    return name[: -len(_SUFFIX)] if is_j2(name) else name
