"""Pilot: the ``istio-pilot`` discovery service, and the mesh ConfigMap ``istio``.

Pilot turns Kubernetes services and Istio routing resources into Envoy configuration
and serves it over xDS (15010 plain, 15011 mTLS through its own ``istio-proxy``
sidecar). Defaults follow Istio 1.1's ``charts/pilot/values.yaml``; resources carry
limits as well as requests, so that every container is bounded.

This module also holds the JSON-schema fragments the other control-plane components
share (resources, string maps, tolerations, images, durations).
"""

from __future__ import annotations

from typing import Any

from meshcharts.catalog.component import Component, JsonSchema

__all__ = [
    "DURATION_SCHEMA",
    "ENV_SCHEMA",
    "IMAGE_SCHEMA",
    "PILOT",
    "QUANTITY_SCHEMA",
    "RESOURCES_SCHEMA",
    "RESOURCE_LIST_SCHEMA",
    "STRING_MAP_SCHEMA",
    "TOLERATIONS_SCHEMA",
    "resource_docs",
]

QUANTITY_SCHEMA: JsonSchema = {
    # A number (``--set x.cpu=2`` gives one) or Kubernetes' own resource.Quantity
    # pattern for strings (RE2- and Python-compatible).
    "type": ["string", "number"],
    "minimum": 0,
    "pattern": (
        r"^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))"
        r"(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$"
    ),
}
"""A Kubernetes quantity, e.g. ``100m``, ``128Mi`` or ``2``."""

RESOURCE_LIST_SCHEMA: JsonSchema = {
    "type": "object",
    "properties": {"cpu": QUANTITY_SCHEMA, "memory": QUANTITY_SCHEMA},
    "additionalProperties": QUANTITY_SCHEMA,
}
"""``requests`` or ``limits``: cpu, memory and any other resource name -> quantity."""

RESOURCES_SCHEMA: JsonSchema = {
    "type": "object",
    "properties": {"requests": RESOURCE_LIST_SCHEMA, "limits": RESOURCE_LIST_SCHEMA},
    "required": ["requests", "limits"],
    "additionalProperties": False,
}
"""A container's ``resources``: both ``requests`` and ``limits`` are required."""

STRING_MAP_SCHEMA: JsonSchema = {"type": "object", "additionalProperties": {"type": "string"}}
"""A free map of string values (node selectors, annotations)."""

ENV_SCHEMA: JsonSchema = {
    "type": "object",
    "propertyNames": {"pattern": r"^[-._a-zA-Z][-._a-zA-Z0-9]*$"},
    "additionalProperties": {"type": "string"},
}
"""Environment variables: a valid variable name -> string value."""

TOLERATIONS_SCHEMA: JsonSchema = {
    "type": "array",
    "items": {
        "type": "object",
        "properties": {
            "key": {"type": "string"},
            "operator": {"type": "string", "enum": ["Exists", "Equal"]},
            "value": {"type": "string"},
            "effect": {
                "type": "string",
                "enum": ["", "NoSchedule", "PreferNoSchedule", "NoExecute"],
            },
            "tolerationSeconds": {"type": "integer"},
        },
    },
}
"""Pod tolerations, as in the pod spec (unknown keys are passed through)."""

IMAGE_SCHEMA: JsonSchema = {"type": "string", "pattern": r"^[A-Za-z0-9][A-Za-z0-9._/:@-]*$"}
"""An image name under ``global.hub`` (tagged ``global.tag``), or a full reference with ``/``.

Only reference characters: no quotes or brackets, so it is safe inside the injection template.
"""

DURATION_SCHEMA: JsonSchema = {
    "type": "string",
    "pattern": r"^([0-9]+(\.[0-9]+)?(ns|us|ms|s|m|h))+$",
}
"""A Go duration such as ``30m`` or ``1h30m``."""


def resource_docs(prefix: str, what: str) -> dict[str, str]:
    """Docs for the four leaves of a ``resources`` block.

    Args:
        prefix: the dotted path of the block, e.g. ``resources`` or ``proxy.resources``.
        what: the container(s) the block applies to, for the descriptions.
    """
    return {
        f"{prefix}.requests.cpu": f"CPU request of {what}.",
        f"{prefix}.requests.memory": f"Memory request of {what}.",
        f"{prefix}.limits.cpu": f"CPU limit of {what}.",
        f"{prefix}.limits.memory": f"Memory limit of {what}.",
    }


