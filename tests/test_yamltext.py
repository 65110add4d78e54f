"""values.yaml and Chart.yaml text, read back by PyYAML and by real Helm 3.17.2 and 4.1.4.

``dump_values`` output must load as exactly the input with ``yaml.safe_load`` (YAML 1.1
resolver) and with Helm (go-yaml v2, YAML 1.1), where it is the probe chart's values.yaml and
comes back through ``toJson``. ``chart_yaml`` output must mean to Helm what it means to us
(``helm show chart``), pass ``helm lint --strict``, and be byte-identical to Helm's own
serialisation except for the deliberate double quotes around ``version``/``appVersion``.
The few other deliberate differences (strings a YAML 1.1 reader would misread, raw line
separators) have their own tests, which assert both our bytes and Helm's.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from oracles import WORKERS, HelmOracle, Probe, typed
from tools import HELM3, HELM4, run_helm

from meshcharts.base.yamltext import chart_yaml, dump_values, sanitize_metadata

# Properties run without an example database (nothing is written into the checkout) and
# without a deadline (the machine may be busy running Helm).
PROPERTY = settings(database=None, deadline=None)

TRICKY = [
    "on", "off", "yes", "no", "y", "n", "Y", "N", "On", "OFF", "Yes", "NO", "true", "True",
    "FALSE", "null", "Null", "NULL", "~", "1.10", "0777", "0o17", "0b101", "1e3", "1E3",
    "1e+3", "12e03", "0x1F", "1_000", "0.", ".5", "-.5", "+1", "-1", "-", "--", "---", "...",
    ".inf", "-.Inf", ".NaN", "inf", "nan", "2001-12-14", "2001-12-14t21:59:43.10-05:00",
    "12:30", "1:20:30", "190:20:30", "<<", "=", "a: b", "a:b", "key:", "a #b", "a#b", "# x",
    "{{ .Release.Name }}", "{x}", "[x]", "x]", "x,y", "@x", "`x", "!x", "!!str", "&x", "*x",
    "%x", "|", ">", "?", "? x", "- x", "-x", "'s'", '"q"', "a\\b", "multi\nline",
    "\nleading", "x\ty", "\t", "x\r\ny", " lead", "trail ", " ", "", "ünï©ødé", "日本語",
    "emoji😀", "\u2028in value", "\ufeffbom", "a\u0000b", "\x1b[0m", "http://x:80/y",
    "5Gi", "100m", "1.2.3", "v1.2.3", "0.1.0",
]  # fmt: skip
TRICKY_KEYS = TRICKY


def value_key(index: int) -> str:
    return f"v{index:03d}"


TRICKY_DOC: dict[str, Any] = {
    "values": {value_key(i): text for i, text in enumerate(TRICKY)},
    "keys": {text: i for i, text in enumerate(TRICKY_KEYS)},
    "list": TRICKY,
    "nested": [{"k": TRICKY[:5], "m": {"on": {"no": ["y", {"": "~"}]}}}, [], {}, [[]]],
    "scalars": {"int": -7, "zero": 0, "big": 2**53, "t": True, "f": False, "none": None},
    "floats": [1.5, -0.25, 0.1, 3.14159, -2.5e-07],  # integral floats come back as ints
    "empty map": {},
    "empty list": [],
}

# Strings with characters YAML forbids raw or reads as line breaks: written escaped, in
# double quotes, they come back unchanged from every reader.
ESCAPED: list[tuple[str, dict[str, Any]]] = [
    ("trailing newline value", {"k": "x\n"}),
    ("trailing newline key", {"x\n": 1}),
    ("NEL value", {"k": "a\x85b"}),
    ("LS value", {"k": "a\u2028b"}),
    ("LS key", {"a\u2028b": 1}),
    ("PS key", {"a\u2029b": 1}),
    ("NEL key", {"a\x85b": 1}),
    ("DEL", {"k": "a\x7fb"}),
    ("C1 control", {"k": "a\x9bb"}),
    ("U+FFFE", {"k": "a\ufffeb"}),
    ("U+FFFF key", {"\uffff": "x"}),
    ("BOM inside", {"k": "a\ufeffb"}),
    ("C0 controls", {"k": "".join(map(chr, range(32)))}),
]
# A lone surrogate is no Unicode character: PyYAML reads its escape back, go-yaml refuses it.
LONE_SURROGATE = {"k": "a\ud800b"}


@pytest.fixture(scope="module")
def oracle(helms: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> HelmOracle:
    oracle = HelmOracle(helms, tmp_path_factory.mktemp("yamltext-oracle"))
    probes = [Probe(values=dump_values(TRICKY_DOC)), Probe(values=documented_text())]
    probes += [Probe(values=dump_values(tree)) for _, tree in ESCAPED]
    probes += [Probe(values=dump_values(LONE_SURROGATE))]
    probes += [Probe(values=dump_values(EXPONENT_FLOATS))]
    oracle.prefetch(probes)
    return oracle


def helm_tricky(oracle: HelmOracle, version: str) -> Any:
    return oracle.values(version, Probe(values=dump_values(TRICKY_DOC)))


@pytest.mark.parametrize("index", range(len(TRICKY)), ids=[repr(s) for s in TRICKY])
def test_tricky_string_value(oracle: HelmOracle, helm_version: str, index: int) -> None:
    loaded = yaml.safe_load(dump_values(TRICKY_DOC))
    assert typed(loaded["values"][value_key(index)]) == typed(TRICKY[index])
    helm_values = helm_tricky(oracle, helm_version)
    assert typed(helm_values["values"][value_key(index)]) == typed(TRICKY[index])
    assert typed(helm_values["list"][index]) == typed(TRICKY[index])


@pytest.mark.parametrize("key", TRICKY_KEYS, ids=repr)
def test_tricky_string_key(oracle: HelmOracle, helm_version: str, key: str) -> None:
    expected = TRICKY_KEYS.index(key)
    assert typed(yaml.safe_load(dump_values(TRICKY_DOC))["keys"][key]) == typed(expected)
    assert typed(helm_tricky(oracle, helm_version)["keys"][key]) == typed(expected)


def test_whole_tricky_document(oracle: HelmOracle, helm_version: str) -> None:
    text = dump_values(TRICKY_DOC)
    assert typed(yaml.safe_load(text)) == typed(TRICKY_DOC)
    assert typed(helm_tricky(oracle, helm_version)) == typed(TRICKY_DOC)


@pytest.mark.parametrize("tree", [pytest.param(tree, id=name) for name, tree in ESCAPED])
def test_escaped_characters_round_trip(
    oracle: HelmOracle, helm_version: str, tree: dict[str, Any]
) -> None:
    text = dump_values(tree)
    assert not re.search("[\x00-\x1f\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff]", text[:-1])
    assert typed(yaml.safe_load(text)) == typed(tree)
    assert typed(oracle.values(helm_version, Probe(values=text))) == typed(tree)


def test_lone_surrogate_is_escaped_but_helm_refuses_it(
    oracle: HelmOracle, helm_version: str
) -> None:
    """No YAML text gets a lone surrogate into Helm: this is the one unwritable character."""
    text = dump_values(LONE_SURROGATE)
    assert text == 'k: "a\\ud800b"\n'
    assert yaml.safe_load(text) == LONE_SURROGATE
    outcome = oracle.render(helm_version, Probe(values=text))
    assert not outcome.ok
    assert "found invalid Unicode character escape code" in outcome.stderr


@pytest.mark.parametrize(
    "number",
    [
        1.5,
        -0.25,
        0.1,
        1.2345678901234568e17,
        1e-05,
        1e16,
        -1e300,
        5e-324,
        -0.0,
        math.inf,
        -math.inf,
        math.nan,
    ],
    ids=repr,
)
def test_float_round_trip_with_safe_load(number: float) -> None:
    """PyYAML (YAML 1.1) needs a '.' in a float's mantissa; go-yaml and YAML 1.2 do not."""
    loaded = yaml.safe_load(dump_values({"x": number}))["x"]
    assert isinstance(loaded, float)
    assert loaded == number or (math.isnan(number) and math.isnan(loaded))
    if not math.isnan(number):
        assert math.copysign(1, loaded) == math.copysign(1, number)


