"""The results store: one SQLite file (WAL mode) with runs, calls, phase results and scores.

Every call attempt is committed before the next generation starts, so an interrupted run (Ctrl-C, a
crash, power loss) loses at most the call that was running. Call keys are deterministic
(`repeat/project/phase/part/attempt`), which is how `--resume` replays finished calls instead of
repeating them.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from runner.errors import LapbenchError
from runner.rubric.types import Dimension
from runner.run.record import PROFILER_COLUMNS, CallAttempt, RunRecord
from runner.run.store_file import check_store, open_store, store_error

_PROFILER_DDL = ",\n  ".join(
    f"{name} {'INTEGER' if name.endswith(('tokens', 'bytes', 'evaluated')) else 'REAL'}"
    for name in PROFILER_COLUMNS
)
SCHEMA = f"""
CREATE TABLE IF NOT EXISTS runs (
  run_id TEXT PRIMARY KEY,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  status TEXT NOT NULL,
  model TEXT NOT NULL,
  backend TEXT NOT NULL,
  suite TEXT NOT NULL,
  rubric_version TEXT NOT NULL,
  config_json TEXT NOT NULL,
  machine_json TEXT NOT NULL DEFAULT '{{}}',
  record_json TEXT
);
CREATE TABLE IF NOT EXISTS calls (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  run_id TEXT NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
  call_key TEXT NOT NULL,
  repeat INTEGER NOT NULL,
  project TEXT NOT NULL,
  phase TEXT NOT NULL,
  part TEXT NOT NULL,
  attempt INTEGER NOT NULL,
  created_at TEXT NOT NULL,
  prompt TEXT NOT NULL,
  raw_output TEXT NOT NULL,
  parsed_json TEXT,
  valid INTEGER NOT NULL,
  errors_json TEXT NOT NULL,
  feedback TEXT NOT NULL,
  finish_reason TEXT NOT NULL,
  constrained INTEGER NOT NULL,
  engine TEXT,
  schema_hash TEXT NOT NULL,
  wall_seconds REAL NOT NULL,
  grammar TEXT,
  {_PROFILER_DDL},
  UNIQUE (run_id, call_key)
);
CREATE TABLE IF NOT EXISTS phase_results (
  run_id TEXT NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
  repeat INTEGER NOT NULL,
  project TEXT NOT NULL,
  phase TEXT NOT NULL,
  status TEXT NOT NULL,
  document_json TEXT,
  summary_json TEXT NOT NULL,
  PRIMARY KEY (run_id, repeat, project, phase)
);
CREATE TABLE IF NOT EXISTS scores (
  run_id TEXT NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
  repeat INTEGER NOT NULL,
  project TEXT NOT NULL,
  dimension TEXT NOT NULL,
  axis TEXT NOT NULL,
  max_points REAL NOT NULL,
  fraction REAL NOT NULL,
  points REAL NOT NULL,
  detail TEXT NOT NULL,
  rubric_version TEXT NOT NULL,
  PRIMARY KEY (run_id, repeat, project, dimension)
);
"""
_CALL_FIELDS = (
    "run_id", "call_key", "repeat", "project", "phase", "part", "attempt", "created_at", "prompt",
    "raw_output", "parsed_json", "valid", "errors_json", "feedback", "finish_reason", "constrained",
    "engine", "schema_hash", "wall_seconds", "grammar", *PROFILER_COLUMNS,
)  # fmt: skip
_ADDED_CALL_COLUMNS = {"grammar": "TEXT", "compile_seconds": "REAL", "reasoning_tokens": "INTEGER"}
"""Call columns newer than the first stores: added to an older store when it is opened for writing."""


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class ResultsStore:
    """The SQLite results store. Open one per process; `close()` (or use as a context manager) when done.

    Every open checks the file (`PRAGMA quick_check`), so a damaged store is one line in every command and
    never written into. `read_only` (what `runs`, `report`, `export` and `compare` use) opens an existing
    store without writing to it or beside it, so a store on read-only storage is read."""

    def __init__(self, path: str | Path, *, read_only: bool = False) -> None:
        self.path = Path(path).expanduser()
        self.read_only = read_only
        self._db = open_store(self.path, read_only)
        try:
            check_store(self._db, self.path)
            if not read_only:
                self._db.execute("PRAGMA journal_mode=WAL")
                # FULL makes each commit durable across power loss, which is the point of committing per call.
                self._db.execute("PRAGMA synchronous=FULL")
                self._db.execute("PRAGMA foreign_keys=ON")
                self._db.executescript(SCHEMA)
                _add_missing_columns(self._db)
        except sqlite3.Error as err:
            self._db.close()
            raise store_error(self.path, err) from None
        except LapbenchError:
            self._db.close()
            raise

    def __enter__(self) -> ResultsStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        try:
            with self._db:
                yield self._db
        except sqlite3.IntegrityError:
            raise  # a program error (a call key stored twice), not a problem of the file
        except sqlite3.Error as err:
            raise store_error(self.path, err) from None

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        try:
            return self._db.execute(sql, params).fetchall()
        except sqlite3.Error as err:
            raise store_error(self.path, err) from None

    # runs -------------------------------------------------------------------------------------------
    def create_run(
        self, run_id: str, *, model: str, backend: str, suite: str, rubric_version: str,
        config: dict[str, Any], machine: dict[str, Any],
    ) -> None:  # fmt: skip
        stamp = now_iso()
        with self._tx() as db:
            db.execute(
                "INSERT INTO runs (run_id, created_at, updated_at, status, model, backend, suite,"
                " rubric_version, config_json, machine_json) VALUES (?,?,?,?,?,?,?,?,?,?)",
                (run_id, stamp, stamp, "running", model, backend, suite, rubric_version,
                 json.dumps(config, sort_keys=True), json.dumps(machine, sort_keys=True)),
            )  # fmt: skip

    def set_status(self, run_id: str, status: str) -> None:
        with self._tx() as db:
            db.execute("UPDATE runs SET status=?, updated_at=? WHERE run_id=?", (status, now_iso(), run_id))

    def run_row(self, run_id: str) -> sqlite3.Row:
        rows = self._rows("SELECT * FROM runs WHERE run_id=?", (run_id,))
        row = rows[0] if rows else None
        if row is None:
            raise LapbenchError(
                f"no run {run_id!r} in {self.path}", hint="`lapbench runs` lists the stored runs"
            )
        return row

    def run_config(self, run_id: str) -> dict[str, Any]:
        config: dict[str, Any] = json.loads(self.run_row(run_id)["config_json"])
        return config

    def save_record(self, record: RunRecord) -> None:
        with self._tx() as db:
            db.execute(
                "UPDATE runs SET status=?, updated_at=?, record_json=?, rubric_version=? WHERE run_id=?",
                (record.status, now_iso(), record.model_dump_json(), record.rubric_version, record.run_id),
            )

    def list_runs(self) -> list[dict[str, Any]]:
        """Every run, newest first, with its score when finished."""
        from runner.run.lock import run_is_live

        rows = self._rows(
            "SELECT run_id, created_at, updated_at, status, model, backend, suite, rubric_version, record_json,"
            " (SELECT COUNT(*) FROM calls c WHERE c.run_id = r.run_id) AS calls"
            " FROM runs r ORDER BY created_at DESC, run_id DESC"
        )
        out = []
        for row in rows:
            entry = dict(row)
            entry.pop("record_json")
            entry["score"] = json.loads(row["record_json"])["score"] if row["record_json"] else None
            # "running" is what the run last wrote; a run whose process ended without saying so is dead
            if entry["status"] == "running" and not run_is_live(self.path, entry["run_id"]):
                entry["status"] = "dead"
            out.append(entry)
        return out

    def load_run(self, run_id: str) -> RunRecord:
        row = self.run_row(run_id)
        if not row["record_json"]:
            raise LapbenchError(
                f"run {run_id} has no result record yet (status {row['status']})",
                hint=f"finish it with `lapbench run --resume {run_id}`",
            )
        return RunRecord.model_validate_json(row["record_json"])

    # calls ------------------------------------------------------------------------------------------
    def record_call(self, run_id: str, call: CallAttempt) -> None:
        values: dict[str, Any] = {
            "run_id": run_id, "call_key": call.key, "repeat": call.repeat, "project": call.project,
            "phase": call.phase, "part": call.part, "attempt": call.attempt, "created_at": now_iso(),
            "prompt": call.prompt, "raw_output": call.raw_output, "parsed_json": call.parsed_json,
            "valid": int(call.valid), "errors_json": json.dumps(list(call.errors)), "feedback": call.feedback,
            "finish_reason": call.finish_reason, "constrained": int(call.constrained), "engine": call.engine,
            "schema_hash": call.schema_hash, "wall_seconds": call.wall_seconds, "grammar": call.grammar,
        }  # fmt: skip
        values.update({name: call.measures.get(name) for name in PROFILER_COLUMNS})
        marks = ",".join("?" for _ in _CALL_FIELDS)
        with self._tx() as db:
            db.execute(
                f"INSERT INTO calls ({','.join(_CALL_FIELDS)}) VALUES ({marks})",
                [values[f] for f in _CALL_FIELDS],
            )
            db.execute("UPDATE runs SET updated_at=? WHERE run_id=?", (values["created_at"], run_id))

    def finished_calls(self, run_id: str) -> dict[str, CallAttempt]:
        """Calls already stored for a run, by key (what `--resume` replays)."""
        rows = self._rows("SELECT * FROM calls WHERE run_id=? ORDER BY id", (run_id,))
        return {row["call_key"]: _row_to_call(row) for row in rows}

    def call_rows(self, run_id: str) -> list[dict[str, Any]]:
        rows = self._rows("SELECT * FROM calls WHERE run_id=? ORDER BY id", (run_id,))
        return [dict(row) for row in rows]

    # phase results and scores -------------------------------------------------------------------------
    def save_phase(
        self, run_id: str, repeat: int, project: str, phase: str, status: str,
        document_json: str | None, summary: dict[str, Any],
    ) -> None:  # fmt: skip
        with self._tx() as db:
            db.execute(
                "INSERT OR REPLACE INTO phase_results VALUES (?,?,?,?,?,?,?)",
                (run_id, repeat, project, phase, status, document_json, json.dumps(summary, sort_keys=True)),
            )

    def save_scores(
        self, run_id: str, repeat: int, project: str, dimensions: Sequence[Dimension], rubric_version: str
    ) -> None:
        """One row per dimension, named `axis.name` (names are unique within an axis, as in run records)."""
        from runner.rubric.total import dimension_key

        with self._tx() as db:
            db.execute(
                "DELETE FROM scores WHERE run_id=? AND repeat=? AND project=?", (run_id, repeat, project)
            )
            db.executemany(
                "INSERT INTO scores VALUES (?,?,?,?,?,?,?,?,?,?)",
                [(run_id, repeat, project, dimension_key(d), d.axis, d.max_points, d.fraction, d.points, d.detail,
                  rubric_version) for d in dimensions],
            )  # fmt: skip

    def phase_rows(self, run_id: str) -> list[dict[str, Any]]:
        rows = self._rows("SELECT * FROM phase_results WHERE run_id=? ORDER BY repeat, project", (run_id,))
        return [dict(row) for row in rows]


def _add_missing_columns(db: sqlite3.Connection) -> None:
    have = {str(row[1]) for row in db.execute("PRAGMA table_info(calls)")}
    for name, kind in _ADDED_CALL_COLUMNS.items():
        if name not in have:
            db.execute(f"ALTER TABLE calls ADD COLUMN {name} {kind}")


def _row_to_call(row: sqlite3.Row) -> CallAttempt:
    columns = set(row.keys())  # a store opened read-only may predate the newer columns
    return CallAttempt(
        key=row["call_key"],
        repeat=row["repeat"],
        project=row["project"],
        phase=row["phase"],
        part=row["part"],
        attempt=row["attempt"],
        prompt=row["prompt"],
        raw_output=row["raw_output"],
        valid=bool(row["valid"]),
        errors=tuple(json.loads(row["errors_json"])),
        feedback=row["feedback"],
        finish_reason=row["finish_reason"],
        constrained=bool(row["constrained"]),
        engine=row["engine"],
        schema_hash=row["schema_hash"],
        wall_seconds=row["wall_seconds"],
        parsed_json=row["parsed_json"],
        grammar=row["grammar"] if "grammar" in columns and row["grammar"] else "schema",
        measures={name: row[name] if name in columns else None for name in PROFILER_COLUMNS},
    )
