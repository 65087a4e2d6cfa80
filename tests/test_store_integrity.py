"""The results store is checked when opened, read read-only by the commands that only read, and never left
half-written: a damaged store is one line in every command, a full disk leaves a resumable run and no empty
output file, report outputs never overwrite each other (issue 18, items 2-4)."""

from __future__ import annotations

import json
import os
import random
import resource
import signal
import sqlite3
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from runner.cli import app
from runner.errors import LapbenchError
from runner.run.store import ResultsStore
from tests.support.cli_errors import failed_one_line
from tests.support.processes import one_line_error, run

cli = CliRunner()


def oracle_run(db: Path, *args: str) -> str:
    done = cli.invoke(app, ["run", "--backend", "oracle", "--results", str(db), "--json", *args])
    assert done.exit_code == 0, done.output
    return str(json.loads(done.stdout[done.stdout.index("{") :])["run_id"])


def damage(db: Path, seed: int = 0) -> None:
    """Overwrite every page but the first (the header stays valid, so SQLite opens the file)."""
    size = db.stat().st_size
    rng = random.Random(seed)
    with db.open("r+b") as handle:
        handle.seek(4096)
        handle.write(bytes(rng.getrandbits(8) for _ in range(size - 4096)))


def test_a_damaged_store_is_one_line_in_every_command_and_run_refuses_it(tmp_path: Path) -> None:
    db = tmp_path / "results.sqlite"
    run_id = oracle_run(db)
    damage(db)
    before = db.read_bytes()
    commands = [
        ["runs"], ["report", run_id, "-o", str(tmp_path / "r.html")], ["compare", run_id, run_id],
        ["export", run_id], ["run", "--backend", "oracle"], ["run", "--resume", run_id],
    ]  # fmt: skip
    for command in commands:
        line = failed_one_line(cli.invoke(app, [*command, "--results", str(db)]))
        assert "damaged" in line, (command, line)
        assert not any(word in line.lower() for word in ("delete", "remove", " rm ")), line
    assert db.read_bytes() == before  # nothing wrote into it
    assert not (tmp_path / "r.html").exists()


def test_the_store_check_reads_the_whole_file(tmp_path: Path) -> None:
    db = tmp_path / "results.sqlite"
    oracle_run(db)
    con = sqlite3.connect(db)  # find the first page of the calls table and spoil only its header
    root = con.execute("SELECT rootpage FROM sqlite_master WHERE name='calls'").fetchone()[0]
    con.close()
    with db.open("r+b") as handle:
        handle.seek((root - 1) * 4096)
        handle.write(b"\x07" * 12)
    with pytest.raises(LapbenchError, match="damaged"):
        ResultsStore(db, read_only=True)


def test_read_only_commands_read_a_store_on_read_only_storage(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    db = folder / "results.sqlite"
    run_id = oracle_run(db)
    oracle_run(db, "--seed", "1")
    out = tmp_path / "out"
    out.mkdir()
    db.chmod(0o444)
    folder.chmod(0o555)
    try:
        for command in (
            ["runs", "--json"], ["report", "-o", str(out / "r.html")], ["export", run_id],
            ["compare", run_id, run_id[:-1]],
        ):  # fmt: skip
            done = run(*command, "--results", str(db), obey_file_modes=True, timeout=300)
            assert done.returncode == 0, (command, done.stderr)
        assert sorted(p.name for p in folder.iterdir()) == ["results.sqlite"]  # no -wal, -shm or lock file
        assert (out / "r.html").stat().st_size > 0
        done = run("run", "--backend", "oracle", "--results", str(db), obey_file_modes=True)
        line = one_line_error(done.stderr)
        assert "read-only" in line or "cannot write" in line, line
        assert not any(word in line.lower() for word in ("delete", "remove", "damaged")), line
    finally:
        folder.chmod(0o755)


def test_a_results_path_that_does_not_exist_is_an_error_for_read_only_commands(tmp_path: Path) -> None:
    missing = tmp_path / "nope" / "results.sqlite"
    for command in (
        ["runs"],
        ["report", "-o", str(tmp_path / "r.html")],
        ["export", "x"],
        ["compare", "a", "b"],
    ):
        line = failed_one_line(cli.invoke(app, [*command, "--results", str(missing)]))
        assert "no results store" in line, line
    assert not missing.parent.exists()


def _file_size_limit(limit: int) -> None:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG (a full disk) instead of death by signal
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))


