"""meshcharts.checks.render against real Helm 4.1.4 as the oracle.

* every package of every built-in profile (in the namespace it installs into), and each
  chart with every catalog component compiled in (in the stable and the canary namespace),
  render like ``helm template``: the same objects (documents sorted by kind, namespace and
  name, then compared as whole dicts) and the same text, document by document;
* so do value variants: each component's ``enabled`` switch flipped, and values that take
  the templates down their other branches, in both namespaces;
* ``fail``/``required`` messages, nil pointers and other execution and parse errors read
  exactly as Helm prints them, and so does the ``kubeVersion`` check;
* probe charts print some 300 expressions, one function category per chart, and every line
  must equal Helm's byte for byte.

Helm renders all run once, in parallel, the first time any test needs one.
"""

from __future__ import annotations

import functools
import json
import re
import tempfile
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from harness import assemble_components, builtin_build, builtin_keys
from tools import HELM4, helm_binaries, run_helm, split_manifest

from meshcharts import BuiltPackage, ChartTree
from meshcharts.catalog.charts import builtin_catalog
from meshcharts.checks.render import (
    FUNCTION_NAMES,
    UNSUPPORTED_FUNCTIONS,
    RenderError,
    coalesce_values,
    parse_file,
    render_chart,
    render_objects,
)
from meshcharts.gotemplate import nodes
from meshcharts.gotemplate.goyaml import from_yaml, safe_load_all

RELEASE = "istio"
KUBE = "1.35.0"
NAMESPACES = ("istio-system", "istio-system-canary")
Outcome = tuple[bool, Any]
"""(True, Helm's output) on success, (False, Helm's error message) on failure."""

# --- charts -------------------------------------------------------------------------------


def builtin_packages() -> dict[str, BuiltPackage]:
    """Every package of every built-in profile, keyed ``profile/chart`` (``@revision``)."""
    return {key.key: package for key, package in zip(builtin_keys(), builtin_build(), strict=True)}


def builtin_trees() -> dict[str, ChartTree]:
    """The chart trees of :func:`builtin_packages`."""
    return {key: package.tree for key, package in builtin_packages().items()}


def builtin_namespaces() -> dict[str, str]:
    """The namespace each built-in package installs into (known without building)."""
    namespaces = {key.key: key.namespace for key in builtin_keys()}
    assert set(namespaces.values()) <= set(NAMESPACES), namespaces
    return namespaces


@functools.cache
def full_tree(chart: str) -> ChartTree:
    """``chart`` with every catalog component compiled in."""
    return assemble_components(builtin_catalog().charts[chart].components, chart=chart)


def probe_tree(templates: Mapping[str, str], values: str = "{}\n") -> ChartTree:
    """A tiny chart ``probe`` with these templates and values.yaml text."""
    metadata = {"apiVersion": "v2", "name": "probe", "version": "0.1.0", "appVersion": "1.2"}
    files = {
        "Chart.yaml": yaml.safe_dump(metadata).encode(),
        "values.yaml": values.encode(),
        "README.md": b"probe readme\n",
        **{f"templates/{name}": text.encode() for name, text in templates.items()},
    }
    return ChartTree("probe", "0.1.0", metadata, files)


# --- the Helm oracle --------------------------------------------------------------------------

_Job = tuple[str, str, str, str]
"""(tree key, values JSON, namespace, Kubernetes version); tree keys name builtin, full
and probe trees."""

_TREES: dict[str, ChartTree] = {}
_JOBS: dict[_Job, None] = {}


def _tree(key: str) -> ChartTree:
    if key not in _TREES:
        kind, _, name = key.partition(":")
        _TREES[key] = builtin_trees()[name] if kind == "builtin" else full_tree(name)
    return _TREES[key]


def _helm_run(job: _Job) -> Outcome:
    key, values_json, namespace, kube_version = job
    tree = _tree(key)
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch) / tree.name
        for relpath, data in tree.files.items():
            path = root / relpath
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        values = Path(scratch) / "values.json"
        values.write_text(values_json)
        proc = run_helm(
            helm_binaries()[HELM4],
            *("template", RELEASE, str(root), "--namespace", namespace, "-f", str(values)),
            *("--kube-version", kube_version),
            check=False,
        )
    if proc.returncode:
        return False, helm_error(proc.stderr)
    return True, proc.stdout


def helm_error(stderr: str) -> str:
    """Helm's error message without ``Error: `` and the ``--debug`` hint."""
    return stderr.removeprefix("Error: ").split("\n\nUse --debug flag")[0].rstrip("\n")


_RESULTS: dict[_Job, Outcome] = {}


def helm(job: _Job) -> Outcome:
    """Helm's outcome for ``job``; the first call renders every registered job at once."""
    if job not in _RESULTS:
        pending = [j for j in {**_JOBS, job: None} if j not in _RESULTS]
        with ThreadPoolExecutor(max_workers=4) as pool:
            _RESULTS.update(zip(pending, pool.map(_helm_run, pending), strict=True))
    return _RESULTS[job]


def register(
    key: str, values: Mapping[str, Any] | None, namespace: str, kube_version: str = KUBE
) -> _Job:
    """Declare a Helm render some test will need (so they all run in one parallel batch)."""
    job = (key, json.dumps(values or {}, sort_keys=True), namespace, kube_version)
    _JOBS[job] = None
    return job


def identity(doc: Mapping[str, Any]) -> tuple[str, str, str]:
    metadata = doc.get("metadata") or {}
    return (str(doc.get("kind")), str(metadata.get("namespace") or ""), str(metadata.get("name")))


_SEPARATOR = re.compile(r"(?:^|\s*\n)---\s*")
"""Helm's ``SplitManifests`` separator."""


def helm_manifests(stdout: str) -> dict[str, list[str]]:
    """``helm template`` output as template path -> its documents' texts (sorted)."""
    found: dict[str, list[str]] = {}
    for chunk in stdout.split("---\n# Source: ")[1:]:
        path, _, body = chunk.partition("\n")
        found.setdefault(path, []).append(body.strip())
    return {path: sorted(docs) for path, docs in found.items()}


