"""Signed provenance files (``helm verify`` under both Helms) and build inputs in Chart.yaml."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from tools import HELM3, HELM4, helm_binaries, run_helm
from typer.testing import CliRunner

from meshcharts import build_packages, load_profiles
from meshcharts.chart.buildinfo import (
    GOLDEN_SOURCE_COMMIT,
    generator_version,
    source_commit,
    values_digest,
)
from meshcharts.cli import app
from meshcharts.errors import UserError
from meshcharts.release.signing import provenance_body

runner = CliRunner()
PROFILES = load_profiles()
KEY = "meshcharts-test@example.com"


def _gpg(home: Path, *args: str) -> bytes:
    env = {**os.environ, "GNUPGHOME": str(home)}
    return subprocess.run(
        ["gpg", "--batch", *args], env=env, check=True, capture_output=True, timeout=120
    ).stdout


@pytest.fixture(scope="module")
def gnupg() -> Iterator[Path]:
    """A throwaway GnuPG home with a passphrase-less signing key (short path: agent socket)."""
    home = Path(tempfile.mkdtemp(prefix="mcgpg-"))
    home.chmod(0o700)
    try:
        _gpg(home, "--passphrase", "", "--quick-gen-key", f"Mesh Test <{KEY}>", "rsa3072", "sign")
        # Helm reads the legacy keyring format that `gpg --export` writes.
        (home / "pubring.gpg").write_bytes(_gpg(home, "--export"))
        (home / "secring.gpg").write_bytes(_gpg(home, "--export-secret-keys"))
        yield home
    finally:
        env = {**os.environ, "GNUPGHOME": str(home)}
        subprocess.run(["gpgconf", "--kill", "gpg-agent"], env=env, check=False, timeout=30)
        shutil.rmtree(home, ignore_errors=True)


def _build(out: Path, *args: str) -> dict[str, object]:
    result = runner.invoke(app, ["build", "-p", "minimal", "--build-dir", str(out), *args])
    assert result.exit_code == 0, result.output
    record = json.loads((out / "build.json").read_text())
    assert isinstance(record, dict)
    return record


@pytest.mark.parametrize("keyring", ["home", "file"])
def test_signed_build_verifies_with_both_helms(
    tmp_path: Path, gnupg: Path, keyring: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_COMMIT", "abc123")
    ring = gnupg if keyring == "home" else gnupg / "secring.gpg"
    record = _build(tmp_path / "signed", "--sign", KEY, "--keyring", str(ring))
    unsigned = _build(tmp_path / "plain")
    packages = record["packages"]
    assert isinstance(packages, list) and packages
    for entry, plain in zip(packages, unsigned["packages"], strict=True):  # type: ignore[call-overload]
        assert entry["provenance"] == entry["path"] + ".prov"
        assert "provenance" not in plain
        # Signing does not change the (reproducible) package.
        assert entry["sha256"] == plain["sha256"]
        package = tmp_path / "signed" / entry["path"]
        prov = Path(f"{package}.prov").read_text()
        assert prov.startswith("-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n\n")
        assert f"files:\n  {package.name}: sha256:{entry['sha256']}\n" in prov
        for version in (HELM3, HELM4):
            result = run_helm(
                helm_binaries()[version],
                "verify",
                str(package),
                "--keyring",
                str(gnupg / "pubring.gpg"),
                check=False,
            )
            assert result.returncode == 0, (version, result.stdout, result.stderr)
            assert f"Chart Hash Verified: sha256:{entry['sha256']}" in result.stdout


def test_a_tampered_package_fails_helm_verify(tmp_path: Path, gnupg: Path) -> None:
    record = _build(tmp_path / "out", "--sign", KEY, "--keyring", str(gnupg))
    entry = record["packages"][0]  # type: ignore[index]
    package = tmp_path / "out" / entry["path"]
    package.write_bytes(package.read_bytes() + b"\0")
    for version in (HELM3, HELM4):
        result = run_helm(
            helm_binaries()[version],
            "verify",
            str(package),
            "--keyring",
            str(gnupg / "pubring.gpg"),
            check=False,
        )
        assert result.returncode != 0, version


def test_body_is_byte_identical_to_helms_own(tmp_path: Path, gnupg: Path) -> None:
    package = build_packages(PROFILES, ["minimal"], version="1.0.6", revisions=())[0]
    name = f"{package.tree.name}-1.0.6.tgz"
    body = provenance_body(package.tree.metadata, name, package.data)
    chart = tmp_path / "chart"
    with tarfile.open(fileobj=__import__("io").BytesIO(package.data)) as archive:
        archive.extractall(chart, filter="data")
    out = tmp_path / "helm"
    run_helm(
        helm_binaries()[HELM3],
        "package",
        str(chart / package.tree.name),
        "--sign",
        "--key",
        KEY,
        "--keyring",
        str(gnupg / "secring.gpg"),
        "-d",
        str(out),
    )
    helm_prov = (out / f"{name}.prov").read_text()
    helm_body = helm_prov.split("Hash: SHA512\n\n", 1)[1].split("-----BEGIN PGP SIGNATURE", 1)[0]
    # Helm repacks the archive (other bytes), so only the hash line differs.
    mine, theirs = body.splitlines(), helm_body.replace("\n- ", "\n").splitlines()
    assert len(mine) == len(theirs)
    assert mine[:-1] == theirs[:-1]
    assert mine[-1].split(": sha256:")[0] == theirs[-1].split(": sha256:")[0]


def test_unknown_key_is_a_user_error_and_nothing_is_written(tmp_path: Path, gnupg: Path) -> None:
    out = tmp_path / "out"
    result = runner.invoke(
        app,
        [
            "build",
            "-p",
            "minimal",
            "--build-dir",
            str(out),
            "--sign",
            "nobody@nowhere",
            "--keyring",
            str(gnupg),
        ],
    )
    assert result.exit_code == 2
    assert "--sign nobody@nowhere" in result.stderr
    assert not out.exists()
    missing = runner.invoke(
        app,
        [
            "build",
            "-p",
            "minimal",
            "--build-dir",
            str(out),
            "--sign",
            KEY,
            "--keyring",
            str(tmp_path / "no"),
        ],
    )
    assert missing.exit_code == 2
    assert not out.exists()


# --- build inputs -------------------------------------------------------------------------


def test_build_inputs_are_chart_annotations(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_COMMIT", "f00d")
    packages = build_packages(PROFILES, ["minimal"], version="1.0.6")
    assert packages, "no package built"
    for package in packages:
        chart = yaml.safe_load(package.tree.files["Chart.yaml"])
        values = yaml.safe_load(package.tree.files["values.yaml"]) or {}
        assert chart["annotations"] == {
            "meshcharts.io/generator-version": generator_version(),
            "meshcharts.io/profile": "minimal",
            "meshcharts.io/source-commit": "f00d",
            "meshcharts.io/values-digest": values_digest(values),
        }
    assert generator_version() == "0.1.0"


def test_values_digest_is_canonical() -> None:
    assert values_digest({"b": 1, "a": [True, "x"]}) == values_digest({"a": [True, "x"], "b": 1})
    assert values_digest({"a": 1}) != values_digest({"a": "1"})
    assert values_digest({}) == (
        "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
    )


def test_packages_are_reproducible_and_cover_the_inputs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_COMMIT", "one")
    first = build_packages(PROFILES, ["minimal"], version="1.0.6")
    again = build_packages(PROFILES, ["minimal"], version="1.0.6")
    assert [p.sha256 for p in first] == [p.sha256 for p in again]
    monkeypatch.setenv("SOURCE_COMMIT", "two")
    other = build_packages(PROFILES, ["minimal"], version="1.0.6")
    assert first, "no package built"
    assert all(a.sha256 != b.sha256 for a, b in zip(first, other, strict=True))
    fixed = build_packages(PROFILES, ["minimal"], version="1.0.6", source_commit="x")
    assert b"meshcharts.io/source-commit: x\n" in fixed[0].tree.files["Chart.yaml"]


def test_source_commit_is_explicit_or_unknown_never_git(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SOURCE_COMMIT", raising=False)
    repo = tmp_path / "repo"
    repo.mkdir()
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "commit", "-q", "--allow-empty", "-m", "x"], check=True)
    monkeypatch.chdir(repo)
    assert source_commit() == "unknown", "the working folder's HEAD is not an input"
    assert source_commit("abc123") == "abc123"
    monkeypatch.setenv("SOURCE_COMMIT", "release-7")
    assert source_commit() == "release-7"
    assert source_commit("explicit") == "explicit", "--source-commit wins over the variable"
    with pytest.raises(UserError, match="--source-commit: must be one line"):
        source_commit("a\nb")
    assert GOLDEN_SOURCE_COMMIT == "0" * 40


def test_same_inputs_same_bytes_inside_and_outside_a_git_checkout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The folder a build runs in is not an input: a checkout and a plain folder agree."""
    monkeypatch.delenv("SOURCE_COMMIT", raising=False)
    checkout, plain = tmp_path / "checkout", tmp_path / "elsewhere" / "plain"
    checkout.mkdir()
    plain.mkdir(parents=True)
    git = ["git", "-C", str(checkout), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "commit", "-q", "--allow-empty", "-m", "x"], check=True)
    digests = []
    for folder in (checkout, plain):
        monkeypatch.chdir(folder)
        result = runner.invoke(app, ["build", "-p", "minimal", "-p", "remote"])
        assert result.exit_code == 0, result.output
        out = folder / "charts_out"
        files = sorted(p for p in out.rglob("*") if p.is_file())
        assert len(files) > 6
        digests.append({p.relative_to(out).as_posix(): p.read_bytes() for p in files})
    assert digests[0] == digests[1]
