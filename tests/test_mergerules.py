"""Declared merge rules: lists of named items merge by key across layers, with provenance per item.

The keyed merge is checked on fixed cases and, with hypothesis, against an independent model
(items indexed by key, merged in a dict), for idempotence and for never touching its inputs.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from meshcharts import load_profiles, resolve
from meshcharts.catalog.charts import builtin_catalog
from meshcharts.errors import ValuesError
from meshcharts.inputs.setvalues import SetArg
from meshcharts.values.explain import format_explain
from meshcharts.values.keypaths import split_key
from meshcharts.values.merge import merge_layers
from meshcharts.values.mergerules import (
    NO_RULES,
    MergeRules,
    dotted,
    item_segment,
    parse_item_segment,
)
from meshcharts.values.origins import DELETED, Layer

PROPERTY = settings(database=None, deadline=None, max_examples=150)

RULES = MergeRules.declared(
    [
        ((), {"l": "name", "m.*.ports": "name", "l.[].sub": "id"}, "test"),
    ]
)


def merged(*layers: Mapping[str, Any], rules: MergeRules = RULES) -> dict[str, Any]:
    return dict(
        merge_layers([Layer(f"layer {i}", v) for i, v in enumerate(layers)], rules=rules).values
    )


# --- rules and paths ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "key"),
    [
        (("l",), "name"),
        (("m", "gw", "ports"), "name"),
        (("m", "other", "ports"), "name"),
        (("l", "[name=a]", "sub"), "id"),
        (("m", "[name=x]", "ports"), None),  # * matches map keys only
        (("l", "0", "sub"), None),  # [] matches item segments only
        (("m", "gw", "ports", "x"), None),
        (("l2",), None),
    ],
)
def test_rule_for(path: tuple[str, ...], key: str | None) -> None:
    rule = RULES.rule_for(path)
    assert (rule.key if rule else None) == key
    assert RULES.rule_for(path) is rule  # memoised


def test_describe() -> None:
    assert RULES.describe(("m", "gw", "ports")) == "merged by key name (rule m.*.ports of test)"
    assert RULES.describe(("x",)) == "replaced (Helm's rule for lists)"


@pytest.mark.parametrize(
    ("key", "path"),
    [
        ("a.b", ("a", "b")),
        ("a.l[name=x].p", ("a", "l", "[name=x]", "p")),
        ("a.l[name=x.y.z]", ("a", "l", "[name=x.y.z]")),
        ("a.l[name=1][id=2].c", ("a", "l", "[name=1]", "[id=2]", "c")),
        ("a[b", ("a[b",)),  # not an item segment: a literal key
    ],
)
def test_split_key_and_dotted(key: str, path: tuple[str, ...]) -> None:
    assert split_key(key) == path
    assert dotted(path) == key


@pytest.mark.parametrize("key", ["[name=x]", ".l[name=x]", "l[name=x]..a", ""])
def test_split_key_rejects(key: str) -> None:
    with pytest.raises(ValuesError):
        split_key(key)


def test_item_segments() -> None:
    assert item_segment("name", "http2") == "[name=http2]"
    assert item_segment("port", 80) == "[port=80]"
    assert parse_item_segment("[name=a=b]") == ("name", "a=b")
    assert parse_item_segment("name") is None


# --- keyed merges: fixed cases ---------------------------------------------------------------------

BASE = {"l": [{"name": "a", "v": 1, "w": 1}, {"name": "b", "v": 2}]}


@pytest.mark.parametrize(
    ("overlay", "expected"),
    [
        pytest.param(
            {"l": [{"name": "b", "v": 20}]},
            [{"name": "a", "v": 1, "w": 1}, {"name": "b", "v": 20}],
            id="same key merges",
        ),
        pytest.param(
            {"l": [{"name": "c", "v": 3}, {"name": "d"}]},
            [
                {"name": "a", "v": 1, "w": 1},
                {"name": "b", "v": 2},
                {"name": "c", "v": 3},
                {"name": "d"},
            ],
            id="new keys appended in overlay order",
        ),
        pytest.param(
            {"l": [{"name": "a", "w": None}]},
            [{"name": "a", "v": 1}, {"name": "b", "v": 2}],
            id="null deletes a field of an item",
        ),
        pytest.param(
            {"l": [{"name": "a", "$patch": "delete"}]},
            [{"name": "b", "v": 2}],
            id="patch delete removes the item",
        ),
        pytest.param(
            {"l": [{"name": "zz", "$patch": "delete"}]},
            BASE["l"],
            id="deleting an absent item changes nothing",
        ),
        pytest.param({"l": []}, BASE["l"], id="empty list changes nothing"),
        pytest.param(
            {"l": [{"$patch": "replace"}, {"name": "z", "v": 9}]},
            [{"name": "z", "v": 9}],
            id="patch replace replaces",
        ),
        pytest.param({"l": [{"$patch": "replace"}]}, [], id="patch replace alone empties"),
        pytest.param(
            {"l": [{"name": "c", "x": None, "m": {"k": None, "j": 1}}]},
            [*BASE["l"], {"name": "c", "m": {"j": 1}}],
            id="nulls in a new item are dropped",
        ),
        pytest.param(
            {"l": [{"name": "a", "sub": [{"id": 1, "q": 1}]}]},
            [{"name": "a", "v": 1, "w": 1, "sub": [{"id": 1, "q": 1}]}, {"name": "b", "v": 2}],
            id="nested keyed list in a new field",
        ),
    ],
)
def test_keyed_merge(overlay: dict[str, Any], expected: list[Any]) -> None:
    assert merged(BASE, overlay)["l"] == expected


def test_nested_keyed_lists_merge_by_their_own_key() -> None:
    base = {"l": [{"name": "a", "sub": [{"id": 1, "q": 1}, {"id": 2, "q": 2}]}]}
    overlay = {"l": [{"name": "a", "sub": [{"id": 2, "q": 20}, {"id": 3}]}]}
    assert merged(base, overlay)["l"] == [
        {"name": "a", "sub": [{"id": 1, "q": 1}, {"id": 2, "q": 20}, {"id": 3}]}
    ]


def test_wildcard_paths_and_other_lists() -> None:
    base = {"m": {"gw": {"ports": [{"name": "p", "port": 1}], "other": [1, 2]}}}
    overlay = {"m": {"gw": {"ports": [{"name": "q", "port": 2}], "other": [3]}}}
    assert merged(base, overlay) == {
        "m": {"gw": {"ports": [{"name": "p", "port": 1}, {"name": "q", "port": 2}], "other": [3]}}
    }


def test_without_rules_lists_replace_helm_rule() -> None:
    assert merged(BASE, {"l": [{"name": "b"}]}, rules=NO_RULES)["l"] == [{"name": "b"}]


def test_a_list_over_a_scalar_or_absent_is_cleaned_by_the_rule() -> None:
    assert merged(
        {"l": 5}, {"l": [{"name": "a", "$patch": "delete"}, {"name": "b", "x": None}]}
    ) == {"l": [{"name": "b"}]}
    assert merged({}, {"l": [{"name": "b", "v": 1}, {"name": "c", "$patch": "delete"}]}) == {
        "l": [{"name": "b", "v": 1}]
    }


def test_unkeyed_layers_replace_keyed_lists() -> None:
    """--set indexes lists against the values so far: its lists replace, by index."""
    resolved = merge_layers(
        [Layer("base", BASE), Layer("--set", {"l": [{"name": "renamed"}]}, keyed=False)],
        rules=RULES,
    )
    assert resolved.values["l"] == [{"name": "renamed"}]


@pytest.mark.parametrize(
    ("overlay", "problem"),
    [
        (
            {"l": [{"name": "a"}, "x"]},
            "l[1]: is a string, not a map: items of this list merge by key name (rule l of test)",
        ),
        (
            {"l": [{"v": 1}]},
            "l[0]: has no name (a string or an integer): items of this list merge by key name "
            "(rule l of test)",
        ),
        (
            {"l": [{"name": "a"}, {"name": "a"}]},
            "l[1]: repeats name 'a': items of this list merge by key name (rule l of test)",
        ),
        (
            {"l": [{"name": "a", "$patch": "merge"}]},
            "l[0]: $patch: 'merge' is not a directive (use $patch: delete with the item's name, "
            "or an item {$patch: replace} alone)",
        ),
        (
            {"other": [{"$patch": "delete"}]},
            "other[0]: $patch works only in lists that merge by key; this list replaces "
            "(Helm's rule for lists)",
        ),
    ],
)
def test_malformed_keyed_lists_name_the_file_and_line(
    overlay: dict[str, Any], problem: str
) -> None:
    first = next(iter(overlay))
    lines = {(first,): 3, (first, "0"): 4, (first, "1"): 6}
    layer = Layer("env x", overlay, "envs/x.yaml", lines)
    with pytest.raises(ValuesError) as caught:
        merge_layers([Layer("base", BASE), layer], rules=RULES)
    line = 6 if "[1]" in problem else 4
    assert str(caught.value) == f"envs/x.yaml:{line}: {problem}"


# --- provenance per item ---------------------------------------------------------------------------


def test_provenance_names_items_by_key_with_lines() -> None:
    env = Layer(
        "env prod",
        {"l": [{"name": "b", "v": 20}, {"name": "a", "$patch": "delete"}]},
        "prod.yaml",
        {("l",): 2, ("l", "0"): 3, ("l", "0", "name"): 3, ("l", "0", "v"): 4, ("l", "1"): 5},
    )
    resolved = merge_layers([Layer("chart defaults", BASE), env], rules=RULES)
    explained = {
        dotted(path): [(a.layer.name, a.value, a.where) for a in chain]
        for path, chain in resolved.explain("l")
    }
    assert explained["l[name=b].v"] == [("chart defaults", 2, ""), ("env prod", 20, "prod.yaml:4")]
    assert explained["l[name=a]"] == [("env prod", DELETED, "prod.yaml:5")]
    assert explained["l[name=a].v"] == [
        ("chart defaults", 1, ""),
        ("env prod", DELETED, "prod.yaml:5"),
    ]
    # Schema errors name items by index: origin translates to the item's key.
    origin = resolved.origin(("l", "0", "v"))
    assert origin is not None and origin.path == ("l", "[name=b]", "v") and origin.value == 20
    assert resolved.canonical(("l", "0")) == ("l", "[name=b]")
    assert resolved.origin(("l", "1")) is None


def test_explain_text_shows_the_rule_of_each_list() -> None:
    profiles = load_profiles()
    resolution = resolve(profiles, "default", sets=[SetArg("pilot.tolerations[0].key=k")])
    text = format_explain(resolution.values, "gateways.istio-ingressgateway.ports[name=http2].port")
    assert text == (
        "gateways.istio-ingressgateway.ports[name=http2].port\n"
        "  list gateways.istio-ingressgateway.ports: merged by key name "
        "(rule gateways.*.ports of component gateways)\n"
        "  1. chart defaults (meshcharts catalog): 80  <- wins\n"
    )
    text = format_explain(resolution.values, "pilot.tolerations")
    assert text.splitlines() == [
        "pilot.tolerations",
        "  list pilot.tolerations: replaced (Helm's rule for lists)",
        "  1. chart defaults (meshcharts catalog): []",
        '  2. --set (command line): [{"key": "k"}]  <- wins',
    ]


def test_set_records_only_what_it_sets() -> None:
    resolution = resolve(load_profiles(), "minimal", sets=[SetArg("pilot.sidecar=true")])
    origin = resolution.values.origin(("pilot", "image"))
    assert origin is not None and origin.layer.name == "chart defaults"
    origin = resolution.values.origin(("pilot", "sidecar"))
    assert origin is not None and origin.layer.name == "--set"


# --- the catalog's declarations ------------------------------------------------------------------

EXPECTED_RULES = {
    "istio": {
        ("mesh", "namespaces"): "chart istio",
        ("gateways", "*", "ports"): "component gateways",
        ("gateways", "*", "meshExpansionPorts"): "component gateways",
        ("gateways", "*", "secretVolumes"): "component gateways",
        ("gateways", "*", "gatewayResources"): "component gateways",
        ("mixer", "policy", "rateLimits"): "component mixer",
        ("trafficPolicies",): "component trafficPolicies",
        ("security", "jwt"): "component security",
        ("security", "rbac", "roles"): "component security",
        ("security", "rbac", "bindings"): "component security",
        ("grafana", "datasources"): "component grafana",
        ("grafana", "dashboardProviders"): "component grafana",
    },
    "istio-init": {},
}


@pytest.mark.parametrize("chart", sorted(EXPECTED_RULES))
def test_catalog_declares_its_keyed_lists(chart: str) -> None:
    definition = builtin_catalog().charts[chart]
    rules = definition.merge_rules(definition.components)
    assert {r.pattern: r.owner for r in rules.rules} == EXPECTED_RULES[chart]
    assert all(r.key == "name" for r in rules.rules)


def _matching(values: Any, pattern: tuple[str, ...], path: tuple[str, ...] = ()) -> list[Any]:
    if not pattern:
        return [(path, values)]
    head, rest = pattern[0], pattern[1:]
    if not isinstance(values, Mapping):
        return []
    keys = list(values) if head == "*" else [head] if head in values else []
    return [m for k in keys for m in _matching(values[k], rest, (*path, k))]


def _schema_node(schema: Mapping[str, Any], path: tuple[str, ...]) -> Mapping[str, Any] | None:
    node: Any = schema
    for part in path:
        props = node.get("properties", {})
        node = props.get(part, node.get("additionalProperties"))
        if not isinstance(node, Mapping):
            return None
    found: Mapping[str, Any] = node
    return found


def test_every_keyed_list_holds_named_items_in_defaults_and_schema() -> None:
    from meshcharts.chart.valuesfile import chart_schema

    definition = builtin_catalog().charts["istio"]
    components = definition.components
    defaults = definition.defaults(components)
    schema = chart_schema("istio", components)
    rules = definition.merge_rules(components).rules
    assert rules, "istio declares no keyed lists"
    for rule in rules:
        found = _matching(defaults, rule.pattern)
        assert found, rule
        for path, value in found:
            if path[:1] == ("gateways",) and path[1] in ("enabled", "egress"):
                continue
            assert isinstance(value, list), (rule, path)
            assert all(isinstance(i, dict) and rule.key in i for i in value), (rule, path)
            node = _schema_node(schema, path)
            assert node is not None and node.get("type") == "array", (rule, path)
            items = node.get("items", {})
            assert rule.key in items.get("required", []), (rule, path)


# --- properties ------------------------------------------------------------------------------------

NAMES = st.sampled_from(["a", "b", "c", "d"])
FIELD_VALUES = st.one_of(st.integers(0, 3), st.sampled_from(["x", "y"]), st.none())
FIELDS = st.dictionaries(st.sampled_from(["p", "q", "r"]), FIELD_VALUES, max_size=3)


@st.composite
def keyed_lists(draw: st.DrawFn, directives: bool = True) -> list[dict[str, Any]]:
    names = draw(st.lists(NAMES, unique=True, max_size=4))
    items: list[dict[str, Any]] = []
    for name in names:
        if directives and draw(st.booleans()) and draw(st.booleans()):
            items.append({"name": name, "$patch": "delete"})
        else:
            items.append({"name": name, **draw(FIELDS)})
    if directives and draw(st.integers(0, 9)) == 0:
        items.insert(draw(st.integers(0, len(items))), {"$patch": "replace"})
    return items


def model(base: list[dict[str, Any]], overlay: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Keyed merge computed independently: an ordered dict of items by key."""
    if any(item == {"$patch": "replace"} for item in overlay):
        by_key: dict[Any, dict[str, Any]] = {}
    else:
        by_key = {item["name"]: dict(item) for item in base}
    for item in overlay:
        if item == {"$patch": "replace"}:
            continue
        name = item["name"]
        if item.get("$patch") == "delete":
            by_key.pop(name, None)
        elif name in by_key:
            for field, value in item.items():
                if value is None:
                    by_key[name].pop(field, None)
                else:
                    by_key[name][field] = value
        else:
            by_key[name] = {k: v for k, v in item.items() if v is not None}
    return list(by_key.values())


