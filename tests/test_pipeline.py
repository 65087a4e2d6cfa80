"""The pipeline and its feedback loop on the fake backend (scripted replies), with a real SQLite store."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from backends.base import GenerationRequest
from backends.fake import FakeBackend, FakeReply
from runner.projects import suite_projects
from runner.run.config import RunConfig
from runner.run.record import RunRecord
from runner.run.run import RunInterrupted, execute_run, start_run
from runner.run.store import ResultsStore
from tests.support.designer import analyze, answer

PHASES = ["analyze", "database", "interface", "test", "realize"]


def tool_of(request: GenerationRequest) -> str:
    return request.messages[1].content.split("`", 2)[1]


def run_fake(tmp_path: Path, fake: FakeBackend, **options: Any) -> tuple[RunRecord, Path]:
    config = RunConfig(model="fake", model_label="fake", backend="fake", suite="smoke", **options)
    path = tmp_path / "results.sqlite"
    run_id = start_run(config, suite_projects("smoke"), path)
    return execute_run(run_id, path, create_backend=lambda _name: fake), path


def designer_with(overrides: dict[str, list[str | FakeReply]]) -> Any:
    """The competent designer, except that the first calls of some tools get scripted replies."""
    queues = {tool: list(replies) for tool, replies in overrides.items()}

    def reply(request: GenerationRequest) -> str | FakeReply:
        queue = queues.get(tool_of(request))
        return queue.pop(0) if queue else answer(request)

    return reply


def test_good_designer_passes_every_phase_first_try(tmp_path: Path) -> None:
    fake = FakeBackend([answer] * 100, constraint_mode="enforce")
    record, path = run_fake(tmp_path, fake)
    assert [p for p in record.phases] == PHASES
    assert all(p.status == "ok" and p.retries == 0 for p in record.phases.values())
    assert record.first_try_successes == record.calls == len(fake.requests)
    # the designer's tests check no error case (negative_checks 0), and never sign in: every call they make
    # is answered 401 by the realized backend, so no test function passes (runtime axis 0)
    assert record.score > 60 and record.axes["runtime"] == 0.0
    (result,) = record.results
    assert result.runtime is not None and result.runtime.own_tests > 0 and result.runtime.own_passed == 0
    assert set(record.axes) == {"analysis", "database", "interface", "test", "efficiency", "runtime"}
    assert record.rubric_version == "3"
    # grammar mode: every request carried the tool's schema as a constraint
    assert all(r.constraint is not None and r.constraint.engine == "llguidance" for r in fake.requests)
    with ResultsStore(path) as store:
        rows = store.call_rows(record.run_id)
        assert len(rows) == record.calls
        assert all(row["generated_tokens"] and row["schema_hash"] for row in rows)
        assert store.load_run(record.run_id) == record
        phases = {row["phase"]: row["status"] for row in store.phase_rows(record.run_id)}
        assert phases == dict.fromkeys(PHASES, "ok")


def test_invalid_reply_gets_placed_feedback_then_retry_succeeds(tmp_path: Path) -> None:
    bad = analyze()
    bad["features"][0]["actor"] = "ghost"
    fake = FakeBackend([designer_with({"write_analyze": [json.dumps(bad)]})] * 100, constraint_mode="enforce")
    record, path = run_fake(tmp_path, fake)
    analysis = record.phases["analyze"]
    counts = (analysis.status, analysis.calls, analysis.retries, analysis.first_try_successes)
    assert counts == ("ok", 2, 1, 0)
    first_request, retry = fake.requests[0], fake.requests[1]
    assert [m.role for m in retry.messages] == ["system", "user"]
    feedback = retry.messages[1].content
    assert feedback.startswith(first_request.messages[1].content)  # the original request is the prefix
    assert "$input.features[0].actor" in feedback and '"ghost"' in feedback
    with ResultsStore(path) as store:
        first, second = store.call_rows(record.run_id)[:2]
    assert (first["valid"], first["attempt"], second["valid"], second["attempt"]) == (0, 0, 1, 1)
    assert json.loads(first["errors_json"])[0]["path"] == "$input.features[0].actor"
    assert record.dimensions["efficiency.first_try_success"] < 7.0  # its full points under rubric v2


def test_failed_phase_is_recorded_and_later_phases_continue(tmp_path: Path) -> None:
    garbage = FakeReply('{"actors": [', finish_reason="length")
    fake = FakeBackend([designer_with({"write_analyze": [garbage] * 4})] * 100, constraint_mode="enforce")
    record, _ = run_fake(tmp_path, fake)
    assert record.phases["analyze"].status == "failed"
    assert record.phases["analyze"].calls == 4 and record.phases["analyze"].retries == 3
    assert "cut off" in fake.requests[1].messages[1].content
    # without an analysis the database is asked for in one call, and the later phases still run
    assert record.phases["database"].status == "ok" and record.phases["database"].parts == 1
    assert record.phases["interface"].status == "ok"
    assert record.phases["test"].status == "ok"
    assert record.axes["analysis"] == 0.0
    assert record.axes["database"] > 0


def test_free_mode_parses_chatty_output_leniently(tmp_path: Path) -> None:
    def chatty(request: GenerationRequest) -> str:
        assert request.constraint is None
        return "Sure! Here are the arguments:\n```json\n" + answer(request) + "\n```\nHope this helps."

    fake = FakeBackend([chatty] * 100)
    record, _ = run_fake(tmp_path, fake, mode="free")
    assert record.engine is None and record.mode == "free"
    assert all(p.status == "ok" for p in record.phases.values())


def test_hopeless_phase_stops_after_three_failed_tool_calls(tmp_path: Path) -> None:
    wide = analyze()
    wide["entities"] += [{"name": n, "description": n} for n in ("tag", "label", "note")]
    broken_table = json.dumps({"name": "x"})
    script = designer_with({"write_analyze": [json.dumps(wide)], "write_database_table": [broken_table] * 40})
    fake = FakeBackend([script] * 100)
    record, _ = run_fake(tmp_path, fake, retries=1, mode="free")
    database = record.phases["database"]
    assert (database.parts, database.parts_valid, database.calls) == (3, 0, 6)
    assert database.status == "failed"
    assert record.axes["database"] == 0.0


def test_keyboard_interrupt_then_resume_repeats_no_finished_call(tmp_path: Path) -> None:
    reference, _ = run_fake(tmp_path / "reference", FakeBackend([answer] * 100, constraint_mode="enforce"))

    def interrupt(_request: GenerationRequest) -> str:
        raise KeyboardInterrupt

    first = FakeBackend([answer] * 6 + [interrupt], constraint_mode="enforce")
    config = RunConfig(model="fake", model_label="fake", backend="fake", suite="smoke")
    path = tmp_path / "results.sqlite"
    run_id = start_run(config, suite_projects("smoke"), path)
    with pytest.raises(RunInterrupted) as stopped:
        execute_run(run_id, path, create_backend=lambda _name: first)
    assert stopped.value.exit_code == 130 and f"--resume {run_id}" in (stopped.value.hint or "")
    with ResultsStore(path) as store:
        assert store.run_row(run_id)["status"] == "interrupted"
        before = store.call_rows(run_id)
    assert len(before) == 6

    second = FakeBackend([answer] * 100, constraint_mode="enforce")
    record = execute_run(run_id, path, create_backend=lambda _name: second)
    with ResultsStore(path) as store:
        after = store.call_rows(run_id)
    assert after[:6] == before  # finished calls kept as they were
    assert len(second.requests) == reference.calls - 6  # and not generated again
    assert len({row["call_key"] for row in after}) == len(after) == record.calls == reference.calls
    assert record.status == "finished"
    assert (record.score, record.dimensions) == (reference.score, reference.dimensions)
    # token counts differ (a fresh backend has no prompt cache), everything else is identical
    summary = {"tokens"}
    assert {k: p.model_dump(exclude=summary) for k, p in record.phases.items()} == {
        k: p.model_dump(exclude=summary) for k, p in reference.phases.items()
    }


def test_repeats_use_different_seeds_and_report_an_interval(tmp_path: Path) -> None:
    fake = FakeBackend([answer] * 100, constraint_mode="enforce")
    record, _ = run_fake(tmp_path, fake, repeats=2, seed=7)
    assert record.seeds == [7, 1007] and [r.seed for r in record.results] == [7, 1007]
    assert {r.seed for r in fake.requests} == {7, 1007}
    assert record.score_ci.n == 2 and record.score_ci.half_width == 0.0  # a scripted model never varies
    assert (
        record.calls == sum(p.calls for r in record.results for p in r.phases.values()) == len(fake.requests)
    )


def test_resume_after_a_failed_attempt_sends_the_same_feedback(tmp_path: Path) -> None:
    cut = FakeReply('{"actors": [', finish_reason="length")
    reference = FakeBackend([designer_with({"write_analyze": [cut]})] * 100, constraint_mode="enforce")
    run_fake(tmp_path / "reference", reference)

    def interrupt(_request: GenerationRequest) -> str:
        raise KeyboardInterrupt

    first = FakeBackend([cut, interrupt], constraint_mode="enforce")
    config = RunConfig(model="fake", model_label="fake", backend="fake", suite="smoke")
    path = tmp_path / "results.sqlite"
    run_id = start_run(config, suite_projects("smoke"), path)
    with pytest.raises(RunInterrupted):
        execute_run(run_id, path, create_backend=lambda _name: first)
    second = FakeBackend([answer] * 100, constraint_mode="enforce")
    execute_run(run_id, path, create_backend=lambda _name: second)
    assert second.requests[0].messages == reference.requests[1].messages
    assert "cut off after" in second.requests[0].messages[1].content
