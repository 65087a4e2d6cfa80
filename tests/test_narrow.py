"""Context-narrowed grammars (runner.run.narrow): every narrowed schema admits the gold part of its call,
compiles under llguidance, and refuses a dangling name while decoding; `--grammar schema` keeps the plain
schema; every stored call says which grammar it was decoded under."""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from backends.fake import FakeBackend
from runner.gold import gold_projects, load_gold
from runner.oracle.answers import answer
from runner.projects import suite_projects
from runner.run.config import RunConfig
from runner.run.grammar import grammar_schema
from runner.run.narrow import RunKnowledge, narrow_schema
from runner.run.parts import ENDPOINT_PLAN
from runner.run.run import execute_run, start_run
from runner.run.store import ResultsStore
from runner.run.tools import make_tool
from tests.support.designer import answer as designed
from tests.support.llguidance_text import LlguidanceText

NARROWED_TOOLS = (
    "database.table",
    ENDPOINT_PLAN,
    "interface.operation",
    "test.function",
    "realize.operation",
)


@cache
def _calls(project: str) -> dict[str, list[tuple[RunKnowledge, Any]]]:
    """Every call of the gold run of `project` that narrowing touches: what the run knows then, and the
    gold part the call must still admit."""
    gold = load_gold(project)
    tables = tuple(t.name for t in gold.database.tables())
    actors = tuple(sorted(a.name for a in gold.analyze.actors))
    operations = tuple((op.method, op.path) for op in gold.interface.operations)
    columns = tuple(dict.fromkeys(c for t in gold.database.tables() for c in t.column_types()))
    return {
        "database.table": [
            (RunKnowledge(tables=tables, table=t["name"]), t)
            for f in gold.data["database"]["files"]
            for t in f["tables"]
        ],
        ENDPOINT_PLAN: [(RunKnowledge(tables=tables), answer(gold, ENDPOINT_PLAN, ""))],
        "interface.operation": [
            (
                RunKnowledge(tables=tables, actors=actors, endpoint=(op.method, op.path)),
                answer(gold, "interface.operation", f"Task: Write the operation `{op.method} {op.path}`"),
            )
            for op in gold.interface.operations
        ],
        "test.function": [
            (RunKnowledge(operations=operations, function=f["name"]), f)
            for f in gold.data["test"]["functions"]
        ],
        "realize.operation": [
            (
                RunKnowledge(
                    tables=tables, columns=columns, actors=actors, endpoint=(op["method"], op["path"])
                ),
                op,
            )
            for op in gold.data["realize"]["operations"]
        ],
    }


def _admits(schema: dict[str, Any], value: Any) -> bool:
    return bool(jsonschema.validators.validator_for(schema)(schema).is_valid(value))


@pytest.mark.parametrize("project", gold_projects())
@pytest.mark.parametrize("tool", NARROWED_TOOLS)
def test_every_narrowed_schema_admits_what_the_plain_schema_admits_of_gold(project: str, tool: str) -> None:
    # the plain schema misses some gold test functions by its depth cap (tests/test_grammar_gold.py):
    # narrowing must not lose any other
    plain = grammar_schema(tool)
    # jsonschema takes minutes over the test grammar's deep unions on 2 cores: two functions per project
    calls = _calls(project)[tool][: 2 if tool in ("test.function", "realize.operation") else None]
    assert calls
    for known, part in calls:
        narrowed = narrow_schema(tool, plain, known)
        assert narrowed != plain, (project, tool)
        assert _admits(narrowed, part) == _admits(plain, part), (project, tool, known)
        if tool != "test.function":
            assert _admits(narrowed, part), (project, tool, known)


def test_narrowing_rejects_names_the_run_does_not_know() -> None:
    known = RunKnowledge(tables=("members", "todo_lists"), table="todos")
    table = {
        "name": "todos", "description": "a todo", "stance": "primary", "primaryKey": "id",
        "foreignKeys": [{"name": "list_id", "targetTable": "todo_lists", "unique": False, "nullable": False,
                         "description": "its list"}],
        "columns": [], "uniqueIndexes": [], "plainIndexes": [],
    }  # fmt: skip
    schema = narrow_schema("database.table", grammar_schema("database.table"), known)
    assert _admits(schema, table)
    dangling = json.loads(json.dumps(table).replace('"todo_lists"', '"lists"'))
    assert not _admits(schema, dangling) and _admits(grammar_schema("database.table"), dangling)
    assert not _admits(schema, {**table, "name": "tasks"})
    plan = narrow_schema(ENDPOINT_PLAN, grammar_schema(ENDPOINT_PLAN), known)
    endpoint = {"method": "get", "path": "/todo-lists/{todoListId}", "purpose": "read"}
    assert _admits(plan, {"endpoints": [endpoint, {**endpoint, "path": "/auth/members/login"}]})
    assert not _admits(plan, {"endpoints": [{**endpoint, "path": "/articles/list"}]})


def test_narrowing_knows_nothing_then_changes_nothing() -> None:
    for tool in ("analyze", *NARROWED_TOOLS):
        assert narrow_schema(tool, grammar_schema(tool), RunKnowledge()) == grammar_schema(tool)
    # and the shared schema is never mutated
    before = json.dumps(grammar_schema("database.table"), sort_keys=True)
    narrow_schema("database.table", grammar_schema("database.table"), RunKnowledge(tables=("a",), table="a"))
    assert json.dumps(grammar_schema("database.table"), sort_keys=True) == before


