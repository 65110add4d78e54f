"""values.schema.json: a draft-07 schema inferred from the default values.

The shape of every default is known, so each map becomes an object with
``additionalProperties: false`` (a misspelt key fails ``helm install`` with Helm's own
schema error); an empty default map stays open. Components refine nodes where the
default alone says too little (enums, free-form maps, numbers that may be fractional).

:func:`schema_message` words a violation of such a schema for people who write YAML.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any, Final

import jsonschema

from meshcharts.catalog.component import JsonSchema
from meshcharts.catalog.upstream import UPSTREAM_1_1, pattern_path
from meshcharts.values.keypaths import KeyPath

__all__ = ["infer_schema", "schema_json", "schema_message", "schema_node", "spell"]

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
        ``global`` is always allowed and stays open to keys other charts share, but
        for Istio 1.1's keys that meshcharts does not take.
    """
    schema = _object(defaults, (), overrides.get, docs.get)
    properties = schema.setdefault("properties", {})
    global_node = properties.get("global", {"type": "object"})
    global_node = {**global_node, "additionalProperties": True}
    properties["global"] = _refuse_upstream_globals(global_node)
    schema["additionalProperties"] = False
    return {"$schema": DRAFT_07, "title": title, **schema}


def _refuse_upstream_globals(node: dict[str, Any]) -> dict[str, Any]:
    """Refuse Istio 1.1's ``global`` keys that meshcharts does not take.

    ``global`` stays open to keys an umbrella chart shares with its sub-charts, so such a
    key would otherwise pass unread: each gets a schema no value meets, the replacement in
    its description (which people and ``helm install`` errors show).
    """
    known = dict(node.get("properties", {}))
    for pattern, answer in UPSTREAM_1_1.items():
        parts = pattern_path(pattern)
        if parts[0] == "global" and len(parts) == 2 and parts[1] not in known:
            known[parts[1]] = {
                "not": {},
                "description": f"Istio 1.1's key, not taken: {answer.hint()}",
            }
    return {**node, "properties": known} if known else node


def schema_node(schema: Mapping[str, Any], path: KeyPath) -> Mapping[str, Any] | None:
    """The node of ``schema`` that validates the value at ``path``; None for an unknown key.

    A free-form map (an object without properties) takes any key: ``{}``.
    """
    node: Mapping[str, Any] = schema
    for key in path:
        properties = node.get("properties", {})
        if key in properties:
            node = properties[key]
            continue
        extra = node.get("additionalProperties")
        if isinstance(extra, Mapping):
            node = extra
        elif node.get("type") == "object" and "properties" not in node and extra is None:
            return {}
        else:
            return None
    return node


def schema_json(schema: Mapping[str, Any]) -> str:
    """Serialise a schema deterministically (sorted keys, two-space indent)."""
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


# --- messages -------------------------------------------------------------------------------


