"""The tools of `lapbench run`, one path from a tool's name to everything about it: the JSON Schema it
documents, the prompt text of that schema, the engine schema its grammar is compiled from
(`runner.run.grammar`), that schema's hash (stored with every call), a validator and a token budget.
`lapbench run`, `lapbench schema`, the grammar tests and scripts/bench_grammar.py all take them from here."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from runner.run.grammar import grammar_schema, tool_model
from runner.run.harness import ToolSpec
from runner.run.narrow import RunKnowledge, narrow_schema
from runner.run.normalize import schema_hash
from runner.run.parts import ENDPOINT_PLAN, validate_endpoint_plan
from runner.schemas.digest import describe_schema
from runner.schemas.feedback import ValidationReport
from runner.schemas.lenient import parse_lenient
from runner.schemas.tools import tool_name, tool_schema
from runner.schemas.validate import PARTS, validate_document, validate_part

MAX_TOKENS: dict[str, int] = {
    "analyze": 2048,
    "database.table": 512,
    "database.file": 3072,
    ENDPOINT_PLAN: 1536,
    "interface.operation": 1280,
    "test.function": 13312,
    "realize.operation": 3072,
}
"""Output budget per call: enough for a good answer from a capable model, a hard stop for a looping one.
Each is about 1.2x the longest gold part of the 8 reference projects in SmolLM2 tokens (compact JSON):
analyze 1653, database file 2594, table 414, endpoint plan 1179, operation 1010, test function 11146
(clinic_appointments), realize operation 2556 (event_tickets POST /orders); the harness shrinks a budget
to what fits the model's context."""
RUN_TOOLS = tuple(MAX_TOKENS)
"""The tools the pipeline calls."""


def tool_json_schema(name: str) -> dict[str, Any]:
    """The JSON Schema of a tool's arguments as documented (`lapbench schema`): the model's own limits,
    before the grammar caps."""
    model = tool_model(name)
    return model.model_json_schema(by_alias=True) if name == ENDPOINT_PLAN else tool_schema(name)


@cache
def tool_doc(name: str, descriptions: bool = True) -> str:
    """The tool's arguments as TypeScript declarations: the prompt text, and `lapbench schema --digest`."""
    return describe_schema(tool_json_schema(name), tool_model(name).__name__, descriptions)


def _validator(name: str) -> Callable[[Any], ValidationReport]:
    """Validation with nothing known yet; the pipeline passes its own, aware of earlier results."""
    if name == ENDPOINT_PLAN:
        return validate_endpoint_plan
    if name in PARTS:
        return lambda data: validate_part(name, data)
    return lambda data: validate_document(name, data)


def make_tool(
    name: str,
    validate: Callable[[Any], ValidationReport] | None = None,
    max_tokens: int | None = None,
    known: RunKnowledge | None = None,
) -> ToolSpec:
    """The tool as the harness calls it; `json_schema` is exactly what the grammar engine compiles: the
    plain engine schema, or with `known` that schema narrowed by what the run knows (runner.run.narrow)."""
    engine_schema = grammar_schema(name)
    digest = _hash(name)
    if known is not None:
        engine_schema = narrow_schema(name, engine_schema, known)
        digest = schema_hash(engine_schema)
    return ToolSpec(
        name="write_endpoint_plan" if name == ENDPOINT_PLAN else tool_name(name),
        json_schema=engine_schema,
        schema_hash=digest,
        validate=validate or _validator(name),
        parse=lambda text: parse_lenient(text, None if name == ENDPOINT_PLAN else name).data,
        max_tokens=max_tokens or MAX_TOKENS[name],
        doc=tool_doc(name),
        grammar="schema" if known is None else "narrowed",
    )


@cache
def _hash(name: str) -> str:
    return schema_hash(grammar_schema(name))
