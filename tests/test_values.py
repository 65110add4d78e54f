"""Values layering (:func:`merge_layers`) against real Helm and against reference models.

Helm oracle: layer 0 is the probe chart's values.yaml and layers 1.. are ``-f`` files; the
``.Values`` both Helms render are compared, types included, with ``merge_layers``.

Helm's own rule is *not* "merge each layer in turn": it first merges all ``-f`` files
(``mergeMaps``: maps merge, anything else replaces, a null is stored as null), then coalesces
that over the chart values (a null deletes the chart's key and is otherwise kept). The model
``helm_model`` below writes this down; it is checked against both Helms on fixed and on
seeded random stacks, and the hypothesis properties then compare ``merge_layers`` with it
on the inputs where the two rules must agree. Where meshcharts' documented sequential rule
gives another result than Helm, explicit cases assert both results.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from oracles import HelmOracle, Probe, as_json_text, param_arg, typed

from meshcharts.errors import ValuesError
from meshcharts.values.keypaths import get_path, leaf_paths, split_key
from meshcharts.values.merge import merge_layers
from meshcharts.values.origins import DELETED, Assignment, Layer, ResolvedValues

# Properties run without an example database (nothing is written into the checkout) and
# without a deadline (the machine may be busy running Helm).
PROPERTY = settings(database=None, deadline=None)

Tree = dict[str, Any]

# --- reference models ------------------------------------------------------------------------


def drop_nulls(value: Any) -> Any:
    """Remove null map entries, recursively through maps (not lists)."""
    if isinstance(value, dict):
        return {k: drop_nulls(v) for k, v in value.items() if v is not None}
    return value


def sequential_model(layers: Sequence[Tree]) -> Tree:
    """meshcharts' documented rule: each layer over the result so far; maps merge, lists and
    scalars replace, a null deletes the key."""

    def merge(base: Tree, overlay: Mapping[str, Any]) -> Tree:
        out = dict(base)
        for key, value in overlay.items():
            if value is None:
                out.pop(key, None)
            elif isinstance(value, dict) and isinstance(out.get(key), dict):
                out[key] = merge(out[key], value)
            else:
                out[key] = drop_nulls(copy.deepcopy(value))
        return out

    result: Tree = {}
    for layer in layers:
        result = merge(result, layer)
    return result


def helm_user_merge(base: Tree, overlay: Mapping[str, Any]) -> Tree:
    """Helm's ``mergeMaps`` of ``-f`` files: maps merge, anything else (null too) replaces."""
    out = dict(base)
    for key, value in overlay.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = helm_user_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def helm_coalesce(user: Tree, chart: Mapping[str, Any]) -> Tree:
    """Helm's ``coalesceValues``/``CoalesceTables``: user values win; a user null deletes a
    key the chart has; keys only the chart has are copied; two maps coalesce recursively."""
    out = dict(user)
    for key, chart_value in chart.items():
        if key not in out:
            out[key] = copy.deepcopy(chart_value)
        elif out[key] is None:
            del out[key]
        elif isinstance(out[key], dict) and isinstance(chart_value, dict):
            out[key] = helm_coalesce(out[key], chart_value)
    return out


def helm_model(layers: Sequence[Tree]) -> Tree:
    """``.Values`` of ``helm template`` with values.yaml = layers[0] and ``-f`` layers[1:]."""
    user: Tree = {}
    for layer in layers[1:]:
        user = helm_user_merge(user, layer)
    return helm_coalesce(user, layers[0])


def merged(layers: Sequence[Tree]) -> Tree:
    resolved = merge_layers([Layer(f"layer {i}", layer) for i, layer in enumerate(layers)])
    return dict(resolved.values)


# --- Helm oracle: explicit stacks --------------------------------------------------------------


