"""The injection template: rendered by Helm, then executed over a pod as the injector does.

The sidecar injector (``pilot/pkg/kube/inject/inject.go`` of Istio 1.1) executes the
``template`` of ConfigMap ``istio-sidecar-injector`` with Go's ``text/template``, delimiters
``[[``/``]]``, over ``SidecarTemplateData`` (ObjectMeta, Spec, DeploymentMeta, ProxyConfig,
MeshConfig) with its own function map. These tests do the same with meshcharts' Go-template
engine and a test-side copy of that function map, the proxy config taken from the rendered
mesh ConfigMap, and check the containers the pod would get.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml
from harness import assemble_components, assert_lint_strict, one, render_tree, write_tree
from injector import (
    INJECTOR_FUNCS,
    arg_after,
    env,
    init_container,
    inject,
    injector_config,
    methods,
    sidecar,
)
from tools import HELM3, HELM4, MESH_CUSTOM_GROUPS, helm_binaries, validate_k8s

from meshcharts.catalog.istio import ISTIO_CHART
from meshcharts.checks.render import render_objects
from meshcharts.gotemplate import TemplateSet
from meshcharts.gotemplate.gotypes import StringMap

COMPONENTS = {c.name: c for c in ISTIO_CHART.components}
INJECTOR = tuple(COMPONENTS[n] for n in ("pilot", "security", "sidecarInjectorWebhook"))
NAMESPACE = "istio-system"


def render(
    values: Mapping[str, Any] | None = None, components: tuple[Any, ...] = INJECTOR
) -> list[dict[str, Any]]:
    tree = assemble_components(components, values)
    return render_objects(tree, release="istio", namespace=NAMESPACE, values=None)


# --- the injected pod ------------------------------------------------------------------------


def test_default_injection_redirects_the_declared_ports_and_reports_to_zipkin() -> None:
    spec = inject(render())
    init = init_container(spec)
    assert arg_after(init["args"], "-b") == "8080,9090"
    assert arg_after(init["args"], "-i") == "*"
    assert arg_after(init["args"], "-d") == "15020"
    assert "-k" not in init["args"]
    assert init["securityContext"]["capabilities"]["drop"] == ["ALL"]
    proxy = sidecar(spec)
    assert arg_after(proxy["args"], "--zipkinAddress") == "zipkin.istio-system:9411"
    assert arg_after(proxy["args"], "--serviceCluster") == "reviews.$(POD_NAMESPACE)"
    assert arg_after(proxy["args"], "--drainDuration") == "45s"
    assert arg_after(proxy["args"], "--parentShutdownDuration") == "1m0s"
    assert arg_after(proxy["args"], "--applicationPorts") == "8080,9090"
    assert "--statsdUdpAddress" not in proxy["args"]
    variables = env(proxy)
    assert json.loads(variables["ISTIO_METAJSON_LABELS"]) == {"app": "reviews"}
    assert "ISTIO_METAJSON_ANNOTATIONS" not in variables
    assert "ISTIO_META_NETWORK" not in variables
    assert proxy["resources"]["limits"]["memory"] == "1024Mi"
    assert proxy["securityContext"]["readOnlyRootFilesystem"] is True
    volumes = {v["name"]: v for v in spec["volumes"]}
    assert volumes["istio-certs"]["secret"]["secretName"] == "istio.bookinfo-reviews"
    assert "dnsConfig" not in spec
    assert spec["rewriteAppHTTPProbe"] is False


ANNOTATED = {
    "sidecar.istio.io/proxyCPU": "300m",
    "sidecar.istio.io/proxyMemory": "256Mi",
    "sidecar.istio.io/interceptionMode": "TPROXY",
    "sidecar.istio.io/bootstrapOverride": "my-bootstrap",
    "sidecar.istio.io/userVolume": '{"data": {"configMap": {"name": "cm"}}}',
    "sidecar.istio.io/userVolumeMount": '{"data": {"mountPath": "/data", "readOnly": true}}',
    "traffic.sidecar.istio.io/includeInboundPorts": "7070",
    "traffic.sidecar.istio.io/kubevirtInterfaces": "net1,net2",
    "traffic.sidecar.istio.io/excludeOutboundIPRanges": "10.0.0.0/8",
    "note": 'say "<hi>"',
}


def test_pod_annotations_override_the_template() -> None:
    spec = inject(render(), annotations=ANNOTATED)
    init = init_container(spec)
    assert arg_after(init["args"], "-b") == "7070"
    assert arg_after(init["args"], "-k") == "net1,net2"
    assert arg_after(init["args"], "-m") == "TPROXY"
    assert arg_after(init["args"], "-x") == "10.0.0.0/8"
    proxy = sidecar(spec)
    assert proxy["resources"] == {"requests": {"cpu": "300m", "memory": "256Mi"}}
    assert proxy["securityContext"]["capabilities"] == {"add": ["NET_ADMIN"]}
    variables = env(proxy)
    assert json.loads(variables["ISTIO_METAJSON_ANNOTATIONS"]) == ANNOTATED
    assert "\\u003chi\\u003e" in variables["ISTIO_METAJSON_ANNOTATIONS"]
    assert variables["ISTIO_META_INTERCEPTION_MODE"] == "TPROXY"
    assert (
        variables["ISTIO_BOOTSTRAP_OVERRIDE"] == "/etc/istio/custom-bootstrap/custom_bootstrap.json"
    )
    mounts = {m["name"]: m for m in proxy["volumeMounts"]}
    assert mounts["data"] == {"name": "data", "mountPath": "/data", "readOnly": True}
    assert mounts["custom-bootstrap-volume"]["mountPath"] == "/etc/istio/custom-bootstrap"
    volumes = {v["name"]: v for v in spec["volumes"]}
    assert volumes["data"] == {"name": "data", "configMap": {"name": "cm"}}
    assert volumes["custom-bootstrap-volume"]["configMap"]["name"] == "my-bootstrap"


def test_interception_none_and_status_port_zero() -> None:
    spec = inject(
        render(),
        annotations={
            "sidecar.istio.io/interceptionMode": "NONE",
            "status.sidecar.istio.io/port": "0",
        },
    )
    assert not spec.get("initContainers")
    proxy = sidecar(spec)
    assert "--statusPort" not in proxy["args"]
    assert "readinessProbe" not in proxy


VALUE_CASES: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "statsd-and-metrics-service": (
        {"global": {"proxy": {
            "envoyStatsd": {"enabled": True, "host": "statsd.monitoring", "port": 9125},
            "envoyMetricsService": {"enabled": True, "host": "ems.monitoring", "port": 15999},
        }}},
        {"--statsdUdpAddress": "statsd.monitoring:9125",
         "--envoyMetricsServiceAddress": "ems.monitoring:15999"},
    ),
    "zipkin-address": (
        {"global": {"tracer": {"zipkin": {"address": "jaeger.tracing:9411"}}}},
        {"--zipkinAddress": "jaeger.tracing:9411"},
    ),
    "lightstep": (
        {"global": {"proxy": {"tracer": "lightstep"}, "tracer": {"lightstep": {
            "address": "satellite.ls:8443", "secure": True, "cacertPath": "/etc/lightstep/ca.pem"}}}},
        {"--lightstepAddress": "satellite.ls:8443", "--lightstepCacertPath": "/etc/lightstep/ca.pem",
         "--lightstepAccessToken": "$(LIGHTSTEP_ACCESS_TOKEN)"},
    ),
    "include-ports-value": (
        {"global": {"proxy": {"includeInboundPorts": "*", "kubevirtInterfaces": "eth1"}}},
        {},
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", list(VALUE_CASES))
def test_values_reach_the_injected_sidecar(case: str) -> None:
    values, flags = VALUE_CASES[case]
    spec = inject(render(values))
    proxy = sidecar(spec)
    for flag, value in flags.items():
        assert arg_after(proxy["args"], flag) == value
    if case == "lightstep":
        assert "--zipkinAddress" not in proxy["args"]
        assert "--lightstepSecure=true" in proxy["args"]
        token = env(proxy)["LIGHTSTEP_ACCESS_TOKEN"]["secretKeyRef"]
        assert token == {"name": "lightstep.token", "key": "accessToken", "optional": True}
        mounts = {m["name"]: m["mountPath"] for m in proxy["volumeMounts"]}
        assert mounts["lightstep-certs"] == "/etc/lightstep/"
        volumes = {v["name"]: v for v in spec["volumes"]}
        assert volumes["lightstep-certs"]["secret"]["secretName"] == "lightstep.cacert"
    if case == "include-ports-value":
        init = init_container(spec)
        assert arg_after(init["args"], "-b") == "*"
        assert arg_after(init["args"], "-k") == "eth1"


def test_network_dns_search_and_core_dump() -> None:
    values = {"global": {
        "network": "network-1",
        "podDNSSearchNamespaces": ["global", "NAMESPACE.global"],
        "proxy": {"enableCoreDump": True},
    }}  # fmt: skip
    spec = inject(render(values))
    assert spec["dnsConfig"] == {"searches": ["global", "bookinfo.global"]}
    assert env(sidecar(spec))["ISTIO_META_NETWORK"] == "network-1"
    dump = init_container(spec, "enable-core-dump")
    assert dump["securityContext"]["privileged"] is True
    assert "kernel.core_pattern=/var/lib/istio/core.proxy" in dump["args"][1]
    assert sidecar(spec)["securityContext"]["readOnlyRootFilesystem"] is False


@pytest.mark.parametrize("core_dump", [False, True])
def test_cni_leaves_out_istio_init(core_dump: bool) -> None:
    values = {"istio_cni": {"enabled": True}, "global": {"proxy": {"enableCoreDump": core_dump}}}
    spec = inject(render(values))
    names = [c["name"] for c in spec.get("initContainers") or []]
    assert names == (["enable-core-dump"] if core_dump else [])


def test_sds_mounts_the_node_agent_socket() -> None:
    values = {"global": {"sds": {"enabled": True, "useTrustworthyJwt": True}}}
    spec = inject(render(values))
    volumes = {v["name"] for v in spec["volumes"]}
    assert {"sds-uds-path", "istio-token"} <= volumes
    assert "istio-certs" not in volumes
    assert env(sidecar(spec))["SDS_UDS_PATH"] == "unix:/var/run/sds/uds_path"


# --- the ConfigMaps ----------------------------------------------------------------------------


def test_mesh_config_holds_the_proxy_settings() -> None:
    values = {"global": {"proxy": {
        "accessLogFormat": '{"m": "%REQ(:METHOD)%"}', "accessLogEncoding": "JSON",
        "dnsRefreshRate": "30s", "tracer": "lightstep"},
        "tracer": {"lightstep": {"address": "ls:443", "secure": False}}}}  # fmt: skip
    mesh = yaml.safe_load(one(render(values), "ConfigMap", "istio")["data"]["mesh"])
    assert mesh["accessLogFormat"] == '{"m": "%REQ(:METHOD)%"}'
    assert mesh["accessLogEncoding"] == "JSON"
    assert mesh["dnsRefreshRate"] == "30s"
    assert mesh["defaultConfig"]["tracing"] == {
        "lightstep": {"address": "ls:443", "secure": False, "cacertPath": ""}
    }
    assert "accessToken" not in json.dumps(mesh)


@pytest.mark.parametrize(
    "values,message",
    [
        ({"global": {"proxy": {"envoyStatsd": {"enabled": True}}}}, "envoyStatsd.host"),
        ({"global": {"proxy": {"tracer": "lightstep"}}}, "lightstep.address"),
    ],
)
def test_missing_addresses_fail(values: dict[str, Any], message: str) -> None:
    with pytest.raises(Exception, match=re.escape(message)):
        render(values)


@pytest.mark.parametrize(
    "values",
    [
        {"global": {"network": 'n1" ]] [[ .X'}},
        {"global": {"proxy": {"kubevirtInterfaces": "a`b"}}},
        {"global": {"podDNSSearchNamespaces": ['x" ]]']}},
    ],
)
def test_values_cannot_become_injector_code(values: dict[str, Any]) -> None:
    import jsonschema

    from meshcharts.gotemplate.goyaml import from_yaml

    tree = assemble_components(INJECTOR)
    schema = json.loads(tree.files["values.schema.json"])
    merged = from_yaml(tree.files["values.yaml"].decode())
    for key, value in values["global"].items():
        merged["global"][key] = value if key != "proxy" else {**merged["global"]["proxy"], **value}
    assert list(jsonschema.Draft7Validator(schema).iter_errors(merged))


def test_minimal_pilot_alone_renders_the_injector_configmap() -> None:
    docs = render(None, (COMPONENTS["pilot"],))
    config = injector_config(docs)
    assert config["policy"] == "enabled"
    assert "istio-proxy" in config["template"]
    assert not [d for d in docs if d["kind"] == "MutatingWebhookConfiguration"]
    assert inject(docs)["containers"][0]["name"] == "istio-proxy"


def test_no_pilot_no_injector_no_configmap() -> None:
    docs = render(None, (COMPONENTS["security"],))
    assert not [d for d in docs if d["metadata"]["name"] == "istio-sidecar-injector"]


HELM_CASES: dict[str, dict[str, Any]] = {
    "default": {},
    "lightstep-statsd": {"global": {
        "proxy": {"tracer": "lightstep", "enableCoreDump": True, "kubevirtInterfaces": "eth1",
                  "envoyStatsd": {"enabled": True, "host": "statsd", "port": 9125}},
        "tracer": {"lightstep": {"address": "ls:443", "cacertPath": "/etc/ls/ca.pem"}},
        "network": "n1", "podDNSSearchNamespaces": ["global", "NAMESPACE.global"]}},
    "cni-sds": {"istio_cni": {"enabled": True}, "global": {
        "sds": {"enabled": True, "useNormalJwt": True}, "enableTracing": False,
        "proxy": {"includeInboundPorts": "*"}}},
}  # fmt: skip


@pytest.mark.helm
@pytest.mark.parametrize("case", list(HELM_CASES))
@pytest.mark.parametrize("helm", [HELM3, HELM4])
def test_pure_render_equals_helm(case: str, helm: str) -> None:
    tree = assemble_components(INJECTOR, HELM_CASES[case])
    ours = render_objects(tree, release="istio", namespace=NAMESPACE, values=None)
    theirs = render_tree(tree, helm=helm_binaries()[helm])
    for name in ("istio-sidecar-injector", "istio"):
        assert one(ours, "ConfigMap", name) == one(theirs, "ConfigMap", name)
    assert validate_k8s([one(theirs, "ConfigMap", "istio-sidecar-injector")], "1.37") == []
    # What the injector makes of it is a valid pod spec too.
    spec = inject(theirs)
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "reviews", "namespace": "bookinfo"},
        "spec": {
            k: spec[k]
            for k in ("initContainers", "containers", "volumes", "dnsConfig")
            if spec.get(k)
        },
    }
    assert validate_k8s([pod], "1.37") == []


def test_gateways_get_the_same_telemetry_arguments() -> None:
    values = {"global": {
        "proxy": {"tracer": "lightstep", "envoyMetricsService": {"enabled": True, "host": "ems"}},
        "tracer": {"lightstep": {"address": "ls:443", "cacertPath": "/etc/lightstep/ca.pem"}}}}  # fmt: skip
    docs = render(values, (COMPONENTS["pilot"], COMPONENTS["gateways"]))
    (container,) = one(docs, "Deployment", "istio-ingressgateway")["spec"]["template"]["spec"][
        "containers"
    ]
    assert arg_after(container["args"], "--lightstepAddress") == "ls:443"
    assert arg_after(container["args"], "--envoyMetricsServiceAddress") == "ems:15000"
    assert "--zipkinAddress" not in container["args"]
    assert env(container)["LIGHTSTEP_ACCESS_TOKEN"]["secretKeyRef"]["name"] == "lightstep.token"
    assert arg_after(container["args"], "--lightstepCacertPath") == "/etc/lightstep/ca.pem"
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    assert mounts["lightstep-certs"] == "/etc/lightstep"
    pod = one(docs, "Deployment", "istio-ingressgateway")["spec"]["template"]["spec"]
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes["lightstep-certs"]["secret"] == {
        "secretName": "lightstep.cacert",
        "optional": True,
    }


def test_injector_delimiters() -> None:
    """Actions between [[ ]] run, with trim markers; {{ }} is plain text there."""
    templates = TemplateSet(INJECTOR_FUNCS, methods, name="inject", delims=("[[", "]]"))
    templates.add_file("t", "a {{ .X }} [[- .X -]] b [[/* note */]][[ index .M `k` ]]|")
    assert templates.execute("t", {"X": "x", "M": StringMap()}) == "a {{ .X }}xb |"


@pytest.mark.parametrize(
    "components,values,injector_objects",
    [
        (("pilot", "sidecarInjectorWebhook"), {}, True),
        (("pilot", "sidecarInjectorWebhook"), {"sidecarInjectorWebhook": {"enabled": False}}, False),
        (("pilot",), {}, False),
        (("security", "sidecarInjectorWebhook"), {"global": {"istioRemote": True,
                                                             "remotePilotAddress": "10.0.0.1"}}, True),
    ],
)  # fmt: skip
def test_injector_on_off_keeps_the_template(
    components: tuple[str, ...], values: dict[str, Any], injector_objects: bool
) -> None:
    docs = render(values, tuple(COMPONENTS[n] for n in components))
    kinds = {d["kind"] for d in docs if d["metadata"]["name"] == "istio-sidecar-injector"}
    assert "ConfigMap" in kinds
    assert ("MutatingWebhookConfiguration" in kinds) == injector_objects
    assert ("Deployment" in kinds) == injector_objects
    assert sidecar(inject(docs))["image"] == "docker.io/istio/proxyv2:1.0.6"


@pytest.mark.helm
def test_rich_values_lint_and_validate(tmp_path: Path) -> None:
    values = HELM_CASES["lightstep-statsd"]
    tree = assemble_components((*INJECTOR, COMPONENTS["gateways"]), values)
    docs = render_tree(tree)
    assert validate_k8s(docs, "1.37", allow_custom=MESH_CUSTOM_GROUPS) == []
    assert_lint_strict(helm_binaries()[HELM4], write_tree(tree, tmp_path))
