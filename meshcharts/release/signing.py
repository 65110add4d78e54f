"""Signed provenance files (``.prov``) for packages, as ``helm package --sign`` writes them.

:func:`provenance_body` is the text Helm signs
(``helm package --sign``): the Chart.yaml as Helm serialises it, ``...``, and the sha256
of the archive. :func:`sign_package` clear-signs it with ``gpg`` (``Hash: SHA512``), which
``helm verify --keyring PUBRING`` accepts under Helm 3 and Helm 4. Signatures carry their
creation time, so a ``.prov`` file is not byte-reproducible (the package is).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from meshcharts.base.yamltext import chart_yaml
from meshcharts.errors import UserError

__all__ = ["SignError", "helm_chart_yaml", "provenance_body", "sign_package"]


class SignError(UserError):
    """A package cannot be signed."""


_QUOTED: Final = re.compile(r'^(version|appVersion): "([0-9A-Za-z.+-]+)"$', re.MULTILINE)


def helm_chart_yaml(metadata: Mapping[str, Any]) -> str:
    """Chart.yaml exactly as Helm serialises it: :func:`chart_yaml` without version quotes.

    meshcharts quotes ``version`` and ``appVersion`` in packaged Chart.yaml files; Helm
    (``sigs.k8s.io/yaml``) writes a SemVer plainly, as it is not a YAML number.
    """
    return _QUOTED.sub(r"\1: \2", chart_yaml(metadata))


def provenance_body(metadata: Mapping[str, Any], archive: str, data: bytes) -> str:
    """The text ``helm package --sign`` clear-signs for the package ``archive`` (``data``).

    As Helm 3.17.2 writes it (byte for byte, measured): Chart.yaml, an empty line, ``...``,
    then ``files:`` with the archive's sha256.
    """
    digest = hashlib.sha256(data).hexdigest()
    return f"{helm_chart_yaml(metadata)}\n...\nfiles:\n  {archive}: sha256:{digest}\n"


def _gnupg_home(keyring: Path | None, scratch: Path) -> Path | None:
    """The GnuPG home for ``--keyring``: a folder as is, a keyring file imported aside."""
    if keyring is None:
        return None
    if keyring.is_dir():
        return keyring
    if not keyring.is_file():
        raise SignError(f"--keyring {keyring}", "no such file or folder")
    home = scratch / "gnupg"
    home.mkdir(mode=0o700)
    _gpg(home, ["--import", str(keyring)], what=f"--keyring {keyring}")
    return home


def _gpg(home: Path | None, args: list[str], *, what: str, stdin: bytes = b"") -> bytes:
    gpg = shutil.which("gpg")
    if gpg is None:
        raise SignError(what, "gpg is not installed (apt-get install gnupg)")
    env = dict(os.environ)
    if home is not None:
        env["GNUPGHOME"] = str(home)
    try:
        result = subprocess.run(
            [gpg, "--batch", "--yes", "--no-tty", "--pinentry-mode", "loopback", *args],
            input=stdin,
            capture_output=True,
            env=env,
            check=False,
            timeout=120,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise SignError(what, f"gpg failed: {exc}") from None
    if result.returncode != 0:
        lines = result.stderr.decode(errors="replace").strip().splitlines()
        raise SignError(what, f"gpg failed: {lines[-1] if lines else result.returncode}")
    return result.stdout


def sign_package(
    metadata: Mapping[str, Any], archive: str, data: bytes, *, key: str, keyring: Path | None
) -> bytes:
    """The ``.prov`` file of a package: its provenance body, clear-signed by ``key``.

    Args:
        metadata: the package's Chart.yaml metadata.
        archive: the package file name (``<name>-<version>.tgz``).
        data: the package bytes.
        key: the signing key (a gpg ``--local-user``: name, email or fingerprint).
        keyring: a GnuPG home folder, or a secret keyring file (imported into a temporary
            home); None: gpg's default home (``$GNUPGHOME``).

    Raises:
        SignError: gpg is missing, the keyring cannot be read or the key cannot sign.
    """
    body = provenance_body(metadata, archive, data)
    with tempfile.TemporaryDirectory(prefix="meshcharts-sign-") as scratch:
        home = _gnupg_home(keyring, Path(scratch))
        try:
            return _gpg(
                home,
                ["--clearsign", "--digest-algo", "SHA512", "--local-user", key, "--output", "-"],
                what=f"--sign {key}",
                stdin=body.encode(),
            )
        finally:
            if home is not None and home.parent == Path(scratch):
                _stop_agent(home)


def _stop_agent(home: Path) -> None:
    """Stop the gpg-agent that gpg started for a temporary home."""
    gpgconf = shutil.which("gpgconf")
    if gpgconf is None:  # pragma: no cover - installed with gpg
        return
    env = {**os.environ, "GNUPGHOME": str(home)}
    subprocess.run(
        [gpgconf, "--kill", "gpg-agent"], env=env, capture_output=True, check=False, timeout=30
    )
