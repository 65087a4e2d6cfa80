"""Tracks end to end with the oracle on the todo project: full (own tests against own logic, gold tests
too), realize (only the logic, judged by the gold tests), test (only the tests, against the gold logic and
its mutants); the track is part of the record and of the run's identity."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.errors import ConfigError
from runner.projects import Project, builtin_projects
from runner.report.compare import compare_runs
from runner.run.config import RunConfig
from runner.run.identity import differences, run_inputs
from runner.run.record import PHASE_NAMES, RunRecord
from runner.run.run import benchmark
from runner.run.runtime import gold_mutants


def _run(tmp_path: Path, track: str, path: Path | None = None) -> RunRecord:
    config = RunConfig.model_validate(
        {"model": "gold", "model_label": "oracle", "backend": "oracle", "suite": "todo", "track": track}
    )
    return benchmark(config, [builtin_projects()["todo"]], path or tmp_path / "results.sqlite")


def test_full_track_runs_own_and_gold_tests_against_the_models_logic(tmp_path: Path) -> None:
    record = _run(tmp_path, "full")
    (result,) = record.results
    runtime = result.runtime
    assert record.track == "full" and tuple(result.phases) == PHASE_NAMES
    assert runtime is not None and runtime.own_tests > 0 and runtime.own_passed == runtime.own_tests
    assert runtime.gold_tests > 0 and runtime.gold_passed == runtime.gold_tests and runtime.mutants == 0
    assert result.axes["runtime"] == 20.0 and result.score == 100.0


def test_realize_track_writes_only_the_logic_and_the_gold_tests_judge_it(tmp_path: Path) -> None:
    record = _run(tmp_path, "realize")
    (result,) = record.results
    runtime = result.runtime
    assert record.track == "realize" and list(result.phases) == ["realize"]
    assert runtime is not None and runtime.own_tests == 0 and runtime.gold_passed == runtime.gold_tests > 0
    assert set(k for k in result.dimensions if k.startswith("runtime.")) == {"runtime.gold_tests_passed"}
    # the gold documents it was given are not its work: their axes earn nothing
    assert result.axes["database"] == result.axes["interface"] == result.axes["test"] == 0.0
    assert result.axes["runtime"] == 20.0 and result.axes["efficiency"] == 12.0


def test_test_track_runs_the_models_tests_against_the_gold_logic_and_its_mutants(tmp_path: Path) -> None:
    record = _run(tmp_path, "test")
    (result,) = record.results
    runtime = result.runtime
    assert record.track == "test" and list(result.phases) == ["test"]
    assert runtime is not None and runtime.own_tests > 0 and runtime.own_passed == runtime.own_tests
    assert runtime.mutants == len(gold_mutants("todo")) > 0
    assert 0 < runtime.killed < runtime.mutants  # the oracle writes a subset of the gold tests
    mutation = result.dimensions["runtime.mutation_score"]
    assert mutation == pytest.approx(round(10.0 * runtime.killed / runtime.mutants, 3))
    assert result.dimensions["runtime.own_tests_passed"] == 10.0


def test_the_track_is_part_of_the_identity_and_runs_of_two_tracks_are_not_compared(tmp_path: Path) -> None:
    path = tmp_path / "results.sqlite"
    full, realize = _run(tmp_path, "full", path), _run(tmp_path, "realize", path)
    with pytest.raises(ConfigError, match="different work"):
        compare_runs(path, full.run_id, realize.run_id)
    run = RunConfig(model="gold", model_label="oracle", backend="oracle").model_dump()
    before = run_inputs(run, [])
    after = run_inputs({**run, "track": "test"}, [])
    assert "the track changed from full to test" in differences(before, after)


def test_controlled_tracks_need_a_gold_realize(tmp_path: Path) -> None:
    custom = Project.model_validate({**builtin_projects()["todo"].model_dump(), "id": "my_todo"})
    config = RunConfig(model="gold", model_label="oracle", backend="oracle", track="realize")
    with pytest.raises(ConfigError, match="my_todo has none"):
        benchmark(config, [custom], tmp_path / "results.sqlite")
