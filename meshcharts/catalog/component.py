"""What a chart is made of: chart definitions and the components compiled into them.

A :class:`Component` owns one top-level values key (its ``name``), the default values
under it, their documentation and schema refinements, and a folder of templates. A
:class:`ChartDef` is a chart meshcharts can build: its Chart.yaml fields, its own values
and templates, and the components it may hold. A profile picks which components are
compiled into each chart; a compiled component is switched on or off at install time
with ``<name>.enabled`` when its defaults carry that key.

The built-in catalog is written with these two classes, and so are a user's own parts: a
Python file that defines ``COMPONENT``/``COMPONENTS`` and ``CHART``/``CHARTS`` (see
:mod:`meshcharts.inputs.components`). Template folders of a user's parts are given by
``template_path``, absolute or relative to the file that defines them (its ``source``).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from meshcharts.values.mergerules import MergeRules

__all__ = ["ChartDef", "Component", "JsonSchema", "KeyPath", "Values"]

Values = Mapping[str, Any]
KeyPath = tuple[str, ...]
JsonSchema = Mapping[str, Any]


def _empty() -> Mapping[str, Any]:
    return MappingProxyType({})


@dataclass(frozen=True)
class Component:
    """One part of a chart: values, their docs and schema, and templates.

    Attributes:
        name: the top-level values key, e.g. ``pilot``; also the ``<name>.enabled`` gate.
        chart: the chart the component belongs to (``istio`` or ``istio-init``).
        summary: one line for ``meshcharts profiles``, the chart README and NOTES.
        defaults: default values under ``name``: usually a map, or a list for a component
            configured by entries; None when the component reads no values.
        docs: dotted path below ``name`` -> description, for the README table and schema.
        schema: dotted path below ``name`` -> JSON schema that replaces the inferred one
            ("" is the component's own node, ``[]`` a list's items).
        template_dir: the template folder's name (default: ``name``): under
            ``meshcharts/templates/<chart>/`` for a built-in component, and under
            ``templates/`` beside the defining file for a user's component.
        template_path: the template folder, absolute or relative to ``source`` (overrides
            ``template_dir``; a user's component only).
        template_data: generation-time data handed to ``*.j2`` templates as ``data``.
        global_defaults: values the component adds under ``global`` when compiled in.
        global_docs: dotted path below ``global`` -> description, for those values.
        global_schema: dotted path below ``global`` -> JSON schema override.
        merge_keys: dotted path below ``name`` of a list of named items -> the item key
            they merge by across layers (``{"*.ports": "name"}``; ``*`` matches any map
            key, ``[]`` any item, "" is the component's own list); other lists replace.
        source: the file (or entry point) that defined the component, set by the loader;
            empty for the built-in catalog.
    """

    name: str
    chart: str
    summary: str
    defaults: Any = None
    docs: Mapping[str, str] = field(default_factory=_empty)
    schema: Mapping[str, JsonSchema] = field(default_factory=_empty)
    template_dir: str = ""
    template_data: Values = field(default_factory=_empty)
    global_defaults: Values = field(default_factory=_empty)
    global_docs: Mapping[str, str] = field(default_factory=_empty)
    global_schema: Mapping[str, JsonSchema] = field(default_factory=_empty)
    merge_keys: Mapping[str, str] = field(default_factory=_empty)
    template_path: str = ""
    source: str = ""

    @property
    def templates(self) -> str:
        """The folder the component's templates go to in the chart (``templates/<this>/``)."""
        return self.template_dir or self.name

    def template_folder(self) -> Path | None:
        """A user's component's template folder; None for a built-in component."""
        if self.template_path:
            return beside(self.source, self.template_path)
        if self.source:
            return beside(self.source, f"templates/{self.templates}")
        return None


@dataclass(frozen=True)
class ChartDef:
    """A chart meshcharts can build.

    Attributes:
        name: the chart name, e.g. ``istio``.
        description: Chart.yaml ``description``.
        keywords: Chart.yaml ``keywords``.
        global_defaults: default values under ``global``, shared by every component.
        global_docs: dotted path below ``global`` -> description.
        global_schema: dotted path below ``global`` -> JSON schema override.
        kube_version: Chart.yaml ``kubeVersion`` constraint (with ``-0`` so that
            pre-release cluster versions such as ``v1.30.2-eks-1`` match).
        components: every component the chart can compile in.
        values: top-level values of the chart itself (e.g. ``revision``), always present.
        values_docs: top-level key -> description.
        values_schema: top-level key -> JSON schema override.
        merge_keys: dotted path from the top of the values of a list of named items (one of
            the chart's own values) -> the item key they merge by across layers.
        revisions: whether the chart is built again for each canary revision (its objects
            must then carry the revision in their names and labels: the coexistence check
            proves it).
        app_version: Chart.yaml ``appVersion`` (empty: the Istio release of the catalog).
        home: Chart.yaml ``home``.
        icon: Chart.yaml ``icon``.
        sources: Chart.yaml ``sources``.
        annotations: extra Chart.yaml annotations.
        shared_templates: built-in template folders (under ``meshcharts/templates/``) whose
            files go to the chart's ``templates/`` before its own, e.g. helpers two charts
            share.
        template_path: the chart's own template folder (helpers, NOTES.txt), absolute or
            relative to ``source``; a built-in chart's is ``meshcharts/templates/<name>/_chart``.
        source: the file (or entry point) that defined the chart, set by the loader.
    """

    name: str
    description: str
    keywords: tuple[str, ...] = ()
    global_defaults: Values = field(default_factory=_empty)
    global_docs: Mapping[str, str] = field(default_factory=_empty)
    global_schema: Mapping[str, JsonSchema] = field(default_factory=_empty)
    kube_version: str = ">=1.25.0-0"
    components: tuple[Component, ...] = field(default=())
    values: Values = field(default_factory=_empty)
    values_docs: Mapping[str, str] = field(default_factory=_empty)
    values_schema: Mapping[str, JsonSchema] = field(default_factory=_empty)
    merge_keys: Mapping[str, str] = field(default_factory=_empty)
    revisions: bool = False
    app_version: str = ""
    home: str = "https://istio.io"
    icon: str = "https://istio.io/favicons/android-192x192.png"
    sources: tuple[str, ...] = ("https://github.com/istio/istio",)
    annotations: Mapping[str, str] = field(default_factory=_empty)
    shared_templates: tuple[str, ...] = ()
    template_path: str = ""
    source: str = ""

    def template_folder(self) -> Path | None:
        """A user's chart's own template folder, if it has one (None for a built-in chart)."""
        return beside(self.source, self.template_path) if self.template_path else None

    def merge_rules(self, components: tuple[Component, ...]) -> MergeRules:
        """The declared keyed-list merges of the chart with ``components`` compiled in."""
        tables: list[tuple[KeyPath, Mapping[str, str], str]] = [
            ((), self.merge_keys, f"chart {self.name}")
        ]
        tables += [((c.name,), c.merge_keys, f"component {c.name}") for c in components]
        return MergeRules.declared(tables)

    def defaults(self, components: tuple[Component, ...]) -> dict[str, Any]:
        """The chart's default values with ``components`` compiled in."""
        result: dict[str, Any] = _deep_merged(self.values)
        globals_ = _deep_merged(self.global_defaults, *(c.global_defaults for c in components))
        if globals_:
            result["global"] = globals_
        for component in components:
            if component.defaults is not None:
                result[component.name] = copy.deepcopy(component.defaults)
        return result

    def docs(self, components: tuple[Component, ...]) -> dict[KeyPath, str]:
        """Key path -> description of every documented value."""
        docs = _keyed("global", self.global_docs)
        docs.update({(key,): doc for key, doc in self.values_docs.items()})
        for component in components:
            docs.update(_keyed("global", component.global_docs))
            if component.defaults is not None:
                docs[(component.name,)] = component.summary
            docs.update(_keyed(component.name, component.docs))
        return docs

    def schema_overrides(self, components: tuple[Component, ...]) -> dict[KeyPath, JsonSchema]:
        """Key path -> JSON schema that replaces the node inferred from the defaults."""
        overrides = _keyed("global", self.global_schema)
        overrides.update({(key,): schema for key, schema in self.values_schema.items()})
        for component in components:
            overrides.update(_keyed("global", component.global_schema))
            overrides.update(_keyed(component.name, component.schema))
        return overrides


def beside(source: str, path: str) -> Path:
    """``path``, absolute or relative to the folder of the file ``source``."""
    given = Path(path).expanduser()
    return given if given.is_absolute() else Path(source).resolve().parent / given


def _keyed(top: str, table: Mapping[str, Any]) -> dict[KeyPath, Any]:
    """Prefix dotted keys with ``top``; the key "" stands for ``top`` itself."""
    return {(top, *key.split(".")) if key else (top,): value for key, value in table.items()}


def _deep_merged(*trees: Values) -> dict[str, Any]:
    """Plain dicts merged map by map (later wins); the catalog's trees are never shared."""
    result: dict[str, Any] = {}
    for tree in trees:
        for key, value in tree.items():
            if isinstance(value, Mapping) and isinstance(result.get(key), dict):
                result[key] = _deep_merged(result[key], value)
            elif isinstance(value, Mapping):
                result[key] = _deep_merged(value)
            else:
                result[key] = copy.deepcopy(value)
    return result