@pytest.mark.parametrize(
    ("number", "text"),
    [
        (1e-05, "1.0e-05"),
        (1e16, "1.0e+16"),
        (2.5e-10, "2.5e-10"),
        (1.5, "1.5"),
        (3.0, "3.0"),
        (math.inf, ".inf"),
        (-math.inf, "-.inf"),
        (math.nan, ".nan"),
    ],
)
def test_float_text(number: float, text: str) -> None:
    assert dump_values({"x": number}) == f"x: {text}\n"


# (Not 1e16: Go's JSON writes floats below 1e21 without an exponent, read back as ints.)
EXPONENT_FLOATS = {"floats": [1e-05, 2.5e-10, -1e300, 5e-324]}


def test_exponent_floats_are_floats_to_helm(oracle: HelmOracle, helm_version: str) -> None:
    """go-yaml reads 1.0e-05 (as it would 1e-05) as a float."""
    helm_values = oracle.values(helm_version, Probe(values=dump_values(EXPONENT_FLOATS)))
    assert typed(helm_values) == typed(EXPONENT_FLOATS)


@pytest.mark.parametrize(
    "tree",
    [
        {},
        {"a": {}},
        {"a": []},
        {"a": [[], {}, [[1]], [{"b": []}]]},
        {"a": [{"b": 1, "c": [{"d": None}]}, "x"]},
        {"a": {"b": {"c": {"d": {"e": "deep"}}}}},
        {"a": [None, True, 0, "", "0"]},
    ],
    ids=repr,
)
def test_structures_round_trip(tree: dict[str, Any]) -> None:
    assert typed(yaml.safe_load(dump_values(tree))) == typed(tree)


