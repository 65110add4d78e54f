"""Gateways: standalone Envoy proxies at the edge of the mesh (``istio-ingressgateway`` & co).

``gateways`` is a map: ``enabled`` switches the whole component, every other key but
``egress`` names one gateway. Each enabled gateway ``<gw>`` gets a Deployment running
``pilot-agent proxy router`` (the ``proxyv2`` image), a Service, a HorizontalPodAutoscaler
(autoscaling/v2), a PodDisruptionBudget (policy/v1), the ServiceAccount
``<gw>-service-account`` and the ClusterRole/ClusterRoleBinding ``<gw>-<namespace>`` that
Istio 1.0-1.1 shipped (read-only here: a gateway never writes Istio configuration).
Defaults follow Istio 1.1's ``charts/gateways/values.yaml``: the ingress gateway is on,
the egress gateway off, and any other name with the same schema adds a gateway.

``egress`` is not a gateway. Its ``sniHosts`` route TLS traffic of the mesh to external
hosts through ``istio-egressgateway`` (Istio 1.1's "egress gateway for HTTPS traffic"):
per host a ServiceEntry and a VirtualService matching the TLS SNI, plus one Gateway
``istio-egressgateway-sni`` (443, TLS passthrough) and one DestinationRule.

``<gw>.gatewayResources`` lists ``Gateway`` objects (networking.istio.io/v1alpha3) bound to
a gateway through its ``istio`` label, with TLS termination (SIMPLE, MUTUAL) using the
certificates the gateway mounts from its ``secretVolumes``, or SNI passthrough.

With ``global.meshExpansion.enabled`` (added to ``global`` by this component) the ingress
gateway also exposes its ``meshExpansionPorts`` (Pilot, Mixer, Citadel, DNS over TLS) and
the Gateway ``meshexpansion-gateway`` forwards them; ``useILB`` moves both to a gateway
labelled ``istio: ilbgateway`` (``meshexpansion-ilb-gateway``). Those servers are plain
TCP, as in Istio 1.1: the gateway passes the TLS streams through untouched, and unlike a
``TLS``/``PASSTHROUGH`` server this needs no SNI, which mesh-expansion clients do not send.
VirtualServices route the ports Istio 1.1 routed: 15011/15010 to Pilot, 8060 to Citadel,
5353 to kube-dns (``meshexpansion-vs-pilot``/``-citadel``, with ``useILB``
``meshexpansion-ilb-vs-pilot``/``meshexpansion-vs-citadel-ilb``), plus DestinationRule
``meshexpansion-dr-pilot`` (no TLS origination on 15011) with
``controlPlaneSecurityEnabled``; a server on any other port routes nothing.

``istio-ilbgateway`` (off) is Istio 1.1's mesh-expansion gateway behind an internal load
balancer (GKE annotation), for ``useILB``.

``global.multiCluster.enabled`` (Istio 1.1+) adds the multicluster Gateways (``*.global`` on
15443, ``AUTO_PASSTHROUGH``) of the gateways labelled ``ingressgateway``/``egressgateway``, the
EnvoyFilter rewriting ``*.global`` clusters to local services and the ``ISTIO_MUTUAL``
DestinationRule for ``*.global``.

``<gw>.sds.enabled`` (Istio 1.1+) runs the node agent as container ``ingress-sds`` beside
Envoy: Gateway servers with ``tls.credentialName`` get their certificates over SDS from
Secrets of the namespace, which Role ``<gw>-sds`` lets it list and watch (all of them: the
agent's informer reads the whole namespace, so give such gateways a namespace of their own).

With ``global.network`` set, the gateways' proxies carry it as ``ISTIO_META_NETWORK``, so
that Pilot's split-horizon EDS (``global.meshNetworks``) counts their own network's
endpoints as local.

Kubernetes ``Ingress`` (Istio's ``global.k8sIngress``) is not offered: Pilot 1.0/1.1 reads
Ingress only through ``extensions/v1beta1``, which Kubernetes 1.22 removed.

Ports below 1024: Envoy binds the Service's target ports (80, 443, 853) inside the pod.
The pods still run as UID 1337 without any capability: the pod sets the namespaced, safe
sysctl ``net.ipv4.ip_unprivileged_port_start=0`` (Kubernetes 1.22+) whenever a port is
below 1024. ``NET_BIND_SERVICE`` would not help: Kubernetes grants no ambient
capabilities, so a non-root process only holds a capability its binary carries as a file
capability, and the Envoy of the Istio 1.0 images carries none.
"""

