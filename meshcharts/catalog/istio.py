"""The ``istio`` chart: the control plane, and the ``global`` values its components share.

The global values are Istio 1.1's (``install/kubernetes/helm/istio/values.yaml``),
trimmed to what the templates read, with ``docker.io/istio`` and the release tag as
defaults instead of the development hub. Per-component values live with their
components (``pilot``, ``security``, ``sidecarInjectorWebhook``).

Values that end up inside the sidecar injection template (IP ranges, port lists) are
constrained by the schema to characters that cannot break out of it.
"""

from __future__ import annotations

from typing import Any

from meshcharts.catalog.addons import ADDONS
from meshcharts.catalog.component import ChartDef, JsonSchema
from meshcharts.catalog.controlplane import (
    CONTROL_PLANE_DOCS,
    CONTROL_PLANE_SCHEMA,
    CONTROL_PLANE_VALUES,
)
from meshcharts.catalog.galley import GALLEY
from meshcharts.catalog.gateways import GATEWAYS
from meshcharts.catalog.istiocoredns import ISTIOCOREDNS
from meshcharts.catalog.mixer import MIXER
from meshcharts.catalog.nodeagent import NODEAGENT
from meshcharts.catalog.pilot import (
    IMAGE_SCHEMA,
    PILOT,
    RESOURCE_LIST_SCHEMA,
    RESOURCES_SCHEMA,
    STRING_MAP_SCHEMA,
    resource_docs,
)
from meshcharts.catalog.security import SECURITY
from meshcharts.catalog.sidecar_injector import SIDECAR_INJECTOR
from meshcharts.catalog.traffic import TRAFFIC_POLICIES

__all__ = ["ISTIO_CHART", "ISTIO_GLOBAL_DEFAULTS", "ISTIO_GLOBAL_DOCS", "ISTIO_GLOBAL_SCHEMA"]

ISTIO_GLOBAL_DEFAULTS: dict[str, Any] = {
    "hub": "docker.io/istio",
    "tag": "1.0.6",
    "imagePullPolicy": "IfNotPresent",
    "imagePullSecrets": [],
    "monitoringPort": 15014,
    "priorityClassName": "",
    "defaultNodeSelector": {},
    "defaultResources": {"requests": {"cpu": "10m"}},
    "defaultPodDisruptionBudget": {"enabled": True},
    "trustDomain": "cluster.local",
    "controlPlaneSecurityEnabled": False,
    "disablePolicyChecks": True,
    "policyCheckFailOpen": False,
    "enableTracing": True,
    "tracer": {
        "zipkin": {"address": ""},
        "lightstep": {"address": "", "secure": True, "cacertPath": ""},
    },
    "network": "",
    "podDNSSearchNamespaces": [],
    "outboundTrafficPolicy": {"mode": "ALLOW_ANY"},
    "meshNetworks": {},
    "sds": {"enabled": False, "udsPath": "", "useTrustworthyJwt": False, "useNormalJwt": False},
    "istioRemote": False,
    "remotePilotAddress": "",
    "remotePolicyAddress": "",
    "remoteTelemetryAddress": "",
    "remoteZipkinAddress": "",
    "remotePilotCreateSvcEndpoint": False,
    "proxy": {
        "image": "proxyv2",
        "clusterDomain": "cluster.local",
        "resources": {
            "requests": {"cpu": "100m", "memory": "128Mi"},
            "limits": {"cpu": "2000m", "memory": "1024Mi"},
        },
        "concurrency": 2,
        "accessLogFile": "",
        "accessLogFormat": "",
        "accessLogEncoding": "TEXT",
        "dnsRefreshRate": "5s",
        "enableCoreDump": False,
        "kubevirtInterfaces": "",
        "tracer": "zipkin",
        "envoyStatsd": {"enabled": False, "host": "", "port": 9125},
        "envoyMetricsService": {"enabled": False, "host": "", "port": 15000},
        "statusPort": 15020,
        "readinessInitialDelaySeconds": 1,
        "readinessPeriodSeconds": 2,
        "readinessFailureThreshold": 30,
        "includeIPRanges": "*",
        "excludeIPRanges": "",
        "includeInboundPorts": "",
        "excludeInboundPorts": "",
        "privileged": False,
        "autoInject": "enabled",
    },
    "proxy_init": {
        "image": "proxy_init",
        "resources": {
            "requests": {"cpu": "10m", "memory": "10Mi"},
            "limits": {"cpu": "100m", "memory": "50Mi"},
        },
    },
}
"""Default values under ``global``."""

