"""Publishing to registries as release engineers run them: TLS, credentials, retries.

Real registries (Debian's docker-registry over TLS, with htpasswd or token authentication,
see tests/secure_registry.py), real Helm 3.17.2 and 4.1.4 on the other side. The registries
are reached as ``LOCALHOST:PORT`` (:attr:`SecureRegistry.helm_host`): Helm 3 talks plain
HTTP to 127.0.0.1 whatever its TLS flags say, and a login is kept under the name it was made
with, so meshcharts and Helm use the same name to share it.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import subprocess
from pathlib import Path

import pytest
import yaml
from helpers import assert_one_line_error, run_meshcharts
from secure_registry import (  # noqa: F401 - fixtures, used by name
    SecureRegistry,
    basic_registry_fixture,
    credential_helper,
    flaky_proxy_fixture,
    registry_pki_fixture,
    token_registry_fixture,
)
from tools import HELM3, HELM4, run_helm

from meshcharts import build_packages, load_profiles, write_build


@functools.cache
def built(root: str) -> Path:
    """A build of the ``edge`` profile (one small chart) in ``root``, once per version."""
    out = Path(root) / "build"
    if not out.exists():
        packages = build_packages(load_profiles(), ["edge"], version="1.0.6")
        write_build(packages, out)
    return out


@pytest.fixture(scope="module")
def build_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return built(str(tmp_path_factory.mktemp("registry-auth")))


def digests(build: Path) -> dict[str, str]:
    records = json.loads((build / "build.json").read_text())["packages"]
    assert records
    return {r["chart"]: r["sha256"] for r in records}


def meshcharts(
    *args: str, home: Path, stdin: str = "", extra_env: dict[str, str] | None = None
) -> tuple[int, str, str]:
    """``python -m meshcharts ARGS`` with Helm's and Docker's configs kept under ``home``."""
    env = {
        **os.environ,
        "HOME": str(home),
        "HELM_REGISTRY_CONFIG": str(home / "helm-registry.json"),
        "DOCKER_CONFIG": str(home / "docker"),
        **(extra_env or {}),
    }
    return run_meshcharts(*args, env=env, stdin=stdin, timeout=300)


def helm_pull_sha(helm: Path, registry: SecureRegistry, repo: str, home: Path) -> str:
    """``helm pull`` of ``repo:1.0.6`` with the login meshcharts wrote; the package's sha256."""
    dest = home / f"pulled-{helm.parent.name}-{repo.replace('/', '-')}"
    dest.mkdir(parents=True, exist_ok=True)
    run_helm(
        helm, "pull", registry.oci(repo), "--version", "1.0.6", "--destination", str(dest),
        "--registry-config", str(home / "helm-registry.json"), *registry.helm_tls_args(),
        env={"HOME": str(home), "XDG_CACHE_HOME": str(home / "cache")},
    )  # fmt: skip
    (package,) = dest.glob("*.tgz")
    return hashlib.sha256(package.read_bytes()).hexdigest()


