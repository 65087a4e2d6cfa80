"""The default model through llama.cpp (real grammar, real decoding) on the realize track: realize calls
are decoded under their grammar and the runtime axis is scored (the smoke run's realize phase and runtime
axis: tests/test_pipeline_real.py). What a 135M model scores is not checked; that the harness runs and
records it is."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.projects import builtin_projects
from runner.run.config import RunConfig
from runner.run.run import benchmark
from runner.run.store import ResultsStore


def _config(model: Path, **options: object) -> RunConfig:
    # one thread: on a shared 2-core box two llama.cpp threads wait on each other; short outputs, no
    # retries: the run's shape is tested, not the model
    return RunConfig(
        model=str(model), model_label="smollm2", backend="llama-cpp", retries=0, n_threads=1, max_tokens=64,
        **options,
    )  # fmt: skip


@pytest.mark.model
def test_the_realize_track_decodes_realize_calls_and_scores_the_runtime_axis(
    smollm2_gguf: Path, tmp_path: Path
) -> None:
    path = tmp_path / "results.sqlite"
    track = benchmark(
        _config(smollm2_gguf, suite="todo", track="realize"), [builtin_projects()["todo"]], path
    )
    (result,) = track.results
    realize = result.phases["realize"]
    assert track.track == "realize" and list(result.phases) == ["realize"] and realize.parts >= 1
    assert result.runtime is not None and 0.0 <= result.axes["runtime"] <= 20.0
    with ResultsStore(path) as store:
        rows = [r for r in store.call_rows(track.run_id) if r["phase"] == "realize"]
    assert len(rows) == realize.calls and all(
        r["constrained"] == 1 and r["generated_tokens"] > 0 for r in rows
    )
