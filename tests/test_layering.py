"""The package's layers: a lower layer never imports a higher one.

Every import of every module counts, including those inside functions and under
``TYPE_CHECKING``: a lazy import is still a dependency.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "meshcharts"

# Lowest first. A unit may import itself and any unit of a lower layer.
LAYERS: list[tuple[str, ...]] = [
    ("errors", "gotemplate"),
    ("base",),
    ("values",),
    ("catalog",),
    ("inputs",),
    ("resolution",),
    ("chart",),
    ("checks",),
    ("release",),
    ("publish",),
    ("cli",),
    ("__init__", "__main__"),
]
RANK = {unit: rank for rank, units in enumerate(LAYERS) for unit in units}
# Folders of the package that hold no Python modules of their own layer.
DATA = {"templates", "_builtin_profiles", "_builtin_environments", "__pycache__"}


def unit_of(module: str) -> str:
    """The layer unit of a dotted module name inside meshcharts (``meshcharts.x.y`` -> ``x``)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def modules() -> list[Path]:
    found = sorted(PACKAGE.rglob("*.py"))
    assert found, f"no modules under {PACKAGE}"
    return found


def module_name(path: Path) -> str:
    relative = path.relative_to(PACKAGE.parent).with_suffix("")
    return ".".join(relative.parts)


def imports(path: Path) -> list[tuple[int, str]]:
    """``(line, module)`` of every import of ``path``, relative imports resolved."""
    tree = ast.parse(path.read_text(), str(path))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                package = module_name(path).split(".")
                if path.name != "__init__.py":
                    package.pop()
                base = package[: len(package) - node.level + 1]
                found.append((node.lineno, ".".join([*base, *filter(None, [node.module])])))
            elif node.module:
                found.append((node.lineno, node.module))
                # `from meshcharts import x` may name a submodule
                if node.module == "meshcharts":
                    found += [(node.lineno, f"meshcharts.{a.name}") for a in node.names]
    return found


def test_every_unit_has_a_layer() -> None:
    units = {unit_of(module_name(path)) for path in modules()}
    assert units - set(RANK) == set(), "add the new unit to LAYERS"
    folders = {p.name for p in PACKAGE.iterdir() if p.is_dir()} - DATA
    assert folders <= set(RANK), folders - set(RANK)


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_imports_a_higher_layer(path: Path) -> None:
    own = unit_of(module_name(path))
    bad = [
        f"line {line}: {target} ({unit_of(target)} is not below {own})"
        for line, target in imports(path)
        if target.startswith("meshcharts.")
        and unit_of(target) != own
        and RANK[unit_of(target)] >= RANK[own]
        and not (own == "__init__" and unit_of(target) != "__main__")
    ]
    assert bad == []


def test_gotemplate_imports_nothing_else_of_meshcharts() -> None:
    paths = sorted((PACKAGE / "gotemplate").rglob("*.py"))
    assert paths
    for path in paths:
        others = [
            t
            for _, t in imports(path)
            if t.startswith("meshcharts.") and unit_of(t) != "gotemplate"
        ]
        assert others == [], path


@pytest.mark.parametrize("library", ["typer", "click", "rich"])
def test_only_the_cli_imports_the_command_line_libraries(library: str) -> None:
    users = [
        module_name(path)
        for path in modules()
        if any(t == library or t.startswith(library + ".") for _, t in imports(path))
    ]
    assert all(unit_of(user) == "cli" for user in users), users
    if library == "typer":
        assert users, "the CLI no longer imports typer: update this test"


def test_imports_are_read_from_functions_too(tmp_path: Path) -> None:
    """The reader sees lazy and TYPE_CHECKING imports (a check of the checker)."""
    sample = tmp_path / "m.py"
    sample.write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import meshcharts.cli\n"
        "def f():\n    from meshcharts.release import build\n"
    )
    targets = {target for _, target in imports(sample)}
    assert {"meshcharts.cli", "meshcharts.release"} <= targets
