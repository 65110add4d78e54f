"""The company profile: the default control plane plus the company's extAuthz component."""

from meshcharts import Profile

PROFILE = Profile(
    name="company",
    description="Default control plane with external authorization on selected workloads",
    extends="default",
    # A profile lists every component of a chart it names: the default ones and extAuthz.
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
            "extAuthz",
        ),
        "company-dashboards": ("dashboards",),
    },
    values={"extAuthz": {"failOpen": False, "workloadSelector": {"authz": "external"}}},
)
