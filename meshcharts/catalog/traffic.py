"""Traffic policies: canaries, mirroring, fault injection, retries and timeouts as values.

Istio 1.0 made the traffic APIs stable (``networking.istio.io/v1alpha3``). Each entry of
the list ``trafficPolicies`` renders a ``VirtualService`` and a ``DestinationRule`` named
after the entry, for one host:

* the DestinationRule declares the entry's subsets (pod labels, e.g. ``version: v2``) and
  its load-balancing and connection-pool settings;
* the VirtualService sends the host's HTTP traffic to the subsets by weight (the weights
  must add up to 100; the chart fails otherwise), and may mirror it to a subset, inject
  delays or aborts, retry and time out.

The list is empty by default: the component renders nothing and has no ``enabled`` key.
Under ``global.mtls.mode: strict`` each DestinationRule also sets ``ISTIO_MUTUAL``: a
host's own DestinationRule replaces the mesh-wide one, which would otherwise turn its
client-side mTLS off.
"""

from __future__ import annotations

from meshcharts.catalog.component import Component, JsonSchema
from meshcharts.catalog.security import DNS_LABEL_SCHEMA, DNS_SUBDOMAIN_SCHEMA

__all__ = ["TRAFFIC_POLICIES", "TRAFFIC_POLICY_SCHEMA"]

_DURATION: JsonSchema = {"type": "string", "pattern": r"^[0-9]+(\.[0-9]+)?(ms|s|m|h)$"}
_PERCENT: JsonSchema = {"type": "integer", "minimum": 0, "maximum": 100}
_COUNT: JsonSchema = {"type": "integer", "minimum": 1, "maximum": 2147483647}


def _closed(required: list[str], **properties: JsonSchema) -> JsonSchema:
    node: dict[str, object] = {
        "type": "object",
        "additionalProperties": False,
        "properties": properties,
    }
    if required:
        node["required"] = required
    return node


def _nonempty(**properties: JsonSchema) -> JsonSchema:
    """A closed object of optional fields, at least one of which is set."""
    return {**_closed([], **properties), "minProperties": 1}


_SUBSET = _closed(
    ["name", "labels"],
    name=DNS_LABEL_SCHEMA,
    labels={
        "type": "object",
        "minProperties": 1,
        "additionalProperties": {"type": "string", "maxLength": 63},
    },
    weight={"type": "integer", "minimum": 0, "maximum": 100},
)

_FAULT = _nonempty(
    delay=_closed(["fixedDelay"], fixedDelay=_DURATION, percent=_PERCENT),
    abort=_closed(
        ["httpStatus"],
        httpStatus={"type": "integer", "minimum": 200, "maximum": 599},
        percent=_PERCENT,
    ),
)

_TRAFFIC_POLICY = _nonempty(
    loadBalancer=_closed(
        ["simple"],
        simple={"type": "string", "enum": ["ROUND_ROBIN", "LEAST_CONN", "RANDOM", "PASSTHROUGH"]},
    ),
    connectionPool=_nonempty(
        tcp=_nonempty(maxConnections=_COUNT, connectTimeout=_DURATION),
        http=_nonempty(
            http1MaxPendingRequests=_COUNT,
            http2MaxRequests=_COUNT,
            maxRequestsPerConnection=_COUNT,
            maxRetries=_COUNT,
        ),
    ),
)

TRAFFIC_POLICY_SCHEMA: JsonSchema = _closed(
    ["name", "host", "subsets"],
    name=DNS_LABEL_SCHEMA,
    host=DNS_SUBDOMAIN_SCHEMA,
    namespace=DNS_LABEL_SCHEMA,
    gateways={
        "type": "array",
        "items": {
            "type": "string",
            "pattern": r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?/)?[a-z0-9]([-a-z0-9.]*[a-z0-9])?$",
        },
    },
    subsets={"type": "array", "minItems": 1, "items": _SUBSET},
    mirror=_closed(["subset"], subset=DNS_LABEL_SCHEMA),
    fault=_FAULT,
    retries=_closed(
        ["attempts"],
        attempts={"type": "integer", "minimum": 0, "maximum": 2147483647},
        perTryTimeout=_DURATION,
        retryOn={"type": "string", "pattern": r"^[a-z0-9-]+(,[a-z0-9-]+)*$"},
    ),
    timeout=_DURATION,
    trafficPolicy=_TRAFFIC_POLICY,
)
"""One entry of ``trafficPolicies``."""

_DOC = (
    "Traffic policies, one VirtualService + DestinationRule pair per entry (both named "
    "<name>, in <namespace>, default: the release namespace): {name, host, namespace?, "
    "gateways? (default: sidecars only), subsets: [{name, labels, weight?}] (weights 0-100 "
    "adding up to 100; a lone subset may omit it), mirror?: {subset} (Istio 1.0/1.1 mirror "
    "all requests), fault?: {delay?: {fixedDelay, percent? (100)}, abort?: {httpStatus, "
    "percent? (100)}}, retries?: {attempts, perTryTimeout?, retryOn? (Istio 1.1+)}, "
    "timeout?, trafficPolicy?: {loadBalancer?: {simple}, connectionPool?: {tcp?: "
    "{maxConnections?, connectTimeout?}, http?: {http1MaxPendingRequests?, "
    "http2MaxRequests?, maxRequestsPerConnection?, maxRetries?}}}}. Durations: e.g. 500ms, "
    "2s, 1.5m. Lists are never merged by Helm: a list given with -f or --set replaces this "
    "one (a profile's entries included) as a whole, so --set trafficPolicies[0].timeout=5s "
    "alone yields a one-entry list holding only a timeout; give the complete list in a "
    "values file (-f)."
)

TRAFFIC_POLICIES = Component(
    name="trafficPolicies",
    chart="istio",
    summary=(
        "Traffic policies: VirtualService + DestinationRule pairs for canaries, mirroring, "
        "fault injection, retries and timeouts"
    ),
    defaults=[],
    docs={"": _DOC},
    schema={
        "": {"type": "array", "items": TRAFFIC_POLICY_SCHEMA},
        "[]": TRAFFIC_POLICY_SCHEMA,
    },
    merge_keys={"": "name"},
)
"""The ``trafficPolicies`` list component (empty by default: renders nothing)."""