def test_make_tool_narrows_only_when_told_and_says_so() -> None:
    plain = make_tool("database.table")
    narrowed = make_tool("database.table", known=RunKnowledge(tables=("todos",), table="todos"))
    assert plain.json_schema == grammar_schema("database.table") and plain.grammar == "schema"
    assert narrowed.grammar == "narrowed" and narrowed.schema_hash != plain.schema_hash


@pytest.mark.parametrize("grammar", ["narrowed", "schema"])
def test_every_stored_call_says_which_grammar_it_used(tmp_path: Path, grammar: str) -> None:
    fake = FakeBackend([designed] * 100, constraint_mode="enforce")
    config = RunConfig(model="fake", model_label="fake", backend="fake", suite="smoke", grammar=grammar)
    store = tmp_path / "results.sqlite"
    run_id = start_run(config, suite_projects("smoke"), store)
    record = execute_run(run_id, store, create_backend=lambda _name: fake)
    assert record.config["grammar"] == grammar
    with ResultsStore(store) as results:
        calls = list(results.finished_calls(run_id).values())
    assert calls
    narrowed_tools = {make_tool(t).name for t in NARROWED_TOOLS}
    for call, request in zip(calls, fake.requests, strict=False):
        assert request.constraint is not None
        expected = (
            "narrowed" if grammar == "narrowed" and request.constraint.name in narrowed_tools else "schema"
        )
        assert call.grammar == expected, call.key
    plain = {make_tool(t).name: grammar_schema(t) for t in NARROWED_TOOLS}
    sent = [r.constraint for r in fake.requests if r.constraint is not None and r.constraint.name in plain]
    assert sent
    assert all((c.json_schema == plain[c.name]) == (grammar == "schema") for c in sent)


@pytest.fixture(scope="module")
def text(smollm2_gguf: Path) -> Iterator[LlguidanceText]:
    loaded = LlguidanceText(smollm2_gguf)
    yield loaded
    loaded.close()


@pytest.mark.model
def test_a_narrowed_grammar_refuses_a_dangling_reference_while_decoding(text: LlguidanceText) -> None:
    known = RunKnowledge(tables=("members", "todo_lists"), table="todos")
    schema = narrow_schema("database.table", grammar_schema("database.table"), known)
    good = (
        '{"name":"todos","description":"a todo","stance":"primary","primaryKey":"id","foreignKeys":[{"name":'
        '"list_id","targetTable":"todo_lists","unique":false,"nullable":false,"description":"its list"}],'
        '"columns":[],"uniqueIndexes":[],"plainIndexes":[]}'
    )
    assert text.refused_at(schema, good) is None
    dangling = good.replace('"todo_lists"', '"lists"')
    assert (
        text.refused_at(grammar_schema("database.table"), dangling) is None
    )  # the plain grammar lets it through
    admitted = text.refused_at(schema, dangling)
    assert admitted is not None and admitted.endswith('"targetTable":"')  # refused at the name's first token
    test_call = '{"name":"test_todos","scenario":"s","statements":[{"kind":"apiCall","method":"get","path":"/todos/{todoId}"'
    function = narrow_schema(
        "test.function", grammar_schema("test.function"),
        RunKnowledge(operations=(("get", "/todos"), ("post", "/todos")), function="test_todos"),
    )  # fmt: skip
    admitted = text.refused_at(function, test_call)
    assert admitted is not None and admitted.endswith('"path":"/todos')  # no operation has that path


@pytest.mark.model
@pytest.mark.parametrize("project", gold_projects())
def test_narrowed_grammars_compile_under_llguidance_and_admit_gold(
    text: LlguidanceText, project: str
) -> None:
    # the first call of each narrowed tool (the narrowing's shape is the same for every call of a tool):
    # the real matcher takes the gold part's tokens as far as under the plain grammar (which refuses some
    # gold parts: its depth cap, and key orders that differ from the schema's)
    for tool in NARROWED_TOOLS:
        known, part = _calls(project)[tool][0]
        compact = json.dumps(part, separators=(",", ":"), ensure_ascii=False)
        plain = text.refused_at(grammar_schema(tool), compact)
        assert text.refused_at(narrow_schema(tool, grammar_schema(tool), known), compact) == plain, (
            project,
            tool,
        )


def test_realize_narrowing_refuses_unknown_tables_columns_and_actors() -> None:
    known, op = _calls("todo")["realize.operation"][0]
    schema = narrow_schema("realize.operation", grammar_schema("realize.operation"), known)
    assert _admits(schema, op)
    step = next(s for s in op["steps"] if "table" in s)
    for changed in (
        {**step, "table": "lists"},
        {**step, "where": [{"join": None, "column": "colour", "op": "eq", "value": None}]},
    ):
        wrong = {**op, "steps": [changed if s is step else s for s in op["steps"]]}
        assert not _admits(schema, wrong) and _admits(grammar_schema("realize.operation"), wrong), changed
    stranger = {**op, "actors": ["stranger"]}
    assert not _admits(schema, stranger) and _admits(grammar_schema("realize.operation"), stranger)
