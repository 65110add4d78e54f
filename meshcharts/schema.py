"""values.schema.json: a draft-07 schema inferred from the default values.

The shape of every default is known, so each map becomes an object with
``additionalProperties: false`` (a misspelt key fails ``helm install`` with Helm's own
schema error); an empty default map stays open. Components refine nodes where the
default alone says too little (enums, free-form maps, numbers that may be fractional).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from meshcharts.components import JsonSchema
from meshcharts.values import KeyPath

__all__ = ["infer_schema", "schema_json"]

DRAFT_07 = "http://json-schema.org/draft-07/schema#"
Lookup = Callable[[KeyPath], Any]


def _infer(value: Any, path: KeyPath, overrides: Lookup, docs: Lookup) -> dict[str, Any]:
    override = overrides(path)
    if override is not None:
        node = dict(override)
    elif isinstance(value, Mapping):
        node = _object(value, path, overrides, docs)
    elif isinstance(value, list):
        node = {"type": "array"}
        if value:
            node["items"] = _infer(value[0], (*path, "[]"), overrides, docs)
    elif isinstance(value, bool):
        node = {"type": "boolean"}
    elif isinstance(value, int):
        node = {"type": "integer"}
    elif isinstance(value, float):
        node = {"type": "number"}
    else:
        node = {"type": "string"}
    doc = docs(path)
    if doc and "description" not in node:
        node["description"] = doc
    return node


def _object(
    value: Mapping[str, Any], path: KeyPath, overrides: Lookup, docs: Lookup
) -> dict[str, Any]:
    if not value:
        return {"type": "object"}
    return {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            key: _infer(item, (*path, key), overrides, docs) for key, item in value.items()
        },
    }


def infer_schema(
    defaults: Mapping[str, Any],
    *,
    overrides: Mapping[KeyPath, JsonSchema],
    docs: Mapping[KeyPath, str],
    title: str,
) -> dict[str, Any]:
    """Infer the values schema of a chart.

    Args:
        defaults: the chart's default values.
        overrides: key path -> schema that replaces the inferred node.
        docs: key path -> description.
        title: the schema title.

    Returns:
        A draft-07 schema. The top level and every known map reject unknown keys;
        ``global`` is always allowed and stays open to keys other charts share.
    """
    schema = _object(defaults, (), overrides.get, docs.get)
    properties = schema.setdefault("properties", {})
    global_node = properties.get("global", {"type": "object"})
    global_node = {**global_node, "additionalProperties": True}
    properties["global"] = global_node
    schema["additionalProperties"] = False
    return {"$schema": DRAFT_07, "title": title, **schema}


def schema_json(schema: Mapping[str, Any]) -> str:
    """Serialise a schema deterministically (sorted keys, two-space indent)."""
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
