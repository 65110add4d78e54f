from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from meshcharts.checks.plan import STEP_IDS, plan_json, plan_markdown, upgrade_plan
from meshcharts.cli import app
from meshcharts.errors import InvalidNameError, VersionError


@pytest.mark.parametrize(
    ("old", "new", "canary"),
    [
        ("1.0.5", "1.0.6", "1.0.6-canary"),
        ("1.0.6", "1.1.0", "1.1.0-canary"),
        ("1.1.0", "1.2.0-rc.1", "1.2.0-rc.1.canary"),
    ],
)
def test_plan_steps_in_order_with_versions(old: str, new: str, canary: str) -> None:
    plan = upgrade_plan("default", from_version=old, to_version=new)
    assert tuple(step.id for step in plan.steps) == STEP_IDS
    by_id = {step.id: step for step in plan.steps}
    assert all(step.commands and step.preconditions and step.checks for step in plan.steps)
    assert f"istio-init-{new}.tgz" in by_id["crds"].commands[0]
    assert by_id["crds"].commands[0].startswith("helm upgrade --install istio-init")
    assert f"istio-{canary}.tgz" in by_id["canary-control-plane"].commands[0]
    assert "--namespace istio-system-canary" in by_id["canary-control-plane"].commands[0]
    assert f"tag={new}" in by_id["gateways"].commands[0]
    assert any(
        "istio-injection- istio.io/rev=canary" in c for c in by_id["canary-sidecars"].commands
    )
    assert any("rollout restart" in c for c in by_id["canary-sidecars"].commands)
    enforce = by_id["enforce-policies"].commands
    assert [c.split("--set ")[1].split()[0] for c in enforce] == [
        "global.mtls.mode=permissive",
        "global.mtls.mode=strict",
        "security.rbac.mode=ON_WITH_INCLUSION",
    ]
    backups = " ".join(by_id["prepare"].commands)
    for kind in (
        "handlers",
        "rules",
        "policies.authentication.istio.io",
        "meshpolicies",
        "servicerolebindings",
    ):
        assert kind in backups
    validate = " ".join(by_id["validate"].commands + by_id["validate"].checks)
    for topic in ("istio_requests_total", "tracing", "retry", "timeout"):
        assert topic in validate
    retire = by_id["retire-old"].commands
    assert retire[-1] == "helm uninstall istio --namespace istio-system"
    assert "singletonOwner=false" in retire[1] and "singletonOwner=true" in retire[2]
    assert all(
        c.startswith(f"helm upgrade istio charts_out/default/istio-{old}.tgz") for c in enforce
    )


def test_plan_formats() -> None:
    plan = upgrade_plan("demo", from_version="1.0.6", to_version="1.1.0", revision="next")
    data = json.loads(plan_json(plan))
    assert [s["id"] for s in data["steps"]] == list(STEP_IDS)
    assert data["canary_namespace"] == "istio-system-next"
    text = plan_markdown(plan)
    positions = [text.index(f"`{step}`") for step in STEP_IDS]
    assert positions == sorted(positions)
    assert "```sh\nhelm upgrade --install istio-init charts_out/demo/istio-init-1.1.0.tgz" in text


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"from_version": "1.1.0", "to_version": "1.0.6"}, VersionError),
        ({"from_version": "1.0", "to_version": "1.1.0"}, VersionError),
        (
            {"from_version": "1.0.6", "to_version": "1.1.0", "revision": "Canary_1"},
            InvalidNameError,
        ),
    ],
)
def test_plan_rejects_bad_input(kwargs: dict[str, str], error: type[Exception]) -> None:
    with pytest.raises(error):
        upgrade_plan("default", **kwargs)


def test_plan_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("istio-init-1.1.0", "istio-1.0.6", "istio-1.1.0-canary"):
        package = tmp_path / "charts_out" / "default" / f"{name}.tgz"
        package.parent.mkdir(parents=True, exist_ok=True)
        package.write_bytes(b"")  # plan checks that they exist; it does not read them
    runner = CliRunner()
    result = runner.invoke(
        app,
        ["plan", "--profile", "default", "--from", "1.0.6", "--to", "1.1.0", "--format", "json"],
    )
    assert result.exit_code == 0, result.output
    assert [s["id"] for s in json.loads(result.stdout)["steps"]] == list(STEP_IDS)
    result = runner.invoke(app, ["plan", "--profile", "nope", "--from", "1.0.6", "--to", "1.1.0"])
    assert result.exit_code == 2
    assert "profile 'nope': unknown" in result.stderr
    result = runner.invoke(
        app, ["plan", "--profile", "default", "--from", "1.0.6", "--to", "1.1.0", "--format", "xml"]
    )
    assert result.exit_code == 2
