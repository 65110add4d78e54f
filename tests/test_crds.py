from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from meshcharts.catalog.crds import CRDS, CrdSpec, crds

BY_KIND = {(crd.group, crd.kind): crd for crd in CRDS}

MIXER_ADAPTERS = {
    "bypass", "circonus", "denier", "fluentd", "kubernetesenv", "listchecker", "memquota",
    "noop", "opa", "prometheus", "rbac", "redisquota", "signalfx", "solarwinds", "stackdriver",
    "statsd", "stdio", "cloudwatch", "dogstatsd", "zipkin", "servicecontrol",
}  # fmt: skip
MIXER_TEMPLATES = {
    "apikey", "authorization", "checknothing", "kubernetes", "listentry", "logentry", "edge",
    "metric", "quota", "reportnothing", "tracespan", "servicecontrolreport",
}  # fmt: skip
CONFIG_KINDS = MIXER_ADAPTERS | MIXER_TEMPLATES | {
    "HTTPAPISpecBinding", "HTTPAPISpec", "QuotaSpecBinding", "QuotaSpec",
    "rule", "attributemanifest", "adapter", "instance", "template", "handler",
}  # fmt: skip
# Kinds whose spec keeps unknown fields (Mixer plug-in configuration and cert-manager).
FREE_FORM = (
    {("config.istio.io", kind) for kind in MIXER_ADAPTERS | MIXER_TEMPLATES}
    | {
        ("config.istio.io", "adapter"),
        ("config.istio.io", "template"),
    }
    | {(crd.group, crd.kind) for crd in CRDS if crd.certmanager}
)


def crd(group: str, kind: str) -> CrdSpec:
    return BY_KIND[(group, kind)]


# --- inventory ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("group", "count"),
    [
        ("networking.istio.io", 6),
        ("authentication.istio.io", 2),
        ("rbac.istio.io", 4),
        ("config.istio.io", len(CONFIG_KINDS)),
        ("certmanager.k8s.io", 5),
    ],
)
def test_count_per_group(group: str, count: int) -> None:
    assert Counter(c.group for c in CRDS)[group] == count


def test_no_other_groups() -> None:
    assert len(CRDS) == 6 + 2 + 4 + 43 + 5


def test_config_kinds_are_istios() -> None:
    assert {c.kind for c in CRDS if c.group == "config.istio.io"} == CONFIG_KINDS


def test_names_are_unique() -> None:
    assert len({c.name for c in CRDS}) == len(CRDS)
    assert len({(c.group, c.kind) for c in CRDS}) == len(CRDS)


def test_sorted_by_group_and_kind() -> None:
    assert list(CRDS) == sorted(CRDS, key=lambda c: (c.group, c.kind))


@pytest.mark.parametrize(
    ("name", "kind", "singular"),
    [
        ("virtualservices.networking.istio.io", "VirtualService", "virtualservice"),
        ("serviceentries.networking.istio.io", "ServiceEntry", "serviceentry"),
        ("meshpolicies.authentication.istio.io", "MeshPolicy", "meshpolicy"),
        ("policies.authentication.istio.io", "Policy", "policy"),
        ("clusterrbacconfigs.rbac.istio.io", "ClusterRbacConfig", "clusterrbacconfig"),
        ("rules.config.istio.io", "rule", "rule"),
        ("attributemanifests.config.istio.io", "attributemanifest", "attributemanifest"),
        ("handlers.config.istio.io", "handler", "handler"),
        ("instances.config.istio.io", "instance", "instance"),
        ("kuberneteses.config.istio.io", "kubernetes", "kubernetes"),
        ("prometheuses.config.istio.io", "prometheus", "prometheus"),
        ("solarwindses.config.istio.io", "solarwinds", "solarwinds"),
        ("circonuses.config.istio.io", "circonus", "circonus"),
        ("bypasses.config.istio.io", "bypass", "bypass"),
        ("cloudwatches.config.istio.io", "cloudwatch", "cloudwatch"),
        ("listentries.config.istio.io", "listentry", "listentry"),
        ("logentries.config.istio.io", "logentry", "logentry"),
        ("signalfxs.config.istio.io", "signalfx", "signalfx"),
        ("httpapispecbindings.config.istio.io", "HTTPAPISpecBinding", "httpapispecbinding"),
        ("clusterissuers.certmanager.k8s.io", "ClusterIssuer", "clusterissuer"),
    ],
)
def test_istio_spelling(name: str, kind: str, singular: str) -> None:
    (found,) = [c for c in CRDS if c.name == name]
    assert (found.kind, found.singular) == (kind, singular)


