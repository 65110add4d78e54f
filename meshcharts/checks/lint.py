"""Guardrails for the mistakes of the first Istio 1.0 rollouts, checked on resolved values.

Each rule has an id, a severity and a fix. Errors stop ``meshcharts build`` unless the
rule is allowed with ``--allow RULE-ID``. One more rule reads the templates of a user's
own components and charts: values are data, never code (VALUES-AS-CODE).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from meshcharts.chart.templating import DELIMITERS, chart_files, component_files, is_j2
from meshcharts.resolution.resolve import Resolution, chart_defaults

__all__ = [
    "ERROR",
    "RULES",
    "RULE_IDS",
    "WARNING",
    "Finding",
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


def lint(resolution: Resolution) -> list[Finding]:
    """Every finding for a resolved profile, in rule order."""
    found: list[Finding] = []
    if "istio" in resolution.charts:
        values = resolution.values.values
        defaults = chart_defaults(resolution.charts, resolution.catalog)
        found += [finding for rule in RULES for finding in rule(values, defaults)]
    return found + list(_user_templates(resolution))


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def lint_summary(findings: list[Finding]) -> str:
    """``2 errors, 1 warning`` or, when clean, ``no findings (7 rules)``."""
    if not findings:
        return f"no findings ({len(RULE_IDS)} rules)"
    errors = sum(f.severity == ERROR for f in findings)
    return f"{_plural(errors, 'error')}, {_plural(len(findings) - errors, 'warning')}"


def lint_errors(findings: list[Finding], allowed: frozenset[str] = frozenset()) -> list[Finding]:
    """The error findings not allowed by ``--allow``."""
    return [f for f in findings if f.severity == ERROR and f.rule not in allowed]
