"""Mixer: policy (``istio-policy``) and telemetry (``istio-telemetry``).

Mixer runs twice: ``istio-policy`` answers the proxies' Check and Quota calls,
``istio-telemetry`` receives their Report calls and feeds the telemetry backends. Each pod
runs ``mixs server`` on a Unix socket behind an ``istio-proxy`` sidecar that terminates
9091 (plain gRPC) and 15004 (mutual TLS), as in Istio 1.1's ``charts/mixer``. Defaults
follow Istio 1.1's ``charts/mixer/values.yaml`` (with the umbrella chart's
``policy.enabled: true``), plus requests and limits for every container.

Mixer's configuration is rendered as Istio custom resources: the ``istioproxy`` and
``kubernetes`` attribute manifests, then per adapter a ``handler`` (``compiledAdapter``),
its ``instance`` objects (``compiledTemplate``) and the ``rule`` objects that connect them,
all of the generic ``config.istio.io/v1alpha2`` kinds of Istio 1.2+. Apache SkyWalking is
an out-of-process adapter (the OAP server's Istio telemetry receiver): an ``adapter``
object, a ``handler`` with ``connection.address`` and a ``metric`` instance of the
``template`` resource of that name, which Istio shipped separately.

Rate limits (``policy.rateLimits``) become one ``memquota`` or ``redisquota`` handler
holding every limit, and per limit a ``quota`` instance, a rule matching the destination
service, and a ``QuotaSpec`` plus ``QuotaSpecBinding`` that make the proxies of that
service ask for the quota.

Mesh-wide switches stay in ``global``, their single source of truth: proxies only call
``istio-policy`` when ``global.disablePolicyChecks`` is false, and
``global.policyCheckFailOpen`` decides whether they let traffic through when it cannot
be reached. Both are written into the mesh config; nothing under ``mixer`` mirrors them.
"""

from __future__ import annotations

from typing import Any

from meshcharts.catalog.component import Component, JsonSchema
from meshcharts.catalog.pilot import (
    DURATION_SCHEMA,
    ENV_SCHEMA,
    IMAGE_SCHEMA,
    RESOURCES_SCHEMA,
    STRING_MAP_SCHEMA,
    TOLERATIONS_SCHEMA,
    resource_docs,
)

__all__ = ["MIXER", "RATE_LIMIT_SCHEMA", "RESERVED_NAMES"]

_DNS_LABEL: JsonSchema = {
    "type": "string",
    "minLength": 1,
    "maxLength": 50,
    "pattern": r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$",
}
_HOST: JsonSchema = {
    "type": "string",
    "minLength": 1,
    "maxLength": 253,
    "pattern": r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$",
}
_HOST_PORT: JsonSchema = {
    "type": "string",
    "pattern": r"^([A-Za-z0-9]([-A-Za-z0-9.]*[A-Za-z0-9])?|\[[0-9a-fA-F:.]+\]):[0-9]{1,5}$",
}
_OPTIONAL_HOST_PORT: JsonSchema = {"anyOf": [{"const": ""}, _HOST_PORT]}
_OPTIONAL_DURATION: JsonSchema = {"anyOf": [{"const": ""}, DURATION_SCHEMA]}
_AMOUNT: JsonSchema = {"type": "integer", "minimum": 0}
_DIMENSION_VALUE: JsonSchema = {"type": "string", "minLength": 1, "pattern": r"^[^\n\r]*$"}

RESERVED_NAMES: tuple[str, ...] = (
    # instances
    "attributes",
    "requestcount",
    "requestduration",
    "requestsize",
    "responsesize",
    "tcpbytesent",
    "tcpbytereceived",
    "tcpconnectionsopened",
    "tcpconnectionsclosed",
    "accesslog",
    "tcpaccesslog",
    "stackdriverrequestcount",
    "stackdriverrequestduration",
    "stackdriverrequestsize",
    "stackdriverresponsesize",
    "stackdriverlog",
    "stackdriverspan",
    "swmetric",
    # rules
    "kubeattrgenrulerule",
    "tcpkubeattrgenrulerule",
    "promhttp",
    "promtcp",
    "promtcpconnectionopen",
    "promtcpconnectionclosed",
    "stdio",
    "stdiotcp",
    "stackdriver",
    "stackdriver-tracing-rule",
    "dogstatsdhttp",
    "dogstatsdtcp",
    "dogstatsdtcpconnectionopen",
    "dogstatsdtcpconnectionclosed",
    "swmetric-rule",
)
"""Instance and rule names the chart's own Mixer configuration uses.

A rate limit's instance and rule are named after it, so these names are refused.
"""

