"""The add-ons of the ``istio`` chart: telemetry, tracing, dashboards and certificates.

Each add-on is its own component (Istio 1.1 ``charts/<name>``), off by default except
Prometheus:

* ``prometheus``: Prometheus scraping Mixer, the Envoy proxies (their native stats port
  ``15090``, container port ``http-envoy-prom``), the control plane and annotated pods.
* ``grafana``: Grafana with Prometheus as data source and seven Istio dashboards
  (:mod:`meshcharts.catalog.dashboards`).
* ``tracing``: Jaeger all-in-one or Zipkin, collecting the proxies' spans on ``zipkin:9411``.
* ``kiali``: the Kiali service-mesh console.
* ``servicegraph``: Istio's service graph (Istio up to 1.1).
* ``certmanager``: cert-manager with Let's Encrypt ClusterIssuers (its CRDs come from the
  ``istio-init`` chart's ``certmanager`` component, which shares this values key).

Defaults follow Istio 1.1's ``charts/<name>/values.yaml``, with requests and limits for every
container. Pods run as the image's own non-root user where the image has one (Prometheus
65534, Grafana 472, Zipkin 1000), otherwise as 1337.
"""

from __future__ import annotations

from typing import Any

from meshcharts.catalog.component import Component, JsonSchema
from meshcharts.catalog.dashboards import template_data as dashboards_data
from meshcharts.catalog.pilot import (
    IMAGE_SCHEMA,
    RESOURCES_SCHEMA,
    STRING_MAP_SCHEMA,
    TOLERATIONS_SCHEMA,
    resource_docs,
)

__all__ = [
    "ADDONS",
    "CERTMANAGER",
    "GRAFANA",
    "KIALI",
    "PROMETHEUS",
    "SERVICEGRAPH",
    "TRACING",
]

# --- shared fragments ------------------------------------------------------------------------

_DNS_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS_NAME: JsonSchema = {"type": "string", "pattern": rf"^{_DNS_LABEL}(\.{_DNS_LABEL})*$"}
_HOST: JsonSchema = {"type": "string", "pattern": rf"^(\*\.)?{_DNS_LABEL}(\.{_DNS_LABEL})*$"}
_PORT: JsonSchema = {"type": "integer", "minimum": 1, "maximum": 65535}
# ``--set x.tag=2`` passes an integer: accept integers as well as tag strings.
_TAG: JsonSchema = {
    "type": ["string", "integer"],
    "pattern": r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$",
}
_NAME: JsonSchema = {"type": "string", "pattern": r"^[A-Za-z0-9][A-Za-z0-9._/-]*$"}
_URL: JsonSchema = {"type": "string", "pattern": r"^https?://[^\s\"'{}<>\\]+$"}
_OPTIONAL_URL: JsonSchema = {"type": "string", "pattern": r"^(https?://[^\s\"'{}<>\\]+)?$"}
_PATH: JsonSchema = {"type": "string", "pattern": r"^/[-._~A-Za-z0-9/]*$"}
_SECRET_KEY: JsonSchema = {"type": "string", "pattern": r"^[-._a-zA-Z0-9]+$"}
# Prometheus durations (2.3: one number and one unit).
_PROM_DURATION: JsonSchema = {"type": "string", "pattern": r"^[0-9]+(ms|s|m|h|d|w|y)$"}
_SERVICE_TYPE: JsonSchema = {"type": "string", "enum": ["ClusterIP", "NodePort", "LoadBalancer"]}


def _image(hub: str, image: str, tag: str) -> dict[str, str]:
    return {"hub": hub, "image": image, "tag": tag}


def _image_docs(prefix: str, what: str) -> dict[str, str]:
    p = f"{prefix}." if prefix else ""
    return {
        f"{p}hub": f"Registry and repository of the {what} image: <hub>/<image>:<tag>.",
        f"{p}image": f"Name of the {what} image under hub.",
        f"{p}tag": f"Tag of the {what} image.",
    }


def _image_schema(prefix: str) -> dict[str, JsonSchema]:
    p = f"{prefix}." if prefix else ""
    return {f"{p}hub": IMAGE_SCHEMA, f"{p}image": _NAME, f"{p}tag": _TAG}


