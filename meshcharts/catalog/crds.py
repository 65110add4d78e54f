"""The Istio 1.0/1.1 and cert-manager CustomResourceDefinitions, as data.

Istio 1.1 shipped its CRDs in ``istio-init/files/crd-10.yaml`` and ``crd-11.yaml`` (plus
``crd-certmanager-10.yaml`` and ``crd-certmanager-11.yaml`` behind ``certmanager.enabled``)
as ``apiextensions.k8s.io/v1beta1`` objects without validation. This module describes the
same kinds, names, scopes, categories and labels, but for ``apiextensions.k8s.io/v1`` with
*structural* OpenAPI schemas: every node has a ``type`` (or is an explicit
``x-kubernetes-int-or-string`` / ``x-kubernetes-preserve-unknown-fields`` node), and maps
use ``additionalProperties`` only where there are no ``properties``.

The kinds whose Istio API is stable enough get real field schemas, so a misspelt field is
pruned or (with strict field validation) rejected by the API server. The per-adapter and
per-template Mixer kinds and the cert-manager kinds keep a free-form ``spec``.

The set is the union of Istio 1.0 and 1.1: it includes the 1.0-only ``servicecontrol`` and
``servicecontrolreport`` kinds and the 1.1-only ``Sidecar``, ``ClusterRbacConfig``,
``cloudwatch``, ``dogstatsd`` and ``zipkin`` kinds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["CRDS", "CrdSpec", "crds"]

Schema = dict[str, Any]

NAMESPACED = "Namespaced"
CLUSTER = "Cluster"


@dataclass(frozen=True)
class CrdSpec:
    """One CustomResourceDefinition: names, scope, labels and schema of a single version.

    Attributes:
        group: the API group, e.g. ``networking.istio.io``.
        version: the only served and stored version, e.g. ``v1alpha3``.
        kind: the kind, with Istio's spelling (Mixer kinds are lower case: ``rule``).
        plural: the plural resource name, e.g. ``kuberneteses``.
        singular: the singular resource name.
        scope: ``Namespaced`` or ``Cluster``.
        short_names: ``kubectl`` short names, e.g. ``("vs",)``.
        categories: ``kubectl get <category>`` groups, e.g. ``("istio-io", ...)``.
        labels: the per-CRD labels (``app``, ``istio``, ``package``). The labels every
            Istio CRD shares (``chart: istio``, ``heritage``, ``release``) are left to the
            template; cert-manager CRDs carry ``chart: certmanager`` here to override it.
        schema: the structural ``openAPIV3Schema``; its top level is ``type: object``.
        printer_columns: ``additionalPrinterColumns`` entries (``apiextensions/v1`` keys).
        certmanager: the CRD belongs to cert-manager (chart gate ``certmanager.enabled``).
    """

    group: str
    version: str
    kind: str
    plural: str
    singular: str
    scope: str
    short_names: tuple[str, ...]
    categories: tuple[str, ...]
    labels: Mapping[str, str]
    schema: Mapping[str, Any]
    printer_columns: tuple[Mapping[str, Any], ...] = ()
    certmanager: bool = False

    @property
    def name(self) -> str:
        """The CRD's ``metadata.name``: ``<plural>.<group>``."""
        return f"{self.plural}.{self.group}"

    def spec(self) -> dict[str, Any]:
        """Return the CRD's ``.spec`` as a fresh dict that the caller may change.

        Returns:
            ``group``, ``names``, ``scope`` and a one-element ``versions`` list whose entry
            is served and stored and carries the schema and any printer columns.
        """
        names: dict[str, Any] = {
            "kind": self.kind,
            "listKind": f"{self.kind}List",
            "plural": self.plural,
            "singular": self.singular,
        }
        if self.short_names:
            names["shortNames"] = list(self.short_names)
        if self.categories:
            names["categories"] = list(self.categories)
        version: dict[str, Any] = {
            "name": self.version,
            "served": True,
            "storage": True,
            "schema": {"openAPIV3Schema": _fresh(self.schema)},
        }
        if self.printer_columns:
            version["additionalPrinterColumns"] = [_fresh(c) for c in self.printer_columns]
        return {"group": self.group, "names": names, "scope": self.scope, "versions": [version]}