# --- comments --------------------------------------------------------------------------------

DOCUMENTED: dict[str, Any] = {"pilot": {"replicas": 1, "env": {"on": "yes"}}, "list": [1]}
DOCS = {
    ("pilot",): "Istio Pilot.\nSecond line: with colon # and hash",
    ("pilot", "replicas"): "How many.",
    ("list",): "",
}


def documented_text() -> str:
    return dump_values(DOCUMENTED, docs=DOCS.get, header="Generated file.\nDo not edit.")


def test_comments_precede_their_keys_and_change_nothing(
    oracle: HelmOracle, helm_version: str
) -> None:
    text = documented_text()
    assert text.startswith("# Generated file.\n# Do not edit.\n")
    lines = text.splitlines()
    pilot = lines.index("pilot:")
    assert lines[pilot - 2 : pilot] == ["# Istio Pilot.", "# Second line: with colon # and hash"]
    replicas = lines.index("  replicas: 1")
    assert lines[replicas - 1] == "  # How many."
    assert not lines[lines.index("list:") - 1].lstrip().startswith("#")  # empty doc: none
    assert sum(line.lstrip().startswith("#") for line in lines) == 5
    assert typed(yaml.safe_load(text)) == typed(DOCUMENTED)
    assert typed(oracle.values(helm_version, Probe(values=text))) == typed(DOCUMENTED)


def test_dump_values_rejects_non_string_keys() -> None:
    with pytest.raises(TypeError):
        dump_values({1: "x"})  # type: ignore[dict-item]


# --- property: random trees --------------------------------------------------------------------

# Every character, lone surrogates included (PyYAML reads their escapes back).
TEXT = st.text(st.characters(exclude_categories=()))
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), TEXT)
TREES = st.dictionaries(
    TEXT,
    st.recursive(
        SCALARS,
        lambda kids: st.lists(kids, max_size=3) | st.dictionaries(TEXT, kids, max_size=3),
        max_leaves=12,
    ),
    max_size=5,
)


