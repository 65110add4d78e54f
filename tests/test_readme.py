"""The README's component table is checked against the catalog and the profiles."""

from __future__ import annotations

from pathlib import Path

from meshcharts import load_profiles
from meshcharts.catalog.charts import builtin_catalog

README = Path(__file__).resolve().parent.parent / "README.md"


def component_table() -> str:
    profiles = load_profiles()
    names = sorted(profiles.builtin)
    enabled = {name: _enabled(name) for name in names}
    lines = [
        "| chart | component | " + " | ".join(f"`{n}`" for n in names) + " |",
        "| --- | --- | " + " | ".join("---" for _ in names) + " |",
    ]
    for chart in builtin_catalog().charts.values():
        for component in chart.components:
            marks = " | ".join(_mark(component.name, chart.name, enabled[n]) for n in names)
            lines.append(f"| {chart.name} | `{component.name}` | {marks} |")
    return "\n".join(lines) + "\n"


def _enabled(profile: str) -> dict[tuple[str, str], str]:
    from meshcharts import resolve

    resolution = resolve(load_profiles(), profile)
    state = {}
    for chart, components in resolution.charts.items():
        for component in components:
            value = resolution.values.values.get(component.name)
            on = not isinstance(value, dict) or value.get("enabled", True)
            state[(chart, component.name)] = "on" if on else "off"
    return state


def _mark(component: str, chart: str, state: dict[tuple[str, str], str]) -> str:
    return state.get((chart, component), "")


def test_readme_component_table_is_current() -> None:
    expected = component_table()
    assert expected in README.read_text(), "update the README table to:\n" + expected