def _fresh(node: Any) -> Any:
    """Copy a JSON-like tree so that no dict or list is shared (YAML would alias it)."""
    if isinstance(node, Mapping):
        return {key: _fresh(value) for key, value in node.items()}
    if isinstance(node, (list, tuple)):
        return [_fresh(item) for item in node]
    return node


# --- schema building blocks ------------------------------------------------------------------
# Nodes below are shared freely while the tables are built; `_crd` copies each schema with
# `_fresh`, so no CrdSpec shares a node with another one.


def _obj(**properties: Schema) -> Schema:
    """An object with known fields; unknown fields are pruned by the API server."""
    return {"type": "object", "properties": properties}


def _list(items: Schema) -> Schema:
    return {"type": "array", "items": items}


def _map(values: Schema) -> Schema:
    """A map from free-form string keys to ``values``."""
    return {"type": "object", "additionalProperties": values}


def _enum(*values: str) -> Schema:
    return {"type": "string", "enum": list(values)}


def _nullable(schema: Schema) -> Schema:
    return {**schema, "nullable": True}


_STR: Schema = {"type": "string"}
_INT: Schema = {"type": "integer", "format": "int32"}
_PORT: Schema = {"type": "integer", "format": "int32", "minimum": 0, "maximum": 65535}
_NUM: Schema = {"type": "number"}
_BOOL: Schema = {"type": "boolean"}
# protobuf int64/uint64: jsonpb writes them as strings and reads numbers or strings.
_INT64: Schema = {"x-kubernetes-int-or-string": True}
_DURATION: Schema = {"type": "string", "description": "A duration such as 1.5s or 300ms."}
_STRS = _list(_STR)
_LABELS = _map(_STR)
_FREE: Schema = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
_PERCENT = _obj(value=_NUM)

# --- networking.istio.io/v1alpha3 ------------------------------------------------------------

_PORT_SELECTOR = _obj(number=_PORT, name=_STR)
_NAMED_PORT = _obj(number=_PORT, protocol=_STR, name=_STR)
_STRING_MATCH = _obj(exact=_STR, prefix=_STR, regex=_STR)
_DESTINATION = _obj(host=_STR, subset=_STR, port=_PORT_SELECTOR)
_HEADER_OPS = _obj(set=_LABELS, add=_LABELS, remove=_STRS)
_HEADER_EDITS: dict[str, Schema] = {
    "headers": _obj(request=_HEADER_OPS, response=_HEADER_OPS),
    "appendRequestHeaders": _LABELS,
    "removeRequestHeaders": _STRS,
    "appendResponseHeaders": _LABELS,
    "removeResponseHeaders": _STRS,
}
_HTTP_MATCH = _obj(
    name=_STR,
    uri=_STRING_MATCH,
    scheme=_STRING_MATCH,
    method=_STRING_MATCH,
    authority=_STRING_MATCH,
    headers=_map(_STRING_MATCH),
    queryParams=_map(_STRING_MATCH),
    ignoreUriCase=_BOOL,
    port=_PORT,
    sourceLabels=_LABELS,
    gateways=_STRS,
)
_HTTP_FAULT = _obj(
    delay=_obj(fixedDelay=_DURATION, exponentialDelay=_DURATION, percent=_INT, percentage=_PERCENT),
    abort=_obj(
        httpStatus=_INT, grpcStatus=_STR, http2Error=_STR, percent=_INT, percentage=_PERCENT
    ),
)
_CORS_POLICY = _obj(
    allowOrigin=_STRS,
    allowMethods=_STRS,
    allowHeaders=_STRS,
    exposeHeaders=_STRS,
    maxAge=_DURATION,
    allowCredentials=_BOOL,
)
_HTTP_ROUTE = _obj(
    name=_STR,
    match=_list(_HTTP_MATCH),
    route=_list(_obj(destination=_DESTINATION, weight=_INT, **_HEADER_EDITS)),
    redirect=_obj(uri=_STR, authority=_STR, redirectCode=_INT),
    rewrite=_obj(uri=_STR, authority=_STR),
    websocketUpgrade=_BOOL,
    timeout=_DURATION,
    retries=_obj(attempts=_INT, perTryTimeout=_DURATION, retryOn=_STR),
    fault=_HTTP_FAULT,
    mirror=_DESTINATION,
    corsPolicy=_CORS_POLICY,
    appendHeaders=_LABELS,
    **_HEADER_EDITS,
)
_L4_MATCH: dict[str, Schema] = {
    "destinationSubnets": _STRS,
    "port": _PORT,
    "sourceSubnet": _STR,
    "sourceLabels": _LABELS,
    "gateways": _STRS,
}
_ROUTE_DESTINATIONS = _list(_obj(destination=_DESTINATION, weight=_INT))
_VIRTUAL_SERVICE = _obj(
    hosts=_STRS,
    gateways=_STRS,
    http=_list(_HTTP_ROUTE),
    tls=_list(
        _obj(match=_list(_obj(sniHosts=_STRS, **_L4_MATCH)), route=_ROUTE_DESTINATIONS),
    ),
    tcp=_list(_obj(match=_list(_obj(**_L4_MATCH)), route=_ROUTE_DESTINATIONS)),
    exportTo=_STRS,
)