_DEFAULTS: dict[str, Any] = {
    "enabled": True,
    "replicaCount": 1,
    "autoscaleEnabled": True,
    "autoscaleMin": 1,
    "autoscaleMax": 5,
    "cpu": {"targetAverageUtilization": 80},
    "image": "pilot",
    "sidecar": True,
    "traceSampling": 1.0,
    "keepaliveMaxServerConnectionAge": "30m",
    "resources": {
        "requests": {"cpu": "500m", "memory": "2048Mi"},
        "limits": {"cpu": "2000m", "memory": "4096Mi"},
    },
    "env": {"PILOT_PUSH_THROTTLE": "100", "GODEBUG": "gctrace=1"},
    "nodeSelector": {},
    "tolerations": [],
    "podAnnotations": {},
}

_DOCS: dict[str, str] = {
    "enabled": "Deploy Pilot (Deployment/Service istio-pilot) and the mesh ConfigMap istio.",
    "replicaCount": "Pilot replicas when autoscaling is off.",
    "autoscaleEnabled": "Scale Pilot with a HorizontalPodAutoscaler (autoscaling/v2) on CPU.",
    "autoscaleMin": "Minimum Pilot replicas when autoscaling.",
    "autoscaleMax": "Maximum Pilot replicas when autoscaling.",
    "cpu.targetAverageUtilization": "Average CPU utilisation (percent of the request) the HPA aims for.",
    "image": "Pilot image: a name under global.hub tagged global.tag, or a full reference containing '/'.",
    "sidecar": "Run an istio-proxy sidecar in the Pilot pod, terminating mTLS xDS on port 15011.",
    "traceSampling": "Percentage of requests traced (PILOT_TRACE_SAMPLING), 0.0 to 100.0.",
    "keepaliveMaxServerConnectionAge": (
        "Maximum age of an xDS connection before Pilot closes it, so proxies rebalance "
        "across replicas (Go duration)."
    ),
    **resource_docs("resources", "the discovery container"),
    "env": "Extra environment variables of the discovery container (name -> string value).",
    "env.PILOT_PUSH_THROTTLE": "Maximum concurrent xDS pushes.",
    "env.GODEBUG": "Go runtime debug settings.",
    "nodeSelector": "Node labels for Pilot pods (empty: global.defaultNodeSelector).",
    "tolerations": "Tolerations of Pilot pods.",
    "podAnnotations": "Extra annotations of Pilot pods.",
}

_SCHEMA: dict[str, JsonSchema] = {
    "replicaCount": {"type": "integer", "minimum": 0},
    "autoscaleMin": {"type": "integer", "minimum": 1},
    "autoscaleMax": {"type": "integer", "minimum": 1},
    "cpu.targetAverageUtilization": {"type": "integer", "minimum": 1, "maximum": 100},
    "image": IMAGE_SCHEMA,
    # ``--set pilot.traceSampling=0.5`` passes a string: accept numeric strings too.
    "traceSampling": {
        "type": ["number", "string"],
        "minimum": 0,
        "maximum": 100,
        "pattern": r"^(100(\.0*)?|[0-9]{1,2}(\.[0-9]*)?)$",
    },
    "keepaliveMaxServerConnectionAge": DURATION_SCHEMA,
    "resources": RESOURCES_SCHEMA,
    "env": ENV_SCHEMA,
    "nodeSelector": STRING_MAP_SCHEMA,
    "tolerations": TOLERATIONS_SCHEMA,
    "podAnnotations": STRING_MAP_SCHEMA,
}

_GLOBAL_DEFAULTS: dict[str, Any] = {"oneNamespace": False}

_GLOBAL_DOCS: dict[str, str] = {
    "oneNamespace": (
        "Pilot watches Services, endpoints and Istio configuration of the release namespace "
        "only (discovery -a <namespace>), instead of every namespace."
    ),
}

PILOT = Component(
    name="pilot",
    chart="istio",
    summary="Pilot (istio-pilot): service discovery and xDS configuration for the proxies",
    defaults=_DEFAULTS,
    docs=_DOCS,
    schema=_SCHEMA,
    global_defaults=_GLOBAL_DEFAULTS,
    global_docs=_GLOBAL_DOCS,
)
