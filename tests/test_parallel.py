"""`lapbench run --parallel N`: projects and repeats side by side, the calls of each project in order, every
finished call committed, and a resume after an interruption that loses and repeats nothing.

With the oracle in process (gold answers, same results as a sequential run), the oracle behind a real HTTP
server on 127.0.0.1 (tests/support/gold_server.py: N calls really in flight, then an interruption and a
resume), and a real `python -m llama_cpp.server` on the default model (it serves one request at a time,
which is fine: this is about correctness, not speed)."""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from runner.cli import app
from runner.errors import ConfigError
from runner.projects import Project, builtin_projects
from runner.run.config import RunConfig
from runner.run.record import CallAttempt, RunRecord
from runner.run.run import RunHooks, RunInterrupted, benchmark, execute_run
from runner.run.store import ResultsStore
from tests.support.gold_server import GoldServer
from tests.support.llama_server import llama_cpp_server

PROJECTS = ("todo", "discussion_board")


def _projects() -> list[Project]:
    return [builtin_projects()[p] for p in PROJECTS]


def _oracle(**options: Any) -> RunConfig:
    return RunConfig(model="gold", model_label="oracle", backend="oracle", suite="full", repeats=2, **options)


def _over_http(url: str, parallel: int) -> RunConfig:
    options = {"enforce": "tool", "retries": 0, "timeout_s": 60}
    return RunConfig(
        model=url, model_label="gold-http", backend="openai", suite="full", repeats=2, parallel=parallel,
        backend_options=options, price_in=0.5, price_out=1.5,
    )  # fmt: skip


def _keys_by_job(path: Path, run_id: str) -> dict[tuple[int, str], list[str]]:
    """Each job's call keys in the order they were committed."""
    jobs: dict[tuple[int, str], list[str]] = defaultdict(list)
    with ResultsStore(path) as store:
        for row in store.call_rows(run_id):
            jobs[(row["repeat"], row["project"])].append(row["call_key"])
    return dict(jobs)


def _same_results(a: RunRecord, b: RunRecord) -> None:
    assert [(r.project, r.repeat, r.score, r.axes, r.dimensions) for r in a.results] == [
        (r.project, r.repeat, r.score, r.axes, r.dimensions) for r in b.results
    ]
    assert {k: (p.status, p.parts, p.calls, p.retries) for k, p in a.phases.items()} == {
        k: (p.status, p.parts, p.calls, p.retries) for k, p in b.phases.items()
    }


def _wait_for_jobs_to_end() -> None:
    """Jobs still waiting on the server when a run stopped end at their next call."""
    deadline = time.monotonic() + 60
    while any(t.name.startswith("lapbench-job-") for t in threading.enumerate()):
        assert time.monotonic() < deadline, "a job of a stopped run is still running"
        time.sleep(0.05)


def test_parallel_run_equals_the_sequential_run(tmp_path: Path) -> None:
    sequential = benchmark(_oracle(), _projects(), tmp_path / "seq.sqlite")
    parallel = benchmark(_oracle(parallel=3), _projects(), tmp_path / "par.sqlite")
    _same_results(parallel, sequential)
    assert parallel.calls == sequential.calls > 4 * len(PROJECTS)
    # every job made the same calls in the same order; only the jobs interleave
    assert _keys_by_job(tmp_path / "par.sqlite", parallel.run_id) == _keys_by_job(
        tmp_path / "seq.sqlite", sequential.run_id
    )


def test_parallel_calls_are_really_in_flight_over_http(tmp_path: Path) -> None:
    server = GoldServer(gather=3)  # the first three calls wait for one another
    with server.running() as url:
        record = benchmark(_over_http(url, 3), _projects(), tmp_path / "results.sqlite")
    assert record.status == "finished" and server.max_in_flight == 3
    assert server.generations == record.calls
    _same_results(record, benchmark(_oracle(), _projects(), tmp_path / "oracle.sqlite"))
    with ResultsStore(tmp_path / "results.sqlite") as store:
        rows = store.call_rows(record.run_id)
    # the forced tool calls were declared enforced; a gold answer beyond a grammar cap is not credited
    assert {(r["constrained"], r["engine"]) for r in rows} <= {(1, "server:tool"), (0, None)}
    assert sum(r["constrained"] for r in rows) > len(rows) // 2


