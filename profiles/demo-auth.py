"""The demo-auth profile: demo with strict mutual TLS everywhere."""

from meshcharts import Profile

PROFILE = Profile(
    name="demo-auth",
    description="Demo with strict mesh-wide mTLS and mTLS to the control plane",
    extends="demo",
    values={"global": {"controlPlaneSecurityEnabled": True, "mtls": {"mode": "strict"}}},
)
