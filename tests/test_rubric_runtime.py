"""The runtime axis (rubric v3): maximal on the gold answers, lower when the realize has a logic bug the
gold tests catch, zero when nothing ran; v2 records still load and report next to v3 runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from runner.cli import app
from runner.execute import Bug, run_tests
from runner.gold import load_gold
from runner.projects import builtin_projects
from runner.rubric.runtime import TRACKS, RuntimeFigures, score_runtime
from runner.rubric.types import AXIS_POINTS_BY_VERSION
from runner.run.config import RunConfig
from runner.run.record import RunRecord
from runner.run.run import benchmark
from runner.run.runtime import execute_project, gold_mutants, mutation_figures
from runner.run.scoring import Documents, score_static
from runner.run.store import ResultsStore


def _gold_documents(project_id: str) -> tuple[dict[str, object], Documents]:
    gold = load_gold(project_id)
    docs = Documents(gold.analyze, gold.database, gold.interface, gold.test, gold.realize)
    return gold.data, docs


def test_v3_is_v2_rescaled_plus_runtime() -> None:
    v2, v3 = AXIS_POINTS_BY_VERSION["2"], AXIS_POINTS_BY_VERSION["3"]
    assert {a: 0.8 * p for a, p in v2.items()} == {a: p for a, p in v3.items() if a != "runtime"}
    assert v3["runtime"] == 20.0 and sum(v3.values()) == 100.0


def test_the_gold_answer_earns_the_whole_runtime_axis() -> None:
    data, docs = _gold_documents("todo")
    card = score_static(data, docs, builtin_projects()["todo"])
    assert card.axes["runtime"] == 20.0 and card.score == pytest.approx(100.0)


def _caught_bug() -> Bug:
    """The first mutant of todo's gold realize that the gold tests catch."""
    gold = load_gold("todo")
    for bug in gold_mutants("todo"):
        suite = run_tests(gold.test, gold.database, gold.interface, bug.document)
        if suite.passed < len(suite.functions):
            return bug
    raise AssertionError("the gold tests catch no mutant")


def _caught_bug_figures() -> RuntimeFigures:
    gold = load_gold("todo")
    return execute_project(
        "full", "todo", tests=gold.test, database=gold.database, interface=gold.interface,
        realize=_caught_bug().document,
    )  # fmt: skip


def test_a_realize_with_a_bug_the_gold_tests_catch_scores_lower() -> None:
    figures = _caught_bug_figures()
    assert 0 <= figures.gold_passed < figures.gold_tests and figures.failures
    runtime = {d.name: d.points for d in score_runtime(figures, "full")}
    assert runtime["gold_tests_passed"] == pytest.approx(10.0 * figures.gold_passed / figures.gold_tests)
    assert sum(runtime.values()) < 20.0


def test_nothing_executed_earns_nothing_on_every_track() -> None:
    for track in TRACKS:
        for figures in (None, RuntimeFigures(track)):
            dims = score_runtime(figures, track)
            assert sum(d.max_points for d in dims) == pytest.approx(20.0)
            assert sum(d.points for d in dims) == 0.0, (track, figures)
    # no realize at all: the gold tests have nothing to run against
    gold = load_gold("todo")
    figures = execute_project("realize", "todo", database=gold.database, interface=gold.interface)
    assert (figures.gold_tests, figures.gold_passed) == (0, 0)
    assert figures.failures == ("gold tests: no backend to run against",)


def test_only_tests_that_pass_on_the_gold_logic_can_kill_a_mutant() -> None:
    gold = load_gold("todo")
    bug = _caught_bug()
    passing = run_tests(gold.test, gold.database, gold.interface, gold.realize)  # type: ignore[arg-type]
    assert mutation_figures(gold.test, passing, gold, (bug,)) == (1, 1)
    nothing = gold.realize.model_copy(update={"operations": []})  # type: ignore[union-attr]
    failing = run_tests(gold.test, gold.database, gold.interface, nothing)
    assert failing.passed == 0
    assert mutation_figures(gold.test, failing, gold, (bug,)) == (1, 0)


def _v2_record(record: RunRecord) -> dict[str, object]:
    """A record as rubric v2 stored it: no track, no runtime results, no runtime axis."""
    data = json.loads(record.model_dump_json())
    data.pop("track")
    data["rubric_version"] = "2"
    for axes in (data["axes"], data["axes_ci"]):
        axes.pop("runtime")
    for result in data["results"]:
        result.pop("runtime")
        result["axes"].pop("runtime")
    return data


def test_v2_records_still_load_and_report_beside_v3_runs(tmp_path: Path) -> None:
    path = tmp_path / "results.sqlite"
    config = RunConfig(model="gold", model_label="oracle", backend="oracle", suite="todo")
    record = benchmark(config, [builtin_projects()["todo"]], path)
    old = RunRecord.model_validate(_v2_record(record) | {"run_id": "20260101-000000-old"})
    assert old.track == "full" and old.results[0].runtime is None and "runtime" not in old.axes
    with ResultsStore(path) as store:
        store.create_run(old.run_id, model="old", backend="oracle", suite="todo", rubric_version="2",
                         config=record.config, machine={})  # fmt: skip
        store.save_record(old)
        assert store.load_run(old.run_id) == old
    runner = CliRunner()
    out = runner.invoke(app, ["report", "--results", str(path), "-o", str(tmp_path / "r.html")])
    assert out.exit_code == 0, out.output
    markdown = (tmp_path / "r.md").read_text(encoding="utf-8")
    assert "runtime /20" in markdown and "runtime.gold_tests_passed" in markdown
    assert "rubric v2" in markdown
    out = runner.invoke(app, ["compare", record.run_id, old.run_id, "--results", str(path), "--json"])
    assert out.exit_code == 0, out.output
    rows = {r["name"]: r for r in json.loads(out.output)["rows"]}
    assert rows["runtime"]["a"] == 20.0 and rows["runtime"]["b"] == 0.0
    assert "different rubrics" in json.loads(out.output)["warning"]
