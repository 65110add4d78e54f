"""extAuthz: an external authorization service every sidecar asks before it lets a request in.

A company component, written against meshcharts' public API only: a Deployment and a
Service running the authorization server (here OPA with its Envoy gRPC plugin), and an
EnvoyFilter that adds Envoy's ``envoy.ext_authz`` HTTP filter to the inbound listeners of
the selected workloads. Built with ``--components examples/company/components``.
"""

from typing import Any

from meshcharts import Component

_DEFAULTS: dict[str, Any] = {
    "enabled": True,
    "replicaCount": 2,
    "image": "openpolicyagent/opa:0.10.5-istio",
    "port": 9191,
    "failOpen": False,
    "timeout": "0.5s",
    "workloadSelector": {"authz": "external"},
    "resources": {
        "requests": {"cpu": "50m", "memory": "64Mi"},
        "limits": {"cpu": "500m", "memory": "256Mi"},
    },
}

_DOCS: dict[str, str] = {
    "enabled": (
        "Run the external authorization service and add its filter to the selected workloads."
    ),
    "replicaCount": "Replicas of the authorization server.",
    "image": "The authorization server image, a full reference (registry/name:tag).",
    "port": "The gRPC port of Envoy's external authorization API on the server.",
    "failOpen": (
        "Let requests through while the server cannot be reached (Envoy's failure_mode_allow)."
    ),
    "timeout": "How long a sidecar waits for the server's decision (a duration, e.g. 0.5s).",
    "workloadSelector": (
        "Labels of the pods whose inbound requests are authorized (an empty map: every sidecar)."
    ),
    "resources": "Requests and limits of the authorization server container.",
}

_SCHEMA: dict[str, dict[str, Any]] = {
    "port": {"type": "integer", "minimum": 1, "maximum": 65535},
    "replicaCount": {"type": "integer", "minimum": 1},
    "timeout": {"type": "string", "pattern": "^[0-9]+(\\.[0-9]+)?(ms|s)$"},
    "workloadSelector": {"type": "object", "additionalProperties": {"type": "string"}},
}

COMPONENT = Component(
    name="extAuthz",
    chart="istio",
    summary=(
        "External authorization (extAuthz): an authorization server every selected sidecar "
        "asks first"
    ),
    defaults=_DEFAULTS,
    docs=_DOCS,
    schema=_SCHEMA,
    template_path="templates/extAuthz",
)
