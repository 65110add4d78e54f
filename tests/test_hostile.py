"""Hostile and broken input: bounded in memory and time, contained to its target, one line.

Every case makes its input here (never a large file in the repository) and runs the real
command in a subprocess under a 1.5 GiB address-space cap and a time limit, then checks the
contract: exit 2, one line on stderr, no traceback, nothing written outside the target and
the target unchanged where the command refused.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import os
import resource
import subprocess
import sys
import tarfile
import threading
import zlib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from meshcharts import build_packages, load_profiles, write_build
from meshcharts.base.fsutil import clean_stale, staged_dir
from meshcharts.cli import run

MEMORY_CAP = 1536 * 1024 * 1024
TIME_LIMIT = 120  # seconds; each case takes a few (a cap, not a measurement)


def _cap_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))


def meshcharts(cwd: Path, *args: str) -> tuple[int, str, str]:
    """Run ``python -m meshcharts ARGS`` capped in memory and time."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MESHCHARTS_DEBUG")}
    proc = subprocess.run(
        [sys.executable, "-m", "meshcharts", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=TIME_LIMIT,
        preexec_fn=_cap_memory,
        env=env,
        check=False,
    )
    return proc.returncode, proc.stdout, proc.stderr


def refused(cwd: Path, *args: str, expect: str) -> str:
    """Assert the one-line refusal contract; return the line."""
    code, _, stderr = meshcharts(cwd, *args)
    assert "Traceback" not in stderr, stderr
    lines = stderr.splitlines()
    assert (code, len(lines)) == (2, 1), stderr
    assert lines[0].startswith("error: "), stderr
    assert expect in lines[0], lines[0]
    return lines[0]


def snapshot(root: Path) -> dict[str, bytes | str]:
    return {
        p.relative_to(root).as_posix(): (
            f"link:{p.readlink()}" if p.is_symlink() else p.read_bytes() if p.is_file() else "dir"
        )
        for p in sorted(root.rglob("*"))
    }


@pytest.fixture
def work(tmp_path: Path) -> Path:
    folder = tmp_path / "work"
    folder.mkdir()
    return folder


# --- memory: YAML aliases, nesting, archives -------------------------------------------------


def laughs(levels: int = 9, width: int = 10) -> str:
    lines = ["a0: &a0 [" + ", ".join(["lol"] * width) + "]"]
    lines += [f"a{n}: &a{n} [" + ", ".join([f"*a{n - 1}"] * width) + "]" for n in range(1, levels)]
    return "\n".join(lines) + "\n"


def env_file(folder: Path, values: str) -> Path:
    path = folder / "bomb.yaml"
    body = "".join(f"  {line}\n" for line in values.splitlines())
    path.write_text(f"name: bomb\nprofile: default\nvalues:\n{body}")
    return path


@pytest.mark.parametrize(
    ("values", "expect"),
    [
        (laughs(), "expands to more than 1000000 nodes (YAML aliases)"),
        ("deep: " + "[" * 500 + "]" * 500, "nested deeper than 100 levels"),
        ("pilot: {replicaCount: " + "9" * 5000 + "}", "an integer beyond 2^53"),
        ("pilot: {replicaCount: .nan}", ".nan is not a JSON number"),
    ],
    ids=["aliases", "nesting", "5000-digits", "nan"],
)
def test_hostile_environment_files(work: Path, values: str, expect: str) -> None:
    path = env_file(work, values)
    assert path.stat().st_size < 1024 * 1024
    before = snapshot(work)
    refused(work, "values", "--env", str(path), expect=expect)
    refused(work, "build", "--env", str(path), "-p", "default", expect=expect)
    assert snapshot(work) == before


def _tgz(entries: list[tuple[str, bytes]], *, kind: bytes = tarfile.REGTYPE) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        for name, data in entries:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.type = kind if name.endswith("evil") else tarfile.REGTYPE
            if info.type == tarfile.SYMTYPE:
                info.linkname = "/etc/passwd"
                info.size = 0
                data = b""
            tar.addfile(info, io.BytesIO(data))
    return gzip.compress(raw.getvalue(), compresslevel=9)


def _bomb(size: int) -> bytes:
    """A .tgz of one file of ``size`` zero bytes, built in streaming fashion (small output)."""
    header = tarfile.TarInfo("istio/templates/zeros.yaml")
    header.size = size
    deflate = zlib.compressobj(9, zlib.DEFLATED, 31)
    parts = [deflate.compress(header.tobuf(format=tarfile.USTAR_FORMAT))]
    block = b"\0" * (1 << 20)
    for _ in range(size // len(block)):
        parts.append(deflate.compress(block))
    parts.append(deflate.compress(b"\0" * 1024))
    parts.append(deflate.flush())
    return b"".join(parts)


CHART = b"apiVersion: v2\nname: istio\nversion: 1.0.6\n"


@pytest.mark.parametrize(
    ("data", "expect"),
    [
        (lambda: _bomb(300 * 1024 * 1024), "unpacks to more than 100 MiB"),
        (lambda: _tgz([("../evil", b"x")]), "points outside the chart"),
        (lambda: _tgz([("/abs", b"x")]), "points outside the chart"),
        (
            lambda: _tgz([("istio/Chart.yaml", CHART), ("istio/evil", b"")], kind=tarfile.SYMTYPE),
            "is not a regular file",
        ),
        (
            lambda: _tgz([("istio/Chart.yaml", CHART), ("istio/values.yaml", laughs().encode())]),
            "expands to more than 1000000 nodes",
        ),
        (lambda: b"not gzip at all", "not a chart package (.tgz)"),
    ],
    ids=["gzip-bomb", "dotdot", "absolute", "link", "values-aliases", "garbage"],
)
def test_hostile_packages(work: Path, data: object, expect: str) -> None:
    body = data()  # type: ignore[operator]
    assert isinstance(body, bytes) and len(body) < 1024 * 1024
    (work / "a.tgz").write_bytes(body)
    (work / "b.tgz").write_bytes(body)
    before = snapshot(work.parent)
    refused(work, "diff", "a.tgz", "b.tgz", expect=expect)
    refused(work, "release-diff", "a.tgz", "b.tgz", expect=expect)
    assert snapshot(work.parent) == before


def _template_package(template: str) -> bytes:
    return _tgz(
        [
            ("istio/Chart.yaml", CHART),
            ("istio/values.yaml", b"{}\n"),
            ("istio/templates/t.yaml", template.encode()),
        ]
    )


@pytest.mark.parametrize(
    ("template", "expect"),
    [
        ("{{ range 100000000 }}x{{ end }}", "does more than 20000000 steps"),
        ('{{ repeat 1000000000 "xx" }}', "would write more than"),
        (
            '{{ mustRegexMatch "(a+)+$" "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!" }}',
            "repeats a repetition",
        ),
        ("{{ until 1000000000 | len }}", "a sequence of more than"),
        ('x: {{ printf "%999999999d" 1 | len }}', ""),
    ],
    ids=["range", "repeat", "regexp", "until", "printf-width"],
)
def test_templates_are_bounded_and_name_their_line(work: Path, template: str, expect: str) -> None:
    (work / "a.tgz").write_bytes(_template_package(template))
    (work / "b.tgz").write_bytes(_template_package("x: 1\n"))
    if not expect:  # Go ignores a width beyond 1e6: nothing to refuse, and it stays quick
        code, stdout, stderr = meshcharts(work, "diff", "a.tgz", "b.tgz")
        assert (code, stderr) == (0, ""), stdout
        return
    line = refused(work, "diff", "a.tgz", "b.tgz", expect=expect)
    assert "istio/templates/t.yaml:1" in line


# --- containment: build.json, provenance, special files, links --------------------------------


@pytest.fixture(scope="module")
def build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("hostile-build") / "out"
    write_build(build_packages(load_profiles(), ["minimal"], version="1.0.6"), out)
    return out


def _tampered(build: Path, work: Path, change: object) -> Path:
    copy = work / "build"
    subprocess.run(["cp", "-r", str(build), str(copy)], check=True)
    record = json.loads((copy / "build.json").read_text())
    change(record)  # type: ignore[operator]
    (copy / "build.json").write_text(json.dumps(record))
    return copy


def _set(key: str, value: object) -> object:
    def change(record: dict[str, list[dict[str, object]]]) -> None:
        record["packages"][0][key] = value

    return change


@pytest.mark.parametrize(
    ("change", "expect"),
    [
        (_set("profile", "../../x"), "not a DNS-1123 label"),
        (_set("path", "../../../etc/passwd"), "must be 'minimal/istio-init-1.0.6.tgz'"),
        (_set("provenance", "/etc/passwd"), "provenance must be"),
        (_set("sha256", 7), "sha256 must be a one-line string"),
        (lambda record: record.clear(), 'no "packages" list'),
    ],
    ids=["profile", "path", "provenance", "digest-type", "empty"],
)
def test_publish_trusts_nothing_in_build_json(
    build: Path, work: Path, change: object, expect: str
) -> None:
    source = _tampered(build, work, change)
    target = work / "repo"
    before = snapshot(work.parent)
    refused(work, "publish", "--build-dir", str(source), "--to", str(target), expect=expect)
    assert snapshot(work.parent) == before


def refused_publish(work: Path, source: Path, expect: str) -> None:
    """A publish of ``source`` into ``work/repo`` is refused, and the repository not made."""
    refused(work, "publish", "--build-dir", str(source), "--to", str(work / "repo"), expect=expect)
    assert not (work / "repo").exists()


def test_a_package_that_is_a_link_out_of_the_build_is_refused(build: Path, work: Path) -> None:
    source = _tampered(build, work, lambda record: None)
    package = source / "minimal" / "istio-init-1.0.6.tgz"
    outside = work / "outside.tgz"
    package.replace(outside)
    package.symlink_to(outside)
    refused_publish(work, source, "leads outside")


def test_deep_json_in_build_json(build: Path, work: Path) -> None:
    source = _tampered(build, work, lambda record: None)
    (source / "build.json").write_text('{"packages": ' + "[" * 100000 + "]" * 100000 + "}")
    refused_publish(work, source, "nested deeper than 100 levels")


def test_a_bad_index_is_refused_before_any_copy(build: Path, work: Path) -> None:
    repo = work / "repo"
    repo.mkdir()
    (repo / "index.yaml").write_text(
        "apiVersion: v1\nentries:\n  istio:\n    - name: istio\n      version: not-semver\n"
        "      created: x\n"
    )
    refused(
        work,
        "publish",
        "--build-dir",
        str(build),
        "-p",
        "minimal",
        "--to",
        str(repo),
        expect="without a SemVer version",
    )
    assert sorted(p.name for p in repo.iterdir()) == ["index.yaml"]


@pytest.mark.parametrize("kind", ["fifo", "link", "folder"])
def test_values_out_never_replaces_what_is_not_a_file(work: Path, kind: str) -> None:
    target = work / "out.yaml"
    if kind == "fifo":
        os.mkfifo(target)
    elif kind == "link":
        (work / "precious").write_text("mine\n")
        target.symlink_to(work / "precious")
    else:
        target.mkdir()
    before = snapshot(work)
    refused(work, "values", "-p", "minimal", "--out", str(target), expect="--out")
    assert snapshot(work) == before


def test_version_bump_does_not_write_through_a_planted_link(work: Path) -> None:
    victim = work / "victim.txt"
    victim.write_text("untouched\n")
    for name in (".meshcharts.toml.tmp", ".meshcharts.toml.tmp-1"):
        (work / name).symlink_to(victim)
    code, stdout, stderr = meshcharts(work, "version", "bump", "patch")
    assert code == 0, stderr
    assert victim.read_text() == "untouched\n"
    assert (work / "meshcharts.toml").read_text() == '[chart]\nversion = "1.0.7"\n'


# --- one line, always ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "expect"),
    [
        (
            ["build", "-p", "minimal", "--version", "1.0.0-" + "a" * 250],
            "is longer than 64 characters",
        ),
        (
            ["values", "-p", "minimal", "--set", ".".join(["a"] * 500) + "=1"],
            "nested deeper than 100 levels",
        ),
        (["build", "--nope"], "No such option: --nope (see meshcharts build -h)"),
        (["publish"], "Missing option '--to'"),
        (["values", "-p", "minimal", "--env", "/dev/zero"], "--env /dev/zero: not a file"),
    ],
    ids=["long-version", "deep-set", "unknown-option", "missing-option", "device-as-env"],
)
def test_one_line_for_every_kind_of_bad_argument(work: Path, args: list[str], expect: str) -> None:
    refused(work, *args, expect=expect)
    assert not list(work.iterdir())


@pytest.mark.parametrize(
    ("source", "expect"),
    [
        ("PROFILE = Profile(name='p', description=3)\n", "description must be a string, not int"),
        (
            "PROFILE = Profile(name='p', description='d', charts={'istio': 'pilot'})\n",
            "must be a tuple of component names",
        ),
        (
            "PROFILE = Profile(name='p', description='d', values={'a': {1: 2}})\n",
            "key 1 must be a string",
        ),
        (
            "PROFILE = Profile(name='p', description='d', values={'a': object()})\n",
            "is not a values type",
        ),
        ("import sys\nsys.exit(3)\n", "failed to load: SystemExit: 3"),
        (
            "raise RuntimeError('boom\\nsecond line')\n",
            "failed to load: RuntimeError: boom second line",
        ),
    ],
    ids=["type", "charts-string", "key-type", "object", "exits", "raises"],
)
def test_profiles_are_code_but_their_failures_are_errors(
    work: Path, source: str, expect: str
) -> None:
    folder = work / "profiles"
    folder.mkdir()
    (folder / "p.py").write_text("from meshcharts import Profile\n" + source)
    line = refused(work, "profiles", "--profiles", str(folder), expect=expect)
    assert str(folder / "p.py") in line


def test_an_unexpected_error_is_one_line_with_a_debug_hint(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(*args: object, **kwargs: object) -> object:
        raise KeyError("a bug")

    monkeypatch.setattr("meshcharts.cli.common.load_profiles", broken)
    assert run(["profiles"]) == 3
    stderr = capsys.readouterr().err
    assert stderr.count("\n") == 1 and "Traceback" not in stderr
    assert "internal error: KeyError: 'a bug'" in stderr and "--debug" in stderr
    with pytest.raises(KeyError):
        run(["--debug", "profiles"])


@pytest.mark.parametrize(
    ("errno_name", "expect"),
    [
        ("ENOSPC", "No space left on device"),
        ("EROFS", "Read-only file system"),
        ("ENAMETOOLONG", "File name too long"),
    ],
)
def test_the_machines_refusals_are_user_errors_naming_the_path(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    errno_name: str,
    expect: str,
) -> None:
    import errno as errnos

    code = getattr(errnos, errno_name)

    def refuse(*args: object, **kwargs: object) -> None:
        raise OSError(code, os.strerror(code), str(tmp_path / "x"))

    monkeypatch.setattr("meshcharts.cli.build.run_render", refuse)
    assert run(["render", "-p", "minimal", "--out", str(tmp_path / "r")]) == 2
    stderr = capsys.readouterr().err
    assert stderr == f"error: {tmp_path / 'x'}: {expect}\n"


# --- deadlines -------------------------------------------------------------------------------


class _Endless(BaseHTTPRequestHandler):
    """Answers /v2/ and then a reply that never ends, one byte at a time."""

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        if self.path == "/v2/":
            self.wfile.write(b"{}")
            return
        with contextlib.suppress(OSError):
            for _ in range(600):  # bounded: at most a minute, the test stops it earlier
                self.wfile.write(b" ")
                self.wfile.flush()
                self.server.stopped.wait(0.1)  # type: ignore[attr-defined]
                if self.server.stopped.is_set():  # type: ignore[attr-defined]
                    return

    do_HEAD = do_GET


@pytest.fixture
def endless() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Endless)
    server.stopped = threading.Event()  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.stopped.set()  # type: ignore[attr-defined]
        server.shutdown()
        server.server_close()
        thread.join(10)


def test_a_registry_that_never_finishes_its_answer_meets_the_deadline(
    build: Path, work: Path, endless: str
) -> None:
    args = ["publish", "--build-dir", str(build), "-p", "minimal", "--plain-http", "--timeout", "2"]
    line = refused(
        work, *args, "--to", f"oci://{endless}/charts", expect="no complete answer within 2 s"
    )
    assert endless.split(":")[0] in line


# --- clean after kills -----------------------------------------------------------------------


def test_a_run_removes_what_killed_runs_left_beside_its_target(tmp_path: Path) -> None:
    dead = 2**22 + 12345  # above the default pid_max of 4194304: no such process
    target = tmp_path / "charts_out"
    litter = [tmp_path / f".charts_out.tmp-{dead}-abc", tmp_path / f".charts_out.old-{dead}-"]
    for path in litter:
        path.mkdir()
        (path / "half.tgz").write_bytes(b"x")
    live = tmp_path / f".charts_out.tmp-{os.getpid()}-live"  # a concurrent run: kept
    live.mkdir()
    with staged_dir(target) as staged:
        (staged / "a").write_text("x")
    assert not any(path.exists() for path in litter) and live.is_dir()
    (tmp_path / f".index.yaml.tmp-{dead}-x").write_text("half")
    assert clean_stale(tmp_path, ".index.yaml.tmp-") == [tmp_path / f".index.yaml.tmp-{dead}-x"]


# --- fuzz: the one-line contract ----------------------------------------------------------------


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.text(max_size=300))
def test_fuzz_environment_files_keep_the_contract(
    tmp_path_factory: pytest.TempPathFactory, text: str
) -> None:
    folder = tmp_path_factory.mktemp("fuzz-env")
    path = folder / "fuzz.yaml"
    path.write_text("name: fuzz\nprofile: minimal\nvalues:\n" + text, encoding="utf-8")
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
        code = run(["values", "--env", str(path)])
    assert code in (0, 2)
    assert "Traceback" not in stderr.getvalue()
    if code == 2:
        assert stderr.getvalue().count("\n") == 1 and stderr.getvalue().startswith("error: ")


@settings(max_examples=100, deadline=None)
@given(arg=st.text(alphabet=st.sampled_from(list("ab.[]0{},=\\ 1-")), max_size=60))
def test_fuzz_set_arguments_keep_the_contract(arg: str) -> None:
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
        code = run(["values", "-p", "minimal", "--set", arg])
    assert code in (0, 2)
    assert "Traceback" not in stderr.getvalue()
    if code == 2:
        assert stderr.getvalue().count("\n") == 1 and stderr.getvalue().startswith("error: ")
