"""The company's edge clusters: the built-in gateways chart alone, with an extra gateway."""

from meshcharts import Profile

PROFILE = Profile(
    name="company-edge",
    description="Edge clusters: the gateways chart with the company's partner gateway",
    extends="edge",
    values={
        "gateways": {
            "partner-gateway": {
                "enabled": True,
                "labels": {"app": "partner-gateway", "istio": "partner-gateway"},
                "ports": [{"name": "https", "port": 443, "targetPort": 443}],
            }
        }
    },
)