@PROPERTY
@given(TREES)
def test_random_trees_round_trip(tree: dict[str, Any]) -> None:
    assert typed(yaml.safe_load(dump_values(tree))) == typed(tree)


@PROPERTY
@given(TREES)
def test_dump_is_deterministic_and_ends_with_newline(tree: dict[str, Any]) -> None:
    text = dump_values(tree)
    assert text == dump_values(dict(tree))
    assert text.endswith("\n")
    assert not text.endswith("\n\n")


# --- Chart.yaml --------------------------------------------------------------------------------

ISTIO = {
    "apiVersion": "v2",
    "name": "istio-base",
    "version": "1.20.0",
    "appVersion": "1.20.0",
    "description": "Helm chart for deploying Istio cluster resources and CRDs",
    "type": "application",
    "home": "https://istio.io",
    "icon": "https://istio.io/favicons/android-192x192.png",
    "sources": ["https://github.com/istio/istio"],
    "keywords": ["istio", "service mesh", "on"],
    "maintainers": [{"name": "Istio Authors", "email": "istio@example.com"}],
    "annotations": {"meshcharts.io/profile": "demo", "category": "Networking"},
    "kubeVersion": ">=1.25.0-0",
}


def meta(**fields: Any) -> dict[str, Any]:
    return {**ISTIO, **fields}


LONG = (
    "Istio is an open platform to connect, manage, and secure microservices; this chart "
    "installs its control plane with the sidecar injector and the ingress gateway, on "
    "Kubernetes 1.25 or newer."
)

MISREAD_KEYWORDS = [
    "<<", "=", "0x_", "2001-02-29", "2001-12-14 21:59:43.10 -5", "0b" + "1" * 65,
]  # fmt: skip
PLAIN_KEYWORDS = [
    "-x", "+x", ".x", "1.2.3", "5Gi", "1e", "._5", "1.0e999", "yEs", "a#b", "a:b", "x:y:z",
    "0o7777777777777777777777777", "-", "--", "!", "&", "*", "1e400", ".5e400", "0x1p3",
    "2001-2-30",
]  # fmt: skip
QUOTED_KEYWORDS = [
    "- x", "? x", "x:", ":x", "?", "---x", "...x", "0b-1", "2001-1-1t1:2:3.5+01:00",
    "2001-1-1T1:2:3Z", "2000-02-29", "+.inf", ".5", "0o17", "0x1F", "1_000", "-0",
    "123456789012345678901234567890", "'q'", '"q"', "x'y", "0B101", "-0B11", ".5_0", "1_0.5",
    "1e-400", "2001-12-14T21:59:43+24:60", "2001-12-14T21:59:43,5Z", "2001-2-28",
]  # fmt: skip
ANNOTATION_KEYS = ["a10", "a9", "a_x", "aB", "a-b", "ab", "a01", "a001", "a1", "", "_", "~"]
ANNOTATION_KEYS += ["1", "Z", "é", "z9z", "z10", "x/y.z", "x/y-z", "x/y_z", "X/Y"]

