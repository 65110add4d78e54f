"""docs/api.md, the library's API reference, is generated from the docstrings and current."""

from __future__ import annotations

import importlib.util
import subprocess
import sys

from tools import REPO_ROOT

import meshcharts

SCRIPT = REPO_ROOT / "scripts" / "api_reference.py"


def _script() -> object:
    spec = importlib.util.spec_from_file_location("api_reference", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_api_page_is_current() -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--check"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr


def test_every_public_name_is_documented_on_the_page() -> None:
    script = _script()
    listed = {path.rsplit(".", 1)[-1] for _, _, paths in script.SECTIONS for path in paths}  # type: ignore[attr-defined]
    assert meshcharts.__all__
    assert set(meshcharts.__all__) <= listed, set(meshcharts.__all__) - listed
    page = (REPO_ROOT / "docs" / "api.md").read_text()
    for name in meshcharts.__all__:
        assert f"`{name}" in page, name


def test_every_entry_has_a_docstring() -> None:
    script = _script()
    for _, _, paths in script.SECTIONS:  # type: ignore[attr-defined]
        assert paths
        for path in paths:
            assert (script.find(path).__doc__ or "").strip(), f"{path} has no docstring"  # type: ignore[attr-defined]