from __future__ import annotations

import copy
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

__all__ = [
    "GATEWAYS",
    "GATEWAY_RESOURCE_SCHEMA",
    "GATEWAY_SCHEMA",
    "SERVICE_PORT_SCHEMA",
]

# --- schema fragments -----------------------------------------------------------------------

_DNS_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_NAME: JsonSchema = {"type": "string", "pattern": rf"^{_DNS_LABEL}$", "maxLength": 63}
_PORT: JsonSchema = {"type": "integer", "minimum": 1, "maximum": 65535}
_LABEL_VALUE: JsonSchema = {
    "type": "string",
    "pattern": r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$",
    "maxLength": 63,
}
_IP: JsonSchema = {"type": "string", "pattern": r"^[0-9a-fA-F.:]+$"}
_CIDR: JsonSchema = {"type": "string", "pattern": r"^[0-9a-fA-F.:]+/[0-9]{1,3}$"}
_PATH: JsonSchema = {"type": "string", "pattern": r"^/[^\s]*$"}
_HOSTNAME = rf"{_DNS_LABEL}(\.{_DNS_LABEL})*"
_EXTERNAL_HOST: JsonSchema = {
    "type": "string",
    "pattern": rf"^(\*\.)?{_DNS_LABEL}(\.{_DNS_LABEL})+$",
    "maxLength": 253,
}
_GATEWAY_HOST: JsonSchema = {
    # "host", "*.domain", "*", optionally prefixed "<namespace>/", "./" or "*/" (Istio 1.1).
    "type": "string",
    "pattern": rf"^(({_DNS_LABEL}|\*|\.)/)?(\*|(\*\.)?{_HOSTNAME})$",
    "maxLength": 253,
}


def _described(schema: JsonSchema, description: str) -> dict[str, Any]:
    return {**schema, "description": description}


SERVICE_PORT_SCHEMA: JsonSchema = {
    "type": "object",
    "properties": {
        "port": _described(_PORT, "Service port."),
        "targetPort": _described(_PORT, "Port Envoy listens on in the pod (default: port)."),
        "nodePort": _described(
            _PORT, "Node port, for type NodePort or LoadBalancer (ignored for ClusterIP)."
        ),
        "name": _described(
            _NAME,
            "Port name, unique in the gateway; its prefix names the protocol (http2-, https-, tcp-, tls-).",
        ),
        "protocol": {
            "type": "string",
            "enum": ["TCP", "UDP", "SCTP"],
            "description": "L4 protocol (default TCP).",
        },
    },
    "required": ["port", "name"],
    "additionalProperties": False,
}
"""One port of a gateway Service (and of its pods, as ``targetPort``)."""

_SECRET_VOLUME: JsonSchema = {
    "type": "object",
    "properties": {
        "name": _described(_NAME, "Volume name in the pod."),
        "secretName": _described(
            _NAME, "Secret of the release namespace (optional: may not exist yet)."
        ),
        "mountPath": _described(_PATH, "Where the istio-proxy container mounts it, read-only."),
    },
    "required": ["name", "secretName", "mountPath"],
    "additionalProperties": False,
}

_SERVER_TLS: JsonSchema = {
    "type": "object",
    "properties": {
        "mode": {
            "type": "string",
            "enum": ["SIMPLE", "MUTUAL", "PASSTHROUGH"],
            "description": "SIMPLE: terminate TLS; MUTUAL: terminate and require client certificates; PASSTHROUGH: route on SNI without terminating.",
        },
        "serverCertificate": _described(
            _PATH,
            "Server certificate (SIMPLE/MUTUAL); default /etc/istio/<gw without istio->-certs/tls.crt.",
        ),
        "privateKey": _described(
            _PATH,
            "Private key (SIMPLE/MUTUAL); default /etc/istio/<gw without istio->-certs/tls.key.",
        ),
        "caCertificates": _described(
            _PATH,
            "CA bundle verifying client certificates (MUTUAL); default /etc/istio/<gw without istio->-ca-certs/ca-chain.cert.pem.",
        ),
        "credentialName": _described(
            _NAME,
            "Secret of the gateway's namespace that its ingress-sds container serves over SDS "
            "(needs the gateway's sds.enabled and Istio 1.1+); the certificate paths are then not defaulted.",
        ),
        "subjectAltNames": {
            "type": "array",
            "items": {"type": "string", "minLength": 1},
            "description": "Accepted subject alternative names of client certificates (MUTUAL).",
        },
        "httpsRedirect": {
            "type": "boolean",
            "description": "Answer plain HTTP with a 301 redirect to HTTPS.",
        },
    },
    "additionalProperties": False,
}

