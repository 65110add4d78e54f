"""istiocoredns: DNS for the ``*.global`` hosts of a multicluster mesh (Istio 1.1 ``charts/istiocoredns``).

In a mesh of several clusters joined through their gateways, a service of another cluster
is reached as ``<name>.<namespace>.global``, a host declared by a ``ServiceEntry``. Such
names are in no Kubernetes DNS zone: this component runs CoreDNS with Istio's CoreDNS
plugin beside it. The plugin reads the ServiceEntries and answers A records for their
hosts (their ``addresses``) over gRPC; CoreDNS sends queries for the zone ``global`` to the
plugin and every other query to the node's resolver. The cluster DNS (kube-dns
``stubDomains`` or CoreDNS ``forward``) must send ``global`` to the Service
``istiocoredns``. Off by default, as upstream.

Both containers run as non-root users without any capability: CoreDNS listens on 1053 in
the pod and the Service maps port 53 to it, so no privileged port is bound.
"""

from __future__ import annotations

from typing import Any

from meshcharts.catalog.component import Component, JsonSchema
from meshcharts.catalog.pilot import (
    RESOURCES_SCHEMA,
    STRING_MAP_SCHEMA,
    TOLERATIONS_SCHEMA,
    resource_docs,
)

__all__ = ["ISTIOCOREDNS"]

# A full image reference: registry/repository[:tag][@digest]; reference characters only.
_IMAGE_REFERENCE: JsonSchema = {
    "type": "string",
    "pattern": r"^[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9._-]+)+(:[A-Za-z0-9_][A-Za-z0-9._-]*)?(@[A-Za-z0-9:]+)?$",
}

_DEFAULTS: dict[str, Any] = {
    "enabled": False,
    "replicaCount": 1,
    "coreDNSImage": "coredns/coredns:1.1.2",
    "coreDNSPluginImage": "istio/coredns-plugin:0.2-istio-1.1",
    "resources": {
        "requests": {"cpu": "10m", "memory": "32Mi"},
        "limits": {"cpu": "200m", "memory": "128Mi"},
    },
    "nodeSelector": {},
    "tolerations": [],
    "podAnnotations": {},
}

_DOCS: dict[str, str] = {
    "enabled": (
        "Deploy istiocoredns (Deployment and Service istiocoredns): CoreDNS answering the "
        "*.global hosts of the ServiceEntries of a multicluster mesh. Point the cluster DNS's "
        "zone global at the Service istiocoredns."
    ),
    "replicaCount": "istiocoredns replicas (more than 1 adds a PodDisruptionBudget).",
    "coreDNSImage": (
        "CoreDNS image, a full reference (not under global.hub). The Corefile uses the proxy "
        "plugin, which CoreDNS removed in 1.5: keep a release before 1.5."
    ),
    "coreDNSPluginImage": (
        "Image of Istio's CoreDNS plugin, which serves the ServiceEntry hosts over gRPC on "
        "port 8053 of the pod; a full reference."
    ),
    **resource_docs("resources", "each of the two containers (coredns and the plugin)"),
    "nodeSelector": "Node labels for istiocoredns pods (empty: global.defaultNodeSelector).",
    "tolerations": "Tolerations of istiocoredns pods.",
    "podAnnotations": "Extra annotations of istiocoredns pods.",
}

_SCHEMA: dict[str, JsonSchema] = {
    "replicaCount": {"type": "integer", "minimum": 0},
    "coreDNSImage": _IMAGE_REFERENCE,
    "coreDNSPluginImage": _IMAGE_REFERENCE,
    "resources": RESOURCES_SCHEMA,
    "nodeSelector": STRING_MAP_SCHEMA,
    "tolerations": TOLERATIONS_SCHEMA,
    "podAnnotations": STRING_MAP_SCHEMA,
}

ISTIOCOREDNS = Component(
    name="istiocoredns",
    chart="istio",
    summary="istiocoredns: CoreDNS with Istio's plugin, resolving the *.global hosts of ServiceEntries",
    defaults=_DEFAULTS,
    docs=_DOCS,
    schema=_SCHEMA,
)
"""CoreDNS and Istio's CoreDNS plugin, for multicluster ``*.global`` names."""
