"""The edge profile: the gateways chart alone, installed apart from the control plane."""

from meshcharts import Profile

PROFILE = Profile(
    name="edge",
    description="Gateways alone (the gateways chart), beside a control plane installed apart",
    charts={"gateways": ("gateways",)},
)
