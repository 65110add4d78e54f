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
import posixpath
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml
from harness import assemble_components, assert_lint_strict, one, render_tree, write_tree
from tools import HELM3, HELM4, MESH_CUSTOM_GROUPS, helm_binaries, validate_k8s

from meshcharts.catalog.istio import ISTIO_CHART
from meshcharts.checks.render import render_objects
from meshcharts.gotemplate import FuncMap, GoFunc, TemplateSet
from meshcharts.gotemplate.builtins import BUILTINS
from meshcharts.gotemplate.gofmt import sprint_value
from meshcharts.gotemplate.gotypes import GoStruct, StringMap

COMPONENTS = {c.name: c for c in ISTIO_CHART.components}
INJECTOR = tuple(COMPONENTS[n] for n in ("pilot", "security", "sidecarInjectorWebhook"))
NAMESPACE = "istio-system"


def render(
    values: Mapping[str, Any] | None = None, components: tuple[Any, ...] = INJECTOR
) -> list[dict[str, Any]]:
    tree = assemble_components(components, values)
    return render_objects(tree, release="istio", namespace=NAMESPACE, values=None)


def injector_config(docs: list[dict[str, Any]]) -> dict[str, Any]:
    config: dict[str, Any] = yaml.safe_load(
        one(docs, "ConfigMap", "istio-sidecar-injector")["data"]["config"]
    )
    return config


# --- the injector's function map (inject.go at 1.1.0), written for these tests ------------

_DURATION = re.compile(r"(\d+(?:\.\d+)?)(h|ms|m|s)")
_UNIT = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}


def _format_duration(text: str) -> str:
    """Go's ``time.Duration.String`` of a protobuf duration given as text (whole seconds)."""
    seconds = round(sum(float(n) * _UNIT[u] for n, u in _DURATION.findall(text)))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes}m{secs}s"
    if minutes:
        return f"{minutes}m{secs}s"
    return f"{secs}s"


def _container_ports(containers: list[dict[str, Any]], skip_proxy: bool) -> str:
    return ",".join(
        str(port["containerPort"])
        for c in containers
        if not (skip_proxy and c["name"] == "istio-proxy")
        for port in c.get("ports", [])
    )


def _exclude_inbound_port(port: Any, excluded: str) -> str:
    port_text = sprint_value(port).strip()
    if port_text in ("", "0"):
        return excluded
    ports = [p.strip() for p in excluded.split(",") if p.strip()]
    if port_text in excluded.split(","):
        return excluded
    return ",".join([*ports, port_text])