def split_documents(text: str) -> list[str]:
    """A rendered template's documents as Helm splits and trims them."""
    return [doc.strip() for doc in _SEPARATOR.split(text) if doc.strip()]


def assert_renders_like_helm(
    job: _Job, tree: ChartTree, values: Mapping[str, Any] | None, namespace: str
) -> None:
    """The same documents as Helm, byte for byte and object for object; or the same error.

    Objects are parsed from :func:`render_chart`'s texts as :func:`render_objects` parses
    them (:func:`test_render_objects_parses_the_rendered_manifests` checks that).
    """
    ok, expected = helm(job)
    try:
        files = render_chart(tree, release=RELEASE, namespace=namespace, values=values)
    except RenderError as exc:
        assert not ok, f"Helm renders, meshcharts fails: {exc}"
        assert str(exc) == expected
        return
    assert ok, f"meshcharts renders, Helm fails: {expected}"
    manifests = [f for f in files if not f.path.endswith("/NOTES.txt")]
    texts = {f.path: sorted(split_documents(f.text)) for f in manifests}
    assert {path: docs for path, docs in texts.items() if docs} == helm_manifests(expected)
    objects = [doc for f in manifests for doc in safe_load_all(f.text) if doc is not None]
    want = sorted(split_manifest(expected), key=identity)
    got = sorted(objects, key=identity)
    assert [identity(d) for d in got] == [identity(d) for d in want]
    for wanted, doc in zip(want, got, strict=True):
        assert doc == wanted, identity(doc)


# --- built-in profiles ------------------------------------------------------------------------

BASE_JOBS = [
    *(register(f"builtin:{key}", None, ns) for key, ns in builtin_namespaces().items()),
    *(
        register(f"full:{chart}", None, ns)
        for chart in builtin_catalog().charts
        for ns in NAMESPACES
    ),
]
"""Each built-in package in the namespace it installs into (stable or canary); every
component compiled in, in both."""


@pytest.mark.parametrize("job", BASE_JOBS, ids=lambda j: f"{j[0]}-{j[2]}")
def test_charts_render_like_helm(job: _Job) -> None:
    key, _, namespace, _ = job
    assert_renders_like_helm(job, _tree(key), None, namespace)


# --- value variants ---------------------------------------------------------------------------


def _switch_variants() -> dict[str, dict[str, Any]]:
    """For each component with an ``enabled`` switch: the switch flipped from its default."""
    variants: dict[str, dict[str, Any]] = {}
    for chart in builtin_catalog().charts.values():
        for component in chart.components:
            defaults = component.defaults
            if isinstance(defaults, dict) and isinstance(defaults.get("enabled"), bool):
                flipped = not defaults["enabled"]
                name = f"{chart.name}:{component.name}.enabled={str(flipped).lower()}"
                variants[name] = {component.name: {"enabled": flipped}}
    return variants


_TLS = {"mode": "SIMPLE"}
_GATEWAY_RESOURCES = [
    {"name": "bookinfo", "hosts": ["bookinfo.example.com"],
     "port": {"number": 443, "name": "https", "protocol": "HTTPS"}, "tls": _TLS},
    {"name": "bookinfo-mtls", "hosts": ["mtls.example.com"],
     "port": {"number": 443, "name": "https-mtls", "protocol": "HTTPS"},
     "tls": {"mode": "MUTUAL", "subjectAltNames": ["spiffe://example.com/client"]}},
    {"name": "http-redirect", "hosts": ["*"], "port": {"number": 80, "name": "http", "protocol": "HTTP"},
     "tls": {"httpsRedirect": True}},
]  # fmt: skip
_MY_GATEWAY = {
    "enabled": True,
    "labels": {"istio": "mygateway", "team": "edge"},
    "ports": [{"port": 8443, "name": "https"}, {"port": 80, "name": "http2", "nodePort": 30080}],
    "secretVolumes": [{"name": "my-certs", "secretName": "my-gateway-certs",
                       "mountPath": "/etc/istio/my-certs"}],
    "gatewayResources": [{"name": "my-https", "hosts": ["my.example.com"],
                          "port": {"number": 8443, "name": "https", "protocol": "HTTPS"},
                          "tls": _TLS}],
}  # fmt: skip
_TRAFFIC = [
    {"name": "reviews", "host": "reviews", "namespace": "bookinfo",
     "subsets": [{"name": "v1", "labels": {"version": "v1"}, "weight": 90},
                 {"name": "v2", "labels": {"version": "v2", "track": "canary"}, "weight": 10},
                 {"name": "v3", "labels": {"version": "v3"}}],
     "mirror": {"subset": "v3"},
     "fault": {"delay": {"fixedDelay": "5s", "percent": 10}, "abort": {"httpStatus": 503}},
     "retries": {"attempts": 3, "perTryTimeout": "2s", "retryOn": "5xx,connect-failure"},
     "timeout": "10.5s",
     "trafficPolicy": {"loadBalancer": {"simple": "LEAST_CONN"},
                       "connectionPool": {"tcp": {"maxConnections": 1000000, "connectTimeout": "30ms"},
                                          "http": {"http1MaxPendingRequests": 10, "maxRetries": 3}}}},
    {"name": "ratings", "host": "ratings.default.svc.cluster.local",
     "gateways": ["mesh", "istio-system/bookinfo-gateway"],
     "subsets": [{"name": "v1", "labels": {"version": "v1", "ready": "true"}}]},
]  # fmt: skip
_SECURITY = {
    "selfSigned": False,
    "createMeshPolicy": False,
    "jwt": [
        {"name": "productpage-jwt", "issuer": "testing@secure.istio.io",
         "targets": [{"name": "productpage", "ports": [{"number": 9080}, {"name": "http"}]}],
         "jwksUri": "https://example.com/jwks.json", "audiences": ["bookinfo"],
         "triggerRules": [{"excludedPaths": [{"exact": "/health"}]}], "principalBinding": "USE_ORIGIN"},
        {"name": "default", "namespace": "bookinfo", "issuer": "i"},
    ],
    "rbac": {
        "mode": "ON_WITH_INCLUSION",
        "inclusion": {"namespaces": ["bookinfo"], "services": ["a.b.svc.cluster.local"]},
        "roles": [{"name": "viewer", "namespace": "bookinfo",
                   "rules": [{"services": ["*"], "methods": ["GET", "HEAD"], "paths": ["/api/*"],
                              "constraints": [{"key": "destination.labels[version]", "values": ["v1"]}]}]}],
        "bindings": [{"name": "bind-viewer", "namespace": "bookinfo",
                      "subjects": [{"user": "*"}, {"group": "admins", "properties": {"source.namespace": "x"}}],
                      "roleRef": {"kind": "ServiceRole", "name": "viewer"}}],
    },
}  # fmt: skip
_MIXER = {
    "adapters": {
        "stdio": {"enabled": True},
        "stackdriver": {"enabled": True, "projectId": "my-project", "tracer": {"enabled": True}},
        "datadog": {"enabled": True, "globalTags": {"env": "prod"}},
        "skywalking": {"enabled": True},
    },
    "policy": {"rateLimits": [{
        "name": "reviews", "service": "reviews.default.svc.cluster.local", "maxAmount": 100,
        "validDuration": "1s",
        "overrides": [{"dimensions": {"source": "10.28.11.20"}, "maxAmount": 5, "validDuration": "5s"}],
    }]},
}  # fmt: skip

