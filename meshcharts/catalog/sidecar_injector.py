"""The sidecar injector webhook (``istio-sidecar-injector``).

A MutatingWebhookConfiguration sends every pod created in a selected namespace to the
injector, which adds the ``istio-init`` init container (iptables redirection) and the
``istio-proxy`` sidecar from the injection template in the ConfigMap
``istio-sidecar-injector``. That ConfigMap is a chart-level template
(``templates/istio/_chart/sidecar-injector-configmap.yaml``): it also renders without this
component, with Pilot or in a remote cluster, for ``istioctl kube-inject``. Namespaces opt in with the label ``istio-injection=enabled``
(or, with ``enableNamespacesByDefault``, opt out with ``istio-injection=disabled``).
Defaults follow Istio 1.1's ``charts/sidecarInjectorWebhook/values.yaml``.

With ``global.sds.enabled`` the injected proxy gets its workload certificate over SDS from
the node agent (component ``nodeagent``), as Istio 1.1's template did: it mounts the host
folder ``/var/run/sds`` holding the agent's socket (volume ``sds-uds-path``), with
``global.sds.useTrustworthyJwt`` also a projected service-account token for audience
``istio-ca`` (volume ``istio-token`` at ``/var/run/secrets/tokens``), and pilot-agent runs
with ``SDS_ENABLED`` / ``SDS_UDS_PATH``. The ``istio.<service-account>`` Secret is then only
mounted for control-plane mutual TLS (``global.controlPlaneSecurityEnabled``).
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

__all__ = ["SIDECAR_INJECTOR"]

_DEFAULTS: dict[str, Any] = {
    "enabled": True,
    "replicaCount": 1,
    "image": "sidecar_injector",
    "enableNamespacesByDefault": False,
    "rewriteAppHTTPProbe": False,
    "resources": {
        "requests": {"cpu": "10m", "memory": "32Mi"},
        "limits": {"cpu": "500m", "memory": "256Mi"},
    },
    "env": {},
    "nodeSelector": {},
    "tolerations": [],
    "podAnnotations": {},
}

_DOCS: dict[str, str] = {
    "enabled": (
        "Deploy the sidecar injector (Deployment/Service istio-sidecar-injector) and the "
        "MutatingWebhookConfiguration. The injection template (ConfigMap "
        "istio-sidecar-injector) renders also without them when Pilot is enabled or "
        "global.istioRemote is set, for istioctl kube-inject."
    ),
    "replicaCount": "Sidecar injector replicas.",
    "image": (
        "Sidecar injector image: a name under global.hub tagged global.tag, or a full "
        "reference containing '/'."
    ),
    "enableNamespacesByDefault": (
        "Inject into every namespace not labelled istio-injection=disabled (except the "
        "release namespace and kube-system); false: only namespaces labelled "
        "istio-injection=enabled."
    ),
    "rewriteAppHTTPProbe": (
        "Rewrite the HTTP liveness/readiness probes of injected pods to go through the "
        "sidecar's status port, so they keep working under mutual TLS (written to the "
        "injection template, so istioctl kube-inject follows it too)."
    ),
    **resource_docs("resources", "the sidecar-injector container"),
    "env": "Extra environment variables of the sidecar-injector container (name -> string value).",
    "nodeSelector": "Node labels for injector pods (empty: global.defaultNodeSelector).",
    "tolerations": "Tolerations of injector pods.",
    "podAnnotations": "Extra annotations of injector pods.",
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

SIDECAR_INJECTOR = Component(
    name="sidecarInjectorWebhook",
    chart="istio",
    summary="Sidecar injector (istio-sidecar-injector): adds istio-proxy to pods of labelled namespaces",
    defaults=_DEFAULTS,
    docs=_DOCS,
    schema=_SCHEMA,
)