def _resources(req_cpu: str, req_mem: str, lim_cpu: str, lim_mem: str) -> dict[str, Any]:
    return {
        "requests": {"cpu": req_cpu, "memory": req_mem},
        "limits": {"cpu": lim_cpu, "memory": lim_mem},
    }


def _pod() -> dict[str, Any]:
    return {"nodeSelector": {}, "tolerations": [], "podAnnotations": {}}


def _pod_docs(what: str) -> dict[str, str]:
    return {
        "nodeSelector": f"Node labels for {what} pods (empty: global.defaultNodeSelector).",
        "tolerations": f"Tolerations of {what} pods.",
        "podAnnotations": f"Extra annotations of {what} pods.",
    }


_POD_SCHEMA: dict[str, JsonSchema] = {
    "nodeSelector": STRING_MAP_SCHEMA,
    "tolerations": TOLERATIONS_SCHEMA,
    "podAnnotations": STRING_MAP_SCHEMA,
}


def _ingress() -> dict[str, Any]:
    return {"enabled": False, "className": "", "hosts": [], "annotations": {}, "tls": []}


def _ingress_docs(what: str, path: str) -> dict[str, str]:
    return {
        "ingress.enabled": f"Expose {what} through an Ingress (networking.k8s.io/v1), on path {path}.",
        "ingress.className": "IngressClass of the Ingress (spec.ingressClassName; empty: the cluster default).",
        "ingress.hosts": "Host names the Ingress serves (empty: every host).",
        "ingress.annotations": "Annotations of the Ingress, e.g. for the Ingress controller or cert-manager.",
        "ingress.tls": "TLS entries of the Ingress: a list of {secretName, hosts}.",
    }


_INGRESS_SCHEMA: dict[str, JsonSchema] = {
    "ingress.className": {"anyOf": [{"const": ""}, _DNS_NAME]},
    "ingress.hosts": {"type": "array", "items": _HOST},
    "ingress.annotations": STRING_MAP_SCHEMA,
    "ingress.tls": {
        "type": "array",
        "items": {
            "type": "object",
            "properties": {"secretName": _DNS_NAME, "hosts": {"type": "array", "items": _HOST}},
            "additionalProperties": False,
        },
    },
}


def _service(port: int, name: str) -> dict[str, Any]:
    return {
        "type": "ClusterIP",
        "annotations": {},
        "name": name,
        "externalPort": port,
        "loadBalancerIP": "",
        "loadBalancerSourceRanges": [],
    }


def _service_docs(service: str, target: int) -> dict[str, str]:
    return {
        "service.type": f"Type of the Service {service}.",
        "service.annotations": f"Annotations of the Service {service}.",
        "service.name": (
            f"Name of the port of the Service {service}; its protocol prefix (http, http-..., "
            "tcp...) tells the mesh's proxies how to treat the traffic."
        ),
        "service.externalPort": f"Port of the Service {service} (the container listens on {target}).",
        "service.loadBalancerIP": "IP a LoadBalancer Service asks for (empty: one the cloud picks).",
        "service.loadBalancerSourceRanges": "Client CIDRs a LoadBalancer Service accepts (empty: all).",
    }


_PORT_NAME: JsonSchema = {
    "type": "string",
    "pattern": r"^(http|http2|https|grpc|grpc-web|tcp|tls)(-[a-z0-9]([-a-z0-9]*[a-z0-9])?)?$",
    "maxLength": 63,
}
_SERVICE_SCHEMA: dict[str, JsonSchema] = {
    "service.type": {"type": "string", "enum": ["ClusterIP", "NodePort", "LoadBalancer"]},
    "service.annotations": STRING_MAP_SCHEMA,
    "service.name": _PORT_NAME,
    "service.externalPort": {"type": "integer", "minimum": 1, "maximum": 65535},
    "service.loadBalancerIP": {
        "type": "string",
        "pattern": r"^([0-9]{1,3}(\.[0-9]{1,3}){3}|[0-9a-fA-F:]*:[0-9a-fA-F:.]*)?$",
    },
    "service.loadBalancerSourceRanges": {
        "type": "array",
        "items": {"type": "string", "pattern": r"^[0-9a-fA-F.:]+/[0-9]{1,3}$"},
    },
}
_REPLICAS: JsonSchema = {"type": "integer", "minimum": 0}