_LOAD_BALANCER = _obj(
    simple=_enum("ROUND_ROBIN", "LEAST_CONN", "RANDOM", "PASSTHROUGH"),
    consistentHash=_obj(
        httpHeaderName=_STR,
        httpCookie=_obj(name=_STR, path=_STR, ttl=_DURATION),
        useSourceIp=_BOOL,
        minimumRingSize=_INT64,
    ),
)
_CONNECTION_POOL = _obj(
    tcp=_obj(
        maxConnections=_INT,
        connectTimeout=_DURATION,
        tcpKeepalive=_obj(probes=_INT, time=_DURATION, interval=_DURATION),
    ),
    http=_obj(
        http1MaxPendingRequests=_INT,
        http2MaxRequests=_INT,
        maxRequestsPerConnection=_INT,
        maxRetries=_INT,
        idleTimeout=_DURATION,
        h2UpgradePolicy=_enum("DEFAULT", "DO_NOT_UPGRADE", "UPGRADE"),
    ),
)
_OUTLIER_DETECTION = _obj(
    consecutiveErrors=_INT,
    interval=_DURATION,
    baseEjectionTime=_DURATION,
    maxEjectionPercent=_INT,
    minHealthPercent=_INT,
)
_CLIENT_TLS = _obj(
    mode=_enum("DISABLE", "SIMPLE", "MUTUAL", "ISTIO_MUTUAL"),
    clientCertificate=_STR,
    privateKey=_STR,
    caCertificates=_STR,
    subjectAltNames=_STRS,
    sni=_STR,
)
_POLICY_PARTS: dict[str, Schema] = {
    "loadBalancer": _LOAD_BALANCER,
    "connectionPool": _CONNECTION_POOL,
    "outlierDetection": _OUTLIER_DETECTION,
    "tls": _CLIENT_TLS,
}
_TRAFFIC_POLICY = _obj(
    **_POLICY_PARTS,
    portLevelSettings=_list(_obj(port=_PORT_SELECTOR, **_POLICY_PARTS)),
)
_DESTINATION_RULE = _obj(
    host=_STR,
    trafficPolicy=_TRAFFIC_POLICY,
    subsets=_list(_obj(name=_STR, labels=_LABELS, trafficPolicy=_TRAFFIC_POLICY)),
    exportTo=_STRS,
)

_TLS_VERSION = _enum("TLS_AUTO", "TLSV1_0", "TLSV1_1", "TLSV1_2", "TLSV1_3")
_SERVER_TLS = _obj(
    httpsRedirect=_BOOL,
    mode=_enum("PASSTHROUGH", "SIMPLE", "MUTUAL", "AUTO_PASSTHROUGH", "ISTIO_MUTUAL"),
    serverCertificate=_STR,
    privateKey=_STR,
    caCertificates=_STR,
    credentialName=_STR,
    subjectAltNames=_STRS,
    verifyCertificateSpki=_STRS,
    verifyCertificateHash=_STRS,
    minProtocolVersion=_TLS_VERSION,
    maxProtocolVersion=_TLS_VERSION,
    cipherSuites=_STRS,
)
_GATEWAY = _obj(
    servers=_list(
        _obj(port=_NAMED_PORT, bind=_STR, hosts=_STRS, tls=_SERVER_TLS, defaultEndpoint=_STR),
    ),
    selector=_LABELS,
)

