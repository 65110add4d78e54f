"""Real Helm as a test oracle: probe charts that render ``.Values`` back as JSON.

A *probe* is a tiny chart (``apiVersion: v2``, ``name: probe``, ``version: 0.1.0``) whose only
template is a ConfigMap holding ``{{ .Values | toJson | b64enc | quote }}``; ``helm template``
of it, with ``-f`` files and ``--set`` flags, therefore prints exactly the values Helm computed.
(``b64enc`` keeps the JSON away from one more layer of quoting: the decoded bytes are Go's
``encoding/json`` output, unaltered.)

Helm costs ~50-100 ms per call, so :class:`HelmOracle` memoizes renders and runs batches of
them concurrently; test modules prefetch every probe they need once per module.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

PROBE_CHART_YAML = "apiVersion: v2\nname: probe\nversion: 0.1.0\n"
PROBE_TEMPLATE = (
    "apiVersion: v1\n"
    "kind: ConfigMap\n"
    "metadata:\n"
    "  name: probe\n"
    "data:\n"
    "  values: {{ .Values | toJson | b64enc | quote }}\n"
)
WORKERS = max(4, 2 * (os.cpu_count() or 1))


def write_probe_chart(folder: Path, values_text: str = "{}\n") -> Path:
    """Write the probe chart into ``folder`` with ``values_text`` as its values.yaml."""
    (folder / "templates").mkdir(parents=True, exist_ok=True)
    (folder / "Chart.yaml").write_text(PROBE_CHART_YAML, encoding="utf-8")
    (folder / "values.yaml").write_text(values_text, encoding="utf-8")
    (folder / "templates" / "out.yaml").write_text(PROBE_TEMPLATE, encoding="utf-8")
    return folder


def probe_values(stdout: str) -> Any:
    """The ``.Values`` a probe rendered, decoded from ``helm template`` output."""
    docs = [d for d in yaml.safe_load_all(stdout) if d]
    if len(docs) != 1 or docs[0].get("kind") != "ConfigMap":
        raise AssertionError(f"unexpected probe output:\n{stdout}")
    return json.loads(base64.b64decode(docs[0]["data"]["values"]).decode("utf-8"))


def as_json_text(value: Any) -> str:
    """A values layer as YAML text that no YAML writer of ours produced (JSON is YAML)."""
    return json.dumps(value, ensure_ascii=False) + "\n"


@dataclass(frozen=True)
class Probe:
    """One ``helm template`` of the probe chart.

    Attributes:
        values: the chart's values.yaml text.
        files: texts of ``-f`` files, in order.
        flags: ``(flag, argument)`` pairs, e.g. ``("--set", "a=1")``, in order.
    """

    values: str = "{}\n"
    files: tuple[str, ...] = ()
    flags: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Outcome:
    """What Helm made of a probe: the values, or a failure and its message."""

    returncode: int
    values: Any
    stderr: str

    @property
    def ok(self) -> bool:
        """Whether Helm rendered the probe."""
        return self.returncode == 0


class HelmOracle:
    """Memoized, concurrent probe renders under several Helm versions."""

    def __init__(self, helms: Mapping[str, Path], workdir: Path) -> None:
        self.helms = dict(helms)
        self.workdir = workdir
        self._cache: dict[tuple[str, Probe], Outcome] = {}

    def _stored(self, kind: str, text: str) -> Path:
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]
        path = self.workdir / f"{kind}-{digest}"
        if kind == "chart":
            if not path.exists():
                write_probe_chart(path, text)
        else:
            path = path.with_suffix(".yaml")
            if not path.exists():
                path.write_text(text, encoding="utf-8")
        return path

    def _run(self, version: str, probe: Probe) -> Outcome:
        args = ["template", "probe", str(self._stored("chart", probe.values))]
        for text in probe.files:
            args += ["-f", str(self._stored("layer", text))]
        for flag, arg in probe.flags:
            args += [flag, arg]
        proc = subprocess.run(
            [str(self.helms[version]), *args],
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        values = probe_values(proc.stdout) if proc.returncode == 0 else None
        return Outcome(proc.returncode, values, proc.stderr)

    def prefetch(self, probes: Iterable[Probe], versions: Sequence[str] | None = None) -> None:
        """Render every probe under every version (default: all), concurrently."""
        wanted = [
            (version, probe)
            for probe in dict.fromkeys(probes)
            for version in (versions or list(self.helms))
            if (version, probe) not in self._cache
        ]
        # Files are written before the threads start: no two threads write the same path.
        for _, probe in wanted:
            self._stored("chart", probe.values)
            for text in probe.files:
                self._stored("layer", text)
        with ThreadPoolExecutor(WORKERS) as pool:
            outcomes = list(pool.map(lambda job: self._run(*job), wanted))
        self._cache.update(zip(wanted, outcomes, strict=True))

    def render(self, version: str, probe: Probe) -> Outcome:
        """Helm's outcome for ``probe`` (rendered now unless prefetched)."""
        if (version, probe) not in self._cache:
            self.prefetch([probe], [version])
        return self._cache[(version, probe)]

    def values(self, version: str, probe: Probe) -> Any:
        """The values Helm computed; fails the test if Helm failed."""
        outcome = self.render(version, probe)
        if not outcome.ok:
            raise AssertionError(f"helm {version} failed on {probe}:\n{outcome.stderr}")
        return outcome.values


def typed(value: Any) -> Any:
    """A tree in which every scalar carries its type, for exact comparisons.

    ``True == 1`` and ``1 == 1.0`` in Python; ``typed`` keeps ``bool``, ``int``, ``float``,
    ``str`` and ``None`` apart so that a ``"5"`` never compares equal to a ``5``.
    """
    if isinstance(value, Mapping):
        return {key: typed(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [typed(item) for item in value]
    if value is None:
        return ("null", None)
    return (type(value).__name__, value)


def param_arg(param: Any, index: int = 0) -> Any:
    """Argument ``index`` of a ``pytest.param`` (for prefetching what the tests will ask)."""
    return param.values[index]