# Istio 1.1's global.enableHelmTest: each add-on brings it (every one with the same default).
_HELM_TEST_DEFAULTS: dict[str, Any] = {"enableHelmTest": False}
_HELM_TEST_DOCS: dict[str, str] = {
    "enableHelmTest": (
        "Render `helm test` Pods (hook test) that check with curl, from the proxy image, that each "
        "enabled add-on answers on its Service (prometheus-test, grafana-test, kiali-test, "
        "servicegraph-test, tracing-test)."
    )
}


# --- prometheus ------------------------------------------------------------------------------

_PROMETHEUS_DEFAULTS: dict[str, Any] = {
    "enabled": True,
    "replicaCount": 1,
    **_image("docker.io/prom", "prometheus", "v2.3.1"),
    "retention": "6h",
    "scrapeInterval": "15s",
    "contextPath": "/prometheus",
    "security": {"enabled": True},
    "service": {"annotations": {}, "nodePort": {"enabled": False, "port": 32090}},
    "ingress": _ingress(),
    "resources": _resources("50m", "256Mi", "1000m", "2048Mi"),
    **_pod(),
}

_PROMETHEUS_DOCS: dict[str, str] = {
    "enabled": (
        "Deploy Prometheus (Deployment/Service prometheus) scraping Mixer, the Envoy proxies, "
        "the control plane and pods annotated prometheus.io/scrape."
    ),
    "replicaCount": (
        "Prometheus replicas; each scrapes every target and keeps its own samples (no "
        "deduplication between them)."
    ),
    **_image_docs("", "Prometheus"),
    "retention": "How long Prometheus keeps samples (--storage.tsdb.retention), e.g. 6h; data lives in an emptyDir.",
    "scrapeInterval": "Default scrape interval of every job, e.g. 15s.",
    "contextPath": (
        "Path of the Ingress to Prometheus. Prometheus itself serves at /: the Ingress "
        "controller must strip the path (e.g. an nginx rewrite-target annotation)."
    ),
    "security.enabled": (
        "With Citadel (security.enabled): mount the Citadel certificate of the service account "
        "prometheus (Secret istio.prometheus; the pod waits for it) and scrape pods that have a "
        "sidecar and prometheus.io/scrape over mutual TLS (job kubernetes-pods-istio-secure); "
        "job kubernetes-pods then keeps pods without a sidecar or annotated "
        "prometheus.io/scheme: http."
    ),
    "service.annotations": "Annotations of the Service prometheus.",
    "service.nodePort.enabled": "Also expose Prometheus on a node port (Service prometheus-nodeport).",
    "service.nodePort.port": "The node port of Service prometheus-nodeport.",
    **_ingress_docs("Prometheus", "contextPath"),
    **resource_docs("resources", "the prometheus container"),
    **_pod_docs("Prometheus"),
}

_PROMETHEUS_SCHEMA: dict[str, JsonSchema] = {
    "replicaCount": _REPLICAS,
    **_image_schema(""),
    "retention": _PROM_DURATION,
    "scrapeInterval": _PROM_DURATION,
    "contextPath": _PATH,
    "service.annotations": STRING_MAP_SCHEMA,
    "service.nodePort.port": _PORT,
    **_INGRESS_SCHEMA,
    "resources": RESOURCES_SCHEMA,
    **_POD_SCHEMA,
}

PROMETHEUS = Component(
    name="prometheus",
    chart="istio",
    summary="Prometheus (prometheus): metrics of Mixer, the proxies and the control plane",
    defaults=_PROMETHEUS_DEFAULTS,
    docs=_PROMETHEUS_DOCS,
    schema=_PROMETHEUS_SCHEMA,
    global_defaults=_HELM_TEST_DEFAULTS,
    global_docs=_HELM_TEST_DOCS,
)
"""Prometheus, scraping the mesh's metrics."""

# --- grafana ---------------------------------------------------------------------------------