_SERVICE_ENTRY = _obj(
    hosts=_STRS,
    addresses=_STRS,
    ports=_list(_NAMED_PORT),
    location=_enum("MESH_EXTERNAL", "MESH_INTERNAL"),
    resolution=_enum("NONE", "STATIC", "DNS"),
    endpoints=_list(
        _obj(
            address=_STR,
            ports=_map(_PORT),
            labels=_LABELS,
            network=_STR,
            locality=_STR,
            weight=_INT,
        ),
    ),
    exportTo=_STRS,
    subjectAltNames=_STRS,
)

_CAPTURE_MODE = _enum("DEFAULT", "IPTABLES", "NONE")
_SIDECAR = _obj(
    workloadSelector=_obj(labels=_LABELS),
    ingress=_list(
        _obj(port=_NAMED_PORT, bind=_STR, captureMode=_CAPTURE_MODE, defaultEndpoint=_STR),
    ),
    egress=_list(_obj(port=_NAMED_PORT, bind=_STR, captureMode=_CAPTURE_MODE, hosts=_STRS)),
    outboundTrafficPolicy=_obj(mode=_enum("REGISTRY_ONLY", "ALLOW_ANY")),
)

# The Istio 1.1 EnvoyFilter API; `configPatches` only arrived in 1.2.
_ENVOY_FILTER = _obj(
    workloadLabels=_LABELS,
    filters=_list(
        _obj(
            listenerMatch=_obj(
                portNumber=_PORT,
                portNamePrefix=_STR,
                listenerType=_enum("ANY", "SIDECAR_INBOUND", "SIDECAR_OUTBOUND", "GATEWAY"),
                listenerProtocol=_enum("ALL", "HTTP", "TCP"),
                address=_STRS,
            ),
            insertPosition=_obj(index=_enum("FIRST", "LAST", "BEFORE", "AFTER"), relativeTo=_STR),
            filterType=_enum("INVALID", "HTTP", "NETWORK"),
            filterName=_STR,
            filterConfig=_FREE,
        ),
    ),
)

# --- authentication.istio.io/v1alpha1 --------------------------------------------------------

_AUTHN_STRING_MATCH = _obj(exact=_STR, prefix=_STR, suffix=_STR, regex=_STR)
_JWT = _obj(
    issuer=_STR,
    audiences=_STRS,
    jwksUri=_STR,
    jwks=_STR,
    jwtHeaders=_STRS,
    jwtParams=_STRS,
    triggerRules=_list(
        _obj(excludedPaths=_list(_AUTHN_STRING_MATCH), includedPaths=_list(_AUTHN_STRING_MATCH)),
    ),
)
# `peers: [{mtls: }]` (a null mtls) is a common spelling of "mTLS with defaults".
_MUTUAL_TLS = _nullable(_obj(allowTls=_BOOL, mode=_enum("STRICT", "PERMISSIVE")))
_AUTHN_POLICY = _obj(
    targets=_list(_obj(name=_STR, ports=_list(_PORT_SELECTOR))),
    peers=_list(_obj(mtls=_MUTUAL_TLS, jwt=_JWT)),
    peerIsOptional=_BOOL,
    origins=_list(_obj(jwt=_JWT)),
    originIsOptional=_BOOL,
    principalBinding=_enum("USE_PEER", "USE_ORIGIN"),
)

# --- rbac.istio.io/v1alpha1 -----------------------------------------------------------------

_RBAC_TARGET = _obj(services=_STRS, namespaces=_STRS)
_RBAC_CONFIG = _obj(
    mode=_enum("OFF", "ON", "ON_WITH_INCLUSION", "ON_WITH_EXCLUSION"),
    inclusion=_RBAC_TARGET,
    exclusion=_RBAC_TARGET,
    enforcementMode=_enum("ENFORCED", "PERMISSIVE"),
)
_SERVICE_ROLE = _obj(
    rules=_list(
        _obj(
            services=_STRS,
            hosts=_STRS,
            notHosts=_STRS,
            paths=_STRS,
            notPaths=_STRS,
            methods=_STRS,
            notMethods=_STRS,
            ports=_list(_PORT),
            notPorts=_list(_PORT),
            constraints=_list(_obj(key=_STR, values=_STRS)),
        ),
    ),
)
_SERVICE_ROLE_BINDING = _obj(
    subjects=_list(_obj(user=_STR, group=_STR, properties=_LABELS)),
    roleRef=_obj(kind=_STR, name=_STR),
    role=_STR,
    mode=_enum("ENFORCED", "PERMISSIVE"),
)

