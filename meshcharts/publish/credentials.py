"""Registry credentials from where users already keep them, and login/logout in Helm's format.

The sources, in this order (the first that has the registry wins):

1. ``--username`` with ``--password-stdin``;
2. Helm's registry config: ``$HELM_REGISTRY_CONFIG``, else ``registry/config.json`` in
   Helm's config home (``$HELM_CONFIG_HOME``, else ``$XDG_CONFIG_HOME/helm``, else
   ``~/.config/helm``) — what ``helm registry login`` writes;
3. Docker's ``config.json`` (``$DOCKER_CONFIG``, else ``~/.docker``): the registry's
   ``credHelpers`` program, its ``auths`` entry, then the ``credsStore`` program
   (``docker-credential-<name> get``, as Docker runs them).

Both files have Docker's format (``{"auths": {"HOST": {"auth": base64("user:password")}}}``),
so ``meshcharts registry login`` and ``helm registry login`` read each other's logins.
A :class:`Credentials` never shows its secret: not in ``repr``, messages or output.
"""

from __future__ import annotations

import base64
import json
import os
import select
import shutil
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from meshcharts.base.fsutil import write_atomic
from meshcharts.base.limits import LimitError, load_json, read_limited
from meshcharts.errors import UserError

__all__ = [
    "Credentials",
    "docker_config_path",
    "find_credentials",
    "forget_login",
    "helm_registry_config",
    "remember_login",
]

HELPER_TIMEOUT = 30.0
"""Seconds a ``docker-credential-*`` program may take to answer."""
MAX_HELPER_REPLY = 64 * 1024


@dataclass(frozen=True)
class Credentials:
    """A user name and a secret for one registry, and where they came from.

    Attributes:
        username: the user name.
        password: the password or token (never shown).
        source: where they came from, for messages (``--username``, a file, a program).
    """

    username: str
    password: str = field(repr=False)
    source: str

    def basic(self) -> str:
        """The value of an ``Authorization: Basic`` header."""
        pair = f"{self.username}:{self.password}".encode()
        return "Basic " + base64.b64encode(pair).decode("ascii")


def helm_registry_config(env: Mapping[str, str] | None = None) -> Path:
    """The file ``helm registry login`` writes, as Helm finds it."""
    env = os.environ if env is None else env
    if env.get("HELM_REGISTRY_CONFIG"):
        return Path(env["HELM_REGISTRY_CONFIG"])
    if env.get("HELM_CONFIG_HOME"):
        home = Path(env["HELM_CONFIG_HOME"])
    elif env.get("XDG_CONFIG_HOME"):
        home = Path(env["XDG_CONFIG_HOME"]) / "helm"
    else:
        home = Path.home() / ".config" / "helm"
    return home / "registry" / "config.json"


def docker_config_path(env: Mapping[str, str] | None = None) -> Path:
    """Docker's ``config.json``."""
    env = os.environ if env is None else env
    folder = Path(env["DOCKER_CONFIG"]) if env.get("DOCKER_CONFIG") else Path.home() / ".docker"
    return folder / "config.json"


def _read_config(path: Path) -> dict[str, Any]:
    """A Docker-format config file (empty when it does not exist)."""
    if not path.exists():
        return {}
    data = load_json(read_limited(path), str(path))
    if not isinstance(data, dict):
        raise UserError(str(path), "is not a JSON object")
    return data


def _host_of(key: str) -> str:
    """``https://host:port/v1/`` -> ``host:port``: Docker's keys come in several spellings."""
    bare = key.split("://", 1)[-1]
    return bare.split("/", 1)[0]


def _entry(section: Any, host: str) -> Any:
    if not isinstance(section, dict):
        return None
    for key, value in section.items():
        if isinstance(key, str) and _host_of(key) == host:
            return value
    return None


def _from_auth(entry: Any, host: str, source: str) -> Credentials | None:
    """Credentials from an ``auths`` entry with an ``auth`` (or username/password) field."""
    if not isinstance(entry, dict):
        return None
    if isinstance(entry.get("auth"), str) and entry["auth"]:
        try:
            pair = base64.b64decode(entry["auth"], validate=True).decode()
        except (ValueError, UnicodeDecodeError):
            raise UserError(
                source, f"the auth entry of {host} is not base64 of user:password"
            ) from None
        username, colon, password = pair.partition(":")
        if not colon:
            raise UserError(source, f"the auth entry of {host} is not base64 of user:password")
        return Credentials(username, password, source)
    if isinstance(entry.get("username"), str) and isinstance(entry.get("password"), str):
        return Credentials(entry["username"], entry["password"], source)
    return None