ISTIO_GLOBAL_DOCS: dict[str, str] = {
    "hub": "Registry and repository of the Istio images: <hub>/<image>:<tag>.",
    "tag": "Tag of the Istio images.",
    "imagePullPolicy": "Pull policy of every Istio container, injected ones included.",
    "imagePullSecrets": "Names of Secrets in the release namespace used to pull the images (added to the service accounts).",
    "monitoringPort": "Port of the control-plane self-monitoring (Prometheus) endpoints.",
    "priorityClassName": "PriorityClass of the control-plane pods (empty: none).",
    "defaultNodeSelector": "Node labels for control-plane pods whose component sets no nodeSelector.",
    "defaultResources.requests.cpu": "CPU request of a control-plane container whose component sets no resources.",
    "defaultPodDisruptionBudget.enabled": (
        "Give each control-plane Deployment that keeps more than one pod (replicas above 1, or "
        "autoscaleMin above 1 when autoscaling) a PodDisruptionBudget (policy/v1) with "
        "minAvailable 1; a single pod never gets one, so node drains are not blocked."
    ),
    "trustDomain": (
        "SPIFFE trust domain: Citadel issues spiffe://<trustDomain>/ns/<namespace>/sa/<service-account>; "
        "also written to the mesh config."
    ),
    "controlPlaneSecurityEnabled": (
        "Mutual TLS between the proxies and the control plane: proxies reach Pilot on 15011 "
        "with MUTUAL_TLS instead of 15010 in plain text."
    ),
    "disablePolicyChecks": "Mesh config disablePolicyChecks: skip Mixer policy checks.",
    "policyCheckFailOpen": "Mesh config policyCheckFailOpen: allow traffic when Mixer policy is unreachable.",
    "enableTracing": (
        "Mesh config enableTracing; the proxies (injected ones and gateways) report spans to "
        "the tracer proxy.tracer names. false: no tracer settings at all."
    ),
    "tracer.zipkin.address": (
        "host:port of the Zipkin collector (empty: zipkin.<release namespace>:9411); written to "
        "the mesh config's defaultConfig.tracing, which the injector reads for every pod."
    ),
    "tracer.lightstep.address": (
        "host:port of the LightStep satellite pool (proxy.tracer lightstep). The access token "
        "is not a value: proxies read it from the Secret lightstep.token (key accessToken) of "
        "their own namespace."
    ),
    "tracer.lightstep.secure": "Talk TLS to the LightStep satellites.",
    "tracer.lightstep.cacertPath": (
        "Path of the CA certificate for the LightStep satellites, e.g. /etc/lightstep/cacert.pem "
        "(empty: the system roots). Its folder is mounted from the Secret lightstep.cacert of "
        "the proxy's namespace (optional)."
    ),
    "network": (
        "Name of this cluster's network in a multi-network mesh (meshNetworks); injected proxies "
        "get ISTIO_META_NETWORK (empty: none)."
    ),
    "podDNSSearchNamespaces": (
        "DNS search domains added to every injected pod (dnsConfig.searches), e.g. global for "
        "multicluster .global names. An entry starting NAMESPACE. is the pod's namespace "
        "followed by the rest, e.g. NAMESPACE.global."
    ),
    "outboundTrafficPolicy.mode": (
        "ALLOW_ANY: proxies pass traffic to unknown hosts; REGISTRY_ONLY: only to services "
        "in the registry or declared with a ServiceEntry."
    ),
    "meshNetworks": "Networks of a multi-network mesh (the meshNetworks key of ConfigMap istio).",
    "sds.enabled": (
        "Workload certificates over SDS from the node agent (nodeagent.enabled) instead of the "
        "istio.<service-account> Secrets: injected sidecars mount the node agent's socket "
        "(hostPath /var/run/sds) and the mesh config sets sdsUdsPath. Needs useTrustworthyJwt "
        "or useNormalJwt."
    ),
    "sds.udsPath": (
        "Unix domain socket of the node agent, unix:/var/run/sds/<file> (empty: "
        "unix:/var/run/sds/uds_path when sds.enabled)."
    ),
    "sds.useTrustworthyJwt": (
        "Authenticate SDS requests with a projected service-account token (audience istio-ca, "
        "mounted at /var/run/secrets/tokens/istio-token; Kubernetes 1.12+ token projection). "
        "Wins over useNormalJwt."
    ),
    "sds.useNormalJwt": "Authenticate SDS requests with the pod's regular service-account token.",
    "istioRemote": (
        "This release is a remote cluster of a multicluster mesh: it runs no Pilot or Mixer of "
        "its own; proxies use the control plane at the remote*Address values. Renders the mesh "
        "ConfigMap istio even without pilot, and the ServiceAccount istio-multi the primary "
        "cluster reads this cluster with."
    ),
    "remotePilotAddress": (
        "IP or host name of the primary cluster's Pilot (port 15010, or 15011 with "
        "controlPlaneSecurityEnabled); required with istioRemote."
    ),
    "remotePolicyAddress": (
        "IP or host name of the primary cluster's Mixer policy service (port 9091, or 15004 "
        "with controlPlaneSecurityEnabled); empty: no policy checks. Only with istioRemote."
    ),
    "remoteTelemetryAddress": (
        "IP or host name of the primary cluster's Mixer telemetry service (port 9091, or 15004 "
        "with controlPlaneSecurityEnabled); empty: no telemetry reports. Only with istioRemote."
    ),
    "remoteZipkinAddress": (
        "IP or host name of the Zipkin collector (port 9411) proxies report to; only with "
        "istioRemote, and tracer.zipkin.address wins when set."
    ),
    "remotePilotCreateSvcEndpoint": (
        "With istioRemote: create selector-less headless Services istio-pilot, istio-policy and "
        "istio-telemetry (with EndpointSlices) pointing at the remote addresses, which must then "
        "be IP addresses; proxies use those local names."
    ),
    "proxy.image": "Sidecar proxy image (pilot-agent + Envoy): a name under hub, or a full reference containing '/'.",
    "proxy.clusterDomain": "DNS domain of the Kubernetes cluster.",
    **resource_docs("proxy.resources", "every istio-proxy sidecar (injected and Pilot's)"),
    "proxy.concurrency": "Envoy worker threads (0: one per core).",
    "proxy.accessLogFile": "Envoy access log path, e.g. /dev/stdout (empty: no access log).",
    "proxy.accessLogFormat": (
        "Envoy access log format (mesh config accessLogFormat): a format string with TEXT, a "
        "JSON object of field -> format with JSON (empty: Envoy's default format)."
    ),
    "proxy.accessLogEncoding": "Envoy access log encoding: TEXT or JSON.",
    "proxy.dnsRefreshRate": "How often Envoy re-resolves STRICT_DNS clusters (mesh config dnsRefreshRate), e.g. 5s.",
    "proxy.enableCoreDump": (
        "Injected pods get a privileged init container enable-core-dump (kernel.core_pattern "
        "/var/lib/istio/core.proxy, unlimited core size) and a writable istio-proxy root "
        "filesystem, for debugging Envoy crashes."
    ),
    "proxy.kubevirtInterfaces": (
        "Comma-separated network interfaces of KubeVirt VMs whose inbound traffic istio-init "
        "redirects (-k); a pod's traffic.sidecar.istio.io/kubevirtInterfaces annotation wins "
        "(empty: none)."
    ),
    "proxy.tracer": "Tracer of the proxies with enableTracing: zipkin or lightstep.",
    "proxy.envoyStatsd.enabled": (
        "Envoy sends statsd metrics to envoyStatsd.host:port (mesh config statsdUdpAddress, "
        "--statsdUdpAddress of gateways and injected proxies)."
    ),
    "proxy.envoyStatsd.host": "Host name or IP of the statsd collector; required with envoyStatsd.enabled.",
    "proxy.envoyStatsd.port": "UDP port of the statsd collector.",
    "proxy.envoyMetricsService.enabled": (
        "Envoy pushes its metrics to an Envoy Metrics Service (gRPC) at "
        "envoyMetricsService.host:port (mesh config envoyMetricsServiceAddress)."
    ),
    "proxy.envoyMetricsService.host": "Host name or IP of the metrics service; required with envoyMetricsService.enabled.",
    "proxy.envoyMetricsService.port": "Port of the metrics service.",
    "proxy.statusPort": "Port of the pilot-agent health/readiness endpoint in injected pods (0: none).",
    "proxy.readinessInitialDelaySeconds": "initialDelaySeconds of the injected proxy's readiness probe.",
    "proxy.readinessPeriodSeconds": "periodSeconds of the injected proxy's readiness probe.",
    "proxy.readinessFailureThreshold": "failureThreshold of the injected proxy's readiness probe.",
    "proxy.includeIPRanges": "Comma-separated outbound CIDRs redirected to the proxy ('*': all).",
    "proxy.excludeIPRanges": "Comma-separated outbound CIDRs that bypass the proxy.",
    "proxy.includeInboundPorts": (
        "Comma-separated inbound ports redirected to the proxy ('*': all; empty: the ports "
        "the pod's containers declare, as Istio 1.1 does)."
    ),
    "proxy.excludeInboundPorts": "Comma-separated inbound ports that bypass the proxy (the status port always does).",
    "proxy.privileged": "Run the injected istio-init and istio-proxy containers privileged.",
    "proxy.autoInject": (
        "Injection policy: enabled injects every pod of a selected namespace unless annotated "
        'sidecar.istio.io/inject: "false"; disabled only pods annotated "true".'
    ),
    "proxy_init.image": "Image of the istio-init container that sets up iptables redirection.",
    **resource_docs("proxy_init.resources", "the injected istio-init container"),
}
"""Description of every leaf under ``global``."""

