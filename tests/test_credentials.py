"""Registry credentials from the places users keep them, in order, and logins in Helm's format."""

from __future__ import annotations

import base64
import json
import os
import stat
from pathlib import Path

import pytest

from meshcharts.errors import UserError
from meshcharts.publish.credentials import (
    Credentials,
    docker_config_path,
    find_credentials,
    forget_login,
    helm_registry_config,
    remember_login,
)

HOST = "registry.example:5000"


def auth(user: str, password: str) -> str:
    return base64.b64encode(f"{user}:{password}".encode()).decode()


def write_json(path: Path, data: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))
    return path


def helper(folder: Path, name: str, answers: dict[str, tuple[str, str]]) -> Path:
    """A ``docker-credential-<name>`` program answering ``get`` from ``answers``."""
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / f"docker-credential-{name}"
    table = json.dumps({h: {"Username": u, "Secret": s} for h, (u, s) in answers.items()})
    script.write_text(
        "#!/usr/bin/env python3\nimport json, sys\n"
        f"table = json.loads({table!r})\n"
        "host = sys.stdin.read().strip()\n"
        "if sys.argv[1] != 'get' or host not in table:\n"
        "    print('credentials not found in native keychain'); sys.exit(1)\n"
        "print(json.dumps({'ServerURL': host, **table[host]}))\n"
    )
    script.chmod(0o755)
    return folder


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """An environment whose Helm and Docker configs live in ``tmp_path`` (none exist yet)."""
    return {
        "HELM_REGISTRY_CONFIG": str(tmp_path / "helm" / "config.json"),
        "DOCKER_CONFIG": str(tmp_path / "docker"),
        "PATH": f"{tmp_path / 'bin'}:{os.environ['PATH']}",
        "HOME": str(tmp_path / "home"),
    }


def test_no_source_means_anonymous(env: dict[str, str]) -> None:
    assert find_credentials(HOST, env=env) is None


def test_the_command_line_wins_over_every_file(env: dict[str, str]) -> None:
    write_json(Path(env["HELM_REGISTRY_CONFIG"]), {"auths": {HOST: {"auth": auth("h", "hp")}}})
    found = find_credentials(HOST, username="cli", password="cp", env=env)
    assert found == Credentials("cli", "cp", "--username and --password-stdin")


@pytest.mark.parametrize(("username", "password"), [("u", None), (None, "p"), ("", "p")])
def test_half_of_a_login_on_the_command_line_is_refused(
    env: dict[str, str], username: str | None, password: str | None
) -> None:
    with pytest.raises(UserError, match="--username with --password-stdin"):
        find_credentials(HOST, username=username, password=password, env=env)


def test_helm_registry_config_comes_before_docker(env: dict[str, str], tmp_path: Path) -> None:
    write_json(Path(env["HELM_REGISTRY_CONFIG"]), {"auths": {HOST: {"auth": auth("h", "hp")}}})
    write_json(tmp_path / "docker" / "config.json", {"auths": {HOST: {"auth": auth("d", "dp")}}})
    found = find_credentials(HOST, env=env)
    assert found is not None
    assert (found.username, found.password) == ("h", "hp")
    assert found.source == f"helm registry config {env['HELM_REGISTRY_CONFIG']}"


def test_docker_cred_helpers_then_auths_then_creds_store(
    env: dict[str, str], tmp_path: Path
) -> None:
    config = tmp_path / "docker" / "config.json"
    helper(tmp_path / "bin", "per-host", {HOST: ("helped", "hs")})
    helper(tmp_path / "bin", "store", {HOST: ("stored", "ss"), "other:1": ("o", "os")})
    write_json(
        config,
        {
            "credHelpers": {HOST: "per-host"},
            "credsStore": "store",
            "auths": {f"https://{HOST}/v1/": {"auth": auth("a", "ap")}, "x:1": {}},
        },
    )
    found = find_credentials(HOST, env=env)
    assert found is not None
    assert (found.username, found.password, found.source) == (
        "helped",
        "hs",
        "credential helper docker-credential-per-host",
    )
    write_json(
        config, {"credsStore": "store", "auths": {f"https://{HOST}/v1/": {"auth": auth("a", "ap")}}}
    )
    found = find_credentials(HOST, env=env)
    assert found is not None and found.username == "a"  # the auths entry, any spelling of HOST
    found = find_credentials("other:1", env=env)
    assert found is not None
    assert (found.username, found.source) == ("o", "credential helper docker-credential-store")
    assert find_credentials("unknown:1", env=env) is None  # the store has nothing for it


