"""YAML read as Helm reads it, within bounds: real Helm is the oracle for every scalar form."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from oracles import HelmOracle, Probe, typed

from meshcharts.base.limits import MAX_DEPTH, MAX_YAML_NODES, LimitError
from meshcharts.inputs.yamlsource import YamlSourceError, load_yaml

# Plain scalars whose meaning differs between YAML 1.1 readers; each is read inside a list,
# where Helm keeps nulls, and compared with what Helm 3 and Helm 4 make of the same text.
FORMS = [
    "1:2:3:4:5", "190:20:30", "y", "Y", "n", "N", "yes", "No", "off", "On", "TRUE", "true",
    "1e3", "12e03", "-.5e-3", "1.0", "1.10", ".5", "+.5", "0.", "0o17", "0O17", "0x1F",
    "-0x10", "0777", "0b101", "+12", "-0", "1_000", "1__0", "_1", "0xG", "2001-12-14",
    "2001-12-14 21:59:43.10 -5", "2002-12-14t21:59:43.10-05:00", "~", "null", "Null", "",
    "a:b", "9007199254740992", "-9007199254740992", "0x_1", "08", "0.1_0",
    "0B101", "-0b101", "+0b11", "-0B11", "0b102", "0b-1", ".5_0", "1_0.5", "0x1p3",
    "1e-400", "2001-13-45", "2001-2-30", "2001-12-14T21:59:43",
]  # fmt: skip


def _normal(value: Any) -> Any:
    """Helm's numbers come back through JSON: an integral float prints as an integer."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [_normal(item) for item in value]
    return value


@pytest.fixture(scope="module")
def oracle(helms: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> HelmOracle:
    found = HelmOracle(helms, tmp_path_factory.mktemp("yamlsource-oracle"))
    found.prefetch([Probe(values=f"v:\n  - {form}\n") for form in FORMS])
    return found


@pytest.mark.parametrize("form", FORMS)
def test_scalars_mean_what_they_mean_to_helm(
    oracle: HelmOracle, helm_version: str, form: str
) -> None:
    text = f"v:\n  - {form}\n"
    ours = load_yaml(text, "f.yaml").data["v"]
    theirs = oracle.values(helm_version, Probe(values=text))["v"]
    assert typed(_normal(ours)) == typed(_normal(theirs)), form


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("a: .nan\n", "f.yaml:1: .nan is not a JSON number"),
        ("a: -.Inf\n", "f.yaml:1: -.Inf is not a JSON number"),
        ("a: 9007199254740993\n", "f.yaml:1: an integer beyond 2^53"),
        ("a: " + "9" * 5000 + "\n", "f.yaml:1: an integer beyond 2^53"),
        # Helm keeps these as strings (Go's parsers overflow); the user meant numbers.
        ("a: 1e400\n", "f.yaml:1: 1e400 is not a JSON number"),
        ("a: .5e400\n", "f.yaml:1: .5e400 is not a JSON number"),
        ("a: 18446744073709551616\n", "f.yaml:1: an integer beyond 2^53"),
        ("a: [" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1) + "\n", "nested deeper than 100 levels"),
    ],
)
def test_what_json_cannot_hold_is_refused_at_its_line(text: str, problem: str) -> None:
    with pytest.raises((YamlSourceError, LimitError)) as caught:
        load_yaml(text, "f.yaml")
    assert problem in str(caught.value)


def _laughs(levels: int, width: int = 10) -> str:
    lines = ["l0: &l0 [" + ", ".join(["lol"] * width) + "]"]
    for level in range(1, levels):
        refs = ", ".join([f"*l{level - 1}"] * width)
        lines.append(f"l{level}: &l{level} [{refs}]")
    return "\n".join(lines) + "\n"


def test_a_billion_laughs_fails_before_it_grows() -> None:
    text = _laughs(9)  # 10^9 strings from under a kilobyte
    assert len(text) < 1024
    with pytest.raises(LimitError, match=f"expands to more than {MAX_YAML_NODES} nodes"):
        load_yaml(text, "f.yaml")


def test_shared_aliases_within_bounds_still_load() -> None:
    data = load_yaml(_laughs(3), "f.yaml").data
    assert len(json.dumps(data["l2"])) > 1000
