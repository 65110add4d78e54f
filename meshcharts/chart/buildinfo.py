"""The build inputs every chart records in its Chart.yaml annotations.

They are inside the package and covered by its (reproducible) digest:

* ``meshcharts.io/generator-version`` — the meshcharts version that generated it;
* ``meshcharts.io/profile`` — the profile it was built from;
* ``meshcharts.io/values-digest`` — ``sha256:<hex>`` of the chart's resolved values as
  canonical JSON (:func:`values_digest`);
* ``meshcharts.io/source-commit`` — ``--source-commit`` when given, else
  ``$SOURCE_COMMIT`` when set, else ``unknown`` (:func:`source_commit`); never read from
  git, so the bytes depend on declared inputs only. Golden files are built with
  :data:`GOLDEN_SOURCE_COMMIT`.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
from collections.abc import Mapping
from typing import Any, Final

from meshcharts.errors import UserError

__all__ = ["GOLDEN_SOURCE_COMMIT", "UNKNOWN", "generator_version", "source_commit", "values_digest"]

GOLDEN_SOURCE_COMMIT: Final = "0" * 40
"""The source commit recorded in golden builds, so goldens do not depend on git HEAD."""

UNKNOWN: Final = "unknown"


def generator_version() -> str:
    """The installed meshcharts version."""
    try:
        return importlib.metadata.version("meshcharts")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - always installed
        return UNKNOWN


def source_commit(explicit: str | None = None) -> str:
    """The source commit to record: ``explicit``, else ``$SOURCE_COMMIT``, else ``unknown``.

    Never read from git: the folder a command runs in is not one of the build's inputs,
    so the same inputs give the same bytes inside a checkout and outside one. Pass
    ``--source-commit "$(git rev-parse HEAD)"`` (or set ``SOURCE_COMMIT``) to record it.

    Raises:
        UserError: the commit is not one line of at most 200 printable characters.
    """
    commit = (explicit if explicit is not None else os.environ.get("SOURCE_COMMIT", "")).strip()
    if not commit:
        return UNKNOWN
    if len(commit) > 200 or not commit.isprintable():
        subject = "--source-commit" if explicit is not None else "SOURCE_COMMIT"
        raise UserError(subject, "must be one line of at most 200 printable characters")
    return commit


def values_digest(values: Mapping[str, Any]) -> str:
    """``sha256:<hex>`` of ``values`` as canonical JSON (sorted keys, no spaces, UTF-8)."""
    text = json.dumps(values, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()