INTERESTING: dict[str, dict[str, Any]] = {
    "pilot-replicas": {"pilot": {
        "autoscaleEnabled": False, "replicaCount": 3, "sidecar": False, "traceSampling": 0.5,
        "env": {"FOO": "bar", "PILOT_TRACE_SAMPLING": "5", "Z": "0777"},
        "nodeSelector": {"disk": "ssd"}, "image": "gcr.io/me/pilot:1.2",
        "tolerations": [{"key": "k", "operator": "Exists", "effect": "NoSchedule"}],
        "podAnnotations": {"a/b": "yes", "n": "1"}}},
    "global-misc": {"global": {
        "controlPlaneSecurityEnabled": True, "priorityClassName": "high",
        "defaultNodeSelector": {"zone": "a"}, "imagePullSecrets": ["s1", "s2"],
        "hub": "my.registry/istio", "tag": "1.1.0-rc.1", "monitoringPort": 15015,
        "defaultPodDisruptionBudget": {"enabled": False}, "disablePolicyChecks": False,
        "tracer": {"zipkin": {"address": "zipkin.other:9411"}}, "enableTracing": False}},
    "security-strict": {"global": {"mtls": {"mode": "strict"}}, "security": _SECURITY},
    "injector": {"sidecarInjectorWebhook": {"enableNamespacesByDefault": True,
                                            "rewriteAppHTTPProbe": True, "replicaCount": 2}},
    "galley": {"galley": {"validation": {"enabled": False}, "replicaCount": 2}},
    "budgets": {"pilot": {"autoscaleMin": 2}, "mixer": {"telemetry": {"autoscaleMin": 3}},
                "security": {"replicaCount": 2}, "sidecarInjectorWebhook": {"replicaCount": 2},
                "istiocoredns": {"enabled": True, "replicaCount": 2,
                                 "nodeSelector": {"disk": "ssd"}, "podAnnotations": {"a": "b"}}},
    "gateways": {"global": {"meshExpansion": {"enabled": True}}, "gateways": {
        "istio-ingressgateway": {"gatewayResources": _GATEWAY_RESOURCES, "type": "NodePort"},
        "istio-egressgateway": {"enabled": True},
        "egress": {"sniHosts": ["edition.cnn.com", "*.wikipedia.org"]},
        "my-gateway": _MY_GATEWAY}},
    "gateways-fixed": {"gateways": {"istio-ingressgateway": {
        "autoscaleEnabled": False, "replicaCount": 2, "loadBalancerIP": "10.0.0.1",
        "externalTrafficPolicy": "Local", "serviceAnnotations": {"lb": "internal"}}}},
    "mixer": {"global": {"disablePolicyChecks": False, "controlPlaneSecurityEnabled": True},
              "mixer": _MIXER},
    "mixer-telemetry": {"mixer": {"policy": {"enabled": False}, "telemetry": {
        "autoscaleEnabled": False, "replicaCount": 2, "sessionAffinityEnabled": True}}},
    "traffic": {"trafficPolicies": _TRAFFIC},
    "prometheus": {"prometheus": {
        "service": {"nodePort": {"enabled": True}, "annotations": {"x": "y"}},
        "ingress": {"enabled": True, "hosts": ["prom.example.com"], "annotations": {"a": "b"},
                    "tls": [{"secretName": "s", "hosts": ["prom.example.com"]}]}}},
    "grafana": {"grafana": {"enabled": True, "persist": True, "storageClassName": "fast",
                            "security": {"enabled": True},
                            "ingress": {"enabled": True, "hosts": ["g.example.com"]}}},
    "tracing-zipkin": {"tracing": {"enabled": True, "provider": "zipkin",
                                   "ingress": {"enabled": True, "hosts": ["t.example.com"]}}},
    "kiali": {"kiali": {"enabled": True, "createDemoSecret": True,
                        "ingress": {"enabled": True, "hosts": ["k.example.com"]},
                        "dashboard": {"grafanaURL": "http://g", "jaegerURL": "http://j"}}},
    "addons": {"grafana": {"enabled": True}, "tracing": {"enabled": True},
               "kiali": {"enabled": True}, "servicegraph": {"enabled": True},
               "nodeagent": {"enabled": True}, "certmanager": {"enabled": True, "email": "a@b.c"}},
    "null-deletes": {"pilot": {"env": None, "podAnnotations": None}},
    "fail-autoscale": {"gateways": {"istio-ingressgateway": {"autoscaleMin": 7, "autoscaleMax": 2}}},
    "fail-weights": {"trafficPolicies": [{"name": "r", "host": "r", "subsets": [
        {"name": "v1", "labels": {"version": "v1"}, "weight": 30},
        {"name": "v2", "labels": {"version": "v2"}, "weight": 30}]}]},
    "fail-ilb": {"global": {"meshExpansion": {"enabled": True, "useILB": True}}},
    "nil-pointer": {"global": {"tracer": None}},
}  # fmt: skip
"""Values that take the templates down other branches; ``fail-*`` and ``nil-pointer`` fail."""