GATEWAY_RESOURCE_SCHEMA: JsonSchema = {
    "type": "object",
    "properties": {
        "name": _described(_NAME, "Name of the Gateway object (unique in the release)."),
        "hosts": {
            "type": "array",
            "minItems": 1,
            "items": _GATEWAY_HOST,
            "description": "Hosts served (SNI hosts for TLS): host, *.domain or *, optionally <namespace>/host.",
        },
        "port": {
            "type": "object",
            "properties": {
                "number": _described(
                    _PORT, "Port Envoy listens on: one of the gateway's target ports."
                ),
                "name": _described(_NAME, "Server port name."),
                "protocol": {
                    "type": "string",
                    "enum": ["HTTP", "HTTPS", "HTTP2", "GRPC", "MONGO", "TCP", "TLS"],
                    "description": "Protocol of the server port.",
                },
            },
            "required": ["number", "name", "protocol"],
            "additionalProperties": False,
        },
        "tls": _SERVER_TLS,
    },
    "required": ["name", "hosts", "port"],
    "additionalProperties": False,
    "allOf": [
        {
            # HTTPS and TLS servers need a TLS mode.
            "if": {
                "properties": {"port": {"properties": {"protocol": {"enum": ["HTTPS", "TLS"]}}}}
            },
            "then": {"required": ["tls"], "properties": {"tls": {"required": ["mode"]}}},
        },
        {
            # A TLS mode only makes sense on an HTTPS or TLS server.
            "if": {"required": ["tls"], "properties": {"tls": {"required": ["mode"]}}},
            "then": {
                "properties": {"port": {"properties": {"protocol": {"enum": ["HTTPS", "TLS"]}}}}
            },
        },
    ],
}
"""One ``Gateway`` object bound to a gateway, with a single server."""

_SDS_SCHEMA: JsonSchema = {
    "type": "object",
    "properties": {
        "enabled": {
            "type": "boolean",
            "description": (
                "Run the ingress-sds container (Istio 1.1+): Envoy gets the certificates of Gateway "
                "servers with tls.credentialName over SDS, from Secrets of the gateway's namespace."
            ),
        },
        "image": {
            **IMAGE_SCHEMA,
            "description": (
                "Image of the ingress-sds container: a name under global.hub, tagged like the "
                "gateway's proxy (tag, else global.tag), or a full reference."
            ),
        },
        "resources": {
            **RESOURCES_SCHEMA,
            "description": "Requests and limits of the ingress-sds container.",
        },
    },
    "additionalProperties": False,
}

SDS_DEFAULTS: dict[str, Any] = {
    "enabled": False,
    "image": "node-agent-k8s",
    "resources": {
        "requests": {"cpu": "10m", "memory": "32Mi"},
        "limits": {"cpu": "500m", "memory": "128Mi"},
    },
}
"""The ``sds`` settings of a gateway that sets none (also filled in by the templates)."""

