"""The default profile: Istio 1.0's production control plane (istio-charts.md §3)."""

from meshcharts import Profile

PROFILE = Profile(
    name="default",
    description="Production: Pilot, Citadel, injector, Galley, Mixer, ingress gateway, Prometheus",
    charts={
        "istio-init": ("crds", "certmanager"),
        "istio": (
            "pilot",
            "security",
            "sidecarInjectorWebhook",
            "galley",
            "mixer",
            "gateways",
            "trafficPolicies",
            "prometheus",
        ),
    },
)
