"""The minimal profile: Pilot alone, for traffic management without the rest of the mesh."""

from meshcharts import Profile

PROFILE = Profile(
    name="minimal",
    description="Pilot only (traffic management): no Citadel, no injector, no Pilot sidecar",
    extends="default",
    charts={"istio": ("pilot",)},
    values={"pilot": {"sidecar": False}},
)
