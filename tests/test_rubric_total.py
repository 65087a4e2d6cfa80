"""Rubric axes owned by the benchmark (analysis, test, efficiency) and the total: the gold answer scores
full marks, broken variants lose on their dimension, scores are pure, and the axes add to 100."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from runner.gold import load_gold
from runner.projects import builtin_projects
from runner.rubric.analyze import score_analysis
from runner.rubric.efficiency import ToolCallStats, score_efficiency
from runner.rubric.testlogic import score_tests
from runner.rubric.total import total_score
from runner.rubric.types import AXIS_POINTS, AXIS_POINTS_BY_VERSION, Dimension, axis_points
from runner.run.stats import mean_ci, t_quantile_975
from runner.schemas.analyze import AnalyzeDocument
from runner.schemas.inflection import singular
from runner.schemas.testlogic import TestDocument
from tests.support.designer import analyze

TODO = builtin_projects()["todo"]
GOLD = load_gold("todo")


def by_name(dims: list[Dimension]) -> dict[str, float]:
    return {d.name: d.points for d in dims}


def _tests(data: dict[str, Any]) -> dict[str, float]:
    return by_name(score_tests(TestDocument.model_validate(data), GOLD.interface, TODO.capabilities))


def test_gold_tests_score_full_marks_and_are_deterministic() -> None:
    first = score_tests(GOLD.test, GOLD.interface, TODO.capabilities)
    assert first == score_tests(GOLD.test, GOLD.interface, TODO.capabilities)
    assert sum(d.max_points for d in first) == pytest.approx(AXIS_POINTS["test"])
    assert sum(d.points for d in first) == pytest.approx(AXIS_POINTS["test"]), [
        d.detail for d in first if d.fraction < 1
    ]


def _mutate(kind: str) -> dict[str, Any]:
    data = copy.deepcopy(GOLD.data["test"])
    functions = data["functions"]
    if kind == "wrong_arguments":
        for function in functions:
            for stmt in function["statements"]:
                if stmt["kind"] == "apiCall" and stmt["path"] == "/todo-lists" and stmt["method"] == "post":
                    stmt["body"]["properties"].append(
                        {"name": "color", "value": {"kind": "stringLiteral", "value": "red"}}
                    )
    elif kind == "no_assertions":
        for function in functions:
            function["statements"] = [s for s in function["statements"] if s["kind"] != "expression"]
    elif kind == "low_coverage":
        data["functions"] = [f for f in functions if f["name"] != "test_todos"]
    elif kind == "off_target":
        functions[0]["name"], functions[1]["name"] = functions[1]["name"], functions[0]["name"]
    return data


@pytest.mark.parametrize(
    ("kind", "dimensions"),
    [
        ("wrong_arguments", ["arguments_match"]),
        ("no_assertions", ["assertions", "negative_checks"]),
        ("low_coverage", ["endpoint_coverage", "assertions", "focused_tests"]),
        ("off_target", ["focused_tests"]),
    ],
)
def test_each_broken_variant_scores_lower_on_its_dimension(kind: str, dimensions: list[str]) -> None:
    good = _tests(GOLD.data["test"])
    broken = _tests(_mutate(kind))
    for dimension in dimensions:
        assert broken[dimension] < good[dimension], dimension
    assert sum(broken.values()) < sum(good.values())


def test_gate_and_missing_interface() -> None:
    assert sum(d.points for d in score_tests(None, GOLD.interface, TODO.capabilities)) == 0.0
    assert sum(d.points for d in score_tests(GOLD.test, None, TODO.capabilities)) == 0.0


def stats(valid: bool, attempts: int, generated: int = 100, final: int = 100) -> ToolCallStats:
    return ToolCallStats("database", attempts, valid, generated, final, max_retries=3)


def test_efficiency_rewards_first_try_success() -> None:
    good = score_efficiency([stats(True, 1)] * 4, 4)
    retried = score_efficiency([stats(True, 1)] * 3 + [stats(True, 3, 300, 100)], 4)
    failing = score_efficiency([stats(True, 1)] * 3 + [stats(False, 4, 400, 100)], 4)
    totals = [sum(d.points for d in dims) for dims in (good, retried, failing)]
    assert totals[0] == pytest.approx(AXIS_POINTS["efficiency"]) and totals[0] > totals[1] > totals[2]
    assert sum(d.points for d in score_efficiency([], 4)) == 0.0


def test_gold_analysis_covers_the_project_and_a_thin_one_does_not() -> None:
    gold = by_name(score_analysis(GOLD.analyze, TODO.entities, TODO.capabilities))
    assert sum(gold.values()) == pytest.approx(AXIS_POINTS["analysis"])
    thin = analyze()
    thin["entities"] = thin["entities"][:1]
    thin["features"] = thin["features"][:1]
    lean = by_name(score_analysis(AnalyzeDocument.model_validate(thin), TODO.entities, TODO.capabilities))
    assert lean["entity_coverage"] < gold["entity_coverage"]
    assert lean["feature_coverage"] < gold["feature_coverage"]
    assert sum(d.points for d in score_analysis(None, TODO.entities, TODO.capabilities)) == 0.0
    assert (singular("replies"), singular("todos"), singular("classes")) == ("reply", "todo", "class")


def test_total_adds_axes_and_rejects_inconsistent_dimensions() -> None:
    dims = [Dimension(axis, axis, points, 0.5, "") for axis, points in AXIS_POINTS.items()]
    card = total_score(dims)
    assert card.score == pytest.approx(50.0) and card.rubric_version == "3"
    assert card.axes == {axis: points / 2 for axis, points in AXIS_POINTS.items()}
    assert total_score(dims[:1]).axes["test"] == 0.0  # a missing axis counts 0
    with pytest.raises(ValueError, match="offer"):
        total_score([Dimension("x", "test", 10.0, 1.0, "")])
    with pytest.raises(ValueError, match="twice"):
        total_score([*dims, dims[0]])
    with pytest.raises(ValueError, match="unknown axis"):
        total_score([Dimension("x", "style", 10.0, 1.0, "")])


def test_every_rubric_version_adds_to_100() -> None:
    for version, axes in AXIS_POINTS_BY_VERSION.items():
        assert sum(axes.values()) == 100.0, version
    assert set(axis_points("1")) == {"database", "interface", "test", "efficiency"}
    assert "analysis" in axis_points("2") and "runtime" not in axis_points("2")  # v2 records still read
    assert axis_points("3") == AXIS_POINTS and "runtime" in AXIS_POINTS


def test_confidence_interval_uses_the_t_distribution() -> None:
    interval = mean_ci([1.0, 3.0])
    assert interval.mean == 2.0 and interval.half_width == pytest.approx(12.706)
    assert mean_ci([5.0]).half_width is None
    assert mean_ci([2.0, 2.0, 2.0]).half_width == 0.0
    assert t_quantile_975(30) == pytest.approx(2.042)
    assert t_quantile_975(31) == pytest.approx(2.0395, abs=1e-3)
    assert t_quantile_975(120) == pytest.approx(1.980, abs=1e-3)
