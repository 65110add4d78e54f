"""Security: Citadel (``istio-citadel``), mesh-wide mutual TLS, JWT origin authentication and RBAC.

Citadel watches service accounts and writes an ``istio.<service-account>`` Secret with a
key and certificate for each, carrying the SPIFFE identity
``spiffe://<global.trustDomain>/ns/<namespace>/sa/<service-account>``; sidecars mount it
for mutual TLS. It signs with a self-generated root (``selfSigned``) or with the
operator's CA from the Secret ``cacerts``. Defaults follow Istio 1.1's
``charts/security/values.yaml``, with requests and limits.

The Istio 1.0 "security hardening" resources are plain templates, so that ``helm upgrade``
applies every change (Istio 1.1 applied them from a post-install Job, which never re-ran):

* ``global.mtls.mode`` (``off``/``permissive``/``strict``) renders the ``MeshPolicy``
  ``default`` and, for ``strict``, the client-side ``DestinationRule`` objects ``default``
  (``*.local``: ``ISTIO_MUTUAL``) and ``api-server`` (``DISABLE``), all behind
  ``security.createMeshPolicy``, the owner switch of these cluster-wide singletons.
* ``security.jwt`` renders ``authentication.istio.io`` ``Policy`` objects (JWT origins).
* ``security.rbac`` renders the ``ClusterRbacConfig`` ``default`` and ``ServiceRole`` /
  ``ServiceRoleBinding`` objects.
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

__all__ = ["DNS_LABEL_SCHEMA", "DNS_SUBDOMAIN_SCHEMA", "MTLS_MODES", "RBAC_MODES", "SECURITY"]

MTLS_MODES = ("off", "permissive", "strict")
"""The values of ``global.mtls.mode``."""

RBAC_MODES = ("OFF", "ON", "ON_WITH_INCLUSION", "ON_WITH_EXCLUSION")
"""The values of ``security.rbac.mode`` (Istio's ``ClusterRbacConfig`` modes)."""

DNS_LABEL_SCHEMA: JsonSchema = {
    "type": "string",
    "maxLength": 63,
    "pattern": r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$",
}
"""A DNS-1123 label: an object name or a namespace."""

DNS_SUBDOMAIN_SCHEMA: JsonSchema = {
    "type": "string",
    "maxLength": 253,
    "pattern": r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$",
}
"""A DNS-1123 subdomain: a service short name or a fully qualified host."""

_STRING: JsonSchema = {"type": "string", "minLength": 1}
_STRINGS: JsonSchema = {"type": "array", "items": _STRING}

_DEFAULTS: dict[str, Any] = {
    "enabled": True,
    "replicaCount": 1,
    "image": "citadel",
    "selfSigned": True,
    "createMeshPolicy": True,
    "resources": {
        "requests": {"cpu": "10m", "memory": "64Mi"},
        "limits": {"cpu": "500m", "memory": "512Mi"},
    },
    "env": {},
    "nodeSelector": {},
    "tolerations": [],
    "podAnnotations": {},
    "jwt": [],
    "rbac": {
        "mode": "OFF",
        "inclusion": {"services": [], "namespaces": []},
        "exclusion": {"services": [], "namespaces": []},
        "roles": [],
        "bindings": [],
    },
}

_DOCS: dict[str, str] = {
    "enabled": (
        "Deploy Citadel (Deployment/Service istio-citadel), which issues workload certificates, "
        "and render the mesh authentication and RBAC resources below."
    ),
    "replicaCount": "Citadel replicas (more than 1 adds a PodDisruptionBudget).",
    "image": "Citadel image: a name under global.hub tagged global.tag, or a full reference containing '/'.",
    "selfSigned": (
        "Sign with a self-generated root CA; false: sign with the CA in the Secret cacerts "
        "(ca-cert.pem, ca-key.pem, root-cert.pem, cert-chain.pem) of the release namespace."
    ),
    "createMeshPolicy": (
        "Own the cluster-wide singletons: the MeshPolicy default, the DestinationRules default "
        "and api-server (strict mTLS) and the ClusterRbacConfig default. Exactly one release per "
        "cluster may own them; false in a remote cluster or a second control plane."
    ),
    **resource_docs("resources", "the citadel container"),
    "env": "Extra environment variables of the citadel container (name -> string value).",
    "nodeSelector": "Node labels for Citadel pods (empty: global.defaultNodeSelector).",
    "tolerations": "Tolerations of Citadel pods.",
    "podAnnotations": "Extra annotations of Citadel pods.",
    "jwt": (
        "End-user (origin) JWT authentication: each entry {name, namespace?, targets: [{name: "
        "<service>, ports?: [{number}|{name}]}], issuer, jwksUri?, audiences?, triggerRules?, "
        "principalBinding?: USE_ORIGIN|USE_PEER} renders an authentication.istio.io Policy "
        "<name> in <namespace> (default: the release namespace). An entry without targets "
        "covers its whole namespace and must be named default. The Policy repeats the mesh "
        "peer authentication of global.mtls.mode, since a service Policy replaces the MeshPolicy."
    ),
    "rbac.mode": (
        "Istio RBAC (ClusterRbacConfig default): OFF (no object), ON (every service), "
        "ON_WITH_INCLUSION (only rbac.inclusion), ON_WITH_EXCLUSION (all but rbac.exclusion). "
        "Requires security.createMeshPolicy."
    ),
    "rbac.inclusion.services": "Services (FQDN, e.g. ratings.default.svc.cluster.local) RBAC applies to with ON_WITH_INCLUSION.",
    "rbac.inclusion.namespaces": "Namespaces RBAC applies to with ON_WITH_INCLUSION.",
    "rbac.exclusion.services": "Services (FQDN) exempt from RBAC with ON_WITH_EXCLUSION.",
    "rbac.exclusion.namespaces": "Namespaces exempt from RBAC with ON_WITH_EXCLUSION.",
    "rbac.roles": (
        "ServiceRoles: each entry {name, namespace?, rules: [{services, methods?, paths?, "
        "constraints?: [{key, values}]}]}, in <namespace> (default: the release namespace)."
    ),
    "rbac.bindings": (
        "ServiceRoleBindings: each entry {name, namespace?, subjects: [{user?, group?, "
        "properties?}], roleRef: {kind?: ServiceRole, name}}, in <namespace> (default: the "
        "release namespace)."
    ),
}

_MTLS_MODE_SCHEMA: JsonSchema = {
    # An unquoted `off` in a values file is YAML 1.1's false: accept it as "off".
    "enum": [*MTLS_MODES, False],
}

_RBAC_MODE_SCHEMA: JsonSchema = {
    # Unquoted ON / OFF in a values file are YAML 1.1 booleans: accept them as ON / OFF.
    "enum": [*RBAC_MODES, True, False],
}

_PORT_SELECTOR: JsonSchema = {
    "type": "object",
    "properties": {
        "number": {"type": "integer", "minimum": 1, "maximum": 65535},
        "name": _STRING,
    },
    "additionalProperties": False,
    "minProperties": 1,
    "maxProperties": 1,
}

_STRING_MATCH: JsonSchema = {
    "type": "object",
    "properties": {"exact": _STRING, "prefix": _STRING, "suffix": _STRING, "regex": _STRING},
    "additionalProperties": False,
    "minProperties": 1,
    "maxProperties": 1,
}

_JWT_ENTRY: JsonSchema = {
    "type": "object",
    "required": ["name", "issuer"],
    "additionalProperties": False,
    "properties": {
        "name": DNS_LABEL_SCHEMA,
        "namespace": DNS_LABEL_SCHEMA,
        "targets": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name"],
                "additionalProperties": False,
                "properties": {
                    "name": DNS_SUBDOMAIN_SCHEMA,
                    "ports": {"type": "array", "minItems": 1, "items": _PORT_SELECTOR},
                },
            },
        },
        "issuer": _STRING,
        "jwksUri": {"type": "string", "pattern": r"^https?://[^\s]+$"},
        "audiences": _STRINGS,
        "triggerRules": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "minProperties": 1,
                "properties": {
                    "excludedPaths": {"type": "array", "items": _STRING_MATCH},
                    "includedPaths": {"type": "array", "items": _STRING_MATCH},
                },
            },
        },
        "principalBinding": {"type": "string", "enum": ["USE_ORIGIN", "USE_PEER"]},
    },
}

