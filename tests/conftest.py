"""Shared pytest fixtures: real Helm binaries and a clean MESHCHARTS_* environment."""

from __future__ import annotations

import inspect
import os
import sys
import types
from collections.abc import Iterator
from pathlib import Path

import pytest
import tools
from tools import HELM3, HELM4, helm_binaries

# Fixtures and names through which a test reaches a real Helm binary: such a test gets the
# ``helm`` marker, so ``pytest -m "not helm"`` is the quick loop.
HELM_FIXTURES = frozenset({"helm", "helms", "helm_version", "oci_registry"})
HELM_NAMES = frozenset(
    {"helm_binaries", "run_helm", "render_tree", "assert_lint_strict", "HelmOracle", "find_helm"}
)


def _names(code: types.CodeType) -> Iterator[str]:
    yield from code.co_names
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _names(const)


def _helm_functions(module: types.ModuleType) -> set[str]:
    """The module's functions that reach Helm, directly or through each other."""
    functions = {name: inspect.unwrap(value) for name, value in vars(module).items()}
    calls = {
        name: set(_names(value.__code__))
        for name, value in functions.items()
        if inspect.isfunction(value) and value.__module__ == module.__name__
    }
    found = {name for name, names in calls.items() if names & HELM_NAMES}
    # Helpers imported from another test module reach Helm if they do there.
    for name, value in functions.items():
        other = sys.modules.get(getattr(value, "__module__", "") or "")
        if (
            inspect.isfunction(value)
            and other is not None
            and other is not module
            and other.__name__.startswith("test_")
            and value.__name__ in _helm_functions(other)
        ):
            found.add(name)
    while True:
        more = {name for name, names in calls.items() if names & found} - found
        if not more:
            return found
        found |= more


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark the tests that run real Helm (by fixture, or by a call that reaches it)."""
    cache: dict[str, set[str]] = {}
    for item in items:
        function = getattr(item, "function", None)
        module = getattr(item, "module", None)
        if function is None or module is None:
            continue
        if module.__name__ not in cache:
            cache[module.__name__] = _helm_functions(module) | HELM_NAMES
        reaches = set(_names(inspect.unwrap(function).__code__)) & cache[module.__name__]
        if reaches or HELM_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.helm)
    if config.getoption("markexpr", "") == "not helm":
        tools.HELM_FORBIDDEN.append("not helm")


# Environment variables tests may inherit; every other MESHCHARTS_* variable is removed.
_KEPT_ENV = frozenset({"MESHCHARTS_HELM3", "MESHCHARTS_HELM4", "MESHCHARTS_CACHE"})


@pytest.fixture(scope="session")
def helms() -> dict[str, Path]:
    """Helm binaries keyed by version ("3.17.2", "4.1.4"), provisioned once per session."""
    return helm_binaries()


@pytest.fixture(params=[HELM3, HELM4], ids=["helm3", "helm4"])
def helm_version(request: pytest.FixtureRequest) -> str:
    """The Helm version the current test instance runs with."""
    version: str = request.param
    return version


@pytest.fixture
def helm(helms: dict[str, Path], helm_version: str) -> Path:
    """Path of the Helm binary; tests using it run once per version (ids helm3/helm4)."""
    return helms[helm_version]


@pytest.fixture(autouse=True)
def _clean_meshcharts_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Drop MESHCHARTS_* variables (except Helm paths and the cache) for each test."""
    for name in list(os.environ):
        if name.startswith("MESHCHARTS_") and name not in _KEPT_ENV:
            monkeypatch.delenv(name)
