"""Opening the results store's file: read-only or for writing, checked page by page, and every SQLite
error turned into one line that says what to do (never to delete a store that may be healthy)."""

from __future__ import annotations

import os
import sqlite3
import urllib.parse
from pathlib import Path

from runner.errors import LapbenchError

__all__ = ["StoreDamaged", "StoreWriteError", "check_store", "open_store", "store_error"]


class StoreDamaged(LapbenchError):
    """The store fails SQLite's integrity check (or is not a database): nothing reads or writes it."""


class StoreWriteError(LapbenchError):
    """A write did not reach the disk (full disk, read-only file); what was committed before is intact."""


def open_store(path: Path, read_only: bool) -> sqlite3.Connection:
    """A connection to the store at `path`: an existing file only, and never written, when `read_only`."""
    if path.is_dir():
        raise LapbenchError(f"the results store {path} is a directory", hint="pass a file with --results")
    if read_only:
        if not path.exists():
            raise LapbenchError(
                f"no results store at {path}",
                hint="run `lapbench run` first, or pass its file with --results",
            )
        uri = "file:" + urllib.parse.quote(str(path.resolve())) + "?mode=ro"
        try:
            db = sqlite3.connect(uri, uri=True, timeout=30.0)
            db.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlite3.OperationalError:
            # A WAL store closed cleanly has no -shm file, and read-only storage cannot get one: SQLite then
            # reads it only as immutable, which is what read-only storage guarantees.
            db = sqlite3.connect(uri + "&immutable=1", uri=True, timeout=30.0)
    else:
        folder = path.parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise LapbenchError(
                f"cannot create the folder of the results store {path}: {err.strerror or err}",
                hint="pass a file in a writable folder with --results",
            ) from None
        if (path.exists() and not os.access(path, os.W_OK)) or not os.access(folder, os.W_OK | os.X_OK):
            what = path if path.exists() and not os.access(path, os.W_OK) else folder
            raise StoreWriteError(
                f"cannot write to the results store {path}: {what} is read-only",
                hint="pass a writable file with --results (runs, report, export and compare read it as it is)",
            )
        try:
            db = sqlite3.connect(path, timeout=30.0)
        except sqlite3.Error as err:
            raise store_error(path, err) from None
    db.row_factory = sqlite3.Row
    return db


def check_store(db: sqlite3.Connection, path: Path) -> None:
    """SQLite's quick integrity check of every page, and the store's own tables."""
    try:
        problems = [str(row[0]) for row in db.execute("PRAGMA quick_check(5)").fetchall()]
        tables = {str(row[0]) for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    except sqlite3.DatabaseError as err:
        raise store_error(path, err) from None
    if problems != ["ok"]:
        raise _damaged(path, "; ".join(problems)[:300])
    if "runs" not in tables and (tables or path.stat().st_size > 0):
        raise LapbenchError(
            f"{path} is not a lapbench results store (its tables: {', '.join(sorted(tables))})",
            hint="pass the file `lapbench run` wrote with --results",
        )


def _damaged(path: Path, detail: str) -> StoreDamaged:
    return StoreDamaged(
        f"the results store {path} is damaged ({detail}); lapbench neither reads nor writes it",
        hint=f"pass another file with --results; `sqlite3 {path} .recover` salvages what it still holds",
    )


def store_error(path: Path, err: sqlite3.Error) -> LapbenchError:
    """One line for an SQLite error on the store, naming what to do (never to delete it)."""
    text = str(err)
    if "malformed" in text or "not a database" in text:
        return _damaged(path, text)
    if "full" in text or "disk I/O" in text:
        return StoreWriteError(
            f"cannot write to the results store {path}: {text} (is the disk full?)",
            hint="free some disk space; everything committed before is intact",
        )
    if "readonly" in text or "read-only" in text:
        return StoreWriteError(
            f"cannot write to the results store {path}: it is read-only ({text})",
            hint="pass a writable file with --results (runs, report, export and compare read it as it is)",
        )
    if "locked" in text:
        return LapbenchError(
            f"the results store {path} is locked by another process ({text})", hint="try again in a moment"
        )
    return LapbenchError(
        f"cannot use the results store {path}: {text}", hint="pass another file with --results"
    )