@pytest.mark.parametrize(
    "name",
    [
        "meshpolicies.authentication.istio.io",
        "clusterrbacconfigs.rbac.istio.io",
        "clusterissuers.certmanager.k8s.io",
    ],
)
def test_cluster_scoped(name: str) -> None:
    (found,) = [c for c in CRDS if c.name == name]
    assert found.scope == "Cluster"


def test_only_three_cluster_scoped() -> None:
    assert sum(c.scope == "Cluster" for c in CRDS) == 3
    assert {c.scope for c in CRDS} == {"Namespaced", "Cluster"}


def test_short_names() -> None:
    short = {c.kind: c.short_names for c in CRDS if c.short_names}
    assert short == {
        "VirtualService": ("vs",),
        "DestinationRule": ("dr",),
        "ServiceEntry": ("se",),
        "Gateway": ("gw",),
        "Certificate": ("cert", "certs"),
    }


@pytest.mark.parametrize(
    ("group", "categories", "app"),
    [
        ("networking.istio.io", ("istio-io", "networking-istio-io"), "istio-pilot"),
        ("authentication.istio.io", ("istio-io", "authentication-istio-io"), "istio-citadel"),
        ("rbac.istio.io", ("istio-io", "rbac-istio-io"), None),
        ("certmanager.k8s.io", (), "certmanager"),
    ],
)
def test_categories_and_app_label(group: str, categories: tuple[str, ...], app: str | None) -> None:
    crds = [c for c in CRDS if c.group == group]
    assert crds, f"no CRD of group {group}"
    for c in crds:
        assert c.categories == categories
        assert app is None or c.labels["app"] == app


def test_config_categories_and_labels() -> None:
    crds = [c for c in CRDS if c.group == "config.istio.io"]
    assert crds, "no CRD of group config.istio.io"
    for c in crds:
        apim = c.kind in {"HTTPAPISpecBinding", "HTTPAPISpec", "QuotaSpecBinding", "QuotaSpec"}
        assert c.categories == ("istio-io", "apim-istio-io" if apim else "policy-istio-io")
        assert c.labels["app"] == ("istio-mixer" if apim else "mixer")
        if c.kind in MIXER_ADAPTERS:
            assert c.labels["istio"] == "mixer-adapter"
        if c.kind in MIXER_TEMPLATES:
            assert c.labels["istio"] == "mixer-instance"


@pytest.mark.parametrize(
    ("kind", "labels"),
    [
        ("rule", {"app": "mixer", "package": "istio.io.mixer", "istio": "core"}),
        ("kubernetes", {"app": "mixer", "package": "adapter.template.kubernetes"}),
        ("handler", {"package": "handler", "istio": "mixer-handler"}),
        ("template", {"package": "template", "istio": "mixer-template"}),
    ],
)
def test_mixer_labels(kind: str, labels: Mapping[str, str]) -> None:
    assert labels.items() <= crd("config.istio.io", kind).labels.items()


def test_certmanager_gate() -> None:
    assert crds(certmanager=True) == CRDS
    without = crds(certmanager=False)
    assert len(without) == 55
    assert not any(c.certmanager or c.group == "certmanager.k8s.io" for c in without)
    assert {c.group for c in CRDS if c.certmanager} == {"certmanager.k8s.io"}


def test_versions() -> None:
    versions = {c.group: c.version for c in CRDS}
    assert versions == {
        "networking.istio.io": "v1alpha3",
        "authentication.istio.io": "v1alpha1",
        "rbac.istio.io": "v1alpha1",
        "config.istio.io": "v1alpha2",
        "certmanager.k8s.io": "v1alpha1",
    }


# --- the CRD .spec ---------------------------------------------------------------------------


def test_spec_layout() -> None:
    vs = crd("networking.istio.io", "VirtualService")
    spec = vs.spec()
    assert vs.name == "virtualservices.networking.istio.io"
    assert spec["group"] == "networking.istio.io"
    assert spec["scope"] == "Namespaced"
    assert spec["names"] == {
        "kind": "VirtualService",
        "listKind": "VirtualServiceList",
        "plural": "virtualservices",
        "singular": "virtualservice",
        "shortNames": ["vs"],
        "categories": ["istio-io", "networking-istio-io"],
    }
    (version,) = spec["versions"]
    assert (version["name"], version["served"], version["storage"]) == ("v1alpha3", True, True)
    assert version["schema"]["openAPIV3Schema"] == vs.schema
    assert [c["name"] for c in version["additionalPrinterColumns"]] == ["Gateways", "Hosts", "Age"]


