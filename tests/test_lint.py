from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from meshcharts import SetArg, build_packages, load_profiles, resolve
from meshcharts.chart.assemble import chart_values, render_tree
from meshcharts.checks import lint as lint_module
from meshcharts.checks.lint import drain_blockers, format_finding, lint
from meshcharts.checks.render import render_objects
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


# --- PDB-BLOCKS-DRAIN --------------------------------------------------------------------------


def _workload(name: str, replicas: int | None = 1, kind: str = "Deployment") -> dict[str, Any]:
    spec: dict[str, Any] = {"template": {"metadata": {"labels": {"app": name, "tier": "web"}}}}
    if replicas is not None:
        spec["replicas"] = replicas
    return {"kind": kind, "metadata": {"name": name}, "spec": spec}


def _budget(selector: dict[str, Any], **spec: Any) -> dict[str, Any]:
    return {
        "kind": "PodDisruptionBudget",
        "metadata": {"name": "budget", "namespace": "ns"},
        "spec": {"selector": selector, **spec},
    }


def _hpa(name: str, minimum: int) -> dict[str, Any]:
    return {
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": name},
        "spec": {"scaleTargetRef": {"kind": "Deployment", "name": name}, "minReplicas": minimum},
    }


WEB = {"matchLabels": {"app": "web"}}


@pytest.mark.parametrize(
    ("objects", "blocks"),
    [
        ([_workload("web"), _budget(WEB, minAvailable=1)], True),
        ([_workload("web", 2), _budget(WEB, minAvailable=1)], False),
        ([_workload("web", 2), _budget(WEB, minAvailable=2)], True),
        ([_workload("web", 3), _budget(WEB, minAvailable="100%")], True),
        ([_workload("web", 3), _budget(WEB, minAvailable="50%")], False),
        ([_workload("web", 1), _budget(WEB, minAvailable="50%")], True),
        ([_workload("web", 3), _budget(WEB, maxUnavailable=0)], True),
        ([_workload("web", 3), _budget(WEB, maxUnavailable="0%")], True),
        ([_workload("web", 1), _budget(WEB, maxUnavailable=1)], False),
        # An autoscaled Deployment (no replicas) runs minReplicas at the least.
        ([_workload("web", None), _hpa("web", 1), _budget(WEB, minAvailable=1)], True),
        ([_workload("web", None), _hpa("web", 2), _budget(WEB, minAvailable=1)], False),
        # Two Deployments under one budget: their pods add up.
        ([_workload("web"), _workload("api"), _budget({}, minAvailable=1)], False),
        (
            [
                _workload("web"),
                _workload("api"),
                _budget(
                    {"matchExpressions": [{"key": "app", "operator": "In", "values": ["web"]}]},
                    minAvailable=1,
                ),
            ],
            True,
        ),
        (
            [
                _workload("web"),
                _budget(
                    {"matchExpressions": [{"key": "app", "operator": "NotIn", "values": ["web"]}]},
                    minAvailable=1,
                ),
            ],
            False,
        ),
        ([_workload("web", kind="StatefulSet"), _budget(WEB, minAvailable=1)], True),
        # Drains skip DaemonSet pods; budgets over pods of no rendered workload are left alone.
        ([_workload("web", kind="DaemonSet"), _budget(WEB, minAvailable=1)], False),
        ([_workload("api"), _budget(WEB, minAvailable=1)], False),
        ([_workload("web", 0), _budget(WEB, minAvailable=1)], False),
    ],
)
def test_drain_blockers(objects: list[dict[str, Any]], blocks: bool) -> None:
    found = list(drain_blockers(objects, namespace="ns"))
    assert len(found) == int(blocks), [format_finding(f) for f in found]
    for finding in found:
        assert (finding.rule, finding.severity) == ("PDB-BLOCKS-DRAIN", "error")
        assert finding.message.startswith("PodDisruptionBudget ns/budget has ")