@pytest.mark.parametrize("mode", ["basic", "token"])
def test_login_publish_and_helm_pull_with_the_same_login(
    request: pytest.FixtureRequest,
    helms: dict[str, Path],
    build_dir: Path,
    tmp_path: Path,
    mode: str,
) -> None:
    registry: SecureRegistry = request.getfixturevalue(f"{mode}_registry")
    host = registry.helm_host
    code, stdout, stderr = meshcharts(
        "registry", "login", host, "--username", registry.username, "--password-stdin",
        "--ca-file", str(registry.ca), home=tmp_path, stdin=registry.password + "\n",
    )  # fmt: skip
    assert code == 0, stderr
    assert "Login Succeeded" in stdout
    assert registry.password not in stdout + stderr
    saved = json.loads((tmp_path / "helm-registry.json").read_text())
    assert list(saved["auths"]) == [host]
    target = f"oci://{host}/charts/{mode}"
    code, stdout, stderr = meshcharts(
        "publish", "--to", target, "--build-dir", str(build_dir), "-p", "edge",
        "--ca-file", str(registry.ca), "--format", "json", home=tmp_path,
    )  # fmt: skip
    assert code == 0, stderr
    report = json.loads(stdout)
    assert report["credentials"] == f"helm registry config {tmp_path / 'helm-registry.json'}"
    assert registry.password not in stdout + stderr
    assert [r["action"] for r in report["results"]] == ["pushed"]
    for version in (HELM3, HELM4):
        sha = helm_pull_sha(helms[version], registry, f"charts/{mode}/gateways", tmp_path)
        assert sha == digests(build_dir)["gateways"], version
    if mode == "token":
        assert registry.issuer is not None
        repo = f"repository:charts/{mode}/gateways:"
        actions = [
            set(scope.removeprefix(repo).split(","))
            for r in registry.issuer.requests
            if r.user == registry.username
            for scope in r.scopes
            if scope.startswith(repo)
        ]
        assert {"pull", "push"} in actions, actions
    # A second publish changes nothing; logout removes the login, and Helm's file stays valid.
    code, stdout, stderr = meshcharts(
        "publish", "--to", target, "--build-dir", str(build_dir), "-p", "edge",
        "--ca-file", str(registry.ca), home=tmp_path,
    )  # fmt: skip
    assert code == 0, stderr
    assert "published 0 packages, 1 unchanged" in stdout
    code, _, stderr = meshcharts("registry", "logout", host, home=tmp_path)
    assert code == 0, stderr
    assert json.loads((tmp_path / "helm-registry.json").read_text())["auths"] == {}


