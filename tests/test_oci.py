"""Publishing to a real OCI registry (Debian's docker-registry) and pulling back with both Helms."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from registry import oci_registry_fixture  # noqa: F401 - a fixture, used by name
from tools import HELM3, HELM4, run_helm
from typer.testing import CliRunner

from meshcharts import build_packages, load_profiles, write_build
from meshcharts.cli import app
from meshcharts.errors import UserError
from meshcharts.inputs.setvalues import SetArg
from meshcharts.publish.oci import (
    CHART_LAYER,
    CONFIG_MEDIA,
    PROV_LAYER,
    OciClient,
    chart_config,
    digest_of,
)
from meshcharts.publish.publisher import load_build, oci_tag, publish, publish_oci


def make_build(out: Path, version: str = "1.0.6", sets: tuple[str, ...] = ()) -> dict[str, str]:
    """Build profile ``default`` into ``out``; returns build.json's path -> sha256."""
    packages = build_packages(
        load_profiles(), ["default"], version=version, sets=[SetArg(s) for s in sets]
    )
    write_build(packages, out)
    record = json.loads((out / "build.json").read_text())
    return {p["path"]: p["sha256"] for p in record["packages"]}


def helm_env(home: Path) -> dict[str, str]:
    return {
        "HELM_CACHE_HOME": str(home / "cache"),
        "HELM_CONFIG_HOME": str(home / "config"),
        "HELM_DATA_HOME": str(home / "data"),
    }


def pull(helm: Path, ref: str, version: str, dest: Path) -> bytes:
    """``helm pull oci://... --version V --plain-http -d DEST``; the pulled file's bytes."""
    dest.mkdir(parents=True, exist_ok=True)
    run_helm(
        helm,
        "pull",
        ref,
        "--version",
        version,
        "--plain-http",
        "-d",
        str(dest),
        env=helm_env(dest.parent / f".helm-{dest.name}"),
        timeout=120,
    )
    name = ref.rsplit("/", 1)[1]
    return (dest / f"{name}-{version}.tgz").read_bytes()


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("builds")
    make_build(root / "v106")
    make_build(root / "v106-changed", sets=("pilot.replicaCount=3",))
    make_build(root / "v107", version="1.0.7")
    return {"v106": root / "v106", "changed": root / "v106-changed", "v107": root / "v107"}


def test_publish_twice_refuse_force_and_pull_with_both_helms(
    oci_registry: str,
    builds: dict[str, Path],
    helms: dict[str, Path],
    tmp_path: Path,
) -> None:
    target = f"oci://{oci_registry}/charts"
    digests = json.loads((builds["v106"] / "build.json").read_text())["packages"]

    first = publish(builds["v106"], target, profiles=["default"], plain_http=True)
    assert [r.action for r in first] == ["pushed"] * len(digests)
    again = publish(builds["v106"], target, profiles=["default"], plain_http=True)
    assert [r.action for r in again] == ["unchanged"] * len(digests)
    assert [r.where for r in again] == [r.where for r in first]
    # Lower versions of a chart are pushed first (istio 1.0.6-canary before istio 1.0.6).
    pushed = [r.package.version for r in first if r.package.name == "istio"]
    assert pushed == ["1.0.6-canary", "1.0.6"]

    for helm_version in (HELM3, HELM4):
        for record in digests:
            data = pull(
                helms[helm_version],
                f"{target}/{record['chart']}",
                record["version"],
                tmp_path / f"pull-{helm_version}-{record['version']}",
            )
            assert hashlib.sha256(data).hexdigest() == record["sha256"], (helm_version, record)

    # A different package under a published name and version: refused, exit 2, named.
    with pytest.raises(UserError, match=r"istio 1\.0\.6: .* different package"):
        publish(builds["changed"], target, profiles=["default"], plain_http=True)
    args = ["publish", "--build-dir", str(builds["changed"]), "--to", target, "-p", "default"]
    result = CliRunner().invoke(app, [*args, "--plain-http"])
    assert result.exit_code == 2, result.output
    assert "istio 1.0.6" in result.output
    client = OciClient(oci_registry, plain_http=True, timeout=30)
    manifest = json.loads(client.manifest("charts/istio", "1.0.6") or b"{}")
    original = (builds["v106"] / "default/istio-1.0.6.tgz").read_bytes()
    assert manifest["layers"][0]["digest"] == digest_of(original)

    result = CliRunner().invoke(app, [*args, "--plain-http", "--force"])
    assert result.exit_code == 0, result.output
    assert "replaced" in result.output
    changed = json.loads((builds["changed"] / "build.json").read_text())["packages"]
    istio = next(p for p in changed if p["path"] == "default/istio-1.0.6.tgz")
    for helm_version in (HELM3, HELM4):
        data = pull(helms[helm_version], f"{target}/istio", "1.0.6", tmp_path / f"f{helm_version}")
        assert hashlib.sha256(data).hexdigest() == istio["sha256"]

    # A lower version than the newest in the registry is refused, naming both.
    publish(builds["v107"], target, profiles=["default"], plain_http=True)
    fresh = tmp_path / "v105"
    make_build(fresh, version="1.0.5")
    with pytest.raises(
        UserError, match=r"istio(-init)? 1\.0\.5: is lower than istio(-init)? 1\.0\.7"
    ):
        publish(fresh, target, profiles=["default"], plain_http=True)