RATE_LIMIT_SCHEMA: JsonSchema = {
    "type": "object",
    "properties": {
        "name": {
            **_DNS_LABEL,
            "not": {"enum": list(RESERVED_NAMES)},
            "description": (
                "Name of the quota instance, rule, QuotaSpec and QuotaSpecBinding of this "
                "limit (not a name the chart's own Mixer configuration uses)."
            ),
        },
        "service": {
            **_HOST,
            "description": "FQDN of the limited service, e.g. reviews.default.svc.cluster.local.",
        },
        "maxAmount": {**_AMOUNT, "description": "Requests allowed per validDuration."},
        "validDuration": {
            **DURATION_SCHEMA,
            "description": "Window of maxAmount, e.g. 1s (Go duration).",
        },
        "overrides": {
            "type": "array",
            "description": "Different limits for some source/destination dimension values.",
            "items": {
                "type": "object",
                "properties": {
                    "dimensions": {
                        "type": "object",
                        "description": (
                            "Dimension values the override applies to: source (the client "
                            "address from X-Forwarded-For), destination (app label or service name)."
                        ),
                        "properties": {
                            "source": _DIMENSION_VALUE,
                            "destination": _DIMENSION_VALUE,
                        },
                        "minProperties": 1,
                        "additionalProperties": False,
                    },
                    "maxAmount": _AMOUNT,
                    "validDuration": {
                        **DURATION_SCHEMA,
                        "description": "Window of this override (memquota only).",
                    },
                },
                "required": ["dimensions", "maxAmount"],
                "additionalProperties": False,
            },
        },
    },
    "required": ["name", "service", "maxAmount", "validDuration"],
    "additionalProperties": False,
}
"""One ``mixer.policy.rateLimits`` entry."""

_RESOURCES_POLICY = {
    "requests": {"cpu": "100m", "memory": "128Mi"},
    "limits": {"cpu": "4800m", "memory": "4G"},
}
_RESOURCES_TELEMETRY = {
    "requests": {"cpu": "1000m", "memory": "1G"},
    "limits": {"cpu": "4800m", "memory": "4G"},
}

_DEFAULTS: dict[str, Any] = {
    "enabled": True,
    "image": "mixer",
    "env": {"GODEBUG": "gctrace=1", "GOMAXPROCS": "6"},
    "nodeSelector": {},
    "tolerations": [],
    "podAnnotations": {},
    "policy": {
        "enabled": True,
        "replicaCount": 1,
        "autoscaleEnabled": True,
        "autoscaleMin": 1,
        "autoscaleMax": 5,
        "cpu": {"targetAverageUtilization": 80},
        "resources": _RESOURCES_POLICY,
        "checkCacheEntries": 1500000,
        "quotaBackend": "memquota",
        "redisQuota": {
            "redisServerUrl": "",
            "connectionPoolSize": 10,
            "rateLimitAlgorithm": "FIXED_WINDOW",
            "bucketDuration": "",
        },
        "rateLimits": [],
    },
    "telemetry": {
        "enabled": True,
        "replicaCount": 1,
        "autoscaleEnabled": True,
        "autoscaleMin": 1,
        "autoscaleMax": 5,
        "cpu": {"targetAverageUtilization": 80},
        "sessionAffinityEnabled": False,
        "loadshedding": {"mode": "enforce", "latencyThreshold": "100ms"},
        "resources": _RESOURCES_TELEMETRY,
    },
    "adapters": {
        "useAdapterCRDs": False,
        "kubernetesenv": {"enabled": True},
        "prometheus": {"enabled": True, "metricsExpiryDuration": "10m"},
        "stdio": {"enabled": False, "outputAsJson": True},
        "stackdriver": {
            "enabled": False,
            "projectId": "",
            "pushInterval": "1m",
            "auth": {"appCredentials": True, "serviceAccountPath": ""},
            "metrics": {"enabled": True},
            "logging": {"enabled": True},
            "tracer": {"enabled": False, "sampleProbability": 1.0},
        },
        "datadog": {
            "enabled": False,
            "address": "localhost:8125",
            "prefix": "istio.",
            "bufferLength": 0,
            "globalTags": {},
            "sampleRate": 1.0,
        },
        "skywalking": {
            "enabled": False,
            "address": "oap.skywalking.svc.cluster.local:11800",
            "metricTemplate": "metric",
        },
    },
}