# (id, metadata, what it means to Helm if not the metadata minus empty fields, lint)
CHARTS: list[tuple[str, dict[str, Any], dict[str, Any] | None, bool]] = [
    (
        "demo",
        {
            "apiVersion": "v2",
            "name": "demo",
            "description": "A Helm chart for Kubernetes",
            "type": "application",
            "version": "0.1.0",
            "appVersion": "1.16.0",
        },
        None,
        True,
    ),
    ("istio", ISTIO, None, True),
    ("long description", meta(description=LONG), None, True),
    ("description of 80 columns", meta(description="x" * 60 + " " + "y" * 30), None, True),
    *(
        (f"fold boundary {n}", meta(description="x" * n + " a b c"), None, True)
        for n in (66, 67, 68, 69)  # "description: " + n characters: breaks once 13 + n > 80
    ),
    # go-yaml never breaks at a space next to another space
    ("double space past column 80", meta(description="x" * 70 + "  y"), None, True),
    ("spaces past column 80", meta(description="x" * 70 + " a  b   c d"), None, True),
    (
        "long word past column 80",
        meta(description="x" * 67 + " a b " + "y" * 100 + " z"),
        None,
        True,
    ),
    ("unicode past column 80", meta(description="ünïcödé wörds " * 8 + "end"), None, True),
    ("appVersion 1.10", meta(appVersion="1.10", version="2.0.0-rc.1+build.5"), None, True),
    (
        "tricky keywords",
        meta(
            keywords=[
                "on",
                "off",
                "yes",
                "no",
                "y",
                "n",
                "true",
                "null",
                "~",
                "1e3",
                "0755",
                "2001-12-14",
                "1:20",
                "{{x}}",
                "a: b",
                "# x",
                "a #b",
                "@x",
                "`x",
                "!x",
                "&x",
                "*x",
                "%x",
                "|",
                ">",
                "ünï",
                "x,y",
                "http://x:80/y",
                "",
            ]
        ),  # fmt: skip
        None,
        True,
    ),
    (
        "keywords go-yaml writes plain",
        meta(keywords=PLAIN_KEYWORDS),
        None,
        True,
    ),
    (
        "keywords go-yaml quotes",
        meta(keywords=QUOTED_KEYWORDS),
        None,
        True,
    ),
    (
        "tricky annotations",
        meta(
            annotations={
                "on": "yes",
                "x/y": ">=1.25.0-0 <1.40.0-0",
                "a: b": "c",
                "n": "1.10",
                "unicode": "ünï",
            }
        ),
        None,
        True,
    ),
    (
        "annotation key order",
        meta(annotations={k: k or "empty" for k in ANNOTATION_KEYS}),
        None,
        True,
    ),
    (
        "long and multi-line annotation keys",
        meta(
            annotations={
                "k" * 129: "over 128 bytes: '? key'",
                "k" * 128: "a value folded past column 80",
                "é" * 70: "140 bytes",
                "x\ny": "a key of two lines",
                "z\n": "a key ending in a line break",
            }
        ),
        None,
        True,
    ),
    (
        "kubeVersion range",
        meta(kubeVersion=">=1.25.0-0 <1.40.0-0 || ~1.24.0-0"),
        None,
        True,
    ),
    (
        "long single-quoted annotation",
        meta(annotations={"note": "key: value pairs " * 8}),
        None,
        True,
    ),
    (
        "single quotes past column 80",
        meta(annotations={"a": "'" * 70 + " b c", "b": "x" * 75 + " 'q' r", "c": "'x" + " y" * 50}),
        None,
        True,
    ),
    ("empty annotation value", meta(annotations={"empty": "", "x": "1"}), None, True),
    (
        "multi-line annotation",
        meta(annotations={"script": "line one\nline two\n", "x": "a\nb"}),
        None,
        True,
    ),
    (
        "literal blocks",
        meta(
            annotations={
                "keep": "x\n\n",
                "keep only": "\n",
                "two only": "\n\n",
                "leading space": " lead\nx",
                "leading break": "\nx",
                "inner blank line": "a\n\nb\n",
                "long line": "word " * 25 + "end\nnext",
                "quote and hash": "it's # here\n'quoted': \"yes\"\n",
            }
        ),
        None,
        True,
    ),
    (
        "multi-line strings go-yaml double-quotes",
        meta(
            annotations={
                "space before break": "a \nb",
                "break before space": "a\n b",
                "trailing space": "a\nb ",
                "tab": "a\n\tb",
                "crlf": "a\r\nb",
                "long": ("word " * 30) + "\nend",
            }
        ),
        None,
        True,
    ),
    ("tab in annotation", meta(annotations={"t": "tab\there"}), None, True),
    (
        "escapes",
        meta(
            annotations={
                "bom": "\ufeffbom",  # go-yaml escapes every character after a leading BOM
                "bom inside": "a\ufeffb",
                "emoji": "emoji😀",
                "nul": "a\0b",
                "esc": "\x1b[0m",
                "bell": "\a",
                "backspace": "\b",
                "quote": 'say "hi" \\ back',
                "sq": "it's: ok",
                "nbsp": "a\xa0b",
                "private use": "\ue000",
            }
        ),
        None,
        True,
    ),
    (
        "double quotes past column 80",
        meta(
            annotations={
                "a": "\t" + "word " * 30,
                "b": "\t" + "word  " * 20,
                "c": "😀 " * 60,
                "d": "x" * 90 + " \t",
            }
        ),
        None,
        True,
    ),
    (
        "whitespace in description",
        meta(description="two\nlines\tand a tab"),
        meta(description="two lines and a tab"),
        True,
    ),
    (
        "sanitised fields",
        meta(
            description="a\u2003b\u200bc\xadd\x01e\u3000f\x85g",
            home="https://istio.io/\t",
            condition="a.enabled\n",
            tags="t\u2028u",
            kubeVersion=">=1.25.0-0\n",
            appVersion="1.20\t0",
            sources=["https://github.com/istio/istio\n"],
            keywords=["service\tmesh", "\xa0nb", "zero\u200bwidth"],
            maintainers=[
                {"name": "Istio\tAuthors", "email": "istio@example.com", "url": ""},
                {"name": "Other\n", "url": "https://istio.io\x7f"},
            ],
        ),
        meta(
            description="a bcde f g",
            home="https://istio.io/ ",
            condition="a.enabled ",
            tags="t u",
            kubeVersion=">=1.25.0-0 ",
            appVersion="1.20 0",
            sources=["https://github.com/istio/istio "],
            keywords=["service mesh", " nb", "zerowidth"],
            maintainers=[
                {"name": "Istio Authors", "email": "istio@example.com"},
                {"name": "Other ", "url": "https://istio.io"},
            ],
        ),
        False,  # lint: home and sources with a space are not URLs
    ),
    (
        "struct fields dropped when empty",
        meta(deprecated=False, icon="", sources=[], annotations={}, maintainers=[{"name": "x"}]),
        None,
        True,
    ),
    ("deprecated", meta(deprecated=True), None, True),
]
# Dependencies are not here: meshcharts never writes them into Chart.yaml (subcharts are
# generated as separate charts), and Helm writes their empty `repository: ""`.


