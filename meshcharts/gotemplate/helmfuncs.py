"""Helm's additions to the template engine: its objects and its functions.

The objects are what Helm 4 puts under the cursor (``.Capabilities``, ``.Chart``, ``.Files``
and the methods of ``.Values``), typed as Helm 4 types them; the functions are sprig's with
Helm's own on top (``include``, ``required``, ``fail``, ``toYaml``, ``fromYaml``,
``toJson``, ``fromJson``, ``lookup``...). Functions that exist in Helm but cannot run here
(``tpl``, the clock, randomness, cryptography, TOML) still parse and raise when called.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import yaml

from meshcharts.gotemplate.builtins import BUILTINS
from meshcharts.gotemplate.executor import FailError, TemplateSet
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
from meshcharts.gotemplate.sprig_data import DATA_FUNCS
from meshcharts.gotemplate.sprig_text import TEXT_FUNCS
from meshcharts.gotemplate.yamlemit import to_yaml

__all__ = [
    "API_VERSIONS",
    "FUNCTION_NAMES",
    "HELM_VERSION",
    "UNSUPPORTED_FUNCTIONS",
    "capabilities",
    "chart_object",
    "files_object",
    "function_map",
    "methods",
]

HELM_VERSION: Final = "v4.1.4"

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

UNSUPPORTED_FUNCTIONS: Final = (
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


# --- Helm's objects ------------------------------------------------------------------------


def capabilities(kube_version: str) -> GoStruct:
    """``.Capabilities`` for a cluster of ``kube_version`` (``1.35.0`` or ``v1.35.0``)."""
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


def chart_object(metadata: Mapping[str, Any]) -> dict[str, Any]:
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


def files_object(chart_files: Mapping[str, bytes]) -> GoStruct:
    """``.Files``: the chart's non-template files, with ``Get``, ``GetBytes``, ``Lines``.

    Args:
        chart_files: every file of the chart, by chart-relative path.
    """
    special = {"Chart.yaml", "values.yaml", "values.schema.json"}
    files = {
        p: d
        for p, d in chart_files.items()
        if p not in special and not p.startswith(("templates/", "charts/"))
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


def methods(receiver: Any, name: str) -> GoFunc | None:
    """The method ``name`` of a Helm object (``.Values.AsMap``, ``.Files.Get``...), or None."""
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


def _from_json_array(text: str) -> list[Any]:
    try:
        loaded = DATA_FUNCS["mustFromJson"].impl(text)
    except FuncError as exc:
        return [str(exc)]
    return loaded if isinstance(loaded, list) else ["json: cannot unmarshal into array"]


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
        "fromJsonArray": GoFunc(_from_json_array, ("string",)),
        "lookup": GoFunc(lambda *_: {}, ("string", "string", "string", "string")),
    }


def function_map(tset: TemplateSet) -> FuncMap:
    """Every function of Helm 4 (``include`` runs the templates of ``tset``)."""
    funcs: FuncMap = {name: _unsupported(name) for name in UNSUPPORTED_FUNCTIONS}
    funcs.update(BUILTINS)
    funcs.update(TEXT_FUNCS)
    funcs.update(DATA_FUNCS)
    funcs.update(_helm_funcs(tset))
    return funcs


FUNCTION_NAMES: Final = frozenset(function_map(TemplateSet({}, methods)))
"""Every function a template may name (templates naming others do not parse)."""
