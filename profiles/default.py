"""The default profile: the production control plane of Istio 1.0."""

from meshcharts import Profile

PROFILE = Profile(
    name="default",
    description="Production control plane: Pilot, Citadel and the sidecar injector",
    charts={
        "istio-init": ("crds", "certmanager"),
        "istio": ("pilot", "security", "sidecarInjectorWebhook"),
    },
)
