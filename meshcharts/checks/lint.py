"""Guardrails for the mistakes of the first Istio 1.0 rollouts, checked on resolved values.

Each rule has an id, a severity and a fix. Errors stop ``meshcharts build`` unless the
rule is allowed with ``--allow RULE-ID``. One more rule reads the templates of a user's
own components and charts: values are data, never code (VALUES-AS-CODE). And one reads
the rendered objects of every chart, the user's included: a PodDisruptionBudget must not
stop a node drain (PDB-BLOCKS-DRAIN).
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from meshcharts.chart.assemble import chart_values, render_tree
from meshcharts.chart.profile import NAMESPACE
from meshcharts.chart.templating import DELIMITERS, chart_files, component_files, is_j2
from meshcharts.checks.render import render_objects
from meshcharts.errors import MeshchartsError
from meshcharts.resolution.resolve import Resolution, chart_defaults

__all__ = [
    "ERROR",
    "RULES",
    "RULE_IDS",
    "WARNING",
    "Finding",
    "drain_blockers",
    "format_finding",
    "lint",
    "lint_errors",
    "lint_summary",
]

ERROR = "error"
WARNING = "warning"

RULE_IDS = (
    "MTLS-UNINJECTED",
    "MTLS-GATEWAYS",
    "RESOURCES",
    "TRACING-SAMPLING",
    "TELEMETRY-OFF",
    "TRAFFIC-RESILIENCE",
    "VALUES-AS-CODE",
    "PDB-BLOCKS-DRAIN",
)
"""Every rule ID, in rule order: what ``--allow`` accepts."""


@dataclass(frozen=True)
class Finding:
    """One problem found by a lint rule."""

    rule: str
    severity: str
    message: str
    fix: str

    def to_json(self) -> dict[str, str]:
        """The finding as JSON data."""
        return {
            "rule": self.rule,
            "severity": self.severity,
            "message": self.message,
            "fix": self.fix,
        }


def format_finding(finding: Finding) -> str:
    """``RULE-ID severity: message (how to fix)``."""
    return f"{finding.rule} {finding.severity}: {finding.message} ({finding.fix})"


def _get(values: Mapping[str, Any], *path: str, default: Any = None) -> Any:
    node: Any = values
    for part in path:
        if not isinstance(node, Mapping) or part not in node:
            return default
        node = node[part]
    return node


def _strict(values: Mapping[str, Any]) -> bool:
    return bool(_get(values, "global", "mtls", "mode") == "strict")


def _gateways(values: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    """The enabled gateways by name (the ``egress`` key is routing, not a gateway)."""
    gateways = _get(values, "gateways", default={})
    if not isinstance(gateways, Mapping) or not gateways.get("enabled"):
        return {}
    return {
        name: gw
        for name, gw in gateways.items()
        if name not in ("enabled", "egress", "gatewayResources")
        and isinstance(gw, Mapping)
        and gw.get("enabled")
    }


def _mtls_uninjected(values: Mapping[str, Any], defaults: Mapping[str, Any]) -> Iterator[Finding]:
    if not _strict(values):
        return
    for entry in _get(values, "mesh", "namespaces", default=[]) or []:
        if entry.get("injection", "disabled") == "disabled":
            yield Finding(
                "MTLS-UNINJECTED",
                ERROR,
                f"global.mtls.mode is strict but namespace {entry.get('name')!r} in "
                "mesh.namespaces is not injected: its plaintext calls will be refused",
                "inject it first, or keep global.mtls.mode=permissive until every namespace is",
            )


def _mtls_gateways(values: Mapping[str, Any], defaults: Mapping[str, Any]) -> Iterator[Finding]:
    if not _strict(values):
        return
    gateways = _gateways(values)
    if not gateways:
        yield Finding(
            "MTLS-GATEWAYS",
            ERROR,
            "global.mtls.mode is strict while the gateways are disabled in this control plane",
            "enable and upgrade the gateways before enforcing strict mTLS",
        )
    tag = _get(values, "global", "tag")
    for name, gateway in sorted(gateways.items()):
        own = gateway.get("tag") or tag
        if own != tag:
            yield Finding(
                "MTLS-GATEWAYS",
                ERROR,
                f"global.mtls.mode is strict while gateway {name} runs proxy {own} and the "
                f"control plane {tag}",
                f"finish upgrading {name} (gateways.{name}.tag) before enforcing strict mTLS",
            )


def _resource_paths(node: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Every ``resources`` key of the chart defaults, below an enabled part."""
    if not isinstance(node, Mapping):
        return
    for key, value in node.items():
        if key == "resources":
            yield (*path, key)
        elif isinstance(value, Mapping) and value.get("enabled", True) is not False:
            yield from _resource_paths(value, (*path, key))