VARIANTS = {**_switch_variants(), **INTERESTING}


def _variant_chart(name: str) -> str:
    chart = name.split(":", 1)[0] if ":" in name else "istio"
    return chart if chart in builtin_catalog().charts else "istio"


SWITCHES = _switch_variants()
VARIANT_JOBS = {
    (name, ns): register(f"full:{_variant_chart(name)}", VARIANTS[name], ns)
    for name in VARIANTS
    for ns in (NAMESPACES[:1] if name in SWITCHES else NAMESPACES)
}
"""Interesting values in both namespaces; a flipped switch (a subset of the objects) in one."""


@pytest.mark.parametrize("variant,namespace", list(VARIANT_JOBS), ids=lambda v: str(v))
def test_value_variants_render_like_helm(variant: str, namespace: str) -> None:
    tree = full_tree(_variant_chart(variant))
    values = VARIANTS[variant]
    merged = coalesce_values(from_yaml(tree.files["values.yaml"].decode()), values)
    schema = jsonschema.Draft7Validator(json.loads(tree.files["values.schema.json"]))
    problems = [e.message for e in schema.iter_errors(merged)]
    if problems:
        pytest.fail(
            f"variant {variant} no longer fits the chart's schema: {problems[0]}; update it"
        )
    assert_renders_like_helm(VARIANT_JOBS[variant, namespace], tree, values, namespace)


def test_fail_messages_read_as_helm_prints_them() -> None:
    with pytest.raises(RenderError) as failed:
        render_objects(
            full_tree("istio"), release=RELEASE, namespace="ns", values=VARIANTS["fail-weights"]
        )
    assert re.fullmatch(
        r"execution error at \(istio/templates/trafficPolicies/\w+\.yaml:\d+:\d+\): "
        r"trafficPolicies\[0\] \(r\): the subset weights add up to 60; they must add up to 100",
        str(failed.value),
    )
    with pytest.raises(RenderError) as caught:
        render_chart(
            full_tree("istio"), release=RELEASE, namespace="ns", values=VARIANTS["fail-autoscale"]
        )
    assert caught.value.message == (
        "gateways.istio-ingressgateway.autoscaleMin (7) must not exceed "
        "gateways.istio-ingressgateway.autoscaleMax (2)"
    )
    assert caught.value.template.startswith("istio/templates/gateways/")


def test_nil_pointer_errors_name_the_field_and_template() -> None:
    with pytest.raises(RenderError) as caught:
        render_chart(
            full_tree("istio"), release=RELEASE, namespace="ns", values=VARIANTS["nil-pointer"]
        )
    assert caught.value.message == "nil pointer evaluating interface {}.zipkin"
    assert 'executing "istio.zipkinAddress" at <' in str(caught.value)


KUBE_JOBS = {v: register("full:istio", None, "istio-system", v) for v in ("1.20.0", "1.30.2-eks-1")}


@pytest.mark.parametrize("kube_version", list(KUBE_JOBS))
def test_chart_kube_version_constraint_is_checked_as_helm_does(kube_version: str) -> None:
    """``kubeVersion: >=1.25.0-0`` refuses 1.20 and admits a pre-release 1.30 build."""
    tree = full_tree("istio")
    ok, expected = helm(KUBE_JOBS[kube_version])
    try:
        render_chart(tree, release=RELEASE, namespace="istio-system", kube_version=kube_version)
    except RenderError as exc:
        assert (ok, str(exc)) == (False, expected)
    else:
        assert ok, expected


# --- probe charts: expressions, one category per template ------------------------------------

PROBE_VALUES = r"""
i: 1000000
s: 5
f: 0.5
neg: -3
big: 12345678901234567890
small: 0.0000001
str: "hello world"
yes: yes
date: 2020-01-01
octal: 0777
hex: 0x1F
under: 1_000
n: null
empty: ""
lst: [1, null, "a", 2.5, true]
strs: ["b", "a", "c", "a"]
m: {b: 1, a: [1, 2, {c: d}], "10": x, "9": y, "a10": 1, "a9": 2, z: null}
long: "aaaa bbbb cccc dddd eeee ffff gggg hhhh iiii jjjj kkkk llll mmmm nnnn oooo pppp qqqq rrrr sss"
multi: "line1\nline2\n"
tricky: {k1: " lead", k2: "trail ", k3: "a: b", k4: "- x", k5: "#c", k6: "x #y", k7: "tab\there",
  k8: "q'uote", k9: "d\"q", k10: "true", k11: "1.5", k12: "", k13: "ünï", k14: "@at", k15: "%p",
  k16: "!b", k17: "*s", k18: "&a", k19: "? q", k20: "{b", k21: "a,b", k22: "~", k23: "null",
  k24: "NULL", k25: "Yes", k26: "off", k27: "1e3", k28: ".5", k29: "+1", k30: "0b101",
  k31: "1:20", k32: "-", k33: "---", k34: "...", k35: "a\r\nb", k36: "emoji 😀", k37: "a\n\n",
  k38: " a\nb", k39: "\na", k40: "2020-01-01", k41: "0x1F", k42: "08", k43: "a \nb"}
nested: {list: [[1, 2], [], {}, {x: [a, b]}], deep: {deeper: {deepest: 1}}}
wrapping:
  a: "x #y aaaa bbbb cccc dddd eeee ffff gggg hhhh iiii jjjj kkkk llll mmmm nnnn oooo pppp qqqq rrrr"
  b: "tab\there aaaa bbbb cccc dddd eeee ffff gggg hhhh iiii jjjj kkkk llll mmmm nnnn oooo  pppp"
  c: "- aaaa bbbb cccc dddd eeee ffff gggg hhhh iiii jjjj kkkk llll mmmm nnnn oooo pppp qqqq rrrr"
  d: "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa bbb"
  e: "multi\nline with a long line aaaa bbbb cccc dddd eeee ffff gggg hhhh iiii jjjj kkkk llll mmmm\n"
  f:
    ? a long key aaaa bbbb cccc dddd eeee ffff gggg hhhh iiii jjjj kkkk llll mmmm nnnn oooo pppp
      qqqq rrrr ssss tttt uuuu vvvv wwww xxxx yyyy zzzz 1111 2222 3333
    : 1
  g: ["aaaa bbbb cccc dddd eeee ffff gggg hhhh iiii jjjj kkkk llll mmmm nnnn oooo pppp qqqq rrrr",
      [["aaaa bbbb cccc dddd eeee ffff gggg hhhh iiii jjjj kkkk llll mmmm nnnn oooo pppp qqqq"]]]
  h: "ends with space aaaa bbbb cccc dddd eeee ffff gggg hhhh iiii jjjj kkkk llll mmmm nnnn oo "
  i: "\u00a0nbsp start"
  j: "a  b   c    d aaaa bbbb cccc dddd eeee ffff gggg hhhh iiii jjjj kkkk llll mmmm nnnn oooo pppp"
"""


