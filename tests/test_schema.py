"""Schema messages: violations worded with values spelt as YAML/JSON spells them."""

from __future__ import annotations

import datetime
from typing import Any

import jsonschema
import pytest

from meshcharts.chart.schema import schema_message, spell

MESSAGES = [
    pytest.param(
        {"enum": ["off", "permissive", "strict", False]},
        "bogus",
        '"bogus" is not one of ["off", "permissive", "strict", false]',
        id="enum of strings and false",
    ),
    pytest.param(
        {"enum": [None, True, [1, [2, "x"]], {"a": None}]},
        False,
        'false is not one of [null, true, [1, [2, "x"]], {"a": null}]',
        id="enum of null, true, nested lists and a map",
    ),
    pytest.param({"type": "string"}, True, 'true is not of type "string"', id="type true"),
    pytest.param({"type": "integer"}, None, 'null is not of type "integer"', id="type null"),
    pytest.param(
        {"type": ["string", "null"]},
        [1, [False, None]],
        '[1, [false, null]] is not of type "string", "null"',
        id="type of a nested list, two types",
    ),
    pytest.param(
        {"type": "array"},
        {"k": [True]},
        '{"k": [true]} is not of type "array"',
        id="type of a map",
    ),
    pytest.param({"const": False}, "no", 'false was expected, not "no"', id="const"),
    pytest.param(
        {"type": "object", "properties": {"a": {}}, "additionalProperties": False},
        {"a": 1, "b": 2},
        'Additional properties are not allowed ("b" was unexpected)',
        id="one unknown key",
    ),
    pytest.param(
        {"type": "object", "additionalProperties": False},
        {"z": 1, "b": None},
        'Additional properties are not allowed ("b", "z" were unexpected)',
        id="unknown keys",
    ),
    pytest.param(
        {"patternProperties": {"^x-": {}}, "additionalProperties": False},
        {"x-a": 1, "b": 2},
        '"b" does not match any of the regexes: "^x-"',
        id="unknown key and key patterns",
    ),
    pytest.param(
        {"required": ["name", "host"]},
        {"host": "h"},
        '"name" is a required property',
        id="required",
    ),
    pytest.param({"minimum": 1}, 0, "0 is less than the minimum of 1", id="minimum"),
    pytest.param(
        {"maximum": 65535}, 70000, "70000 is greater than the maximum of 65535", id="maximum"
    ),
    pytest.param(
        {"exclusiveMinimum": 0},
        0.0,
        "0.0 is less than or equal to the minimum of 0",
        id="exclusive minimum",
    ),
    pytest.param({"minLength": 1}, "", '"" should be non-empty', id="minLength 1"),
    pytest.param({"minLength": 3}, "ab", '"ab" has fewer than 3 characters', id="minLength"),
    pytest.param({"maxLength": 1}, "ab", '"ab" has more than 1 character', id="maxLength"),
    pytest.param({"maxLength": 0}, "a", '"a" should be empty', id="maxLength 0"),
    pytest.param(
        {"pattern": "^[0-9]+(\\.[0-9]+)?s$"},
        "forever",
        '"forever" does not match "^[0-9]+(\\\\.[0-9]+)?s$"',
        id="pattern (backslashes as in the JSON file)",
    ),
    pytest.param({"minItems": 1}, [], "[] should be non-empty", id="minItems 1"),
    pytest.param({"minItems": 2}, [None], "[null] has fewer than 2 items", id="minItems of [null]"),
    pytest.param(
        {"maxItems": 1}, [True, [False]], "[true, [false]] has more than 1 item", id="maxItems"
    ),
    pytest.param(
        {"minProperties": 2}, {"a": 1}, '{"a": 1} has fewer than 2 properties', id="minProperties"
    ),
    pytest.param(
        {"maxProperties": 1},
        {"a": 1, "b": None},
        '{"a": 1, "b": null} has more than 1 property',
        id="maxProperties",
    ),
    pytest.param(
        {"uniqueItems": True}, ["a", "a"], '["a", "a"] has non-unique elements', id="uniqueItems"
    ),
    pytest.param(
        {"anyOf": [{"type": "string"}, {"type": "integer"}]},
        None,
        "null is not valid under any of the given schemas",
        id="anyOf",
    ),
    pytest.param(
        {"propertyNames": {"pattern": "^[a-z]+$"}},
        {"Bad": 1},
        '"Bad" does not match "^[a-z]+$"',
        id="property name",
    ),
    pytest.param(
        {"if": {"const": 1}, "then": {"type": "string"}},
        1,
        '1 is not of type "string"',
        id="the rule of a then",
    ),
    pytest.param(
        {"multipleOf": 2},
        3,
        "3 is not a multiple of 2",
        id="any other rule keeps jsonschema's message",
    ),
]


@pytest.mark.parametrize(("schema", "instance", "message"), MESSAGES)
def test_schema_message_spells_values_as_json(
    schema: dict[str, Any], instance: Any, message: str
) -> None:
    errors = list(jsonschema.Draft7Validator(schema).iter_errors(instance))
    assert len(errors) == 1, [e.message for e in errors]
    assert schema_message(errors[0]) == message


def test_each_missing_property_is_named_by_its_own_error() -> None:
    schema = {"required": ["name", "host", "port"]}
    errors = jsonschema.Draft7Validator(schema).iter_errors({"host": "h"})
    assert sorted(schema_message(e) for e in errors) == [
        '"name" is a required property',
        '"port" is a required property',
    ]


@pytest.mark.parametrize(
    ("value", "spelt"),
    [
        ("it's", '"it\'s"'),
        ("ünï", '"ünï"'),
        (1.5, "1.5"),
        ((1, "a"), '[1, "a"]'),
        ({1: True}, "{1: true}"),
        (datetime.date(2020, 1, 2), "2020-01-02"),  # a YAML date, as written
    ],
)
def test_spell(value: Any, spelt: str) -> None:
    assert spell(value) == spelt
