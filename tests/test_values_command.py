"""``meshcharts values --env``: values files for ``helm install -f``, schema checks, provenance.

Every generated values file of the built-in environments is rendered with ``helm template -f``
by Helm 3 and Helm 4 against the packages ``build_packages`` makes, and a probe template
shows that the ``.Values`` Helm sees are exactly the environment's resolved values.
"""

from __future__ import annotations

import functools
import json
import textwrap
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml
from tools import run_helm, split_manifest
from typer.testing import CliRunner

from meshcharts import build_packages, load_profiles
from meshcharts.base.fsutil import write_files
from meshcharts.catalog.charts import builtin_catalog
from meshcharts.chart.valuesfile import chart_schema, helm_coalesce, minimal_overlay, values_file
from meshcharts.cli import app
from meshcharts.errors import ValuesError
from meshcharts.inputs.environments import (
    builtin_environments_dir,
    load_environment,
    load_environments,
)
from meshcharts.resolution.environments import profile_resolution, resolve_environment

PROFILES = load_profiles()
ENVS = builtin_environments_dir()
runner = CliRunner()


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def write_env(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.yaml"
    path.write_text(textwrap.dedent(text).lstrip())
    return path


def chart_part(values: Mapping[str, Any], chart: str, profile: str) -> dict[str, Any]:
    components = profile_resolution(PROFILES, profile).charts[chart]
    keys = set(builtin_catalog().charts[chart].defaults(components))
    return {k: v for k, v in values.items() if k in keys}


# --- the values file ----------------------------------------------------------------------------


def test_values_env_prints_only_what_differs() -> None:
    code, stdout, stderr = invoke("values", "--env", str(ENVS / "prod.yaml"))
    assert code == 0, stderr
    values = yaml.safe_load(stdout)
    assert list(values) == [
        "mesh",
        "global",
        "pilot",
        "security",
        "mixer",
        "gateways",
        "trafficPolicies",
    ]
    assert values["global"] == {"disablePolicyChecks": False, "mtls": {"mode": "strict"}}
    assert values["pilot"] == {"autoscaleMin": 3, "autoscaleMax": 10}
    assert values["security"] == {"replicaCount": 2}
    assert values["mesh"] == {
        "namespaces": [
            {"name": "shop", "injection": "enabled"},
            {"name": "payments", "injection": "enabled"},
        ]
    }
    # A keyed list is written whole (Helm replaces lists): the chart's ports plus prod's.
    ports = values["gateways"]["istio-ingressgateway"]["ports"]
    assert [p["name"] for p in ports][-2:] == ["status-port", "https-payments"]
    assert len(ports) == 10
    lines = stdout.splitlines()
    assert lines[0] == "# Values of environment prod for chart istio of profile default:"
    assert "  # from env prod (prod.yaml:10)" in lines
    assert lines[lines.index("  # from env prod (prod.yaml:10)") + 1] == "  autoscaleMin: 3"
    assert "    # items merged by name: env prod (prod.yaml:18)" in lines


@pytest.mark.parametrize("name", ["dev", "staging", "prod", "prod-eu"])
@pytest.mark.parametrize("full", [False, True], ids=["minimal", "full"])
def test_helm_coalescing_the_file_gives_the_resolved_values(name: str, full: bool) -> None:
    env = load_environment(ENVS / f"{name}.yaml")
    resolution = resolve_environment(PROFILES, env)
    packaged = profile_resolution(PROFILES, env.profile)
    file = values_file(resolution, packaged, environment=name, full=full)
    assert yaml.safe_load(file.text) == file.values
    packaged_values = chart_part(packaged.values.values, "istio", env.profile)
    resolved = chart_part(resolution.values.values, "istio", env.profile)
    assert helm_coalesce(yaml.safe_load(file.text), packaged_values) == resolved
    if full:
        assert set(file.values) == set(resolved)
    else:
        assert file.values == minimal_overlay(packaged_values, resolved)


def test_deleted_values_are_written_as_null(tmp_path: Path) -> None:
    env = write_env(
        tmp_path,
        "lean",
        """\
        name: lean
        profile: default
        values:
          pilot:
            env:
              GODEBUG: null
        """,
    )
    for extra in ([], ["--full"]):
        code, stdout, _ = invoke("values", "--env", str(env), *extra)
        assert code == 0
        values = yaml.safe_load(stdout)
        assert "GODEBUG" in values["pilot"]["env"] and values["pilot"]["env"]["GODEBUG"] is None
        assert "    # removed by env lean (lean.yaml:6)" in stdout.splitlines()
    code, stdout, _ = invoke("values", "--env", str(env))
    assert yaml.safe_load(stdout) == {"pilot": {"env": {"GODEBUG": None}}}


def test_full_writes_every_value(tmp_path: Path) -> None:
    code, stdout, _ = invoke("values", "--env", str(ENVS / "staging.yaml"), "--full")
    assert code == 0
    values = yaml.safe_load(stdout)
    resolved = resolve_environment(PROFILES, load_environment(ENVS / "staging.yaml"))
    assert values == chart_part(resolved.values.values, "istio", "default")
    assert stdout.splitlines()[1].startswith("# every value, checked against")


def test_other_chart_and_out_file(tmp_path: Path) -> None:
    env = write_env(
        tmp_path,
        "certs",
        "name: certs\nprofile: default\nvalues:\n  certmanager:\n    enabled: true\n",
    )
    out = tmp_path / "o" / "values.yaml"
    code, stdout, _ = invoke(
        "values", "--env", str(env), "--chart", "istio-init", "--out", str(out)
    )
    assert code == 0 and stdout == f"wrote {out}\n"
    assert yaml.safe_load(out.read_text()) == {"certmanager": {"enabled": True}}
    assert [p.name for p in out.parent.iterdir()] == ["values.yaml"]  # no temporary file left
    code, stdout, _ = invoke("values", "--env", str(env))
    assert yaml.safe_load(stdout) == {}  # the istio chart's values do not change
    code, _, stderr = invoke("values", "--env", str(env), "--out", str(tmp_path))
    assert code == 2 and "is a folder; give a file name" in stderr


# --- schema ---------------------------------------------------------------------------------------

REJECTIONS = [
    pytest.param(
        "values:\n  pilot:\n    replicaCount: three\n",
        'x.yaml:5: values.pilot.replicaCount: "three" is not of type "integer" [schema: type]',
        id="type",
    ),
    pytest.param(
        "values:\n  pilot:\n    nope: 1\n",
        'x.yaml:5: values.pilot.nope: Additional properties are not allowed ("nope" was '
        "unexpected) [schema: additionalProperties]",
        id="unknown key",
    ),
    pytest.param(
        "values:\n  global:\n    mtls:\n      mode: sometimes\n",
        'x.yaml:6: values.global.mtls.mode: "sometimes" is not one of ["off", "permissive", '
        '"strict", false] [schema: enum]',
        id="enum",
    ),
    pytest.param(
        "values:\n  pilot:\n    tolerations:\n      - key: a\n        effect: Bogus\n",
        'x.yaml:7: values.pilot.tolerations[0].effect: "Bogus" is not one of ["", '
        '"NoSchedule", "PreferNoSchedule", "NoExecute"] [schema: enum]',
        id="item of a list that replaces",
    ),
    pytest.param(
        "values:\n  gateways:\n    istio-ingressgateway:\n      ports:\n"
        "        - name: admin\n          port: 70000\n",
        "x.yaml:8: values.gateways.istio-ingressgateway.ports[name=admin].port: 70000 is "
        "greater than the maximum of 65535 [schema: maximum]",
        id="item of a keyed list",
    ),
    pytest.param(
        "values:\n  trafficPolicies:\n    - name: r\n      host: r\n      timeout: forever\n"
        "      subsets:\n        - {name: v1, labels: {a: b}}\n",
        'x.yaml:7: values.trafficPolicies[name=r].timeout: "forever" does not match '
        '"^[0-9]+(\\\\.[0-9]+)?(ms|s|m|h)$" [schema: pattern]',
        id="keyed component list",
    ),
    pytest.param(
        "mesh:\n  namespaces:\n    - name: Bad_ns\n      injection: enabled\n",
        'x.yaml:5: mesh.namespaces[name=Bad_ns].name: "Bad_ns" does not match '
        '"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$" [schema: pattern]',
        id="inventory",
    ),
]


@pytest.mark.parametrize(("body", "message"), REJECTIONS)
def test_schema_rejections_name_file_line_key_and_rule(
    tmp_path: Path, body: str, message: str
) -> None:
    env = write_env(tmp_path / "envs", "x", "name: x\nprofile: default\n" + body)
    out = tmp_path / "values.yaml"
    out.write_text("previous\n")
    code, stdout, stderr = invoke("values", "--env", str(env), "--out", str(out))
    assert code == 2, stdout
    assert stderr == f"error: {tmp_path / 'envs'}/{message}\n"
    assert out.read_text() == "previous\n"  # nothing written
    assert sorted(p.name for p in tmp_path.iterdir()) == ["envs", "values.yaml"]
    with pytest.raises(ValuesError):
        values_file(
            resolve_environment(PROFILES, load_environment(env)),
            profile_resolution(PROFILES, "default"),
            trusted=True,  # only the changed keys are validated again: same verdict
        )


def test_schema_rejection_of_a_set_value() -> None:
    code, _, stderr = invoke(
        "values", "--env", str(ENVS / "prod.yaml"), "--set", "pilot.replicaCount=x"
    )
    assert code == 2
    assert stderr == (
        "error: chart istio: value pilot.replicaCount (set by --set, command line): "
        '"x" is not of type "integer" [schema: type]\n'
    )


@pytest.mark.parametrize("profile", sorted(PROFILES.builtin))
def test_the_schema_is_the_packaged_one(profile: str) -> None:
    resolution = profile_resolution(PROFILES, profile)
    packages = _packages(profile)
    assert packages, f"profile {profile} builds no package"
    for package in packages:
        if package.revision:
            continue
        components = resolution.charts[package.tree.name]
        packaged = json.loads(package.tree.files["values.schema.json"])
        assert chart_schema(package.tree.name, components) == packaged
        assert yaml.safe_load(package.tree.files["values.yaml"]) == chart_part(
            resolution.values.values, package.tree.name, profile
        )


# --- provenance -----------------------------------------------------------------------------------


def test_explain_with_an_environment_chain_and_set() -> None:
    code, stdout, _ = invoke(
        "values",
        "--env",
        str(ENVS / "prod-eu.yaml"),
        "--set",
        "pilot.autoscaleMin=4",
        "--explain",
        "pilot.autoscaleMin",
    )
    assert code == 0
    assert stdout.splitlines() == [
        "pilot.autoscaleMin",
        "  1. chart defaults (meshcharts catalog): 1",
        f"  2. env prod ({ENVS / 'prod.yaml'}:10): 3",
        "  3. --set (command line): 4  <- wins",
    ]
    code, stdout, _ = invoke(
        "values", "--env", str(ENVS / "prod-eu.yaml"), "--explain", "mixer.policy.rateLimits"
    )
    assert code == 0
    assert (
        "  list mixer.policy.rateLimits: merged by key name "
        "(rule mixer.policy.rateLimits of component mixer)"
    ) in stdout
    assert stdout.count("mixer.policy.rateLimits[name=checkout-limit].maxAmount\n") == 1
    assert f"  2. env prod-eu ({ENVS / 'prod-eu.yaml'}:19): 1000  <- wins" in stdout
    assert (
        f"  2. env prod-eu ({ENVS / 'prod-eu.yaml'}:20): (deleted by $patch: delete)  <- wins"
        in stdout
    )


def test_explain_all_json() -> None:
    code, stdout, _ = invoke(
        "values", "--env", str(ENVS / "prod-eu.yaml"), "--explain-all", "--format", "json"
    )
    assert code == 0
    document = json.loads(stdout)
    assert document["pilot.autoscaleMin"] == [
        {
            "layer": "chart defaults",
            "source": "meshcharts catalog",
            "line": None,
            "value": 1,
            "deleted": False,
            "wins": False,
        },
        {
            "layer": "env prod",
            "source": str(ENVS / "prod.yaml"),
            "line": 10,
            "value": 3,
            "deleted": False,
            "wins": True,
        },
    ]
    chain = document["mixer.policy.rateLimits[name=payments-limit]"]
    assert [(e["layer"], e["line"], e["deleted"]) for e in chain] == [("env prod-eu", 20, True)]
    assert document["global.hub"][-1]["value"] == "registry.eu.example.com/istio"
    # Every value the environment's chart holds is explained.
    resolution = resolve_environment(PROFILES, load_environment(ENVS / "prod-eu.yaml"))
    assert {k.split(".")[0].split("[")[0] for k in document} == set(resolution.values.values)
    code, stdout, _ = invoke(
        "values",
        "--env",
        str(ENVS / "prod-eu.yaml"),
        "--explain-all",
        "--format",
        "json",
        "--chart",
        "istio-init",
    )
    assert list(json.loads(stdout)) == ["certmanager.enabled"]


def test_explain_all_text() -> None:
    code, stdout, _ = invoke("values", "--env", str(ENVS / "dev.yaml"), "--explain-all")
    assert code == 0
    lines = stdout.splitlines()
    entry = lines.index("gateways.istio-ingressgateway.ports[name=http2].nodePort")
    assert lines[entry + 1 : entry + 5] == [
        "  list gateways.istio-ingressgateway.ports: merged by key name "
        "(rule gateways.*.ports of component gateways)",
        "  1. chart defaults (meshcharts catalog): 31380",
        f"  2. env dev ({ENVS / 'dev.yaml'}:18): 30080  <- wins",
        "gateways.istio-ingressgateway.ports[name=http2].port",
    ]


# --- helm template -f, Helm 3 and Helm 4 ------------------------------------------------------------


@functools.cache
def _packages(profile: str) -> list[Any]:
    return build_packages(PROFILES, [profile], version="1.0.6", revisions=())


@functools.cache
def _generated() -> dict[str, tuple[str, str]]:
    """env -> (profile, values file text), as ``meshcharts build`` writes them."""
    files = {}
    for env in load_environments(ENVS):
        resolution = resolve_environment(PROFILES, env)
        text = values_file(
            resolution, profile_resolution(PROFILES, env.profile), environment=env.name
        ).text
        files[env.name] = (env.profile, text)
    return files


PROBE = b"""\
apiVersion: v1
kind: ConfigMap
metadata:
  name: values-probe
data:
  values: {{ toJson .Values | quote }}
"""


def _numbers(value: Any) -> Any:
    """JSON as Helm's toJson writes it: integral floats become integers."""
    if isinstance(value, dict):
        return {k: _numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_numbers(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _by_identity(docs: list[dict[str, Any]]) -> Objects:
    return {(d["kind"], d["metadata"]["name"]): d for d in docs}


Objects = dict[tuple[str, str], dict[str, Any]]


def _ports(objs: Objects) -> dict[str, Any]:
    service = objs[("Service", "istio-ingressgateway")]
    return {p["name"]: p.get("nodePort") for p in service["spec"]["ports"]}


def _prod(objs: Objects) -> None:
    assert objs[("HorizontalPodAutoscaler", "istio-pilot")]["spec"]["minReplicas"] == 3
    assert "https-payments" in _ports(objs)
    assert ("QuotaSpec", "payments-limit") in objs


def _prod_eu(objs: Objects) -> None:
    pilot = objs[("Deployment", "istio-pilot")]["spec"]["template"]["spec"]["containers"][0]
    assert pilot["image"].startswith("registry.eu.example.com/istio/")
    assert "https-payments" not in _ports(objs)
    assert ("QuotaSpec", "payments-limit") not in objs
    annotations = objs[("Service", "istio-ingressgateway")]["metadata"]["annotations"]
    assert annotations["service.beta.kubernetes.io/aws-load-balancer-type"] == "nlb"


def _dev(objs: Objects) -> None:
    assert objs[("Service", "istio-ingressgateway")]["spec"]["type"] == "NodePort"
    assert _ports(objs)["http2"] == 30080
    assert "tcp" not in _ports(objs)
    assert ("VirtualService", "reviews") in objs


def _staging(objs: Objects) -> None:
    assert ("QuotaSpec", "checkout-limit") in objs
    assert ("VirtualService", "checkout") in objs


EXPECTED_OBJECTS: dict[str, Callable[[Objects], None]] = {
    "prod": _prod,
    "prod-eu": _prod_eu,
    "dev": _dev,
    "staging": _staging,
}


@pytest.mark.parametrize("name", sorted(EXPECTED_OBJECTS))
def test_helm_template_accepts_every_generated_values_file(
    helm: Path, tmp_path: Path, name: str
) -> None:
    profile, text = _generated()[name]
    values = tmp_path / f"values-{name}.yaml"
    values.write_text(text)
    (istio,) = [p for p in _packages(profile) if p.tree.name == "istio" and not p.revision]
    package = tmp_path / "istio-1.0.6.tgz"
    package.write_bytes(istio.data)
    args = ("template", "istio", str(package), "--namespace", "istio-system", "-f", str(values))
    docs = split_manifest(run_helm(helm, *args).stdout)
    EXPECTED_OBJECTS[name](_by_identity(docs))
    # The values Helm sees are exactly the environment's resolved values.
    tree = tmp_path / "probe"
    write_files(tree, {**istio.tree.files, "templates/zz-probe.yaml": PROBE})
    args = ("template", "istio", str(tree), "--namespace", "istio-system", "-f", str(values))
    probe = _by_identity(split_manifest(run_helm(helm, *args).stdout))[
        ("ConfigMap", "values-probe")
    ]
    seen = json.loads(probe["data"]["values"])
    env = load_environment(ENVS / f"{name}.yaml")
    resolved = chart_part(resolve_environment(PROFILES, env).values.values, "istio", profile)
    assert _numbers(seen) == _numbers(json.loads(json.dumps(resolved)))
