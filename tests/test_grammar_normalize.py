"""The schema normaliser: engine-neutral output, caps applied, recursion unrolled then cut — on the
engine schemas `lapbench run` compiles (`runner.run.grammar.grammar_schema`) and on small models."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel, Field

from runner.run.grammar import (
    GRAMMAR_MAX_ITEMS,
    GRAMMAR_MAX_ITEMS_DEFAULT,
    GRAMMAR_MAX_STRING,
    GRAMMAR_MAX_STRING_DEFAULT,
    TOOL_NAMES,
    grammar_schema,
)
from runner.run.normalize import normalize_schema, schema_hash
from runner.run.tools import make_tool


class Node(BaseModel):
    name: str = Field(title="Name")
    children: list[Node] = Field(default_factory=list)


class Loop(BaseModel):
    """Needs infinite recursion: every Loop requires another."""

    next: Loop


def _walk(node: Any, path: str = "") -> list[tuple[str, dict[str, Any]]]:
    """Every schema position (never the names inside `properties`)."""
    found: list[tuple[str, dict[str, Any]]] = []
    if not isinstance(node, dict):
        return found
    found.append((path, node))
    for key in ("properties", "$defs", "patternProperties"):
        for name, sub in node.get(key, {}).items():
            found += _walk(sub, f"{path}/{key}/{name}")
    for key in ("anyOf", "allOf", "prefixItems"):
        for i, sub in enumerate(node.get(key, [])):
            found += _walk(sub, f"{path}/{key}/{i}")
    for key in ("items", "additionalProperties"):
        found += _walk(node.get(key), f"{path}/{key}")
    return found


@pytest.mark.parametrize("name", TOOL_NAMES)
def test_tool_schemas_are_engine_neutral(name: str) -> None:
    schema = grammar_schema(name)
    defs = schema.get("$defs", {})
    for path, node in _walk(schema):
        assert not {"title", "discriminator", "oneOf", "propertyNames", "default"} & node.keys(), path
        if node.get("type") == "array":
            assert node["maxItems"] <= GRAMMAR_MAX_ITEMS.get(name, GRAMMAR_MAX_ITEMS_DEFAULT), path
        ref = node.get("$ref")
        if ref is not None:
            assert ref.removeprefix("#/$defs/") in defs, f"{path}: dangling {ref}"


def test_property_names_that_look_like_keywords_survive() -> None:
    schema = grammar_schema("test")
    error_predicates = [body for key, body in schema["$defs"].items() if key.startswith("ErrorPredicate")]
    assert error_predicates and all("title" in body["properties"] for body in error_predicates)
    interface = grammar_schema("interface")
    assert any("$ref" in body.get("properties", {}) for body in interface["$defs"].values())


def test_recursion_is_unrolled_to_max_depth_then_cut() -> None:
    schema = normalize_schema(Node, max_depth=2)
    defs = schema["$defs"]
    assert set(defs) == {"Node", "Node-d1", "Node-d2"}
    assert defs["Node"]["properties"]["children"]["items"] == {"$ref": "#/$defs/Node-d1"}
    assert defs["Node-d2"]["properties"]["children"] == {"const": []}


def test_required_infinite_recursion_is_refused() -> None:
    with pytest.raises(ValueError, match="max_depth"):
        normalize_schema(Loop, max_depth=3)


def test_caps_and_hash() -> None:
    capped = normalize_schema(Node, max_depth=1, max_items=3, max_string=20)
    node = capped["$defs"]["Node"]
    assert node["properties"]["children"]["maxItems"] == 3
    assert node["properties"]["name"]["maxLength"] == 20
    assert "title" not in node["properties"]["name"]
    same = normalize_schema(Node, max_depth=1, max_items=3, max_string=20)
    assert schema_hash(capped) == schema_hash(same)
    assert schema_hash(capped) != schema_hash(normalize_schema(Node, max_depth=2, max_items=3))
    assert len(schema_hash(capped)) == 64


def test_one_of_becomes_any_of_and_min_items_is_kept() -> None:
    raw = {"type": "array", "minItems": 5, "items": {"oneOf": [{"const": "a"}, {"const": "b"}]}}
    out = normalize_schema(raw, max_items=2)
    assert out["maxItems"] == 5 and out["items"] == {"anyOf": [{"const": "a"}, {"const": "b"}]}


def test_grammar_caps_are_stricter_never_looser() -> None:
    tool = make_tool("analyze")
    assert tool.name == "write_analyze" and len(tool.schema_hash) == 64 and "interface Actor {" in tool.doc
    actor = tool.json_schema["$defs"]["Actor"]["properties"]
    assert actor["description"]["maxLength"] == GRAMMAR_MAX_STRING["analyze"]
    assert actor["name"]["maxLength"] == 64  # names keep their pattern and their own cap
    shorter = {"type": "string", "maxLength": 10}
    assert normalize_schema(shorter, max_string=GRAMMAR_MAX_STRING_DEFAULT) == shorter
    enum = {"type": "string", "enum": ["a"]}
    assert normalize_schema(enum, max_string=GRAMMAR_MAX_STRING_DEFAULT) == enum
