"""The grammar every tool of `lapbench run` is decoded under, in one place: the caps that bound degenerate
output (recursion depth, list lengths, string lengths, whitespace) and `grammar_schema`, the engine schema
of a tool. `make_tool` (the run), the grammar tests and scripts/bench_grammar.py all compile what it
returns, so what is measured is what ships.

Every cap is stricter than the pydantic models, never looser: each output the grammar allows still
validates; validation then checks what a grammar cannot (references, unique names)."""

from __future__ import annotations

from functools import cache
from typing import Any

from pydantic import BaseModel

from runner.errors import ConfigError
from runner.run.normalize import normalize_schema
from runner.run.parts import ENDPOINT_PLAN, EndpointPlan
from runner.schemas.validate import PARTS, PHASES, model_for

TOOL_NAMES = (*PHASES, *PARTS, ENDPOINT_PLAN)
"""Every name a tool can be made for: the whole-document phases, their parts and the endpoint plan."""

# Expression trees deeper than this are cut from the grammar (the schema allows 10); keeps grammars small.
GRAMMAR_DEPTH = 6
# Realize expressions nest deeper than test expressions (a let that maps rows into objects of sums: the
# gold needs 7); their schema's own limit (RealizeOperation.MAX_EXPRESSION_DEPTH) is small enough to keep.
GRAMMAR_DEPTH_BY_TOOL: dict[str, int] = {"realize.operation": 8}
# Longest list the grammar allows (the schemas allow more): a model repeating list items has to close the
# list and finish instead of running into the token budget. Each admits the longest list of the 8 gold
# projects with margin (tests/test_grammar_gold.py): analyze 25 features, endpoint plan 34 endpoints, test
# function 48 statements, database file 11 tables, operation 13 required properties, realize operation
# 17 steps (realize.operation: the schema's own MAX_STEPS).
GRAMMAR_MAX_ITEMS: dict[str, int] = {
    "analyze": 32,
    "interface": 40,
    ENDPOINT_PLAN: 40,
    "test": 64,
    "test.function": 64,
    "realize.operation": 24,
}
GRAMMAR_MAX_ITEMS_DEFAULT = 16
# Longest free-text string the grammar allows (the schemas allow 800 characters): small models otherwise
# repeat one sentence until the token budget runs out. Per tool, each admits the longest gold string with
# margin: analyze 260, operation 294, endpoint purpose 176, database 105, test scenario 776 characters.
GRAMMAR_MAX_STRING: dict[str, int] = {
    "analyze": 320,
    "interface": 384,
    "interface.operation": 384,
    ENDPOINT_PLAN: 224,
    "test": 800,
    "test.function": 800,
}
GRAMMAR_MAX_STRING_DEFAULT = 128
# Compact JSON: no whitespace between tokens leaves more of the output to jump-forward and removes one way
# for a small model to loop.
GRAMMAR_MAX_WHITESPACE = 0


def tool_model(name: str) -> type[BaseModel]:
    """The pydantic model of a tool's arguments; ConfigError (exit 2) for an unknown name."""
    if name == ENDPOINT_PLAN:
        return EndpointPlan
    if name not in TOOL_NAMES:
        raise ConfigError(f"unknown phase or part {name!r}", hint=f"use one of: {', '.join(TOOL_NAMES)}")
    return model_for(name)


@cache
def grammar_schema(
    name: str, *, max_items: int | None = None, max_string: int | None = None
) -> dict[str, Any]:
    """The JSON Schema the grammar engine compiles for tool `name` (shared: do not mutate it). The caps
    are this module's; `max_items` / `max_string` only shrink the grammar for a test that must finish in
    a few tokens."""
    items = GRAMMAR_MAX_ITEMS.get(name, GRAMMAR_MAX_ITEMS_DEFAULT) if max_items is None else max_items
    return normalize_schema(
        tool_model(name),
        max_depth=GRAMMAR_DEPTH_BY_TOOL.get(name, GRAMMAR_DEPTH),
        max_items=items,
        max_string=GRAMMAR_MAX_STRING.get(name, GRAMMAR_MAX_STRING_DEFAULT)
        if max_string is None
        else max_string,
    )
