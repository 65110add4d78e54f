"""Validation of the names and versions users give."""

from __future__ import annotations

import re

import semver

from meshcharts.errors import InvalidNameError, VersionError

__all__ = ["check_dns_label", "check_version", "revision_version"]

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


def check_dns_label(name: str, *, what: str) -> str:
    """Return ``name`` if it is a DNS-1123 label, else raise :class:`InvalidNameError`."""
    if len(name) > 63 or not _DNS_LABEL.match(name):
        raise InvalidNameError(
            f"{what} {name!r}",
            "not a DNS-1123 label (lower-case letters, digits and '-', "
            "starting and ending with a letter or digit, at most 63 characters)",
        )
    return name


MAX_VERSION = 64
"""The longest chart version: ``<chart>-<version>.tgz`` must stay a file name, and Helm
labels objects ``helm.sh/chart: <chart>-<version>`` (a label value of at most 63 chars)."""


def check_version(version: str) -> semver.Version:
    """Parse a strict SemVer 2 version (``1.0.6``, ``1.1.0-rc.1``), or raise VersionError."""
    if len(version) > MAX_VERSION:
        raise VersionError(
            f"version {version[:20]!r}...", f"is longer than {MAX_VERSION} characters"
        )
    try:
        return semver.Version.parse(version)
    except (ValueError, TypeError):
        raise VersionError(
            f"version {version!r}", "not a strict SemVer 2 version such as 1.0.6 or 1.1.0-rc.1"
        ) from None


def revision_version(version: str, revision: str) -> str:
    """The SemVer pre-release a revision's chart carries: ``1.0.6`` -> ``1.0.6-canary``.

    A pre-release stays one (``1.1.0-rc.1`` -> ``1.1.0-rc.1.canary``), so that
    ``helm install`` without ``--devel`` never picks a revision's chart.
    """
    parsed = check_version(version)
    pre = f"{parsed.prerelease}.{revision}" if parsed.prerelease else revision
    return str(parsed.replace(prerelease=pre))