def test_manifest_matches_helm_push(
    oci_registry: str,
    builds: dict[str, Path],
    helms: dict[str, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Same config blob, layer and manifest digest as ``helm push`` of a package of that mtime."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    ours = publish(
        builds["v106"], f"oci://{oci_registry}/ours", profiles=["default"], plain_http=True
    )
    client = OciClient(oci_registry, plain_http=True, timeout=30)
    assert ours, "publish pushed no package"
    for helm_version in (HELM3, HELM4):
        for result in ours:
            package = result.package
            copy = tmp_path / helm_version / package.file_name
            copy.parent.mkdir(exist_ok=True)
            shutil.copyfile(builds["v106"] / package.path, copy)
            os.utime(copy, (1700000000, 1700000000))
            repo = f"helm{helm_version.split('.')[0]}"
            run_helm(
                helms[helm_version],
                "push",
                str(copy),
                f"oci://{oci_registry}/{repo}",
                "--plain-http",
                env=helm_env(tmp_path / f"home-{helm_version}"),
                timeout=120,
            )
            theirs = client.manifest(f"{repo}/{package.name}", oci_tag(package.version))
            assert theirs is not None
            assert result.where.endswith("@" + digest_of(theirs)), (helm_version, package.path)
            config = json.loads(theirs)["config"]
            assert config["mediaType"] == CONFIG_MEDIA
            assert config["digest"] == digest_of(chart_config(package.metadata))
            assert json.loads(theirs)["layers"][0]["mediaType"] == CHART_LAYER


def test_interrupted_push_is_completed_by_a_rerun(
    oci_registry: str,
    builds: dict[str, Path],
    helms: dict[str, Path],
    tmp_path: Path,
) -> None:
    """An upload stopped after the blobs (no manifest, no tag) is invisible; a rerun finishes it."""
    client = OciClient(oci_registry, plain_http=True, timeout=30)
    packages = load_build(builds["v106"], ["default"])
    istio = next(p for p in packages if p.path == "default/istio-1.0.6.tgz")
    # What an interrupted publish leaves: blobs uploaded, manifest never written.
    client.push_blob("interrupted/istio", chart_config(istio.metadata))
    client.push_blob("interrupted/istio", istio.data)
    assert client.tags("interrupted/istio") == []
    assert client.manifest("interrupted/istio", "1.0.6") is None

    results = publish_oci(packages, f"oci://{oci_registry}/interrupted", plain_http=True)
    assert [r.action for r in results] == ["pushed"] * len(packages)
    assert sorted(client.tags("interrupted/istio")) == ["1.0.6", "1.0.6-canary"]
    data = pull(helms[HELM4], f"oci://{oci_registry}/interrupted/istio", "1.0.6", tmp_path / "p")
    assert data == istio.data


def test_provenance_layer_and_per_profile_paths(
    oci_registry: str,
    builds: dict[str, Path],
    tmp_path: Path,
) -> None:
    source = tmp_path / "signed"
    shutil.copytree(builds["v106"], source)
    prov = b"-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n\n(test body)\n"
    (source / "default/istio-1.0.6.tgz.prov").write_bytes(prov)
    results = publish(source, f"oci://{oci_registry}/signed", plain_http=True)
    assert {r.where.split("@")[0] for r in results} == {
        f"oci://{oci_registry}/signed/default/istio-init:1.0.6",
        f"oci://{oci_registry}/signed/default/istio:1.0.6",
        f"oci://{oci_registry}/signed/default/istio:1.0.6-canary",
    }
    client = OciClient(oci_registry, plain_http=True, timeout=30)
    manifest = json.loads(client.manifest("signed/default/istio", "1.0.6") or b"{}")
    assert [layer["mediaType"] for layer in manifest["layers"]] == [CHART_LAYER, PROV_LAYER]
    assert manifest["layers"][1]["digest"] == digest_of(prov)
    assert client.blob_exists("signed/default/istio", digest_of(prov))
    canary = json.loads(client.manifest("signed/default/istio", "1.0.6-canary") or b"{}")
    assert [layer["mediaType"] for layer in canary["layers"]] == [CHART_LAYER]


def test_build_metadata_tag_and_bad_targets() -> None:
    assert oci_tag("1.2.3-rc.1+build.5") == "1.2.3-rc.1_build.5"
    with pytest.raises(UserError, match="not an oci://"):
        publish_oci([], "oci:///charts")
    with pytest.raises(UserError, match="registry unreachable"):
        OciClient("127.0.0.1:1", plain_http=True, timeout=5).ping()


class _FailFirstManifestPut(BaseHTTPRequestHandler):
    """Forwards to the registry, except that one manifest PUT gets a 500.

    ``failed`` is shared with the test: its first item is the number of the manifest PUT to
    reject (1 = the first); the rejected path is appended once it happened.
    """

    upstream = ""
    failed: list[object] = []
    puts: list[str] = []

    def _forward(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        manifest_put = self.command == "PUT" and "/manifests/" in self.path
        if manifest_put and len(self.failed) == 1:
            self.puts.append(self.path)
            if len(self.puts) == self.failed[0]:
                self.failed.append(self.path)
                self.send_response(500)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host",)}
        request = urllib.request.Request(
            self.upstream + self.path, data=body or None, method=self.command, headers=headers
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status, head, data = response.status, response.headers, response.read()
        except urllib.error.HTTPError as exc:
            status, head, data = exc.code, exc.headers, exc.read()
        self.send_response(status)
        for key, value in head.items():
            if key.lower() not in ("content-length", "connection", "transfer-encoding", "date"):
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_HEAD = do_POST = do_PUT = _forward

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def failing_proxy(oci_registry: str) -> Iterator[tuple[str, list[object]]]:
    failed: list[object] = [1]
    handler = type(
        "Handler",
        (_FailFirstManifestPut,),
        {"upstream": f"http://{oci_registry}", "failed": failed, "puts": []},
    )
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1})
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}", failed
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def test_manifest_put_rejected_once_then_rerun(
    oci_registry: str,
    failing_proxy: tuple[str, list[object]],
    builds: dict[str, Path],
    helms: dict[str, Path],
    tmp_path: Path,
) -> None:
    """The registry rejects the first manifest PUT: exit 2, nothing tagged; a rerun completes."""
    proxy, failed = failing_proxy
    args = ["publish", "--build-dir", str(builds["v106"]), "-p", "default", "--plain-http"]
    result = CliRunner().invoke(app, [*args, "--to", f"oci://{proxy}/rejected"])
    assert result.exit_code == 2, result.output
    assert "HTTP 500" in result.output
    assert len(failed) == 2
    client = OciClient(oci_registry, plain_http=True, timeout=30)
    assert client.tags("rejected/istio-init") == client.tags("rejected/istio") == []
    result = CliRunner().invoke(app, [*args, "--to", f"oci://{proxy}/rejected"])
    assert result.exit_code == 0, result.output
    assert "published 3 packages, 0 unchanged" in result.output
    for record in json.loads((builds["v106"] / "build.json").read_text())["packages"]:
        data = pull(
            helms[HELM3],
            f"oci://{oci_registry}/rejected/{record['chart']}",
            record["version"],
            tmp_path / record["version"],
        )
        assert hashlib.sha256(data).hexdigest() == record["sha256"]