def _lines(text: str) -> list[str]:
    """The non-empty lines of ``text``, stripped: one template expression each."""
    return [line.strip() for line in text.strip().splitlines() if line.strip()]


PROBES: dict[str, list[str]] = {
    "values-and-types": _lines(
        r"""
        .Values.i
        .Values.s
        .Values.f
        .Values.neg
        .Values.big
        .Values.small
        .Values.yes
        .Values.date
        .Values.octal
        .Values.hex
        .Values.under
        .Values.n
        .Values.missing
        .Values.lst
        .Values.m
        .Values.nested
        typeOf .Values.s
        kindOf .Values.lst
        typeOf .Values.m
        typeOf .Values
        kindOf .Values
        typeOf 3
        typeOf 3.0
        typeOf (add 1 2)
        typeOf (int 3.5)
        typeOf (int64 3)
        typeOf (float64 3)
        typeOf nil
        kindOf nil
        kindIs "map" .Values.m
        typeIs "float64" .Values.s
        typeIsLike "float64" .Values.s
        typeOf (list)
        typeOf (splitList "," "a")
        typeOf (until 2)
        typeOf (dict)
        typeOf (split "," "a")
        deepEqual (list 1) (list 1)
        deepEqual 1 1.0
"""
    ),
    "fmt": _lines(
        r"""
        printf "%d" .Values.s
        printf "%d" (int .Values.s)
        printf "%v %v" .Values.i .Values.big
        printf "%s|%q" .Values.str .Values.str
        printf "%x %X %o %b" 255 255 8 5
        printf "%5d|%-5d|%05d" 42 42 42
        printf "%.2f %e %g %.3g" 3.14159 1234.5678 0.0000123 1234.5
        printf "%t %v" true false
        printf "%s %d" "a"
        printf "%s" "a" "b"
        printf "%v" .Values.lst
        printf "%v" .Values.m
        printf "%s" .Values.strs
        printf "%q" .Values.strs
        printf "%T %T %T" 1 .Values.s "x"
        printf "%%|%c" 65
        printf "%8.3f|%-8s|%8s" 3.14159 "ab" "cd"
        printf "%s" nil
        printf "%v" nil
        print 1 2 "a" "b" 3 nil .Values.lst
        println 1 "a"
        quote .Values.str
        quote .Values.s .Values.n "x"
        squote .Values.str
        quote .Values.missing
        toString .Values.s
        toString .Values.f
        toString .Values.n
        toString .Values.lst
"""
    ),
    "yaml-json": _lines(
        r"""
        toYaml .Values.m
        toYaml .Values.tricky
        toYaml .Values.nested
        toYaml .Values.long
        toYaml .Values.multi
        toYaml .Values.lst
        toYaml .Values.i
        toYaml .Values.big
        toYaml .Values.small
        toYaml (dict "k" .Values.long "n" (list .Values.long))
        toYaml (list (list (list 1)))
        toYaml (dict "a" (dict) "b" (list) "c" nil)
        toYaml "abc"
        toYaml ""
        toYaml nil
        toYaml 1.5
        toJson .Values.m
        toJson .Values.tricky
        toJson .Values
        toJson (list 1 2.5 "x" nil true)
        toPrettyJson (dict "a" 1 "b" (list 1 2))
        toRawJson (dict "a" "<&>")
        fromYaml "a: 1\nb: [x, y]\nc: yes" | toJson
        fromYaml "" | toJson
        fromYamlArray "- 1\n- b" | toJson
        fromJson "{\"a\": 1, \"b\": [true, null]}" | toJson
        mustFromJson "[1, 2]" | toJson
        nindent 4 (toYaml .Values.nested)
        toYaml .Values.wrapping
        toYaml (list (dict "deeper" .Values.wrapping))
        toYaml (printf "and %c nel, %c %c two %c" 133 133 133 133)
"""
    ),
    "strings": _lines(
        r"""
        nindent 4 "a\nb"
        indent 2 "a\nb\n"
        trim "  a b  "
        trimAll "-" "--a-b--"
        trimSuffix "-" "abc-"
        trimPrefix "ab" "abc"
        trunc 3 "abcdef"
        trunc -2 "abcdef"
        trunc 10 "abc"
        replace "." "-" "a.b.c"
        upper "abc"
        lower "ABC"
        title "hello world-foo_bar"
        untitle "Hello World"
        repeat 3 "ab"
        substr 1 3 "abcdef"
        nospace " a b\tc "
        initials "hello big world"
        abbrev 5 "hello world"
        contains "ell" "hello"
        hasPrefix "he" "hello"
        hasSuffix "lo" "hello"
        cat "a" 1 nil "b"
        plural "one" "many" 2
        snakecase "FirstName"
        kebabcase "FirstName"
        camelcase "http_server"
        swapcase "aBc"
        split "/" "a/b/c"
        splitList "," "a,b,,c"
        splitn "/" 2 "a/b/c"
        join "-" .Values.strs
        join "," (list 1 "a" nil 2.5)
        sortAlpha .Values.strs
        toStrings (list 1 "a" 2.5)
        len "héllo"
"""
    ),
    "regex-encoding-paths": _lines(
        r"""
        regexMatch "^h.*o$" "hello"
        regexFind "[0-9]+" "abc123def456"
        regexFindAll "[0-9]+" "abc123def456" -1
        regexReplaceAll "(a)(b)" "xabyab" "$2$1"
        regexReplaceAll "a(?P<x>b)" "ab" "${x}!"
        regexReplaceAllLiteral "a" "banana" "$1"
        regexSplit "[,;]" "a,b;c" -1
        regexQuoteMeta "a.b*c"
        sha256sum "hello"
        sha1sum "hello"
        adler32sum "hello"
        b64enc "hello"
        b64dec "aGVsbG8="
        b32enc "hello"
        base "/a/b/c.txt"
        dir "/a/b/c.txt"
        ext "/a/b/c.txt"
        clean "/a/../b/./c/"
        isAbs "/a"
        html "<a>&'\""
        js "a'b\"<c>"
        urlquery "a b&c"
"""
    ),
    "defaults-dicts": _lines(
        r"""
        default "d" .Values.missing
        default "d" .Values.empty
        default "d" .Values.str
        default "d" 0
        .Values.missing | default "x"
        empty .Values.n
        empty .Values.lst
        coalesce .Values.n .Values.empty "c"
        ternary "yes" "no" true
        all 1 "a" true
        any 0 "" nil 1
        dict "a" 1 "b" "c" "d"
        dict "a" 1 "b"
        get .Values.m "b"
        get .Values.m "nope"
        hasKey .Values.m "b"
        hasKey .Values.m "nope"
        keys .Values.m | sortAlpha
        values (dict "a" 1)
        pluck "a" (dict "a" 1) (dict "b" 2) (dict "a" 3)
        pick (dict "a" 1 "b" 2) "a"
        omit (dict "a" 1 "b" 2) "a"
        merge (dict "a" 1 "c" (dict "x" 1)) (dict "a" 2 "b" 3 "c" (dict "y" 2))
        mergeOverwrite (dict "a" 1 "c" (dict "x" 1)) (dict "a" 2 "b" 3 "c" (dict "y" 2))
        set (dict "a" 1) "b" 2
        unset (dict "a" 1 "b" 2) "a"
        dig "a" "b" "dflt" (dict "a" (dict "b" "found"))
        dig "a" "x" "dflt" (dict "a" (dict))
        dig "nested" "deep" "deeper" "deepest" 0 .Values.AsMap
        deepCopy .Values.m
"""
    ),
    "lists": _lines(
        r"""
        list 1 "a" nil
        append .Values.lst "x"
        prepend .Values.lst "x"
        first .Values.lst
        last .Values.lst
        rest .Values.lst
        initial .Values.lst
        reverse .Values.lst
        uniq .Values.strs
        without .Values.strs "a"
        has "a" .Values.strs
        has 1 .Values.lst
        has 1.0 .Values.lst
        slice .Values.strs 1 3
        slice .Values.strs 1
        concat .Values.strs (list 1 2)
        chunk 2 .Values.strs
        first (list)
        rest (list) | toJson
        concat (list) | toJson
        compact (list 1 0 "" nil "a")
        until 3
        untilStep 1 10 3
        untilStep 10 1 -3
        seq 5
        seq 2 5
        seq 5 2
        seq 0 2 10
        len .Values.lst
        index .Values.lst 2
        index .Values.m "a" 2 "c"
        index "abc" 1
        index .Values.m "nope"
"""
    ),
    "math-logic-semver": _lines(
        r"""
        atoi "42"
        atoi "x"
        int "42"
        int "0x1F"
        int "5.00"
        int 3.9
        int -3.9
        int64 "7"
        float64 "2.5"
        add 1 2 3
        add .Values.s 1.9
        add1 .Values.f
        sub 5 7
        mul 2 3 4
        div 7 2
        div -7 2
        mod 7 3
        mod -7 3
        max 1 5 3
        min 1 5 3
        addf 1.1 2.2
        add1f 1.5
        subf 5 1.1
        mulf 1.1 3
        divf 10 3
        maxf 1.5 2.5
        minf 1.5 2.5
        ceil 1.2
        floor 1.8
        round 2.345 2
        round 2.5 0
        eq 1 1
        eq "a" "b" "a"
        eq .Values.n nil
        eq .Values.s 5.0
        ne 1 2
        lt 1 2
        le 2 2
        gt "b" "a"
        ge 1.5 2.5
        and 1 0 2
        and 1 2 3
        or 0 "" "x"
        or 0 ""
        not 0
        not .Values.lst
        semverCompare ">=1.25.0-0" "v1.35.0"
        semverCompare "~1.2" "1.2.9"
        semverCompare "^1.2" "1.9.0"
        semverCompare "<1.0" "1.0.0"
        semverCompare ">1.2.x" "1.3.0"
        semverCompare "1.2 - 1.4" "1.3.0"
        semverCompare ">=1.0 <2.0 || >=3.0" "3.1"
        semverCompare "!=1.2.3" "1.2.3"
        semverCompare "^0.2.3" "0.3.0"
        semverCompare ">=1.25" "1.26.0-rc.1"
        semver "1.2.3-beta+b1"
        (semver "1.2.3").Major
"""
    ),
    "objects": _lines(
        r"""
        .Release.Name
        .Release.Namespace
        .Release.IsInstall
        .Release.IsUpgrade
        .Release.Revision
        .Release.Service
        .Chart.Name
        .Chart.Version
        .Chart.AppVersion
        .Chart.Nope
        .Template.Name
        .Template.BasePath
        .Capabilities.KubeVersion
        .Capabilities.KubeVersion.Version
        .Capabilities.KubeVersion.Major
        .Capabilities.KubeVersion.Minor
        .Capabilities.KubeVersion.GitVersion
        .Capabilities.APIVersions.Has "apps/v1"
        .Capabilities.APIVersions.Has "apps/v1/Deployment"
        .Files.Get "README.md"
        .Values.AsMap | typeOf
        lookup "v1" "Pod" "ns" "name"
        include "t.echo" .Values.s
"""
    ),
}
"""Expressions printed by the probe charts, by function category."""

