"""Upgrade safety between two releases of a chart: what ``helm upgrade`` would break.

:func:`release_diff` renders two packages (pure Python, as ``meshcharts diff`` does: the
object diff of :mod:`meshcharts.checks.diff` is reused) and classifies every changed field and
every added or removed object:

* **breaking** — ``helm upgrade`` fails or destroys data:

  * an immutable field changes: ``spec.selector`` of a Deployment, DaemonSet or
    StatefulSet (and a StatefulSet's ``serviceName`` or ``volumeClaimTemplates``), a
    Service's ``spec.clusterIP`` set to a different non-empty value, a Job's
    ``spec.template`` or ``spec.selector``;
  * a CustomResourceDefinition drops a version, or its storage version changes;
  * a CustomResourceDefinition is removed: Helm deletes it, and Kubernetes every custom
    resource of that kind. The meshcharts CRDs carry ``helm.sh/resource-policy: keep``:
    Helm then leaves the CRD in the cluster, orphaned (no longer managed by the release)
    rather than deleted; still breaking, the finding says which case applies;

* **disruptive** — running traffic or pods are interrupted:

  * the pod template (``spec.template``) of a Deployment, DaemonSet or StatefulSet
    changes: the upgrade restarts its pods;
  * a workload (Deployment, DaemonSet, StatefulSet, ReplicaSet, Job, CronJob, Pod) is
    removed: helm upgrade deletes it and its pods (a Job's run in progress is stopped, a
    CronJob's schedule ends; which Jobs are still running is not known from packages);
  * a Service is removed: its clients lose the endpoint;
  * a MutatingWebhookConfiguration or ValidatingWebhookConfiguration is removed: sidecar
    injection or validation stops for every new object;

* **safe** — everything else, including added objects and other removed objects (helm
  upgrade deletes them).

:attr:`ReleaseDiff.removed` lists the removed objects whatever their severity; the
reports count them apart. Both packages must be of one chart (the ``name`` in Chart.yaml):
comparing ``istio`` with ``istio-init`` would call every object added or removed.

With an environment (``--env``), the environment's values file for each chart (what
``meshcharts build`` writes as ``values-<env>.yaml``) is applied to both packages, as
``helm upgrade -f`` would.
"""

from __future__ import annotations

import functools
import json
import re
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Final, Literal, Protocol

import yaml

from meshcharts.base.limits import MAX_PACKAGE, read_limited
from meshcharts.chart.profile import NAMESPACE
from meshcharts.chart.valuesfile import helm_coalesce, values_file
from meshcharts.checks.diff import (
    ABSENT,
    DiffError,
    FieldChange,
    ObjectChange,
    Side,
    diff_resolutions,
    package_side,
)
from meshcharts.checks.render import RenderError, render_objects
from meshcharts.errors import UserError
from meshcharts.inputs.buildrecord import inside, read_build_record
from meshcharts.inputs.environments import Environment
from meshcharts.inputs.profiles import ProfileSet
from meshcharts.inputs.yamlsource import load_yaml
from meshcharts.resolution.environments import profile_resolution, resolve_environment

__all__ = [
    "SEVERITIES",
    "Finding",
    "PackageComparison",
    "ReleaseDiff",
    "PreviousBuild",
    "PreviousRelease",
    "compare_build",
    "environment_overlays",
    "format_release_diff",
    "release_diff",
    "release_diff_json",
]

Severity = Literal["breaking", "disruptive", "safe"]
SEVERITIES: Final[tuple[Severity, ...]] = ("breaking", "disruptive", "safe")

WORKLOADS: Final = frozenset({"Deployment", "DaemonSet", "StatefulSet"})
CRD: Final = "CustomResourceDefinition"
# Kinds whose removal interrupts something running, and why (the rest are safe to delete).
_REMOVED_POD_OWNERS: Final = WORKLOADS | {"ReplicaSet", "Job", "CronJob", "Pod"}
_REMOVED_DISRUPTS: Final[Mapping[str, str]] = {
    "Service": "Service removed: helm upgrade deletes it and its clients lose the endpoint",
    "MutatingWebhookConfiguration": (
        "webhook removed: helm upgrade deletes it and new pods are no longer mutated "
        "(sidecar injection stops)"
    ),
    "ValidatingWebhookConfiguration": (
        "webhook removed: helm upgrade deletes it and new objects are no longer validated"
    ),
}
KEEP: Final = "keep"