_ROLE_ENTRY: JsonSchema = {
    "type": "object",
    "required": ["name", "rules"],
    "additionalProperties": False,
    "properties": {
        "name": DNS_LABEL_SCHEMA,
        "namespace": DNS_LABEL_SCHEMA,
        "rules": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["services"],
                "additionalProperties": False,
                "properties": {
                    "services": {**_STRINGS, "minItems": 1},
                    "methods": _STRINGS,
                    "paths": _STRINGS,
                    "constraints": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["key", "values"],
                            "additionalProperties": False,
                            "properties": {"key": _STRING, "values": {**_STRINGS, "minItems": 1}},
                        },
                    },
                },
            },
        },
    },
}

_BINDING_ENTRY: JsonSchema = {
    "type": "object",
    "required": ["name", "subjects", "roleRef"],
    "additionalProperties": False,
    "properties": {
        "name": DNS_LABEL_SCHEMA,
        "namespace": DNS_LABEL_SCHEMA,
        "subjects": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "minProperties": 1,
                "properties": {"user": _STRING, "group": _STRING, "properties": STRING_MAP_SCHEMA},
            },
        },
        "roleRef": {
            "type": "object",
            "required": ["name"],
            "additionalProperties": False,
            "properties": {
                "kind": {"type": "string", "enum": ["ServiceRole"]},
                "name": DNS_LABEL_SCHEMA,
            },
        },
    },
}

