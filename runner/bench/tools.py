"""The tools of the pipeline: for each phase or part, the engine-ready schema (normalised once per run),
its hash (stored with every call), the prompt text of the schema, a validator and a token budget."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from pydantic import BaseModel

from runner.bench.harness import ToolSpec
from runner.bench.parts import ENDPOINT_PLAN, EndpointPlan
from runner.bench.schema_doc import describe_schema
from runner.harness.normalize import normalize_schema, schema_hash
from runner.schemas.lenient import parse_lenient
from runner.schemas.report import ValidationReport
from runner.schemas.tools import tool_name, tool_schema
from runner.schemas.validate import model_for

MAX_TOKENS: dict[str, int] = {
    "analyze": 768,
    "database.table": 448,
    "database.file": 1024,
    ENDPOINT_PLAN: 512,
    "interface.operation": 512,
    "test.function": 640,
}
"""Output budget per call: enough for a good answer from a capable model, a hard stop for a looping one."""
# Expression trees deeper than this are cut from the grammar (the schema allows 10); keeps grammars small.
GRAMMAR_DEPTH = 6
# Longest list the grammar allows (the schemas allow more): a model repeating list items has to close the
# list and finish instead of running into the token budget.
GRAMMAR_MAX_ITEMS: dict[str, int] = {"analyze": 12, ENDPOINT_PLAN: 24}
GRAMMAR_MAX_ITEMS_DEFAULT = 8
# Longest free-text string the grammar allows (the schemas allow 800 characters): small models otherwise
# repeat one sentence until the token budget runs out.
GRAMMAR_MAX_STRING = 80


def cap_strings(node: Any, limit: int = GRAMMAR_MAX_STRING) -> Any:
    """A copy of a JSON Schema where every free-text string has `maxLength <= limit` (a stricter grammar,
    so every output it allows still validates)."""
    if isinstance(node, list):
        return [cap_strings(item, limit) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: cap_strings(value, limit) if key != "properties" else value for key, value in node.items()}
    if "properties" in node:
        out["properties"] = {name: cap_strings(sub, limit) for name, sub in node["properties"].items()}
    free_text = out.get("type") == "string" and not {"enum", "const", "pattern", "format"} & set(out)
    if free_text:
        out["maxLength"] = min(int(out.get("maxLength", limit)), limit)
    return out


@cache
def _schema(name: str) -> tuple[dict[str, Any], str, str, str]:
    """(engine schema, its hash, prompt text, tool name) of a phase, part, or the endpoint plan."""
    model: type[BaseModel]
    if name == ENDPOINT_PLAN:
        model, doc_schema, tool = (
            EndpointPlan,
            EndpointPlan.model_json_schema(by_alias=True),
            "write_endpoint_plan",
        )
    else:
        model, doc_schema, tool = model_for(name), tool_schema(name), tool_name(name)
    max_items = GRAMMAR_MAX_ITEMS.get(name, GRAMMAR_MAX_ITEMS_DEFAULT)
    engine_schema = cap_strings(normalize_schema(model, max_depth=GRAMMAR_DEPTH, max_items=max_items))
    root = model.__name__
    return engine_schema, schema_hash(engine_schema), describe_schema(doc_schema, root), tool


def make_tool(
    name: str, validate: Callable[[Any], ValidationReport], max_tokens: int | None = None
) -> ToolSpec:
    engine_schema, digest, doc, tool = _schema(name)
    return ToolSpec(
        name=tool,
        json_schema=engine_schema,
        schema_hash=digest,
        validate=validate,
        parse=lambda text: parse_lenient(text, None if name == ENDPOINT_PLAN else name).data,
        max_tokens=max_tokens or MAX_TOKENS[name],
        doc=doc,
    )