def test_spec_without_optional_names() -> None:
    spec = crd("certmanager.k8s.io", "Issuer").spec()
    assert "shortNames" not in spec["names"] and "categories" not in spec["names"]
    assert "additionalPrinterColumns" not in spec["versions"][0]


def test_spec_is_a_fresh_copy() -> None:
    vs = crd("networking.istio.io", "VirtualService")
    vs.spec()["versions"][0]["schema"]["openAPIV3Schema"]["properties"].clear()
    assert "spec" in vs.schema["properties"]


@pytest.mark.parametrize("c", CRDS, ids=lambda c: c.name)
def test_spec_dumps_without_yaml_aliases(c: CrdSpec) -> None:
    text = yaml.safe_dump(c.spec())
    assert "&id" not in text and "*id" not in text


@pytest.mark.parametrize("c", CRDS, ids=lambda c: c.name)
def test_crd_object_is_valid_for_kubernetes(c: CrdSpec) -> None:
    manifest = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": c.name, "labels": dict(c.labels)},
        "spec": c.spec(),
    }
    kubernetes_validate.validate(manifest, "1.30.0", strict=True)


# --- structural schemas ----------------------------------------------------------------------

ALLOWED_KEYWORDS = {
    "type", "format", "description", "properties", "additionalProperties", "items", "enum",
    "nullable", "minimum", "maximum", "required", "pattern", "minItems", "maxItems",
    "x-kubernetes-preserve-unknown-fields", "x-kubernetes-int-or-string",
}  # fmt: skip
TYPES = {"object", "array", "string", "integer", "number", "boolean"}
ENUM_TYPES = {"string": str, "integer": int}


def structural_errors(node: Mapping[str, Any], path: str = "") -> Iterator[str]:
    """Yield where a schema breaks the Kubernetes rules for structural schemas."""
    at = path or "<root>"
    if unknown := set(node) - ALLOWED_KEYWORDS:
        yield f"{at}: keywords not allowed: {sorted(unknown)}"
    int_or_string = node.get("x-kubernetes-int-or-string", False)
    preserve = node.get("x-kubernetes-preserve-unknown-fields", False)
    if "x-kubernetes-preserve-unknown-fields" in node and preserve is not True:
        yield f"{at}: x-kubernetes-preserve-unknown-fields must be true when set"
    kind = node.get("type")
    if int_or_string and kind is not None:
        yield f"{at}: an int-or-string node must not set type"
    if kind is None and not (int_or_string or preserve):
        yield f"{at}: missing type"
    if kind is not None and kind not in TYPES:
        yield f"{at}: bad type {kind!r}"
    if "properties" in node and "additionalProperties" in node:
        yield f"{at}: properties and additionalProperties together"
    if ("properties" in node or "additionalProperties" in node) and kind != "object":
        yield f"{at}: fields on a non-object"
    if kind == "array" and not isinstance(node.get("items"), Mapping):
        yield f"{at}: an array needs one items schema"
    enum_type = ENUM_TYPES.get(str(kind))
    if "enum" in node and not (enum_type and all(isinstance(v, enum_type) for v in node["enum"])):
        yield f"{at}: enum values do not match type {kind}"
    yield from child_errors(node, path)


def child_errors(node: Mapping[str, Any], path: str) -> Iterator[str]:
    for name, child in node.get("properties", {}).items():
        yield from structural_errors(child, f"{path}.{name}")
    if "additionalProperties" in node:
        child = node["additionalProperties"]
        if not isinstance(child, Mapping):
            yield f"{path}: additionalProperties must be a schema, not {child!r}"
        else:
            yield from structural_errors(child, f"{path}.*")
    if isinstance(node.get("items"), Mapping):
        yield from structural_errors(node["items"], f"{path}[]")


def test_checker_catches_violations() -> None:
    bad = {
        "type": "object",
        "properties": {
            "a": {"properties": {"b": {"type": "string"}}},
            "c": {"type": "object", "properties": {}, "additionalProperties": {"type": "string"}},
            "d": {"type": "array"},
            "e": {"type": "integer", "x-kubernetes-int-or-string": True},
            "f": {"type": "object", "additionalProperties": False},
            "g": {"$ref": "#/definitions/x"},
        },
    }
    flagged = {error.split(":")[0] for error in structural_errors(bad)}
    assert flagged == {".a", ".c", ".d", ".e", ".f", ".g"}