_SCHEMA: dict[str, JsonSchema] = {
    "replicaCount": {"type": "integer", "minimum": 0},
    "image": IMAGE_SCHEMA,
    "resources": RESOURCES_SCHEMA,
    "env": ENV_SCHEMA,
    "nodeSelector": STRING_MAP_SCHEMA,
    "tolerations": TOLERATIONS_SCHEMA,
    "podAnnotations": STRING_MAP_SCHEMA,
    "jwt": {"type": "array", "items": _JWT_ENTRY},
    "rbac.mode": _RBAC_MODE_SCHEMA,
    "rbac.inclusion.services": {"type": "array", "items": DNS_SUBDOMAIN_SCHEMA},
    "rbac.inclusion.namespaces": {"type": "array", "items": DNS_LABEL_SCHEMA},
    "rbac.exclusion.services": {"type": "array", "items": DNS_SUBDOMAIN_SCHEMA},
    "rbac.exclusion.namespaces": {"type": "array", "items": DNS_LABEL_SCHEMA},
    "rbac.roles": {"type": "array", "items": _ROLE_ENTRY},
    "rbac.bindings": {"type": "array", "items": _BINDING_ENTRY},
}

_GLOBAL_DEFAULTS: dict[str, Any] = {"mtls": {"mode": "permissive"}}

_GLOBAL_DOCS: dict[str, str] = {
    "mtls.mode": (
        "Mesh-wide mutual TLS between sidecars: off (no MeshPolicy: plain text, Istio 1.0's "
        "default), permissive (MeshPolicy default accepts plain text and mTLS, so workloads "
        "without a sidecar keep working while meshed clients may upgrade; Istio 1.1's default) "
        "or strict (MeshPolicy requires mTLS, and the DestinationRule default makes every "
        "client use ISTIO_MUTUAL towards *.local, except the Kubernetes API server)."
    ),
}

_GLOBAL_SCHEMA: dict[str, JsonSchema] = {"mtls.mode": _MTLS_MODE_SCHEMA}

SECURITY = Component(
    name="security",
    chart="istio",
    summary=(
        "Citadel (istio-citadel) issuing SPIFFE identities, and mesh security: mTLS "
        "MeshPolicy, JWT Policies, Istio RBAC"
    ),
    defaults=_DEFAULTS,
    docs=_DOCS,
    schema=_SCHEMA,
    global_defaults=_GLOBAL_DEFAULTS,
    global_docs=_GLOBAL_DOCS,
    global_schema=_GLOBAL_SCHEMA,
    merge_keys={"jwt": "name", "rbac.roles": "name", "rbac.bindings": "name"},
)
"""Citadel, mesh-wide mTLS (``global.mtls.mode``), JWT policies and Istio RBAC."""