_GATEWAY_FIELDS: dict[str, tuple[JsonSchema, str]] = {
    "enabled": (
        {"type": "boolean"},
        "Deploy this gateway (Deployment, Service, HPA, PDB, ServiceAccount, ClusterRole/Binding).",
    ),
    "sds": (
        _SDS_SCHEMA,
        "Secret discovery for Gateway TLS (Istio 1.1's ingress gateway SDS): an ingress-sds "
        "container (the node agent) beside Envoy, allowed by Role <gw>-sds to list and watch "
        "every Secret of the namespace.",
    ),
    "tag": (
        {"type": "string", "pattern": "^([A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?$"},
        "Proxy image tag of this gateway (empty: global.tag). Upgrade gateways before sidecars by "
        "setting it to the new release first; meshcharts lint refuses strict mTLS while it differs.",
    ),
    "labels": (
        {
            "type": "object",
            "properties": {
                "app": {**_LABEL_VALUE, "minLength": 1},
                "istio": {**_LABEL_VALUE, "minLength": 1},
            },
            "additionalProperties": _LABEL_VALUE,
        },
        "Pod labels; app and istio (default: the gateway name) select the pods, and Gateway objects select on istio.",
    ),
    "replicaCount": ({"type": "integer", "minimum": 0}, "Replicas when autoscaling is off."),
    "autoscaleEnabled": (
        {"type": "boolean"},
        "Scale with a HorizontalPodAutoscaler (autoscaling/v2) on CPU.",
    ),
    "autoscaleMin": ({"type": "integer", "minimum": 1}, "Minimum replicas when autoscaling."),
    "autoscaleMax": ({"type": "integer", "minimum": 1}, "Maximum replicas when autoscaling."),
    "cpu": (
        {
            "type": "object",
            "properties": {
                "targetAverageUtilization": {"type": "integer", "minimum": 1, "maximum": 100}
            },
            "additionalProperties": False,
        },
        "Autoscaling target.",
    ),
    "resources": (
        RESOURCES_SCHEMA,
        "Requests and limits of the istio-proxy container (default: global.proxy.resources).",
    ),
    "type": (
        {"type": "string", "enum": ["ClusterIP", "NodePort", "LoadBalancer"]},
        "Service type.",
    ),
    "loadBalancerIP": (
        {"anyOf": [{"const": ""}, _IP]},
        "Requested load balancer IP (LoadBalancer only; empty: any).",
    ),
    "loadBalancerSourceRanges": (
        {"type": "array", "items": _CIDR},
        "CIDRs allowed to reach the load balancer (empty: all).",
    ),
    "externalIPs": (
        {"type": "array", "items": _IP},
        "External IPs routed to the Service by the cluster.",
    ),
    "externalTrafficPolicy": (
        {"type": "string", "enum": ["", "Cluster", "Local"]},
        "Local keeps the client source IP (NodePort/LoadBalancer only; empty: Kubernetes default, Cluster).",
    ),
    "serviceAnnotations": (
        STRING_MAP_SCHEMA,
        "Annotations of the Service (e.g. internal load balancer).",
    ),
    "podAnnotations": (
        STRING_MAP_SCHEMA,
        'Extra annotations of the pods (sidecar.istio.io/inject is always "false").',
    ),
    "ports": (
        {"type": "array", "items": SERVICE_PORT_SCHEMA},
        "Service ports; the target ports are the pod's listening ports. Names and port numbers must be unique.",
    ),
    "meshExpansionPorts": (
        {"type": "array", "items": SERVICE_PORT_SCHEMA},
        "Ports added with global.meshExpansion.enabled when the gateway carries the mesh-expansion label (istio: ingressgateway, or ilbgateway with useILB); a port number already in ports is skipped.",
    ),
    "secretVolumes": (
        {"type": "array", "items": _SECRET_VOLUME},
        "Secrets (e.g. TLS certificates for gatewayResources) mounted read-only into the proxy; missing Secrets are tolerated.",
    ),
    "env": (
        ENV_SCHEMA,
        "Extra environment variables of the istio-proxy container (name -> string value).",
    ),
    "nodeSelector": (
        STRING_MAP_SCHEMA,
        "Node labels for the pods (empty: global.defaultNodeSelector).",
    ),
    "tolerations": (TOLERATIONS_SCHEMA, "Tolerations of the pods."),
    "gatewayResources": (
        {"type": "array", "items": GATEWAY_RESOURCE_SCHEMA},
        "Gateway objects (networking.istio.io/v1alpha3) served by this gateway: each entry renders one Gateway with one server, selecting the pods by their istio label.",
    ),
}

_GATEWAY_PROPERTIES = {
    key: _described(schema, doc) for key, (schema, doc) in _GATEWAY_FIELDS.items()
}

