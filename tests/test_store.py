"""The results store on a real SQLite file: schema, per-call commits, listing and loading runs."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from runner.errors import LapbenchError
from runner.run.aggregate import build_record
from runner.run.record import PROFILER_COLUMNS, CallAttempt, PhaseSummary, ProjectResult
from runner.run.store import ResultsStore


def attempt(key: str, **measures: float | int | None) -> CallAttempt:
    return CallAttempt(
        key=key, repeat=0, project="todo", phase="analyze", part="document", attempt=0, prompt="[]",
        raw_output="{}", valid=False, errors=({"path": "$input", "message": "x"},), feedback="fix it",
        finish_reason="stop", constrained=True, engine="llguidance", schema_hash="abc", wall_seconds=0.5,
        measures=dict(measures),
    )  # fmt: skip


def make_store(tmp_path: Path) -> ResultsStore:
    store = ResultsStore(tmp_path / "nested" / "results.sqlite")
    store.create_run(
        "r1",
        model="m",
        backend="fake",
        suite="smoke",
        rubric_version="1",
        config={"a": 1},
        machine={"os": "x"},
    )
    return store


def test_every_profiler_column_is_stored_with_its_type(tmp_path: Path) -> None:
    measures = {
        name: 7 if name.endswith(("tokens", "bytes", "evaluated")) else 0.25 for name in PROFILER_COLUMNS
    }
    with make_store(tmp_path) as store:
        store.record_call("r1", attempt("k", **measures))
        stored = store.finished_calls("r1")["k"].measures
    assert stored == measures
    assert all(type(stored[name]) is type(value) for name, value in measures.items())


def test_each_call_is_committed_and_visible_to_another_connection(tmp_path: Path) -> None:
    with make_store(tmp_path) as store:
        store.record_call(
            "r1", attempt("0/todo/analyze/document/0", generated_tokens=12, peak_rss_bytes=1000)
        )
        # a second process (here: connection) sees the row before the store is closed: it was committed
        other = sqlite3.connect(store.path)
        assert other.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        row = other.execute("SELECT call_key, generated_tokens, peak_rss_bytes FROM calls").fetchone()
        assert row == ("0/todo/analyze/document/0", 12, 1000)
        columns = {r[1] for r in other.execute("PRAGMA table_info(calls)")}
        assert set(PROFILER_COLUMNS) <= columns
        other.close()
        stored = store.finished_calls("r1")["0/todo/analyze/document/0"]
        assert stored.errors == ({"path": "$input", "message": "x"},)
        assert stored.measures["generated_tokens"] == 12 and stored.measures["ttft_seconds"] is None


def test_a_call_key_is_stored_once(tmp_path: Path) -> None:
    with make_store(tmp_path) as store:
        store.record_call("r1", attempt("k"))
        with pytest.raises(sqlite3.IntegrityError):
            store.record_call("r1", attempt("k"))


def test_list_and_load_runs(tmp_path: Path) -> None:
    with make_store(tmp_path) as store:
        with pytest.raises(LapbenchError, match="no result record yet"):
            store.load_run("r1")
        with pytest.raises(LapbenchError, match="no run 'nope'"):
            store.load_run("nope")
        summary = PhaseSummary(status="ok", calls=1, retries=0, first_try_successes=1, tokens=5, parts=1)
        result = ProjectResult(
            project="todo",
            repeat=0,
            seed=0,
            score=50.0,
            axes={"database": 20.0},
            dimensions={},
            phases={"analyze": summary},
        )
        config = {
            "model_label": "m",
            "backend": "fake",
            "suite": "smoke",
            "mode": "grammar",
            "engine": "llguidance",
        }
        record = build_record(
            run_id="r1", status="finished", config=config, machine={}, projects=["todo"], results=[result],
            started_at="t0", finished_at="t1", wall_seconds=1.0,
        )  # fmt: skip
        store.save_record(record)
        assert store.load_run("r1") == record
        listed = store.list_runs()
        assert [(r["run_id"], r["status"], r["score"], r["calls"]) for r in listed] == [
            ("r1", "finished", 50.0, 0)
        ]


def test_unusable_store_path_is_one_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(LapbenchError, match="results store"):
        ResultsStore(blocker / "results.sqlite")
