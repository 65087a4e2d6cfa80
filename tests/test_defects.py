"""The defect injector: every kind keeps the gold answer valid and lowers the axis it declares; kinds that
cannot apply say so; random mutants are deterministic per seed; the minimal answer is valid. Also the
claim the interface gate rests on: a valid interface renders a valid OpenAPI document (gold and mutants)."""

from __future__ import annotations

import random
from typing import Any

import pytest

from runner.gold import load_gold, validate_gold
from runner.gold.calibrate import static_card, static_points, with_requirements
from runner.gold.defects import DEFECTS, inject, minimal_answer, mutant
from runner.projects import builtin_projects
from runner.render.openapi import render_openapi, validate_openapi
from runner.rubric.total import ScoreCard
from runner.rubric.types import AXIS_POINTS

PROJECTS = ("todo", "shopping")


def _data(project_id: str) -> dict[str, Any]:
    return with_requirements(builtin_projects()[project_id])


def _score(project_id: str, data: dict[str, Any]) -> ScoreCard:
    return static_card(builtin_projects()[project_id], data)


@pytest.fixture(scope="module")
def gold_cards() -> dict[str, ScoreCard]:
    return {p: _score(p, _data(p)) for p in PROJECTS}


def test_at_least_fifteen_kinds_each_on_an_axis() -> None:
    assert len(DEFECTS) >= 15
    assert {d.axis for d in DEFECTS.values()} <= set(AXIS_POINTS)
    assert {"analysis", "database", "interface", "test"} <= {d.axis for d in DEFECTS.values()}


@pytest.mark.parametrize("kind", sorted(DEFECTS))
def test_every_kind_keeps_the_gold_valid_and_lowers_its_axis(
    kind: str, gold_cards: dict[str, ScoreCard]
) -> None:
    axis = DEFECTS[kind].axis
    lowered = []
    for project_id in PROJECTS:
        data = _data(project_id)
        mutated = inject(project_id, data, kind, random.Random(7))  # validate_gold inside: raises if invalid
        assert mutated is not None, f"{kind} does not apply to {project_id}"
        assert data == _data(project_id), "the input must not change"
        card = _score(project_id, mutated)
        lowered.append(card.axes[axis] < gold_cards[project_id].axes[axis])
        assert card.score <= gold_cards[project_id].score
    assert any(lowered), f"{kind} never lowers {axis}"


def test_a_kind_that_cannot_apply_returns_none() -> None:
    data = minimal_answer("todo", _data("todo"))
    data["requirements"] = _data("todo")["requirements"]
    rng = random.Random(0)
    assert inject("todo", data, "table_missing", rng) is None  # one table: nothing to take away
    assert inject("todo", data, "test_function_missing", rng) is None
    assert inject("todo", data, "fk_dropped", rng) is None  # no foreign key left


def test_mutants_are_deterministic_per_seed() -> None:
    data = _data("todo")
    first = mutant("todo", data, 5, random.Random(11))
    again = mutant("todo", data, 5, random.Random(11))
    other = mutant("todo", data, 5, random.Random(12))
    assert first == again
    assert len(first[1]) == 5 and first[1] != other[1]
    assert _score("todo", first[0]).score == _score("todo", again[0]).score < 100.0


def test_the_minimal_answer_is_valid_and_scores_low() -> None:
    for project_id in PROJECTS:
        data = minimal_answer(project_id, _data(project_id))
        gold = validate_gold(project_id, data)
        assert (len(gold.database.tables()), len(gold.interface.operations), len(gold.test.functions)) == (
            1,
            1,
            1,
        )
        assert _score(project_id, data).score < 25.0


def test_valid_interfaces_render_valid_openapi() -> None:
    """The interface gate skips the slow OpenAPI validator for documents that pass lapbench's rules."""
    data = _data("todo")
    interfaces = [load_gold("todo").interface, load_gold("shopping").interface]
    for kind, defect in DEFECTS.items():
        if defect.axis == "interface":
            mutated = inject("todo", data, kind, random.Random(3))
            assert mutated is not None
            interfaces.append(validate_gold("todo", mutated).interface)
    for interface in interfaces:
        assert validate_openapi(render_openapi(interface)) == []


@pytest.mark.parametrize("kind", ["test_off_target", "column_missing", "response_loses_fields"])
def test_a_defect_never_repairs_another(kind: str) -> None:
    """On top of other defects, these kinds once undid one (renaming a function into the place of a
    missing one, dropping the mistyped column or the field without a column): they must only add."""
    for seed in range(6):
        rng = random.Random(seed)
        damaged = mutant("todo", _data("todo"), rng.randint(3, 12), rng)[0]
        more = inject("todo", damaged, kind, rng)
        if more is not None:
            assert static_points(_score("todo", more)) <= static_points(_score("todo", damaged)) + 1e-9
