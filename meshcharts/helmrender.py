"""Render a chart's templates as ``helm template`` does, without a helm binary.

:func:`render_chart` runs every template of a :class:`~meshcharts.assemble.ChartTree` with
Helm's objects (``.Values .Release .Chart .Capabilities .Template .Files``) and functions
(sprig, ``include``, ``required``, ``fail``, ``toYaml``, ``fromYaml``, ``toJson``...) on the
Go template engine of :mod:`meshcharts.gotemplate`; :func:`render_objects` parses the
manifests it produced. Helm's own behaviour is mirrored where it shows in output: values
are read from YAML as Helm reads them (every number a float64, YAML 1.1 booleans), user
values are coalesced over the chart's (maps merge, ``null`` deletes), templates are parsed
and executed in Helm's order, and ``<no value>`` is erased from the output.

Not supported: ``tpl`` (raises), ``lookup`` (always an empty map, as under
``helm template``), the non-deterministic and crypto sprig functions (raise), values
schema validation (meshcharts validates at build time), subcharts.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

import yaml

from meshcharts.assemble import ChartTree
from meshcharts.errors import MeshchartsError
from meshcharts.gotemplate.builtins import BUILTINS
from meshcharts.gotemplate.executor import ExecError, FailError, TemplateSet
from meshcharts.gotemplate.funcs import FuncMap, GoFunc
from meshcharts.gotemplate.gotypes import (
    FuncError,
    GoStruct,
    StringMap,
    StringSlice,
    ValuesMap,
    unwrap,
)
from meshcharts.gotemplate.goyaml import JSONError, from_yaml, to_json
from meshcharts.gotemplate.lexer import ParseError
from meshcharts.gotemplate.nodes import Tree
from meshcharts.gotemplate.parser import parse_template
from meshcharts.gotemplate.sprig_data import DATA_FUNCS
from meshcharts.gotemplate.sprig_text import TEXT_FUNCS
from meshcharts.gotemplate.yamlemit import to_yaml

__all__ = ["RenderError", "RenderedFile", "render_chart", "render_objects"]

HELM_VERSION: Final = "v4.1.4"
NO_VALUE: Final = "<no value>"

API_VERSIONS: Final = (
    "v1", "admissionregistration.k8s.io/v1", "admissionregistration.k8s.io/v1alpha1",
    "admissionregistration.k8s.io/v1beta1", "internal.apiserver.k8s.io/v1alpha1", "apps/v1",
    "apps/v1beta1", "apps/v1beta2", "authentication.k8s.io/v1", "authentication.k8s.io/v1alpha1",
    "authentication.k8s.io/v1beta1", "authorization.k8s.io/v1", "authorization.k8s.io/v1beta1",
    "autoscaling/v1", "autoscaling/v2", "autoscaling/v2beta1", "autoscaling/v2beta2", "batch/v1",
    "batch/v1beta1", "certificates.k8s.io/v1", "certificates.k8s.io/v1beta1",
    "certificates.k8s.io/v1alpha1", "coordination.k8s.io/v1alpha2",
    "coordination.k8s.io/v1beta1", "coordination.k8s.io/v1", "discovery.k8s.io/v1",
    "discovery.k8s.io/v1beta1", "events.k8s.io/v1", "events.k8s.io/v1beta1",
    "extensions/v1beta1", "flowcontrol.apiserver.k8s.io/v1", "flowcontrol.apiserver.k8s.io/v1beta1",
    "flowcontrol.apiserver.k8s.io/v1beta2", "flowcontrol.apiserver.k8s.io/v1beta3",
    "networking.k8s.io/v1", "networking.k8s.io/v1beta1", "node.k8s.io/v1", "node.k8s.io/v1alpha1",
    "node.k8s.io/v1beta1", "policy/v1", "policy/v1beta1", "rbac.authorization.k8s.io/v1",
    "rbac.authorization.k8s.io/v1beta1", "rbac.authorization.k8s.io/v1alpha1",
    "resource.k8s.io/v1", "resource.k8s.io/v1beta2", "resource.k8s.io/v1beta1",
    "resource.k8s.io/v1alpha3", "scheduling.k8s.io/v1alpha1", "scheduling.k8s.io/v1beta1",
    "scheduling.k8s.io/v1", "storage.k8s.io/v1beta1", "storage.k8s.io/v1",
    "storage.k8s.io/v1alpha1", "storagemigration.k8s.io/v1beta1", "apiextensions.k8s.io/v1beta1",
    "apiextensions.k8s.io/v1",
)  # fmt: skip
"""``.Capabilities.APIVersions`` of ``helm template`` (Helm 4.1.4's default version set)."""

_UNSUPPORTED: Final = (
    "ago", "date", "date_in_zone", "date_modify", "dateInZone", "dateModify", "duration",
    "durationRound", "htmlDate", "htmlDateInZone", "must_date_modify", "mustDateModify",
    "mustToDate", "now", "toDate", "unixEpoch", "randAlphaNum", "randAlpha", "randAscii",
    "randNumeric", "randInt", "randBytes", "shuffle", "uuidv4", "getHostByName", "bcrypt",
    "htpasswd", "genPrivateKey", "derivePassword", "buildCustomCert", "genCA", "genCAWithKey",
    "genSelfSignedCert", "genSelfSignedCertWithKey", "genSignedCert", "genSignedCertWithKey",
    "encryptAES", "decryptAES", "abbrevboth", "wrap", "wrapWith", "toDecimal", "urlParse",
    "urlJoin", "toToml", "fromToml", "toYamlPretty",
)  # fmt: skip
"""Helm functions that exist (templates using them parse) but raise when called."""


class RenderError(MeshchartsError):
    """A chart failed to render, with the message ``helm template`` would print.

    Attributes:
        template: the template file at fault, e.g. ``istio/templates/pilot/deployment.yaml``.
        message: the bare problem (for ``fail``/``required``: their message).
    """

    def __init__(self, text: str, *, template: str, message: str) -> None:
        super().__init__(text)
        self.template = template
        self.message = message


@dataclass(frozen=True)
class RenderedFile:
    """One rendered template: its Helm name (``chart/templates/...``) and text."""

    path: str
    text: str


# --- values -------------------------------------------------------------------------------


def _from_python(value: Any) -> Any:
    """User values as Helm sees them after reading them from a ``-f`` YAML file."""
    if isinstance(value, Mapping):
        return {str(k): _from_python(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_from_python(v) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return float(value)
    return str(value)


def _coalesce_tables(dst: dict[str, Any], src: dict[str, Any]) -> None:
    """Helm's ``coalesceTablesFullKey``: fill ``dst`` (user) from ``src`` (defaults)."""
    for key, default in src.items():
        if key in dst:
            if dst[key] is None:
                del dst[key]
            elif isinstance(default, dict) and isinstance(dst[key], dict):
                _coalesce_tables(dst[key], default)
        else:
            dst[key] = default


def coalesce_values(chart_values: dict[str, Any], user: Mapping[str, Any] | None) -> dict[str, Any]:
    """The values a chart renders with: ``user`` over ``chart_values``, as Helm merges them."""
    merged: dict[str, Any] = _from_python(user or {})
    _coalesce_tables(merged, chart_values)
    return merged


def _chart_values(tree: ChartTree) -> dict[str, Any]:
    data = tree.files.get("values.yaml")
    if data is None:
        return {}
    loaded = from_yaml(data.decode("utf-8"))
    return dict(loaded) if isinstance(loaded, dict) else {}


# --- Helm's objects ------------------------------------------------------------------------


def _capabilities(kube_version: str) -> GoStruct:
    version = "v" + kube_version.removeprefix("v")
    major, minor = version[1:].split(".")[:2]
    kube = GoStruct(
        "common.KubeVersion",
        {"Version": version, "Major": major, "Minor": minor},
        methods={
            "GitVersion": GoFunc(lambda _self: version),
            "String": GoFunc(lambda _self: version),
        },
        text=version,
    )
    api_versions = GoStruct(
        "common.VersionSet",
        methods={"Has": GoFunc(lambda _self, name: name in API_VERSIONS, ("string",))},
        text="[" + " ".join(API_VERSIONS) + "]",
        json=list(API_VERSIONS),
    )
    helm = GoStruct(
        "common.BuildInfo",
        {"Version": HELM_VERSION, "GitCommit": "", "GitTreeState": "", "GoVersion": ""},
        json={"version": HELM_VERSION},
    )
    fields = {"KubeVersion": kube, "APIVersions": api_versions, "HelmVersion": helm}
    return GoStruct("*common.Capabilities", fields)


def _chart_object(metadata: Mapping[str, Any]) -> dict[str, Any]:
    """``.Chart``: Chart.yaml's fields under Helm's Go field names (a map in Helm 4)."""

    def text(key: str) -> str:
        value = metadata.get(key)
        return "" if value is None else str(value)

    annotations = metadata.get("annotations")
    return {
        "APIVersion": text("apiVersion"),
        "Annotations": StringMap(annotations) if annotations else None,
        "AppVersion": text("appVersion"),
        "Condition": text("condition"),
        "Dependencies": list(metadata.get("dependencies") or []),
        "Deprecated": bool(metadata.get("deprecated", False)),
        "Description": text("description"),
        "Home": text("home"),
        "Icon": text("icon"),
        "IsRoot": True,
        "Keywords": StringSlice(metadata.get("keywords") or []),
        "KubeVersion": text("kubeVersion"),
        "Maintainers": list(metadata.get("maintainers") or []),
        "Name": text("name"),
        "Sources": StringSlice(metadata.get("sources") or []),
        "Tags": text("tags"),
        "Type": text("type"),
        "Version": text("version"),
    }


def _files_object(tree: ChartTree) -> GoStruct:
    """``.Files``: the chart's non-template files, with ``Get``, ``GetBytes``, ``Lines``."""
    special = {"Chart.yaml", "values.yaml", "values.schema.json"}
    files = {
        p: d for p, d in tree.files.items() if p not in special and not p.startswith("templates/")
    }

    def get(_self: Any, name: str) -> str:
        return files.get(name, b"").decode("utf-8", "replace")

    def lines(_self: Any, name: str) -> StringSlice:
        return StringSlice(get(_self, name).split("\n")) if name in files else StringSlice()

    methods = {
        "Get": GoFunc(get, ("string",)),
        "GetBytes": GoFunc(lambda _self, name: files.get(name, b""), ("string",)),
        "Lines": GoFunc(lines, ("string",)),
    }
    return GoStruct("engine.files", {}, methods, text="map[]", json={})


def _values_methods() -> dict[str, GoFunc]:
    def table(values: dict[str, Any], path: str) -> ValuesMap:
        node: Any = values
        for part in path.split("."):
            node = node.get(part) if isinstance(node, dict) else None
            if not isinstance(node, dict):
                raise FuncError(f"no table named {path!r}")
        return ValuesMap(node)

    return {
        "AsMap": GoFunc(lambda values: dict(values)),
        "YAML": GoFunc(lambda values: to_yaml(dict(values)) + "\n"),
        "Table": GoFunc(table, ("string",)),
    }


_VALUES_METHODS: Final = _values_methods()


def _methods(receiver: Any, name: str) -> GoFunc | None:
    if isinstance(receiver, ValuesMap):
        return _VALUES_METHODS.get(name)
    if isinstance(receiver, GoStruct):
        method: GoFunc | None = receiver.methods.get(name)
        return method
    return None


# --- Helm's functions --------------------------------------------------------------------


def _required(warning: str, value: Any) -> Any:
    value = unwrap(value)
    if value is None or value == "":
        raise FailError(warning)
    return value


def _fail(message: str) -> str:
    raise FailError(message)


def _to_yaml(value: Any) -> str:
    try:
        return to_yaml(value)
    except JSONError:
        return ""


def _must_to_yaml(value: Any) -> str:
    try:
        return to_yaml(value)
    except JSONError as exc:
        raise FuncError(str(exc)) from None


def _to_json(value: Any) -> str:
    try:
        return to_json(value)
    except JSONError:
        return ""


def _from_yaml(text: str) -> dict[str, Any]:
    try:
        loaded = from_yaml(text)
    except (yaml.YAMLError, JSONError) as exc:
        return {"Error": f"error converting YAML to JSON: {exc}"}
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        kind = "array" if isinstance(loaded, list) else "string"
        message = f"json: cannot unmarshal {kind} into Go value of type map[string]interface {{}}"
        return {"Error": f"error unmarshaling JSON: while decoding JSON: {message}"}
    return loaded


def _from_yaml_array(text: str) -> list[Any]:
    try:
        loaded = from_yaml(text)
    except (yaml.YAMLError, JSONError) as exc:
        return [f"error converting YAML to JSON: {exc}"]
    return loaded if isinstance(loaded, list) else []


def _from_json(text: str) -> dict[str, Any]:
    try:
        loaded = DATA_FUNCS["mustFromJson"].impl(text)
    except FuncError as exc:
        return {"Error": str(exc)}
    return loaded if isinstance(loaded, dict) else {"Error": "json: cannot unmarshal into map"}


def _tpl(_text: str, _values: Any) -> str:
    raise FuncError("tpl is not supported by the meshcharts renderer")


def _unsupported(name: str) -> GoFunc:
    def raise_unsupported(*_: Any) -> Any:
        raise FuncError(f"{name} is not supported by the meshcharts renderer")

    return GoFunc(raise_unsupported, (), "any")


def _helm_funcs(tset: TemplateSet) -> FuncMap:
    """Helm's additions to sprig; ``include`` runs templates of ``tset``."""
    depth: dict[str, int] = {}

    def include(name: str, data: Any) -> str:
        if depth.get(name, 0) > 1000:
            problem = f"rendering template has a nested reference name: {name}"
            raise FuncError(f"{problem}: unable to execute template")
        depth[name] = depth.get(name, 0) + 1
        try:
            return tset.execute(name, data)
        finally:
            depth[name] -= 1

    return {
        "include": GoFunc(include, ("string", "any")),
        "tpl": GoFunc(_tpl, ("string", "values")),
        "required": GoFunc(_required, ("string", "any")),
        "fail": GoFunc(_fail, ("string",)),
        "toYaml": GoFunc(_to_yaml, ("any",)),
        "mustToYaml": GoFunc(_must_to_yaml, ("any",)),
        "fromYaml": GoFunc(_from_yaml, ("string",)),
        "fromYamlArray": GoFunc(_from_yaml_array, ("string",)),
        "toJson": GoFunc(_to_json, ("any",)),
        "fromJson": GoFunc(_from_json, ("string",)),
        "fromJsonArray": GoFunc(lambda text: [], ("string",)),
        "lookup": GoFunc(lambda *_: {}, ("string", "string", "string", "string")),
    }


def _function_map(tset: TemplateSet) -> FuncMap:
    funcs: FuncMap = {name: _unsupported(name) for name in _UNSUPPORTED}
    funcs.update(BUILTINS)
    funcs.update(TEXT_FUNCS)
    funcs.update(DATA_FUNCS)
    funcs.update(_helm_funcs(tset))
    return funcs


FUNCTION_NAMES: Final = frozenset(_function_map(TemplateSet({}, _methods)))
"""Every function a template may name (templates naming others do not parse)."""


# --- rendering ---------------------------------------------------------------------------------


def _helm_order(names: list[str]) -> list[str]:
    """Helm's ``sortTemplates``: deepest paths first, then reverse lexical order."""
    return sorted(names, key=lambda n: (n.count("/"), n), reverse=True)


@functools.lru_cache(maxsize=4096)
def _parse(name: str, text: str) -> Mapping[str, Tree]:
    return parse_template(name, text, FUNCTION_NAMES)


def _parse_error(name: str, exc: ParseError) -> RenderError:
    location = f"{exc.name}:{exc.line}"
    problem = exc.problem.rsplit(": ", 1)[-1]
    return RenderError(f"parse error at ({location}): {problem}", template=name, message=problem)


def _trace(exc: ExecError) -> str | None:
    """Helm 4's layout of an execution error, or None where Helm prints Go's one line.

    One paragraph per template (location, action, message), outermost first. A chain that
    ends in a function's own error (``error calling eq: ...``) keeps Go's message.
    """
    parts: list[str] = []
    current: Exception | None = exc
    while current is not None:
        if isinstance(current, ExecError):
            message = current.message.split("template: ", 1)[0].rstrip()
            if current.location:
                action = f'executing "{current.name}" at <{current.context}>:'
                parts.append(f"{current.location}\n  {action}\n    {message}")
            else:
                parts.append(f"{current.name}\n    {message}")
            current = current.wrapped
        elif str(current).startswith("template: no template "):
            parts.append(str(current))
            current = None
        else:
            return None
    return "\n".join(parts)


def _exec_error(name: str, exc: ExecError) -> RenderError:
    if exc.fail_message is not None:
        text = f"execution error at ({exc.location}): {exc.fail_message}"
        return RenderError(text, template=name, message=exc.fail_message)
    innermost = exc
    while isinstance(innermost.wrapped, ExecError):
        innermost = innermost.wrapped
    return RenderError(_trace(exc) or str(exc), template=name, message=innermost.message)


def _template_set(tree: ChartTree) -> tuple[TemplateSet, list[str]]:
    tset = TemplateSet({}, _methods)
    tset.funcs.update(_function_map(tset))
    names = _helm_order([f"{tree.name}/{p}" for p in tree.files if p.startswith("templates/")])
    for name in names:
        text = tree.files[name.split("/", 1)[1]].decode("utf-8")
        try:
            tset.add_trees(_parse(name, text))
        except ParseError as exc:
            raise _parse_error(name, exc) from None
    return tset, names


def render_chart(
    tree: ChartTree,
    *,
    release: str,
    namespace: str,
    values: Mapping[str, Any] | None = None,
    kube_version: str = "1.35.0",
) -> list[RenderedFile]:
    """Render every template of a chart, as ``helm template RELEASE CHART -f VALUES``.

    Args:
        tree: the chart.
        release: the release name (``.Release.Name``).
        namespace: the release namespace (``.Release.Namespace``).
        values: user values, coalesced over the chart's ``values.yaml`` with Helm's rules.
        kube_version: the cluster version (``.Capabilities.KubeVersion``).

    Returns:
        The rendered templates (partials ``_*`` excluded, ``NOTES.txt`` included), sorted by
        path; ``path`` is Helm's template name, ``chart/templates/...``.

    Raises:
        RenderError: a template does not parse or fails (``fail``, ``required``, a nil
            pointer...), with Helm's message.
    """
    tset, names = _template_set(tree)
    top = ValuesMap(
        {
            "Values": ValuesMap(coalesce_values(_chart_values(tree), values)),
            "Release": {
                "Name": release,
                "Namespace": namespace,
                "IsUpgrade": False,
                "IsInstall": True,
                "Revision": 1,
                "Service": "Helm",
            },
            "Chart": _chart_object(tree.metadata),
            "Capabilities": _capabilities(kube_version),
            "Files": _files_object(tree),
            "Subcharts": {},
        }
    )
    rendered: list[RenderedFile] = []
    for name in names:
        if name.rsplit("/", 1)[-1].startswith("_"):
            continue
        top["Template"] = ValuesMap({"Name": name, "BasePath": f"{tree.name}/templates"})
        try:
            text = tset.execute(name, top)
        except ExecError as exc:
            raise _exec_error(name, exc) from None
        except RecursionError:
            raise RenderError(
                f"{name}: exceeded maximum template depth", template=name, message="too deep"
            ) from None
        rendered.append(RenderedFile(name, text.replace(NO_VALUE, "")))
    return sorted(rendered, key=lambda f: f.path)


def render_objects(
    tree: ChartTree,
    *,
    release: str,
    namespace: str,
    values: Mapping[str, Any] | None = None,
    kube_version: str = "1.35.0",
) -> list[dict[str, Any]]:
    """The Kubernetes objects a chart renders to, as :func:`render_chart` would.

    Every non-empty YAML document of every rendered manifest (``NOTES.txt`` left out), in
    path order.

    Raises:
        RenderError: rendering failed, or a manifest is not YAML or holds a non-mapping.
    """
    objects: list[dict[str, Any]] = []
    files = render_chart(
        tree, release=release, namespace=namespace, values=values, kube_version=kube_version
    )
    for rendered in files:
        if rendered.path.endswith("/NOTES.txt"):
            continue
        try:
            docs = list(yaml.load_all(rendered.text, Loader=_LOADER))  # noqa: S506
        except yaml.YAMLError as exc:
            raise RenderError(
                f"YAML parse error on {rendered.path}: {exc}",
                template=rendered.path,
                message=str(exc),
            ) from None
        for doc in docs:
            if doc is None:
                continue
            if not isinstance(doc, dict):
                raise RenderError(
                    f"{rendered.path}: a document is a {type(doc).__name__}, not a mapping",
                    template=rendered.path,
                    message="not a mapping",
                )
            objects.append(doc)
    return objects


_LOADER: Final[Any] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
