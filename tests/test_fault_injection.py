"""Fault injection: a run is killed with SIGKILL at random points, resumed each time, and after every kill
its store holds exactly a prefix of an uninterrupted run's calls (none lost, none repeated, none mixed
between projects or models); the finished run equals the uninterrupted one, call for call and score for
score (issue 18, "Done when").

The oracle backend on the full suite (eight projects, degraded answers repaired from the feedback) makes
the run fast enough to kill it many times. Each attempt runs in a forked child (already imported, so it
starts at once), killed at a random moment of the run's lifetime or right after a random number of new
commits; one test also kills the real llama.cpp backend (the gold answers forced through SmolLM2)."""

from __future__ import annotations

import gc
import os
import random
import signal
import sqlite3
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from runner.projects import suite_projects
from runner.run.config import RunConfig
from runner.run.run import execute_run, start_run
from runner.run.store import ResultsStore
from tests.support.processes import start

KILLS = 24
Call = tuple[str, str, str, str, str, int]


def oracle_config(**overrides: Any) -> RunConfig:
    options = {"degrade_rate": 0.3}
    return RunConfig(
        model="gold", model_label="oracle", backend="oracle", suite="full", retries=2, backend_options=options,
        **overrides,
    )  # fmt: skip


def stored_calls(db: Path, run_id: str) -> list[Call]:
    with ResultsStore(db, read_only=True) as store:
        rows = store.call_rows(run_id)
    return [(r["call_key"], r["project"], r["phase"], r["prompt"], r["raw_output"], r["valid"]) for r in rows]


def outcome(db: Path, run_id: str) -> tuple[Any, ...]:
    """Everything a run decided: score, dimensions, phases, documents and score rows. Not its measurements:
    prompt tokens evaluated depend on what the backend's cache held, which a restart empties."""
    unmeasured = {"tokens"}
    with ResultsStore(db, read_only=True) as store:
        record = store.load_run(run_id)
        rows = store.phase_rows(run_id)
    phases = {name: p.model_dump(exclude=unmeasured) for name, p in record.phases.items()}
    results = [r.model_dump(exclude={"phases"}) for r in record.results]
    documents = [(r["repeat"], r["project"], r["phase"], r["status"], r["document_json"]) for r in rows]
    con = sqlite3.connect(db)
    scores = con.execute(
        "SELECT repeat, project, dimension, points FROM scores WHERE run_id=? ORDER BY 1, 2, 3", (run_id,)
    ).fetchall()
    con.close()
    return record.score, record.dimensions, phases, results, documents, scores


def in_child(work: Callable[[], object]) -> int:
    """`work()` in a forked child (exit 0 when it returns); its pid. No SQLite connection may be open in
    the parent when it forks: the child would inherit SQLite's record of locks it does not hold, and a
    last close that believes it is alone checkpoints over another process's writes."""
    gc.collect()  # connections left to the garbage collector (sqlite3's own context manager never closes)
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        code = 1
        try:
            work()
            code = 0
        finally:
            os._exit(code)
    return pid


def count(db: Path) -> int:
    try:
        with closing(sqlite3.connect(db, timeout=30)) as con:
            return int(con.execute("SELECT COUNT(*) FROM calls").fetchone()[0])
    except sqlite3.OperationalError:
        return 0


def check_prefix(db: Path, run_id: str, reference: list[Call], where: str) -> int:
    calls = stored_calls(db, run_id)
    assert calls == reference[: len(calls)], f"after {where}: the stored calls are not a prefix of the run's"
    assert all(key.split("/")[1] == project for key, project, *_ in calls)
    return len(calls)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="kills forked children")
def test_sigkill_at_random_points_then_resume_loses_repeats_and_mixes_nothing(tmp_path: Path) -> None:
    projects = suite_projects("full")
    reference_db = tmp_path / "reference.sqlite"
    started = time.perf_counter()
    reference_id = start_run(oracle_config(), projects, reference_db)
    execute_run(reference_id, reference_db)
    reference = stored_calls(reference_db, reference_id)
    per_call = (time.perf_counter() - started) / len(reference)  # on this machine, now
    assert len({c[1] for c in reference}) == len(projects) and any(c[0].endswith("/1") for c in reference)

    db = tmp_path / "results.sqlite"
    run_id = start_run(oracle_config(), projects, db)
    rng = random.Random(18)
    kills, before, points = 0, 0, []
    while kills < KILLS:
        by_time = kills % 2 == 0
        target = before + rng.randint(1, 6)
        delay = rng.uniform(0.0, 4 * per_call)  # a few calls in, or still replaying, or loading
        pid = in_child(lambda: execute_run(run_id, db))
        t0 = time.perf_counter()
        while True:
            if os.waitpid(pid, os.WNOHANG) != (0, 0):
                pid = 0  # finished before its kill point
                break
            if (by_time and time.perf_counter() - t0 >= delay) or (not by_time and count(db) >= target):
                break
            time.sleep(0.002)
        if pid == 0:
            break
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        kills += 1
        before = check_prefix(db, run_id, reference, f"kill {kills}")
        points.append(before)
        with ResultsStore(db, read_only=True) as store:
            assert store.list_runs()[0]["status"] == "dead"
    assert kills >= 20, f"the run finished after {kills} kills (at calls {points})"
    assert len(set(points)) >= 10  # the kills fell at many different places of the run
    record = execute_run(run_id, db)
    assert record.status == "finished" and stored_calls(db, run_id) == reference
    assert outcome(db, run_id) == outcome(reference_db, reference_id)


@pytest.mark.model
@pytest.mark.slow
def test_sigkill_of_the_real_llama_cpp_run_then_resume(smollm2_gguf: Path, tmp_path: Path) -> None:
    """The gold answers forced through llama.cpp, killed right after a new commit, three times: every call
    stored before a kill is still there, unchanged, after the next resume, and none is stored twice."""
    db = tmp_path / "results.sqlite"
    args = ("--results", str(db))
    process = start("run", str(smollm2_gguf), "--backend", "oracle", "--ctx", "4096", "--threads", "2", *args)
    run_id, seen = "", []
    for kill in range(3):
        while count(db) < len(seen) + 1:
            assert process.poll() is None, process.communicate()
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
        process.wait()
        if not run_id:
            with ResultsStore(db, read_only=True) as store:
                run_id = str(store.list_runs()[0]["run_id"])
        calls = stored_calls(db, run_id)
        assert calls[: len(seen)] == seen, f"kill {kill + 1} changed calls stored before it"
        assert len({c[0] for c in calls}) == len(calls) and all(k.split("/")[1] == p for k, p, *_ in calls)
        seen = calls
        if kill < 2:
            process = start("run", "--resume", run_id, *args)
