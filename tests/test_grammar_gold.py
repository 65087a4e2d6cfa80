"""A senior engineer's answer fits the harness: every gold part of every reference project is admitted by
the engine schema its tool is decoded under (the grammar caps) and fits the tool's token budget in real
SmolLM2 tokens, with margin."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from runner.gold import gold_projects, load_gold
from runner.oracle.answers import answer
from runner.run.grammar import grammar_schema
from runner.run.parts import ENDPOINT_PLAN
from runner.run.tools import MAX_TOKENS, RUN_TOOLS

# A budget must leave this much room above the longest gold part: a capable model is wordier than gold.
BUDGET_MARGIN = 1.15


def _parts(project: str) -> dict[str, list[Any]]:
    gold = load_gold(project)
    data = gold.data
    operations = [
        answer(gold, "interface.operation", f"Task: Write the operation `{op.method} {op.path}`")
        for op in gold.interface.operations
    ]
    return {
        "analyze": [data["analyze"]],
        "database.file": list(data["database"]["files"]),
        "database.table": [t for f in data["database"]["files"] for t in f["tables"]],
        ENDPOINT_PLAN: [answer(gold, ENDPOINT_PLAN, "")],
        "interface.operation": operations,
        "test.function": list(data["test"]["functions"]),
        "realize.operation": list(data.get("realize", {}).get("operations", [])),
    }


@cache
def _validator(tool: str) -> jsonschema.protocols.Validator:
    schema = grammar_schema(tool)
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema)  # built once: jsonschema.validate re-checks the (large) schema on every call


def test_the_parts_cover_every_run_tool() -> None:
    assert set(_parts("todo")) == set(RUN_TOOLS)


DEPTH_GAP = pytest.mark.xfail(
    strict=True,
    reason="known gap (issue 14): the grammar's recursion cap (GRAMMAR_DEPTH) cuts the expression nesting "
    "that gold test functions use (arrayForEach -> arrow function -> statements -> apiCall)",
)


@pytest.mark.parametrize("project", gold_projects())
@pytest.mark.parametrize(
    "tool", [pytest.param(t, marks=DEPTH_GAP) if t == "test.function" else t for t in RUN_TOOLS]
)
def test_every_gold_part_is_admitted_by_the_engine_schema(project: str, tool: str) -> None:
    values = _parts(project)[tool]
    if tool == "realize.operation" and not values:
        pytest.skip(f"{project} has no gold realize yet")
    assert values, (project, tool)
    for value in values:
        error = jsonschema.exceptions.best_match(_validator(tool).iter_errors(value))
        assert error is None, f"{project} {tool}: {error.message[:160]} at {list(error.absolute_path)}"


def test_every_gold_part_fits_its_token_budget(smollm2_gguf: Path) -> None:
    from llama_cpp import Llama

    vocab = Llama(str(smollm2_gguf), vocab_only=True, verbose=False)
    longest = dict.fromkeys(RUN_TOOLS, 0)
    for project in gold_projects():
        for tool, values in _parts(project).items():
            for value in values:
                text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
                longest[tool] = max(longest[tool], len(vocab.tokenize(text.encode(), add_bos=False)))
    for tool, tokens in longest.items():
        assert tokens * BUDGET_MARGIN <= MAX_TOKENS[tool], (
            f"{tool}: gold needs {tokens}, budget {MAX_TOKENS[tool]}"
        )
