"""Chart repository ``index.yaml`` with exact digests and pinned timestamps."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import semver

from meshcharts.base.yamltext import canonical_yaml

__all__ = ["IndexEntry", "index_yaml", "timestamp"]


@dataclass(frozen=True)
class IndexEntry:
    """One package in a chart repository.

    Attributes:
        metadata: the chart's Chart.yaml fields.
        url: the package URL, relative to the index.
        digest: lowercase hex sha256 of the .tgz file.
        created: RFC 3339 time the entry was created.
    """

    metadata: Mapping[str, Any]
    url: str
    digest: str
    created: str

    @classmethod
    def for_package(
        cls, metadata: Mapping[str, Any], url: str, data: bytes, created: str
    ) -> IndexEntry:
        """An entry for package bytes ``data``."""
        return cls(metadata, url, hashlib.sha256(data).hexdigest(), created)

    def as_dict(self) -> dict[str, Any]:
        """The entry as index.yaml holds it: the metadata flattened, plus repository fields."""
        return {**self.metadata, "created": self.created, "digest": self.digest, "urls": [self.url]}


def timestamp(epoch: int) -> str:
    """Format a pinned time as RFC 3339 in UTC (``1970-01-01T00:00:00Z``)."""
    return datetime.fromtimestamp(epoch, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _newest_first(entries: list[IndexEntry]) -> list[IndexEntry]:
    return sorted(
        entries,
        key=lambda e: (semver.Version.parse(str(e.metadata["version"])), e.url),
        reverse=True,
    )


def index_yaml(entries: Iterable[IndexEntry], *, generated: str) -> str:
    """Write index.yaml: entries grouped by chart name, newest version first."""
    by_name: dict[str, list[IndexEntry]] = {}
    for entry in entries:
        by_name.setdefault(str(entry.metadata["name"]), []).append(entry)
    document = {
        "apiVersion": "v1",
        "entries": {
            name: [e.as_dict() for e in _newest_first(items)] for name, items in by_name.items()
        },
        "generated": generated,
    }
    return canonical_yaml(document)