# --- config.istio.io/v1alpha2 ---------------------------------------------------------------

_HEADER_OPERATIONS = _list(
    _obj(name=_STR, values=_STRS, operation=_enum("REPLACE", "REMOVE", "APPEND")),
)
_RULE = _obj(
    match=_STR,
    actions=_list(_obj(handler=_STR, instances=_STRS, name=_STR)),
    requestHeaderOperations=_HEADER_OPERATIONS,
    responseHeaderOperations=_HEADER_OPERATIONS,
    sampling=_obj(
        random=_obj(
            attributeExpression=_STR,
            percentSampled=_obj(
                numerator=_INT,
                denominator=_enum("HUNDRED", "TEN_THOUSAND", "MILLION"),
            ),
            useIndependentRandomness=_BOOL,
        ),
        rateLimit=_obj(
            samplingDuration=_DURATION,
            maxUnsampledEntries=_INT64,
            samplingRate=_INT64,
        ),
    ),
)
_HANDLER = _obj(
    name=_STR,
    compiledAdapter=_STR,
    adapter=_STR,
    params=_FREE,
    connection=_obj(address=_STR, timeout=_DURATION, authentication=_FREE),
)
_INSTANCE = _obj(
    name=_STR,
    compiledTemplate=_STR,
    template=_STR,
    params=_FREE,
    attributeBindings=_LABELS,
)
_VALUE_TYPE = _enum(
    "VALUE_TYPE_UNSPECIFIED",
    "STRING",
    "INT64",
    "DOUBLE",
    "BOOL",
    "TIMESTAMP",
    "IP_ADDRESS",
    "EMAIL_ADDRESS",
    "URI",
    "DNS_NAME",
    "DURATION",
    "STRING_MAP",
)
_ATTRIBUTE_MANIFEST = _obj(
    revision=_STR,
    name=_STR,
    attributes=_map(_obj(valueType=_VALUE_TYPE, description=_STR)),
)
_ISTIO_SERVICE = _obj(name=_STR, namespace=_STR, domain=_STR, service=_STR)
_REFERENCE = _obj(name=_STR, namespace=_STR)
_QUOTA_SPEC = _obj(
    rules=_list(
        _obj(
            match=_list(_obj(clause=_map(_STRING_MATCH))),
            quotas=_list(_obj(quota=_STR, charge=_INT64)),
        ),
    ),
)
_QUOTA_SPEC_BINDING = _obj(services=_list(_ISTIO_SERVICE), quotaSpecs=_list(_REFERENCE))
# An attribute value is a protobuf oneof (stringValue, int64Value, stringMapValue, ...).
_ATTRIBUTES = _obj(attributes=_map(_FREE))
_HTTP_API_SPEC = _obj(
    attributes=_ATTRIBUTES,
    patterns=_list(
        _obj(attributes=_ATTRIBUTES, httpMethod=_STR, uriTemplate=_STR, regex=_STR),
    ),
    apiKeys=_list(_obj(query=_STR, header=_STR, cookie=_STR)),
)
_HTTP_API_SPEC_BINDING = _obj(services=_list(_ISTIO_SERVICE), apiSpecs=_list(_REFERENCE))

# --- printer columns ------------------------------------------------------------------------


def _column(name: str, json_path: str, description: str = "", **extra: Any) -> Mapping[str, Any]:
    column: dict[str, Any] = {"name": name, "type": "string", "jsonPath": json_path}
    if description:
        column["description"] = description
    return {**column, **extra}