def random_text(rng: random.Random, alphabet: str, longest: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, longest)))


# Random strings over an alphabet of the characters that choose styles (no digits, '<' or
# '=': nothing that only the deliberate extra quoting touches).
ALPHABET = "ab  -:#'\"\\\t\né😀{}[],?!|>&*%@`.\xa0\ufeff\x1b"
RANDOM_CHARTS = [
    (
        f"random {seed}",
        meta(
            description=random_text(rng, ALPHABET, 150),
            keywords=[random_text(rng, ALPHABET, 12) for _ in range(6)],
            annotations={
                random_text(rng, ALPHABET, 8): random_text(rng, ALPHABET, 120) for _ in range(8)
            },
        ),
    )
    for seed in range(24)
    for rng in [random.Random(seed)]
]

CHART_PARAMS = [pytest.param(name, md, means, id=name) for name, md, means, _ in CHARTS]
BYTES_PARAMS = [pytest.param(name, md, id=name) for name, md, *_ in CHARTS + RANDOM_CHARTS]
LINT_PARAMS = [pytest.param(name, md, id=name) for name, md, _, lint in CHARTS if lint]

# Deliberate differences from Helm's bytes: (id, metadata, [(our line, Helm's line)]).
DELIBERATE: list[tuple[str, dict[str, Any], list[tuple[str, str]]]] = [
    (
        "strings a YAML 1.1 reader misreads",
        meta(keywords=MISREAD_KEYWORDS),
        [
            ('- "<<"', "- <<"),  # a merge key to YAML 1.1
            ('- "="', "- ="),  # the value key: PyYAML fails on it
            ('- "0x_"', "- 0x_"),  # an integer to PyYAML (which then fails)
            ('- "2001-02-29"', "- 2001-02-29"),  # a timestamp to PyYAML (which then fails)
            ('- "2001-12-14 21:59:43.10 -5"', "- 2001-12-14 21:59:43.10 -5"),  # a timestamp
            ('- "0b' + "1" * 65 + '"', "- 0b" + "1" * 65),  # beyond 64 bits: an int to PyYAML
        ],
    ),
    (
        "line separators",
        meta(annotations={"ls": "a\u2028b", "ps": "a\u2029b\nc"}),
        [
            # go-yaml writes the separator raw and indents after it, as after a line break
            ('  ls: "a\\Lb"', "  ls: 'a\u2028    b'"),
            ('  ps: "a\\Pb\\nc"', "  ps: |-\n    a\u2029    b\n    c"),
        ],
    ),
]

