"""Manifests of installed releases: ``helm get manifest`` output, or any multi-document YAML.

A manifest is read as Kubernetes objects: every non-empty document must be a map with a
string ``apiVersion`` and ``kind`` and a ``metadata.name``; a ``List`` (``kubectl get -o
yaml``) contributes its ``items``. Namespaced objects without ``metadata.namespace`` (Helm
leaves it out of the manifest; ``helm install -n`` supplies it) belong to the namespace the
caller gives.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from meshcharts.base.limits import MAX_DOCUMENTS, LimitError
from meshcharts.errors import UserError
from meshcharts.inputs.yamlsource import SourceDoc, load_yaml_documents

__all__ = ["ManifestError", "load_manifest"]


class ManifestError(UserError):
    """A manifest that is not a list of Kubernetes objects."""


def _problem(obj: Any) -> str:
    """What keeps ``obj`` from being a Kubernetes object ("" when nothing does)."""
    if not isinstance(obj, Mapping):
        return "is not a map (a Kubernetes object)"
    for key in ("apiVersion", "kind"):
        if not isinstance(obj.get(key), str) or not obj[key]:
            return f"has no {key}"
    metadata = obj.get("metadata")
    if not isinstance(metadata, Mapping) or not isinstance(metadata.get("name"), str):
        return f"{obj['kind']} has no metadata.name"
    if not metadata["name"]:
        return f"{obj['kind']} has an empty metadata.name"
    namespace = metadata.get("namespace")
    if namespace is not None and not isinstance(namespace, str):
        return f"{obj['kind']} {metadata['name']}: metadata.namespace is not a string"
    return ""


def _objects(document: SourceDoc) -> list[Mapping[str, Any]]:
    data = document.data
    if isinstance(data, Mapping) and data.get("kind") == "List" and "items" in data:
        items = data["items"]
        if not isinstance(items, list):
            raise ManifestError(
                f"{document.source}:{document.line(())}", "a List whose items are not a list"
            )
        found = []
        for index, item in enumerate(items):
            problem = _problem(item)
            if problem:
                line = document.line(("items", str(index)))
                raise ManifestError(f"{document.source}:{line}", f"item {index} {problem}")
            found.append(item)
        return found
    problem = _problem(data)
    if problem:
        raise ManifestError(f"{document.source}:{document.line(())}", f"a document {problem}")
    return [data]


def load_manifest(path: Path) -> list[Mapping[str, Any]]:
    """The Kubernetes objects of a manifest file, in file order.

    Raises:
        ManifestError: a document (or List item) is not a Kubernetes object, or the file
            holds none; the message names ``file:line``.
        YamlSourceError: the file cannot be read or is not YAML.
        LimitError: the file, its documents or their nesting pass the input limits.
    """
    objects: list[Mapping[str, Any]] = []
    for document in load_yaml_documents(path):
        objects += _objects(document)
        if len(objects) > MAX_DOCUMENTS:
            raise LimitError(str(path), f"holds more than {MAX_DOCUMENTS} objects")
    if not objects:
        raise ManifestError(str(path), "holds no Kubernetes object")
    return objects
