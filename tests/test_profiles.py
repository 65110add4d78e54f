from __future__ import annotations

from pathlib import Path

import pytest
from helpers import profile_source, write_profiles

from meshcharts import ProfileError, load_profiles, resolve
from meshcharts.errors import InvalidNameError


def test_builtins_have_descriptions_and_build_istio() -> None:
    profiles = load_profiles()
    assert {"default", "minimal"} <= set(profiles.names())
    assert profiles.builtin, "no built-in profiles"
    for name in profiles.builtin:
        profile = profiles.get(name)
        assert profile.description
        # every built-in profile builds a control plane, except edge: the gateways chart alone
        expected = {"gateways"} if name == "edge" else {"istio-init", "istio"}
        assert set(profiles.charts(name)) == expected, name


def test_minimal_extends_default_and_compiles_only_pilot_and_traffic() -> None:
    profiles = load_profiles()
    assert [p.name for p in profiles.chain("minimal")] == ["default", "minimal"]
    resolution = resolve(profiles, "minimal")
    assert [c.name for c in resolution.charts["istio"]] == ["pilot", "trafficPolicies"]
    assert "security" not in resolution.values.values
    assert resolution.values.values["pilot"]["sidecar"] is False


def test_user_profile_dir_adds_profiles_and_keeps_builtins(tmp_path: Path) -> None:
    folder = write_profiles(
        tmp_path / "mine",
        {
            "pilot3": profile_source(
                "pilot3", extends="default", body="values={'pilot': {'replicaCount': 3}}"
            )
        },
    )
    profiles = load_profiles([folder])
    assert {"default", "minimal", "pilot3"} <= set(profiles.names())
    resolution = resolve(profiles, "pilot3")
    assert resolution.values.values["pilot"]["replicaCount"] == 3
    assert resolution.values.origin(("pilot", "replicaCount")).layer.name == "profile pilot3"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("files", "name", "message"),
    [
        (
            {"a": profile_source("a", extends="b"), "b": profile_source("b", extends="a")},
            "a",
            "extends cycle: a -> b -> a",
        ),
        ({"a": profile_source("a", extends="a")}, "a", "extends cycle: a -> a"),
        ({"a": profile_source("a", extends="nope")}, "a", "extends unknown profile 'nope'"),
        (
            {"a": profile_source("a")},
            "zzz",
            f"unknown (known: {', '.join(sorted(['a', *load_profiles().names()]))})",
        ),
    ],
    ids=["cycle", "self-cycle", "unknown-parent", "unknown-profile"],
)
def test_resolution_errors(tmp_path: Path, files: dict[str, str], name: str, message: str) -> None:
    profiles = load_profiles([write_profiles(tmp_path / "p", files)])
    with pytest.raises(ProfileError, match=message.replace("(", r"\(").replace(")", r"\)")):
        profiles.chain(name)


@pytest.mark.parametrize(
    ("stem", "source", "message"),
    [
        ("broken", "raise RuntimeError('boom')\n", "failed to load: RuntimeError: boom"),
        ("empty", "X = 1\n", "must define PROFILE"),
        ("other", profile_source("different"), "defines profile 'different'; name it 'other'"),
        ("default", profile_source("default"), "already defined in"),
        ("syntax", "def (:\n", "failed to load: SyntaxError"),
    ],
)
def test_bad_profile_files(tmp_path: Path, stem: str, source: str, message: str) -> None:
    folder = write_profiles(tmp_path / "p", {stem: source})
    with pytest.raises(ProfileError, match=message):
        load_profiles([folder])


def test_profile_name_must_be_dns_label(tmp_path: Path) -> None:
    folder = write_profiles(tmp_path / "p", {"Bad_Name": profile_source("Bad_Name")})
    with pytest.raises(InvalidNameError, match="DNS-1123"):
        load_profiles([folder])


def test_unknown_component_is_a_profile_error(tmp_path: Path) -> None:
    folder = write_profiles(
        tmp_path / "p",
        {"x": profile_source("x", extends="default", body="charts={'istio': ('pilot', 'nope')}")},
    )
    with pytest.raises(ProfileError, match="unknown component 'nope' for chart istio"):
        resolve(load_profiles([folder]), "x")


def test_value_for_a_component_not_compiled_in_is_rejected(tmp_path: Path) -> None:
    folder = write_profiles(
        tmp_path / "p",
        {
            "x": profile_source(
                "x", extends="minimal", body="values={'security': {'enabled': True}}"
            )
        },
    )
    with pytest.raises(
        Exception,
        match="value 'security' \\(set by profile x\\): component security \\(chart istio\\) is not compiled into profile 'x'",
    ):
        resolve(load_profiles([folder]), "x")
