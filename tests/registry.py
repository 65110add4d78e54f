"""A real OCI registry for the tests: Debian's ``docker-registry`` (CNCF Distribution).

Import the fixture into a test module with ``from registry import oci_registry_fixture  # noqa: F401``.
It starts ``docker-registry serve`` on 127.0.0.1 (a free port) with a temporary filesystem
storage, waits (bounded) until ``GET /v2/`` answers 200, and stops it after the session.
``scripts/test.sh`` installs the package when the binary is missing.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

REGISTRY_BINARY = os.environ.get("MESHCHARTS_REGISTRY", "/usr/bin/docker-registry")
START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def stop(process: subprocess.Popen[bytes]) -> None:
    """Terminate ``process``; kill it if it does not exit in time."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=STOP_TIMEOUT)


@pytest.fixture(scope="session", name="oci_registry")
def oci_registry_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``HOST:PORT`` of a running registry on 127.0.0.1, stopped after the session."""
    binary = shutil.which(REGISTRY_BINARY) or shutil.which("docker-registry")
    if binary is None:
        pytest.fail(
            "docker-registry is not installed: run scripts/test.sh (it installs Debian's "
            "docker-registry package) or apt-get install docker-registry"
        )
    root: Path = tmp_path_factory.mktemp("registry")
    port = free_port()
    config = root / "config.yml"
    config.write_text(
        "version: 0.1\n"
        "log:\n  level: warn\n"
        f"storage:\n  filesystem:\n    rootdirectory: {root / 'data'}\n"
        "  delete:\n    enabled: true\n"
        f"http:\n  addr: 127.0.0.1:{port}\n"
    )
    log = (root / "registry.log").open("wb")
    process = subprocess.Popen(
        [binary, "serve", str(config)], stdout=log, stderr=subprocess.STDOUT, cwd=root
    )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not _ready(f"http://127.0.0.1:{port}/v2/"):
            if process.poll() is not None or time.monotonic() > deadline:
                stop(process)
                log.flush()
                pytest.fail(
                    f"docker-registry did not start on 127.0.0.1:{port}:\n"
                    + (root / "registry.log").read_text(errors="replace")[-2000:]
                )
            time.sleep(0.1)
        yield f"127.0.0.1:{port}"
    finally:
        stop(process)
        log.close()
