"""One process per run: an OS file lock (flock) beside the store, held while the run executes.

The kernel releases the lock when its process ends, however it ends (SIGKILL and power loss included), so
trying the lock tells a live run from a dead one whose row still says "running", and a second
`lapbench run --resume R` of a live run is refused instead of writing the same calls twice. The lock
files live in `<store>.locks/`; reading a store never creates one.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from runner.errors import LapbenchError


class RunLocked(LapbenchError):
    """Another process is executing this run."""


def lock_path(store: Path, run_id: str) -> Path:
    return store.with_name(store.name + ".locks") / f"{run_id}.lock"


@contextmanager
def hold_run(store: Path, run_id: str) -> Iterator[None]:
    """Hold run `run_id`'s lock for the body; RunLocked when another process holds it."""
    path = lock_path(store, run_id)
    try:
        fd = _locked(path, run_id)
    except OSError as err:
        raise LapbenchError(
            f"cannot lock run {run_id} ({path}): {err.strerror or err}",
            hint="the folder of the results store must be writable",
        ) from None
    try:
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield
    finally:
        with suppress(OSError):
            path.unlink()  # before the unlock: a process that opened it meanwhile sees it gone and retries
        os.close(fd)
        with suppress(OSError):
            path.parent.rmdir()  # only when no other run holds a lock there


def _locked(path: Path, run_id: str) -> int:
    while True:
        path.parent.mkdir(exist_ok=True)
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except FileNotFoundError:  # the folder was removed by a run that just ended: make it again
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode(errors="replace").strip() or "?"
            os.close(fd)
            raise RunLocked(
                f"run {run_id} is already running (process {holder})",
                hint="wait for it to finish, or stop that process before resuming",
            ) from None
        try:
            same = os.fstat(fd).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same = False
        if same:
            return fd
        os.close(fd)  # its holder removed the file between our open and our lock: take the new one


def run_is_live(store: Path, run_id: str) -> bool:
    """Whether a process holds run `run_id`'s lock now (read-only: creates nothing)."""
    try:
        fd = os.open(lock_path(store, run_id), os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:
        return False
    finally:
        os.close(fd)
    return False