def spell(value: Any) -> str:
    """``value`` as JSON spells it (``"a"``, ``true``, ``null``, ``[1, "b"]``), not Python.

    The values come from YAML, where JSON's spelling is valid and means the same. What JSON
    has no spelling for (a YAML date, say) is shown as written, unquoted.
    """
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{spell(k)}: {spell(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(spell(item) for item in value) + "]"
    if value is None or isinstance(value, str | int | float):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _spell_all(values: Any) -> str:
    """A list of schema values (types, patterns, property names) joined by commas."""
    items = [values] if isinstance(values, str) else list(values)
    return ", ".join(spell(item) for item in items)


def _count(number: Any, nouns: tuple[str, str]) -> str:
    return f"{spell(number)} {nouns[0] if number == 1 else nouns[1]}"


def _bound(error: jsonschema.ValidationError, nouns: tuple[str, str]) -> str:
    """A minLength/maxLength/minItems/... violation: the instance and the bound it misses."""
    limit: Any = error.validator_value
    instance = spell(error.instance)
    if str(error.validator).startswith("min"):
        if limit == 1:
            return f"{instance} should be non-empty"
        return f"{instance} has fewer than {_count(limit, nouns)}"
    if limit == 0:
        return f"{instance} should be empty"
    return f"{instance} has more than {_count(limit, nouns)}"


def _additional(error: jsonschema.ValidationError) -> str:
    """The keys an ``additionalProperties: false`` object does not allow."""
    schema: Any = error.schema
    instance: Any = error.instance
    known = schema.get("properties", {})
    patterns = sorted(schema.get("patternProperties", {}))
    extras = sorted(
        (
            key
            for key in instance
            if key not in known and not any(re.search(p, str(key)) for p in patterns)
        ),
        key=str,
    )
    if not extras:  # pragma: no cover - jsonschema reports only objects with extra keys
        return error.message
    if patterns:
        verb = "does" if len(extras) == 1 else "do"
        return f"{_spell_all(extras)} {verb} not match any of the regexes: {_spell_all(patterns)}"
    verb = "was" if len(extras) == 1 else "were"
    return f"Additional properties are not allowed ({_spell_all(extras)} {verb} unexpected)"


def _required(error: jsonschema.ValidationError) -> str:
    """The missing property this error is about (one error is raised per missing one)."""
    required: Any = error.validator_value
    instance: Any = error.instance
    missing = [name for name in required if name not in instance]
    # Which one is only in jsonschema's own message: match it by its Python spelling.
    name = next((n for n in missing if error.message.startswith(repr(n))), None)
    if name is None:
        return error.message
    return f"{spell(name)} is a required property"


# What a length rule counts: (singular, plural).
_CHARACTERS: Final = ("character", "characters")
_ITEMS: Final = ("item", "items")
_PROPERTIES: Final = ("property", "properties")
_LENGTH_NOUNS: Final[Mapping[str, tuple[str, str]]] = {
    "minLength": _CHARACTERS,
    "maxLength": _CHARACTERS,
    "minItems": _ITEMS,
    "maxItems": _ITEMS,
    "minProperties": _PROPERTIES,
    "maxProperties": _PROPERTIES,
}
# Rules worded from the instance and the rule's value alone.
_TEMPLATES: Final[Mapping[str, str]] = {
    "enum": "{instance} is not one of {value}",
    "type": "{instance} is not of type {value}",
    "const": "{value} was expected, not {instance}",
    "pattern": "{instance} does not match {value}",
    "minimum": "{instance} is less than the minimum of {value}",
    "maximum": "{instance} is greater than the maximum of {value}",
    "exclusiveMinimum": "{instance} is less than or equal to the minimum of {value}",
    "exclusiveMaximum": "{instance} is greater than or equal to the maximum of {value}",
    "uniqueItems": "{instance} has non-unique elements",
    "anyOf": "{instance} is not valid under any of the given schemas",
}


def schema_message(error: jsonschema.ValidationError) -> str:
    """The message of a schema violation, with values spelt as in YAML/JSON.

    jsonschema's own messages show Python's spelling (``'a'``, ``True``, ``None``), which
    is not what the user wrote; the common rules are worded here from the error's
    instance and rule value instead. Any other rule keeps jsonschema's message.

    Examples: ``"bogus" is not one of ["off", "strict", false]``, ``true is not of type
    "string"``, ``"x" does not match "^[a-z]+$"``.
    """
    rule = str(error.validator)
    value: Any = error.validator_value
    if rule in _TEMPLATES:
        # A type may be a list of types; jsonschema joins them with commas too.
        shown = _spell_all(value) if rule == "type" else spell(value)
        return _TEMPLATES[rule].format(instance=spell(error.instance), value=shown)
    if rule in _LENGTH_NOUNS:
        return _bound(error, _LENGTH_NOUNS[rule])
    if rule == "additionalProperties" and value is False:
        return _additional(error)
    if rule == "required":
        return _required(error)
    return error.message
