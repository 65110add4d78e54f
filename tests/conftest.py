"""Shared pytest fixtures: real Helm binaries and a clean MESHCHARTS_* environment."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from tools import HELM3, HELM4, helm_binaries

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