def _from_helper(name: str, host: str, env: Mapping[str, str]) -> Credentials | None:
    """``docker-credential-<name> get`` for ``host`` (None when it has nothing for it)."""
    program = f"docker-credential-{name}"
    path = shutil.which(program, path=env.get("PATH"))
    source = f"credential helper {program}"
    if path is None:
        raise UserError(source, "not found on PATH (named by Docker's config.json)")
    try:
        returncode, stdout = _run_helper(path, host, env)
    except subprocess.TimeoutExpired:
        raise UserError(source, f"no answer within {HELPER_TIMEOUT:g} s") from None
    except OSError as exc:
        raise UserError(source, f"cannot be run: {exc.strerror or exc}") from None
    if returncode != 0:
        return None  # "credentials not found": the helper has nothing for this registry
    if len(stdout) > MAX_HELPER_REPLY:
        raise LimitError(source, f"the reply is larger than {MAX_HELPER_REPLY} bytes")
    reply = load_json(stdout, source)
    if not isinstance(reply, dict) or not isinstance(reply.get("Secret"), str):
        raise UserError(source, "did not answer {Username, Secret}")
    return Credentials(str(reply.get("Username") or ""), reply["Secret"], source)


def _run_helper(path: str, host: str, env: Mapping[str, str]) -> tuple[int, bytes]:
    """Run ``PATH get`` for ``host``: its exit status and at most a bounded reply.

    Raises:
        subprocess.TimeoutExpired: no answer in time (the program is killed).
    """
    with subprocess.Popen(
        [path, "get"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=dict(env),
    ) as process:
        try:
            assert process.stdin is not None and process.stdout is not None
            process.stdin.write(host.encode())
            process.stdin.close()
            reply = _read_bounded(process.stdout.fileno(), time.monotonic() + HELPER_TIMEOUT)
            returncode = (
                process.wait(timeout=HELPER_TIMEOUT) if len(reply) <= MAX_HELPER_REPLY else 0
            )
        except BaseException:
            process.kill()
            raise
        if process.poll() is None:
            process.kill()  # it wrote more than a reply: cut off, not read into memory
    return returncode, reply


def _read_bounded(fd: int, deadline: float) -> bytes:
    """Read ``fd`` to its end, within ``deadline`` and one byte past the reply limit."""
    chunks: list[bytes] = []
    total = 0
    while total <= MAX_HELPER_REPLY:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise subprocess.TimeoutExpired("docker-credential helper", HELPER_TIMEOUT)
        ready, _, _ = select.select([fd], [], [], remaining)
        if not ready:
            continue
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    return b"".join(chunks)


def find_credentials(
    host: str,
    *,
    username: str | None = None,
    password: str | None = None,
    env: Mapping[str, str] | None = None,
) -> Credentials | None:
    """The credentials for ``host`` from the first source that has them (None: anonymous).

    Raises:
        UserError: a password without a user name (or the reverse), a malformed config
            file, or a credential helper that is missing, fails or answers garbage.
    """
    env = os.environ if env is None else env
    if username is not None or password is not None:
        if not username or password is None:
            raise UserError("--username", "give --username with --password-stdin (both or neither)")
        return Credentials(username, password, "--username and --password-stdin")
    helm = helm_registry_config(env)
    found = _from_auth(
        _entry(_read_config(helm).get("auths"), host), host, f"helm registry config {helm}"
    )
    if found is not None:
        return found
    docker_path = docker_config_path(env)
    docker = _read_config(docker_path)
    helper = _entry(docker.get("credHelpers"), host)
    if isinstance(helper, str) and helper:
        found = _from_helper(helper, host, env)
        if found is not None:
            return found
    found = _from_auth(_entry(docker.get("auths"), host), host, f"docker config {docker_path}")
    if found is not None:
        return found
    store = docker.get("credsStore")
    if isinstance(store, str) and store:
        return _from_helper(store, host, env)
    return None


def _write_config(path: Path, config: Mapping[str, Any]) -> None:
    text = json.dumps(config, indent=2, sort_keys=True) + "\n"
    write_atomic(path, text.encode(), what=str(path))
    path.chmod(0o600)  # it holds secrets, as Helm's and Docker's own files do


def remember_login(host: str, credentials: Credentials, path: Path) -> None:
    """Record a login in Helm's registry config (``auths.HOST.auth``), other entries kept.

    Raises:
        UserError: the file is malformed or cannot be written.
    """
    config = _read_config(path)
    auths = config.get("auths")
    if auths is not None and not isinstance(auths, dict):
        raise UserError(str(path), "auths is not a JSON object")
    auths = dict(auths or {})
    for key in [k for k in auths if _host_of(k) == host]:
        del auths[key]
    pair = f"{credentials.username}:{credentials.password}".encode()
    auths[host] = {"auth": base64.b64encode(pair).decode("ascii")}
    _write_config(path, {**config, "auths": auths})


def forget_login(host: str, path: Path) -> bool:
    """Remove a login from Helm's registry config; False when there was none."""
    config = _read_config(path)
    auths = config.get("auths")
    if not isinstance(auths, dict):
        return False
    kept = {k: v for k, v in auths.items() if _host_of(k) != host}
    if len(kept) == len(auths):
        return False
    _write_config(path, {**config, "auths": kept})
    return True