GATEWAY_SCHEMA: JsonSchema = {
    "type": "object",
    "properties": _GATEWAY_PROPERTIES,
    "additionalProperties": False,
}
"""The settings of one gateway; the built-in gateways and user-named ones share it."""

_USER_GATEWAY_SCHEMA: JsonSchema = {
    **GATEWAY_SCHEMA,
    "description": "A gateway of your own, with the same settings as istio-ingressgateway; enabled is required, and ports when enabled.",
    "required": ["enabled"],
    "if": {"properties": {"enabled": {"const": True}}},
    "then": {"required": ["ports"], "properties": {"ports": {"minItems": 1}}},
}

_EGRESS_SCHEMA: JsonSchema = {
    "type": "object",
    "description": "Not a gateway: egress routing through istio-egressgateway.",
    "properties": {
        "sniHosts": {
            "type": "array",
            "uniqueItems": True,
            "items": _EXTERNAL_HOST,
            "description": (
                "External hosts (e.g. edition.cnn.com, *.wikipedia.org) whose TLS traffic (443) leaves the mesh "
                "through istio-egressgateway, routed on SNI; needs gateways.istio-egressgateway.enabled. A wildcard host "
                "gets resolution NONE (it cannot be resolved): the gateway then forwards to the connection's original "
                "destination, so prefer the concrete hosts."
            ),
        },
    },
    "additionalProperties": False,
}

# --- defaults -------------------------------------------------------------------------------

_RESOURCES: dict[str, Any] = {
    "requests": {"cpu": "100m", "memory": "128Mi"},
    "limits": {"cpu": "2000m", "memory": "1024Mi"},
}


def _ports(*entries: tuple[int, str] | tuple[int, str, int]) -> list[dict[str, Any]]:
    """Service ports (port, name[, nodePort]) whose target port is the same number."""
    ports: list[dict[str, Any]] = []
    for entry in entries:
        port: dict[str, Any] = {"port": entry[0], "targetPort": entry[0], "name": entry[1]}
        if len(entry) == 3:
            port["nodePort"] = entry[2]
        ports.append(port)
    return ports


def _certs(short: str) -> list[dict[str, str]]:
    return [
        {
            "name": f"{short}-{kind}",
            "secretName": f"istio-{short}-{kind}",
            "mountPath": f"/etc/istio/{short}-{kind}",
        }
        for kind in ("certs", "ca-certs")
    ]


