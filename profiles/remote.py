"""The remote profile: a secondary cluster whose proxies use the primary's control plane."""

from meshcharts import Profile

PROFILE = Profile(
    name="remote",
    description="Secondary cluster: Citadel and the injector, using a primary cluster's Pilot",
    extends="default",
    charts={"istio": ("security", "sidecarInjectorWebhook")},
    values={
        "global": {"istioRemote": True, "enableTracing": False},
        # The primary cluster owns the MeshPolicy.
        "security": {"createMeshPolicy": False},
    },
    required={"global.remotePilotAddress": "10.0.0.10"},
)
