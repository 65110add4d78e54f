"""Render a chart's templates as ``helm template`` does, without a helm binary.

:func:`render_chart` runs every template of a :class:`~meshcharts.chart.assemble.ChartTree` with
Helm's objects (``.Values .Release .Chart .Capabilities .Template .Files``) and functions
(sprig, ``include``, ``required``, ``fail``, ``toYaml``, ``fromYaml``, ``toJson``...) on the
Go template engine of :mod:`meshcharts.gotemplate`; :func:`render_objects` parses the
manifests it produced. Helm's own behaviour is mirrored where it shows in output: values
are read from YAML as Helm reads them (every number a float64, YAML 1.1 booleans), user
values are coalesced over the chart's (maps merge, ``null`` deletes), the chart's
``kubeVersion`` is checked, templates are parsed and executed in Helm's order,
``<no value>`` is erased from the output, and errors read as Helm 4.1.4 prints them.

Not supported: ``tpl`` (raises), ``lookup`` (always an empty map, as under
``helm template``), the non-deterministic and crypto sprig functions (raise), values
schema validation (meshcharts validates at build time), subcharts.
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final

import yaml

from meshcharts.chart.assemble import ChartTree
from meshcharts.errors import MeshchartsError
from meshcharts.gotemplate.constraints import satisfies
from meshcharts.gotemplate.executor import ExecError, TemplateSet
from meshcharts.gotemplate.gotypes import FuncError, ValuesMap
from meshcharts.gotemplate.goyaml import from_yaml, safe_load_all
from meshcharts.gotemplate.helmfuncs import (
    FUNCTION_NAMES,
    UNSUPPORTED_FUNCTIONS,
    capabilities,
    chart_object,
    files_object,
    function_map,
    methods,
)
from meshcharts.gotemplate.lexer import ParseError
from meshcharts.gotemplate.nodes import Tree
from meshcharts.gotemplate.parser import parse_template
from meshcharts.values.coalesce import helm_coalesce

__all__ = [
    "FUNCTION_NAMES",
    "UNSUPPORTED_FUNCTIONS",
    "RenderError",
    "RenderedFile",
    "coalesce_values",
    "parse_file",
    "render_chart",
    "render_objects",
    "undeclared_reads",
]

NO_VALUE: Final = "<no value>"
"""What Go prints for a missing value; Helm erases it from the output."""

KUBE_VERSION: Final = "1.35.0"
"""The cluster version renders assume unless told (``.Capabilities.KubeVersion``)."""


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


def coalesce_values(chart_values: dict[str, Any], user: Mapping[str, Any] | None) -> dict[str, Any]:
    """The values a chart renders with: ``user`` over ``chart_values``, as Helm merges them."""
    return helm_coalesce(_from_python(user or {}), chart_values)


def _chart_values(tree: ChartTree) -> dict[str, Any]:
    data = tree.files.get("values.yaml")
    if data is None:
        return {}
    loaded = from_yaml(data.decode("utf-8"))
    return dict(loaded) if isinstance(loaded, dict) else {}


# --- rendering ---------------------------------------------------------------------------------


def _helm_order(names: list[str]) -> list[str]:
    """Helm's ``sortTemplates``: deepest paths first, then reverse lexical order."""
    return sorted(names, key=lambda n: (n.count("/"), n), reverse=True)


@functools.lru_cache(maxsize=4096)
def parse_file(name: str, text: str) -> Mapping[str, Tree]:
    """Parse one template file with Helm's function names (cached: charts share files).

    Raises:
        ParseError: the file does not parse.
    """
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
    tset = TemplateSet({}, methods)
    tset.funcs.update(function_map(tset))
    names = _helm_order([f"{tree.name}/{p}" for p in tree.files if p.startswith("templates/")])
    for name in names:
        text = tree.files[name.split("/", 1)[1]].decode("utf-8")
        try:
            tset.add_trees(parse_file(name, text))
        except ParseError as exc:
            raise _parse_error(name, exc) from None
    return tset, names