def _gateway(
    short: str,
    *,
    enabled: bool,
    service: dict[str, Any],
    ports: list[dict[str, Any]],
    expansion: list[dict[str, Any]] | None = None,
    sds: bool = False,
    resources: dict[str, Any] | None = None,
    env: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The defaults of built-in gateway ``istio-<short>``, in values.yaml order."""
    gateway: dict[str, Any] = {"enabled": enabled}
    if sds:
        gateway["sds"] = copy.deepcopy(SDS_DEFAULTS)
    gateway.update(
        {
            "tag": "",
            "labels": {"app": f"istio-{short}", "istio": short},
            "replicaCount": 1,
            "autoscaleEnabled": True,
            "autoscaleMin": 1,
            "autoscaleMax": 5,
            "cpu": {"targetAverageUtilization": 80},
            "resources": copy.deepcopy(resources or _RESOURCES),
            **service,
            "serviceAnnotations": {},
            "podAnnotations": {},
            "ports": ports,
        }
    )
    if expansion is not None:
        gateway["meshExpansionPorts"] = expansion
    gateway.update(
        secretVolumes=_certs(short),
        env={"ISTIO_META_ROUTER_MODE": "sni-dnat"} if env is None else env,
        nodeSelector={},
        tolerations=[],
        gatewayResources=[],
    )
    return gateway


_LOAD_BALANCER: dict[str, Any] = {
    "type": "LoadBalancer",
    "loadBalancerIP": "",
    "loadBalancerSourceRanges": [],
    "externalIPs": [],
    "externalTrafficPolicy": "",
}


def _ingress() -> dict[str, Any]:
    return _gateway(
        "ingressgateway",
        enabled=True,
        sds=True,
        service=copy.deepcopy(_LOAD_BALANCER),
        ports=_ports(
            (80, "http2", 31380),
            (443, "https", 31390),
            (31400, "tcp", 31400),
            (15029, "https-kiali"),
            (15030, "https-prometheus"),
            (15031, "https-grafana"),
            (15032, "https-tracing"),
            (15443, "tls"),
            (15020, "status-port"),
        ),
        expansion=_ports(
            (15011, "tcp-pilot-grpc-tls"),
            (15004, "tcp-mixer-grpc-tls"),
            (8060, "tcp-citadel-grpc-tls"),
            (853, "tcp-dns-tls"),
        ),
    )


def _egress() -> dict[str, Any]:
    return _gateway(
        "egressgateway",
        enabled=False,
        service={"type": "ClusterIP"},
        ports=_ports((80, "http2"), (443, "https"), (15443, "tls")),
    )


_ILB_PORTS: tuple[tuple[int, str], ...] = (
    (15011, "grpc-pilot-mtls"),
    (15010, "grpc-pilot"),
    (8060, "tcp-citadel-grpc-tls"),
    (5353, "tcp-dns"),
)


def _ilb() -> dict[str, Any]:
    """Istio 1.1's mesh-expansion gateway behind an internal (GKE) load balancer."""
    gateway = _gateway(
        "ilbgateway",
        enabled=False,
        service=copy.deepcopy(_LOAD_BALANCER),
        # Four ports: GKE's internal load balancers allow five by default.
        ports=_ports(*_ILB_PORTS),
        # The same ports again, so that Gateway meshexpansion-ilb-gateway serves them
        # (with global.meshExpansion.useILB); the Service lists each once.
        expansion=_ports(*_ILB_PORTS),
        resources={
            "requests": {"cpu": "800m", "memory": "512Mi"},
            "limits": {"cpu": "2000m", "memory": "1024Mi"},
        },
        env={},
    )
    gateway["serviceAnnotations"] = {"cloud.google.com/load-balancer-type": "internal"}
    return gateway


_DEFAULTS: dict[str, Any] = {
    "enabled": True,
    "istio-ingressgateway": _ingress(),
    "istio-egressgateway": _egress(),
    "istio-ilbgateway": _ilb(),
    "egress": {"sniHosts": []},
}

# --- docs -----------------------------------------------------------------------------------


def _gateway_docs(name: str, defaults: dict[str, Any]) -> dict[str, str]:
    """Docs of every key one built-in gateway's defaults carry."""
    docs = {f"{name}.{key}": doc for key, (_, doc) in _GATEWAY_FIELDS.items() if key in defaults}
    short = name.removeprefix("istio-")
    docs.update(
        {
            f"{name}.enabled": f"Deploy {name} (Deployment, Service, HPA, PDB, ServiceAccount, ClusterRole/Binding).",
            f"{name}.labels.app": "app label of the pods (selects them).",
            f"{name}.labels.istio": f"istio label of the pods: Gateway objects select {short} pods with it.",
            f"{name}.cpu.targetAverageUtilization": "Average CPU utilisation (percent of the request) the HPA aims for.",
            **resource_docs(f"{name}.resources", f"the istio-proxy container of {name}"),
        }
    )
    if "ISTIO_META_ROUTER_MODE" in defaults["env"]:
        docs[f"{name}.env.ISTIO_META_ROUTER_MODE"] = (
            "sni-dnat: Pilot also gives the gateway SNI-named clusters of the mesh services, which "
            "AUTO_PASSTHROUGH servers (multicluster, port 15443) route to; required by global.multiCluster.enabled."
        )
    if "sds" in defaults:
        docs.update(
            {
                f"{name}.sds.enabled": _SDS_SCHEMA["properties"]["enabled"]["description"],
                f"{name}.sds.image": _SDS_SCHEMA["properties"]["image"]["description"],
                **resource_docs(f"{name}.sds.resources", f"the ingress-sds container of {name}"),
            }
        )
    return docs


_DOCS: dict[str, str] = {
    "enabled": "Deploy the gateways: every enabled entry of this map except egress.",
    **_gateway_docs("istio-ingressgateway", _DEFAULTS["istio-ingressgateway"]),
    "istio-ingressgateway": "The ingress gateway: LoadBalancer Service for traffic entering the mesh.",
    **_gateway_docs("istio-egressgateway", _DEFAULTS["istio-egressgateway"]),
    "istio-egressgateway": "The egress gateway: ClusterIP Service through which traffic can leave the mesh (off by default since Istio 1.1).",
    **_gateway_docs("istio-ilbgateway", _DEFAULTS["istio-ilbgateway"]),
    "istio-ilbgateway": (
        "Istio 1.1's mesh-expansion gateway behind an internal load balancer (GKE annotation): Pilot "
        "(15011 mutual TLS, 15010 plain), Citadel (8060) and DNS (5353) for machines of the private "
        "network; off by default, used with global.meshExpansion.useILB."
    ),
    "istio-ilbgateway.serviceAnnotations.cloud.google.com/load-balancer-type": (
        "internal: GKE gives the Service an internal TCP load balancer (other clouds: their own annotation)."
    ),
    "egress": "Not a gateway: egress routing through istio-egressgateway.",
    "egress.sniHosts": _EGRESS_SCHEMA["properties"]["sniHosts"]["description"],
}

_SCHEMA: dict[str, JsonSchema] = {
    "": {
        "type": "object",
        "properties": {
            "enabled": {"type": "boolean", "description": _DOCS["enabled"]},
            "istio-ingressgateway": {
                **GATEWAY_SCHEMA,
                "description": _DOCS["istio-ingressgateway"],
            },
            "istio-egressgateway": {**GATEWAY_SCHEMA, "description": _DOCS["istio-egressgateway"]},
            "istio-ilbgateway": {**GATEWAY_SCHEMA, "description": _DOCS["istio-ilbgateway"]},
            "egress": _EGRESS_SCHEMA,
        },
        # Any other key is a gateway of the user's: a DNS label short enough for
        # "<gw>-service-account".
        "propertyNames": {"pattern": rf"^{_DNS_LABEL}$", "maxLength": 47},
        "additionalProperties": _USER_GATEWAY_SCHEMA,
    },
}

_GLOBAL_DEFAULTS: dict[str, Any] = {
    "meshExpansion": {"enabled": False, "useILB": False},
    "multiCluster": {"enabled": False},
}

_GLOBAL_DOCS: dict[str, str] = {
    "meshExpansion.enabled": (
        "Mesh expansion: the gateway labelled istio: ingressgateway also exposes its meshExpansionPorts "
        "(Pilot 15011, Mixer 15004, Citadel 8060, DNS 853), Gateway meshexpansion-gateway serves them and "
        "VirtualServices route 15011/15010 to Pilot, 8060 to Citadel and 5353 to kube-dns (other ports: no route)."
    ),
    "meshExpansion.useILB": (
        "Expose the mesh-expansion ports on the gateway labelled istio: ilbgateway instead "
        "(gateways.istio-ilbgateway.enabled, an internal load balancer), through Gateway "
        "meshexpansion-ilb-gateway."
    ),
    "multiCluster.enabled": (
        "Multicluster mesh through gateways (Istio 1.1+, global.tag 1.1 or later): Gateways "
        "istio-multicluster-ingressgateway (and -egressgateway with a gateway labelled istio: "
        "egressgateway) pass mutual TLS for *.global hosts through on port 15443 (AUTO_PASSTHROUGH), "
        "EnvoyFilter istio-multicluster-ingressgateway rewrites *.global clusters to "
        ".svc.<clusterDomain>, and DestinationRule istio-multicluster-destinationrule makes *.global "
        "traffic ISTIO_MUTUAL. Needs the gateway labelled istio: ingressgateway with target port 15443 "
        "and env ISTIO_META_ROUTER_MODE=sni-dnat."
    ),
}

GATEWAYS = Component(
    name="gateways",
    chart="istio",
    summary="Gateways (istio-ingressgateway, istio-egressgateway, istio-ilbgateway, your own): Envoy at the mesh edge, with Gateway, egress SNI routing, mesh expansion, multicluster and SDS",
    defaults=_DEFAULTS,
    docs=_DOCS,
    schema=_SCHEMA,
    global_defaults=_GLOBAL_DEFAULTS,
    global_docs=_GLOBAL_DOCS,
    merge_keys={
        "*.ports": "name",
        "*.meshExpansionPorts": "name",
        "*.secretVolumes": "name",
        "*.gatewayResources": "name",
    },
)
"""The ``gateways`` component of the ``istio`` chart."""
