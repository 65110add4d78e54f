from __future__ import annotations

import pytest
from typer.testing import CliRunner

from meshcharts import SetArg, build_packages, load_profiles, resolve
from meshcharts.checks.lint import format_finding, lint
from meshcharts.cli import app
from meshcharts.errors import LintError

STRICT = "global.mtls.mode=strict"
POLICY = (
    "trafficPolicies[0].name=reviews,trafficPolicies[0].host=reviews,"
    "trafficPolicies[0].subsets[0].name=v1,trafficPolicies[0].subsets[0].labels.version=v1"
)


def findings(profile: str, *sets: str) -> list[str]:
    resolution = resolve(load_profiles(), profile, sets=[SetArg(s) for s in sets])
    return [format_finding(f) for f in lint(resolution)]


@pytest.mark.parametrize("profile", sorted(load_profiles().builtin))
def test_builtin_profiles_are_clean(profile: str) -> None:
    assert findings(profile) == []


@pytest.mark.parametrize(
    ("sets", "expected"),
    [
        (
            [STRICT, "mesh.namespaces[0].name=legacy,mesh.namespaces[0].injection=disabled"],
            "MTLS-UNINJECTED error: global.mtls.mode is strict but namespace 'legacy'",
        ),
        (
            [STRICT, "gateways.enabled=false"],
            "MTLS-GATEWAYS error: global.mtls.mode is strict while the gateways are disabled",
        ),
        (
            [STRICT, "gateways.istio-ingressgateway.tag=0.8.0"],
            "MTLS-GATEWAYS error: global.mtls.mode is strict while gateway istio-ingressgateway runs proxy 0.8.0",
        ),
        (
            ["global.proxy.resources.limits=null"],
            "RESOURCES error: global.proxy.resources has no limits",
        ),
        (
            ["pilot.resources=null"],
            "RESOURCES error: pilot.resources has no requests and no limits",
        ),
        (
            ["pilot.traceSampling=0"],
            "TRACING-SAMPLING warning: global.enableTracing is on but pilot.traceSampling is 0",
        ),
        (
            ["mixer.telemetry.enabled=false"],
            "TELEMETRY-OFF warning: adapters kubernetesenv, prometheus are configured",
        ),
        (
            [POLICY],
            "TRAFFIC-RESILIENCE warning: traffic policy 'reviews' has no timeout and no retries",
        ),
    ],
    ids=[
        "uninjected",
        "gateways-off",
        "gateway-old-proxy",
        "proxy-limits",
        "component-resources",
        "sampling",
        "telemetry-off",
        "traffic",
    ],
)
def test_each_rule_fires_on_a_minimal_bad_input(sets: list[str], expected: str) -> None:
    found = findings("default", *sets)
    assert any(line.startswith(expected) for line in found), found
    assert all(line.endswith(")") and " (" in line for line in found)


def test_injected_namespaces_and_permissive_mode_are_fine() -> None:
    ns = "mesh.namespaces[0].name=shop,mesh.namespaces[0].injection=enabled,mesh.namespaces[1].name=new,mesh.namespaces[1].injection=canary"
    assert findings("default", STRICT, ns) == []
    assert (
        findings("default", "mesh.namespaces[0].name=legacy,mesh.namespaces[0].injection=disabled")
        == []
    )


def test_cli_exit_codes() -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["lint", "--profile", "default"]).exit_code == 0
    warning = runner.invoke(app, ["lint", "--profile", "default", "--set", "pilot.traceSampling=0"])
    assert (warning.exit_code, warning.stdout.count("\n")) == (0, 2)
    assert warning.stdout.splitlines()[-1] == "profile default: 0 errors, 1 warning"
    error = runner.invoke(
        app, ["lint", "--profile", "default", "--set", STRICT, "--set", "gateways.enabled=false"]
    )
    assert error.exit_code == 1
    assert error.stdout.startswith("MTLS-GATEWAYS error: ")


def test_build_refuses_lint_errors_unless_allowed() -> None:
    sets = [SetArg(STRICT), SetArg("gateways.enabled=false")]
    with pytest.raises(LintError, match="lint errors MTLS-GATEWAYS"):
        build_packages(load_profiles(), ["default"], version="1.0.6", sets=sets)
    packages = build_packages(
        load_profiles(), ["default"], version="1.0.6", sets=sets, allow=frozenset({"MTLS-GATEWAYS"})
    )
    assert {p.tree.name for p in packages} == {"istio", "istio-init"}