def render_chart(
    tree: ChartTree,
    *,
    release: str,
    namespace: str,
    values: Mapping[str, Any] | None = None,
    kube_version: str = KUBE_VERSION,
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
    _check_kube_version(tree, kube_version)
    tset, names = _template_set(tree)
    top = _top_object(tree, release, namespace, values, kube_version)
    rendered = [RenderedFile(name, text) for name, text in _renders(tree, tset, names, top)]
    return sorted(rendered, key=lambda f: f.path)


def _renders(
    tree: ChartTree, tset: TemplateSet, names: list[str], top: ValuesMap
) -> Iterator[tuple[str, str]]:
    """Run every template that is not a partial (``_*``), in Helm's order."""
    for name in names:
        if not name.rsplit("/", 1)[-1].startswith("_"):
            top["Template"] = ValuesMap({"Name": name, "BasePath": f"{tree.name}/templates"})
            yield name, _execute(tset, name, top)


def _check_kube_version(tree: ChartTree, kube_version: str) -> None:
    """Helm refuses a chart whose ``kubeVersion`` the cluster version does not meet."""
    constraint = str(tree.metadata.get("kubeVersion") or "")
    version = "v" + kube_version.removeprefix("v")
    try:
        compatible = not constraint or satisfies(constraint, version)
    except FuncError:
        compatible = False
    if not compatible:
        problem = (
            f"chart requires kubeVersion: {constraint} "
            f"which is incompatible with Kubernetes {version}"
        )
        raise RenderError(problem, template=f"{tree.name}/Chart.yaml", message=problem)


def _top_object(
    tree: ChartTree,
    release: str,
    namespace: str,
    values: Mapping[str, Any] | None,
    kube_version: str,
) -> ValuesMap:
    """The cursor of every template: ``.Values``, ``.Release``, ``.Chart``..."""
    release_object = {
        "Name": release,
        "Namespace": namespace,
        "IsUpgrade": False,
        "IsInstall": True,
        "Revision": 1,
        "Service": "Helm",
    }
    return ValuesMap(
        {
            "Values": ValuesMap(coalesce_values(_chart_values(tree), values)),
            "Release": release_object,
            "Chart": chart_object(tree.metadata),
            "Capabilities": capabilities(kube_version),
            "Files": files_object(tree.files),
            "Subcharts": {},
        }
    )


def _paths(value: Any, path: tuple[str, ...], into: dict[int, tuple[str, ...]]) -> None:
    """Record the key path of every map in a values tree, by identity."""
    if isinstance(value, dict):
        into[id(value)] = path
        for key, item in value.items():
            _paths(item, (*path, key), into)
    elif isinstance(value, list):
        for item in value:
            _paths(item, (*path, "[]"), into)


def undeclared_reads(
    tree: ChartTree, tops: Collection[str], *, namespace: str
) -> list[tuple[str, str]]:
    """Values below the top-level keys ``tops`` that templates read but the chart lacks.

    The chart is rendered with its example install values; every lookup of a key that
    is not there (``.Values.x.missing``) is recorded with the template that made it.

    Returns:
        ``(template, dotted path)`` pairs, sorted by path.

    Raises:
        RenderError: a template fails.
    """
    _check_kube_version(tree, KUBE_VERSION)
    tset, names = _template_set(tree)
    top = _top_object(tree, tree.name, namespace, tree.example_values(), KUBE_VERSION)
    paths: dict[int, tuple[str, ...]] = {}
    _paths(top["Values"], (), paths)
    missing: dict[tuple[str, ...], str] = {}

    def miss(receiver: Mapping[str, Any], key: str) -> None:
        path = paths.get(id(receiver))
        if path is not None:  # a map of the values, not one a template made
            missing.setdefault((*path, key), top["Template"]["Name"])

    tset.on_missing_key = miss
    for _ in _renders(tree, tset, names, top):
        pass
    return sorted(
        ((template, ".".join(path)) for path, template in missing.items() if path[0] in tops),
        key=lambda found: found[1],
    )


def _execute(tset: TemplateSet, name: str, top: ValuesMap) -> str:
    """Run one template file; erase ``<no value>`` as Helm does."""
    try:
        text = tset.execute(name, top)
    except ExecError as exc:
        raise _exec_error(name, exc) from None
    except RecursionError:
        problem = "exceeded maximum template depth"
        raise RenderError(f"{name}: {problem}", template=name, message=problem) from None
    return text.replace(NO_VALUE, "")


def render_objects(
    tree: ChartTree,
    *,
    release: str,
    namespace: str,
    values: Mapping[str, Any] | None = None,
    kube_version: str = KUBE_VERSION,
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
            docs = safe_load_all(rendered.text)
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
