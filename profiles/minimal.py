"""The minimal profile: Pilot alone, for traffic management without the rest of the mesh."""

from meshcharts import Profile

PROFILE = Profile(
    name="minimal",
    description="Pilot only (traffic management): no Citadel, injector, gateways or telemetry",
    extends="default",
    charts={"istio": ("pilot", "trafficPolicies")},
    values={"pilot": {"sidecar": False}},
)
