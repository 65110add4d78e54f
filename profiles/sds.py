"""The sds profile: workload certificates over SDS from the node agent, strict mTLS."""

from meshcharts import Profile

PROFILE = Profile(
    name="sds",
    description="Default with SDS: node agent certificates, strict mTLS, secured control plane",
    extends="default",
    charts={
        "istio": (
            "pilot",
            "security",
            "nodeagent",
            "sidecarInjectorWebhook",
            "galley",
            "mixer",
            "gateways",
            "trafficPolicies",
            "prometheus",
        ),
    },
    values={
        "global": {
            "controlPlaneSecurityEnabled": True,
            "mtls": {"mode": "strict"},
            "sds": {"enabled": True, "udsPath": "unix:/var/run/sds/uds_path", "useNormalJwt": True},
        },
        "nodeagent": {"enabled": True},
    },
)
