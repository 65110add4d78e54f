"""Istio 1.1's values keys that meshcharts spells differently, or does not take, and why.

Teams that run Istio 1.1's own charts (``install/kubernetes/helm/istio`` of the 1.1.0
release) bring values files written for them. Most of their keys mean the same here and
need no entry. This table answers the others: a key meshcharts spells differently
(:class:`Renamed`, with how its value translates) and a key it does not take
(:class:`Unsupported`, with the reason and what to use instead).

``meshcharts import-values`` applies the table to a whole file, and values validation
names the replacement when such a key reaches a chart (``global.mtls.enabled: true →
global.mtls.mode: strict``). A key pattern is dotted; ``*`` stands for any one key (a
gateway's name), a backslash before a dot keeps the dot inside a key (as ``--set`` writes
it), and a pattern answers every key below it too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

__all__ = [
    "UPSTREAM_1_1",
    "UPSTREAM_ENABLED",
    "Answer",
    "pattern_path",
    "spell_value",
    "Renamed",
    "Unsupported",
    "upstream_answer",
]

KeyPath = tuple[str, ...]


@dataclass(frozen=True)
class Renamed:
    """An upstream key that meshcharts spells differently.

    Attributes:
        target: the meshcharts key (dotted).
        values: upstream value -> meshcharts value; empty when the value carries over.
        note: why the spelling differs, for the import report.
    """

    target: str
    values: Mapping[Any, Any] = field(default_factory=lambda: MappingProxyType({}))
    note: str = ""

    def translate(self, value: Any) -> Any:
        """The meshcharts value for an upstream ``value``.

        Raises:
            KeyError: a value this key cannot take upstream either.
        """
        if not self.values:
            return value
        for upstream, ours in self.values.items():
            # bool is an int in Python: match the type too, so 1 is not true.
            if type(upstream) is type(value) and upstream == value:
                return ours
        raise KeyError(value)

    def hint(self, value: Any = None) -> str:
        """``target`` with the translated value, when there is one."""
        if value is None:
            return self.target
        try:
            return f"{self.target}: {spell_value(self.translate(value))}"
        except KeyError:
            return self.target


@dataclass(frozen=True)
class Unsupported:
    """An upstream key meshcharts does not take.

    Attributes:
        reason: why (one clause).
        instead: what to use here instead, or "" when nothing replaces it.
        same: upstream values that ask for what meshcharts does anyway (an import drops
            them instead of reporting them); None: every value (upstream ignored the key).
    """

    reason: str
    instead: str = ""
    same: tuple[Any, ...] | None = ()

    def hint(self, value: Any = None) -> str:  # one signature for both answers
        """The reason and the replacement, in one clause."""
        return f"{self.reason}; instead: {self.instead}" if self.instead else self.reason


Answer = Renamed | Unsupported

_MTLS = Renamed(
    "global.mtls.mode",
    MappingProxyType({True: "strict", False: "permissive"}),
    "one mode instead of a switch: false was upstream's PERMISSIVE MeshPolicy, true its "
    "strict one; off (no MeshPolicy) has no upstream spelling",
)

UPSTREAM_1_1: Mapping[str, Answer] = MappingProxyType(
    {
        "global.mtls.enabled": _MTLS,
        "global.sidecarInjectorWebhook": Unsupported(
            "no template reads it upstream either (a stray key of values-istio-demo-common.yaml)",
            "sidecarInjectorWebhook.<key>",
            same=None,
        ),
        "global.configValidation": Renamed(
            "galley.validation.enabled",
            note="Galley's validating webhook is switched where Galley is configured",
        ),
        "global.useMCP": Unsupported(
            "Pilot and Mixer read their config from the Kubernetes API (k8s://), as upstream "
            "with useMCP: false; MCP wiring over Galley depends on the Istio release line",
            "nothing (useMCP: false is what meshcharts does)",
            same=(False,),
        ),
        "global.arch": Unsupported(
            "upstream weighs node affinity per architecture (0 never .. 3 most preferred) in "
            "every Deployment; meshcharts schedules by node labels (2, no preference, is "
            "what it does)",
            "global.defaultNodeSelector: {kubernetes.io/arch: amd64}, or a component's "
            "nodeSelector",
            same=(2,),
        ),
        "global.k8sIngress": Unsupported(
            "Pilot 1.0/1.1 reads Kubernetes Ingress only through extensions/v1beta1, removed "
            "in Kubernetes 1.22 (these charts need 1.25+): Pilot 1.1 would wait for that "
            "informer forever and serve no config at all",
            "an Istio Gateway and VirtualService (gateways.<name>.gatewayResources)",
            same=(False, "ingressgateway"),
        ),
        "grafana.image": Unsupported(
            "an image here is a hub, a name and a tag, as for the other add-ons",
            "grafana.hub (e.g. docker.io/grafana), grafana.image (grafana), grafana.tag",
        ),
        "grafana.datasources.datasources\\.yaml.datasources": Renamed(
            "grafana.datasources",
            note="meshcharts writes the provisioning file around the list itself",
        ),
        "grafana.dashboardProviders.dashboardproviders\\.yaml.providers": Renamed(
            "grafana.dashboardProviders",
            note="meshcharts writes the provisioning file around the list itself",
        ),
        "grafana.datasources.datasources\\.yaml": Unsupported(
            "meshcharts writes the provisioning file (apiVersion 1) around the list itself",
            "grafana.datasources (the list of data sources)",
            same=(1,),
        ),
        "grafana.dashboardProviders.dashboardproviders\\.yaml": Unsupported(
            "meshcharts writes the provisioning file (apiVersion 1) around the list itself",
            "grafana.dashboardProviders (the list of providers)",
            same=(1,),
        ),
        "global.tracer.lightstep.accessToken": Unsupported(
            "a token is a secret: upstream wrote it into ConfigMap istio and into the "
            "arguments of every injected proxy",
            "Secret lightstep.token (key accessToken) in each namespace of traced proxies",
            same=("",),
        ),
        "global.omitSidecarInjectorConfigMap": Unsupported(
            "the injection template is rendered wherever pods can be injected (istioctl "
            "kube-inject reads it); a remote cluster's own injector needs it",
            "sidecarInjectorWebhook.enabled: false for no injector",
            same=(False,),
        ),
    }
)
"""Upstream key pattern -> its answer, for the keys that do not carry over as they are."""

UPSTREAM_ENABLED: Mapping[str, bool] = MappingProxyType(
    {
        "certmanager": False,
        "galley": True,
        "gateways": True,
        "grafana": False,
        "istio_cni": False,
        "istiocoredns": False,
        "kiali": False,
        "mixer": True,
        "nodeagent": False,
        "pilot": True,
        "prometheus": True,
        "security": True,
        "servicegraph": False,
        "sidecarInjectorWebhook": True,
        "tracing": False,
    }
)
"""Whether upstream 1.1's chart installs each component when a file says nothing
(``<name>.enabled`` in its values.yaml)."""


def _starts(path: KeyPath, prefix: KeyPath) -> bool:
    """Whether ``path`` begins with ``prefix``, ``*`` on either side matching any key."""
    return len(path) >= len(prefix) and all(
        a == b or "*" in (a, b) for a, b in zip(path, prefix, strict=False)
    )


def pattern_path(pattern: str) -> KeyPath:
    """The key path of a pattern: split on dots, a backslashed dot kept inside a key."""
    return tuple(part.replace("\0", ".") for part in pattern.replace("\\.", "\0").split("."))


def upstream_answer(path: KeyPath, *, below: bool = False) -> tuple[str, Answer] | None:
    """The answer for an upstream key (or a key below it), with the pattern that gave it.

    Args:
        path: the key, one segment per map key.
        below: also answer a map above an answered key (``global.mtls`` set as a whole
            holds ``global.mtls.enabled``).
    """
    for pattern, answer in UPSTREAM_1_1.items():
        parts = pattern_path(pattern)
        if _starts(path, parts) or (below and _starts(parts, path)):
            return pattern, answer
    return None


def spell_value(value: Any) -> str:
    """A value as YAML shows it inline (``true``, ``null``, ``''`` for an empty string)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, str):
        return repr(value) if not value or value != value.strip() else value
    return str(value)