@pytest.mark.parametrize("c", CRDS, ids=lambda c: c.name)
def test_schema_is_structural(c: CrdSpec) -> None:
    assert list(structural_errors(c.schema)) == []
    assert c.schema["type"] == "object"
    assert set(c.schema["properties"]) == {"spec", "status"}
    assert c.schema["properties"]["status"] == {
        "type": "object",
        "x-kubernetes-preserve-unknown-fields": True,
    }


@pytest.mark.parametrize("c", CRDS, ids=lambda c: c.name)
def test_spec_is_free_form_only_where_intended(c: CrdSpec) -> None:
    spec = c.schema["properties"]["spec"]
    free = spec.get("x-kubernetes-preserve-unknown-fields", False)
    assert free == ((c.group, c.kind) in FREE_FORM)
    assert free or spec["properties"]


# --- validating custom resources ------------------------------------------------------------


def strict(node: Any) -> Any:
    """Turn a structural schema into JSON schema that rejects unknown fields.

    The API server prunes unknown fields (and rejects them under strict field validation,
    kubectl's default); JSON schema keeps them unless ``additionalProperties`` is false.
    """
    if isinstance(node, list):
        return [strict(item) for item in node]
    if not isinstance(node, Mapping):
        return node
    out = {key: strict(value) for key, value in node.items()}
    if "properties" in out and not out.get("x-kubernetes-preserve-unknown-fields"):
        out["additionalProperties"] = False
    if out.get("nullable") and "type" in out:
        out["type"] = [out["type"], "null"]
    return out


def errors_for(group: str, kind: str, spec: Mapping[str, Any]) -> list[str]:
    schema = strict(crd(group, kind).schema)
    jsonschema.Draft7Validator.check_schema(schema)
    validator = jsonschema.Draft7Validator(schema)
    return [error.message for error in validator.iter_errors({"spec": spec})]


NET = "networking.istio.io"
AUTHN = "authentication.istio.io"
RBAC = "rbac.istio.io"
CONFIG = "config.istio.io"
CERTS = "certmanager.k8s.io"

VIRTUAL_SERVICE: dict[str, Any] = {
    "hosts": ["reviews.prod.svc.cluster.local", "uk.bookinfo.com"],
    "gateways": ["bookinfo-gateway", "mesh"],
    "http": [
        {
            "name": "reviews-canary",
            "match": [
                {
                    "uri": {"prefix": "/reviews"},
                    "headers": {"end-user": {"exact": "jason"}},
                    "sourceLabels": {"app": "productpage"},
                    "port": 9080,
                },
            ],
            "rewrite": {"uri": "/v2/reviews"},
            "route": [
                {
                    "destination": {
                        "host": "reviews.prod.svc.cluster.local",
                        "subset": "v2",
                        "port": {"number": 9080},
                    },
                    "weight": 75,
                    "headers": {"response": {"remove": ["x-internal"]}},
                },
                {
                    "destination": {"host": "reviews.prod.svc.cluster.local", "subset": "v1"},
                    "weight": 25,
                },
            ],
            "mirror": {"host": "reviews.prod.svc.cluster.local", "subset": "v3"},
            "fault": {
                "delay": {"fixedDelay": "5s", "percent": 10},
                "abort": {"httpStatus": 503, "percentage": {"value": 0.5}},
            },
            "retries": {"attempts": 3, "perTryTimeout": "2s", "retryOn": "gateway-error"},
            "timeout": "10s",
            "corsPolicy": {"allowOrigin": ["*"], "allowMethods": ["GET"], "maxAge": "24h"},
            "appendHeaders": {"x-canary": "true"},
        },
        {"redirect": {"uri": "/login", "authority": "auth.example.com", "redirectCode": 301}},
    ],
    "tls": [
        {
            "match": [{"port": 443, "sniHosts": ["login.bookinfo.com"]}],
            "route": [{"destination": {"host": "login.prod.svc.cluster.local"}}],
        },
    ],
    "tcp": [
        {
            "match": [{"port": 27017, "sourceSubnet": "10.0.0.0/8"}],
            "route": [{"destination": {"host": "mongo.backup", "port": {"number": 5555}}}],
        },
    ],
    "exportTo": ["."],
}