_AGE = _column("Age", ".metadata.creationTimestamp", type="date")
_READY = '.status.conditions[?(@.type=="Ready")]'
_COLUMNS: dict[str, tuple[Mapping[str, Any], ...]] = {
    "VirtualService": (
        _column("Gateways", ".spec.gateways", "The gateways and sidecars that apply the routes"),
        _column("Hosts", ".spec.hosts", "The destination hosts of the traffic"),
        _AGE,
    ),
    "DestinationRule": (
        _column("Host", ".spec.host", "The name of a service from the service registry"),
        _AGE,
    ),
    "ServiceEntry": (
        _column("Hosts", ".spec.hosts", "The hosts associated with the ServiceEntry"),
        _column("Location", ".spec.location", "MESH_EXTERNAL or MESH_INTERNAL"),
        _column("Resolution", ".spec.resolution", "NONE, STATIC or DNS"),
        _AGE,
    ),
    "Certificate": (
        _column("Ready", f"{_READY}.status"),
        _column("Secret", ".spec.secretName"),
        _column("Issuer", ".spec.issuerRef.name", priority=1),
        _column("Status", f"{_READY}.message", priority=1),
        _AGE,
    ),
    "Order": (
        _column("State", ".status.state"),
        _column("Issuer", ".spec.issuerRef.name", priority=1),
        _column("Reason", ".status.reason", priority=1),
        _AGE,
    ),
    "Challenge": (
        _column("State", ".status.state"),
        _column("Domain", ".spec.dnsName"),
        _column("Reason", ".status.reason"),
        _AGE,
    ),
}

# --- the CRD table --------------------------------------------------------------------------


def _crd(
    group: str,
    version: str,
    kind: str,
    plural: str,
    spec: Schema,
    *,
    scope: str = NAMESPACED,
    short_names: tuple[str, ...] = (),
    categories: tuple[str, ...] = (),
    labels: Mapping[str, str],
    certmanager: bool = False,
) -> CrdSpec:
    schema = {"type": "object", "properties": {"spec": spec, "status": _FREE}}
    return CrdSpec(
        group=group,
        version=version,
        kind=kind,
        plural=plural,
        singular=kind.lower(),
        scope=scope,
        short_names=short_names,
        categories=categories,
        labels=dict(labels),
        schema=_fresh(schema),
        printer_columns=tuple(_fresh(c) for c in _COLUMNS.get(kind, ())),
        certmanager=certmanager,
    )


def _networking() -> list[CrdSpec]:
    kinds = [
        ("VirtualService", "virtualservices", ("vs",), _VIRTUAL_SERVICE),
        ("DestinationRule", "destinationrules", ("dr",), _DESTINATION_RULE),
        ("ServiceEntry", "serviceentries", ("se",), _SERVICE_ENTRY),
        ("Gateway", "gateways", ("gw",), _GATEWAY),
        ("EnvoyFilter", "envoyfilters", (), _ENVOY_FILTER),
        ("Sidecar", "sidecars", (), _SIDECAR),
    ]
    return [
        _crd(
            "networking.istio.io",
            "v1alpha3",
            kind,
            plural,
            spec,
            short_names=short_names,
            categories=("istio-io", "networking-istio-io"),
            labels={"app": "istio-pilot"},
        )
        for kind, plural, short_names, spec in kinds
    ]


def _authentication() -> list[CrdSpec]:
    kinds = [("Policy", "policies", NAMESPACED), ("MeshPolicy", "meshpolicies", CLUSTER)]
    return [
        _crd(
            "authentication.istio.io",
            "v1alpha1",
            kind,
            plural,
            _AUTHN_POLICY,
            scope=scope,
            categories=("istio-io", "authentication-istio-io"),
            labels={"app": "istio-citadel"},
        )
        for kind, plural, scope in kinds
    ]


def _rbac() -> list[CrdSpec]:
    mixer = {"app": "mixer", "package": "istio.io.mixer", "istio": "rbac"}
    kinds = [
        ("ClusterRbacConfig", "clusterrbacconfigs", CLUSTER, _RBAC_CONFIG),
        ("RbacConfig", "rbacconfigs", NAMESPACED, _RBAC_CONFIG),
        ("ServiceRole", "serviceroles", NAMESPACED, _SERVICE_ROLE),
        ("ServiceRoleBinding", "servicerolebindings", NAMESPACED, _SERVICE_ROLE_BINDING),
    ]
    return [
        _crd(
            "rbac.istio.io",
            "v1alpha1",
            kind,
            plural,
            spec,
            scope=scope,
            categories=("istio-io", "rbac-istio-io"),
            # ClusterRbacConfig came with Pilot's RBAC in 1.1; the rest predate it.
            labels={"app": "istio-pilot", "istio": "rbac"} if scope == CLUSTER else mixer,
        )
        for kind, plural, scope, spec in kinds
    ]


