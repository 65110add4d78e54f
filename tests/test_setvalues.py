"""``--set`` parsing checked against real Helm 3.17.2 and 4.1.4.

Every case is rendered by both Helms through a probe chart (see ``oracles.py``) and compared,
types included, with what :mod:`meshcharts.inputs.setvalues` computes. Three setups:

* **raw** -- empty chart, no ``-f``: Helm's result is exactly what its strvals parser built,
  nulls and nil padding included, so it must equal ``apply_sets(args, {})``.
* **base** -- the earlier layers are an ``-f`` file: Helm parses ``--set`` *into* those values
  (this is how meshcharts passes ``base``), so Helm's result must equal
  ``{**base, **apply_sets(args, base)}`` (the overlay carries whole top-level keys).
* **defaults** -- the earlier values are the chart's own values.yaml: Helm parses ``--set``
  into an empty map and coalesces it over the chart values (a null deletes a chart key), so
  it must equal ``merge_layers([defaults, apply_sets(args, {})])``.

Where meshcharts deliberately differs from Helm (it rejects arguments Helm ignores or reads
leniently; a null with nothing to delete is dropped) a plain test asserts both behaviours.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from oracles import HelmOracle, Probe, as_json_text, param_arg, typed
from tools import HELM3, HELM4

from meshcharts.errors import ValuesError
from meshcharts.inputs.setvalues import SetArg, apply_sets, parse_set, typed_value
from meshcharts.values.merge import merge_layers
from meshcharts.values.origins import Layer

SET = "--set"
STR = "--set-string"


def case(*flags: tuple[str, str], marks: Any = ()) -> Any:
    return pytest.param(flags, marks=marks, id=" ".join(f"{f}={a}" for f, a in flags))


def s(arg: str) -> tuple[str, str]:
    return (SET, arg)


def ss(arg: str) -> tuple[str, str]:
    return (STR, arg)


def set_args(flags: tuple[tuple[str, str], ...]) -> list[SetArg]:
    return [SetArg(arg, string=flag == STR) for flag, arg in flags]


RAW_CASES = [
    # keys and paths
    case(s("a=1")),
    case(s("a.b.c=x")),
    case(s("a.b=1,a.c=2,d=3")),
    case(s("a.b=2,a=1")),
    case(s("a[0].b=x")),
    case(s("a[0].b=1,a[0].c=2")),
    case(s("a[2]=x")),
    case(s("a[1].b=x")),
    case(s("a[0][1]=x")),
    case(s("a.b[1].c=x")),
    case(s("a[1]=x,a[0]=y")),
    case(s("a[01]=x")),
    case(s("a]=1")),
    case(s("a b=1")),
    case(s("a/b:c-d_e=1")),
    case(s("ключ.キー=ü")),
    case(s("a[1]=x"), s("a[3]=y")),
    case(s("a={x,y}"), s("a[3]=z")),
    case(s("a=1"), ss("b=2")),
    # lists
    case(s("a={x,y}")),
    case(s("a={1,true,null,007,-5}")),
    case(ss("a={1,true,null}")),
    case(s("a={x},b=1")),
    case(s("a[0]={x,y}")),
    case(s("a={,}")),
    case(s("a={a\\}b,c}")),
    case(s("a={x}"), s("a[1]=y")),
    case(s("a={}")),  # one empty item
    case(s("a={a\\,b,c}")),
    case(ss("a={a\\,b,c}")),
    case(s("a={a\\\\,b}")),  # an escaped backslash, then an item separator
    case(s("a={1, 2}")),  # ' 2' stays a string
    case(s("a={x,}")),
    case(s("a={x},b={}")),
    # list items replaced or filled in place, as Helm does
    case(s("a[0]=x,a[0].k=1")),
    case(s("a[0]={x},a[0].k=1")),
    case(s("a[0]={x},a[0][1]=y")),
    case(s("a[1]=x,a[0][0]=y")),
    case(s("a[1]=x,a[0].k=y")),
    case(s("a[65536]=x")),  # Helm's largest index
    # typing
    *(
        case(s(f"a={value}"))
        for value in [
            "true",
            "false",
            "TRUE",
            "False",
            "null",
            "NULL",
            "Null",
            "nil",
            "~",
            "0",
            "-0",
            "+0",
            "007",
            "00",
            "0777",
            "-5",
            "+5",
            "-007",
            "+05",
            "-",
            "+",
            "1.10",
            "1e3",
            "0x1F",
            "0b1",
            "1_000",
            "9223372036854775807",
            "9223372036854775808",
            "-9223372036854775808",
            "-9223372036854775809",
            '""',
            "",
            "yes",
            "on",
            "y",
            "x y",
            "b=c",
            "=1",
            ".Release.Name }}",
            "x{{ y }}",
        ]
    ),  # fmt: skip
    # only ASCII [+-]?[0-9]+ is an integer: spaces and other digits keep a string
    case(s("a= 5")),
    case(s("a=5 ")),
    case(s("a=1 ,b=2")),
    case(s("a=\t7")),
    case(s("a=٥")),
    case(s("a=５")),
    case(s("a=²")),
    # true/false/null compare with Unicode case folding (Go's EqualFold)
    case(s("a=falſe")),
    case(s("a=nULl")),
    case(s("a=ｔrue")),
    *(
        case(ss(f"a={value}"))
        for value in ["true", "null", "0", "5", "-5", "007", "1e3", "", "x}}", "x\\,y"]
    ),
    # escapes
    case(s("a\\.b=1")),
    case(s("a\\.b.c=1")),
    case(s("a\\=b=1")),
    case(s("a\\[0]=1")),
    case(s("a=x\\,y,b=z")),
    case(s("a=x\\\\y")),
    case(s("a=\\{x\\,y\\}")),
    case(s("a=x}")),
    case(s("a=x{y}")),
    case(s("a=1,")),
    case(s("a=x\\")),  # a trailing lone backslash is dropped
    # null
    case(s("a=null,b=1")),
    case(s("a.b=null")),
    case(s("a[1]=null")),
    case(ss("a=null")),
]


@pytest.fixture(scope="module")
def oracle(helms: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> HelmOracle:
    oracle = HelmOracle(helms, tmp_path_factory.mktemp("setvalues-oracle"))
    probes = [Probe(flags=param_arg(p)) for p in RAW_CASES]
    probes += [Probe(files=(as_json_text(BASE),), flags=param_arg(p)) for p in BASE_CASES]
    probes += [
        Probe(files=(as_json_text(param_arg(p)),) if param_arg(p) else (), flags=param_arg(p, 1))
        for p in CONFLICTS
    ]
    probes += [
        Probe(values=as_json_text(DEFAULTS), flags=param_arg(p))
        for p in DEFAULT_CASES + NULLS_WITHOUT_DEFAULT
    ]
    probes += [Probe(flags=param_arg(p)) for p in HELM_MALFORMED + HELM_LENIENT]
    probes += [Probe(flags=((SET, arg),)) for arg, _ in ONLY_HELM4_ACCEPTS]
    oracle.prefetch(probes)
    return oracle


@pytest.mark.parametrize("flags", RAW_CASES)
def test_raw_parse_equals_helm(
    oracle: HelmOracle, helm_version: str, flags: tuple[tuple[str, str], ...]
) -> None:
    helm_values = oracle.values(helm_version, Probe(flags=flags))
    assert typed(apply_sets(set_args(flags), {})) == typed(helm_values)


# --- parsing into earlier layers (-f files) --------------------------------------------------

BASE: dict[str, Any] = {
    "list": [1, "two", {"k": 3}],
    "map": {"x": 1, "inner": {"y": 2}},
    "scalar": 5,
    "keep": "me",
    "nulls": [None, None],
}

BASE_CASES = [
    case(s("list[1]=x")),
    case(s("list[5]=x")),
    case(s("list[2].k=9")),
    case(s("list[2].z=9")),
    case(s("list[0].k=9")),  # a list item that is not a map is replaced by one
    case(s("list[1].k=9")),
    case(s("list={a,b}")),
    case(s("list[1]=x"), s("list[0]=y")),
    case(s("map.x=2")),
    case(s("map.inner.z=3")),
    case(s("map.new.deep=1")),
    case(s("map=1")),
    case(s("scalar=x")),
    case(s("fresh[1]=x")),
    case(ss("map.x=2,list[0]=3")),
    case(s("keep=null")),
    case(s("map.x=null")),
    case(s("nulls[0].k=1")),  # a null list item is replaced by a map...
    case(s("nulls[1][0]=1")),  # ...or filled with a list
]


@pytest.mark.parametrize("flags", BASE_CASES)
def test_into_earlier_layers_equals_helm(
    oracle: HelmOracle, helm_version: str, flags: tuple[tuple[str, str], ...]
) -> None:
    helm_values = oracle.values(helm_version, Probe(files=(as_json_text(BASE),), flags=flags))
    assert typed({**BASE, **apply_sets(set_args(flags), BASE)}) == typed(helm_values)


# Helm refuses to descend into an existing value of another kind (a scalar, list or null
# where a map is needed; a map, scalar or null where a list is needed; inside a list, a
# scalar or map item where a list is needed) -- whether it came from an -f file, an earlier
# --set or the same argument -- and exits 1 ("interface conversion"). meshcharts rejects the
# same arguments, saying why. (A list item that is not a map is replaced, see BASE_CASES.)
CONFLICTS = [
    pytest.param(base, flags, problem, id=" ".join(f"{f}={a}" for f, a in flags))
    for base, flags, problem in [
        (BASE, (s("scalar.b=1"),), "cannot set scalar.b: scalar is an integer, not a map"),
        (BASE, (s("keep.b=1"),), "cannot set keep.b: keep is a string, not a map"),
        (BASE, (s("list.b=1"),), "cannot set list.b: list is a list, not a map"),
        (BASE, (s("map[0]=1"),), "cannot set map[0]: map is a map, not a list"),
        (BASE, (s("scalar[0]=1"),), "cannot set scalar[0]: scalar is an integer, not a list"),
        (BASE, (s("map.x.y=1"),), "cannot set map.x.y: map.x is an integer, not a map"),
        (BASE, (s("list[0][0]=1"),), "cannot set list[0][0]: list[0] is an integer, not a list"),
        (BASE, (s("list[2][0]=1"),), "cannot set list[2][0]: list[2] is a map, not a list"),
        ({"n": None}, (s("n.b=1"),), "cannot set n.b: n is null, not a map"),
        ({"n": None}, (s("n[0]=1"),), "cannot set n[0]: n is null, not a list"),
        (
            BASE,
            (s("keep=null"), s("keep.b=1")),
            "cannot set keep.b: keep is null, not a map",
        ),
        ({}, (s("a=1,a.b=2"),), "cannot set a.b: a is an integer, not a map"),
        ({}, (s("a[0]=1,a.b=2"),), "cannot set a.b: a is a list, not a map"),
        ({}, (s("a.b=1,a[0]=2"),), "cannot set a[0]: a is a map, not a list"),
        ({}, (s("a=1"), s("a.b=2")), "cannot set a.b: a is an integer, not a map"),
        ({}, (s("a=null"), s("a.b=1")), "cannot set a.b: a is null, not a map"),
        ({}, (s("a={x,y}"), s("a.b=z")), "cannot set a.b: a is a list, not a map"),
        ({}, (s("a=true"), s("a[0]=z")), "cannot set a[0]: a is a boolean, not a list"),
        ({}, (s("a[0]=x,a[0][1]=y"),), "cannot set a[0][1]: a[0] is a string, not a list"),
        ({}, (s("a[0].k=1,a[0][0]=2"),), "cannot set a[0][0]: a[0] is a map, not a list"),
        ({}, (s("a.b=x"), ss("a.b.c=2")), "cannot set a.b.c: a.b is a string, not a map"),
    ]
]


@pytest.mark.parametrize(("base", "flags", "problem"), CONFLICTS)
def test_helm_rejects_descending_into_other_kinds(
    oracle: HelmOracle,
    helm_version: str,
    base: dict[str, Any],
    flags: tuple[tuple[str, str], ...],
    problem: str,
) -> None:
    files = (as_json_text(base),) if base else ()
    outcome = oracle.render(helm_version, Probe(files=files, flags=flags))
    assert not outcome.ok, outcome.values
    assert "interface conversion" in outcome.stderr


@pytest.mark.parametrize(("base", "flags", "problem"), CONFLICTS)
def test_we_reject_descending_into_other_kinds(
    base: dict[str, Any], flags: tuple[tuple[str, str], ...], problem: str
) -> None:
    with pytest.raises(ValuesError) as caught:
        apply_sets(set_args(flags), base)
    flag, arg = flags[-1]
    assert str(caught.value) == f"{flag} {arg}: {problem}"
    assert caught.value.subject == f"{flag} {arg}"


def test_apply_sets_does_not_modify_base() -> None:
    base = {"list": [1, 2], "map": {"x": {"y": 1}}}
    snapshot = repr(base)
    overlay = apply_sets([SetArg("list[0]=9,map.x.y=2,map.x.z=3")], base)
    assert repr(base) == snapshot
    assert overlay == {"list": [9, 2], "map": {"x": {"y": 2, "z": 3}}}


# --- over chart defaults ---------------------------------------------------------------------

DEFAULTS: dict[str, Any] = {
    "a": 1,
    "m": {"x": 1, "y": {"z": 2}},
    "l": [1, 2, 3],
    "s": "text",
}

DEFAULT_CASES = [
    case(s("a=2")),
    case(s("a=null")),
    case(s("m.x=null")),
    case(s("m.y=null")),
    case(s("m.y.z=null,m.x=5")),
    case(s("m.w=1")),
    case(s("m=1")),
    case(s("a.b=1")),
    case(s("l[1]=x")),
    case(s("l={x}")),
    case(s("s=null"), s("s=again")),
    case(ss("a=2,m.x=true")),
    case(s("l[1]=null")),
]


@pytest.mark.parametrize("flags", DEFAULT_CASES)
def test_over_chart_defaults_equals_helm(
    oracle: HelmOracle, helm_version: str, flags: tuple[tuple[str, str], ...]
) -> None:
    helm_values = oracle.values(helm_version, Probe(values=as_json_text(DEFAULTS), flags=flags))
    # Helm parses --set into the -f values (none here), never into the chart's defaults.
    overlay = apply_sets(set_args(flags), {})
    ours = merge_layers([Layer("chart defaults", DEFAULTS), Layer("--set", overlay)]).values
    assert typed(ours) == typed(helm_values)


# meshcharts: a null always deletes, and a null with nothing to delete is dropped (documented
# in values.py). Helm keeps such a null in .Values.
NULLS_WITHOUT_DEFAULT = [
    pytest.param((s("new=null"),), {**DEFAULTS, "new": None}, DEFAULTS, id="new=null"),
    pytest.param(
        (s("m.new=null"),),
        {**DEFAULTS, "m": {**DEFAULTS["m"], "new": None}},
        DEFAULTS,
        id="m.new=null",
    ),
    pytest.param(
        (s("m.y.new=null,m.x=null"),),
        {**DEFAULTS, "m": {"y": {"z": 2, "new": None}}},
        {**DEFAULTS, "m": {"y": {"z": 2}}},
        id="m.y.new=null,m.x=null",
    ),
]


@pytest.mark.parametrize(("flags", "helm_result", "ours"), NULLS_WITHOUT_DEFAULT)
def test_null_with_nothing_to_delete_is_dropped(
    oracle: HelmOracle,
    helm_version: str,
    flags: tuple[tuple[str, str], ...],
    helm_result: dict[str, Any],
    ours: dict[str, Any],
) -> None:
    helm_values = oracle.values(helm_version, Probe(values=as_json_text(DEFAULTS), flags=flags))
    assert typed(helm_values) == typed(helm_result)
    overlay = apply_sets(set_args(flags), {})
    merged = merge_layers([Layer("chart defaults", DEFAULTS), Layer("--set", overlay)]).values
    assert typed(merged) == typed(ours)


# --- malformed arguments ---------------------------------------------------------------------

MALFORMED: list[tuple[tuple[str, str], str]] = [
    (s("a"), "key 'a' has no value (expected KEY=VALUE)"),
    (s("a.b"), "key 'a.b' has no value (expected KEY=VALUE)"),
    (s("a=1,b"), "key 'b' has no value (expected KEY=VALUE)"),
    (s("a.=1"), "a key is empty"),
    (s("a..b=1"), "a key is empty"),
    (s("a=1,,b=2"), "a key is empty"),
    (s(",a=1"), "a key is empty"),
    (s("a[x]=1"), "list index [x] is not a non-negative integer"),
    (s("a[-1]=1"), "list index [-1] is not a non-negative integer"),
    (s("a[]=1"), "list index [] is not a non-negative integer"),
    (s("a[ 1]=1"), "list index [ 1] is not a non-negative integer"),
    (s("a[0]b=1"), "key 'a[0]' has no value (expected KEY=VALUE)"),
    (s("a={x"), "list value is missing its closing '}'"),
    (s("a={x,y\\"), "list value is missing its closing '}'"),
    (s("a={x\\}"), "list value is missing its closing '}'"),
    (s("a={x,y}z"), "a value starting with '{' is a list {a,b}; write \\{ for a literal brace"),
    (s("a={x}}"), "a value starting with '{' is a list {a,b}; write \\{ for a literal brace"),
    (s("a={{x}}"), "a value starting with '{' is a list {a,b}; write \\{ for a literal brace"),
    (s("a=[1,2]"), "key '2]' has no value (expected KEY=VALUE)"),
    (s("a=\\{x,y}"), "key 'y}' has no value (expected KEY=VALUE)"),
    (ss("a"), "key 'a' has no value (expected KEY=VALUE)"),
    (ss("a={x"), "list value is missing its closing '}'"),
    (s("a[65537]=x"), "index 65537 is larger than Helm's limit 65536"),
]
HELM_MALFORMED = [pytest.param((flag,), id=f"{flag[0]}={flag[1]}") for flag, _ in MALFORMED]
OUR_MALFORMED = [
    pytest.param(flag, problem, id=f"{flag[0]}={flag[1]}") for flag, problem in MALFORMED
]

# Helm accepts these (and ignores them or reads them leniently); meshcharts rejects them, to
# fail early on what is almost certainly a typo.
HELM_LENIENT = [
    pytest.param(((SET, ""),), {}, "empty argument (expected KEY=VALUE)", id="empty argument"),
    pytest.param(((SET, "=1"),), {}, "a key is empty", id="=1"),
    pytest.param(((SET, ".a=1"),), {}, "a key is empty", id=".a=1"),
    pytest.param(((SET, "[0]=1"),), {}, "a key is empty", id="[0]=1"),
    pytest.param(
        ((SET, "a[+1]=1"),),
        {"a": [None, 1]},
        "list index [+1] is not a non-negative integer",
        id="a[+1]=1",
    ),
]

# Helm 3.17.2 rejects these ("error parsing index: EOF"); Helm 4.1.4 silently ignores them.
ONLY_HELM4_ACCEPTS = [
    ("a[=1", "list index [=1 is missing its closing ']'"),
    ("a[0", "list index [0 is missing its closing ']'"),
]


@pytest.mark.parametrize("flags", HELM_MALFORMED)
def test_helm_rejects_malformed(
    oracle: HelmOracle, helm_version: str, flags: tuple[tuple[str, str], ...]
) -> None:
    outcome = oracle.render(helm_version, Probe(flags=flags))
    assert not outcome.ok, outcome.values
    assert "failed parsing --set" in outcome.stderr


@pytest.mark.parametrize(("flag", "problem"), OUR_MALFORMED)
def test_we_reject_malformed_naming_the_argument(flag: tuple[str, str], problem: str) -> None:
    name, arg = flag
    with pytest.raises(ValuesError) as caught:
        parse_set(SetArg(arg, string=name == STR))
    assert caught.value.subject == f"{name} {arg}"
    assert str(caught.value) == f"{name} {arg}: {problem}"


@pytest.mark.parametrize(("flags", "helm_result", "problem"), HELM_LENIENT)
def test_helm_lenient_where_we_are_strict(
    oracle: HelmOracle,
    helm_version: str,
    flags: tuple[tuple[str, str], ...],
    helm_result: dict[str, Any],
    problem: str,
) -> None:
    ((flag, arg),) = flags
    assert typed(oracle.values(helm_version, Probe(flags=flags))) == typed(helm_result)
    with pytest.raises(ValuesError) as caught:
        parse_set(SetArg(arg))
    shown = arg or "''"
    assert str(caught.value) == f"{flag} {shown}: {problem}"


@pytest.mark.parametrize(("arg", "problem"), ONLY_HELM4_ACCEPTS)
def test_unterminated_index(oracle: HelmOracle, arg: str, problem: str) -> None:
    helm3 = oracle.render(HELM3, Probe(flags=((SET, arg),)))
    helm4 = oracle.render(HELM4, Probe(flags=((SET, arg),)))
    assert not helm3.ok
    assert "error parsing index" in helm3.stderr
    assert helm4.ok
    assert helm4.values == {}
    with pytest.raises(ValuesError) as caught:
        parse_set(SetArg(arg))
    assert str(caught.value) == f"--set {arg}: {problem}"


def test_empty_argument_message() -> None:
    with pytest.raises(ValuesError) as caught:
        apply_sets([SetArg("a=1"), SetArg("")], {})
    assert str(caught.value) == "--set '': empty argument (expected KEY=VALUE)"
    with pytest.raises(ValuesError) as caught:
        parse_set(SetArg("", string=True))
    assert str(caught.value) == "--set-string '': empty argument (expected KEY=VALUE)"


def test_index_limit_is_helms() -> None:
    ((path, value),) = parse_set(SetArg("a[65536]=x"))
    assert path == ["a", 65536]
    items = apply_sets([SetArg("a[65536]=x")], {})["a"]
    assert len(items) == 65537 and items[-1] == "x" and set(items[:-1]) == {None}


# --- typed_value, without Helm (the rules Helm's strvals.typedVal applies) ---------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("true", True),
        ("FALSE", False),
        ("null", None),
        ("0", 0),
        ("-0", 0),
        ("42", 42),
        ("-42", -42),
        ("+42", 42),
        ("9223372036854775807", 9223372036854775807),
        ("-9223372036854775808", -9223372036854775808),
        ("9223372036854775808", "9223372036854775808"),
        ("042", "042"),
        ("-042", -42),  # only the first character may not be 0 (as in Helm)
        ("+0", 0),
        (" 5", " 5"),
        ("5 ", "5 "),
        ("5\n", "5\n"),
        ("٥", "٥"),
        ("²", "²"),
        ("tRuE", True),
        ("falſe", False),
        ("NuLl", None),
        ("nil", "nil"),
        ("0x1F", "0x1F"),
        ("1_000", "1_000"),
        ("1.0", "1.0"),
        ("", ""),
    ],
)
def test_typed_value(text: str, expected: Any) -> None:
    assert typed(typed_value(text)) == typed(expected)


def test_parse_set_returns_assignments_in_order() -> None:
    assert parse_set(SetArg("b.c=1,a[1]=x,b\\.c=y")) == [
        (["b", "c"], 1),
        (["a", 1], "x"),
        (["b.c"], "y"),
    ]
