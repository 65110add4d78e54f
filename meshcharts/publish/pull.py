"""Charts pulled from an OCI registry: ``oci://HOST[:PORT]/PATH/NAME:VERSION`` to a package.

``meshcharts release-diff`` compares a release with what is really published: an argument
that is an ``oci://`` reference is pulled (same TLS options and credentials as publishing)
into a temporary file, checked against the manifest's digest, and removed afterwards.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from meshcharts.errors import UserError
from meshcharts.publish.credentials import Credentials
from meshcharts.publish.oci import Connection, OciClient

__all__ = ["ChartRef", "parse_chart_ref", "pulled_package"]

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
