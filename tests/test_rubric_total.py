"""Rubric axes owned by the benchmark (test, efficiency with the folded analysis) and the total: a good
design beats each deliberately broken variant on its axis, scores are pure, and the axes add to 100."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from runner.projects import builtin_projects
from runner.rubric.analyze import analysis_coverage
from runner.rubric.efficiency import ToolCallStats, score_efficiency
from runner.rubric.testlogic import score_tests
from runner.rubric.total import total_score
from runner.rubric.types import AXIS_POINTS, Dimension
from runner.run.stats import mean_ci, t_quantile_975
from runner.schemas.analyze import AnalyzeDocument
from runner.schemas.inflection import singular
from runner.schemas.testlogic import TestDocument
from tests.support.designer import analyze
from tests.support.documents import good_tests, interface_doc

TODO = builtin_projects()["todo"]


def test_score(data: dict[str, Any]) -> float:
    return sum(d.points for d in score_tests(TestDocument.model_validate(data), interface_doc()))


test_score.__test__ = False  # type: ignore[attr-defined]


def by_name(dims: list[Dimension]) -> dict[str, float]:
    return {d.name: d.points for d in dims}


def test_good_tests_score_full_marks_and_are_deterministic() -> None:
    first = score_tests(TestDocument.model_validate(good_tests()), interface_doc())
    again = score_tests(TestDocument.model_validate(good_tests()), interface_doc())
    assert first == again
    assert sum(d.max_points for d in first) == AXIS_POINTS["test"]
    assert sum(d.points for d in first) == pytest.approx(25.0)


def _mutate(kind: str) -> dict[str, Any]:
    data = copy.deepcopy(good_tests())
    statements = data["functions"][0]["statements"]
    call = statements[1]
    if kind == "missing_endpoint":
        call["path"] = "/nowhere"
    elif kind == "wrong_arguments":
        call["body"]["properties"].append(
            {"name": "color", "value": {"kind": "stringLiteral", "value": "red"}}
        )
    elif kind == "undeclared_variable":
        statements[2]["expression"]["actual"]["expression"]["name"] = "ghost"
    elif kind == "no_assertions":
        for function in data["functions"]:
            function["statements"] = [s for s in function["statements"] if s["kind"] != "expression"]
    elif kind == "low_coverage":
        data["functions"] = data["functions"][:1]
    return data


@pytest.mark.parametrize(
    ("kind", "dimension"),
    [
        ("missing_endpoint", "endpoints_exist"),
        ("wrong_arguments", "arguments_match"),
        ("undeclared_variable", "variables_declared"),
        ("no_assertions", "assertions"),
        ("low_coverage", "endpoint_coverage"),
    ],
)
def test_each_broken_variant_scores_lower_on_its_dimension(kind: str, dimension: str) -> None:
    good = by_name(score_tests(TestDocument.model_validate(good_tests()), interface_doc()))
    broken = by_name(score_tests(TestDocument.model_validate(_mutate(kind)), interface_doc()))
    assert broken[dimension] < good[dimension]
    assert sum(broken.values()) < sum(good.values())


def test_gate_and_missing_interface() -> None:
    assert sum(d.points for d in score_tests(None, interface_doc())) == 0.0
    without_api = by_name(score_tests(TestDocument.model_validate(good_tests()), None))
    assert without_api["endpoints_exist"] == without_api["endpoint_coverage"] == 0.0
    assert without_api["assertions"] > 0


def stats(valid: bool, attempts: int, generated: int = 100, final: int = 100) -> ToolCallStats:
    return ToolCallStats("database", attempts, valid, generated, final, max_retries=3)


def test_efficiency_rewards_first_try_success() -> None:
    good = score_efficiency([stats(True, 1)] * 4, (1.0, "all"))
    retried = score_efficiency([stats(True, 1)] * 3 + [stats(True, 3, 300, 100)], (1.0, "all"))
    failing = score_efficiency([stats(True, 1)] * 3 + [stats(False, 4, 400, 100)], (1.0, "all"))
    totals = [sum(d.points for d in dims) for dims in (good, retried, failing)]
    assert totals[0] == pytest.approx(15.0) and totals[0] > totals[1] > totals[2]
    assert sum(d.points for d in score_efficiency([], (1.0, "x"))) == pytest.approx(3.0)


def test_analysis_coverage_folds_the_analyze_phase() -> None:
    good = AnalyzeDocument.model_validate(analyze())
    fraction, detail = analysis_coverage(good, TODO.entities, TODO.capabilities)
    assert fraction > 0.7, detail
    thin = analyze()
    thin["entities"] = thin["entities"][:1]
    thin["features"] = thin["features"][:1]
    assert (
        analysis_coverage(AnalyzeDocument.model_validate(thin), TODO.entities, TODO.capabilities)[0]
        < fraction
    )
    assert analysis_coverage(None, TODO.entities, TODO.capabilities)[0] == 0.0
    assert (singular("replies"), singular("todos"), singular("classes")) == ("reply", "todo", "class")


def test_total_adds_axes_and_rejects_inconsistent_dimensions() -> None:
    dims = [Dimension(axis, axis, points, 0.5, "") for axis, points in AXIS_POINTS.items()]
    card = total_score(dims)
    assert card.score == pytest.approx(50.0)
    assert card.axes == {axis: points / 2 for axis, points in AXIS_POINTS.items()}
    assert total_score(dims[:1]).axes["test"] == 0.0  # a missing axis counts 0
    with pytest.raises(ValueError, match="offer"):
        total_score([Dimension("x", "test", 10.0, 1.0, "")])
    with pytest.raises(ValueError, match="twice"):
        total_score([*dims, dims[0]])
    with pytest.raises(ValueError, match="unknown axis"):
        total_score([Dimension("x", "style", 10.0, 1.0, "")])


def test_confidence_interval_uses_the_t_distribution() -> None:
    interval = mean_ci([1.0, 3.0])
    assert interval.mean == 2.0 and interval.half_width == pytest.approx(12.706)
    assert mean_ci([5.0]).half_width is None
    assert mean_ci([2.0, 2.0, 2.0]).half_width == 0.0
    assert t_quantile_975(30) == pytest.approx(2.042)
    assert t_quantile_975(31) == pytest.approx(2.0395, abs=1e-3)
    assert t_quantile_975(120) == pytest.approx(1.980, abs=1e-3)