PROBE_PROGRAM = r"""
{{- $x := 1 }}{{ $x = 2 }}V1 {{ $x }}
V2 {{ range $i, $v := .Values.strs }}{{ $i }}={{ $v }};{{ end }}
V3 {{ range $k, $v := .Values.m }}{{ $k }}={{ $v }};{{ end }}
V4 {{ range .Values.nope }}x{{ else }}empty{{ end }}
V5 {{ range 3 }}{{ . }}{{ end }}
V6 {{ range $i, $v := .Values.lst }}{{ if eq $i 2 }}{{ break }}{{ end }}{{ $v }}{{ end }}
V7 {{ range .Values.strs }}{{ if eq . "a" }}{{ continue }}{{ end }}{{ . }}{{ end }}
V8 {{ with .Values.m }}{{ .b }}{{ else }}none{{ end }} {{ with .Values.nope }}x{{ else }}none{{ end }}
V9 {{ if .Values.n }}a{{ else if .Values.empty }}b{{ else if .Values.str }}c{{ end }}
V10 {{ with .Values.nope }}a{{ else with .Values.str }}{{ . }}{{ end }}
V11 {{ $v := "o" }}{{ if true }}{{ $v := "i" }}{{ $v }}{{ end }} {{ $v }} {{ if 1 }}{{ $v = "s" }}{{ end }}{{ $v }}
V12 {{ template "t.echo" .Values.str }} {{ block "t.block" . }}default block{{ end }}
V13 {{- /* a comment */ -}} trimmed {{- " x " -}} !
V14 {{ .Values.m.a }} {{ (index .Values.m.a 2).c }} {{ $.Values.s }}
V15 {{ "esc\t\"\x41\u00e9\101" }} {{ `raw\n` }} {{ 'a' }} {{ 0x10 }} {{ 1e3 }} {{ -5 }} {{ 0o17 }}
V16 {{ range $i, $c := until 3 }}{{ $i }}{{ end }} {{ range $k, $v := (split "," "a,b") }}{{ $k }}:{{ $v }} {{ end }}
V17 {{ $m := dict }}{{ range $k := list "a" "b" }}{{ $_ := set $m $k true }}{{ end }}{{ $m }}
V18 {{ $l := list }}{{ range .Values.strs }}{{ $l = append $l (upper .) }}{{ end }}{{ $l }}
V19 <no value> {{ "<no value>" }} {{ .Values.n }}|{{ .Values.missing }}|
V20 {{ and .Values.n .Values.n.x }} {{ or .Values.str .Values.n.x }}
V21 {{ range .Values.lst }}[{{ . }}]{{ end }} {{ range $k, $v := .Values.m }}{{ if not $v }}{{ $k }}{{ end }}{{ end }}
V22 {{- range $i := until 2 }}
  line{{ $i }}
{{- end }}
V23 {{ list 1
  2 | len }} {{ template "t.echo" }} {{ toYaml .Capabilities.KubeVersion }}
V24 {{ $d := dict "a" (dict "b" 1) }}{{ $_ := set $d.a "c" 2 }}{{ toJson $d }} {{ $d.a.b }}
V25 {{ range $i, $e := list "x" "y" }}{{ $i }}{{ $e }}{{ end }} {{ range $k, $v := dict }}x{{ else }}no{{ end }}
"""
PROBE_HELPERS = '{{- define "t.echo" -}}[{{ . }}]{{- end -}}\n'
_WRAPPER = '{{ include "probe.out" . | replace "\\n" "\\n# " | printf "# %s" }}\n'