def _unbounded(values: Mapping[str, Any], defaults: Mapping[str, Any]) -> Iterator[Finding]:
    for keys in _resource_paths(defaults):
        if (
            _get(values, *keys[:-1], "enabled") is False
            or _get(values, keys[0], "enabled") is False
        ):
            continue
        path = ".".join(keys)
        resources = _get(values, *keys)
        if not isinstance(resources, Mapping):
            resources = {}
        missing = [k for k in ("requests", "limits") if not resources.get(k)]
        if missing:
            yield Finding(
                "RESOURCES",
                ERROR,
                f"{path} has no {' and no '.join(missing)}: sidecar and control-plane overhead "
                "is real and unbounded pods starve their nodes",
                f"set cpu and memory in {path}.requests and {path}.limits",
            )


def _tracing(values: Mapping[str, Any], defaults: Mapping[str, Any]) -> Iterator[Finding]:
    sampling = _get(values, "pilot", "traceSampling")
    if _get(values, "global", "enableTracing") and sampling is not None and float(sampling) == 0:
        yield Finding(
            "TRACING-SAMPLING",
            WARNING,
            "global.enableTracing is on but pilot.traceSampling is 0: no trace is ever recorded",
            "set pilot.traceSampling (percent, e.g. 1.0) or turn global.enableTracing off",
        )


def _adapters(values: Mapping[str, Any], defaults: Mapping[str, Any]) -> Iterator[Finding]:
    mixer = _get(values, "mixer", default={})
    if not isinstance(mixer, Mapping):
        return
    telemetry_on = bool(mixer.get("enabled")) and bool(_get(mixer, "telemetry", "enabled"))
    adapters = mixer.get("adapters", {}) or {}
    enabled = sorted(n for n, a in adapters.items() if isinstance(a, Mapping) and a.get("enabled"))
    if enabled and not telemetry_on:
        yield Finding(
            "TELEMETRY-OFF",
            WARNING,
            f"adapters {', '.join(enabled)} are configured while Mixer telemetry is off: "
            "they will receive nothing",
            "enable mixer.telemetry or disable the adapters",
        )


def _traffic(values: Mapping[str, Any], defaults: Mapping[str, Any]) -> Iterator[Finding]:
    for entry in values.get("trafficPolicies", []) or []:
        missing = [k for k in ("timeout", "retries") if not entry.get(k)]
        if missing:
            yield Finding(
                "TRAFFIC-RESILIENCE",
                WARNING,
                f"traffic policy {entry.get('name')!r} has no {' and no '.join(missing)}",
                "validate timeouts and retries on one service, then set them on every policy",
            )


Rule = Callable[[Mapping[str, Any], Mapping[str, Any]], Iterator[Finding]]
"""A rule reads the resolved values and the chart defaults (what the chart can hold)."""

RULES: tuple[Rule, ...] = (
    _mtls_uninjected,
    _mtls_gateways,
    _unbounded,
    _tracing,
    _adapters,
    _traffic,
)


_TPL = re.compile(r"\{\{-?[^}]*?(?<![\w.$])tpl\b")


def _code_in(where: str, name: str, data: bytes) -> Iterator[Finding]:
    """Findings for one template file of a user's part."""
    for number, line in enumerate(data.decode("utf-8", "replace").splitlines(), start=1):
        if _TPL.search(line):
            yield Finding(
                "VALUES-AS-CODE",
                ERROR,
                f"{where}: {name}:{number} calls tpl, which runs text as a template: a value "
                "passed to it becomes code",
                "print values as data (quote, toYaml); build the text in the template itself",
            )
        found = [d for d in DELIMITERS if d in line]
        if found and not is_j2(name):
            yield Finding(
                "VALUES-AS-CODE",
                ERROR,
                f"{where}: {name}:{number} holds the generator delimiter {found[0]} in a file "
                "the generator does not render",
                "generation-time logic goes in a .j2 file; escape the text otherwise",
            )


