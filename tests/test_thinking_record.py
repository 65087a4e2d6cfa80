"""Repetition and thinking settings travel from the run config to every request, and reasoning tokens travel
from the generation stats to the call records and the report."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

from backends.base import GenerationStats, LoadConfig, RepetitionControl
from backends.fake import FakeBackend
from runner.profiler.profile import call_profile
from runner.report.data import RunView
from runner.report.tables import machines
from runner.run.aggregate import build_record
from runner.run.config import RunConfig
from runner.run.harness import CallSite, Harness, HarnessOptions, Mode
from runner.run.parallel import harness_options
from runner.run.record import CallAttempt
from runner.run.store import ResultsStore
from runner.run.tools import make_tool
from runner.schemas.feedback import ValidationReport


def test_the_run_config_reaches_every_request_of_grammar_mode_only() -> None:
    config = RunConfig(model="m", model_label="m", backend="llama-cpp", think=64, repeat_penalty=0.5)
    options = harness_options(config, repeat=0)
    assert options.think_tokens == 64
    assert options.repetition is not None and options.repetition.presence_penalty == 0.5
    free = harness_options(config.model_copy(update={"mode": "free"}), repeat=0)
    assert free.think_tokens == 0

    tool = make_tool("database.table", lambda data: ValidationReport("database.table", data, ()))
    modes: tuple[tuple[Mode, int], ...] = (("grammar", 64), ("free", 0))
    for mode, think in modes:
        fake = FakeBackend(["{}"])
        fake.load(LoadConfig(model="fake"))
        options = HarnessOptions(
            mode=mode, retries=0, think_tokens=64, repetition=RepetitionControl(dry_multiplier=1)
        )
        Harness(fake, options, record=lambda _: None).call(CallSite(0, "p", "database", "t"), tool, "s", "u")
        assert fake.requests[0].think_tokens == think
        assert fake.requests[0].repetition == RepetitionControl(dry_multiplier=1)


def stats(reasoning: int) -> GenerationStats:
    return GenerationStats.from_token_times(
        prompt_tokens=10, prompt_tokens_evaluated=10, prompt_seconds=0.1, token_times=(0.2, 0.3, 0.4),
        reasoning_tokens=reasoning,
    )  # fmt: skip


def test_reasoning_tokens_are_stored_per_call_and_shown_with_the_think_budget(tmp_path: Path) -> None:
    row = call_profile(stats(2)).to_row()
    assert row["reasoning_tokens"] == 2 and row["generated_tokens"] == 3
    call = CallAttempt(
        key="0/p/database/t/0", repeat=0, project="p", phase="database", part="t", attempt=0, prompt="[]",
        raw_output="{}", valid=True, errors=(), feedback="", finish_reason="grammar", constrained=True,
        engine="llguidance", schema_hash="h", wall_seconds=0.5, measures=row,
    )  # fmt: skip
    with ResultsStore(tmp_path / "results.sqlite") as store:
        store.create_run("r1", model="m", backend="llama-cpp", suite="smoke", rubric_version="2",
                         config={"think": 32}, machine={})  # fmt: skip
        store.record_call("r1", call)
        stored = store.finished_calls("r1")[call.key]
    assert stored.measures["reasoning_tokens"] == 2

    def view(think: int, reasoning: int) -> RunView:
        config = {
            "model_label": "m",
            "backend": "llama-cpp",
            "suite": "smoke",
            "mode": "grammar",
            "engine": "llguidance",
            "think": think,
        }
        record = build_record(run_id="r", status="finished", config=config, machine={}, projects=[], results=[],
                              started_at="", finished_at=None, wall_seconds=1.0,
                              profile={"reasoning_tokens": reasoning})  # fmt: skip
        record = record.model_copy(update={"calls": 4})
        return RunView(record, "m", *(None for _ in fields(RunView)[2:]))

    table = machines([view(32, 100), view(0, 0)])
    column = table.header.index("thinking")
    assert [r[column] for r in table.rows] == ["32 tokens, 25 reasoning tok/call", "—"]
