"""Galley (``istio-galley``): Istio configuration validation and the MCP config server.

Galley serves the validating admission webhook for Istio's custom resources (the
``ValidatingWebhookConfiguration`` ``istio-galley``: ``pilot.validation.istio.io`` at
``/admitpilot`` for networking, authentication, rbac and the Mixer client kinds,
``mixer.validation.istio.io`` at ``/admitmixer`` for Mixer's ``config.istio.io`` kinds),
and its Mesh Configuration Protocol server on 9901. Defaults, names and ports follow
Istio 1.1's ``charts/galley``, with requests and limits.

The webhook configuration is a plain Helm object (``admissionregistration.k8s.io/v1``),
so Helm creates, upgrades and deletes it. Galley also reads the same webhooks from the
ConfigMap ``istio-galley-configuration`` (``--validation-webhook-config-file``; Galley
refuses to validate without it) and, once its endpoint is ready, writes them back with
``failurePolicy: Fail`` and its CA as ``caBundle`` -- through the
``admissionregistration.k8s.io/v1beta1`` API, which Kubernetes removed in 1.22. On the
clusters this chart supports the caBundle therefore comes from
``galley.validation.caBundle``; without it the webhook fails open (``Ignore``), because
the API server cannot verify Galley's Citadel-issued certificate and ``Fail`` would
reject every Istio resource. With a caBundle the webhook is enforced (``Fail``) from the
first upgrade on; on the first install it fails open too, since Helm creates the
chart's own Istio resources before Galley is ready to answer.
"""

from __future__ import annotations

from typing import Any

from meshcharts.catalog.component import Component, JsonSchema
from meshcharts.catalog.pilot import (
    IMAGE_SCHEMA,
    RESOURCES_SCHEMA,
    STRING_MAP_SCHEMA,
    TOLERATIONS_SCHEMA,
    resource_docs,
)

__all__ = ["GALLEY"]

_DEFAULTS: dict[str, Any] = {
    "enabled": True,
    "replicaCount": 1,
    "image": "galley",
    "resources": {
        "requests": {"cpu": "10m", "memory": "64Mi"},
        "limits": {"cpu": "500m", "memory": "512Mi"},
    },
    "nodeSelector": {},
    "tolerations": [],
    "podAnnotations": {},
    "validation": {"enabled": True, "caBundle": ""},
}

_DOCS: dict[str, str] = {
    "enabled": (
        "Deploy Galley (Deployment/Service istio-galley): Istio configuration validation and "
        "the MCP config server. Its serving certificate comes from Citadel (security.enabled)."
    ),
    "replicaCount": "Galley replicas (more than 1 adds a PodDisruptionBudget).",
    "image": (
        "Galley image: a name under global.hub tagged global.tag, or a full reference "
        "containing '/'. The arguments are Galley 1.1's (galley server)."
    ),
    **resource_docs("resources", "the galley container"),
    "nodeSelector": "Node labels for Galley pods (empty: global.defaultNodeSelector).",
    "tolerations": "Tolerations of Galley pods.",
    "podAnnotations": "Extra annotations of Galley pods.",
    "validation.enabled": (
        "Validate Istio resources with Galley's webhook (ValidatingWebhookConfiguration "
        "istio-galley and ConfigMap istio-galley-configuration). The webhook configuration "
        "is cluster-wide: exactly one release per cluster may own it."
    ),
    "validation.caBundle": (
        "PEM certificate(s) that signed Galley's serving certificate: Citadel's root, "
        "root-cert.pem of any istio.* Secret (e.g. --set-file). Empty: the webhook cannot be "
        "verified and fails open (failurePolicy Ignore). Set: failurePolicy Fail, from the "
        "first helm upgrade on (on install Helm creates Istio resources before Galley is ready)."
    ),
}

_PEM_SCHEMA: JsonSchema = {
    "type": "string",
    "pattern": (
        r"^(\s*-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\s]+-----END CERTIFICATE-----\s*)*$"
    ),
}

_SCHEMA: dict[str, JsonSchema] = {
    "replicaCount": {"type": "integer", "minimum": 0},
    "image": IMAGE_SCHEMA,
    "resources": RESOURCES_SCHEMA,
    "nodeSelector": STRING_MAP_SCHEMA,
    "tolerations": TOLERATIONS_SCHEMA,
    "podAnnotations": STRING_MAP_SCHEMA,
    "validation.caBundle": _PEM_SCHEMA,
}

GALLEY = Component(
    name="galley",
    chart="istio",
    summary="Galley (istio-galley): validating webhook for Istio resources and MCP config server",
    defaults=_DEFAULTS,
    docs=_DOCS,
    schema=_SCHEMA,
)
"""Galley: the Istio configuration validation webhook and MCP server."""
