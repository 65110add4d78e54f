"""Time environment values at scale: load, resolve, validate and write N values files.

Run: ``.venv/bin/python benchmarks/bench_envs.py [--sizes 10 100 1000] [--repeat N]``.

For each size it generates that many environment files in a temporary folder (a tenth of
them are regional bases that the others extend; values vary per file: replicas, gateway
ports merged by name, rate limits, traffic policies, annotations, the mesh inventory), then
times, in this one process, what ``meshcharts build --env DIR`` does for them besides
packaging: load every file, resolve it over its profile, lint it, compute its values file,
validate it against the chart's schema, and write it atomically. It prints the total and
the cost per environment, which stays flat as the number grows (linear scaling).
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from pathlib import Path

from meshcharts import load_profiles
from meshcharts.base.fsutil import write_atomic
from meshcharts.inputs.environments import load_environments
from meshcharts.release.build import environment_values

PROFILES = ("default", "demo", "minimal")


def _base(index: int, rng: random.Random) -> str:
    profile = PROFILES[index % len(PROFILES)]
    lines = [
        f"name: region-{index}",
        f"profile: {profile}",
        "values:",
        "  global:",
        f"    hub: registry-{index}.example.com/istio",
        "  pilot:",
        f"    autoscaleMin: {rng.randint(1, 3)}",
        "mesh:",
        "  namespaces:",
        f"    - {{name: shared-{index}, injection: enabled}}",
    ]
    return "\n".join(lines) + "\n"


def _child(index: int, parent: int, rng: random.Random) -> str:
    profile = PROFILES[parent % len(PROFILES)]
    full = profile != "minimal"
    lines = [
        f"name: env-{index:04d}",
        f"extends: region-{parent}",
        "values:",
        "  pilot:",
        f"    autoscaleMax: {rng.randint(5, 20)}",
        f"    traceSampling: {rng.choice([0.5, 1.0, 5.0])}",
        "    podAnnotations:",
        f"      team: team-{rng.randint(1, 50)}",
    ]
    if full:
        lines += [
            "  gateways:",
            "    istio-ingressgateway:",
            f"      autoscaleMin: {rng.randint(1, 4)}",
            "      ports:",
            f"        - {{name: http2, nodePort: {30000 + index % 2000}}}",
            f"        - {{name: https-app-{index}, port: {8000 + index % 1000}}}",
            "  mixer:",
            "    policy:",
            "      rateLimits:",
            f"        - name: limit-{index}",
            f"          service: svc-{index}.apps.svc.cluster.local",
            f"          maxAmount: {rng.randint(10, 5000)}",
            "          validDuration: 1s",
        ]
    lines += [
        "  trafficPolicies:",
        f"    - name: app-{index}",
        f"      host: app-{index}",
        f"      timeout: {rng.randint(1, 9)}s",
        "      retries: {attempts: 2}",
        "      subsets:",
        "        - {name: v1, labels: {version: v1}, weight: 90}",
        "        - {name: v2, labels: {version: v2}, weight: 10}",
        "mesh:",
        "  namespaces:",
        f"    - {{name: apps-{index}, injection: enabled}}",
    ]
    return "\n".join(lines) + "\n"


def generate(folder: Path, count: int, seed: int = 5) -> None:
    """Write ``count`` environment files into ``folder``."""
    rng = random.Random(seed)
    bases = max(1, count // 10)
    for index in range(bases):
        (folder / f"region-{index}.yaml").write_text(_base(index, rng))
    for index in range(count - bases):
        parent = rng.randrange(bases)
        (folder / f"env-{index:04d}.yaml").write_text(_child(index, parent, rng))


def run(folder: Path, out: Path) -> tuple[float, float, float, int]:
    """Load, resolve + validate, and write; the seconds of each step and the file count."""
    profiles = load_profiles()
    start = time.perf_counter()
    environments = load_environments(folder)
    loaded = time.perf_counter()
    files = environment_values(
        profiles, environments, names=sorted(profiles.builtin), version="1.0.6"
    )
    resolved = time.perf_counter()
    for file in files:
        write_atomic(out / file.path, file.text.encode(), clean=False)
    written = time.perf_counter()
    return loaded - start, resolved - loaded, written - resolved, len(files)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 1000])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    # Warm the caches every run shares (catalog, profiles, compiled schemas) once.
    with tempfile.TemporaryDirectory() as scratch:
        generate(Path(scratch), 3)
        run(Path(scratch), Path(scratch) / "out")
    print("environments  total (ms)  per env (ms)   load  resolve+lint+validate  write")
    for size in args.sizes:
        samples = []
        for attempt in range(args.repeat):
            with tempfile.TemporaryDirectory() as scratch:
                folder = Path(scratch) / "envs"
                folder.mkdir()
                generate(folder, size)
                load, resolve, write, count = run(folder, Path(scratch) / f"out-{attempt}")
                assert count == size, (count, size)
                samples.append((load + resolve + write, load, resolve, write))
        total, load, resolve, write = min(samples)
        print(
            f"{size:12d}  {total * 1000:10.1f}  {total / size * 1000:12.2f}  "
            f"{load / size * 1000:5.2f}  {resolve / size * 1000:21.2f}  "
            f"{write / size * 1000:5.2f}"
        )


if __name__ == "__main__":
    main()
