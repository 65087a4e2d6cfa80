"""`lapbench runs` on a real results store, rendered for an 80-column terminal."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from runner.cli import app
from runner.run.aggregate import build_record
from runner.run.record import PhaseSummary, ProjectResult
from runner.run.store import ResultsStore

FINISHED, STOPPED, REMOTE = "20260512-142233-a1b2c3", "20260512-150102-0f9e8d", "20260512-170102-77aa12"
LONG_URL = (
    "https://example.com/some-org/Some-Model-GGUF/resolve/main/Some-Very-Long-Model-Name-2507-Q5_K_M.gguf"
)


def _store(path: Path) -> None:
    with ResultsStore(path) as store:
        store.create_run(
            FINISHED, model="SmolLM2-135M-Instruct.Q4_1", backend="llama-cpp", suite="smoke",
            rubric_version="2", config={}, machine={},
        )  # fmt: skip
        summary = PhaseSummary(status="ok", calls=1, retries=0, first_try_successes=1, tokens=5, parts=1)
        result = ProjectResult(
            project="todo", repeat=0, seed=0, score=53.21, axes={}, dimensions={}, phases={"analyze": summary}
        )
        config = {"model_label": "SmolLM2-135M-Instruct.Q4_1", "backend": "llama-cpp", "suite": "smoke",
                  "mode": "grammar", "engine": "llguidance"}  # fmt: skip
        record = build_record(
            run_id=FINISHED, status="finished", config=config, machine={}, projects=["todo"],
            results=[result], started_at="t0", finished_at="t1", wall_seconds=1.0,
        )  # fmt: skip
        store.save_record(record)
        store.create_run(
            STOPPED, model="qwen3.6-27b:Q4_K_M", backend="llama-cpp", suite="standard", rubric_version="2",
            config={}, machine={},
        )  # fmt: skip
        store.set_status(STOPPED, "interrupted")


def _runs(path: Path, *args: str) -> str:
    result = CliRunner().invoke(app, ["runs", "--results", str(path), *args], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    return result.output


def test_runs_fit_80_columns_without_cutting_a_cell(tmp_path: Path) -> None:
    path = tmp_path / "results.sqlite"
    _store(path)
    out = _runs(path)
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= 80, out
    assert "…" not in out, out
    finished = next(line for line in lines if line.startswith(FINISHED))
    assert finished.split() == [FINISHED, "SmolLM2-135M-Instruct.Q4_1", "smoke", "0", "53.2"]
    stopped = next(line for line in lines if line.startswith(STOPPED))
    assert stopped.split() == [STOPPED, "qwen3.6-27b:Q4_K_M", "standard", "0", "interrupted"]


def test_a_long_model_label_keeps_its_quant_and_json_keeps_it_whole(tmp_path: Path) -> None:
    path = tmp_path / "results.sqlite"
    _store(path)
    with ResultsStore(path) as store:
        store.create_run(
            REMOTE,
            model=LONG_URL,
            backend="openai",
            suite="custom",
            rubric_version="2",
            config={},
            machine={},
        )
    out = _runs(path)
    assert max(len(line) for line in out.splitlines()) <= 80, out
    remote = next(line for line in out.splitlines() if line.startswith(REMOTE)).split()
    assert remote[1].endswith("-Q5_K_M") and "…" in remote[1] and len(remote[1]) <= 26
    rows = json.loads(_runs(path, "--json"))
    assert {r["run_id"]: r["model"] for r in rows}[REMOTE] == LONG_URL
    assert {r["run_id"]: r["backend"] for r in rows}[REMOTE] == "openai"
