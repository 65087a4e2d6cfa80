"""Resume after a real interruption: `python -m runner run` in a subprocess on the default model is
stopped with SIGINT (clean: exit 130 and the resume command) and later with SIGKILL (no chance to clean
up), resumed each time, and finishes with every finished call kept exactly once."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from runner.run.record import PHASE_NAMES
from runner.run.store import ResultsStore

PROJECT = """
id = "notes"
title = "Notes"
size = "small"
requirements = "Members write short notes. A note has a title and a body. Members list and delete their notes."
entities = ["members", "notes"]
capabilities = ["create notes", "list notes", "delete notes"]
"""


def calls(db: Path) -> list[tuple[int, str, str]]:
    if not db.exists():
        return []
    with sqlite3.connect(db, timeout=30) as con:
        try:
            return con.execute("SELECT id, call_key, raw_output FROM calls ORDER BY id").fetchall()
        except sqlite3.OperationalError:  # the schema is not created yet
            return []


def wait_for_calls(process: subprocess.Popen[str], db: Path, count: int, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while len(calls(db)) < count:
        assert process.poll() is None, f"run ended before {count} calls: {process.communicate()}"
        assert time.monotonic() < deadline, "run too slow"
        time.sleep(0.05)


def lapbench(*args: str) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "runner", "run", *args]
    return subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ.copy()
    )


@pytest.mark.model
@pytest.mark.slow
def test_sigint_and_sigkill_then_resume(smollm2_gguf: Path, tmp_path: Path) -> None:
    project = tmp_path / "notes.toml"
    project.write_text(PROJECT)
    db = tmp_path / "results.sqlite"
    first = lapbench(
        str(smollm2_gguf), "--project-file", str(project), "--results", str(db), "--retries", "1",
        "--threads", "1", "--ctx", "4096", "--max-tokens", "48",
    )  # fmt: skip
    wait_for_calls(first, db, 1)
    first.send_signal(signal.SIGINT)
    _, err = first.communicate(timeout=120)
    assert first.returncode == 130, err
    with ResultsStore(db) as store:
        (run,) = store.list_runs()
    run_id = run["run_id"]
    assert run["status"] == "interrupted" and f"lapbench run --resume {run_id}" in err
    after_sigint = calls(db)

    second = lapbench("--resume", run_id, "--results", str(db))
    wait_for_calls(second, db, len(after_sigint) + 1)
    second.kill()
    second.wait(timeout=60)
    after_sigkill = calls(db)
    assert after_sigkill[: len(after_sigint)] == after_sigint
    with ResultsStore(db) as store:
        assert store.run_row(run_id)["status"] == "running"  # SIGKILL left no chance to say otherwise

    third = lapbench("--resume", run_id, "--results", str(db), "--json")
    out, err = third.communicate(timeout=900)
    assert third.returncode == 0, err
    final = calls(db)
    assert final[: len(after_sigkill)] == after_sigkill  # nothing finished was lost or rewritten
    keys = [key for _, key, _ in final]
    assert len(keys) == len(set(keys))  # and nothing was generated twice
    with ResultsStore(db) as store:
        record = store.load_run(run_id)
    assert record.status == "finished" and record.calls == len(final)
    assert set(record.phases) == set(PHASE_NAMES)
    assert record.model_dump_json(indent=2) == out.strip()[out.strip().index("{") :]
