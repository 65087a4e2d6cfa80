"""One real smoke run: the default model on llama.cpp, grammar mode (llguidance), every phase attempted,
every call stored with its measurements. The score of a 135M model is low; what is checked is that the
harness runs end to end and records everything honestly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from runner.projects import suite_projects
from runner.run.config import RunConfig
from runner.run.record import PHASE_NAMES
from runner.run.run import execute_run, start_run
from runner.run.store import ResultsStore


@pytest.mark.model
@pytest.mark.slow
def test_smoke_suite_on_the_default_model(smollm2_gguf: Path, tmp_path: Path) -> None:
    # One thread: on a shared, busy 2-core box llama.cpp's two threads wait on each other at every token
    # (measured here: 10x slower); this test checks the harness end to end, not speed.
    config = RunConfig(
        model=str(smollm2_gguf),
        model_label="smollm2",
        backend="llama-cpp",
        suite="smoke",
        retries=1,
        n_threads=1,
        max_tokens=256,  # a couple of minutes on CI; the run's shape is what is tested
    )
    path = tmp_path / "results.sqlite"
    run_id = start_run(config, suite_projects("smoke"), path)
    record = execute_run(run_id, path)
    assert record.status == "finished" and list(record.phases) == list(PHASE_NAMES)
    assert "realize" in record.phases and "runtime" in record.axes  # whatever a 135M model scores there
    assert all(r.runtime is not None for r in record.results)
    assert 0.0 <= record.score <= 100.0
    assert abs(sum(record.axes.values()) - record.score) < 0.01
    with ResultsStore(path) as store:
        rows = store.call_rows(run_id)
        assert store.load_run(run_id) == record
    assert len(rows) == record.calls >= 2
    for row in rows:
        assert row["constrained"] == 1 and row["engine"] == "llguidance"
        assert row["prompt_tokens"] > 0 and row["generated_tokens"] > 0 and row["peak_rss_bytes"] > 0
        assert row["valid"] == 0 or json.loads(row["parsed_json"]) is not None
        if row["finish_reason"] != "length":
            json.loads(row["raw_output"])  # under the grammar a finished output is always JSON