def test_resume_after_an_interruption_with_parallel_calls(tmp_path: Path) -> None:
    path = tmp_path / "results.sqlite"
    seen: list[CallAttempt] = []

    def interrupt(call: CallAttempt, replayed: bool) -> None:
        seen.append(call)
        if len(seen) == 10:
            raise KeyboardInterrupt

    server = GoldServer()
    with server.running() as url:
        with pytest.raises(RunInterrupted) as stopped:
            benchmark(_over_http(url, 3), _projects(), path, hooks=RunHooks(on_attempt=interrupt))
        _wait_for_jobs_to_end()
        with ResultsStore(path) as store:
            (run,) = store.list_runs()
            before = store.call_rows(run["run_id"])
        assert run["status"] == "interrupted" and f"--resume {run['run_id']}" in str(stopped.value.hint)
        assert len(before) >= 10  # every call the hooks saw was committed first
        asked_before = server.generations
        record = execute_run(run["run_id"], path)
    with ResultsStore(path) as store:
        after = store.call_rows(run["run_id"])
    keep = ("id", "call_key", "raw_output", "created_at")
    assert [{k: r[k] for k in keep} for r in after[: len(before)]] == [
        {k: r[k] for k in keep} for r in before
    ]
    keys = [r["call_key"] for r in after]
    assert len(keys) == len(set(keys))  # nothing generated twice
    assert server.generations - asked_before == len(after) - len(before)  # nothing stored was asked again
    assert record.status == "finished" and record.calls == len(after)
    billed = 0.5 * sum(r["prompt_tokens"] for r in after) + 1.5 * sum(r["generated_tokens"] for r in after)
    assert record.cost_usd == pytest.approx(billed / 1e6)  # each stored call counted once
    _same_results(record, benchmark(_oracle(), _projects(), tmp_path / "oracle.sqlite"))


def test_parallel_is_refused_for_a_model_in_this_process(tmp_path: Path) -> None:
    for config in (
        RunConfig(model="m.gguf", model_label="m", backend="llama-cpp", parallel=2),
        _oracle(parallel=2, backend_options={"through": "llama-cpp"}),
    ):
        with pytest.raises(ConfigError, match="one call at a time"):
            benchmark(config, _projects(), tmp_path / "results.sqlite")
    assert not (tmp_path / "results.sqlite").exists()  # refused before any run was stored
    model = tmp_path / "x.gguf"
    model.write_bytes(b"not a model")
    result = CliRunner().invoke(app, ["run", str(model), "--parallel", "2"])
    assert result.exit_code == 2 and "one call at a time" in result.output


@pytest.mark.model
@pytest.mark.server
@pytest.mark.slow
def test_parallel_run_against_llama_cpp_server(smollm2_gguf: Path, tmp_path: Path) -> None:
    project = tmp_path / "notes.toml"
    project.write_text(
        'id = "notes"\ntitle = "Notes"\nsize = "small"\n'
        'requirements = "Members write short notes with a title and a body, list them and delete them."\n'
        'entities = ["members", "notes"]\ncapabilities = ["create notes", "list notes", "delete notes"]\n'
    )
    db = tmp_path / "results.sqlite"
    with llama_cpp_server(smollm2_gguf, tmp_path) as url:
        result = CliRunner().invoke(
            app,
            ["run", url, "--backend", "openai", "--project-file", str(project), "--repeats", "2",
             "--parallel", "2", "--retries", "0", "--max-tokens", "48", "--ctx", "2048", "--results", str(db),
             "--backend-options", '{"retries": 0, "timeout_s": 900}', "--price-in", "0.1", "--price-out", "0.4", "--json"],
        )  # fmt: skip
    assert result.exit_code == 0, result.output
    record = RunRecord.model_validate_json(result.output[result.output.index("{") :])
    jobs = _keys_by_job(db, record.run_id)
    assert set(jobs) == {(0, "notes"), (1, "notes")}
    for keys in jobs.values():
        assert keys[0].endswith("/analyze/document/0") and len(keys) == len(set(keys))
    with ResultsStore(db) as store:
        rows = store.call_rows(record.run_id)
    assert record.calls == len(rows)
    assert {(r["constrained"], r["engine"]) for r in rows} == {(1, "server:json_object")}
    prompt, generated = sum(r["prompt_tokens"] for r in rows), sum(r["generated_tokens"] for r in rows)
    assert prompt > 0 and generated > 0
    assert record.cost_usd == pytest.approx((0.1 * prompt + 0.4 * generated) / 1e6)
