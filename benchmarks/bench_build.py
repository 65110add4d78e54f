"""Time ``meshcharts build`` against ``helm package`` of the same chart trees.

Run: ``.venv/bin/python benchmarks/bench_build.py [--repeat N]``. It builds every
built-in profile with the meshcharts CLI (a fresh process each time, as a user runs it),
then packages the identical unpacked trees with one ``helm package`` call per Helm
version, and prints the median wall-clock times and their ratio.
"""

from __future__ import annotations

import argparse
import functools
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from tools import helm_binaries

from meshcharts import build_packages, load_profiles
from meshcharts.base.fsutil import write_files


def _median_seconds(action: Callable[[], object], repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def _run(command: list[str]) -> None:
    subprocess.run(command, check=True, capture_output=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    profiles = load_profiles()
    packages = build_packages(profiles, sorted(profiles.builtin), version="1.0.6")
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        trees = []
        for package in packages:
            folder = root / "trees" / package.profile / package.tree.name
            write_files(folder, package.tree.files)
            trees.append(str(folder))
        out = root / "out"
        meshcharts = [sys.executable, "-m", "meshcharts", "build", "--build-dir", str(out)]
        ours = _median_seconds(functools.partial(_run, meshcharts), args.repeat)
        print(
            f"charts: {len(packages)} ({len(profiles.builtin)} profiles), "
            f"median of {args.repeat} runs"
        )
        print(f"meshcharts build (whole CLI process)      {ours * 1000:8.1f} ms")
        for version, helm in sorted(helm_binaries().items()):
            dest = root / f"helm-{version}"
            dest.mkdir()
            command = [str(helm), "package", *trees, "--destination", str(dest)]
            theirs = _median_seconds(functools.partial(_run, command), args.repeat)
            print(
                f"helm {version} package (one invocation) {theirs * 1000:8.1f} ms   "
                f"ratio helm/meshcharts {theirs / ours:5.2f}"
            )


if __name__ == "__main__":
    main()
