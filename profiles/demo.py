"""The demo profile: every feature on with small requests, for trying Istio out.

As in Istio 1.1's values-istio-demo.yaml, servicegraph (superseded by Kiali) is compiled in
but off: ``--set servicegraph.enabled=true`` still turns it on.
"""

from meshcharts import Profile

_SMALL = {
    "requests": {"cpu": "10m", "memory": "40Mi"},
    "limits": {"cpu": "500m", "memory": "256Mi"},
}

PROFILE = Profile(
    name="demo",
    description=(
        "Try-out: Grafana, tracing, Kiali, egress gateway, access logs, 100% tracing, "
        "small requests"
    ),
    extends="default",
    charts={
        "istio": (
            "pilot",
            "security",
            "sidecarInjectorWebhook",
            "galley",
            "mixer",
            "gateways",
            "trafficPolicies",
            "prometheus",
            "grafana",
            "tracing",
            "kiali",
            "servicegraph",
        ),
    },
    values={
        "global": {
            "disablePolicyChecks": False,
            "proxy": {"accessLogFile": "/dev/stdout", "resources": _SMALL},
            "mtls": {"mode": "permissive"},
        },
        "pilot": {"traceSampling": 100.0, "resources": _SMALL},
        "mixer": {
            "policy": {"resources": _SMALL},
            "telemetry": {"resources": _SMALL},
            "adapters": {"stdio": {"enabled": True}},
        },
        "gateways": {
            "istio-ingressgateway": {"resources": _SMALL},
            "istio-egressgateway": {"enabled": True, "resources": _SMALL},
        },
        "grafana": {"enabled": True},
        "tracing": {"enabled": True},
        "kiali": {"enabled": True, "createDemoSecret": True},
    },
)