STACKS = [
    pytest.param([{"a": {"b": 1, "c": 2}}, {"a": {"c": 3, "d": 4}}], id="maps merge"),
    pytest.param([{"l": [1, 2, 3]}, {"l": [9]}], id="lists replace"),
    pytest.param([{"l": [{"a": 1}]}, {"l": [{"b": 2}]}], id="list of maps replaces"),
    pytest.param([{"a": 1, "b": 2}, {"a": None}], id="null deletes a default"),
    pytest.param([{"m": {"x": 1, "y": 2}}, {"m": {"x": None}}], id="null deletes nested"),
    pytest.param([{"m": {"x": 1}}, {"m": 5}], id="scalar replaces map"),
    pytest.param([{"m": 5}, {"m": {"x": 1}}], id="map replaces scalar"),
    pytest.param([{"m": [1]}, {"m": {"x": 1}}, {"m": {"y": 2}}], id="map replaces list"),
    pytest.param(
        [{"a": 1, "m": {"x": 1}}, {"m": {"y": 2}}, {"m": {"z": 3}, "a": 2}], id="three layers"
    ),
    pytest.param([{"m": {"x": 1}}, {"m": {}}], id="empty map merges"),
    pytest.param([{"l": [1]}, {"l": []}], id="empty list replaces"),
    pytest.param([{"a": 1}, {}], id="empty layer"),
    pytest.param([{}, {"a": {"b": [1, {"c": "d"}]}}], id="empty defaults"),
    pytest.param([{"a": "1", "b": True}, {"b": False, "c": "on"}], id="types kept"),
    pytest.param([{"a": {"b": 1}}, {"a": {"b": None}}, {"a": {"b": 2}}], id="null then set"),
    pytest.param([{"a": {"b": 1}}, {"a": {"b": None}}, {"a": {"c": 2}}], id="null then sibling"),
    pytest.param([{"l": [1]}, {"l": [None, {"x": None}]}], id="nulls inside lists kept"),
    pytest.param([{"a": {"b": {"c": {"d": 1}}}}, {"a": {"b": {"c": {"e": 2}}}}], id="deep"),
    pytest.param([{"a": 1}, {"a": "x"}, {"a": [1]}, {"a": False}], id="scalar chain"),
]

# The documented sequential rule against Helm's: (layers, meshcharts' result, Helm's result).
INTENTIONAL = [
    # A null always deletes; one with nothing to delete is dropped. Helm keeps it.
    pytest.param([{}, {"a": None}], {}, {"a": None}, id="null of absent key"),
    pytest.param(
        [{"a": 1}, {"a": {"b": None, "c": 1}}],
        {"a": {"c": 1}},
        {"a": {"b": None, "c": 1}},
        id="null below replaced scalar",
    ),
    # Each layer merges over the result so far; Helm merges all -f files first, so a
    # default that a middle layer deleted or replaced comes back under a later map.
    pytest.param(
        [{"a": {"x": 1}}, {"a": None}, {"a": {"w": 1}}],
        {"a": {"w": 1}},
        {"a": {"w": 1, "x": 1}},
        id="null then map",
    ),
    pytest.param(
        [{"a": {"b": 1}}, {"a": 5}, {"a": {"c": 1}}],
        {"a": {"c": 1}},
        {"a": {"b": 1, "c": 1}},
        id="map scalar map",
    ),
    pytest.param(
        [{"a": {"b": 1}}, {"a": 5}, {"a": {"c": None}}],
        {"a": {}},
        {"a": {"b": 1, "c": None}},
        id="map scalar map-with-null",
    ),
    # Nulls in the chart's own values are dropped too; Helm keeps them.
    pytest.param(
        [{"a": None, "m": {"x": None, "y": 1}}],
        {"m": {"y": 1}},
        {"a": None, "m": {"x": None, "y": 1}},
        id="nulls in chart values",
    ),
]


def random_tree(rng: random.Random, depth: int = 0) -> Tree:
    tree: Tree = {}
    for key in rng.sample("abc", rng.randint(0, 3)):
        roll = rng.random()
        if roll < 0.35 and depth < 2:
            tree[key] = random_tree(rng, depth + 1)
        elif roll < 0.5:
            tree[key] = [rng.choice([1, "x", None, {"k": 1}]) for _ in range(rng.randint(0, 2))]
        elif roll < 0.65:
            tree[key] = None
        else:
            tree[key] = rng.choice([0, 7, -1, "s", "", "on", True, False])
    return tree


RANDOM_STACKS = [
    pytest.param([random_tree(rng) for _ in range(rng.randint(2, 4))], id=f"seed {seed}")
    for seed in range(16)
    for rng in [random.Random(seed)]
]


def stack_probe(layers: Sequence[Tree]) -> Probe:
    return Probe(
        values=as_json_text(layers[0]), files=tuple(as_json_text(layer) for layer in layers[1:])
    )


