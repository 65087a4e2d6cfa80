"""Tool schemas: compact, complete (every field described, every list capped) and equivalent to the
pydantic models — a standard JSON Schema validator accepts the valid documents and rejects the
type-level mistakes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from runner.run.grammar import TOOL_NAMES, grammar_schema
from runner.run.tools import make_tool
from runner.schemas import (
    PARTS,
    PHASES,
    recursion_limits,
    schema_digest,
    tool_description,
    tool_name,
    tool_schema,
)
from runner.schemas.testlogic import EXPRESSION_KINDS

DATA = Path(__file__).parent / "data" / "schemas"
NAMES = [*PHASES, *PARTS]


def _walk(node: Any, key: str = "") -> list[tuple[str, dict[str, Any]]]:
    found: list[tuple[str, dict[str, Any]]] = []
    if isinstance(node, dict):
        found.append((key, node))
        for k, child in node.items():
            found += _walk(child, k)
    elif isinstance(node, list):
        for child in node:
            found += _walk(child, key)
    return found


@pytest.mark.parametrize("name", NAMES)
def test_schema_is_valid_json_schema_and_capped(name: str) -> None:
    schema = tool_schema(name)
    Draft202012Validator.check_schema(schema)
    for _, node in _walk(schema):
        if node.get("type") == "array":
            assert "maxItems" in node, node
        props = node.get("properties")
        if (
            node.get("type") == "object"
            and isinstance(props, dict)
            and node.get("additionalProperties") is False
        ):
            for field, sub in props.items():
                assert sub.get("description"), f"{name}: field {field} has no description"
        assert "title" not in node or node is schema or isinstance(node.get("title"), dict)
        # only grammar-friendly keywords: disjoint unions as anyOf, no propertyNames
        assert not isinstance(node.get("oneOf"), list), node
        assert not isinstance(node.get("propertyNames"), dict), node
    assert tool_name(name).startswith("write_")
    assert tool_description(name).startswith("Write ")


def test_repeated_unions_are_hoisted() -> None:
    schema = tool_schema("test")
    defs = schema["$defs"]
    assert len(defs["Expression"]["anyOf"]) == len(EXPRESSION_KINDS) >= 28
    assert len(defs["Statement"]["anyOf"]) == 6
    text = json.dumps(schema)
    assert text.count('"mapping"') == 0
    assert len(text) < 30_000
    assert "JsonSchema" in tool_schema("interface")["$defs"]


@pytest.mark.parametrize("phase", list(PHASES))
def test_json_schema_accepts_valid_document(phase: str) -> None:
    data = json.loads((DATA / f"{phase}.valid.json").read_text())
    Draft202012Validator(tool_schema(phase)).validate(data)


TYPE_LEVEL = [
    "analyze.bad_actor_kind",
    "database.column_type",
    "database.table_name_case",
    "database.missing_stance",
    "database.extra_field",
    "interface.nested_one_of",
    "interface.string_format",
    "test.bad_expression_kind",
    "test.arrow_body_operator",
]


@pytest.mark.parametrize("name", TYPE_LEVEL)
def test_json_schema_rejects_type_level_mistakes(name: str) -> None:
    data = json.loads((DATA / "invalid" / f"{name}.json").read_text())
    assert not Draft202012Validator(tool_schema(name.split(".")[0])).is_valid(data)


def test_unknown_name() -> None:
    with pytest.raises(KeyError):
        tool_schema("realize")


def test_recursion_limits_name_recursive_defs() -> None:
    assert recursion_limits("test") == {"Expression": 10, "Statement": 4}
    assert recursion_limits("test.function") == {"Expression": 10, "Statement": 4}
    assert recursion_limits("interface") == {"JsonSchema": 4, "OneOfVariant": 4}
    assert recursion_limits("database") == {}
    for name in NAMES:
        assert set(recursion_limits(name)) <= set(tool_schema(name).get("$defs", {}))


@pytest.mark.parametrize("name", TOOL_NAMES)
def test_llguidance_compiles_every_tool_schema_without_warnings(name: str) -> None:
    llguidance = pytest.importorskip("llguidance")
    grammar = llguidance.LLMatcher.grammar_from_json_schema(grammar_schema(name))
    is_error, warnings = llguidance.LLMatcher.validate_grammar_with_warnings(grammar)
    assert (is_error, warnings) == (False, [])


@pytest.mark.parametrize("name", NAMES)
def test_digest_declares_every_type_and_field(name: str) -> None:
    schema = tool_schema(name)
    digest = schema_digest(name)
    assert len(digest) < len(json.dumps(schema)) / 2
    for def_name, node in schema.get("$defs", {}).items():
        assert f"interface {def_name} {{" in digest or f"type {def_name} = " in digest
        for field in node.get("properties", {}):
            assert f"  {field}" in digest


def test_digest_marks_optional_fields_and_unions() -> None:
    digest = schema_digest("test")
    assert "type Expression = BooleanLiteral | NumericLiteral |" in digest
    assert "  optional?: boolean;" in digest
    assert "  body: Expression | null; // Request body" in digest
    assert "Node kind." not in schema_digest("test", descriptions=True)
    assert "//" not in schema_digest("database", descriptions=False)


def test_prompt_text_names_recursive_unions_once() -> None:
    text = make_tool("test.function").doc
    assert text == schema_digest("test.function")  # `lapbench schema --digest` prints the prompt text
    declarations = [line for line in text.splitlines() if not line.startswith("//")]
    assert declarations[0] == "interface TestFunction {"  # the root first
    assert "  statements: Statement[];" in text
    assert text.count("\ninterface EqualPredicate {") == 1
    assert len(text) < 9000  # it goes into every test prompt


def test_digest_types_maps_and_the_endpoint_plan() -> None:
    operation = schema_digest("interface.operation")
    assert "  properties: Record<string, JsonSchema>;" in operation
    variant = next(line for line in operation.splitlines() if line.startswith("type OneOfVariant = "))
    assert "ConstSchema" in variant and "OneOfSchema" not in variant  # a oneOf never nests
    plan = make_tool("interface.plan").doc
    assert plan.splitlines()[1] == "interface EndpointPlan {"
    assert "interface PlannedEndpoint {" in plan