TEMPLATE = (
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\n"
    "data:\n  chart: {{ .Chart.Name | quote }}\n"
)


def write_chart(folder: Path, metadata: Mapping[str, Any]) -> Path:
    (folder / "templates").mkdir(parents=True)
    (folder / "Chart.yaml").write_text(chart_yaml(metadata), encoding="utf-8")
    (folder / "values.yaml").write_text("{}\n", encoding="utf-8")
    (folder / "templates" / "configmap.yaml").write_text(TEMPLATE, encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def helm_charts(
    helms: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> dict[tuple[str, str, str], tuple[int, str]]:
    """(chart id, helm version, "show"|"lint") -> (exit status, output), all run at once."""
    root = tmp_path_factory.mktemp("charts")
    charts = [(name, md) for name, md, *_ in CHARTS + RANDOM_CHARTS + DELIBERATE]
    folders = {name: write_chart(root / f"c{i}", md) for i, (name, md) in enumerate(charts)}
    linted = {name for name, *_ in CHARTS}
    jobs = [
        (name, version, command)
        for name in folders
        for version in helms
        for command in ("show", "lint")
        if command == "show" or name in linted
    ]

    def run(job: tuple[str, str, str]) -> tuple[int, str]:
        name, version, command = job
        args = ("show", "chart") if command == "show" else ("lint", "--strict")
        proc = run_helm(helms[version], *args, str(folders[name]), check=False)
        return proc.returncode, proc.stdout + proc.stderr if proc.returncode else proc.stdout

    with ThreadPoolExecutor(WORKERS) as pool:
        return dict(zip(jobs, pool.map(run, jobs), strict=True))


def shown(helm_charts: Mapping[tuple[str, str, str], tuple[int, str]], name: str, v: str) -> str:
    status, output = helm_charts[(name, v, "show")]
    assert status == 0, output
    # `helm show chart` prints the serialised metadata followed by one more newline.
    assert output.endswith("\n\n")
    return output[:-1]


def without_empty_fields(metadata: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in metadata.items() if v not in ("", None, [], {}, False)}


@pytest.mark.parametrize(("name", "metadata", "means"), CHART_PARAMS)
def test_helm_reads_chart_yaml_as_we_mean_it(
    helm_charts: Mapping[tuple[str, str, str], tuple[int, str]],
    helm_version: str,
    name: str,
    metadata: dict[str, Any],
    means: dict[str, Any] | None,
) -> None:
    ours = yaml.safe_load(chart_yaml(metadata))
    assert ours == without_empty_fields(means or metadata)
    assert yaml.safe_load(shown(helm_charts, name, helm_version)) == ours


def unquote_versions(text: str) -> str:
    """Drop the double quotes meshcharts always puts around version and appVersion."""
    return re.sub(r'^(\s*(?:- )?(?:version|appVersion): )"(.*)"$', r"\1\2", text, flags=re.M)


@pytest.mark.parametrize(("name", "metadata"), BYTES_PARAMS)
def test_chart_yaml_bytes_equal_helms_except_version_quotes(
    helm_charts: Mapping[tuple[str, str, str], tuple[int, str]],
    helm_version: str,
    name: str,
    metadata: dict[str, Any],
) -> None:
    ours = chart_yaml(metadata)
    helm_text = shown(helm_charts, name, helm_version)
    assert re.search(r'^version: "', ours, flags=re.M)  # the one deliberate difference
    assert unquote_versions(ours) == unquote_versions(helm_text)


@pytest.mark.parametrize(
    ("name", "metadata", "lines"), [pytest.param(*d, id=d[0]) for d in DELIBERATE]
)
def test_deliberate_differences_from_helms_bytes(
    helm_charts: Mapping[tuple[str, str, str], tuple[int, str]],
    helm_version: str,
    name: str,
    metadata: dict[str, Any],
    lines: list[tuple[str, str]],
) -> None:
    ours = unquote_versions(chart_yaml(metadata))
    helm_text = unquote_versions(shown(helm_charts, name, helm_version))
    for our_line, helm_line in lines:
        assert f"\n{our_line}\n" in ours
        assert f"\n{helm_line}\n" in helm_text
        ours = ours.replace(f"\n{our_line}\n", f"\n{helm_line}\n")
    assert ours == helm_text
    assert yaml.safe_load(chart_yaml(metadata)) == without_empty_fields(metadata)


def test_long_description_is_folded() -> None:
    lines = chart_yaml(meta(description=LONG)).splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("description: "))
    assert lines[start + 1].startswith("  ") and lines[start + 2].startswith("  ")
    assert all(len(line) <= 80 + len(max(LONG.split(), key=len)) for line in lines)


WORDS = st.lists(
    st.text(st.sampled_from("abcxyz-_/.0123456789"), min_size=1, max_size=30), min_size=1
).map(" ".join)


@PROPERTY
@given(WORDS, st.sampled_from(["description", "home", "kubeVersion"]))
def test_single_spaced_text_round_trips_through_folding(text: str, key: str) -> None:
    assert yaml.safe_load(chart_yaml({"name": "x", key: text}))[key] == text


ANY_TEXT = st.text(st.characters(exclude_categories=()), max_size=120)


@PROPERTY
@given(st.dictionaries(ANY_TEXT, ANY_TEXT, max_size=6), st.lists(ANY_TEXT, max_size=4))
def test_annotations_and_keywords_round_trip(annotations: dict[str, str], words: list[str]) -> None:
    """Any annotation (Helm keeps them as they are) reads back; keywords read back sanitised."""
    loaded = yaml.safe_load(chart_yaml(meta(annotations=annotations, keywords=words)))
    clean = sanitize_metadata({"keywords": words})["keywords"]
    repaired = {
        re.sub("[\ud800-\udfff]", "\ufffd", k): re.sub("[\ud800-\udfff]", "\ufffd", v)
        for k, v in annotations.items()
    }
    assert loaded.get("annotations", {}) == repaired
    assert loaded.get("keywords", []) == clean


def test_sanitize_metadata_leaves_other_fields_and_its_input() -> None:
    metadata = meta(version="1.0.0\t", type="application", annotations={"a": "x\ty"})
    before = repr(metadata)
    clean = sanitize_metadata(metadata)
    assert repr(metadata) == before
    assert clean["version"] == "1.0.0\t" and clean["annotations"] == {"a": "x\ty"}


def test_helm3_and_helm4_serialise_alike(
    helm_charts: Mapping[tuple[str, str, str], tuple[int, str]],
) -> None:
    for name, *_ in CHARTS + RANDOM_CHARTS + DELIBERATE:
        assert shown(helm_charts, name, HELM3) == shown(helm_charts, name, HELM4), name


@pytest.mark.parametrize(("name", "metadata"), LINT_PARAMS)
def test_lint_strict_passes(
    helm_charts: Mapping[tuple[str, str, str], tuple[int, str]],
    helm_version: str,
    name: str,
    metadata: dict[str, Any],
) -> None:
    status, output = helm_charts[(name, helm_version, "lint")]
    assert status == 0, output
    assert "1 chart(s) linted, 0 chart(s) failed" in output