_VERSION: Final = re.compile(r"^spec\.versions\[name=([^\]]+)\]$")
_STORAGE: Final = re.compile(r"^spec\.versions\[name=([^\]]+)\]\.storage$")


@dataclass(frozen=True)
class Finding:
    """One classified change: an object added or removed, or one field of it changed.

    ``a``/``b`` are ``ABSENT`` where there is no value (always, for a whole object).
    """

    severity: Severity
    kind: str
    namespace: str
    name: str
    change: str
    path: str
    reason: str
    a: Any = ABSENT
    b: Any = ABSENT

    @property
    def title(self) -> str:
        """``Kind namespace/name``, or ``Kind name`` for a cluster-scoped object."""
        scope = f"{self.namespace}/" if self.namespace else ""
        return f"{self.kind} {scope}{self.name}"

    def to_json(self) -> dict[str, Any]:
        """The finding as JSON data (``a``/``b`` left out where absent)."""
        entry: dict[str, Any] = {
            "severity": self.severity,
            "kind": self.kind,
            "namespace": self.namespace,
            "name": self.name,
            "change": self.change,
            "path": self.path,
            "reason": self.reason,
        }
        if self.a is not ABSENT:
            entry["a"] = self.a
        if self.b is not ABSENT:
            entry["b"] = self.b
        return entry


@dataclass(frozen=True)
class ReleaseDiff:
    """Every classified change from ``old`` to ``new``, breaking first, then by object."""

    old: str
    new: str
    findings: tuple[Finding, ...]

    def of(self, severity: Severity) -> tuple[Finding, ...]:
        """The findings of one severity."""
        return tuple(f for f in self.findings if f.severity == severity)

    @property
    def breaking(self) -> bool:
        """Whether ``helm upgrade`` from old to new would fail or destroy data."""
        return bool(self.of("breaking"))

    @property
    def removed(self) -> tuple[Finding, ...]:
        """The objects the new release no longer has, whatever their severity."""
        return tuple(f for f in self.findings if f.change == "removed")

    def to_json(self) -> dict[str, Any]:
        """The report as JSON data; ``counts`` has each severity and ``removed`` objects."""
        counts: dict[str, int] = {s: len(self.of(s)) for s in SEVERITIES}
        counts["removed"] = len(self.removed)
        return {
            "old": self.old,
            "new": self.new,
            "breaking": self.breaking,
            "counts": counts,
            "changes": [f.to_json() for f in self.findings],
        }


# --- classification -------------------------------------------------------------------------


