"""The secured-registry fixtures behave like real registries: proved with real Helm 3 and 4."""

from __future__ import annotations

import contextlib
import json
import os
import ssl
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from secure_registry import (  # noqa: F401 - fixtures, used by name
    SERVICE,
    FlakyProxyFactory,
    Pki,
    SecureRegistry,
    b64url_decode,
    basic_registry_fixture,
    credential_helper,
    flaky_proxy_fixture,
    helper_config,
    https_request,
    registry_pki_fixture,
    start_secure_registry,
    token_registry_fixture,
)
from tools import HELM3, HELM4, run_helm

MODES = ["basic", "token"]
VERSIONS = pytest.mark.parametrize("version", [HELM3, HELM4], ids=["helm3", "helm4"])


def helm_env(home: Path, path: Path | None = None) -> dict[str, str]:
    """Helm's homes inside ``home`` (the user's stay untouched), optionally a PATH prefix."""
    env = {
        "HELM_CACHE_HOME": str(home / "cache"),
        "HELM_CONFIG_HOME": str(home / "config"),
        "HELM_DATA_HOME": str(home / "data"),
    }
    if path is not None:
        env["PATH"] = f"{path}{os.pathsep}{os.environ.get('PATH', '')}"
    return env


def login(
    helm: Path, registry: SecureRegistry, config: Path, password: str, ca: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """``helm registry login HOST -u U --password-stdin --ca-file CA --registry-config FILE``."""
    return subprocess.run(
        [
            str(helm),
            "registry",
            "login",
            registry.helm_host,
            "--username",
            registry.username,
            "--password-stdin",
            "--ca-file",
            str(ca or registry.ca),
            "--registry-config",
            str(config),
        ],
        input=password,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        env={**os.environ, **helm_env(config.parent)},
    )


def package(helm: Path, folder: Path, name: str, version: str = "0.1.0") -> Path:
    """``helm package`` of a one-ConfigMap chart; the .tgz path."""
    chart = folder / "src" / name
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text(f"apiVersion: v2\nname: {name}\nversion: {version}\n")
    (chart / "templates" / "cm.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\n"
    )
    run_helm(helm, "package", str(chart), "-d", str(folder), env=helm_env(folder / "home"))
    return folder / f"{name}-{version}.tgz"


def push(
    helm: Path,
    tgz: Path,
    registry: SecureRegistry,
    config: Path,
    *extra: str,
    host: str | None = None,
    check: bool = True,
) -> subprocess.CompletedProcess[str]:
    """``helm push TGZ oci://HOST/charts`` with the CA and registry config."""
    return run_helm(
        helm,
        "push",
        str(tgz),
        f"oci://{host or registry.helm_host}/charts",
        *(extra or registry.helm_tls_args()),
        "--registry-config",
        str(config),
        env=helm_env(config.parent),
        check=check,
        timeout=120,
    )


def pull(
    helm: Path,
    registry: SecureRegistry,
    config: Path,
    name: str,
    dest: Path,
    *extra: str,
    host: str | None = None,
    check: bool = True,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """``helm pull oci://HOST/charts/NAME --version 0.1.0 -d DEST`` with the CA and config."""
    dest.mkdir(parents=True, exist_ok=True)
    return run_helm(
        helm,
        "pull",
        f"oci://{host or registry.helm_host}/charts/{name}",
        "--version",
        "0.1.0",
        "-d",
        str(dest),
        *(extra or registry.helm_tls_args()),
        "--registry-config",
        str(config),
        env=env or helm_env(config.parent),
        check=check,
        timeout=120,
    )


def registry_for(request: pytest.FixtureRequest, mode: str) -> SecureRegistry:
    registry: SecureRegistry = request.getfixturevalue(f"{mode}_registry")
    return registry


@pytest.mark.parametrize("mode", MODES)
@VERSIONS
def test_login_push_pull(
    mode: str, version: str, helms: dict[str, Path], request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    registry = registry_for(request, mode)
    helm = helms[version]
    name = f"login-{mode}-{version.split('.')[0]}"
    tgz = package(helm, tmp_path, name)
    config = tmp_path / "home" / "registry.json"
    issuer = registry.issuer
    with issuer.configured() if issuer is not None else contextlib.nullcontext():
        result = login(helm, registry, config, registry.password)
        assert result.returncode == 0, result.stderr
        assert registry.helm_host in json.loads(config.read_text())["auths"]
        pushed = push(helm, tgz, registry, config)
        assert f"{registry.helm_host}/charts/{name}:0.1.0" in pushed.stdout + pushed.stderr
        pull(helm, registry, config, name, tmp_path / "pulled")
        assert (tmp_path / "pulled" / tgz.name).read_bytes() == tgz.read_bytes()
        if issuer is not None:
            users = {r.user for r in issuer.requests}
            assert users == {registry.username}, issuer.requests
            scopes = {s for r in issuer.requests for s in r.scopes}
            assert any(s.startswith(f"repository:charts/{name}:") and "push" in s for s in scopes)
            assert all(r.query.get("service") == [SERVICE] for r in issuer.requests)


@pytest.mark.parametrize("mode", MODES)
@VERSIONS
def test_wrong_password_and_untrusted_ca_fail(
    mode: str,
    version: str,
    helms: dict[str, Path],
    registry_pki: Pki,
    request: pytest.FixtureRequest,
    tmp_path: Path,
) -> None:
    registry = registry_for(request, mode)
    helm = helms[version]
    config = tmp_path / "home" / "registry.json"
    issuer = registry.issuer
    with issuer.configured() if issuer is not None else contextlib.nullcontext():
        wrong = login(helm, registry, config, registry.password + "x")
        assert wrong.returncode != 0
        assert not config.exists() or registry.helm_host not in config.read_text()
        if issuer is not None:
            assert issuer.requests, "the issuer saw no request"
            assert {(r.status, r.user) for r in issuer.requests} == {(401, None)}
    untrusted = login(helm, registry, config, registry.password, ca=registry_pki.other_ca_pem)
    assert untrusted.returncode != 0
    assert "certificate" in untrusted.stderr, untrusted.stderr


@pytest.mark.parametrize("mode", MODES)
def test_anonymous_pull_is_refused(
    mode: str, helms: dict[str, Path], request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    registry = registry_for(request, mode)
    helm = helms[HELM3]
    config = tmp_path / "home" / "registry.json"
    name = f"anonymous-{mode}"
    assert login(helm, registry, config, registry.password).returncode == 0
    push(helm, package(helm, tmp_path, name), registry, config)
    empty = tmp_path / "empty" / "registry.json"
    for version in (HELM3, HELM4):
        result = pull(helms[version], registry, empty, name, tmp_path / version, check=False)
        assert result.returncode != 0, (version, result.stdout)
    if registry.issuer is not None:
        status, headers, _ = registry.request(f"/v2/charts/{name}/tags/list")
        assert status == 401
        assert f'scope="repository:charts/{name}:pull"' in headers["www-authenticate"]


def token_for(registry: SecureRegistry, query: str, auth: str | None) -> dict[str, object]:
    assert registry.issuer is not None
    host = registry.issuer.realm.split("/")[2]
    headers = {"Authorization": auth} if auth else {}
    status, _, body = https_request(
        host, f"/token?{query}", headers=headers, context=registry.context()
    )
    assert status == 200, body
    answer: dict[str, object] = json.loads(body)
    return answer


def test_token_answer_and_claims(token_registry: SecureRegistry) -> None:
    issuer = token_registry.issuer
    assert issuer is not None
    with issuer.configured(lifetime=1234):
        query = (
            f"service={SERVICE}&scope=repository:charts/a:pull,push&scope=repository:charts/b:pull"
        )
        answer = token_for(token_registry, query, token_registry.basic_auth())
        assert answer["expires_in"] == 1234
        assert answer["token"] == answer["access_token"]
        assert isinstance(answer["issued_at"], str) and answer["issued_at"].endswith("Z")
        token = str(answer["token"])
        header = json.loads(b64url_decode(token.split(".")[0]))
        claims = json.loads(b64url_decode(token.split(".")[1]))
        assert header["alg"] == "RS256" and len(header["x5c"]) == 1
        assert claims["aud"] == SERVICE and claims["sub"] == token_registry.username
        assert claims["exp"] - claims["iat"] == 1234
        assert claims["access"] == [
            {"type": "repository", "name": "charts/a", "actions": ["pull", "push"]},
            {"type": "repository", "name": "charts/b", "actions": ["pull"]},
        ]
        anonymous = token_for(
            token_registry, f"service={SERVICE}&scope=repository:charts/a:pull", None
        )
        assert json.loads(b64url_decode(str(anonymous["token"]).split(".")[1]))["access"] == []
        assert [r.user for r in issuer.requests] == [token_registry.username, None]


@VERSIONS
def test_token_kid_header_expiry_and_denied_push(
    version: str, helms: dict[str, Path], token_registry: SecureRegistry, tmp_path: Path
) -> None:
    issuer = token_registry.issuer
    assert issuer is not None
    helm = helms[version]
    name = f"scoped-{version.split('.')[0]}"
    tgz = package(helm, tmp_path, name)
    config = tmp_path / "home" / "registry.json"
    with issuer.configured(key_header="kid"):
        assert login(helm, token_registry, config, token_registry.password).returncode == 0
        push(helm, tgz, token_registry, config)
        token = str(
            token_for(token_registry, f"service={SERVICE}", token_registry.basic_auth())["token"]
        )
        assert "kid" in json.loads(b64url_decode(token.split(".")[0]))
    with issuer.configured(deny_push=True):
        # A new version: re-pushing identical content succeeds on pull alone (Helm 3 checks
        # with HEAD first and skips what exists).
        newer = package(helm, tmp_path / "newer", name, "0.2.0")
        refused = push(helm, newer, token_registry, config, check=False)
        assert refused.returncode != 0, refused.stdout
        pull(helm, token_registry, config, name, tmp_path / "pulled")
        assert (tmp_path / "pulled" / tgz.name).read_bytes() == tgz.read_bytes()
        assert any("push" in s for r in issuer.requests for s in r.scopes)
    # Past Distribution's 60 s leeway: the registry refuses the fresh token, so login fails.
    with issuer.configured(lifetime=-120):
        expired = login(
            helm, token_registry, tmp_path / "expired" / "r.json", token_registry.password
        )
        assert expired.returncode != 0
        assert issuer.requests and issuer.requests[0].status == 200


@pytest.mark.parametrize("tls", [True, False], ids=["https", "http"])
def test_flaky_proxy_answers_its_script_then_passes_through(
    tls: bool, basic_registry: SecureRegistry, flaky_proxy: FlakyProxyFactory
) -> None:
    proxy = flaky_proxy(basic_registry, [503, 503, (429, {"Retry-After": "1"})], tls=tls)
    context = basic_registry.context() if tls else None
    seen = []
    for _ in range(4):
        status, headers, _ = https_request(proxy.host, "/v2/", context=context)
        seen.append((status, headers.get("retry-after")))
    assert seen == [(503, None), (503, None), (429, "1"), (401, None)]
    auth = {"Authorization": basic_registry.basic_auth()}
    status, headers, _ = https_request(proxy.host, "/v2/", headers=auth, context=context)
    assert status == 200
    assert headers["docker-distribution-api-version"] == "registry/2.0"
    assert [(r.status, r.scripted) for r in proxy.requests] == [
        (503, True),
        (503, True),
        (429, True),
        (401, False),
        (200, False),
    ]
    # urllib sees the same (HTTPError for the scripted statuses).
    proxy.script.append(503)
    opener = urllib.request.build_opener(
        urllib.request.HTTPSHandler(context=context or ssl.create_default_context())
    )
    with pytest.raises(urllib.error.HTTPError) as error:
        opener.open(f"{proxy.url}/v2/", timeout=30)
    assert error.value.code == 503
    error.value.close()


@pytest.mark.parametrize("tls", [True, False], ids=["https", "http"])
@VERSIONS
def test_helm_push_and_pull_through_the_proxy(
    tls: bool,
    version: str,
    helms: dict[str, Path],
    basic_registry: SecureRegistry,
    flaky_proxy: FlakyProxyFactory,
    tmp_path: Path,
) -> None:
    proxy = flaky_proxy(basic_registry, tls=tls)
    helm = helms[version]
    name = f"proxied-{'https' if tls else 'http'}-{version.split('.')[0]}"
    tgz = package(helm, tmp_path, name)
    config = tmp_path / "home" / "registry.json"
    flags = [*basic_registry.helm_tls_args()] if tls else ["--plain-http"]
    creds = ["--username", basic_registry.username, "--password", basic_registry.password]
    push(helm, tgz, basic_registry, config, *flags, *creds, host=proxy.helm_host)
    pull(
        helm,
        basic_registry,
        config,
        name,
        tmp_path / "pulled",
        *flags,
        *creds,
        host=proxy.helm_host,
    )
    assert (tmp_path / "pulled" / tgz.name).read_bytes() == tgz.read_bytes()
    methods = {r.method for r in proxy.requests}
    assert {"PUT", "GET"} <= methods and not any(r.scripted for r in proxy.requests)
    assert all(r.status < 500 for r in proxy.requests), proxy.requests


def test_credential_helper_protocol(tmp_path: Path) -> None:
    folder = credential_helper(tmp_path / "bin", "127.0.0.1:5000", "alice", "s3cret")
    script = folder / "docker-credential-meshtest"

    def call(action: str, data: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(script), action],
            input=data,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )

    got = call("get", "127.0.0.1:5000\n")
    assert got.returncode == 0, got
    assert json.loads(got.stdout) == {
        "ServerURL": "127.0.0.1:5000",
        "Username": "alice",
        "Secret": "s3cret",
    }
    assert json.loads(call("get", "https://127.0.0.1:5000/").stdout)["Secret"] == "s3cret"
    missing = call("get", "127.0.0.1:5001")
    assert missing.returncode == 1
    assert missing.stdout.strip() == "credentials not found in native keychain"
    stored = json.dumps({"ServerURL": "127.0.0.1:5001", "Username": "bob", "Secret": "pw"})
    assert call("store", stored).returncode == 0
    assert json.loads(call("list", "").stdout) == {
        "127.0.0.1:5000": "alice",
        "127.0.0.1:5001": "bob",
    }
    assert call("erase", "127.0.0.1:5001").returncode == 0
    assert call("get", "127.0.0.1:5001").returncode == 1
    calls = (folder / "meshtest-calls.log").read_text().splitlines()
    assert calls[0] == "get 127.0.0.1:5000"


@pytest.mark.parametrize("mode", MODES)
@VERSIONS
def test_helm_uses_the_credential_helper(
    mode: str, version: str, helms: dict[str, Path], request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    registry = registry_for(request, mode)
    helm = helms[version]
    name = f"helper-{mode}-{version.split('.')[0]}"
    tgz = package(helm, tmp_path, name)
    folder = credential_helper(
        tmp_path / "bin", registry.helm_host, registry.username, registry.password
    )
    config = helper_config(tmp_path / "home" / "registry.json", registry.helm_host)
    env = helm_env(config.parent, path=folder)
    run_helm(
        helm,
        "push",
        str(tgz),
        registry.oci("charts"),
        *registry.helm_tls_args(),
        "--registry-config",
        str(config),
        env=env,
        timeout=120,
    )
    pull(helm, registry, config, name, tmp_path / "pulled", env=env)
    assert (tmp_path / "pulled" / tgz.name).read_bytes() == tgz.read_bytes()
    calls = (folder / "meshtest-calls.log").read_text().lower().splitlines()
    assert f"get {registry.helm_host.lower()}" in calls, calls


def test_client_certificate_registry(registry_pki: Pki, tmp_path: Path) -> None:
    with start_secure_registry(
        tmp_path / "mtls", registry_pki, "basic", client_ca=True
    ) as registry:
        with pytest.raises((ssl.SSLError, ConnectionError)):
            registry.request("/v2/")
        with_cert = registry.context(registry_pki.client_cert, registry_pki.client_key)
        auth = {"Authorization": registry.basic_auth()}
        assert registry.request("/v2/", headers=auth, context=with_cert)[0] == 200
    assert registry.process.poll() is not None


def test_helm3_push_to_a_loopback_ip_ignores_tls(
    helms: dict[str, Path], basic_registry: SecureRegistry, tmp_path: Path
) -> None:
    """Why :attr:`SecureRegistry.helm_host` exists: Helm 3 pushes to 127.0.0.1 in plain HTTP."""
    tgz = package(helms[HELM3], tmp_path, "loopback")
    config = tmp_path / "home" / "registry.json"
    creds = ["--username", basic_registry.username, "--password", basic_registry.password]
    tls = [*basic_registry.helm_tls_args(), *creds]
    helm3 = push(
        helms[HELM3], tgz, basic_registry, config, *tls, host=basic_registry.host, check=False
    )
    assert helm3.returncode != 0
    assert f"http://{basic_registry.host}/v2/" in helm3.stderr, helm3.stderr
    push(helms[HELM4], tgz, basic_registry, config, *tls, host=basic_registry.host)