_DOCS: dict[str, str] = {
    "enabled": (
        "Deploy Mixer: istio-policy and istio-telemetry (each with its own enabled switch), "
        "their RBAC and the Mixer configuration resources."
    ),
    "image": "Mixer image: a name under global.hub tagged global.tag, or a full reference containing '/'. The generic handler/instance configuration needs Mixer 1.2+.",
    "env": "Environment variables of the mixer containers (name -> string value).",
    "env.GODEBUG": "Go runtime debug settings.",
    "env.GOMAXPROCS": "Go scheduler threads; Istio suggests ceil(CPU limit + 1).",
    "nodeSelector": "Node labels for Mixer pods (empty: global.defaultNodeSelector).",
    "tolerations": "Tolerations of Mixer pods.",
    "podAnnotations": "Extra annotations of Mixer pods.",
    # --- policy
    "policy.enabled": (
        "Deploy istio-policy (Check and Quota). Proxies only call it when "
        "global.disablePolicyChecks is false; global.policyCheckFailOpen decides what they "
        "do when it is unreachable (both live in the mesh config, not here)."
    ),
    "policy.replicaCount": "istio-policy replicas when autoscaling is off.",
    "policy.autoscaleEnabled": "Scale istio-policy with a HorizontalPodAutoscaler on CPU.",
    "policy.autoscaleMin": "Minimum istio-policy replicas when autoscaling.",
    "policy.autoscaleMax": "Maximum istio-policy replicas when autoscaling.",
    "policy.cpu.targetAverageUtilization": "Average CPU utilisation (percent of the request) the istio-policy HPA aims for.",
    **resource_docs("policy.resources", "the istio-policy mixer container"),
    "policy.checkCacheEntries": "Entries of istio-policy's check result cache (mixs --numCheckCacheEntries; 0 disables it).",
    "policy.quotaBackend": "Where rate-limit counters live: memquota (in each istio-policy replica) or redis (shared, see redisQuota).",
    "policy.redisQuota.redisServerUrl": "host:port of the Redis server used when quotaBackend is redis.",
    "policy.redisQuota.connectionPoolSize": "Redis connections per istio-policy replica.",
    "policy.redisQuota.rateLimitAlgorithm": "FIXED_WINDOW or ROLLING_WINDOW (redis backend).",
    "policy.redisQuota.bucketDuration": (
        "Bucket of ROLLING_WINDOW, shorter than every validDuration (Go duration; empty: "
        "required only for ROLLING_WINDOW)."
    ),
    "policy.rateLimits": (
        "Rate limits: entries {name, service, maxAmount, validDuration, overrides: "
        "[{dimensions: {source, destination}, maxAmount, validDuration}]}. Needs "
        "global.disablePolicyChecks=false."
    ),
    # --- telemetry
    "telemetry.enabled": "Deploy istio-telemetry (Report) and the telemetry adapters' configuration.",
    "telemetry.replicaCount": "istio-telemetry replicas when autoscaling is off.",
    "telemetry.autoscaleEnabled": "Scale istio-telemetry with a HorizontalPodAutoscaler on CPU.",
    "telemetry.autoscaleMin": "Minimum istio-telemetry replicas when autoscaling.",
    "telemetry.autoscaleMax": "Maximum istio-telemetry replicas when autoscaling.",
    "telemetry.cpu.targetAverageUtilization": "Average CPU utilisation (percent of the request) the istio-telemetry HPA aims for.",
    "telemetry.sessionAffinityEnabled": "ClientIP session affinity on the istio-telemetry Service.",
    "telemetry.loadshedding.mode": "Load shedding of Report calls: disabled, logonly or enforce.",
    "telemetry.loadshedding.latencyThreshold": "Average Report latency above which istio-telemetry sheds load (Go duration).",
    **resource_docs("telemetry.resources", "the istio-telemetry mixer container"),
    # --- adapters
    "adapters.useAdapterCRDs": (
        "Also watch the legacy per-adapter and per-template kinds (prometheus, metric, ...); "
        "false passes --useAdapterCRDs=false --useTemplateCRDs=false (Mixer 1.2+)."
    ),
    "adapters.kubernetesenv.enabled": "Derive source/destination pod, workload and label attributes from Kubernetes (kubernetesenv adapter).",
    "adapters.prometheus.enabled": "Export the standard Istio metrics on istio-telemetry:42422 (prometheus adapter).",
    "adapters.prometheus.metricsExpiryDuration": "Drop series not updated for this long (Go duration; empty: never).",
    "adapters.stdio.enabled": "Write access logs of HTTP and TCP traffic to istio-telemetry's stdout (debugging only).",
    "adapters.stdio.outputAsJson": "Log as JSON instead of console text.",
    "adapters.stackdriver.enabled": "Send metrics, logs and traces to Google Stackdriver (stackdriver adapter).",
    "adapters.stackdriver.projectId": "GCP project receiving the data (required when enabled).",
    "adapters.stackdriver.pushInterval": "How often metrics are pushed (Go duration).",
    "adapters.stackdriver.auth.appCredentials": "Authenticate with Google Application Default Credentials.",
    "adapters.stackdriver.auth.serviceAccountPath": (
        "Path of a service-account JSON key instead, e.g. from the optional Secret "
        "telemetry-adapter-secret mounted at /var/run/secrets/istio.io/telemetry/adapter."
    ),
    "adapters.stackdriver.metrics.enabled": "Send request count, duration and sizes as Stackdriver metrics.",
    "adapters.stackdriver.logging.enabled": "Send access logs to Stackdriver Logging.",
    "adapters.stackdriver.tracer.enabled": "Send request spans to Stackdriver Trace.",
    "adapters.stackdriver.tracer.sampleProbability": "Fraction of spans sent (0 to 1).",
    "adapters.datadog.enabled": "Send the standard metrics to a DogStatsD agent (dogstatsd adapter).",
    "adapters.datadog.address": "host:port of the DogStatsD agent.",
    "adapters.datadog.prefix": "Prefix of every metric name.",
    "adapters.datadog.bufferLength": "Metrics buffered before a send (0: unbuffered).",
    "adapters.datadog.globalTags": "Tags added to every metric (name -> value).",
    "adapters.datadog.sampleRate": "Sample rate of the metrics (0 to 1).",
    "adapters.skywalking.enabled": (
        "Send request metrics to an Apache SkyWalking OAP server (out-of-process adapter; "
        "the metric template resource must be installed)."
    ),
    "adapters.skywalking.address": "host:port of the OAP server's gRPC receiver.",
    "adapters.skywalking.metricTemplate": "Name of the metric template resource in the release namespace.",
}