_GRAFANA_DEFAULTS: dict[str, Any] = {
    "enabled": False,
    "replicaCount": 1,
    **_image("docker.io/grafana", "grafana", "5.4.0"),
    "persist": False,
    "storageClassName": "",
    "accessMode": "ReadWriteOnce",
    "storageSize": "5Gi",
    "security": {
        "enabled": False,
        "secretName": "grafana",
        "usernameKey": "username",
        "passphraseKey": "passphrase",
    },
    "contextPath": "/grafana",
    "service": _service(3000, "http"),
    "ingress": _ingress(),
    "datasources": [
        {
            "name": "Prometheus",
            "type": "prometheus",
            "orgId": 1,
            "url": "http://prometheus:9090",
            "access": "proxy",
            "isDefault": True,
            "jsonData": {"timeInterval": "5s"},
            "editable": True,
        }
    ],
    "dashboardProviders": [
        {
            "name": "istio",
            "orgId": 1,
            "folder": "istio",
            "type": "file",
            "disableDeletion": False,
            "options": {"path": "/var/lib/grafana/dashboards/istio"},
        }
    ],
    "dashboards": {},
    "resources": _resources("10m", "64Mi", "500m", "512Mi"),
    **_pod(),
}

_GRAFANA_DOCS: dict[str, str] = {
    "enabled": (
        "Deploy Grafana (Deployment/Service grafana) with Prometheus as data source and the "
        "seven Istio dashboards (mesh, service, workload, performance, Pilot, Mixer, Galley)."
    ),
    "replicaCount": (
        "Grafana replicas. Each keeps its own data (users, edits) unless persist shares a "
        "ReadWriteMany volume; the provisioned dashboards are the same in every replica."
    ),
    **_image_docs("", "Grafana"),
    "persist": "Keep Grafana's data (/var/lib/grafana) on the PersistentVolumeClaim istio-grafana-pvc instead of an emptyDir.",
    "storageClassName": "StorageClass of istio-grafana-pvc (empty: the cluster default).",
    "accessMode": "Access mode of istio-grafana-pvc.",
    "storageSize": "Size requested by istio-grafana-pvc.",
    "security.enabled": (
        "Require a login: the admin user and passphrase come from the Secret security.secretName "
        "(which you create); false: anonymous users get Grafana's Admin role (demo setups only)."
    ),
    "security.secretName": "Secret holding Grafana's admin credentials.",
    "security.usernameKey": "Key of the admin user name in that Secret.",
    "security.passphraseKey": "Key of the admin passphrase in that Secret.",
    "contextPath": (
        "Path of the Ingress to Grafana. Grafana itself serves at /: the Ingress controller "
        "must strip the path (e.g. an nginx rewrite-target annotation)."
    ),
    **_service_docs("grafana", 3000),
    **_ingress_docs("Grafana", "contextPath"),
    "datasources": (
        "Grafana data sources (provisioning format: name, type, url, access...), written to "
        "datasources.yaml of the ConfigMap istio-grafana."
    ),
    "dashboardProviders": (
        "Grafana dashboard providers (provisioning format), written to dashboardproviders.yaml "
        "of the ConfigMap istio-grafana."
    ),
    "dashboards": (
        "Your own dashboards: file name (e.g. mesh.json) -> dashboard JSON (text or a map), in "
        "the ConfigMap istio-grafana-dashboards. They share the folder "
        "/var/lib/grafana/dashboards/istio (the istio provider's path) with the seven built-in "
        "Istio dashboards (ConfigMaps istio-grafana-dashboards-<name>, files <name>-dashboard.json: "
        "galley, istio-mesh, istio-performance, istio-service, istio-workload, mixer, pilot); "
        "a file of the same name (e.g. pilot-dashboard.json) replaces a built-in one."
    ),
    **resource_docs("resources", "the grafana container"),
    **_pod_docs("Grafana"),
}

_GRAFANA_SCHEMA: dict[str, JsonSchema] = {
    **_image_schema(""),
    "storageClassName": {"anyOf": [{"const": ""}, _DNS_NAME]},
    "accessMode": {
        "type": "string",
        "enum": ["ReadWriteOnce", "ReadWriteMany", "ReadWriteOncePod"],
    },
    "storageSize": {"type": "string", "pattern": r"^[0-9]+(\.[0-9]+)?([KMGTPE]i?)?$"},
    "security.secretName": _DNS_NAME,
    "security.usernameKey": _SECRET_KEY,
    "security.passphraseKey": _SECRET_KEY,
    "contextPath": _PATH,
    **_SERVICE_SCHEMA,
    "replicaCount": _REPLICAS,
    **_INGRESS_SCHEMA,
    "datasources": {
        "type": "array",
        "items": {
            "type": "object",
            "properties": {"name": {"type": "string"}, "type": {"type": "string"}},
            "required": ["name", "type"],
        },
    },
    "dashboardProviders": {
        "type": "array",
        "items": {
            "type": "object",
            "properties": {"name": {"type": "string"}, "type": {"type": "string"}},
            "required": ["name", "type"],
        },
    },
    "dashboards": {
        "type": "object",
        "propertyNames": {"pattern": r"^[-._a-zA-Z0-9]+\.json$"},
        "additionalProperties": {"type": ["string", "object"]},
    },
    "resources": RESOURCES_SCHEMA,
    **_POD_SCHEMA,
}

