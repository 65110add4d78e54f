"""The SDS node agent (``istio-nodeagent``): workload certificates over a per-node socket.

With ``global.sds.enabled`` the sidecars no longer read their key and certificate from the
``istio.<service-account>`` Secrets: Envoy asks the node agent of its node over the Secret
Discovery Service, through a Unix domain socket in the host folder ``/var/run/sds`` that
every injected pod mounts. The agent (a DaemonSet) authenticates each request with the
pod's service-account JWT, creates a key, and has the CA named by ``env.CA_PROVIDER`` /
``env.CA_ADDR`` (Citadel by default) sign it, so private keys never leave the node.
Defaults follow Istio 1.1's ``charts/nodeagent`` and ``values-istio-sds-auth.yaml``, with
requests and limits.

The agent runs as root, without any capability: the kubelet creates the hostPath folder
owned by root with mode 0755, and the agent must create (and replace) its socket in it;
it then opens the socket to all (mode 0666) so that the proxies (UID 1337) can connect.
"""

from __future__ import annotations

from typing import Any

from meshcharts.catalog.component import Component, JsonSchema
from meshcharts.catalog.pilot import (
    ENV_SCHEMA,
    IMAGE_SCHEMA,
    RESOURCES_SCHEMA,
    STRING_MAP_SCHEMA,
    TOLERATIONS_SCHEMA,
    resource_docs,
)

__all__ = ["NODEAGENT"]

_DEFAULTS: dict[str, Any] = {
    "enabled": False,
    "image": "node-agent-k8s",
    "env": {"CA_PROVIDER": "Citadel", "CA_ADDR": "istio-citadel:8060", "VALID_TOKEN": "true"},
    "resources": {
        "requests": {"cpu": "10m", "memory": "64Mi"},
        "limits": {"cpu": "500m", "memory": "256Mi"},
    },
    "nodeSelector": {},
    "tolerations": [],
    "podAnnotations": {},
}

_DOCS: dict[str, str] = {
    "enabled": (
        "Deploy the SDS node agent (DaemonSet istio-nodeagent) on every node: it serves "
        "workload certificates to the sidecars over the socket global.sds.udsPath. Use with "
        "global.sds.enabled."
    ),
    "image": (
        "Node agent image: a name under global.hub tagged global.tag, or a full reference "
        "containing '/'."
    ),
    "env": (
        "Environment variables of the nodeagent container (name -> string or boolean "
        "value), e.g. Plugins: GoogleTokenExchange (comma-separated credential plugins of "
        "the agent); Trust_Domain is always global.trustDomain."
    ),
    "env.CA_PROVIDER": "CA that signs the workload certificates: Citadel, GoogleCA or VaultCA.",
    "env.CA_ADDR": "host:port of that CA (Citadel: istio-citadel:8060 in the release namespace).",
    "env.VALID_TOKEN": (
        '"true": pass the workload JWT to the CA without checking it first (the CA verifies '
        "it, Citadel with a TokenReview)."
    ),
    **resource_docs("resources", "the nodeagent container"),
    "nodeSelector": (
        "Node labels for node agent pods (empty: global.defaultNodeSelector); every node that "
        "runs injected pods needs an agent."
    ),
    "tolerations": "Tolerations of node agent pods (add your nodes' taints, so no node lacks an agent).",
    "podAnnotations": "Extra annotations of node agent pods.",
}

# Istio 1.1's values-istio-sds-auth.yaml sets VALID_TOKEN: true, a YAML boolean: accept
# booleans too (printed "true" / "false"), so that file is read as it is.
_ENV_SCHEMA: JsonSchema = {
    **ENV_SCHEMA,
    "additionalProperties": {"type": ["string", "boolean"]},
}

_SCHEMA: dict[str, JsonSchema] = {
    "image": IMAGE_SCHEMA,
    "env": _ENV_SCHEMA,
    "resources": RESOURCES_SCHEMA,
    "nodeSelector": STRING_MAP_SCHEMA,
    "tolerations": TOLERATIONS_SCHEMA,
    "podAnnotations": STRING_MAP_SCHEMA,
}

NODEAGENT = Component(
    name="nodeagent",
    chart="istio",
    summary="SDS node agent (istio-nodeagent DaemonSet): workload certificates over a node-local socket",
    defaults=_DEFAULTS,
    docs=_DOCS,
    schema=_SCHEMA,
)
"""The SDS node agent DaemonSet, its service account and RBAC."""
