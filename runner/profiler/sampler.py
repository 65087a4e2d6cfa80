"""Peak memory of this process while a block of code runs.

Usage::

    with MemorySampler() as sampler:          # period_s=0.01 by default
        backend.generate(request)
    sampler.peak_rss                          # bytes, the highest resident set size seen
    sampler.peak_footprint                    # bytes on macOS (physical footprint), else None

Two sources are combined, because a sampler alone can miss a short spike between two samples:
- a daemon thread that reads the resident set size (/proc/<pid>/statm, else psutil) every `period_s`
  seconds — and on macOS the physical footprint (`proc_pid_rusage`), which is what counts against unified
  memory;
- on Linux, the kernel's exact high-water mark (VmHWM in /proc/self/status), reset on entry by writing
  "5" to /proc/self/clear_refs. That reset is process-wide, so before resetting, the current high-water
  mark is folded into every sampler still open: nested samplers (a load inside a run, a call inside a
  phase) stay correct.

By default (`thread=None`) the thread runs only where the kernel's high-water mark is not available: on
Linux the kernel figure is exact and free, while each wake-up of a Python thread costs about 50-100 µs of
CPU on a virtual machine and, when the machine is busy, can hold the GIL the decode loop is waiting for
(scripts/bench_profiler.py measured 1-4% slower decode with a 10 ms thread on a loaded 2-core VM).
`thread=True` forces the thread (a time series, or a check of the kernel figure).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import psutil

_PROC_STATUS = Path("/proc/self/status")
_CLEAR_REFS = Path("/proc/self/clear_refs")

_open_samplers: list[MemorySampler] = []
_registry_lock = threading.Lock()


def kernel_peak_rss() -> int | None:
    """The kernel's high-water mark of this process's resident set (Linux VmHWM), or None elsewhere."""
    try:
        for line in _PROC_STATUS.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def _reset_kernel_peak() -> bool:
    try:
        _CLEAR_REFS.write_text("5")
    except OSError:
        return False
    return True


class _RusageInfoV0(ctypes.Structure):
    _fields_ = (
        ("ri_uuid", ctypes.c_uint8 * 16),
        ("ri_user_time", ctypes.c_uint64),
        ("ri_system_time", ctypes.c_uint64),
        ("ri_pkg_idle_wkups", ctypes.c_uint64),
        ("ri_interrupt_wkups", ctypes.c_uint64),
        ("ri_pageins", ctypes.c_uint64),
        ("ri_wired_size", ctypes.c_uint64),
        ("ri_resident_size", ctypes.c_uint64),
        ("ri_phys_footprint", ctypes.c_uint64),
        ("ri_proc_start_abstime", ctypes.c_uint64),
        ("ri_proc_exit_abstime", ctypes.c_uint64),
    )


class _Footprint:
    """macOS physical footprint through libproc's proc_pid_rusage (RUSAGE_INFO_V0)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self._call: Any = None
        if sys.platform == "darwin":
            # libproc's symbols live in libSystem; the dylib path is resolved through the dyld cache
            for path in (ctypes.util.find_library("proc"), "/usr/lib/libSystem.B.dylib"):
                try:
                    call = ctypes.CDLL(path).proc_pid_rusage if path else None
                except (OSError, AttributeError):
                    continue
                if call is not None:
                    call.argtypes = (ctypes.c_int, ctypes.c_int, ctypes.c_void_p)
                    call.restype = ctypes.c_int
                    self._call = call
                    break
        self._info = _RusageInfoV0()

    def read(self) -> int | None:
        if self._call is None:
            return None
        if self._call(self.pid, 0, ctypes.byref(self._info)) != 0:
            return None
        return int(self._info.ri_phys_footprint)


class _Rss:
    """Resident set size of a process: on Linux one pread of /proc/<pid>/statm on a descriptor kept
    open (about 5 µs, against about 40 µs through psutil), elsewhere psutil."""

    def __init__(self, pid: int) -> None:
        self._process = psutil.Process(pid)
        self._fd: int | None = None
        self._page = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
        try:
            self._fd = os.open(f"/proc/{pid}/statm", os.O_RDONLY)
        except OSError:
            self._fd = None

    def read(self) -> int | None:
        try:
            if self._fd is not None:
                return int(os.pread(self._fd, 128, 0).split()[1]) * self._page
            return int(self._process.memory_info().rss)
        except (OSError, ValueError, IndexError, psutil.Error):
            return None

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


class MemorySampler:
    """Context manager recording the peak RSS (and macOS footprint) of a process; see the module docstring."""

    def __init__(
        self,
        period_s: float = 0.01,
        *,
        pid: int | None = None,
        use_kernel_peak: bool = True,
        thread: bool | None = None,
    ) -> None:
        if period_s <= 0:
            raise ValueError(f"period_s must be positive, got {period_s}")
        self.period_s = period_s
        self.pid = pid if pid is not None else psutil.Process().pid
        self._own_process = self.pid == psutil.Process().pid
        self._use_kernel_peak = use_kernel_peak and self._own_process
        self._rss: _Rss | None = None
        self._footprint = _Footprint(self.pid)
        self._running = False
        self._thread: threading.Thread | None = None
        self.thread = thread
        """True: always sample on a thread; False: never (readings at entry and exit only); None (default):
        a thread unless the kernel's exact high-water mark is available (Linux), where it adds nothing."""
        self.threaded = False
        self.peak_rss = 0
        """Highest resident set size in bytes (sampled, and on Linux the kernel's exact high-water mark)."""
        self.peak_footprint: int | None = None
        """Highest macOS physical footprint in bytes; None on other systems."""
        self.start_rss = 0
        """Resident set size in bytes when the block started (peak_rss - start_rss is what the block added)."""
        self.samples = 0
        self._kernel_peak_valid = False

    def sample(self) -> None:
        """Take one reading now (the thread calls this every period)."""
        rss = self._rss.read() if self._rss is not None else None
        if rss is None:
            return
        self.samples += 1
        if rss > self.peak_rss:
            self.peak_rss = rss
        footprint = self._footprint.read()
        if footprint is not None and (self.peak_footprint is None or footprint > self.peak_footprint):
            self.peak_footprint = footprint

    def _fold_kernel_peak(self) -> None:
        peak = kernel_peak_rss() if self._kernel_peak_valid else None
        if peak is not None and peak > self.peak_rss:
            self.peak_rss = peak

    def _run(self) -> None:
        # time.sleep wakes up for about 40% less CPU than Event.wait; the price is that leaving the
        # block waits for the current period to end (join), at most period_s
        while self._running:
            time.sleep(self.period_s)
            if self._running:
                self.sample()

    def __enter__(self) -> MemorySampler:
        if self._use_kernel_peak:
            with _registry_lock:
                for other in _open_samplers:
                    other._fold_kernel_peak()
                self._kernel_peak_valid = _reset_kernel_peak()
                _open_samplers.append(self)
        self._rss = _Rss(self.pid)
        self.sample()
        self.start_rss = self.peak_rss
        self.threaded = self.thread if self.thread is not None else not self._kernel_peak_valid
        if self.threaded:
            self._running = True
            self._thread = threading.Thread(target=self._run, name="lapbench-memory-sampler", daemon=True)
            self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._running = False
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        self.sample()
        if self._rss is not None:
            self._rss.close()
            self._rss = None
        if self._use_kernel_peak:
            with _registry_lock:
                self._fold_kernel_peak()
                if self in _open_samplers:
                    _open_samplers.remove(self)