def probe_templates(category: str) -> dict[str, str]:
    """The probe chart of a category: the expressions printed one per line, wrapped so that
    every output line is a YAML comment (Helm accepts any text that way)."""
    lines = [f"E{i}: {{{{ {expr} }}}}" for i, expr in enumerate(PROBES.get(category, []))]
    body = "\n".join(lines) if category in PROBES else PROBE_PROGRAM
    helpers = PROBE_HELPERS + '{{- define "probe.out" -}}\n' + body + "\n{{- end -}}\n"
    return {"_helpers.tpl": helpers, "out.yaml": _WRAPPER}


PROBE_CATEGORIES = [*PROBES, "control-flow"]
for _category in PROBE_CATEGORIES:
    _TREES[f"probe:{_category}"] = probe_tree(probe_templates(_category), PROBE_VALUES)
PROBE_JOBS = {c: register(f"probe:{c}", None, "default") for c in PROBE_CATEGORIES}


def _document(stdout: str, path: str) -> str:
    """The text Helm printed for one template (``---`` / ``# Source:`` header removed)."""
    marker = f"---\n# Source: {path}\n"
    assert marker in stdout, stdout
    return stdout.split(marker, 1)[1].split("\n---\n# Source: ", 1)[0].strip()


@pytest.mark.parametrize("category", PROBE_CATEGORIES)
def test_probe_expressions_print_like_helm(category: str) -> None:
    ok, stdout = helm(PROBE_JOBS[category])
    assert ok, stdout
    (rendered,) = render_chart(_TREES[f"probe:{category}"], release=RELEASE, namespace="default")
    assert rendered.path == "probe/templates/out.yaml"
    expected = _document(stdout, rendered.path).splitlines()
    actual = rendered.text.strip().splitlines()
    mismatches = [(e, a) for e, a in zip(expected, actual, strict=False) if e != a]
    assert not mismatches, mismatches[:5]
    assert len(actual) == len(expected)


# --- execution and parse errors ---------------------------------------------------------------