def _under(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith((f"{prefix}.", f"{prefix}[", f"{prefix}("))


def _non_empty(value: Any) -> bool:
    return value is not ABSENT and value not in (None, "")


def _classify_crd(field: FieldChange) -> str:
    """Why a change of a CRD field breaks stored custom resources ("" if it does not)."""
    version = _VERSION.match(field.path)
    if version and field.b is ABSENT:
        return (
            f"CRD version {version.group(1)} removed: stored objects of that version "
            "become unreadable"
        )
    if field.path == "spec.version" and field.a is not ABSENT:
        return "CRD version changed: the old version is removed"
    if _STORAGE.match(field.path) and field.a is not ABSENT and field.b is not ABSENT:
        return "CRD storage version changed: stored objects need a migration"
    return ""


def _immutable(kind: str, field: FieldChange) -> str:
    """Why a field change makes ``helm upgrade`` fail ("" if it does not)."""
    path = field.path
    if kind in WORKLOADS and _under(path, "spec.selector"):
        return f"{kind} spec.selector is immutable: helm upgrade fails"
    statefulset = ("spec.serviceName", "spec.volumeClaimTemplates")
    if kind == "StatefulSet" and any(_under(path, p) for p in statefulset):
        return "immutable StatefulSet field: helm upgrade fails"
    clusterip = path == "spec.clusterIP" and _non_empty(field.b) and field.a != field.b
    if kind == "Service" and clusterip:
        return "Service spec.clusterIP is immutable: helm upgrade fails"
    if kind == "Job" and (_under(path, "spec.template") or _under(path, "spec.selector")):
        return "Job spec.template is immutable: helm upgrade fails"
    return _classify_crd(field) if kind == CRD else ""


def _classify_field(kind: str, field: FieldChange) -> tuple[Severity, str]:
    reason = _immutable(kind, field)
    if reason:
        return "breaking", reason
    if kind in WORKLOADS and _under(field.path, "spec.template"):
        return "disruptive", f"pod template changed: the {kind} restarts its pods"
    return "safe", ""


def _kept(obj: Mapping[str, Any] | None) -> bool:
    meta = (obj or {}).get("metadata")
    annotations = meta.get("annotations") if isinstance(meta, Mapping) else None
    policy = (
        annotations.get("helm.sh/resource-policy") if isinstance(annotations, Mapping) else None
    )
    return policy == KEEP


def _classify_removed(kind: str, removed: Mapping[str, Any] | None) -> tuple[Severity, str]:
    """How bad deleting an object of ``kind`` is (``removed``: its body, known for CRDs)."""
    if kind == CRD:
        reason = (
            "CRD removed; it carries helm.sh/resource-policy: keep, so helm upgrade "
            "orphans it (left in the cluster, no longer managed) instead of deleting it"
            if _kept(removed)
            else "CRD removed: helm upgrade deletes it and every custom resource of its kind"
        )
        return "breaking", reason
    if kind in _REMOVED_POD_OWNERS:
        return "disruptive", f"{kind} removed: helm upgrade deletes it and its pods"
    if kind in _REMOVED_DISRUPTS:
        return "disruptive", _REMOVED_DISRUPTS[kind]
    return "safe", "removed: helm upgrade deletes it"


def _classify(change: ObjectChange, removed: Mapping[str, Any] | None) -> list[Finding]:
    where = (change.kind, change.namespace, change.name, change.change)
    if change.change == "added":
        return [Finding("safe", *where, "", "added")]
    if change.change == "removed":
        severity, reason = _classify_removed(change.kind, removed)
        return [Finding(severity, *where, "", reason)]
    findings = []
    for field in change.fields:
        severity, reason = _classify_field(change.kind, field)
        findings.append(Finding(severity, *where, field.path, reason, field.a, field.b))
    return findings


def _removed_objects(side: Side) -> dict[tuple[str, str, str], Mapping[str, Any]]:
    """The rendered CRDs of a side by kind/namespace/name (for the resource policy)."""
    objects: dict[tuple[str, str, str], Mapping[str, Any]] = {}
    for tree in side.charts:
        try:
            rendered = render_objects(
                tree, release=tree.name, namespace=side.namespace or NAMESPACE
            )
        except RenderError:  # pragma: no cover - the diff rendered the same tree
            continue
        for obj in rendered:
            meta = obj.get("metadata") or {}
            if obj.get("kind") == CRD and isinstance(meta, Mapping):
                objects[(CRD, "", str(meta.get("name", "")))] = obj
    return objects


def _order(finding: Finding) -> tuple[int, str, str, str, str]:
    rank = SEVERITIES.index(finding.severity)
    return (rank, finding.kind, finding.namespace, finding.name, finding.path)


def _with_values(side: Side, overlays: Mapping[str, Mapping[str, Any]]) -> Side:
    """The side with each chart's values file applied over its packaged values."""
    charts = []
    values: Mapping[str, Any] = side.values
    for tree in side.charts:
        overlay = overlays.get(tree.name)
        if not overlay:
            charts.append(tree)
            continue
        packaged = tree.files.get("values.yaml", b"{}").decode("utf-8", errors="replace")
        loaded = load_yaml(packaged, f"{tree.name}/values.yaml").data or {}
        values = helm_coalesce(overlay, loaded)
        text = yaml.safe_dump(values, sort_keys=True).encode()
        charts.append(replace(tree, files={**tree.files, "values.yaml": text}))
    return replace(side, values=values, charts=tuple(charts))


def environment_overlays(
    profiles: ProfileSet, environment: Environment, charts: Sequence[str]
) -> dict[str, Mapping[str, Any]]:
    """The values file of ``environment`` for each chart of ``charts`` its profile builds."""
    resolution = resolve_environment(profiles, environment)
    base = profile_resolution(profiles, environment.profile)
    return {
        chart: values_file(resolution, base, chart=chart, environment=environment.name).values
        for chart in charts
        if chart in resolution.charts
    }


def _chart_names(side: Side) -> str:
    return ", ".join(tree.name for tree in side.charts)


def _same_chart(a: Side, b: Side) -> None:
    """Refuse two different charts: every object would show as removed or added."""
    old, new = _chart_names(a), _chart_names(b)
    if old != new:
        raise DiffError(
            b.label,
            f"chart {new}, but {a.label} is chart {old} "
            "(release-diff compares two versions of one chart)",
        )


def release_diff(
    old: Path,
    new: Path,
    *,
    overlays: Mapping[str, Mapping[str, Any]] | None = None,
    labels: tuple[str, str] | None = None,
) -> ReleaseDiff:
    """Classify every change between the packages ``old`` and ``new``.

    Args:
        old: the released package (``.tgz``).
        new: the package to upgrade to.
        overlays: a values file per chart name, applied to both (see
            :func:`environment_overlays`).
        labels: how the two packages are shown (default: their file names, or paths when
            the names are equal).

    Raises:
        DiffError: a package cannot be read or does not render, or the two are packages of
            different charts.
    """
    if labels is None:
        same = old.name == new.name
        labels = (str(old), str(new)) if same else (old.name, new.name)
    a = _with_values(package_side(old, label=labels[0]), overlays or {})
    b = _with_values(package_side(new, label=labels[1]), overlays or {})
    _same_chart(a, b)
    report = diff_resolutions(a, b)
    olds = _removed_objects(a) if any(o.change == "removed" for o in report.objects) else {}
    findings = [
        finding
        for change in report.objects
        for finding in _classify(change, olds.get((change.kind, change.namespace, change.name)))
    ]
    return ReleaseDiff(labels[0], labels[1], tuple(sorted(findings, key=_order)))


# --- output -----------------------------------------------------------------------------


def _show(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


def _finding_line(finding: Finding) -> str:
    if finding.path:
        if finding.a is ABSENT:
            text = f"+ {finding.path}: {_show(finding.b)}"
        elif finding.b is ABSENT:
            text = f"- {finding.path}: {_show(finding.a)}"
        else:
            text = f"~ {finding.path}: {_show(finding.a)} -> {_show(finding.b)}"
    else:
        text = f"{'+' if finding.change == 'added' else '-'} (object)"
    if len(text) > 200:
        text = text[:197] + "..."
    return f"      {text}" + (f"\n        ({finding.reason})" if finding.reason else "")


def format_release_diff(report: ReleaseDiff) -> str:
    """The report for people: counts, then each severity's changes grouped by object.

    The counts line gives the findings of each severity, then how many of them are
    removed objects.

    Example::

        old: istio-1.0.6.tgz
        new: istio-1.0.7.tgz
        breaking: 1, disruptive: 1, safe: 0 (removed objects: 0)
        breaking:
          Deployment istio-system/istio-pilot
              ~ spec.selector.matchLabels.app: "pilot" -> "pilot2"
                (Deployment spec.selector is immutable: helm upgrade fails)
        ...
    """
    counts = ", ".join(f"{s}: {len(report.of(s))}" for s in SEVERITIES)
    # Removals are counted apart as well: each is also one of the severities above.
    counts += f" (removed objects: {len(report.removed)})"
    lines = [f"old: {report.old}", f"new: {report.new}", counts]
    if not report.findings:
        lines.append("no differences")
    for severity in SEVERITIES:
        findings = report.of(severity)
        if not findings:
            continue
        lines.append(f"{severity}:")
        title = ""
        for finding in findings:
            if finding.title != title:
                title = finding.title
                lines.append(f"  {title}")
            lines.append(_finding_line(finding))
    return "\n".join(lines) + "\n"


def release_diff_json(report: ReleaseDiff) -> str:
    """The report as indented JSON with sorted keys, and a final newline."""
    return (
        json.dumps(report.to_json(), indent=2, sort_keys=True, ensure_ascii=False, default=str)
        + "\n"
    )


# --- builds ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PackageComparison:
    """A package of a new build against the same profile/chart/revision of an old build.

    ``report`` is None when the old build has no such package (a new package).
    """

    path: str
    previous: str | None
    report: ReleaseDiff | None


class PreviousRelease(Protocol):
    """Where the packages of the release before a build come from (``build --previous``)."""

    def package(
        self, profile: str, chart: str, revision: str, version: str
    ) -> tuple[str, str, bytes] | None:
        """The previous package of a key: (short name, label for messages, bytes), or None.

        Raises:
            UserError: the source cannot be read.
        """


@dataclass(frozen=True)
class PreviousBuild:
    """The output folder of an earlier ``meshcharts build`` (its build.json names the packages)."""

    folder: Path

    @functools.cached_property
    def _packages(self) -> dict[tuple[str, str, str], str]:
        """The packages by (profile, chart, revision), each path checked to stay inside."""
        what = f"--previous {self.folder}"
        entries = read_build_record(self.folder, what=what)
        return {
            (e.profile, e.chart, e.revision): str(
                inside(self.folder, e.path, what).relative_to(self.folder)
            )
            for e in entries
        }

    def package(
        self, profile: str, chart: str, revision: str, version: str
    ) -> tuple[str, str, bytes] | None:
        """The package of the same profile, chart and revision in the folder, if any."""
        path = self._packages.get((profile, chart, revision))
        if path is None:
            return None
        data = read_limited(
            self.folder / path, MAX_PACKAGE, what=f"--previous {self.folder}/{path}"
        )
        return path, f"{self.folder}/{path}", data


def compare_build(
    packages: Sequence[tuple[str, str, str, str, bytes]], previous: Path | PreviousRelease
) -> list[PackageComparison]:
    """Release-diff each new package against the package of the same key in ``previous``.

    Args:
        packages: (profile, chart, revision, path, bytes) of each package of the new build.
        previous: the output folder of an earlier ``meshcharts build`` (with build.json), or
            another source of the previous release's packages (a registry).

    Raises:
        UserError: ``previous`` cannot be read, or a package cannot be read or rendered.
    """
    source = PreviousBuild(previous) if isinstance(previous, Path) else previous
    results: list[PackageComparison] = []
    with tempfile.TemporaryDirectory(prefix="meshcharts-release-diff-") as scratch:
        for number, (profile, chart, revision, path, data) in enumerate(packages):
            version = Path(path).name.removeprefix(f"{chart}-").removesuffix(".tgz")
            found = source.package(profile, chart, revision, version)
            if found is None:
                results.append(PackageComparison(path, None, None))
                continue
            short, label, old_data = found
            folder = Path(scratch) / str(number)
            (folder / "old").mkdir(parents=True)
            (folder / "new").mkdir()
            old_file = folder / "old" / Path(path).name
            new_file = folder / "new" / Path(path).name
            old_file.write_bytes(old_data)
            new_file.write_bytes(data)
            try:
                report = release_diff(old_file, new_file, labels=(label, f"{path} (new)"))
            except DiffError as exc:
                raise UserError(f"--previous {previous}", str(exc)) from None
            results.append(PackageComparison(path, short, report))
    return results
