from __future__ import annotations

import functools
from typing import Any

import pytest
from typer.testing import CliRunner

from meshcharts import ChartTree, SetArg, load_profiles, resolve
from meshcharts.chart.profile import assemble_profile, revision_trees
from meshcharts.checks.coexist import (
    Installed,
    coexistence_collisions,
    find_collisions,
    selectors_overlap,
)
from meshcharts.cli import app

STABLE = {"matchLabels": {"istio-injection": "enabled"}}
CANARY = {
    "matchLabels": {"istio.io/rev": "canary"},
    "matchExpressions": [{"key": "istio-injection", "operator": "DoesNotExist"}],
}
BY_DEFAULT = {
    "matchExpressions": [{"key": "istio-injection", "operator": "NotIn", "values": ["disabled"]}]
}


@pytest.mark.parametrize(
    ("first", "second", "overlap"),
    [
        (STABLE, CANARY, False),
        (CANARY, CANARY, True),
        (STABLE, STABLE, True),
        (BY_DEFAULT, CANARY, True),
        (BY_DEFAULT, STABLE, True),
        (STABLE, {"matchLabels": {"istio-injection": "disabled"}}, False),
        ({"matchLabels": {"istio.io/rev": "a"}}, {"matchLabels": {"istio.io/rev": "b"}}, False),
        (
            {"matchExpressions": [{"key": "x", "operator": "In", "values": ["1", "2"]}]},
            {"matchExpressions": [{"key": "x", "operator": "NotIn", "values": ["1"]}]},
            True,
        ),
        (
            {"matchExpressions": [{"key": "x", "operator": "In", "values": ["1"]}]},
            {"matchExpressions": [{"key": "x", "operator": "NotIn", "values": ["1"]}]},
            False,
        ),
        (
            {"matchExpressions": [{"key": "x", "operator": "Exists"}]},
            {"matchExpressions": [{"key": "x", "operator": "DoesNotExist"}]},
            False,
        ),
        ({}, STABLE, True),
    ],
)
def test_selectors_overlap(first: dict[str, Any], second: dict[str, Any], overlap: bool) -> None:
    assert selectors_overlap(first, second) is overlap
    assert selectors_overlap(second, first) is overlap


def _obj(kind: str, name: str, **extra: Any) -> dict[str, Any]:
    return {"kind": kind, "metadata": {"name": name}, **extra}


def test_fixed_name_cluster_role_collides_but_namespaced_objects_do_not() -> None:
    stable = Installed(
        "stable", "istio-system", [_obj("ClusterRole", "kiali"), _obj("Service", "kiali")]
    )
    canary = Installed(
        "canary", "istio-system-canary", [_obj("ClusterRole", "kiali"), _obj("Service", "kiali")]
    )
    assert [c.detail for c in find_collisions(stable, canary)] == ["both define ClusterRole/kiali"]


def test_singletons_with_different_names_still_collide() -> None:
    hook = {
        "webhooks": [
            {"name": "pilot.validation.istio.io", "rules": [{"apiGroups": ["networking.istio.io"]}]}
        ]
    }
    stable = Installed(
        "stable", "a", [_obj("ValidatingWebhookConfiguration", "istio-galley", **hook)]
    )
    canary = Installed(
        "canary", "b", [_obj("ValidatingWebhookConfiguration", "istio-galley-canary", **hook)]
    )
    (collision,) = find_collisions(stable, canary)
    assert (collision.kind, collision.detail) == (
        "singleton",
        "the validating webhook for Istio config is defined by both control planes",
    )


@functools.cache
def _trees(profile: str, *sets: str) -> tuple[ChartTree, ChartTree]:
    profiles = load_profiles()
    set_args = [SetArg(s) for s in sets]
    (stable,) = [
        t
        for t in assemble_profile(resolve(profiles, profile, sets=set_args), version="1.0.6")
        if t.name == "istio"
    ]
    (canary,) = revision_trees(profiles, profile, "canary", version="1.0.6", sets=set_args)
    return stable, canary


CONTROL_PLANES = sorted(p for p in load_profiles().builtin if "istio" in load_profiles().charts(p))


@pytest.mark.parametrize("profile", CONTROL_PLANES)
def test_builtin_profiles_coexist_with_their_canary(profile: str) -> None:
    stable, canary = _trees(profile)
    assert (
        coexistence_collisions(
            stable, canary, revision="canary", namespaces=("istio-system", "istio-system-canary")
        )
        == []
    )


def test_a_revision_equal_to_stable_collides_everywhere() -> None:
    stable, _ = _trees("default")
    collisions = coexistence_collisions(
        stable, stable, revision="", namespaces=("istio-system", "istio-system-canary")
    )
    kinds = {c.kind for c in collisions}
    assert kinds == {"object", "injector", "singleton"}
    details = [c.detail for c in collisions]
    assert "both define MutatingWebhookConfiguration/istio-sidecar-injector" in details
    assert "both define MeshPolicy/default" in details


@pytest.mark.parametrize(
    ("sets", "expected"),
    [
        (
            ["sidecarInjectorWebhook.enableNamespacesByDefault=true"],
            "injector: a namespace can be selected by both injectors",
        ),
        (
            ["singletonOwner=true"],
            "singleton: the mesh-wide MeshPolicy is defined by both control planes",
        ),
    ],
)
def test_check_coexist_cli_lists_each_conflict(sets: list[str], expected: str) -> None:
    args = ["check-coexist", "--profile", "default"] + [a for s in sets for a in ("--set", s)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    assert expected in result.stderr
    assert (
        result.stderr.strip()
        .splitlines()[-1]
        .startswith("error: revision 'canary' of profile 'default': ")
    )


def test_check_coexist_cli_passes_and_rejects_bad_revision() -> None:
    runner = CliRunner()
    ok = runner.invoke(app, ["check-coexist", "--profile", "demo", "--revision", "next"])
    assert ok.exit_code == 0, ok.output
    assert "revision next in istio-system-next can run beside istio-system" in ok.stdout
    bad = runner.invoke(app, ["check-coexist", "--profile", "demo", "--revision", "Next_1"])
    assert bad.exit_code == 2
    assert "revision 'Next_1': not a DNS-1123 label" in bad.stderr
    none = runner.invoke(app, ["check-coexist", "--profile", "minimal"])
    assert none.exit_code == 0
