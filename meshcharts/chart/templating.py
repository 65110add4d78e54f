"""Template files of the catalog, and the Jinja2 environment for generation-time logic.

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
from typing import Any

import jinja2

from meshcharts.errors import TemplateError

__all__ = ["DELIMITERS", "render_j2", "template_files"]

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
    """The files of ``meshcharts/templates/<chart>/<folder>/``, by relative path.

    Read once per process; an absent folder has no files.
    """
    node = resources.files("meshcharts") / "templates" / chart / folder
    return _walk(node, "") if node.is_dir() else {}


def is_j2(name: str) -> bool:
    """Tell whether a template file is rendered by Jinja before packaging."""
    return name.endswith(_SUFFIX)


def strip_j2(name: str) -> str:
    """The output name of a template file (``crds.yaml.j2`` -> ``crds.yaml``)."""
    return name[: -len(_SUFFIX)] if is_j2(name) else name
