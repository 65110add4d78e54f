"""Charts pulled from an OCI registry: ``oci://HOST[:PORT]/PATH/NAME:VERSION`` to a package.

``meshcharts release-diff`` compares a release with what is really published: an argument
that is an ``oci://`` reference is pulled (same TLS options and credentials as publishing)
into a temporary file, checked against the manifest's digest, and removed afterwards.
``build --previous oci://HOST/PATH`` compares every new package with the one published
before it (:class:`RegistryRelease`).
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import semver

from meshcharts.errors import UserError
from meshcharts.publish.credentials import Credentials
from meshcharts.publish.oci import Connection, OciClient, parse_oci

__all__ = ["ChartRef", "RegistryRelease", "parse_chart_ref", "previous_tag", "pulled_package"]

_REF = re.compile(
    r"oci://(?P<host>[A-Za-z0-9.-]+(?::[0-9]{1,5})?)/(?P<repo>[a-z0-9]+(?:[._/-][a-z0-9]+)*)"
    r":(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})"
)


@dataclass(frozen=True)
class ChartRef:
    """A chart in a registry: ``oci://HOST/REPO:TAG`` (the tag is the chart version)."""

    host: str
    repo: str
    tag: str

    @property
    def file_name(self) -> str:
        """``<name>-<version>.tgz``, as ``helm pull`` names it (``_`` in a tag is ``+``)."""
        return f"{self.repo.rsplit('/', 1)[-1]}-{self.tag.replace('_', '+')}.tgz"


def parse_chart_ref(text: str) -> ChartRef:
    """Parse ``oci://HOST[:PORT]/PATH/NAME:VERSION``.

    Raises:
        UserError: not such a reference.
    """
    match = _REF.fullmatch(text)
    if match is None:
        raise UserError(text, "not an oci://HOST[:PORT]/PATH/NAME:VERSION chart reference")
    return ChartRef(match["host"], match["repo"], match["tag"])


@contextmanager
def pulled_package(
    reference: str, *, connection: Connection, credentials: Credentials | None
) -> Iterator[Path]:
    """The chart ``reference`` pulled into a temporary ``<name>-<version>.tgz`` file.

    Raises:
        UserError: a bad reference, an unreachable or refusing registry, no such chart, or
            bytes that do not match the manifest.
    """
    ref = parse_chart_ref(reference)
    client = OciClient(ref.host, connection=connection, credentials=credentials)
    data = client.pull_chart(ref.repo, ref.tag)
    with tempfile.TemporaryDirectory(prefix="meshcharts-pull-") as scratch:
        path = Path(scratch) / ref.file_name
        path.write_bytes(data)
        yield path


@dataclass
class RegistryRelease:
    """The release before a build, as published to ``oci://HOST/PATH`` (``build --previous``).

    ``publish`` without ``--profile`` lays a build out as ``PATH/<profile>/<chart>``; the
    previous package of a new one is the highest version there below the new version: a
    release for a release, the same pre-release (the revision) for a canary package.
    """

    target: str
    connection: Connection
    credentials: Credentials | None
    _client: OciClient | None = None

    def __str__(self) -> str:
        return self.target

    def _registry(self) -> OciClient:
        if self._client is None:
            host = parse_oci(self.target).host
            self._client = OciClient(host, connection=self.connection, credentials=self.credentials)
        return self._client

    def package(
        self, profile: str, chart: str, revision: str, version: str
    ) -> tuple[str, str, bytes] | None:
        """(reference, reference, bytes) of the previous package, or None for a new chart.

        Raises:
            UserError: the registry cannot be read, or the package is not what it says.
        """
        ref = parse_oci(self.target)
        client = self._registry()
        repo = ref.repository(profile, chart)
        tag = previous_tag(client.tags(repo, pull_only=True), version, revision)
        if tag is None:
            return None
        label = f"oci://{ref.host}/{repo}:{tag}"
        return label, label, client.pull_chart(repo, tag)


def previous_tag(tags: Iterable[str], version: str, revision: str) -> str | None:
    """The highest tag below ``version`` of the same kind: a release, or ``revision``'s."""
    new = semver.Version.parse(version).replace(build=None)
    found: list[tuple[semver.Version, str]] = []
    for tag in tags:
        try:
            candidate = semver.Version.parse(tag.replace("_", "+")).replace(build=None)
        except ValueError:
            continue  # not a chart version (another artifact's tag)
        same_kind = candidate.prerelease == (revision or None)
        if same_kind and candidate < new:
            found.append((candidate, tag))
    return max(found)[1] if found else None