_CIDR_LIST: JsonSchema = {
    "type": "string",
    "pattern": r"^(\*|[0-9a-fA-F.:/]+(,[0-9a-fA-F.:/]+)*)?$",
}
_PORT_LIST: JsonSchema = {"type": "string", "pattern": r"^(\*|[0-9]+(,[0-9]+)*)?$"}
_DNS_NAME: JsonSchema = {
    "type": "string",
    "pattern": r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$",
}
_PORT: JsonSchema = {"type": "integer", "minimum": 1, "maximum": 65535}
_HOST_PORT: JsonSchema = {
    # host:port, an IPv6 host in brackets; nothing that could end a quoted literal.
    "type": "string",
    "pattern": r"^(([A-Za-z0-9.-]+|\[[0-9a-fA-F:.]+\]):[0-9]+)?$",
}
_DURATION: JsonSchema = {"type": "string", "pattern": r"^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$"}
_REMOTE_HOST: JsonSchema = {
    # A host name or an IPv4 address, or an IPv6 address (two ':' at least); no port.
    "type": "string",
    "pattern": (
        r"^([A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?(\.[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?)*"
        r"|[0-9a-fA-F.]*:[0-9a-fA-F.]*:[0-9a-fA-F:.]*)?$"
    ),
}

ISTIO_GLOBAL_SCHEMA: dict[str, JsonSchema] = {
    "hub": IMAGE_SCHEMA,
    "tag": {"type": "string", "pattern": r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$"},
    "imagePullPolicy": {"type": "string", "enum": ["Always", "IfNotPresent", "Never"]},
    "imagePullSecrets": {"type": "array", "items": _DNS_NAME},
    "monitoringPort": _PORT,
    "priorityClassName": {"type": "string"},
    "defaultNodeSelector": STRING_MAP_SCHEMA,
    "defaultResources": {
        "type": "object",
        "properties": {"requests": RESOURCE_LIST_SCHEMA, "limits": RESOURCE_LIST_SCHEMA},
        "additionalProperties": False,
    },
    "trustDomain": {"anyOf": [{"const": ""}, _DNS_NAME]},
    "tracer.zipkin.address": _HOST_PORT,
    "tracer.lightstep.address": _HOST_PORT,
    "tracer.lightstep.cacertPath": {"type": "string", "pattern": r"^(/[A-Za-z0-9._-]+)*$"},
    # Both land in the injection template as literals: plain name characters only.
    "network": {"type": "string", "pattern": r"^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$"},
    "podDNSSearchNamespaces": {
        "type": "array",
        "items": {
            "type": "string",
            "pattern": (
                r"^(NAMESPACE|[a-z0-9]([-a-z0-9]*[a-z0-9])?)"
                r"(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
            ),
        },
    },
    "outboundTrafficPolicy.mode": {"type": "string", "enum": ["ALLOW_ANY", "REGISTRY_ONLY"]},
    "meshNetworks": {"type": "object"},
    # The node agent's socket lies in the one host folder the sidecars mount, and the path
    # lands in the injection template: plain path characters only.
    "sds.udsPath": {"type": "string", "pattern": r"^(unix:/var/run/sds/[A-Za-z0-9._-]+)?$"},
    "remotePilotAddress": _REMOTE_HOST,
    "remotePolicyAddress": _REMOTE_HOST,
    "remoteTelemetryAddress": _REMOTE_HOST,
    "remoteZipkinAddress": _REMOTE_HOST,
    "proxy.image": IMAGE_SCHEMA,
    "proxy.clusterDomain": _DNS_NAME,
    "proxy.resources": RESOURCES_SCHEMA,
    "proxy.concurrency": {"type": "integer", "minimum": 0},
    "proxy.statusPort": {"type": "integer", "minimum": 0, "maximum": 65535},
    "proxy.accessLogEncoding": {"type": "string", "enum": ["TEXT", "JSON"]},
    "proxy.dnsRefreshRate": _DURATION,
    "proxy.kubevirtInterfaces": {
        "type": "string",
        "pattern": r"^([A-Za-z0-9][A-Za-z0-9_.-]*(,[A-Za-z0-9][A-Za-z0-9_.-]*)*)?$",
    },
    "proxy.tracer": {"type": "string", "enum": ["zipkin", "lightstep"]},
    "proxy.envoyStatsd.host": _REMOTE_HOST,
    "proxy.envoyStatsd.port": _PORT,
    "proxy.envoyMetricsService.host": _REMOTE_HOST,
    "proxy.envoyMetricsService.port": _PORT,
    "proxy.readinessInitialDelaySeconds": {"type": "integer", "minimum": 0},
    "proxy.readinessPeriodSeconds": {"type": "integer", "minimum": 1},
    "proxy.readinessFailureThreshold": {"type": "integer", "minimum": 1},
    "proxy.includeIPRanges": _CIDR_LIST,
    "proxy.excludeIPRanges": _CIDR_LIST,
    "proxy.includeInboundPorts": _PORT_LIST,
    "proxy.excludeInboundPorts": _PORT_LIST,
    "proxy.autoInject": {"type": "string", "enum": ["enabled", "disabled"]},
    "proxy_init.image": IMAGE_SCHEMA,
    "proxy_init.resources": RESOURCES_SCHEMA,
}
"""Schema overrides under ``global`` where the inferred schema says too little."""

ISTIO_CHART = ChartDef(
    name="istio",
    description="Helm chart for all istio components",
    keywords=("istio", "security", "sidecarInjectorWebhook", "mixer", "pilot", "galley"),
    global_defaults=ISTIO_GLOBAL_DEFAULTS,
    global_docs=ISTIO_GLOBAL_DOCS,
    global_schema=ISTIO_GLOBAL_SCHEMA,
    values=CONTROL_PLANE_VALUES,
    values_docs=CONTROL_PLANE_DOCS,
    values_schema=CONTROL_PLANE_SCHEMA,
    merge_keys={"mesh.namespaces": "name"},
    revisions=True,
    shared_templates=("_shared/istio",),
    components=(
        PILOT,
        SECURITY,
        NODEAGENT,
        SIDECAR_INJECTOR,
        GALLEY,
        MIXER,
        GATEWAYS,
        TRAFFIC_POLICIES,
        *ADDONS,
        ISTIOCOREDNS,
    ),
)
"""The ``istio`` chart with its control-plane components."""

GATEWAYS_CHART = ChartDef(
    name="gateways",
    description="Helm chart for Istio gateways alone, installed apart from the control plane",
    keywords=("istio", "gateways", "ingress", "egress"),
    global_defaults=ISTIO_GLOBAL_DEFAULTS,
    global_docs=ISTIO_GLOBAL_DOCS,
    global_schema=ISTIO_GLOBAL_SCHEMA,
    values={"revision": CONTROL_PLANE_VALUES["revision"]},
    values_docs={"revision": CONTROL_PLANE_DOCS["revision"]},
    values_schema={"revision": CONTROL_PLANE_SCHEMA["revision"]},
    shared_templates=("_shared/istio",),
    components=(GATEWAYS,),
)
"""The ``gateways`` chart: the gateways component alone, for edge clusters and for
installing gateways apart from the control plane (the layout later Istio releases use).
Its gateways reach the control plane of the release's namespace (``istio-pilot.<ns>``)."""