DESTINATION_RULE: dict[str, Any] = {
    "host": "reviews.prod.svc.cluster.local",
    "trafficPolicy": {
        "loadBalancer": {"simple": "LEAST_CONN"},
        "connectionPool": {
            "tcp": {"maxConnections": 100, "connectTimeout": "30ms"},
            "http": {"http1MaxPendingRequests": 10, "maxRequestsPerConnection": 1},
        },
        "outlierDetection": {"consecutiveErrors": 7, "interval": "5m", "baseEjectionTime": "15m"},
        "tls": {"mode": "ISTIO_MUTUAL"},
        "portLevelSettings": [{"port": {"number": 80}, "loadBalancer": {"simple": "RANDOM"}}],
    },
    "subsets": [
        {"name": "v1", "labels": {"version": "v1"}},
        {
            "name": "v2",
            "labels": {"version": "v2"},
            "trafficPolicy": {
                "loadBalancer": {"consistentHash": {"httpCookie": {"name": "u", "ttl": "0s"}}},
            },
        },
    ],
}

GATEWAY: dict[str, Any] = {
    "selector": {"istio": "ingressgateway"},
    "servers": [
        {
            "port": {"number": 80, "name": "http", "protocol": "HTTP"},
            "hosts": ["uk.bookinfo.com"],
            "tls": {"httpsRedirect": True},
        },
        {
            "port": {"number": 443, "name": "https", "protocol": "HTTPS"},
            "hosts": ["uk.bookinfo.com", "eu.bookinfo.com"],
            "tls": {
                "mode": "SIMPLE",
                "serverCertificate": "/etc/certs/servercert.pem",
                "privateKey": "/etc/certs/privatekey.pem",
            },
        },
        {
            "port": {"number": 8443, "name": "https-mutual", "protocol": "HTTPS"},
            "hosts": ["bookinfo-namespace/*.bookinfo.com"],
            "tls": {
                "mode": "MUTUAL",
                "serverCertificate": "/etc/certs/servercert.pem",
                "privateKey": "/etc/certs/privatekey.pem",
                "caCertificates": "/etc/certs/ca.pem",
                "subjectAltNames": ["spiffe://cluster.local/ns/default/sa/client"],
                "minProtocolVersion": "TLSV1_2",
            },
        },
    ],
}

SERVICE_ENTRY: dict[str, Any] = {
    "hosts": ["api.dropboxapi.com"],
    "location": "MESH_EXTERNAL",
    "ports": [{"number": 443, "name": "https", "protocol": "TLS"}],
    "resolution": "DNS",
    "endpoints": [{"address": "us.foo.bar.com", "ports": {"https": 8443}, "labels": {"a": "b"}}],
}

SIDECAR: dict[str, Any] = {
    "workloadSelector": {"labels": {"app": "ratings"}},
    "ingress": [
        {
            "port": {"number": 9080, "protocol": "HTTP", "name": "somename"},
            "defaultEndpoint": "unix:///var/run/someuds.sock",
        },
    ],
    "egress": [{"hosts": ["./*", "istio-system/*"]}],
    "outboundTrafficPolicy": {"mode": "REGISTRY_ONLY"},
}

ENVOY_FILTER: dict[str, Any] = {
    "workloadLabels": {"app": "reviews"},
    "filters": [
        {
            "listenerMatch": {"portNumber": 9080, "listenerType": "SIDECAR_INBOUND"},
            "filterName": "envoy.lua",
            "filterType": "HTTP",
            "filterConfig": {"inlineCode": "function envoy_on_request(h) end"},
        },
    ],
}

AUTHN_POLICY: dict[str, Any] = {
    "targets": [{"name": "productpage", "ports": [{"number": 9000}]}],
    "peers": [{"mtls": {}}],
    "origins": [
        {
            "jwt": {
                "issuer": "testing@secure.istio.io",
                "jwksUri": "https://example.com/jwks.json",
                "triggerRules": [{"excludedPaths": [{"exact": "/health"}]}],
            },
        },
    ],
    "principalBinding": "USE_ORIGIN",
}

RBAC_CONFIG: dict[str, Any] = {
    "mode": "ON_WITH_INCLUSION",
    "inclusion": {"namespaces": ["default"], "services": ["ratings.bookinfo.svc.cluster.local"]},
    "enforcementMode": "PERMISSIVE",
}