def _user_templates(resolution: Resolution) -> Iterator[Finding]:
    """VALUES-AS-CODE over the templates of the user's charts and components compiled in."""
    for chart, components in resolution.charts.items():
        definition = resolution.chart(chart)
        if definition.source:
            for name, data in sorted(chart_files(definition).items()):
                yield from _code_in(f"chart {chart} ({definition.source})", name, data)
        for component in components:
            if component.source:
                where = f"component {component.name} ({component.source})"
                for name, data in sorted(component_files(component).items()):
                    yield from _code_in(where, f"{component.templates}/{name}", data)


_WORKLOADS = ("Deployment", "StatefulSet", "ReplicaSet", "ReplicationController")
"""Kinds whose pods a drain evicts through the eviction API (DaemonSet pods it skips)."""

Manifest = Mapping[str, Any]


def _selects(selector: Any, labels: Mapping[str, Any]) -> bool:
    """Whether a label selector (matchLabels and matchExpressions) selects ``labels``."""
    if not isinstance(selector, Mapping):
        return False
    wanted = selector.get("matchLabels") or {}
    if any(labels.get(key) != value for key, value in wanted.items()):
        return False
    for expression in selector.get("matchExpressions") or []:
        key, operator = expression.get("key"), expression.get("operator")
        values = expression.get("values") or []
        present = key in labels
        if operator == "In" and not (present and labels[key] in values):
            return False
        if operator == "NotIn" and present and labels[key] in values:
            return False
        if operator == "Exists" and not present:
            return False
        if operator == "DoesNotExist" and present:
            return False
    return True


def _count(value: Any, pods: int) -> int | None:
    """An IntOrString of a budget as a pod count (percentages round up, as Kubernetes does)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        if text.endswith("%") and text[:-1].isdigit():
            return math.ceil(pods * int(text[:-1]) / 100)
        if text.isdigit():
            return int(text)
    return None


def _identity(obj: Manifest, namespace: str) -> tuple[str, str, str]:
    metadata = obj.get("metadata") or {}
    return (
        str(obj.get("kind")),
        str(metadata.get("namespace") or namespace),
        str(metadata.get("name")),
    )


def _least_replicas(objects: Sequence[Manifest], namespace: str) -> dict[tuple[str, str, str], int]:
    """(kind, namespace, name) of each workload -> the fewest pods it may run.

    A workload scaled by a HorizontalPodAutoscaler runs its minReplicas at the least.
    """
    floors: dict[tuple[str, str, str], int] = {}
    for obj in objects:
        if obj.get("kind") != "HorizontalPodAutoscaler":
            continue
        spec = obj.get("spec") or {}
        target = spec.get("scaleTargetRef") or {}
        ns = _identity(obj, namespace)[1]
        floors[(str(target.get("kind")), ns, str(target.get("name")))] = int(
            spec.get("minReplicas", 1)
        )
    least: dict[tuple[str, str, str], int] = {}
    for obj in objects:
        if obj.get("kind") in _WORKLOADS:
            identity = _identity(obj, namespace)
            replicas = (obj.get("spec") or {}).get("replicas", 1)
            least[identity] = floors.get(identity, int(replicas if replicas is not None else 1))
    return least


def drain_blockers(
    objects: Sequence[Manifest], *, namespace: str, where: Mapping[int, str] | None = None
) -> Iterator[Finding]:
    """PDB-BLOCKS-DRAIN: the PodDisruptionBudgets among ``objects`` that no drain can honour.

    A budget blocks a drain when it allows no eviction while the workloads it selects
    (Deployments, StatefulSets, ReplicaSets in its namespace, among ``objects``) run their
    fewest pods: maxUnavailable 0, or minAvailable at least that many pods. A budget that
    selects none of ``objects``' workloads is left alone (its pods are someone else's).

    Args:
        objects: rendered manifests.
        namespace: the namespace of objects that name none (the release namespace).
        where: ``id(object)`` -> where it was rendered (e.g. ``chart istio``), for messages.
    """
    least = _least_replicas(objects, namespace)
    for budget in objects:
        if budget.get("kind") != "PodDisruptionBudget":
            continue
        _, ns, name = _identity(budget, namespace)
        spec = budget.get("spec") or {}
        selected = sorted(
            identity
            for obj in objects
            if obj.get("kind") in _WORKLOADS
            and (identity := _identity(obj, namespace))[1] == ns
            and _selects(
                spec.get("selector"),
                ((obj.get("spec") or {}).get("template") or {}).get("metadata", {}).get("labels")
                or {},
            )
        )
        pods = sum(least[identity] for identity in selected)
        if not selected or pods == 0:
            continue
        if "maxUnavailable" in spec:
            allowed = _count(spec["maxUnavailable"], pods)
            blocks = allowed is not None and allowed <= 0
            setting = f"maxUnavailable {spec['maxUnavailable']}"
        else:
            needed = _count(spec.get("minAvailable"), pods)
            blocks = needed is not None and needed >= pods
            setting = f"minAvailable {spec.get('minAvailable')}"
        if not blocks:
            continue
        workloads = ", ".join(f"{kind} {obj_name}" for kind, _, obj_name in selected)
        origin = (where or {}).get(id(budget))
        yield Finding(
            "PDB-BLOCKS-DRAIN",
            ERROR,
            f"PodDisruptionBudget {ns}/{name}{f' ({origin})' if origin else ''} has {setting} "
            f"for {pods} pod{'s' if pods != 1 else ''} ({workloads}): it allows no eviction, "
            "so kubectl drain (and node upgrades) wait forever",
            "run more replicas (autoscaleMin above 1 when autoscaling), lower minAvailable, "
            "or render no budget for a single pod",
        )


def _with_examples(values: dict[str, Any], required: Mapping[str, str]) -> None:
    """Fill the values to set at install that are still empty with their examples."""
    for key, example in required.items():
        *parents, leaf = key.split(".")
        if parents and parents[0] not in values:
            continue  # another chart's value
        node = values
        for part in parents:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                break
            node = child
        else:
            if node.get(leaf) in (None, ""):
                node[leaf] = example


def _has_user_parts(resolution: Resolution) -> bool:
    """Whether a compiled chart or component comes from a user's file or package."""
    return any(
        resolution.chart(chart).source or any(c.source for c in components)
        for chart, components in resolution.charts.items()
    )