GRAFANA = Component(
    name="grafana",
    chart="istio",
    summary="Grafana (grafana): dashboards over the mesh's Prometheus metrics",
    defaults=_GRAFANA_DEFAULTS,
    docs=_GRAFANA_DOCS,
    schema=_GRAFANA_SCHEMA,
    global_defaults=_HELM_TEST_DEFAULTS,
    global_docs=_HELM_TEST_DOCS,
    merge_keys={"datasources": "name", "dashboardProviders": "name"},
    template_data=dashboards_data(),
)
"""Grafana, with Prometheus as its data source."""

# --- tracing ---------------------------------------------------------------------------------

_TRACING_DEFAULTS: dict[str, Any] = {
    "enabled": False,
    "provider": "jaeger",
    "jaeger": {
        **_image("docker.io/jaegertracing", "all-in-one", "1.9"),
        "contextPath": "/jaeger",
        "memory": {"max_traces": 50000},
        "resources": _resources("100m", "256Mi", "1000m", "1024Mi"),
    },
    "zipkin": {
        **_image("docker.io/openzipkin", "zipkin", "2"),
        "javaOptsHeap": 700,
        "maxSpans": 500000,
        "node": {"cpus": 2},
        "probeStartupDelay": 0,
        "queryPort": 9411,
        "resources": _resources("150m", "900Mi", "300m", "900Mi"),
    },
    "service": {
        "annotations": {},
        "name": "http-zipkin",
        "type": "ClusterIP",
        "externalPort": 9411,
    },
    "ingress": _ingress(),
    **_pod(),
}

_TRACING_DOCS: dict[str, str] = {
    "enabled": (
        "Deploy a trace collector and UI (Deployment istio-tracing, Services zipkin, tracing and, "
        "with Jaeger, jaeger-query, jaeger-collector and jaeger-agent); proxies report spans to "
        "zipkin:9411 (global.tracer.zipkin.address)."
    ),
    "provider": "jaeger: Jaeger all-in-one (in-memory); zipkin: Zipkin (in-memory).",
    **_image_docs("jaeger", "Jaeger all-in-one"),
    "jaeger.contextPath": "Base path of the Jaeger UI (QUERY_BASE_PATH) and of its Ingress.",
    "jaeger.memory.max_traces": "Traces Jaeger keeps in memory.",
    **resource_docs("jaeger.resources", "the jaeger container"),
    **_image_docs("zipkin", "Zipkin"),
    "zipkin.javaOptsHeap": "Java heap of Zipkin in MiB (-Xms/-Xmx); keep it below the memory limit.",
    "zipkin.maxSpans": "Spans Zipkin keeps in memory.",
    "zipkin.node.cpus": "CPUs the Zipkin JVM sizes its garbage collector and common thread pool for.",
    "zipkin.probeStartupDelay": (
        "Seconds before Zipkin's probes start (its startup probe then allows 300 seconds more)."
    ),
    "zipkin.queryPort": "Port Zipkin listens on (QUERY_PORT): its API, UI and span collector.",
    "service.annotations": "Annotations of the Service tracing (the UI).",
    "service.name": (
        "Name of the port of the Service zipkin (the span collector); its protocol prefix "
        "tells the mesh's proxies how to treat the traffic."
    ),
    "service.type": "Type of the Service zipkin.",
    "service.externalPort": (
        "Port of the Service zipkin; keep global.tracer.zipkin.address (zipkin:9411) in step."
    ),
    **resource_docs("zipkin.resources", "the zipkin container"),
    **_ingress_docs(
        "the tracing UI (Service tracing)", "jaeger.contextPath (Jaeger) or / (Zipkin)"
    ),
    **_pod_docs("tracing"),
}

