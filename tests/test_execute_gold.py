"""The gold tests pass against the gold realize of every project, and the logic bugs a developer
makes — a missing ownership check, a wrong filter, off-by-one pagination, a missing 404, a lost update,
a forgotten state check — make a gold test fail with a reason that points at the bug."""

from __future__ import annotations

from functools import cache

import pytest

from runner.execute import Bug, mutants, run_tests
from runner.gold import GOLD_DIR, gold_projects, load_gold
from runner.schemas.checks.realize import RealizeContext

# Every project whose gold answer has a realize document.
GOLD = [p for p in gold_projects() if (GOLD_DIR / p / "realize.json").is_file()]


@cache
def _mutants(project: str) -> list[Bug]:
    gold = load_gold(project)
    assert gold.realize is not None
    return mutants(gold.realize, RealizeContext.of(gold.analyze, gold.database, gold.interface))


@pytest.mark.parametrize("project", GOLD)
def test_gold_tests_pass_on_the_gold_realize(project: str) -> None:
    gold = load_gold(project)
    assert gold.realize is not None
    result = run_tests(gold.test, gold.database, gold.interface, gold.realize, seed=1)
    assert [f.failure for f in result.functions if f.failure] == []
    assert result.pass_rate == 1.0
    assert all(f.calls >= 4 for f in result.functions)


BUGS = [
    # (project, operator, operation, where, failing test function, words of the failure reason)
    ("todo", "drop_filter", "GET /todo-lists/{todoListId}", "$input.operations[4].steps[0].where[1]", "test_todo_lists", "another member cannot read the list"),
    ("todo", "wrong_filter", "PATCH /todo-lists/{todoListId}/todos", "$input.operations[8].steps[1].where[1].op", "test_todos", "the done filter returns the marked todo"),
    ("todo", "page_off_by_one", "PATCH /todo-lists", "$input.operations[3].steps[0].page.page", "test_todo_lists", "the newest list comes first"),
    ("todo", "lost_update", "PUT /todos/{todoId}", "$input.operations[10].steps[1].set[0]", "test_todos", "PUT /todos/{todoId} answered 500"),
    ("todo", "drop_delete", "DELETE /todo-lists/{todoListId}", "$input.operations[6].steps[1]", "test_todo_lists", "FOREIGN KEY"),
    ("discussion_board", "missing_404", "GET /topics/{topicId}", "$input.operations[6].steps[0].mode", "test_topics", "expected HTTP 404, got HttpError"),
    ("discussion_board", "lost_update", "DELETE /replies/{replyId}", "$input.operations[12].steps[3].set[0]", "test_replies", "replyCount: -1 is below the minimum 0"),
    ("discussion_board", "drop_check", "POST /topics/{topicId}/replies", "$input.operations[9].steps[1]", "test_admin", "nobody can reply to a locked topic"),
    ("discussion_board", "any_actor", "POST /admin/topics/{topicId}/lock", "$input.operations[13].actors", "test_admin", "a member cannot lock a topic"),
    ("library_loans", "drop_check", "POST /loans", "$input.operations[10].steps[4]", "test_reservations", "the returned copy cannot go to a later reservation"),
    ("library_loans", "limit_off_by_one", "PATCH /books", "$input.operations[5].steps[0].page.limit", "test_books", "PATCH /books answered 400"),
    ("library_loans", "drop_filter", "DELETE /reservations/{reservationId}", "$input.operations[16].steps[0].where[1]", "test_reservations", "a member cannot cancel another member's reservation"),
]  # fmt: skip


@pytest.mark.parametrize(("project", "operator", "operation", "where", "function", "reason"), BUGS)
def test_an_injected_bug_fails_a_gold_test(
    project: str, operator: str, operation: str, where: str, function: str, reason: str
) -> None:
    (bug,) = [
        b for b in _mutants(project) if (b.operator, b.operation, b.where) == (operator, operation, where)
    ]
    gold = load_gold(project)
    result = run_tests(gold.test, gold.database, gold.interface, bug.document)
    failed = {f.function: f for f in result.failures}
    assert function in failed, [f.one_line() for f in result.failures]
    assert reason in failed[function].reason


@pytest.mark.parametrize("project", GOLD)
def test_mutants_are_many_distinct_and_valid(project: str) -> None:
    bugs = _mutants(project)
    gold = load_gold(project)
    assert len(bugs) >= 10
    assert len({b.id for b in bugs}) == len(bugs)
    operators = {b.operator for b in bugs}
    assert len(operators) >= 10
    assert operators >= {"drop_check", "drop_filter", "wrong_filter", "missing_404", "page_off_by_one"}
    # a lost update needs an optional field or a counter: library_loans only ever sets a required time
    assert "lost_update" in operators or project == "library_loans"
    assert all(b.document != gold.realize for b in bugs)


def test_an_ownership_check_makes_opening_the_operation_to_every_actor_equivalent() -> None:
    # PUT /topics/{topicId} checks eq(topic.author_id, actor.id) with 403: an administrator gets 403 either way
    operations = {b.operation for b in _mutants("discussion_board") if b.operator == "any_actor"}
    assert "PUT /topics/{topicId}" not in operations
    assert "POST /admin/topics/{topicId}/lock" in operations


def test_a_uniqueness_check_backed_by_a_unique_index_is_not_a_mutant() -> None:
    # members.email has a unique index: without the check the insert answers 409 all the same
    assert not [b for b in _mutants("todo") if b.operator == "drop_conflict"]
    assert [b.operation for b in _mutants("discussion_board") if b.operator == "drop_conflict"] == []
