"""A resume proves it continues the same run: same model bytes, same projects, same options, and a stored
answer is replayed only where the run would send the same prompt. A run that ended is never left
"running" for `lapbench runs`, and two processes never execute one run (issue 18, items 1 and 5)."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from backends.base import Message
from backends.fake import FakeBackend
from runner.cli import app
from runner.errors import ConfigError
from runner.projects import Project, suite_projects
from runner.run.config import RunConfig
from runner.run.harness import CallSite, Harness, HarnessOptions, ReplayMismatch, prompt_json
from runner.run.lock import hold_run, run_is_live
from runner.run.record import CallAttempt
from runner.run.run import start_run
from runner.run.store import ResultsStore
from runner.run.tools import make_tool
from tests.support.cli_errors import failed_one_line
from tests.support.processes import one_line_error, start

cli = CliRunner()
NOTES = """
id = "notes"
title = "Notes"
size = "small"
requirements = "Members write short notes. A note has a title and a body. Members list and delete their notes."
entities = ["members", "notes"]
capabilities = ["create notes", "list notes", "delete notes"]
"""


def only_run(db: Path) -> dict[str, object]:
    with ResultsStore(db, read_only=True) as store:
        (entry,) = store.list_runs()
    return entry


def test_two_projects_with_one_id_are_refused_before_anything_runs(tmp_path: Path) -> None:
    a, b = tmp_path / "a.toml", tmp_path / "b.toml"
    a.write_text(NOTES)
    b.write_text(NOTES.replace("short notes", "long notes"))
    db = tmp_path / "results.sqlite"
    args = ["run", "--backend", "oracle", "--project-file", str(a), "--project-file", str(b)]
    line = failed_one_line(cli.invoke(app, [*args, "--results", str(db)]))
    assert "two projects have the id 'notes'" in line
    assert not db.exists()


def _failed_fake_run(tmp_path: Path, db: Path) -> tuple[Path, str]:
    """A run on a model file that stopped after two calls (the fake backend ran out of replies)."""
    model = tmp_path / "model.gguf"
    model.write_bytes(b"GGUF" + bytes(range(256)) * 8192)
    replies = tmp_path / "replies.json"
    replies.write_text(json.dumps({"replies": ["{}", "{}"]}))
    args = [
        "run",
        str(model),
        "--backend",
        "fake",
        "--mode",
        "free",
        "--retries",
        "1",
        "--backend-options",
        f"@{replies}",
    ]
    line = failed_one_line(cli.invoke(app, [*args, "--results", str(db)]))
    assert "stopped" in line
    entry = only_run(db)
    assert entry["status"] == "failed" and entry["calls"] == 2
    return model, str(entry["run_id"])


def test_a_model_file_replaced_at_the_same_path_is_refused_saying_what_changed(tmp_path: Path) -> None:
    db = tmp_path / "results.sqlite"
    model, run_id = _failed_fake_run(tmp_path, db)
    original = model.read_bytes()
    for changed, says in (
        (original[: len(original) // 2], "bytes then"),  # another size
        (original[:-10] + b"x" * 10, "different content"),  # same size, another end of file
    ):
        model.write_bytes(changed)
        line = failed_one_line(cli.invoke(app, ["run", "--resume", run_id, "--results", str(db)]))
        assert f"run {run_id} cannot resume" in line and str(model) in line and says in line, line
    with ResultsStore(db) as store:
        assert len(store.call_rows(run_id)) == 2  # nothing was replayed into or generated on another model
    model.write_bytes(original)
    model.touch()  # a copy of the same bytes: a new modification time is no change
    line = failed_one_line(cli.invoke(app, ["run", "--resume", run_id, "--results", str(db)]))
    assert "cannot resume" not in line and "fake backend" in line  # it resumed, and the script is empty


def test_resume_refuses_options_that_the_run_fixed_when_it_started(tmp_path: Path) -> None:
    db = tmp_path / "results.sqlite"
    _, run_id = _failed_fake_run(tmp_path, db)
    for extra, named in (
        (["other.gguf"], "MODEL"), (["--suite", "full"], "--suite"), (["--mode", "free"], "--mode"),
        (["--repeats", "3"], "--repeats"), (["--backend", "oracle"], "--backend"),
    ):  # fmt: skip
        line = failed_one_line(cli.invoke(app, ["run", *extra, "--resume", run_id, "--results", str(db)]))
        assert named in line and "--resume" in line, line
    assert only_run(db)["calls"] == 2


def _oracle_run(db: Path) -> str:
    done = cli.invoke(app, ["run", "--backend", "oracle", "--results", str(db), "--json"])
    assert done.exit_code == 0, done.output
    return str(json.loads(done.stdout[done.stdout.index("{") :])["run_id"])


def _reopen(db: Path, run_id: str, edit: dict[str, object]) -> None:
    """Make a finished run resumable again with its stored configuration edited (as an old or tampered
    store would hold it)."""
    with sqlite3.connect(db) as con:
        config = json.loads(
            con.execute("SELECT config_json FROM runs WHERE run_id=?", (run_id,)).fetchone()[0]
        )
        config.update(edit)
        config = {k: v for k, v in config.items() if v is not None}
        con.execute(
            "UPDATE runs SET status='interrupted', record_json=NULL, config_json=? WHERE run_id=?",
            (json.dumps(config), run_id),
        )
    con.close()


def test_stored_answers_are_replayed_only_where_the_prompt_is_the_same(tmp_path: Path) -> None:
    db = tmp_path / "results.sqlite"
    run_id = _oracle_run(db)
    with ResultsStore(db) as store:
        projects = store.run_config(run_id)["projects"]
    other = [{**projects[0], "requirements": projects[0]["requirements"] + " Notes can be pinned."}]
    _reopen(db, run_id, {"projects": other})
    line = failed_one_line(cli.invoke(app, ["run", "--resume", run_id, "--results", str(db)]))
    assert "the stored projects changed" in line
    _reopen(db, run_id, {"inputs": None})  # a run stored before runs kept their inputs
    line = failed_one_line(cli.invoke(app, ["run", "--resume", run_id, "--results", str(db)]))
    assert "another prompt" in line and "0/todo/analyze" in line, line
    _reopen(db, run_id, {"projects": [projects[0], projects[0]]})
    line = failed_one_line(cli.invoke(app, ["run", "--resume", run_id, "--results", str(db)]))
    assert "two projects have the id" in line


def test_the_harness_replays_a_stored_attempt_only_for_its_own_prompt() -> None:
    tool = make_tool("analyze")
    site = CallSite(0, "notes", "analyze", "document")
    messages = [Message("system", "s"), Message("user", "u")]
    stored = CallAttempt(
        key=site.key(0), repeat=0, project="notes", phase="analyze", part="document", attempt=0,
        prompt=prompt_json(messages), raw_output="{}", valid=False, errors=(), feedback="", finish_reason="stop",
        constrained=False, engine=None, schema_hash=tool.schema_hash, wall_seconds=0.0,
    )  # fmt: skip
    fake = FakeBackend([])
    options = HarnessOptions(retries=0, mode="free")
    harness = Harness(fake, options, record=lambda _c: None, replay={stored.key: stored})
    replayed = harness.call(site, tool, "s", "u")  # the same prompt: replayed, nothing generated
    assert replayed.attempts == (stored,)
    with pytest.raises(ReplayMismatch, match="another prompt"):
        harness.call(site, tool, "s", "another user message")
    assert fake.requests == []


def test_a_run_whose_backend_fails_to_load_is_failed_not_running(tmp_path: Path) -> None:
    db = tmp_path / "results.sqlite"
    args = ["run", "--backend", "oracle", "--backend-options", '{"degrade_rate": 7}', "--results", str(db)]
    failed_one_line(cli.invoke(app, args))
    assert only_run(db)["status"] == "failed"


def test_a_second_resume_of_a_live_run_is_refused_and_a_killed_run_is_dead(tmp_path: Path) -> None:
    db = tmp_path / "results.sqlite"
    start_run(RunConfig(model="gold", model_label="oracle", backend="oracle"), suite_projects("smoke"), db)
    run_id = str(only_run(db)["run_id"])
    with hold_run(db, run_id):
        assert only_run(db)["status"] == "running" and run_is_live(db, run_id)
        line = failed_one_line(cli.invoke(app, ["run", "--resume", run_id, "--results", str(db)]))
        assert f"run {run_id} is already running" in line
    assert only_run(db)["status"] == "dead"  # the row says running, but no process holds it
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from pathlib import Path; from runner.run.lock import hold_run\n"
         "with hold_run(Path(sys.argv[1]), sys.argv[2]):\n print('held', flush=True); time.sleep(600)",
         str(db), run_id], stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert holder.stdout is not None and holder.stdout.readline() == "held\n"
    assert only_run(db)["status"] == "running"
    holder.kill()
    holder.wait()
    assert only_run(db)["status"] == "dead"  # the kernel released the lock of the killed process
    done = cli.invoke(app, ["run", "--resume", run_id, "--results", str(db), "--json"])
    assert done.exit_code == 0, done.output


def test_sigterm_marks_the_run_interrupted_with_the_resume_command(tmp_path: Path) -> None:
    db = tmp_path / "results.sqlite"
    process = start("run", "--backend", "oracle", "--suite", "full", "--results", str(db),
                    "--backend-options", '{"degrade_rate": 0.5}')  # fmt: skip
    while True:
        assert process.poll() is None, process.communicate()
        with sqlite3.connect(db, timeout=30) as con:
            try:
                if con.execute("SELECT COUNT(*) FROM calls").fetchone()[0] >= 3:
                    break
            except sqlite3.OperationalError:  # the schema is not there yet
                pass
        time.sleep(0.02)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 130, err
    line = one_line_error(err)
    entry = only_run(db)
    assert entry["status"] == "interrupted" and f"lapbench run --resume {entry['run_id']}" in line


def test_duplicate_ids_are_refused_by_the_core_too(tmp_path: Path) -> None:
    todo = suite_projects("smoke")[0]
    twin = Project.model_validate({**todo.model_dump(), "title": "Another todo"})
    config = RunConfig(model="gold", model_label="oracle", backend="oracle")
    with pytest.raises(ConfigError, match="two projects have the id"):
        start_run(config, [todo, twin], tmp_path / "results.sqlite")
    assert not (tmp_path / "results.sqlite").exists()