_TRACING_SCHEMA: dict[str, JsonSchema] = {
    "provider": {"type": "string", "enum": ["jaeger", "zipkin"]},
    **_image_schema("jaeger"),
    "jaeger.contextPath": _PATH,
    "jaeger.memory.max_traces": {"type": "integer", "minimum": 1},
    "jaeger.resources": RESOURCES_SCHEMA,
    **_image_schema("zipkin"),
    "zipkin.javaOptsHeap": {"type": "integer", "minimum": 64},
    "zipkin.maxSpans": {"type": "integer", "minimum": 1},
    "zipkin.node.cpus": {"type": "integer", "minimum": 1, "maximum": 256},
    "zipkin.probeStartupDelay": {"type": "integer", "minimum": 0, "maximum": 3600},
    "zipkin.queryPort": {"type": "integer", "minimum": 1024, "maximum": 65535},
    "service.annotations": STRING_MAP_SCHEMA,
    "service.name": _PORT_NAME,
    "service.type": _SERVICE_TYPE,
    "service.externalPort": _PORT,
    "zipkin.resources": RESOURCES_SCHEMA,
    **_INGRESS_SCHEMA,
    **_POD_SCHEMA,
}

TRACING = Component(
    name="tracing",
    chart="istio",
    summary="Tracing (istio-tracing): Jaeger or Zipkin collecting the proxies' spans",
    defaults=_TRACING_DEFAULTS,
    docs=_TRACING_DOCS,
    schema=_TRACING_SCHEMA,
    global_defaults=_HELM_TEST_DEFAULTS,
    global_docs=_HELM_TEST_DOCS,
)
"""Jaeger or Zipkin, receiving the proxies' Zipkin spans."""

# --- kiali -----------------------------------------------------------------------------------

_KIALI_DEFAULTS: dict[str, Any] = {
    "enabled": False,
    "replicaCount": 1,
    **_image("docker.io/kiali", "kiali", "v0.14"),
    "contextPath": "/kiali",
    "dashboard": {
        "secretName": "kiali",
        "usernameKey": "username",
        "passphraseKey": "passphrase",
        "grafanaURL": "",
        "jaegerURL": "",
    },
    "prometheusAddr": "http://prometheus:9090",
    "createDemoSecret": False,
    "ingress": _ingress(),
    "resources": _resources("10m", "64Mi", "500m", "512Mi"),
    **_pod(),
}

_KIALI_DOCS: dict[str, str] = {
    "enabled": "Deploy Kiali (Deployment/Service/ConfigMap kiali), the service-mesh console, with read-only cluster access.",
    "replicaCount": "Kiali replicas (stateless: each serves the console).",
    **_image_docs("", "Kiali"),
    "contextPath": "Web root of Kiali (server.web_root) and path of its Ingress.",
    "dashboard.secretName": "Secret holding the Kiali login (mounted at /kiali-secret).",
    "dashboard.usernameKey": "Key of the login user name in that Secret.",
    "dashboard.passphraseKey": "Key of the login passphrase in that Secret.",
    "dashboard.grafanaURL": "External Grafana URL Kiali links to (empty: none).",
    "dashboard.jaegerURL": "External Jaeger URL Kiali links to (empty: none).",
    "prometheusAddr": "URL of the Prometheus Kiali queries.",
    "createDemoSecret": (
        "DEMO ONLY: create the Secret dashboard.secretName with the login admin/admin. "
        "Create your own Secret for anything else."
    ),
    **_ingress_docs("Kiali", "contextPath"),
    **resource_docs("resources", "the kiali container"),
    **_pod_docs("Kiali"),
}

_KIALI_SCHEMA: dict[str, JsonSchema] = {
    "replicaCount": _REPLICAS,
    **_image_schema(""),
    "contextPath": _PATH,
    "dashboard.secretName": _DNS_NAME,
    "dashboard.usernameKey": _SECRET_KEY,
    "dashboard.passphraseKey": _SECRET_KEY,
    "dashboard.grafanaURL": _OPTIONAL_URL,
    "dashboard.jaegerURL": _OPTIONAL_URL,
    "prometheusAddr": _URL,
    **_INGRESS_SCHEMA,
    "resources": RESOURCES_SCHEMA,
    **_POD_SCHEMA,
}

KIALI = Component(
    name="kiali",
    chart="istio",
    summary="Kiali (kiali): service-mesh observability console",
    defaults=_KIALI_DEFAULTS,
    docs=_KIALI_DOCS,
    schema=_KIALI_SCHEMA,
    global_defaults=_HELM_TEST_DEFAULTS,
    global_docs=_HELM_TEST_DOCS,
)
"""Kiali, the service-mesh console."""