def test_meshcharts_uses_a_login_that_helm_made(
    helms: dict[str, Path], basic_registry: SecureRegistry, build_dir: Path, tmp_path: Path
) -> None:
    done = subprocess.run(
        [str(helms[HELM4]), "registry", "login", basic_registry.helm_host, "--username",
         basic_registry.username, "--password-stdin", "--registry-config",
         str(tmp_path / "helm-registry.json"), *basic_registry.helm_tls_args()],
        input=basic_registry.password, capture_output=True, text=True, timeout=120,
        env={**os.environ, "HOME": str(tmp_path)}, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    code, stdout, stderr = meshcharts(
        "publish", "--to", f"oci://{basic_registry.helm_host}/charts/helm-login",
        "--build-dir", str(build_dir), "-p", "edge", "--ca-file", str(basic_registry.ca),
        home=tmp_path,
    )  # fmt: skip
    assert code == 0, stderr
    assert "(credentials: helm registry config" in stdout


def test_a_docker_credential_helper_is_used(
    basic_registry: SecureRegistry, build_dir: Path, tmp_path: Path
) -> None:
    host = basic_registry.helm_host
    helpers = credential_helper(
        tmp_path / "bin", host, basic_registry.username, basic_registry.password
    )
    docker = tmp_path / "docker"
    docker.mkdir()
    (docker / "config.json").write_text(json.dumps({"credHelpers": {host: "meshtest"}}))
    code, stdout, stderr = meshcharts(
        "publish", "--to", f"oci://{host}/charts/helper", "--build-dir", str(build_dir),
        "-p", "edge", "--ca-file", str(basic_registry.ca), home=tmp_path,
        extra_env={"PATH": f"{helpers}:{os.environ['PATH']}"},
    )  # fmt: skip
    assert code == 0, stderr
    assert "(credentials: credential helper docker-credential-meshtest)" in stdout
    assert "get" in (helpers / "meshtest-calls.log").read_text()


def test_overloaded_registry_is_retried_then_the_publish_completes(
    flaky_proxy: object, basic_registry: SecureRegistry, build_dir: Path, tmp_path: Path
) -> None:
    proxy = flaky_proxy(basic_registry, [503, 503, (429, {"Retry-After": "1"})])  # type: ignore[operator]
    proxy.reply_headers.append(("POST", "/blobs/uploads/", {"OCI-Chunk-Min-Length": "1"}))
    host = proxy.helm_host
    code, stdout, stderr = meshcharts(
        "publish", "--to", f"oci://{host}/charts/flaky", "--build-dir", str(build_dir),
        "-p", "edge", "--ca-file", str(basic_registry.ca), "--username",
        basic_registry.username, "--password-stdin", home=tmp_path,
        stdin=basic_registry.password,
    )  # fmt: skip
    assert code == 0, stderr
    scripted = [r.status for r in proxy.requests if r.scripted]
    assert scripted == [503, 503, 429]
    methods = [r.method for r in proxy.requests if not r.scripted]
    assert "PATCH" in methods, "the registry asked for chunks: the upload must PATCH"
    tags = basic_registry.request(
        "/v2/charts/flaky/gateways/tags/list",
        headers={"Authorization": basic_registry.basic_auth()},
    )
    assert tags[0] == 200 and json.loads(tags[2])["tags"] == ["1.0.6"]


def _published(registry: SecureRegistry, repo: str) -> bool:
    status, _, body = registry.request(
        f"/v2/{repo}/tags/list", headers={"Authorization": registry.basic_auth()}
    )
    return status == 200 and bool(json.loads(body).get("tags"))


@pytest.mark.parametrize(
    ("case", "parts"),
    [
        (
            "wrong-password",
            ["registry LOCALHOST", "unauthorized", "--username and --password-stdin"],
        ),
        ("untrusted-ca", ["TLS certificate not trusted", "--ca-file"]),
        ("anonymous", ["asks for credentials", "meshcharts registry login"]),
    ],
)
def test_refusals_are_one_line_and_publish_nothing(
    basic_registry: SecureRegistry,
    registry_pki: object,
    build_dir: Path,
    tmp_path: Path,
    case: str,
    parts: list[str],
) -> None:
    repo = f"charts/refused-{case}"
    args = ["publish", "--to", f"oci://{basic_registry.helm_host}/{repo}", "--build-dir",
            str(build_dir), "-p", "edge"]  # fmt: skip
    ca = registry_pki.other_ca_pem if case == "untrusted-ca" else basic_registry.ca  # type: ignore[attr-defined]
    args += ["--ca-file", str(ca)]
    stdin = ""
    if case != "anonymous":
        args += ["--username", basic_registry.username, "--password-stdin"]
        stdin = "wrong" if case == "wrong-password" else basic_registry.password
    code, _, stderr = meshcharts(*args, home=tmp_path, stdin=stdin)
    assert_one_line_error(code, stderr, *parts)
    assert "wrong" not in stderr and basic_registry.password not in stderr
    assert not _published(basic_registry, f"{repo}/gateways")


def test_token_refusals_name_the_repository(
    token_registry: SecureRegistry, build_dir: Path, tmp_path: Path
) -> None:
    assert token_registry.issuer is not None
    host = token_registry.helm_host
    args = ("publish", "--build-dir", str(build_dir), "-p", "edge", "--ca-file",
            str(token_registry.ca), "--username", token_registry.username, "--password-stdin")  # fmt: skip
    with token_registry.issuer.configured(deny_push=True):
        code, _, stderr = meshcharts(
            *args, "--to", f"oci://{host}/charts/no-push", home=tmp_path,
            stdin=token_registry.password,
        )  # fmt: skip
    assert_one_line_error(code, stderr, f"registry {host}", "repository charts/no-push/gateways")
    with token_registry.issuer.configured(lifetime=-120):  # expired when issued
        code, _, stderr = meshcharts(
            *args, "--to", f"oci://{host}/charts/expired", home=tmp_path,
            stdin=token_registry.password,
        )  # fmt: skip
    assert_one_line_error(code, stderr, f"registry {host}", "unauthorized")
    code, _, stderr = meshcharts(
        *args, "--to", f"oci://{host}/charts/wrong", home=tmp_path, stdin="wrong"
    )
    assert_one_line_error(
        code, stderr, "the token service", "refused --username and --password-stdin"
    )


def test_release_diff_pulls_the_published_package(
    basic_registry: SecureRegistry, build_dir: Path, tmp_path: Path
) -> None:
    host = basic_registry.helm_host
    common = ("--ca-file", str(basic_registry.ca), "--username", basic_registry.username,
              "--password-stdin")  # fmt: skip
    code, _, stderr = meshcharts(
        "publish", "--to", f"oci://{host}/charts/released", "--build-dir", str(build_dir),
        "-p", "edge", *common, home=tmp_path, stdin=basic_registry.password,
    )  # fmt: skip
    assert code == 0, stderr
    newer = tmp_path / "newer"
    packages = build_packages(load_profiles(), ["edge"], version="1.0.7")
    write_build(packages, newer)
    new = newer / "edge" / "gateways-1.0.7.tgz"
    ref = f"oci://{host}/charts/released/gateways:1.0.6"
    code, stdout, stderr = meshcharts(
        "release-diff", ref, str(new), *common, "--format", "json", home=tmp_path,
        stdin=basic_registry.password,
    )  # fmt: skip
    assert code == 0, stderr
    report = json.loads(stdout)
    assert report["old"] == ref
    assert report["new"] == str(new)
    code, _, stderr = meshcharts(
        "release-diff", f"oci://{host}/charts/released/gateways:9.9.9", str(new), *common,
        home=tmp_path, stdin=basic_registry.password,
    )  # fmt: skip
    assert_one_line_error(code, stderr, "gateways:9.9.9", "no such chart")


def test_folder_publish_with_an_absolute_url(build_dir: Path, tmp_path: Path) -> None:
    repo = tmp_path / "site"
    repo.mkdir()
    (repo / "index.yaml").write_text(
        "apiVersion: v1\nentries:\n  old:\n  - name: old\n    version: 0.1.0\n"
        '    created: "2020-01-01T00:00:00.123456789Z"\n    digest: abc\n    urls:\n'
        '    - old-0.1.0.tgz\ngenerated: "2020-01-01T00:00:00Z"\n'
    )
    before = (repo / "index.yaml").read_text()
    code, _, stderr = meshcharts(
        "publish", "--to", str(repo), "--build-dir", str(build_dir), "-p", "edge",
        "--url", "https://charts.example.com/mesh/", home=tmp_path,
    )  # fmt: skip
    assert code == 0, stderr
    index = yaml.safe_load((repo / "index.yaml").read_text())
    assert index["entries"]["gateways"][0]["urls"] == [
        "https://charts.example.com/mesh/gateways-1.0.6.tgz"
    ]
    old_block = before.split("entries:\n", 1)[1].split("generated:", 1)[0]
    assert old_block in (repo / "index.yaml").read_text()  # byte for byte
    code, _, stderr = meshcharts(
        "publish", "--to", str(tmp_path / "other"), "--build-dir", str(build_dir),
        "--url", "ftp://x", home=tmp_path,
    )  # fmt: skip
    assert_one_line_error(code, stderr, "--url ftp://x", "absolute http(s) URL")


def test_build_previous_compares_with_what_the_registry_holds(
    basic_registry: SecureRegistry, build_dir: Path, tmp_path: Path
) -> None:
    host = basic_registry.helm_host
    common = ("--ca-file", str(basic_registry.ca), "--username", basic_registry.username,
              "--password-stdin")  # fmt: skip
    code, _, stderr = meshcharts(
        "publish", "--to", f"oci://{host}/prev", "--build-dir", str(build_dir), *common,
        home=tmp_path, stdin=basic_registry.password,
    )  # fmt: skip
    assert code == 0, stderr
    build = ("build", "-p", "edge", "--version", "1.0.7", "--previous", f"oci://{host}/prev")
    code, stdout, stderr = meshcharts(
        *build, "--build-dir", str(tmp_path / "ok"), *common, "--format", "json",
        home=tmp_path, stdin=basic_registry.password,
    )  # fmt: skip
    assert code == 0, stderr
    (comparison,) = json.loads(stdout)["comparisons"]
    assert comparison["previous"] == f"oci://{host}/prev/edge/gateways:1.0.6"
    assert comparison["breaking"] is False
    # A new selector label cannot be applied by helm upgrade: refused, nothing written.
    code, _, stderr = meshcharts(
        *build, "--build-dir", str(tmp_path / "refused"), *common,
        "--set", "gateways.istio-ingressgateway.labels.istio=edge",
        home=tmp_path, stdin=basic_registry.password,
    )  # fmt: skip
    assert code == 2, stderr
    assert f"--previous oci://{host}/prev" in stderr
    assert "breaking changes for helm upgrade in edge/gateways-1.0.7.tgz" in stderr
    assert not (tmp_path / "refused").exists()


@pytest.mark.parametrize(
    ("tags", "version", "revision", "expected"),
    [
        (["1.0.5", "1.0.6", "1.0.7", "1.0.6-canary"], "1.0.7", "", "1.0.6"),
        (["1.0.5", "1.0.6-canary", "1.0.5-canary"], "1.0.7-canary", "canary", "1.0.6-canary"),
        (["1.0.7", "2.0.0", "sha256-abc.sig"], "1.0.7", "", None),
        (["1.0.6_build.1", "1.0.6"], "1.1.0", "", "1.0.6_build.1"),
        ([], "1.0.0", "", None),
    ],
)
def test_the_previous_release_is_the_highest_version_below(
    tags: list[str], version: str, revision: str, expected: str | None
) -> None:
    from meshcharts.publish.pull import previous_tag

    assert previous_tag(tags, version, revision) == expected


def test_client_certificates_and_skipping_verification(
    registry_pki: object, build_dir: Path, tmp_path: Path
) -> None:
    from secure_registry import Pki, start_secure_registry

    assert isinstance(registry_pki, Pki)
    with start_secure_registry(tmp_path / "mtls", registry_pki, "basic", client_ca=True) as mtls:
        base = ["publish", "--build-dir", str(build_dir), "-p", "edge", "--username",
                mtls.username, "--password-stdin"]  # fmt: skip
        code, _, stderr = meshcharts(
            *base, "--to", f"oci://{mtls.helm_host}/charts/nocert", "--ca-file", str(mtls.ca),
            home=tmp_path, stdin=mtls.password,
        )  # fmt: skip
        assert_one_line_error(
            code, stderr, f"registry {mtls.helm_host}", "TLS handshake failed", "--cert-file"
        )
        code, stdout, stderr = meshcharts(
            *base, "--to", f"oci://{mtls.helm_host}/charts/cert", "--ca-file", str(mtls.ca),
            "--cert-file", str(registry_pki.client_cert), "--key-file",
            str(registry_pki.client_key), home=tmp_path, stdin=mtls.password,
        )  # fmt: skip
        assert code == 0, stderr
        assert "published 1 package" in stdout
        # An untrusted CA is refused, unless the check is skipped on purpose.
        code, stdout, stderr = meshcharts(
            *base, "--to", f"oci://{mtls.helm_host}/charts/insecure",
            "--ca-file", str(registry_pki.other_ca_pem), "--insecure-skip-tls-verify",
            "--cert-file", str(registry_pki.client_cert), "--key-file",
            str(registry_pki.client_key), home=tmp_path, stdin=mtls.password,
        )  # fmt: skip
        assert code == 0, stderr


def test_bad_tls_files_are_one_line_errors(build_dir: Path, tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a certificate\n")
    for flag in ("--ca-file", "--cert-file"):
        code, _, stderr = meshcharts(
            "publish", "--to", "oci://LOCALHOST:9/charts", "--build-dir", str(build_dir),
            "-p", "edge", flag, str(garbage), home=tmp_path,
        )  # fmt: skip
        assert_one_line_error(code, stderr, f"{flag} {garbage}", "cannot be loaded")