_ERROR_HELPERS = """{{- define "a" -}}{{ include "b" . }}{{- end -}}
{{- define "b" -}}x{{ .nope.deeper }}{{- end -}}
{{- define "c" -}}{{ eq 1 "x" }}{{- end -}}
{{- define "d" -}}{{ fail "inner fail" }}{{- end -}}
"""
_ERROR_VALUES = "s: 5\nstr: abc\nm: {a: 1}\nl: [null]\n"
ERROR_CASES = [
    '{{ fail "boom here" }}', 'ab{{ include "d" . }}', '{{ .Values.x | required "need x" }}',
    '{{ required "need str" .Values.str }}{{ required "empty" "" }}', '{{ include "a" .Values }}',
    '{{ include "c" . }}', '{{ template "b" .Values }}', '{{ $x := 1 }}{{ $x.foo }}',
    "{{ .Capabilities.Nope }}", "{{ .Values.AsMap.x.y }}", "{{ .Values.nothing.here }}",
    "{{ .Values.str.x }}", '{{ index .Values.m "zz" "y" }}', "{{ index 1 2 }}", "{{ printf }}",
    '{{ trunc "a" "b" }}', "{{ .Values.x | upper }}", "{{ upper .Values.x }}", "{{ (dict).x.y }}",
    '{{ include "nope" . }}', '{{ template "nope" . }}', '{{ lt 1 "a" }}', "{{ nil }}",
    "{{ len 3 }}", "{{ eq .Values.s 5 }}", "{{ div 1 0 }}", '{{ dig "a" "b" .Values }}',
    "{{ first nil }}", '{{ set nil "a" 1 }}', "{{ $y }}", "{{ if }}", "{{ end }}",
    "{{ range $i, $v, $w := . }}{{end}}", "{{ 1 | 2 }}", '{{ "a" "b" }}', "{{ (1).x }}",
    "{{ nope }}", '{{ define "x" }}', '{{ "unterminated }}', "{{ .Values.s.x }}",
    "{{ with .Values.m }}{{ .a.b }}{{ end }}", "{{ range .Values.l }}{{ .a }}{{ end }}",
    "{{ print .Values.x.y }}", "{{ range 3.5 }}{{ end }}", "{{ trunc (add 1 2) \"abc\" }}",
]  # fmt: skip
for _index, _case in enumerate(ERROR_CASES):
    _TREES[f"probe:error-{_index}"] = probe_tree(
        {"_h.tpl": _ERROR_HELPERS, "x.yaml": _case}, _ERROR_VALUES
    )
ERROR_JOBS = [register(f"probe:error-{i}", None, "default") for i in range(len(ERROR_CASES))]


@pytest.mark.parametrize("index", range(len(ERROR_CASES)), ids=ERROR_CASES)
def test_errors_read_as_helm_prints_them(index: int) -> None:
    ok, expected = helm(ERROR_JOBS[index])
    assert not ok, f"Helm renders {ERROR_CASES[index]!r}"
    with pytest.raises(RenderError) as caught:
        render_chart(_TREES[f"probe:error-{index}"], release=RELEASE, namespace="default")
    assert str(caught.value) == expected
    assert caught.value.template.startswith("probe/templates/")


# --- Helm behaviours without the oracle ----------------------------------------------------


def test_no_value_is_erased_and_partials_and_notes_are_not_objects() -> None:
    tree = probe_tree(
        {
            "_partial.tpl": "kind: Broken\n",
            "NOTES.txt": "{{ .Release.Name }} installed",
            "cm.yaml": "kind: ConfigMap\nmetadata:\n  name: a{{ .Values.none }}\n---\n",
        }
    )
    files = {f.path: f.text for f in render_chart(tree, release="r", namespace="n")}
    assert files == {
        "probe/templates/NOTES.txt": "r installed",
        "probe/templates/cm.yaml": "kind: ConfigMap\nmetadata:\n  name: a\n---\n",
    }
    assert render_objects(tree, release="r", namespace="n") == [
        {"kind": "ConfigMap", "metadata": {"name": "a"}}
    ]


def test_user_values_coalesce_over_chart_values_with_helm_rules() -> None:
    values = "a: {b: 1, c: 2, d: {e: 3}}\nlist: [1, 2]\nkeep: x\n"
    tree = probe_tree({"v.yaml": "{{ toJson .Values }}"}, values)
    user = {"a": {"b": None, "d": {"f": 4}, "g": None}, "list": [3], "keep": {"now": "a map"}}
    (rendered,) = render_chart(tree, release="r", namespace="n", values=user)
    assert json.loads(rendered.text) == {
        "a": {"c": 2, "d": {"e": 3, "f": 4}, "g": None},
        "list": [3],
        "keep": {"now": "a map"},
    }


def test_tpl_is_not_supported() -> None:
    tree = probe_tree({"x.yaml": '{{ tpl "{{ 1 }}" . }}'})
    with pytest.raises(RenderError, match="tpl is not supported"):
        render_chart(tree, release="r", namespace="n")


def _identifiers(node: nodes.Node) -> set[str]:
    found = {node.name} if isinstance(node, nodes.IdentifierNode) else set()
    for attr in ("nodes", "args", "cmds"):
        for child in getattr(node, attr, None) or []:
            found |= _identifiers(child)
    for attr in ("pipe", "list", "else_list", "node"):
        child = getattr(node, attr, None)
        if isinstance(child, nodes.Node):
            found |= _identifiers(child)
    return found


def test_every_function_the_catalog_templates_call_is_implemented() -> None:
    used: set[str] = set()
    for chart in builtin_catalog().charts:
        tree = full_tree(chart)
        for relpath, data in tree.files.items():
            if relpath.startswith("templates/"):
                for parsed in parse_file(f"{chart}/{relpath}", data.decode()).values():
                    used |= _identifiers(parsed.root)
    assert used <= FUNCTION_NAMES
    assert not used & set(UNSUPPORTED_FUNCTIONS), sorted(used & set(UNSUPPORTED_FUNCTIONS))


@pytest.mark.parametrize("key", list(builtin_namespaces()))
def test_render_objects_parses_the_rendered_manifests(key: str) -> None:
    tree, namespace = builtin_trees()[key], builtin_namespaces()[key]
    try:
        files = render_chart(tree, release=RELEASE, namespace=namespace)
    except RenderError:
        with pytest.raises(RenderError):
            render_objects(tree, release=RELEASE, namespace=namespace)
        return
    expected = [
        doc
        for f in files
        if not f.path.endswith("/NOTES.txt")
        for doc in yaml.safe_load_all(f.text)
        if doc is not None
    ]
    assert render_objects(tree, release=RELEASE, namespace=namespace) == expected


def test_documents_that_are_not_mappings_are_render_errors() -> None:
    tree = probe_tree({"x.yaml": "- a\n"})
    with pytest.raises(RenderError, match="not a mapping"):
        render_objects(tree, release="r", namespace="n")
