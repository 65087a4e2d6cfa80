"""Small pieces of the pipeline: table names from entities, planned values, endpoint plan, feedback."""

from __future__ import annotations

import pytest

from runner.run.harness import FEEDBACK_MAX_CHARS, MAX_LISTED_ERRORS, bounded_feedback
from runner.run.parts import validate_endpoint_plan
from runner.run.plan import expect_value, pascal, resource_of
from runner.run.tools import make_tool
from runner.schemas.inflection import plural
from runner.schemas.validate import validate_part


@pytest.mark.parametrize(
    ("entity", "table"),
    [("todo", "todos"), ("category", "categories"), ("order_item", "order_items"), ("class", "classes"),
     ("day", "days"), ("box", "boxes"), ("news", "news"), ("todo_lists", "todo_lists")],
)  # fmt: skip
def test_plural(entity: str, table: str) -> None:
    assert plural(entity) == table


def test_names_and_resources() -> None:
    assert pascal("hr_time_tracking") == "HrTimeTracking"
    assert resource_of("/todo-lists/{todoListId}/todos") == "todo-lists"
    assert resource_of("/{id}") == "root"


def test_expect_value_adds_a_placed_error() -> None:
    tool = make_tool("database.table", lambda data: validate_part("database.table", data))
    report = tool.validate({"name": "todo", "description": "", "stance": "primary", "foreignKeys": [],
                            "columns": [], "uniqueIndexes": [], "plainIndexes": []})  # fmt: skip
    assert report.valid
    checked = expect_value(report, ("name",), "todos", "the planned table name")
    assert not checked.valid and checked.errors[-1].path == "$input.name"
    assert "'todos'" in checked.feedback_text()


def test_endpoint_plan_rejects_duplicates() -> None:
    entry = {"method": "get", "path": "/todos", "purpose": "list"}
    report = validate_endpoint_plan({"endpoints": [entry, entry]})
    assert not report.valid and report.errors[0].path == "$input.endpoints[1].path"
    assert validate_endpoint_plan({"endpoints": [entry]}).valid
    assert not validate_endpoint_plan(
        {"endpoints": [{"method": "get", "path": "todos", "purpose": ""}]}
    ).valid


def test_feedback_stays_bounded_when_a_mistake_repeats() -> None:
    column = {"name": "x", "type": "string", "nullable": False, "description": "d" * 100}
    table = {"name": "things", "description": "", "stance": "primary", "foreignKeys": [],
             "columns": [column] * 40, "uniqueIndexes": [], "plainIndexes": []}  # fmt: skip
    report = validate_part("database.table", table)
    assert len(report.errors) == 39 and len(report.feedback_text(collapse_valid=True)) > FEEDBACK_MAX_CHARS
    text = bounded_feedback(report)
    assert len(text) < FEEDBACK_MAX_CHARS and "$input.columns[1].name" in text
    assert f"and {39 - MAX_LISTED_ERRORS} more" in text
    small = validate_part("database.table", {**table, "columns": [column] * 2})
    assert bounded_feedback(small) == small.feedback_text(collapse_valid=True)