def test_signed_build_pulls_and_verifies_with_both_helms(
    oci_registry: str,
    helms: dict[str, Path],
    tmp_path: Path,
) -> None:
    """`build --sign` then publish: the provenance layer lets `helm pull --verify` check it."""
    home = Path(tempfile.mkdtemp(prefix="mcpub-gpg-"))  # short: gpg-agent's socket path
    home.chmod(0o700)
    env = {**os.environ, "GNUPGHOME": str(home)}
    try:
        subprocess.run(
            ["gpg", "--batch", "--passphrase", "", "--quick-gen-key", "Pub <pub@example.invalid>"]
            + ["rsa2048", "sign"],
            env=env,
            check=True,
            capture_output=True,
            timeout=120,
        )
        exported = subprocess.run(
            ["gpg", "--batch", "--export"], env=env, check=True, capture_output=True, timeout=60
        )
        (tmp_path / "pubring.gpg").write_bytes(exported.stdout)
        out = tmp_path / "out"
        args = ["build", "-p", "minimal", "--build-dir", str(out), "--sign", "pub@example.invalid"]
        result = CliRunner().invoke(app, [*args, "--keyring", str(home)])
        assert result.exit_code == 0, result.output
    finally:
        subprocess.run(["gpgconf", "--kill", "gpg-agent"], env=env, check=False, timeout=30)
        shutil.rmtree(home, ignore_errors=True)
    results = publish(out, f"oci://{oci_registry}/verified", profiles=["minimal"], plain_http=True)
    assert [r.action for r in results] == ["pushed"] * 3
    for helm_version in (HELM3, HELM4):
        dest = tmp_path / helm_version
        dest.mkdir()
        run_helm(
            helms[helm_version],
            "pull",
            f"oci://{oci_registry}/verified/istio",
            "--version",
            "1.0.6",
            "--plain-http",
            "--verify",
            "--keyring",
            str(tmp_path / "pubring.gpg"),
            "-d",
            str(dest),
            env=helm_env(tmp_path / f"home-{helm_version}"),
            timeout=120,
        )
        assert (dest / "istio-1.0.6.tgz").read_bytes() == (
            out / "minimal/istio-1.0.6.tgz"
        ).read_bytes()
        assert (dest / "istio-1.0.6.tgz.prov").read_bytes() == (
            out / "minimal/istio-1.0.6.tgz.prov"
        ).read_bytes()


def test_push_interrupted_between_two_tags_then_rerun(
    oci_registry: str,
    failing_proxy: tuple[str, list[object]],
    builds: dict[str, Path],
) -> None:
    """istio 1.0.6-canary is tagged, then the PUT of istio 1.0.6 fails: the rerun completes it."""
    proxy, failed = failing_proxy
    failed[0] = 3  # istio-init 1.0.6, istio 1.0.6-canary, then istio 1.0.6
    target = f"oci://{proxy}/between"
    with pytest.raises(UserError, match="HTTP 500"):
        publish(builds["v106"], target, profiles=["default"], plain_http=True)
    assert failed[1] == "/v2/between/istio/manifests/1.0.6"
    client = OciClient(oci_registry, plain_http=True, timeout=30)
    assert client.tags("between/istio") == ["1.0.6-canary"]
    results = publish(builds["v106"], target, profiles=["default"], plain_http=True)
    assert [(r.package.version, r.action) for r in results if r.package.name == "istio"] == [
        ("1.0.6-canary", "unchanged"),
        ("1.0.6", "pushed"),
    ]
    assert sorted(client.tags("between/istio")) == ["1.0.6", "1.0.6-canary"]
