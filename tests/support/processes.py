"""`lapbench` in a subprocess, as the user runs it, and (for root) without root's power over file modes.

Root reads and writes any file whatever its mode, so a test that needs an unreadable file or a read-only
folder drops the two capabilities that grant this (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH) from the child's
bounding set before it starts: the child stays root, owns its files, and obeys their modes."""

from __future__ import annotations

import ctypes
import os
import subprocess
import sys
from collections.abc import Callable
from typing import Any

_PR_CAPBSET_DROP = 24
_CAP_DAC_OVERRIDE, _CAP_DAC_READ_SEARCH = 1, 2


def _obey_file_modes() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (_CAP_DAC_OVERRIDE, _CAP_DAC_READ_SEARCH):
        if libc.prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def file_modes_preexec() -> Callable[[], None] | None:
    """A preexec_fn that makes a root child obey file modes (None when not root: modes already apply)."""
    return _obey_file_modes if os.geteuid() == 0 else None


def lapbench_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "runner", *args]


def start(*args: str, obey_file_modes: bool = False, **kwargs: Any) -> subprocess.Popen[str]:
    """`lapbench ARGS` started in the background (its output in pipes)."""
    preexec = kwargs.pop("preexec_fn", None) or (file_modes_preexec() if obey_file_modes else None)
    return subprocess.Popen(
        lapbench_command(*args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=kwargs.pop("env", os.environ.copy()), preexec_fn=preexec, **kwargs,
    )  # fmt: skip


def run(
    *args: str, obey_file_modes: bool = False, timeout: float = 600, **kwargs: Any
) -> subprocess.CompletedProcess[str]:
    """`lapbench ARGS` to the end."""
    preexec = kwargs.pop("preexec_fn", None) or (file_modes_preexec() if obey_file_modes else None)
    return subprocess.run(
        lapbench_command(*args), capture_output=True, text=True, timeout=timeout,
        env=kwargs.pop("env", os.environ.copy()), preexec_fn=preexec, **kwargs,
    )  # fmt: skip


def one_line_error(stderr: str) -> str:
    """The single `error: ...` line of a failed command; fails the test on a traceback or several lines."""
    assert "Traceback" not in stderr, stderr
    lines = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, stderr
    return lines[0]