def test_a_missing_helper_program_is_a_clear_error(env: dict[str, str], tmp_path: Path) -> None:
    write_json(tmp_path / "docker" / "config.json", {"credHelpers": {HOST: "absent"}})
    with pytest.raises(UserError) as caught:
        find_credentials(HOST, env=env)
    assert caught.value.subject == "credential helper docker-credential-absent"
    assert "not found on PATH" in caught.value.problem


def test_a_malformed_auth_entry_names_the_file(env: dict[str, str]) -> None:
    write_json(Path(env["HELM_REGISTRY_CONFIG"]), {"auths": {HOST: {"auth": "!!not base64"}}})
    with pytest.raises(UserError) as caught:
        find_credentials(HOST, env=env)
    assert env["HELM_REGISTRY_CONFIG"] in caught.value.subject


def test_secrets_are_never_shown() -> None:
    found = Credentials("user", "s3cr3t-value", "somewhere")
    assert "s3cr3t-value" not in repr(found)
    assert "s3cr3t-value" not in str(found)
    assert found.basic() == "Basic " + auth("user", "s3cr3t-value")


def test_login_and_logout_keep_other_entries_and_the_file_private(tmp_path: Path) -> None:
    path = write_json(
        tmp_path / "config.json",
        {
            "auths": {"other:1": {"auth": auth("o", "op")}, f"https://{HOST}": {"auth": "old"}},
            "x": 1,
        },
    )
    remember_login(HOST, Credentials("u", "p", "test"), path)
    saved = json.loads(path.read_text())
    assert saved["x"] == 1
    assert saved["auths"] == {"other:1": {"auth": auth("o", "op")}, HOST: {"auth": auth("u", "p")}}
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    env = {"HELM_REGISTRY_CONFIG": str(path), "DOCKER_CONFIG": str(tmp_path / "none")}
    found = find_credentials(HOST, env=env)
    assert found is not None and (found.username, found.password) == ("u", "p")
    assert forget_login(HOST, path)
    assert HOST not in json.loads(path.read_text())["auths"]
    assert not forget_login(HOST, path)


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"HELM_REGISTRY_CONFIG": "/r/c.json"}, "/r/c.json"),
        ({"HELM_CONFIG_HOME": "/h"}, "/h/registry/config.json"),
        ({"XDG_CONFIG_HOME": "/x"}, "/x/helm/registry/config.json"),
    ],
)
def test_helm_registry_config_is_where_helm_keeps_it(env: dict[str, str], expected: str) -> None:
    assert helm_registry_config(env) == Path(expected)


def test_docker_config_path() -> None:
    assert docker_config_path({"DOCKER_CONFIG": "/d"}) == Path("/d/config.json")
    assert docker_config_path({}) == Path.home() / ".docker" / "config.json"


def test_a_helper_that_answers_without_end_is_cut_off(env: dict[str, str], tmp_path: Path) -> None:
    folder = tmp_path / "bin"
    folder.mkdir()
    script = folder / "docker-credential-flood"
    script.write_text("#!/bin/sh\nexec yes credentials\n")
    script.chmod(0o755)
    write_json(tmp_path / "docker" / "config.json", {"credHelpers": {HOST: "flood"}})
    with pytest.raises(UserError) as caught:
        find_credentials(HOST, env=env)
    assert caught.value.subject == "credential helper docker-credential-flood"
    assert "larger than 65536 bytes" in caught.value.problem