def test_a_disk_that_fills_up_during_a_run_is_one_line_and_the_run_resumes(tmp_path: Path) -> None:
    db = tmp_path / "results.sqlite"
    args = ("run", "--backend", "oracle", "--suite", "standard", "--results", str(db))
    done = run(*args, preexec_fn=lambda: _file_size_limit(160_000))
    assert done.returncode == 1, done.stderr
    line = one_line_error(done.stderr)
    assert "disk" in line or "space" in line, line
    with ResultsStore(db) as store:
        (entry,) = store.list_runs()
        stored = len(store.call_rows(entry["run_id"]))
    assert stored > 0 and entry["status"] != "finished"
    resumed = run("run", "--resume", entry["run_id"], "--results", str(db), "--json")
    assert resumed.returncode == 0, resumed.stderr
    reference = tmp_path / "reference.sqlite"
    assert run(*args[:-1], str(reference)).returncode == 0
    with ResultsStore(db) as a, ResultsStore(reference) as b:
        ((run_a,), (run_b,)) = ([r["run_id"] for r in a.list_runs()], [r["run_id"] for r in b.list_runs()])
        calls_a = [(c["call_key"], c["prompt"], c["raw_output"]) for c in a.call_rows(run_a)]
        calls_b = [(c["call_key"], c["prompt"], c["raw_output"]) for c in b.call_rows(run_b)]
        assert calls_a == calls_b
        assert a.load_run(run_a).score == b.load_run(run_b).score


def test_report_and_export_onto_a_full_disk_leave_no_file(tmp_path: Path) -> None:
    db = tmp_path / "results.sqlite"
    run_id = oracle_run(db)
    out = tmp_path / "out"
    out.mkdir()
    for command in (["report", run_id, "-o", str(out / "r.html")], ["export", run_id, "--table", "calls", "--full",
                                                                      "-o", str(out / "calls.jsonl")]):  # fmt: skip
        done = run(*command, "--results", str(db), preexec_fn=lambda: _file_size_limit(2000))
        line = one_line_error(done.stderr)
        assert done.returncode != 0 and ("disk" in line or "space" in line or "too large" in line), line
        assert list(out.iterdir()) == [], command
    done = run("export", run_id, "-o", "/dev/full", "--results", str(db))
    assert done.returncode != 0 and "/dev/full" in one_line_error(done.stderr)


def test_report_and_export_onto_a_directory_are_one_line(tmp_path: Path) -> None:
    db = tmp_path / "results.sqlite"
    run_id = oracle_run(db)
    folder = tmp_path / "folder.html"
    folder.mkdir()
    for command in (["report", run_id, "-o", str(folder)], ["export", run_id, "-o", str(folder)]):
        line = failed_one_line(cli.invoke(app, [*command, "--results", str(db)]))
        assert "is a directory" in line, line
    assert list(folder.iterdir()) == []


def test_report_outputs_never_overwrite_each_other_or_the_store(tmp_path: Path) -> None:
    db = tmp_path / "results.sqlite"
    run_id = oracle_run(db)
    done = cli.invoke(
        app, ["report", run_id, "-o", str(tmp_path / "summary.md"), "--json", "--results", str(db)]
    )
    assert done.exit_code == 0, done.output
    files = json.loads(done.stdout)
    html, markdown = Path(files["html"]), Path(files["markdown"])
    assert html != markdown and markdown == tmp_path / "summary.md"
    assert html.read_text().startswith("<!DOCTYPE html>") and markdown.read_text().startswith(
        "# lapbench report"
    )
    before = db.read_bytes()
    for command in (["report", run_id, "-o", str(db)], ["export", run_id, "-o", str(db)]):
        line = failed_one_line(cli.invoke(app, [*command, "--results", str(db)]))
        assert "results store" in line, line
    assert db.read_bytes() == before


def test_an_unwritable_store_folder_is_one_line_that_never_says_delete(tmp_path: Path) -> None:
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        done = run("run", "--backend", "oracle", "--results", str(folder / "r.sqlite"), obey_file_modes=True)
        line = one_line_error(done.stderr)
        assert done.returncode != 0 and "r.sqlite" in line
        assert not any(word in line.lower() for word in ("delete", "remove", "damaged")), line
    finally:
        folder.chmod(0o755)
    assert os.listdir(folder) == []