def test_a_budget_in_another_namespace_selects_nothing_here() -> None:
    elsewhere = {**_workload("web"), "metadata": {"name": "web", "namespace": "other"}}
    assert list(drain_blockers([elsewhere, _budget(WEB, minAvailable=1)], namespace="ns")) == []


@pytest.mark.parametrize(
    "sets",
    [
        ["pilot.autoscaleEnabled=false", "pilot.replicaCount=1"],
        ["pilot.autoscaleMin=1", "galley.replicaCount=1", "mixer.policy.autoscaleMin=1"],
        ["pilot.autoscaleMin=2", "gateways.istio-ingressgateway.autoscaleMin=2"],
        [
            "security.replicaCount=2",
            "sidecarInjectorWebhook.replicaCount=2",
            "galley.replicaCount=3",
        ],
    ],
)
def test_builtin_budgets_never_block_a_drain(sets: list[str]) -> None:
    # Lint renders no built-in chart for this rule (it is drain-safe by construction), so
    # the rule is run here over the rendered chart itself.
    resolution = resolve(load_profiles(), "default", sets=[SetArg(s) for s in sets])
    values = chart_values(
        resolution.chart("istio"), resolution.charts["istio"], resolution.values.values
    )
    tree = render_tree(resolution.chart("istio"), resolution.charts["istio"])
    docs = render_objects(tree, release="istio", namespace="istio-system", values=values)
    budgets = [d for d in docs if d["kind"] == "PodDisruptionBudget"]
    assert bool(budgets) == any(s.endswith(("=2", "=3")) for s in sets)
    assert list(drain_blockers(docs, namespace="istio-system")) == []
    assert findings("default", *sets) == []


def test_lint_renders_no_chart_of_a_profile_without_user_parts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refuse(*_: Any, **__: Any) -> Any:
        raise AssertionError("rendered")

    monkeypatch.setattr(lint_module, "render_objects", refuse)
    assert lint(resolve(load_profiles(), "demo")) == []


PDB_TEMPLATE = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: {{ .Values.web.replicas }}
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: nginx
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: web
spec:
  minAvailable: 1
  selector:
    matchLabels: {app: web}
"""


def _user_parts(folder: Path) -> tuple[Path, Path]:
    components = folder / "components"
    (components / "templates" / "web").mkdir(parents=True)
    (components / "web.py").write_text(
        "from meshcharts import Component\n"
        "COMPONENT = Component(name='web', chart='istio', summary='A web app',\n"
        "    defaults={'replicas': 1}, docs={'replicas': 'Replicas.'})\n"
    )
    (components / "templates" / "web" / "web.yaml").write_text(PDB_TEMPLATE)
    profiles = folder / "profiles"
    profiles.mkdir()
    (profiles / "mine.py").write_text(
        "from meshcharts import Profile\n"
        "PROFILE = Profile(name='mine', description='Mine', charts={'istio': ('pilot', 'web')})\n"
    )
    return profiles, components


def test_a_users_component_with_a_blocking_budget_is_an_error(tmp_path: Path) -> None:
    profiles, components = _user_parts(tmp_path)
    available = load_profiles([profiles], [components])
    found = lint(resolve(available, "mine"))
    (finding,) = [f for f in found if f.rule == "PDB-BLOCKS-DRAIN"]
    assert format_finding(finding).startswith(
        "PDB-BLOCKS-DRAIN error: PodDisruptionBudget istio-system/web (chart istio) has "
        "minAvailable 1 for 1 pod (Deployment web): it allows no eviction"
    )
    assert lint(resolve(available, "mine", sets=[SetArg("web.replicas=2")])) == []
    with pytest.raises(LintError, match="lint errors PDB-BLOCKS-DRAIN"):
        build_packages(available, ["mine"], version="1.0.6")
    allowed = build_packages(
        available, ["mine"], version="1.0.6", allow=frozenset({"PDB-BLOCKS-DRAIN"})
    )
    assert {p.tree.name for p in allowed} == {"istio"}