# Mixer adapter kinds (label `istio: mixer-adapter`) and template kinds (`mixer-instance`).
_ADAPTERS = (
    "bypass circonus denier fluentd kubernetesenv listchecker memquota noop opa prometheus rbac"
    " redisquota servicecontrol signalfx solarwinds stackdriver statsd stdio cloudwatch dogstatsd"
    " zipkin"
)
_TEMPLATES = (
    "apikey authorization checknothing kubernetes listentry logentry edge metric quota"
    " reportnothing servicecontrolreport tracespan"
)
_PLURALS = {
    "bypass": "bypasses",
    "circonus": "circonuses",
    "prometheus": "prometheuses",
    "solarwinds": "solarwindses",
    "cloudwatch": "cloudwatches",
    "kubernetes": "kuberneteses",
    "listentry": "listentries",
    "logentry": "logentries",
}
_PACKAGES = {"kubernetes": "adapter.template.kubernetes"}
_CORE_SPECS: dict[str, tuple[str, Schema]] = {
    "rule": ("core", _RULE),
    "attributemanifest": ("core", _ATTRIBUTE_MANIFEST),
    # `adapter` and `template` hold mixgen output (proto descriptors), spelt either way.
    "adapter": ("mixer-adapter", _FREE),
    "template": ("mixer-template", _FREE),
    "handler": ("mixer-handler", _HANDLER),
    "instance": ("mixer-instance", _INSTANCE),
}
_APIM_SPECS = {
    "HTTPAPISpecBinding": _HTTP_API_SPEC_BINDING,
    "HTTPAPISpec": _HTTP_API_SPEC,
    "QuotaSpecBinding": _QUOTA_SPEC_BINDING,
    "QuotaSpec": _QUOTA_SPEC,
}


def _mixer(kind: str, istio: str, spec: Schema) -> CrdSpec:
    core = istio == "core"
    return _crd(
        "config.istio.io",
        "v1alpha2",
        kind,
        _PLURALS.get(kind, f"{kind}s"),
        spec,
        # Istio's own files leave `redisquota` without categories; listing it with the other
        # Mixer kinds is deliberate.
        categories=("istio-io", "policy-istio-io"),
        labels={
            "app": "mixer",
            "package": "istio.io.mixer" if core else _PACKAGES.get(kind, kind),
            "istio": istio,
        },
    )


def _config() -> list[CrdSpec]:
    apim = [
        _crd(
            "config.istio.io",
            "v1alpha2",
            kind,
            f"{kind.lower()}s",
            spec,
            categories=("istio-io", "apim-istio-io"),
            labels={"app": "istio-mixer"},
        )
        for kind, spec in _APIM_SPECS.items()
    ]
    core = [_mixer(kind, istio, spec) for kind, (istio, spec) in _CORE_SPECS.items()]
    adapters = [_mixer(kind, "mixer-adapter", _FREE) for kind in _ADAPTERS.split()]
    templates = [_mixer(kind, "mixer-instance", _FREE) for kind in _TEMPLATES.split()]
    return apim + core + adapters + templates


def _certmanager() -> list[CrdSpec]:
    kinds = [
        ("ClusterIssuer", "clusterissuers", CLUSTER, ()),
        ("Issuer", "issuers", NAMESPACED, ()),
        ("Certificate", "certificates", NAMESPACED, ("cert", "certs")),
        ("Order", "orders", NAMESPACED, ()),
        ("Challenge", "challenges", NAMESPACED, ()),
    ]
    return [
        _crd(
            "certmanager.k8s.io",
            "v1alpha1",
            kind,
            plural,
            _FREE,
            scope=scope,
            short_names=short_names,
            labels={"app": "certmanager", "chart": "certmanager"},
            certmanager=True,
        )
        for kind, plural, scope, short_names in kinds
    ]


CRDS: tuple[CrdSpec, ...] = tuple(
    sorted(
        _networking() + _authentication() + _rbac() + _config() + _certmanager(),
        key=lambda crd: (crd.group, crd.kind),
    ),
)
"""Every CRD, Istio and cert-manager, sorted by ``(group, kind)``."""


def crds(*, certmanager: bool) -> tuple[CrdSpec, ...]:
    """Return the CRDs to install, sorted by ``(group, kind)``.

    Args:
        certmanager: also return the cert-manager CRDs (``certmanager.enabled``).

    Returns:
        The Istio CRDs, plus the cert-manager ones when ``certmanager`` is true.
    """
    return tuple(crd for crd in CRDS if certmanager or not crd.certmanager)