def clean(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return model([], items)


@PROPERTY
@given(keyed_lists(directives=False), keyed_lists())
def test_keyed_merge_equals_the_model(
    base: list[dict[str, Any]], overlay: list[dict[str, Any]]
) -> None:
    assert merged({"l": base}, {"l": overlay})["l"] == model(clean(base), overlay)


@PROPERTY
@given(keyed_lists(), st.lists(keyed_lists(), min_size=1, max_size=3))
def test_keyed_merge_is_idempotent_and_pure(
    base: list[dict[str, Any]], overlays: list[list[dict[str, Any]]]
) -> None:
    layers = [{"l": base}, *({"l": o} for o in overlays)]
    before = copy.deepcopy(layers)
    once = merged(*layers)
    assert merged(*layers, layers[-1]) == once  # applying the last layer again changes nothing
    assert layers == before  # inputs untouched
    # The result shares nothing with the layers.
    for item in once["l"]:
        item["zz"] = 1
    assert layers == before


@PROPERTY
@given(keyed_lists(directives=False), keyed_lists())
def test_every_item_field_is_explained_by_its_last_setter(
    base: list[dict[str, Any]], overlay: list[dict[str, Any]]
) -> None:
    resolved = merge_layers([Layer("base", {"l": base}), Layer("env", {"l": overlay})], rules=RULES)
    for item in resolved.values["l"]:
        for field, value in item.items():
            path = ("l", item_segment("name", item["name"]), field)
            origin = resolved.origin(path)
            assert origin is not None and origin.value == value and origin.path == path
            setter = "base"
            if any(o.get("name") == item["name"] and o.get(field) is not None for o in overlay):
                setter = "env"
            assert origin.layer.name == setter