SERVICE_ROLE: dict[str, Any] = {
    "rules": [
        {
            "services": ["products.default.svc.cluster.local"],
            "methods": ["GET", "HEAD"],
            "paths": ["/books/*"],
            "constraints": [{"key": "destination.labels[version]", "values": ["v1", "v2"]}],
        },
    ],
}

SERVICE_ROLE_BINDING: dict[str, Any] = {
    "subjects": [
        {"user": "cluster.local/ns/default/sa/bookinfo-productpage"},
        {"properties": {"source.namespace": "abc"}},
        {"group": "admins"},
    ],
    "roleRef": {"kind": "ServiceRole", "name": "products-viewer"},
}

RULE: dict[str, Any] = {
    "match": 'context.protocol == "http"',
    "actions": [
        {"handler": "prometheus", "instances": ["requestcount.metric", "requestsize.metric"]},
        {"handler": "keyval", "instances": ["keyval"], "name": "x"},
    ],
    "requestHeaderOperations": [{"name": "user-group", "values": ["x.output.value"]}],
    "responseHeaderOperations": [{"name": "x-powered-by", "operation": "REMOVE"}],
}

HANDLER: dict[str, Any] = {
    "compiledAdapter": "prometheus",
    "params": {
        "metrics": [
            {
                "name": "requests_total",
                "instance_name": "requestcount.metric.istio-system",
                "kind": "COUNTER",
                "label_names": ["reporter", "source_app"],
            },
        ],
    },
}

OOP_HANDLER: dict[str, Any] = {
    "adapter": "keyval",
    "connection": {"address": "keyval:9070", "timeout": "5s"},
    "params": {"table": {"jason": "admin"}},
}

INSTANCE: dict[str, Any] = {
    "compiledTemplate": "metric",
    "params": {
        "value": "1",
        "dimensions": {"source_app": 'source.labels["app"] | "unknown"'},
        "monitored_resource_type": '"UNSPECIFIED"',
    },
}

ATTRIBUTE_MANIFEST: dict[str, Any] = {
    "name": "istio-proxy",
    "attributes": {
        "origin.ip": {"valueType": "IP_ADDRESS"},
        "request.headers": {"valueType": "STRING_MAP", "description": "request headers"},
        "request.size": {"valueType": "INT64"},
    },
}

QUOTA_SPEC: dict[str, Any] = {
    "rules": [
        {
            "match": [{"clause": {"request.path": {"prefix": "/books"}}}],
            "quotas": [{"quota": "requestcount.quota.istio-system", "charge": 1}],
        },
    ],
}

QUOTA_SPEC_BINDING: dict[str, Any] = {
    "quotaSpecs": [{"name": "request-count", "namespace": "istio-system"}],
    "services": [{"name": "ratings", "namespace": "default"}, {"service": "*"}],
}

HTTP_API_SPEC: dict[str, Any] = {
    "attributes": {"attributes": {"api.service": {"stringValue": "petstore.swagger.io"}}},
    "patterns": [
        {
            "attributes": {"attributes": {"api.operation": {"stringValue": "getPet"}}},
            "httpMethod": "GET",
            "uriTemplate": "/pets/{id}",
        },
    ],
    "apiKeys": [{"query": "key"}, {"header": "X-API-KEY"}],
}

HTTP_API_SPEC_BINDING: dict[str, Any] = {
    "services": [{"name": "petstore", "namespace": "default"}],
    "apiSpecs": [{"name": "petstore"}],
}

