"""The realize AST and its validator: the gold realize documents validate; every kind of unresolved name
(table, column, join, bound name, path parameter, body field, component property) is a placed error
with the closest names; the response shape is checked; nothing outside the database's tables (and no
SQL) can be expressed; the part is registered like every other part."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from runner.gold import load_gold
from runner.schemas import PARTS, recursion_limits, tool_schema, validate_part
from runner.schemas.checks.realize import RealizeContext, validate_realize
from runner.schemas.realize import EXPRESSION_TYPES, STEP_TYPES, RealizeOperation
from runner.schemas.realize_expressions import FUNCTION_GUIDE, FUNCTIONS, FunctionName
from tests.support.realize_docs import REALIZE, call, lit, ref, shop

GOLD = ["todo", "discussion_board"]


def _context(project: str) -> RealizeContext:
    gold = load_gold(project)
    return RealizeContext.of(gold.analyze, gold.database, gold.interface)


def _todo_op(method: str, path: str) -> dict[str, Any]:
    ops = load_gold("todo").data["realize"]["operations"]
    return copy.deepcopy(next(o for o in ops if (o["method"], o["path"]) == (method, path)))


def _errors(op: dict[str, Any], project: str = "todo") -> list[tuple[str, str, str]]:
    report = validate_part("realize.operation", op, _context(project))
    return [(e.path, e.kind, e.expected) for e in report.errors]


@pytest.mark.parametrize("project", GOLD)
def test_gold_realize_validates_and_covers_every_operation(project: str) -> None:
    gold = load_gold(project)
    assert gold.realize is not None
    assert [(o.method, o.path) for o in gold.realize.operations] == [
        (o.method, o.path) for o in gold.interface.operations
    ]
    for op in gold.data["realize"]["operations"]:
        assert validate_part("realize.operation", op, _context(project)).valid


def test_the_part_is_registered_with_a_compact_tool_schema() -> None:
    assert PARTS["realize.operation"] is RealizeOperation
    schema = tool_schema("realize.operation")
    defs = schema["$defs"]
    assert len(defs["RealizeExpression"]["anyOf"]) == len(EXPRESSION_TYPES) == 6
    assert len(defs["RealizeStep"]["anyOf"]) == len(STEP_TYPES) == 7
    assert recursion_limits("realize.operation") == {
        "RealizeExpression": RealizeOperation.MAX_EXPRESSION_DEPTH
    }
    assert "sql" not in json.dumps(schema).lower().replace("isnull", "").replace("notnull", "")


def test_every_function_is_documented_for_the_model() -> None:
    from typing import get_args

    assert set(get_args(FunctionName)) == set(FUNCTIONS)
    for name in FUNCTIONS:
        assert name in FUNCTION_GUIDE


@pytest.mark.parametrize(
    ("edit", "path", "kind"),
    [
        # a table that is not in the database document: nothing else can be written to
        (lambda o: o["steps"][0].update(table="sqlite_master"), "$input.steps[0].table", "unknown_reference"),
        (
            lambda o: o["steps"][0]["where"][0].update(column="identifier"),
            "$input.steps[0].where[0].column",
            "unknown_reference",
        ),
        (
            lambda o: o["steps"][0]["joins"][0].update(foreignKey="owner_id"),
            "$input.steps[0].joins[0].foreignKey",
            "unknown_reference",
        ),
        (
            lambda o: o["steps"][0]["where"][1].update(join="lists"),
            "$input.steps[0].where[1].join",
            "unknown_reference",
        ),
        (
            lambda o: o["steps"][0]["where"][0]["value"].update(path=["todoListId"]),
            "$input.steps[0].where[0].value.path[0]",
            "unknown_member",
        ),
        (
            lambda o: o["steps"][1]["set"][0]["value"]["arguments"][0].update(path=["name"]),
            "$input.steps[1].set[0].value.arguments[0].path[0]",
            "unknown_member",
        ),
        (
            lambda o: o["steps"][1]["set"][0]["value"]["arguments"][1].update(path=["titel"]),
            "$input.steps[1].set[0].value.arguments[1].path[0]",
            "unknown_member",
        ),
        (
            lambda o: o["steps"][1]["set"][0]["value"]["arguments"][1].update(name="item"),
            "$input.steps[1].set[0].value.arguments[1].name",
            "undeclared",
        ),
        (
            lambda o: o["steps"][1]["set"][0].update(column="id"),
            "$input.steps[1].set[0].column",
            "unknown_reference",
        ),
        (
            lambda o: o["steps"][1]["set"][0].update(increment=True),
            "$input.steps[1].set[0].increment",
            "not_numeric",
        ),
        (
            lambda o: o["steps"][1]["set"][0]["value"].update(function="lower"),
            "$input.steps[1].set[0].value.arguments",
            "arity",
        ),
        (lambda o: o["steps"][1]["where"][0].update(join="list"), "$input.steps[1].where[0].join", "join"),
        (lambda o: o["steps"][1].update(**{"as": "todo"}), "$input.steps[1].as", "redeclared"),
        (lambda o: o.update(actors=["admin"]), "$input.actors[0]", "unknown_reference"),
        (lambda o: o.update(actors=[]), "$input.actors", "public"),
        (lambda o: o.update(path="/todos/{todoId}/done"), "$input.path", "unknown_reference"),
        (lambda o: o["returns"]["properties"].pop(), "$input.returns.properties", "missing_property"),
        (
            lambda o: o["returns"]["properties"][0].update(name="todoId"),
            "$input.returns.properties[0].name",
            "unknown_reference",
        ),
        (lambda o: o.update(returns=ref("updated")), "$input.returns", "row_as_component"),
        (
            lambda o: o["returns"]["properties"][4].update(value=lit("yes")),
            "$input.returns.properties[4].value.value",
            "shape",
        ),
        (lambda o: o.update(returns=None), "$input.returns", "missing_body"),
    ],
)
def test_unresolved_names_and_wrong_shapes_are_placed(edit: Any, path: str, kind: str) -> None:
    op = _todo_op("put", "/todos/{todoId}")
    edit(op)
    errors = _errors(op)
    assert (path, kind) in [(p, k) for p, k, _ in errors], errors


def test_errors_name_the_closest_known_names_and_mark_the_json() -> None:
    op = _todo_op("get", "/todos/{todoId}")
    op["steps"][0]["where"][0]["column"] = "idd"
    report = validate_part("realize.operation", op, _context("todo"))
    (error,) = report.errors
    assert error.expected.startswith("a column of todos (id,")
    assert "// ❌ $input.steps[0].where[0].column" in report.feedback_text()


def test_inserts_need_every_required_column_and_no_primary_key() -> None:
    op = _todo_op("post", "/todo-lists")
    op["steps"][0]["values"] = [v for v in op["steps"][0]["values"] if v["column"] != "title"]
    op["steps"][0]["values"].append({"column": "id", "value": call("uuid")})
    errors = _errors(op)
    assert (
        "$input.steps[0].values",
        "missing_column",
        "a value for every required column of todo_lists",
    ) in errors
    assert any(p == "$input.steps[0].values[3].column" for p, _, _ in errors)


def test_a_body_is_only_read_where_the_operation_has_one() -> None:
    op = _todo_op("get", "/todos/{todoId}")
    op["steps"][0]["where"][0]["value"] = ref("body", "todoId")
    assert ("$input.steps[0].where[0].value.name", "undeclared") in [(p, k) for p, k, _ in _errors(op)]


def test_select_mode_rules() -> None:
    op = _todo_op("patch", "/todo-lists")
    select = op["steps"][0]
    select["mode"] = "many"
    select["status"] = 404
    select["column"] = "title"
    kinds = {(p, k) for p, k, _ in _errors(op)}
    assert {
        ("$input.steps[0].page", "page"),
        ("$input.steps[0].status", "status"),
        ("$input.steps[0].column", "sum"),
    } <= kinds


def test_filters_take_a_value_exactly_when_their_operator_compares() -> None:
    op = _todo_op("get", "/todos/{todoId}")
    op["steps"][0]["where"][0]["op"] = "isNull"
    op["steps"][0]["where"][1].pop("value")
    kinds = {(p, k) for p, k, _ in _errors(op)}
    assert {
        ("$input.steps[0].where[0].value", "unexpected_value"),
        ("$input.steps[0].where[1].value", "missing_value"),
    } <= kinds


def test_the_document_realizes_each_operation_once() -> None:
    data = copy.deepcopy(load_gold("todo").data["realize"])
    data["operations"][1] = copy.deepcopy(data["operations"][0])
    report = validate_realize(data, _context("todo"))
    kinds = {(e.path, e.kind) for e in report.errors}
    assert ("$input.operations[1].path", "duplicate") in kinds
    assert ("$input.operations", "missing_operation") in kinds


def test_raw_sql_and_unknown_keys_cannot_be_expressed() -> None:
    op = _todo_op("get", "/todos/{todoId}")
    op["steps"][0]["sql"] = "DELETE FROM members"
    report = validate_part("realize.operation", op, _context("todo"))
    assert [(e.path, e.kind) for e in report.errors] == [("$input.steps[0].sql", "extra_forbidden")]
    op = _todo_op("get", "/todos/{todoId}")
    op["steps"][0]["table"] = "members; DROP TABLE todos"
    assert not validate_part("realize.operation", op, _context("todo")).valid


def test_expressions_nest_at_most_the_depth_cap() -> None:
    op = _todo_op("put", "/todos/{todoId}")
    deep: dict[str, Any] = lit(1)
    for _ in range(RealizeOperation.MAX_EXPRESSION_DEPTH + 1):
        deep = call("add", deep, lit(1))
    op["steps"].insert(1, {"kind": "let", "as": "deep", "value": deep})
    assert any(k == "too_deep" for _, k, _ in _errors(op))


def test_without_documents_only_names_that_can_be_known_are_checked() -> None:
    op = _todo_op("put", "/todos/{todoId}")
    assert validate_part("realize.operation", op).valid
    op["steps"][1]["set"][0]["value"]["arguments"][1]["name"] = "nowhere"
    assert [e.kind for e in validate_part("realize.operation", op).errors] == ["undeclared"]


def test_the_shop_fixture_is_valid_and_branches_are_shaped() -> None:
    *_, context = shop()
    assert validate_realize(REALIZE, context).valid
    data = copy.deepcopy(REALIZE)
    get_product = data["operations"][4]
    supplier = get_product["returns"]["properties"][6]["value"]
    supplier["arguments"][2]["properties"].pop()  # the non-null branch misses `name`
    report = validate_realize(data, context)
    assert [(e.path, e.kind) for e in report.errors] == [
        ("$input.operations[4].returns.properties[6].value.arguments[2].properties", "missing_property")
    ]