def _rendered_budgets(resolution: Resolution) -> Iterator[Finding]:
    """PDB-BLOCKS-DRAIN over every chart of the profile, rendered with its values.

    Only where a user's part is compiled in: the built-in templates give a budget
    (minAvailable 1) only to a Deployment that keeps two pods or more at its fewest, so no
    values make one of theirs block a drain (tests/test_pdb.py proves it), and rendering
    every chart again for each environment would cost far more than the rest of its checks.
    """
    if not _has_user_parts(resolution):
        return
    objects: list[Manifest] = []
    where: dict[int, str] = {}
    try:
        for chart, components in resolution.charts.items():
            definition = resolution.chart(chart)
            values = copy.deepcopy(chart_values(definition, components, resolution.values.values))
            _with_examples(values, resolution.required)
            tree = render_tree(definition, components)
            rendered = render_objects(tree, release=chart, namespace=NAMESPACE, values=values)
            where.update((id(obj), f"chart {chart}") for obj in rendered)
            objects += rendered
    except MeshchartsError:
        # A chart that does not render cannot be linted here; Helm reports why at install.
        return
    yield from drain_blockers(objects, namespace=NAMESPACE, where=where)


def lint(resolution: Resolution) -> list[Finding]:
    """Every finding for a resolved profile, in rule order."""
    found: list[Finding] = []
    if "istio" in resolution.charts:
        values = resolution.values.values
        defaults = chart_defaults(resolution.charts, resolution.catalog)
        found += [finding for rule in RULES for finding in rule(values, defaults)]
    return found + list(_user_templates(resolution)) + list(_rendered_budgets(resolution))


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def lint_summary(findings: list[Finding]) -> str:
    """``2 errors, 1 warning`` or, when clean, ``no findings (8 rules)``."""
    if not findings:
        return f"no findings ({len(RULE_IDS)} rules)"
    errors = sum(f.severity == ERROR for f in findings)
    return f"{_plural(errors, 'error')}, {_plural(len(findings) - errors, 'warning')}"


def lint_errors(findings: list[Finding], allowed: frozenset[str] = frozenset()) -> list[Finding]:
    """The error findings not allowed by ``--allow``."""
    return [f for f in findings if f.severity == ERROR and f.rule not in allowed]