@pytest.fixture(scope="module")
def oracle(helms: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> HelmOracle:
    oracle = HelmOracle(helms, tmp_path_factory.mktemp("values-oracle"))
    oracle.prefetch(stack_probe(param_arg(p)) for p in STACKS + INTENTIONAL + RANDOM_STACKS)
    return oracle


@pytest.mark.parametrize("layers", STACKS)
def test_merge_layers_equals_helm(
    oracle: HelmOracle, helm_version: str, layers: list[Tree]
) -> None:
    assert typed(merged(layers)) == typed(oracle.values(helm_version, stack_probe(layers)))


@pytest.mark.parametrize(("layers", "ours", "helm_result"), INTENTIONAL)
def test_sequential_rule_where_helm_differs(
    oracle: HelmOracle, helm_version: str, layers: list[Tree], ours: Tree, helm_result: Tree
) -> None:
    assert typed(merged(layers)) == typed(ours)
    assert typed(merged(layers)) == typed(sequential_model(layers))
    assert typed(oracle.values(helm_version, stack_probe(layers))) == typed(helm_result)


@pytest.mark.parametrize("layers", [param_arg(p) for p in STACKS + INTENTIONAL] + RANDOM_STACKS)
def test_helm_model_equals_helm(oracle: HelmOracle, helm_version: str, layers: list[Tree]) -> None:
    """The reference model used by the properties below is what real Helm does."""
    assert typed(helm_model(layers)) == typed(oracle.values(helm_version, stack_probe(layers)))


# --- properties ------------------------------------------------------------------------------

KEYS = st.sampled_from(["a", "b", "c"])
SCALARS = st.one_of(
    st.booleans(), st.integers(-3, 3), st.sampled_from(["x", "on", "", "1"]), st.just(1.5)
)


def values_trees(nulls: bool) -> st.SearchStrategy[Tree]:
    leaf = st.one_of(SCALARS, st.none()) if nulls else SCALARS
    node = st.recursive(
        leaf,
        lambda kids: st.lists(kids, max_size=2) | st.dictionaries(KEYS, kids, max_size=3),
        max_leaves=8,
    )
    return st.dictionaries(KEYS, node, max_size=3)


LAYERS = st.lists(values_trees(nulls=True), min_size=1, max_size=4)


def kind_stable_trees() -> st.SearchStrategy[Tree]:
    """Trees whose keys fix the kind: ``m``/``n`` always hold maps, ``s``/``t`` never do."""
    leaf = st.one_of(SCALARS, st.lists(SCALARS, max_size=2))
    return st.recursive(
        st.dictionaries(st.sampled_from(["s", "t"]), leaf, max_size=2),
        lambda kids: st.fixed_dictionaries(
            {}, optional={"m": kids, "n": kids, "s": leaf, "t": leaf}
        ),
        max_leaves=6,
    )


@PROPERTY
@given(LAYERS)
def test_merge_layers_follows_the_sequential_rule(layers: list[Tree]) -> None:
    assert typed(merged(layers)) == typed(sequential_model(layers))


@PROPERTY
@given(st.lists(kind_stable_trees(), min_size=1, max_size=4))
def test_equals_helm_model_when_null_free_and_kinds_stable(layers: list[Tree]) -> None:
    assert typed(merged(layers)) == typed(helm_model(layers))


@PROPERTY
@given(values_trees(nulls=False), values_trees(nulls=True))
def test_equals_helm_model_for_one_file_up_to_kept_nulls(chart: Tree, user: Tree) -> None:
    """With one ``-f`` file Helm differs only by keeping nulls that had nothing to delete."""
    assert typed(merged([chart, user])) == typed(drop_nulls(helm_model([chart, user])))


@PROPERTY
@given(LAYERS)
def test_inputs_are_never_modified(layers: list[Tree]) -> None:
    before = copy.deepcopy(layers)
    resolved = merge_layers([Layer(str(i), layer) for i, layer in enumerate(layers)])
    assert typed(layers) == typed(before)
    # The result shares nothing with the layers: changing it changes no layer.
    values: Any = resolved.values
    stack = [values]
    while stack:
        node = stack.pop()
        children = list(node.values()) if isinstance(node, dict) else node
        stack += [c for c in children if isinstance(c, dict | list)]
        if isinstance(node, dict):
            node["zz"] = "added"
        else:
            node.append("added")
    assert typed(layers) == typed(before)


# --- provenance ------------------------------------------------------------------------------

DEFAULTS = Layer("chart defaults", {"a": {"b": 1, "c": 2}, "l": [1, 2], "keep": "k"}, "catalog")
PROFILE = Layer("profile demo", {"a": {"b": 3}}, "demo.py", {("a", "b"): 7})
ENV = Layer("env", {"a": {"c": None}})
SETS = Layer("--set", {"a": {"b": 4}, "l": [9]}, "command line")
RESOLVED = merge_layers([DEFAULTS, PROFILE, ENV, SETS])


def chain_of(key: str) -> list[tuple[str, tuple[str, ...], Any]]:
    ((path, chain),) = RESOLVED.explain(key)
    assert path == split_key(key)
    return [(a.layer.name, a.path, a.value) for a in chain]


def test_merged_values() -> None:
    assert RESOLVED.values == {"a": {"b": 4}, "l": [9], "keep": "k"}


@pytest.mark.parametrize(
    ("key", "chain"),
    [
        (
            "a.b",
            [
                ("chart defaults", ("a", "b"), 1),
                ("profile demo", ("a", "b"), 3),
                ("--set", ("a", "b"), 4),
            ],
        ),
        ("a.c", [("chart defaults", ("a", "c"), 2), ("env", ("a", "c"), DELETED)]),
        ("l", [("chart defaults", ("l",), [1, 2]), ("--set", ("l",), [9])]),
        ("keep", [("chart defaults", ("keep",), "k")]),
    ],
)
def test_explain_chain(key: str, chain: list[tuple[str, tuple[str, ...], Any]]) -> None:
    assert chain_of(key) == chain


def test_explain_parent_lists_every_leaf_below() -> None:
    assert [path for path, _ in RESOLVED.explain("a")] == [("a", "b"), ("a", "c")]


def test_deletion_of_a_parent_is_in_every_child_chain() -> None:
    resolved = merge_layers([Layer("d", {"m": {"x": 1, "y": 2}}), Layer("off", {"m": None})])
    assert resolved.values == {}
    explained = {path: [(a.layer.name, a.value) for a in c] for path, c in resolved.explain("m")}
    assert explained == {
        ("m",): [("off", DELETED)],
        ("m", "x"): [("d", 1), ("off", DELETED)],
        ("m", "y"): [("d", 2), ("off", DELETED)],
    }


def test_where_names_file_and_line() -> None:
    winner = chain_of_assignments("a.b")
    assert [a.where for a in winner] == ["catalog", "demo.py:7", "command line"]


def chain_of_assignments(key: str) -> list[Assignment]:
    ((_, chain),) = RESOLVED.explain(key)
    return chain


def test_empty_map_overlay_is_not_the_winner() -> None:
    resolved = merge_layers([Layer("defaults", {"a": {"b": 1}}), Layer("profile", {"a": {}})])
    assert resolved.values == {"a": {"b": 1}}
    origin = resolved.origin(("a", "b"))
    assert origin is not None
    assert (origin.layer.name, origin.value) == ("defaults", 1)
    # The empty map is an assignment of `a` itself, and of nothing below it.
    explained = {p: [(a.layer.name, a.value) for a in c] for p, c in resolved.explain("a")}
    assert explained == {("a",): [("profile", {})], ("a", "b"): [("defaults", 1)]}
    origin = resolved.origin(("a",))
    assert origin is not None and origin.layer.name == "profile"


def test_empty_map_replacing_a_scalar_wins() -> None:
    resolved = merge_layers(
        [Layer("defaults", {"a": 5}), Layer("p", {"a": {}}), Layer("q", {"a": {"b": 1}})]
    )
    assert resolved.values == {"a": {"b": 1}}
    assert [(a.layer.name, a.value) for a in chain_in(resolved, "a.b")] == [
        ("defaults", 5),
        ("q", 1),
    ]
    without_q = merge_layers([Layer("defaults", {"a": 5}), Layer("p", {"a": {}})])
    origin = without_q.origin(("a",))
    assert origin is not None and (origin.layer.name, origin.value) == ("p", {})


def chain_in(resolved: ResolvedValues, key: str) -> list[Assignment]:
    return dict(resolved.explain(key))[split_key(key)]


def test_no_origin_for_a_key_that_no_longer_exists() -> None:
    resolved = merge_layers(
        [Layer("defaults", {"a": {"b": 1}}), Layer("p", {"a": 5}), Layer("q", {"a": {"c": 1}})]
    )
    assert resolved.values == {"a": {"c": 1}}
    assert resolved.origin(("a", "b")) is None
    # explain still tells how a.b went away: replaced by the scalar of layer p.
    assert [(a.layer.name, a.value) for a in chain_in(resolved, "a.b")] == [
        ("defaults", 1),
        ("p", 5),
    ]
    origin = resolved.origin(("a",))
    assert origin is not None and (origin.layer.name, origin.path) == ("q", ("a", "c"))


def test_no_origin_for_deleted_or_unknown_keys() -> None:
    assert RESOLVED.origin(("a", "c")) is None  # deleted by env
    assert RESOLVED.origin(("nope",)) is None
    assert RESOLVED.origin(("keep", "x")) is None  # below a scalar
    assert RESOLVED.origin(()) is None
    assert RESOLVED.origin(("l", "²")) is None  # not an index


@pytest.mark.parametrize(
    ("path", "layer"),
    [
        (("a",), "--set"),
        (("a", "b"), "--set"),
        (("keep",), "chart defaults"),
        (("l",), "--set"),
        (("l", "0"), "--set"),  # a list item, named by its index as schema errors name it
    ],
)
def test_origin_of_existing_values(path: tuple[str, ...], layer: str) -> None:
    origin = RESOLVED.origin(path)
    assert origin is not None and origin.layer.name == layer
    assert RESOLVED.origin(("l", "1")) is None  # the list has one item


@pytest.mark.parametrize("key", ["nope", "a.zz", "ke", "l2", "a.b2"])
def test_explain_unknown_key_raises(key: str) -> None:
    with pytest.raises(ValuesError) as caught:
        RESOLVED.explain(key)
    assert key in str(caught.value)


@pytest.mark.parametrize("key", [".a", "a.", "a..b", "."])
def test_explain_malformed_key_raises(key: str) -> None:
    with pytest.raises(ValuesError) as caught:
        RESOLVED.explain(key)
    assert str(caught.value) == f"{key}: not a dotted key path"


def test_explain_empty_key_raises() -> None:
    with pytest.raises(ValuesError) as caught:
        RESOLVED.explain("")
    assert caught.value.problem == "not a dotted key path"
    assert str(caught.value) == "'': not a dotted key path"
    with pytest.raises(ValuesError):
        split_key("")


@settings(max_examples=150, database=None, deadline=None)
@given(LAYERS)
def test_every_leaf_is_explained_by_its_last_setter(layers: list[Tree]) -> None:
    named = [Layer(f"layer {i}", layer) for i, layer in enumerate(layers)]
    resolved = merge_layers(named)
    order = {id(layer): i for i, layer in enumerate(named)}
    for leaf in leaf_paths(resolved.values):
        value = get_path(resolved.values, leaf)
        if value == {}:
            continue  # an emptied map may have no assignment of its own
        explained = dict(resolved.explain(".".join(leaf)))
        chain = explained[leaf]
        indexes = [order[id(a.layer)] for a in chain]
        assert indexes == sorted(indexes)
        winner = chain[-1]
        assert winner.value is not DELETED
        setters = [
            i
            for i, layer in enumerate(layers)
            for path, set_value in _overlay_paths(layer)
            if path == leaf or (path == leaf[: len(path)] and set_value != {})
        ]
        assert order[id(winner.layer)] == max(setters)
        assert resolved.origin(leaf) is winner
        if winner.path == leaf:
            assert typed(winner.value) == typed(value)


def _overlay_paths(tree: Mapping[str, Any], prefix: tuple[str, ...] = ()) -> list[Any]:
    out: list[Any] = []
    for key, value in tree.items():
        if isinstance(value, dict) and value:
            out += _overlay_paths(value, (*prefix, key))
        else:
            out.append(((*prefix, key), value))
    return out


@PROPERTY
@given(LAYERS)
def test_removed_keys_end_in_a_deletion_or_a_replaced_parent(layers: list[Tree]) -> None:
    resolved = merge_layers([Layer(f"layer {i}", layer) for i, layer in enumerate(layers)])
    for assignment in resolved.assignments:
        try:
            get_path(resolved.values, assignment.path)
        except KeyError:
            for leaf, chain in resolved.explain(".".join(assignment.path)):
                if leaf != assignment.path:
                    continue
                last = chain[-1]
                assert last.value is DELETED or len(last.path) < len(leaf)
            assert resolved.origin(assignment.path) is None