def _to_json(mapping: Mapping[str, str] | None) -> str:
    if mapping is None:
        return "{}"
    text = json.dumps(dict(mapping), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    # encoding/json escapes HTML characters.
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _from_json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return "{}"


def _indent(spaces: int, source: str) -> str:
    lines = source.split("\n")
    return "\n".join([lines[0], *(" " * spaces + line for line in lines[1:])])


def _annotation(meta: GoStruct, name: str, default: Any) -> str:
    annotations = meta.fields["Annotations"] or {}
    return str(annotations[name]) if name in annotations else sprint_value(default)


INJECTOR_FUNCS: FuncMap = {
    **BUILTINS,
    "formatDuration": GoFunc(_format_duration, ("any",)),
    "isset": GoFunc(lambda m, k: m is not None and k in m, ("any", "string")),
    "excludeInboundPort": GoFunc(_exclude_inbound_port, ("any", "string")),
    "includeInboundPorts": GoFunc(lambda c: _container_ports(c, False), ("any",)),
    "kubevirtInterfaces": GoFunc(lambda s: s, ("string",)),
    "applicationPorts": GoFunc(lambda c: _container_ports(c, True), ("any",)),
    "annotation": GoFunc(_annotation, ("any", "string", "any")),
    "valueOrDefault": GoFunc(lambda v, d: v or d, ("string", "string")),
    "toJSON": GoFunc(_to_json, ("any",)),
    "toJson": GoFunc(_to_json, ("any",)),
    "fromJSON": GoFunc(_from_json, ("string",)),
    "toYaml": GoFunc(lambda v: yaml.safe_dump(v, default_flow_style=False), ("any",)),
    "indent": GoFunc(_indent, ("int", "string")),
    "directory": GoFunc(lambda p: posixpath.split(p)[0] + "/", ("string",)),
}


def _methods(receiver: Any, name: str) -> GoFunc | None:
    if isinstance(receiver, GoStruct):
        method = receiver.methods.get(name)
        return method if isinstance(method, GoFunc) else None
    return None


def _getters(type_name: str, fields: Mapping[str, Any]) -> GoStruct:
    """A protobuf message: each field also has a nil-safe getter Get<Field>."""
    methods = {f"Get{k}": GoFunc(lambda self, k=k: self.fields[k]) for k in fields}
    return GoStruct(type_name, dict(fields), methods)


def _enum(text: str) -> GoStruct:
    return GoStruct("meshconfig.Enum", {}, text=text)


def proxy_config(mesh: Mapping[str, Any]) -> GoStruct:
    """The ProxyConfig the injector reads: defaultConfig of the mesh ConfigMap."""
    default = mesh["defaultConfig"]
    tracing = default.get("tracing", {})
    zipkin = _getters(
        "*meshconfig.Tracing_Zipkin", {"Address": tracing.get("zipkin", {}).get("address", "")}
    )
    lightstep_values = tracing.get("lightstep", {})
    lightstep = _getters(
        "*meshconfig.Tracing_Lightstep",
        {
            "Address": lightstep_values.get("address", ""),
            "AccessToken": "",
            "Secure": lightstep_values.get("secure", False),
            "CacertPath": lightstep_values.get("cacertPath", ""),
        },
    )
    return _getters(
        "*meshconfig.ProxyConfig",
        {
            "ConfigPath": default["configPath"],
            "BinaryPath": default["binaryPath"],
            "DrainDuration": default["drainDuration"],
            "ParentShutdownDuration": default["parentShutdownDuration"],
            "ConnectTimeout": default["connectTimeout"],
            "DiscoveryAddress": default["discoveryAddress"],
            "ProxyAdminPort": default["proxyAdminPort"],
            "Concurrency": default["concurrency"],
            "ControlPlaneAuthPolicy": _enum(default["controlPlaneAuthPolicy"]),
            "InterceptionMode": _enum(default.get("interceptionMode", "REDIRECT")),
            "StatsdUdpAddress": default.get("statsdUdpAddress", ""),
            "EnvoyMetricsServiceAddress": default.get("envoyMetricsServiceAddress", ""),
            "Tracing": _getters("*meshconfig.Tracing", {"Zipkin": zipkin, "Lightstep": lightstep}),
        },
    )


def _meta(
    name: str, namespace: str, labels: Mapping[str, str], annotations: Mapping[str, str]
) -> GoStruct:
    return GoStruct(
        "*v1.ObjectMeta",
        {
            "Name": name,
            "Namespace": namespace,
            "Labels": StringMap(labels),
            "Annotations": StringMap(annotations),
        },
    )


def inject(
    docs: list[dict[str, Any]],
    *,
    annotations: Mapping[str, str] | None = None,
    labels: Mapping[str, str] | None = None,
    ports: tuple[int, ...] = (8080, 9090),
    service_account: str = "bookinfo-reviews",
) -> dict[str, Any]:
    """Execute the rendered injection template over a sample pod, as the injector does."""
    mesh = yaml.safe_load(one(docs, "ConfigMap", "istio")["data"]["mesh"])
    template = injector_config(docs)["template"]
    containers = [
        {"name": "app", "ports": [{"containerPort": p} for p in ports]},
        {"name": "helper"},
    ]
    data = GoStruct(
        "*inject.SidecarTemplateData",
        {
            "DeploymentMeta": _meta("reviews-v1", "bookinfo", {}, {}),
            "ObjectMeta": _meta(
                "", "bookinfo", {"app": "reviews", **(labels or {})}, dict(annotations or {})
            ),
            "Spec": GoStruct(
                "*v1.PodSpec", {"Containers": containers, "ServiceAccountName": service_account}
            ),
            "ProxyConfig": proxy_config(mesh),
            "MeshConfig": GoStruct("*meshconfig.MeshConfig", {"ProxyListenPort": 15001}),
        },
    )
    templates = TemplateSet(INJECTOR_FUNCS, _methods, name="inject", delims=("[[", "]]"))
    templates.add_file("inject", template)
    spec: dict[str, Any] = yaml.safe_load(templates.execute("inject", data))
    return spec


def arg_after(args: list[str], flag: str) -> str:
    return args[args.index(flag) + 1]


def init_container(spec: dict[str, Any], name: str = "istio-init") -> dict[str, Any]:
    (container,) = [c for c in spec.get("initContainers") or [] if c["name"] == name]
    found: dict[str, Any] = container
    return found


def sidecar(spec: dict[str, Any]) -> dict[str, Any]:
    (container,) = spec["containers"]
    assert container["name"] == "istio-proxy"
    found: dict[str, Any] = container
    return found


def env(container: dict[str, Any]) -> dict[str, Any]:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container["env"]}


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
    templates = TemplateSet(INJECTOR_FUNCS, _methods, name="inject", delims=("[[", "]]"))
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