_SCHEMA: dict[str, JsonSchema] = {
    "image": IMAGE_SCHEMA,
    "env": ENV_SCHEMA,
    "nodeSelector": STRING_MAP_SCHEMA,
    "tolerations": TOLERATIONS_SCHEMA,
    "podAnnotations": STRING_MAP_SCHEMA,
    "policy.replicaCount": {"type": "integer", "minimum": 0},
    "policy.autoscaleMin": {"type": "integer", "minimum": 1},
    "policy.autoscaleMax": {"type": "integer", "minimum": 1},
    "policy.cpu.targetAverageUtilization": {"type": "integer", "minimum": 1, "maximum": 100},
    "policy.resources": RESOURCES_SCHEMA,
    "policy.checkCacheEntries": {"type": "integer", "minimum": 0, "maximum": 2147483647},
    "policy.quotaBackend": {"type": "string", "enum": ["memquota", "redis"]},
    "policy.redisQuota.redisServerUrl": _OPTIONAL_HOST_PORT,
    "policy.redisQuota.connectionPoolSize": {"type": "integer", "minimum": 1},
    "policy.redisQuota.rateLimitAlgorithm": {
        "type": "string",
        "enum": ["FIXED_WINDOW", "ROLLING_WINDOW"],
    },
    "policy.redisQuota.bucketDuration": _OPTIONAL_DURATION,
    "policy.rateLimits": {"type": "array", "items": RATE_LIMIT_SCHEMA},
    "telemetry.replicaCount": {"type": "integer", "minimum": 0},
    "telemetry.autoscaleMin": {"type": "integer", "minimum": 1},
    "telemetry.autoscaleMax": {"type": "integer", "minimum": 1},
    "telemetry.cpu.targetAverageUtilization": {"type": "integer", "minimum": 1, "maximum": 100},
    "telemetry.loadshedding.mode": {"type": "string", "enum": ["disabled", "logonly", "enforce"]},
    "telemetry.loadshedding.latencyThreshold": DURATION_SCHEMA,
    "telemetry.resources": RESOURCES_SCHEMA,
    "adapters.prometheus.metricsExpiryDuration": _OPTIONAL_DURATION,
    "adapters.stackdriver.projectId": {
        "anyOf": [{"const": ""}, {"type": "string", "pattern": r"^[a-z][-a-z0-9]{4,28}[a-z0-9]$"}],
    },
    "adapters.stackdriver.pushInterval": DURATION_SCHEMA,
    "adapters.stackdriver.auth.serviceAccountPath": {
        "type": "string",
        "pattern": r"^(/[^\n\r]*)?$",
    },
    "adapters.stackdriver.tracer.sampleProbability": {"type": "number", "minimum": 0, "maximum": 1},
    "adapters.datadog.address": _HOST_PORT,
    "adapters.datadog.prefix": {"type": "string", "pattern": r"^[A-Za-z0-9_.-]*$"},
    "adapters.datadog.bufferLength": {"type": "integer", "minimum": 0},
    "adapters.datadog.globalTags": STRING_MAP_SCHEMA,
    "adapters.datadog.sampleRate": {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
    "adapters.skywalking.address": _HOST_PORT,
    "adapters.skywalking.metricTemplate": _DNS_LABEL,
}

MIXER = Component(
    name="mixer",
    chart="istio",
    summary="Mixer (istio-policy, istio-telemetry): policy checks, quotas and telemetry adapters",
    defaults=_DEFAULTS,
    docs=_DOCS,
    schema=_SCHEMA,
    merge_keys={"policy.rateLimits": "name"},
)
"""The Mixer component of the ``istio`` chart."""