# --- servicegraph ----------------------------------------------------------------------------

_SERVICEGRAPH_DEFAULTS: dict[str, Any] = {
    "enabled": False,
    "replicaCount": 1,
    "image": "servicegraph",
    "prometheusAddr": "http://prometheus:9090",
    "service": _service(8088, "http-servicegraph"),
    "ingress": _ingress(),
    "resources": _resources("10m", "32Mi", "200m", "128Mi"),
    **_pod(),
}

_SERVICEGRAPH_DOCS: dict[str, str] = {
    "enabled": "Deploy Istio's servicegraph (Deployment/Service servicegraph), drawing the service graph from Prometheus.",
    "image": "Servicegraph image: a name under global.hub tagged global.tag, or a full reference containing '/'.",
    "prometheusAddr": "URL of the Prometheus servicegraph queries.",
    "replicaCount": "Servicegraph replicas (stateless).",
    **_service_docs("servicegraph", 8088),
    **_ingress_docs("servicegraph", "/ (servicegraph serves /graph, /force/forcegraph.html...)"),
    **resource_docs("resources", "the servicegraph container"),
    **_pod_docs("servicegraph"),
}

_SERVICEGRAPH_SCHEMA: dict[str, JsonSchema] = {
    "image": IMAGE_SCHEMA,
    "prometheusAddr": _URL,
    "replicaCount": _REPLICAS,
    **_SERVICE_SCHEMA,
    **_INGRESS_SCHEMA,
    "resources": RESOURCES_SCHEMA,
    **_POD_SCHEMA,
}

SERVICEGRAPH = Component(
    name="servicegraph",
    chart="istio",
    summary="Servicegraph (servicegraph): the service graph from Prometheus metrics",
    defaults=_SERVICEGRAPH_DEFAULTS,
    docs=_SERVICEGRAPH_DOCS,
    schema=_SERVICEGRAPH_SCHEMA,
    global_defaults=_HELM_TEST_DEFAULTS,
    global_docs=_HELM_TEST_DOCS,
)
"""Istio's servicegraph."""

# --- certmanager -----------------------------------------------------------------------------

_CERTMANAGER_DEFAULTS: dict[str, Any] = {
    "enabled": False,
    "replicaCount": 1,
    **_image("quay.io/jetstack", "cert-manager-controller", "v0.6.2"),
    "email": "",
    "resources": _resources("10m", "32Mi", "200m", "256Mi"),
    **_pod(),
}

_CERTMANAGER_DOCS: dict[str, str] = {
    "enabled": (
        "Deploy cert-manager (Deployment certmanager) and the ClusterIssuers letsencrypt and "
        "letsencrypt-staging; install its CRDs with the istio-init chart's certmanager.enabled."
    ),
    "replicaCount": "cert-manager replicas (leader-elected; more than 1 adds a PodDisruptionBudget).",
    **_image_docs("", "cert-manager controller"),
    "email": "Contact e-mail of the Let's Encrypt (ACME) account of both ClusterIssuers (empty: none).",
    **resource_docs("resources", "the certmanager container"),
    **_pod_docs("cert-manager"),
}

_CERTMANAGER_SCHEMA: dict[str, JsonSchema] = {
    "replicaCount": {"type": "integer", "minimum": 0},
    **_image_schema(""),
    "email": {"type": "string", "pattern": r"^([^@\s\"'\\]+@[^@\s\"'\\]+)?$"},
    "resources": RESOURCES_SCHEMA,
    **_POD_SCHEMA,
}

CERTMANAGER = Component(
    name="certmanager",
    chart="istio",
    summary="cert-manager (certmanager): ACME certificates from Let's Encrypt",
    defaults=_CERTMANAGER_DEFAULTS,
    docs=_CERTMANAGER_DOCS,
    schema=_CERTMANAGER_SCHEMA,
)
"""cert-manager with Let's Encrypt ClusterIssuers."""

ADDONS: tuple[Component, ...] = (PROMETHEUS, GRAFANA, TRACING, KIALI, SERVICEGRAPH, CERTMANAGER)
"""Every add-on, in the order Istio 1.1 listed them."""