SAMPLES = [
    pytest.param(NET, "VirtualService", VIRTUAL_SERVICE, id="VirtualService"),
    pytest.param(NET, "DestinationRule", DESTINATION_RULE, id="DestinationRule"),
    pytest.param(NET, "Gateway", GATEWAY, id="Gateway"),
    pytest.param(NET, "ServiceEntry", SERVICE_ENTRY, id="ServiceEntry"),
    pytest.param(NET, "Sidecar", SIDECAR, id="Sidecar"),
    pytest.param(NET, "EnvoyFilter", ENVOY_FILTER, id="EnvoyFilter"),
    pytest.param(AUTHN, "MeshPolicy", {"peers": [{"mtls": {}}]}, id="MeshPolicy-strict"),
    pytest.param(
        AUTHN,
        "MeshPolicy",
        {"peers": [{"mtls": {"mode": "PERMISSIVE"}}]},
        id="MeshPolicy-permissive",
    ),
    pytest.param(AUTHN, "MeshPolicy", {"peers": [{"mtls": None}]}, id="MeshPolicy-null-mtls"),
    pytest.param(AUTHN, "Policy", AUTHN_POLICY, id="Policy"),
    pytest.param(RBAC, "ClusterRbacConfig", RBAC_CONFIG, id="ClusterRbacConfig"),
    pytest.param(RBAC, "RbacConfig", {"mode": "OFF"}, id="RbacConfig"),
    pytest.param(RBAC, "ServiceRole", SERVICE_ROLE, id="ServiceRole"),
    pytest.param(RBAC, "ServiceRoleBinding", SERVICE_ROLE_BINDING, id="ServiceRoleBinding"),
    pytest.param(CONFIG, "rule", RULE, id="rule"),
    pytest.param(CONFIG, "handler", HANDLER, id="handler"),
    pytest.param(CONFIG, "handler", OOP_HANDLER, id="handler-out-of-process"),
    pytest.param(CONFIG, "instance", INSTANCE, id="instance"),
    pytest.param(CONFIG, "attributemanifest", ATTRIBUTE_MANIFEST, id="attributemanifest"),
    pytest.param(CONFIG, "QuotaSpec", QUOTA_SPEC, id="QuotaSpec"),
    pytest.param(CONFIG, "QuotaSpecBinding", QUOTA_SPEC_BINDING, id="QuotaSpecBinding"),
    pytest.param(CONFIG, "HTTPAPISpec", HTTP_API_SPEC, id="HTTPAPISpec"),
    pytest.param(CONFIG, "HTTPAPISpecBinding", HTTP_API_SPEC_BINDING, id="HTTPAPISpecBinding"),
    pytest.param(CONFIG, "prometheus", {"metrics": [{"name": "x", "kind": "COUNTER"}]}, id="prom"),
    pytest.param(CONFIG, "metric", {"value": "1", "dimensions": {"a": "b"}}, id="metric"),
    pytest.param(CERTS, "Certificate", {"secretName": "s", "acme": {"config": []}}, id="cert"),
]


@pytest.mark.parametrize(("group", "kind", "spec"), SAMPLES)
def test_sample_is_valid(group: str, kind: str, spec: Mapping[str, Any]) -> None:
    assert errors_for(group, kind, spec) == []


MISTAKES = [
    pytest.param(NET, "VirtualService", {"hosts": ["a"], "gateway": ["mesh"]}, id="vs-top-level"),
    pytest.param(
        NET,
        "VirtualService",
        {"http": [{"route": [{"destination": {"hots": "reviews"}}]}]},
        id="vs-destination",
    ),
    pytest.param(
        NET,
        "VirtualService",
        {"http": [{"retries": {"attempts": 3, "perTryTimout": "2s"}}]},
        id="vs-retries",
    ),
    pytest.param(
        NET,
        "VirtualService",
        {"http": [{"route": [{"destination": {"host": "a"}, "weight": "75"}]}]},
        id="vs-weight-type",
    ),
    pytest.param(
        NET, "DestinationRule", {"trafficPolicy": {"tls": {"mode": "ISTIO_MTLS"}}}, id="dr-mode"
    ),
    pytest.param(
        NET, "Gateway", {"servers": [{"port": {"number": 80}, "host": ["*"]}]}, id="gw-hosts"
    ),
    pytest.param(AUTHN, "MeshPolicy", {"peers": [{"mtls": {"mode": "ON"}}]}, id="mtls-mode"),
    pytest.param(RBAC, "ClusterRbacConfig", {"mode": "ENABLED"}, id="rbac-mode"),
    pytest.param(RBAC, "ServiceRoleBinding", {"roleRef": {"nam": "x"}}, id="role-ref"),
    pytest.param(CONFIG, "rule", {"actions": [{"handlers": "x"}]}, id="rule-action"),
    pytest.param(CONFIG, "QuotaSpecBinding", {"quotaSpec": []}, id="quota-spec-binding"),
]


@pytest.mark.parametrize(("group", "kind", "spec"), MISTAKES)
def test_mistake_is_rejected(group: str, kind: str, spec: Mapping[str, Any]) -> None:
    assert errors_for(group, kind, spec) != []


def test_misspelt_virtual_service_field_is_named() -> None:
    (message,) = errors_for(NET, "VirtualService", {"hosts": ["a"], "htttp": []})
    assert "'htttp' was unexpected" in message
