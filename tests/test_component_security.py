"""The security component: Citadel, mesh-wide mTLS, JWT origin policies and Istio RBAC."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from harness import assemble_components, identities, render_tree
from harness import one as _one
from harness import write_tree as _write
from tools import HELM3, HELM4, MESH_CUSTOM_GROUPS, helm_binaries, run_helm, validate_k8s

from meshcharts import ChartTree
from meshcharts.catalog.crds import CRDS
from meshcharts.catalog.security import SECURITY

Docs = list[dict[str, Any]]
HELMS = (HELM3, HELM4)
NS = "istio-system"

CITADEL = {
    ("ServiceAccount", "istio-citadel-service-account"),
    ("ClusterRole", "istio-citadel-istio-system"),
    ("ClusterRoleBinding", "istio-citadel-istio-system"),
    ("Service", "istio-citadel"),
    ("Deployment", "istio-citadel"),
}

JWT_ENTRY = {
    "name": "productpage-jwt",
    "targets": [{"name": "productpage", "ports": [{"number": 9080}, {"name": "http"}]}],
    "issuer": "testing@secure.istio.io",
    "jwksUri": "https://example.com/jwks.json",
    "audiences": ["bookinfo"],
    "triggerRules": [{"excludedPaths": [{"exact": "/health"}]}],
    "principalBinding": "USE_ORIGIN",
}
ROLE = {
    "name": "viewer",
    "namespace": "bookinfo",
    "rules": [
        {
            "services": ["*"],
            "methods": ["GET", "HEAD"],
            "paths": ["/api/*"],
            "constraints": [{"key": "destination.labels[version]", "values": ["v1"]}],
        }
    ],
}
BINDING = {
    "name": "bind-viewer",
    "namespace": "bookinfo",
    "subjects": [{"user": "*"}, {"group": "admins", "properties": {"source.namespace": "x"}}],
    "roleRef": {"kind": "ServiceRole", "name": "viewer"},
}
FULL: dict[str, Any] = {
    "global": {"mtls": {"mode": "strict"}},
    "security": {
        "jwt": [JWT_ENTRY, {"name": "default", "namespace": "bookinfo", "issuer": "i"}],
        "rbac": {
            "mode": "ON_WITH_INCLUSION",
            "inclusion": {"namespaces": ["bookinfo"], "services": ["a.b.svc.cluster.local"]},
            "roles": [ROLE],
            "bindings": [BINDING, {**BINDING, "name": "other", "roleRef": {"name": "external"}}],
        },
    },
}


@functools.cache
def _tree(values_json: str) -> ChartTree:
    return assemble_components((SECURITY,), json.loads(values_json))


@functools.cache
def _cached(values_json: str, args: tuple[str, ...], helm: str) -> Docs:
    return render_tree(_tree(values_json), *args, helm=helm_binaries()[helm])


def _render(values: dict[str, Any] | None = None, *args: str, helm: str = HELM4) -> Docs:
    return _cached(json.dumps(values or {}, sort_keys=True), args, helm)


def _helm_template(tmp_path: Path, helm: str, *args: str, values: str | None = None) -> Any:
    chart = _write(_tree("{}"), tmp_path)
    extra: tuple[str, ...] = ()
    if values is not None:
        values_file = tmp_path / "values.yaml"
        values_file.write_text(values)
        extra = ("-f", str(values_file))
    return run_helm(
        helm_binaries()[helm], "template", "istio", str(chart), "-n", NS, *extra, *args, check=False
    )


def _mesh(docs: Docs) -> set[tuple[str, str]]:
    return identities(docs) - CITADEL


def test_enabled_false_removes_citadel_and_the_mesh_policy() -> None:
    on = identities(_render())
    off = identities(_render({}, "--set", "security.enabled=false"))
    assert on == CITADEL | {("MeshPolicy", "default")}
    assert off == set()
    assert identities(_render(FULL, "--set", "security.enabled=false")) == set()


def test_citadel_issues_spiffe_identities_of_the_trust_domain() -> None:
    for values, domain in (
        ({}, "cluster.local"),
        ({"global": {"trustDomain": "corp.io"}}, "corp.io"),
    ):
        deployment = _one(_render(values), "Deployment", "istio-citadel")
        args = deployment["spec"]["template"]["spec"]["containers"][0]["args"]
        assert f"--trust-domain={domain}" in args


PERMISSIVE_PEERS: list[dict[str, Any]] = [{"mtls": {"mode": "PERMISSIVE"}}]
STRICT_PEERS: list[dict[str, Any]] = [{"mtls": {}}]


@pytest.mark.parametrize("mode", ["off", "permissive", "strict"])
def test_mtls_mode_renders_exactly_its_objects(mode: str) -> None:
    docs = _render({}, "--set", f"global.mtls.mode={mode}")
    expected = {
        "off": set(),
        "permissive": {("MeshPolicy", "default")},
        "strict": {
            ("MeshPolicy", "default"),
            ("DestinationRule", "default"),
            ("DestinationRule", "api-server"),
        },
    }[mode]
    assert _mesh(docs) == expected
    if mode == "off":
        return
    policy = _one(docs, "MeshPolicy", "default")
    assert policy["apiVersion"] == "authentication.istio.io/v1alpha1"
    assert "namespace" not in policy["metadata"]
    assert policy["spec"] == {"peers": STRICT_PEERS if mode == "strict" else PERMISSIVE_PEERS}
    if mode == "strict":
        default = _one(docs, "DestinationRule", "default")
        assert default["metadata"]["namespace"] == NS
        assert default["spec"] == {
            "host": "*.local",
            "trafficPolicy": {"tls": {"mode": "ISTIO_MUTUAL"}},
        }
        api = _one(docs, "DestinationRule", "api-server")
        assert api["metadata"]["namespace"] == NS
        assert api["spec"] == {
            "host": "kubernetes.default.svc.cluster.local",
            "trafficPolicy": {"tls": {"mode": "DISABLE"}},
        }


def test_default_mtls_mode_is_permissive() -> None:
    assert _one(_render(), "MeshPolicy", "default")["spec"]["peers"] == PERMISSIVE_PEERS


def test_api_server_rule_follows_the_cluster_domain() -> None:
    docs = _render({"global": {"mtls": {"mode": "strict"}, "proxy": {"clusterDomain": "k.io"}}})
    assert (
        _one(docs, "DestinationRule", "api-server")["spec"]["host"] == "kubernetes.default.svc.k.io"
    )


@pytest.mark.parametrize("helm", HELMS)
def test_unquoted_yaml_off_switches_mtls_off(tmp_path: Path, helm: str) -> None:
    result = _helm_template(tmp_path, helm, values="global:\n  mtls:\n    mode: off\n")
    assert result.returncode == 0, result.stderr
    assert "kind: MeshPolicy" not in result.stdout


def test_create_mesh_policy_false_renders_no_cluster_singletons() -> None:
    values = {**FULL, "security": {**FULL["security"], "createMeshPolicy": False}}
    docs = _render(values)
    kinds = {kind for kind, _ in _mesh(docs)}
    assert kinds == {"Policy", "ServiceRole", "ServiceRoleBinding"}
    no_owner = ("--set", "security.createMeshPolicy=false")
    assert _mesh(_render({}, *no_owner)) == set()


@pytest.mark.parametrize("mode", ["off", "permissive", "strict"])
def test_jwt_entry_renders_a_policy_with_a_jwt_origin(mode: str) -> None:
    docs = _render({"security": {"jwt": [JWT_ENTRY]}}, "--set", f"global.mtls.mode={mode}")
    policy = _one(docs, "Policy", "productpage-jwt")
    assert policy["apiVersion"] == "authentication.istio.io/v1alpha1"
    assert policy["metadata"]["namespace"] == NS
    expected: dict[str, Any] = {
        "targets": [{"name": "productpage", "ports": [{"number": 9080}, {"name": "http"}]}],
        "origins": [
            {
                "jwt": {
                    "issuer": "testing@secure.istio.io",
                    "jwksUri": "https://example.com/jwks.json",
                    "audiences": ["bookinfo"],
                    "triggerRules": [{"excludedPaths": [{"exact": "/health"}]}],
                }
            }
        ],
        "principalBinding": "USE_ORIGIN",
    }
    # A service Policy replaces the MeshPolicy: it repeats the mesh peer authentication.
    if mode != "off":
        expected["peers"] = STRICT_PEERS if mode == "strict" else PERMISSIVE_PEERS
    assert policy["spec"] == expected


def test_namespace_wide_jwt_policy_is_named_default() -> None:
    docs = _render(
        {"security": {"jwt": [{"name": "default", "namespace": "bookinfo", "issuer": "i"}]}}
    )
    policy = _one(docs, "Policy", "default")
    assert policy["metadata"]["namespace"] == "bookinfo"
    assert policy["spec"] == {"peers": PERMISSIVE_PEERS, "origins": [{"jwt": {"issuer": "i"}}]}


@pytest.mark.parametrize(
    ("mode", "target"),
    [
        ("ON", None),
        ("ON_WITH_INCLUSION", "inclusion"),
        ("ON_WITH_EXCLUSION", "exclusion"),
    ],
)
def test_rbac_mode_renders_the_cluster_rbac_config(mode: str, target: str | None) -> None:
    lists = {"services": ["a.b.svc.cluster.local"], "namespaces": ["bookinfo"]}
    rbac = {"mode": mode, "inclusion": lists, "exclusion": {"namespaces": ["kube-system"]}}
    docs = _render({"security": {"rbac": rbac}})
    config = _one(docs, "ClusterRbacConfig", "default")
    assert config["apiVersion"] == "rbac.istio.io/v1alpha1"
    assert "namespace" not in config["metadata"]
    expected: dict[str, Any] = {"mode": mode}
    if target:
        expected[target] = rbac[target]
    assert config["spec"] == expected


def test_rbac_off_renders_no_cluster_rbac_config() -> None:
    assert "ClusterRbacConfig" not in {d["kind"] for d in _render()}


@pytest.mark.parametrize("helm", HELMS)
@pytest.mark.parametrize(("literal", "mode"), [("ON", "ON"), ("OFF", None)])
def test_unquoted_yaml_on_off_rbac_modes(
    tmp_path: Path, helm: str, literal: str, mode: str | None
) -> None:
    result = _helm_template(tmp_path, helm, values=f"security:\n  rbac:\n    mode: {literal}\n")
    assert result.returncode == 0, result.stderr
    configs = [
        d for d in yaml.safe_load_all(result.stdout) if d and d["kind"] == "ClusterRbacConfig"
    ]
    assert [c["spec"]["mode"] for c in configs] == ([mode] if mode else [])


def test_roles_and_bindings_render_service_roles_and_bindings() -> None:
    docs = _render(FULL)
    role = _one(docs, "ServiceRole", "viewer")
    assert role["metadata"]["namespace"] == "bookinfo"
    assert role["spec"] == {"rules": ROLE["rules"]}
    binding = _one(docs, "ServiceRoleBinding", "bind-viewer")
    assert binding["metadata"]["namespace"] == "bookinfo"
    assert binding["spec"] == {
        "subjects": BINDING["subjects"],
        "roleRef": {"kind": "ServiceRole", "name": "viewer"},
    }
    external = _one(docs, "ServiceRoleBinding", "other")
    assert external["spec"]["roleRef"] == {"kind": "ServiceRole", "name": "external"}


def test_full_values_render_every_kind() -> None:
    assert {kind for kind, _ in _mesh(_render(FULL))} == {
        "MeshPolicy",
        "DestinationRule",
        "Policy",
        "ClusterRbacConfig",
        "ServiceRole",
        "ServiceRoleBinding",
    }


def _crd_schemas() -> dict[tuple[str, str], dict[str, Any]]:
    return {(f"{c.group}/{c.version}", c.kind): dict(c.schema) for c in CRDS}


@pytest.mark.parametrize("mode", ["permissive", "strict"])
def test_custom_resources_validate_against_their_crds(mode: str) -> None:
    schemas = _crd_schemas()
    docs = _render(FULL, "--set", f"global.mtls.mode={mode}")
    custom = [d for d in docs if d["apiVersion"].split("/")[0].endswith("istio.io")]
    assert len(custom) >= 7
    for doc in custom:
        body = {k: v for k, v in doc.items() if k not in ("apiVersion", "kind", "metadata")}
        jsonschema.validate(body, schemas[(doc["apiVersion"], doc["kind"])])


@pytest.mark.parametrize("kube", ["1.25", "1.37"])
def test_rendered_objects_validate_against_kubernetes(kube: str) -> None:
    for values in ({}, FULL):
        docs = _render(values)
        assert docs, "nothing rendered"
        assert validate_k8s(docs, kube, strict=True, allow_custom=MESH_CUSTOM_GROUPS) == []


@pytest.mark.parametrize("helm", HELMS)
@pytest.mark.parametrize("values", [{}, FULL], ids=["default", "full"])
def test_lint_strict_and_template_pass(tmp_path: Path, helm: str, values: dict[str, Any]) -> None:
    chart = _write(_tree(json.dumps(values, sort_keys=True)), tmp_path)
    lint = run_helm(helm_binaries()[helm], "lint", "--strict", str(chart), check=False)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    assert _render(values, helm=helm) == _render(values)


@pytest.mark.parametrize("helm", HELMS)
@pytest.mark.parametrize(
    ("args", "values", "key"),
    [
        (("--set", "security.bogus=1"), None, "bogus"),
        (("--set", "global.mtls.mode=strikt"), None, "mode"),
        (("--set", "global.mtls.enabled=true"), None, "enabled"),
        (("--set", "security.rbac.mode=on"), None, "mode"),
        ((), "security:\n  jwt:\n  - {name: x, issuer: i, jwksUri: ftp://x}\n", "jwksUri"),
        ((), "security:\n  jwt:\n  - {name: x, issuer: i, extra: 1}\n", "extra"),
        (
            (),
            "security:\n  rbac:\n    roles:\n    - {name: r, rules: [{methods: [GET]}]}\n",
            "services",
        ),
        (
            (),
            "security:\n  rbac:\n    bindings:\n"
            "    - {name: b, subjects: [{}], roleRef: {name: r}}\n",
            "subjects",
        ),
    ],
)
def test_invalid_values_fail_helm_schema_validation(
    tmp_path: Path, helm: str, args: tuple[str, ...], values: str | None, key: str
) -> None:
    result = _helm_template(tmp_path, helm, *args, values=values)
    assert result.returncode != 0
    assert "schema" in result.stderr.lower()
    assert key in result.stderr


@pytest.mark.parametrize("helm", HELMS)
@pytest.mark.parametrize(
    ("values", "message"),
    [
        (
            "security:\n  jwt:\n  - {name: ns-wide, issuer: i}\n",
            "a namespace-wide Policy must be named default",
        ),
        (
            "security:\n  jwt:\n  - {name: a, issuer: i, targets: [{name: s}]}\n"
            "  - {name: a, issuer: j, targets: [{name: t}]}\n",
            "security.jwt: two entries are named istio-system/a",
        ),
        (
            "security:\n  rbac:\n    mode: ON_WITH_INCLUSION\n",
            "ON_WITH_INCLUSION needs security.rbac.inclusion",
        ),
    ],
)
def test_inconsistent_values_fail_with_a_message(
    tmp_path: Path, helm: str, values: str, message: str
) -> None:
    result = _helm_template(tmp_path, helm, values=values)
    assert result.returncode != 0
    assert message in result.stderr


def _containers(doc: dict[str, Any]) -> Iterator[dict[str, Any]]:
    spec = doc["spec"]["template"]["spec"]
    assert spec["containers"], f"{doc['metadata']['name']} has no containers"
    yield from spec.get("initContainers", [])
    yield from spec["containers"]


def test_every_container_has_requests_and_limits() -> None:
    workloads = [d for d in _render(FULL) if d["kind"] == "Deployment"]
    assert workloads
    for doc in workloads:
        for container in _containers(doc):
            assert container["resources"]["requests"] and container["resources"]["limits"]
