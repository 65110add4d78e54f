"""The sidecar injector, simulated: the rendered injection template executed over a pod.

The injector (``pilot/pkg/kube/inject/inject.go`` of Istio 1.1) executes the ``template`` of
ConfigMap ``istio-sidecar-injector`` with Go's ``text/template``, delimiters ``[[``/``]]``,
over ``SidecarTemplateData`` (ObjectMeta, Spec, DeploymentMeta, ProxyConfig, MeshConfig)
with its own function map. This module does the same with meshcharts' Go-template engine, a
function map written here after that one, and the proxy config taken from the rendered mesh
ConfigMap. Tests of every component that changes the injected pod use it.
"""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Mapping
from typing import Any

import yaml
from harness import one

from meshcharts.gotemplate import FuncMap, GoFunc, TemplateSet
from meshcharts.gotemplate.builtins import BUILTINS
from meshcharts.gotemplate.gofmt import sprint_value
from meshcharts.gotemplate.gotypes import GoStruct, StringMap


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


def methods(receiver: Any, name: str) -> GoFunc | None:
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
    containers: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Execute the rendered injection template over a sample pod, as the injector does.

    The pod (namespace bookinfo, Deployment reviews-v1, label app=reviews unless ``labels``
    say otherwise) has ``containers``, by default an ``app`` container declaring ``ports``
    and a ``helper`` declaring none. Returns the template's result: the init containers,
    containers and volumes the injector adds.
    """
    mesh = yaml.safe_load(one(docs, "ConfigMap", "istio")["data"]["mesh"])
    template = injector_config(docs)["template"]
    if containers is None:
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
    templates = TemplateSet(INJECTOR_FUNCS, methods, name="inject", delims=("[[", "]]"))
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


def injected_pod(docs: list[dict[str, Any]], *, ports: tuple[int, ...] = (8080,)) -> dict[str, Any]:
    """Pod ``web`` (label app=web, service account web) as the injector would admit it."""
    app = {
        "name": "web",
        "image": "nginx:1.27",
        "ports": [{"containerPort": p} for p in ports],
        "resources": {"requests": {"cpu": "10m"}, "limits": {"cpu": "100m"}},
    }
    added = inject(docs, labels={"app": "web"}, service_account="web", containers=[app])
    spec: dict[str, Any] = {
        "serviceAccountName": "web",
        "containers": [app, *added["containers"]],
    }
    for key in ("initContainers", "volumes", "dnsConfig"):
        if added.get(key):
            spec[key] = added[key]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "web", "namespace": "default", "labels": {"app": "web"}},
        "spec": spec,
    }
