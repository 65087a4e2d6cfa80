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
    "database.table": 512,
    "database.file": 1536,
    ENDPOINT_PLAN: 512,
    "interface.operation": 640,
    "test.function": 768,
}
"""Output budget per call: enough for a good answer from a capable model, a hard stop for a looping one."""
# Expression trees deeper than this are cut from the grammar (the schema allows 10); keeps grammars small.
GRAMMAR_DEPTH = 6


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
    engine_schema = normalize_schema(model, max_depth=GRAMMAR_DEPTH)
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
