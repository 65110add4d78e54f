"""``meshcharts import-values``: Istio 1.1 values files into environment files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from harness import builtin_build
from helpers import assert_one_line_error, run_meshcharts
from tools import (
    HELM3,
    HELM4,
    MESH_CUSTOM_GROUPS,
    helm_binaries,
    run_helm,
    split_manifest,
    validate_k8s,
)

from meshcharts import load_profiles
from meshcharts.chart.importvalues import ImportedValues, environment_name, import_values
from meshcharts.values.keypaths import leaf_paths

DATA = Path(__file__).resolve().parent / "data" / "upstream_1_1"
UPSTREAM_FILES = ("demo", "minimal", "sds-auth", "remote")

# The upstream profile file -> the built-in profile an import chooses (the smallest one
# that compiles in every component the file installs).
CHOSEN = {"demo": "demo", "minimal": "minimal", "sds-auth": "sds", "remote": "remote"}


def _import(name: str, profile: str | None = None) -> ImportedValues:
    return import_values(load_profiles(), DATA / f"{name}.yaml", profile=profile)


def _groups(imported: ImportedValues) -> dict[str, str]:
    """Upstream key -> the group it landed in."""
    found: dict[str, str] = {}
    for group in ("translated", "unsupported", "dropped", "kept"):
        for entry in getattr(imported, group):
            assert entry.key not in found, f"{entry.key} in {found[entry.key]} and {group}"
            found[entry.key] = group
    return found


def _leaf_keys(path: Path) -> set[str]:
    document = yaml.safe_load(path.read_text())
    keys = set()
    for leaf in leaf_paths(document):
        keys.add(".".join(leaf))
    return keys


@pytest.mark.parametrize("name", UPSTREAM_FILES)
def test_every_key_of_the_file_lands_in_exactly_one_group(name: str) -> None:
    imported = _import(name)
    assert imported.profile == CHOSEN[name]
    assert set(_groups(imported)) == _leaf_keys(DATA / f"{name}.yaml")


@pytest.mark.parametrize(
    ("name", "profile", "key", "group", "detail"),
    [
        # demo: mtls false is permissive, which the demo profile has already.
        ("demo", None, "global.mtls.enabled", "dropped", "global.mtls.mode: permissive"),
        ("demo", None, "mixer.telemetry.resources.limits.memory", "kept", ""),
        ("demo", None, "global.sidecarInjectorWebhook.enabled", "dropped", "no template reads"),
        ("demo", "default", "grafana.enabled", "unsupported", "not compiled into profile default"),
        ("demo", "default", "global.mtls.enabled", "dropped", "equal to profile default"),
        # sds-auth: strict mTLS is the sds profile's; default needs it translated.
        ("sds-auth", None, "global.mtls.enabled", "dropped", "global.mtls.mode: strict"),
        ("sds-auth", "default", "global.mtls.enabled", "translated", "global.mtls.mode: strict"),
        ("sds-auth", None, "global.controlPlaneSecurityEnabled", "kept", ""),
        ("sds-auth", "default", "nodeagent.env.CA_ADDR", "unsupported", "not compiled"),
        ("minimal", None, "galley.enabled", "dropped", "off already"),
        ("minimal", None, "global.proxy.envoyStatsd.host", "dropped", "null"),
        ("remote", None, "global.defaultPodDisruptionBudget", "dropped", "empty map"),
        ("remote", None, "global.istioRemote", "dropped", "equal to profile remote"),
    ],
)
def test_keys_are_sorted_with_their_reason(
    name: str, profile: str | None, key: str, group: str, detail: str
) -> None:
    imported = _import(name, profile)
    entries = {e.key: e for e in getattr(imported, group)}
    assert key in entries, imported.report()
    assert detail in entries[key].detail


def test_translated_values_are_written_under_the_new_key() -> None:
    imported = _import("sds-auth", "default")
    assert imported.values["global"]["mtls"] == {"mode": "strict"}
    assert imported.values["global"]["sds"]["useNormalJwt"] is True
    assert "enabled" not in imported.values["global"]["mtls"]


def test_numbers_become_strings_where_the_chart_takes_a_string(tmp_path: Path) -> None:
    source = tmp_path / "env-values.yaml"
    source.write_text("pilot:\n  env:\n    PILOT_PUSH_THROTTLE: 50\n    FLAG: true\n")
    imported = import_values(load_profiles(), source, profile="default")
    assert imported.values == {"pilot": {"env": {"PILOT_PUSH_THROTTLE": "50", "FLAG": "true"}}}
    assert {e.key for e in imported.translated} == {
        "pilot.env.PILOT_PUSH_THROTTLE",
        "pilot.env.FLAG",
    }


def test_a_keyed_list_replaces_as_upstream_lists_do(tmp_path: Path) -> None:
    source = tmp_path / "ports.yaml"
    ports = [{"name": "http2", "port": 80, "targetPort": 80}]
    source.write_text(yaml.safe_dump({"gateways": {"istio-ingressgateway": {"ports": ports}}}))
    out = tmp_path / "ports-env.yaml"
    code, _, stderr = run_meshcharts(
        "import-values", str(source), "-p", "default", "--out", str(out)
    )
    assert code == 0, stderr
    code, stdout, stderr = run_meshcharts("values", "--env", str(out), "--full", "--format", "json")
    assert code == 0, stderr
    resolved = json.loads(stdout)["gateways"]["istio-ingressgateway"]["ports"]
    assert resolved == ports  # the profile's other ports are gone, as with upstream's file


def test_values_the_schema_refuses_are_unsupported_not_written(tmp_path: Path) -> None:
    source = tmp_path / "bad.yaml"
    source.write_text("pilot:\n  replicaCount: many\n  image: pilot\nnosuch:\n  key: 1\n")
    imported = import_values(load_profiles(), source, profile="default")
    unsupported = {e.key: e.detail for e in imported.unsupported}
    assert "pilot.replicaCount" in unsupported and "integer" in unsupported["pilot.replicaCount"]
    assert "not a key of Istio 1.1's charts nor of meshcharts" in unsupported["nosuch.key"]
    assert imported.values == {}


def test_the_remote_profile_reports_what_is_still_required() -> None:
    imported = _import("remote")
    assert "global.remotePilotAddress" in imported.required
    assert "to set at install (profile remote): global.remotePilotAddress" in imported.report()


@pytest.mark.parametrize(
    ("source", "name"),
    [
        ("values-istio-demo.yaml", "values-istio-demo"),
        ("My Values.YAML", "my-values"),
        ("__.yaml", "imported"),
    ],
)
def test_environment_names_are_dns_labels(source: str, name: str) -> None:
    assert environment_name(Path(source)) == name


# --- the command, end to end ---------------------------------------------------------------


@pytest.mark.parametrize("name", UPSTREAM_FILES)
def test_imported_environment_passes_values_env(name: str, tmp_path: Path) -> None:
    out = tmp_path / f"{name}.yaml"
    code, stdout, stderr = run_meshcharts(
        "import-values", str(DATA / f"{name}.yaml"), "--out", str(out)
    )
    assert code == 0, stderr
    assert stdout.endswith(f"wrote {out}\n") and f"profile {CHOSEN[name]}:" in stdout
    environment = yaml.safe_load(out.read_text())
    assert environment["name"] == name and environment["profile"] == CHOSEN[name]
    code, _, stderr = run_meshcharts("values", "--env", str(out), "--out", str(tmp_path / "v.yaml"))
    assert code == 0, stderr


def _package(profile: str, folder: Path) -> Path:
    found = [p for p in builtin_build() if p.path == f"{profile}/istio-1.0.6.tgz"]
    assert len(found) == 1
    archive = folder / "istio-1.0.6.tgz"
    archive.write_bytes(found[0].data)
    return archive


@pytest.mark.helm
@pytest.mark.parametrize("helm", [HELM3, HELM4])
@pytest.mark.parametrize("name", UPSTREAM_FILES)
def test_imported_values_install_with_helm(name: str, helm: str, tmp_path: Path) -> None:
    env = tmp_path / f"{name}.yaml"
    code, _, stderr = run_meshcharts("import-values", str(DATA / f"{name}.yaml"), "--out", str(env))
    assert code == 0, stderr
    values = tmp_path / "values.yaml"
    code, _, stderr = run_meshcharts("values", "--env", str(env), "--out", str(values))
    assert code == 0, stderr
    args = [
        "template",
        "istio",
        str(_package(CHOSEN[name], tmp_path)),
        "-n",
        "istio-system",
        "-f",
        str(values),
    ]
    if name == "remote":
        args += ["--set", "global.remotePilotAddress=10.0.0.10"]
    docs = split_manifest(run_helm(helm_binaries()[helm], *args).stdout)
    assert docs
    assert validate_k8s(docs, "1.30", strict=True, allow_custom=MESH_CUSTOM_GROUPS) == []
    if name == "demo":  # the kept Mixer resources reach the Deployment
        telemetry = next(
            d
            for d in docs
            if d["kind"] == "Deployment" and d["metadata"]["name"] == "istio-telemetry"
        )
        mixer = next(
            c for c in telemetry["spec"]["template"]["spec"]["containers"] if c["name"] == "mixer"
        )
        assert mixer["resources"]["limits"] == {"cpu": "100m", "memory": "100Mi"}


def test_without_out_the_environment_goes_to_stdout_and_the_report_to_stderr() -> None:
    code, stdout, stderr = run_meshcharts(
        "import-values", str(DATA / "sds-auth.yaml"), "-p", "default"
    )
    assert code == 0, stderr
    environment: dict[str, Any] = yaml.safe_load(stdout)
    assert environment["name"] == "sds-auth" and environment["profile"] == "default"
    assert environment["values"]["global"]["mtls"] == {"mode": "strict"}
    assert (
        "translated (" in stderr
        and "global.mtls.enabled: true -> global.mtls.mode: strict" in stderr
    )


def test_json_format_carries_the_report_and_the_values(tmp_path: Path) -> None:
    code, stdout, stderr = run_meshcharts(
        "import-values", str(DATA / "demo.yaml"), "--format", "json"
    )
    assert code == 0, stderr
    report = json.loads(stdout)
    assert report["profile"] == "demo" and report["out"] is None
    assert {e["key"] for e in report["kept"]} >= {"mixer.telemetry.resources.limits.memory"}
    assert report["values"]["mixer"]["telemetry"]["resources"]["limits"]["memory"] == "100Mi"


@pytest.mark.parametrize(
    ("content", "args", "parts"),
    [
        (None, (), ("missing.yaml",)),
        ("- a list\n", (), ("is not a map of values",)),
        ("a: [\n", (), ("input.yaml",)),
        ("pilot: {}\n", ("-p", "nosuch"), ("--profile nosuch", "unknown profile")),
        ("pilot: {}\n", ("--out", "{tmp}/env.yml"), ("env.yml", "<name>.yaml")),
        ("pilot: {}\n", ("--out", "{tmp}/Bad_Name.yaml"), ("Bad_Name", "DNS-1123")),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(
    content: str | None, args: tuple[str, ...], parts: tuple[str, ...], tmp_path: Path
) -> None:
    source = tmp_path / ("missing.yaml" if content is None else "input.yaml")
    if content is not None:
        source.write_text(content)
    before = sorted(tmp_path.iterdir())
    argv = [a.replace("{tmp}", str(tmp_path)) for a in args]
    code, _, stderr = run_meshcharts("import-values", str(source), *argv)
    assert_one_line_error(code, stderr, *parts)
    assert sorted(tmp_path.iterdir()) == before
