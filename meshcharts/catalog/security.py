"""Security: Citadel (``istio-citadel``), the mesh's certificate authority.

Citadel watches service accounts and writes an ``istio.<service-account>`` Secret with a
key and certificate for each, carrying the SPIFFE identity
``spiffe://<global.trustDomain>/ns/<namespace>/sa/<service-account>``; sidecars mount it
for mutual TLS. It signs with a self-generated root (``selfSigned``) or with the
operator's CA from the Secret ``cacerts``. Defaults follow Istio 1.1's
``charts/security/values.yaml``, with requests and limits.
"""

from __future__ import annotations

from typing import Any

from meshcharts.catalog.pilot import (
    ENV_SCHEMA,
    IMAGE_SCHEMA,
    RESOURCES_SCHEMA,
    STRING_MAP_SCHEMA,
    TOLERATIONS_SCHEMA,
    resource_docs,
)
from meshcharts.components import Component, JsonSchema

__all__ = ["SECURITY"]

_DEFAULTS: dict[str, Any] = {
    "enabled": True,
    "replicaCount": 1,
    "image": "citadel",
    "selfSigned": True,
    "resources": {
        "requests": {"cpu": "10m", "memory": "64Mi"},
        "limits": {"cpu": "500m", "memory": "512Mi"},
    },
    "env": {},
    "nodeSelector": {},
    "tolerations": [],
    "podAnnotations": {},
}

_DOCS: dict[str, str] = {
    "enabled": "Deploy Citadel (Deployment/Service istio-citadel), which issues workload certificates.",
    "replicaCount": "Citadel replicas.",
    "image": "Citadel image: a name under global.hub tagged global.tag, or a full reference containing '/'.",
    "selfSigned": (
        "Sign with a self-generated root CA; false: sign with the CA in the Secret cacerts "
        "(ca-cert.pem, ca-key.pem, root-cert.pem, cert-chain.pem) of the release namespace."
    ),
    **resource_docs("resources", "the citadel container"),
    "env": "Extra environment variables of the citadel container (name -> string value).",
    "nodeSelector": "Node labels for Citadel pods (empty: global.defaultNodeSelector).",
    "tolerations": "Tolerations of Citadel pods.",
    "podAnnotations": "Extra annotations of Citadel pods.",
}

_SCHEMA: dict[str, JsonSchema] = {
    "replicaCount": {"type": "integer", "minimum": 0},
    "image": IMAGE_SCHEMA,
    "resources": RESOURCES_SCHEMA,
    "env": ENV_SCHEMA,
    "nodeSelector": STRING_MAP_SCHEMA,
    "tolerations": TOLERATIONS_SCHEMA,
    "podAnnotations": STRING_MAP_SCHEMA,
}

SECURITY = Component(
    name="security",
    chart="istio",
    summary="Citadel (istio-citadel): certificate authority issuing SPIFFE identities for mTLS",
    defaults=_DEFAULTS,
    docs=_DOCS,
    schema=_SCHEMA,
)
