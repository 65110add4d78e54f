"""Write docs/api.md, the library's API reference, from the docstrings of the public API.

    python scripts/api_reference.py           # rewrite docs/api.md
    python scripts/api_reference.py --check   # exit 1 if docs/api.md is not current

The test suite runs the check (tests/test_api_reference.py), so the page never drifts from
the code. The public API is ``meshcharts.__all__`` plus the entry points of the steps that
have no short name there (catalog, publishing, release diff, goldens).
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "docs" / "api.md"

SECTIONS: list[tuple[str, str, list[str]]] = [
    (
        "Profiles and inputs",
        "What a user writes: profiles, environment files and `--set` arguments.",
        [
            "meshcharts.Profile",
            "meshcharts.ProfileSet",
            "meshcharts.load_profiles",
            "meshcharts.Environment",
            "meshcharts.load_environment",
            "meshcharts.load_environments",
            "meshcharts.SetArg",
        ],
    ),
    (
        "Components, charts and the catalog",
        "The parts charts are made of, yours and the built-in ones.",
        [
            "meshcharts.Component",
            "meshcharts.ChartDef",
            "meshcharts.catalog.charts.Catalog",
            "meshcharts.catalog.charts.build_catalog",
            "meshcharts.catalog.charts.builtin_catalog",
            "meshcharts.inputs.components.load_catalog",
            "meshcharts.inputs.components.entry_point_parts",
        ],
    ),
    (
        "Resolving values",
        "Layers merged with Helm's rules, with the provenance of every value.",
        [
            "meshcharts.resolve",
            "meshcharts.resolve_environment",
            "meshcharts.Resolution",
            "meshcharts.ResolvedValues",
            "meshcharts.Layer",
            "meshcharts.Assignment",
            "meshcharts.merge_layers",
            "meshcharts.import_values",
            "meshcharts.ImportedValues",
        ],
    ),
    (
        "Charts and packages",
        "Chart trees in memory, packages, and the build that writes them.",
        [
            "meshcharts.assemble_chart",
            "meshcharts.ChartTree",
            "meshcharts.package_chart",
            "meshcharts.build_packages",
            "meshcharts.BuiltPackage",
            "meshcharts.write_build",
            "meshcharts.run_build",
            "meshcharts.BuildResult",
            "meshcharts.run_render",
            "meshcharts.render_files",
            "meshcharts.chart_version",
        ],
    ),
    (
        "Checks",
        "Lint, coexistence of control planes, diffs and the upgrade plan.",
        [
            "meshcharts.lint",
            "meshcharts.Finding",
            "meshcharts.check_revision",
            "meshcharts.CoexistReport",
            "meshcharts.diff_sides",
            "meshcharts.diff_resolutions",
            "meshcharts.DiffReport",
            "meshcharts.format_diff",
            "meshcharts.checks.releasediff.release_diff",
            "meshcharts.upgrade_plan",
            "meshcharts.Plan",
            "meshcharts.check_packages",
        ],
    ),
    (
        "Publishing and goldens",
        "Chart repositories (folders and OCI registries, with TLS and credentials), pulling "
        "published charts, and the reviewed golden files.",
        [
            "meshcharts.publish.publisher.publish",
            "meshcharts.publish.oci.Connection",
            "meshcharts.publish.credentials.Credentials",
            "meshcharts.publish.credentials.find_credentials",
            "meshcharts.publish.oci.login",
            "meshcharts.publish.pull.pulled_package",
            "meshcharts.publish.pull.RegistryRelease",
            "meshcharts.checks.releasediff.PreviousRelease",
            "meshcharts.release.golden.golden_files",
            "meshcharts.release.golden.compare_golden",
            "meshcharts.release.golden.update_golden",
        ],
    ),
    (
        "Errors",
        "One hierarchy: `UserError` carries the input at fault (`subject`) and the `problem`.",
        [
            "meshcharts.MeshchartsError",
            "meshcharts.UserError",
            "meshcharts.ProfileError",
            "meshcharts.ValuesError",
            "meshcharts.InvalidNameError",
            "meshcharts.VersionError",
            "meshcharts.TemplateError",
            "meshcharts.HelmNotFoundError",
            "meshcharts.catalog.charts.CatalogError",
        ],
    ),
]


def find(path: str) -> Any:
    """The object at a dotted path (module attributes resolved from the longest module)."""
    parts = path.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj: Any = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attribute in parts[cut:]:
            obj = getattr(obj, attribute)
        return obj
    raise ImportError(path)


def _signature(obj: Any) -> str:
    try:
        return str(inspect.signature(obj))
    except (TypeError, ValueError):
        return "(...)"


def _members(cls: type) -> Iterator[tuple[str, Any]]:
    """The public methods and properties a class defines itself, in source order."""
    for name, member in vars(cls).items():
        if name.startswith("_"):
            continue
        if isinstance(member, property | staticmethod | classmethod) or inspect.isfunction(member):
            yield name, member


_SECTIONS = ("Args:", "Returns:", "Raises:", "Attributes:", "Yields:")


def markdown(doc: str) -> str:
    """A Google-style docstring as Markdown: each section a bold title and a list."""
    out: list[str] = []
    in_section = False
    for line in doc.splitlines():
        stripped = line.strip()
        if stripped in _SECTIONS:
            out += ["", f"**{stripped[:-1]}**", ""]
            in_section = True
        elif in_section and line.startswith("    ") and not line.startswith("        "):
            name, colon, rest = stripped.partition(": ")
            is_item = colon and " " not in name and len(name) < 40
            out.append(f"- `{name}`: {rest}" if is_item else f"- {stripped}")
        elif in_section and line.startswith("        ") and out:
            out[-1] += " " + stripped
        else:
            in_section = in_section and bool(stripped)
            out.append(line)
    return "\n".join(out).strip()


def _entry(path: str) -> list[str]:
    obj = find(path)
    name = path.rsplit(".", 1)[-1]
    home = getattr(obj, "__module__", "")
    doc = markdown(inspect.getdoc(obj) or "")
    if inspect.isclass(obj):
        bases = [b.__name__ for b in obj.__bases__ if b is not object]
        head = f"### class `{name}`" + (f"({', '.join(bases)})" if bases else "")
        lines = [head, "", f"`{home}.{name}`", "", doc, ""]
        members = list(_members(obj))
        if members:
            lines += ["**Methods and properties**", ""]
        for member_name, member in members:
            function = member.fget if isinstance(member, property) else member
            function = getattr(function, "__func__", function)
            summary = (inspect.getdoc(function) or "").split("\n\n", 1)[0].replace("\n", " ")
            if isinstance(member, property):
                lines.append(f"- `{member_name}` (property): {summary}")
            else:
                lines.append(f"- `{member_name}{_signature(function)}`: {summary}")
        return [*lines, ""]
    return [f"### `{name}{_signature(obj)}`", "", f"`{home}.{name}`", "", doc, ""]


def render() -> str:
    """The whole page."""
    lines = [
        "# meshcharts library API",
        "",
        "Generated from the docstrings by `python scripts/api_reference.py`; the test suite",
        "fails when this page is not current. Names importable from `meshcharts` itself are",
        "the stable API; the module path under each entry is where it is defined.",
        "",
    ]
    for title, intro, paths in SECTIONS:
        lines += [f"## {title}", "", intro, ""]
        for path in paths:
            lines += _entry(path)
    return "\n".join(lines).rstrip("\n") + "\n"


def main(argv: list[str] | None = None) -> int:
    """Write the page, or with ``--check`` tell whether it is current (exit 1 if not)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if docs/api.md is stale")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        current = OUTPUT.read_text() if OUTPUT.is_file() else ""
        if current != text:
            print(
                "docs/api.md is not current: run python scripts/api_reference.py", file=sys.stderr
            )
            return 1
        return 0
    OUTPUT.parent.mkdir(exist_ok=True)
    OUTPUT.write_text(text)
    print(f"wrote {OUTPUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
