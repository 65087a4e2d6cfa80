"""Runs a bench: one worker process per configuration, repetitions interleaved across configurations.

`run_bench(spec, progress)` starts a worker (runner.bench.worker) per configuration and loads its
model; then every test gets its warm-up, and the repetitions go round-robin — configuration A rep 1,
B rep 1, A rep 2, ... (and within a configuration its tests in turn, so grammar on/off pairs alternate
too) — so that slow drift (thermal throttling, other load) spreads over all of them instead of
penalising whichever ran last. With `interleave=False` configurations run one after another, one model in
memory at a time.

A worker that fails to load, dies (out of memory: killed by the kernel) or errors on a test turns into
records with `error` set; the other configurations carry on. With `continue_on_error=False` the first
failure stops the sweep (the remaining tests are reported as skipped).

Ctrl-C or SIGTERM (KeyboardInterrupt; the CLI turns SIGTERM into one) kills every worker at once, in the
middle of its sample: a worker asked politely would finish its sample first, and a long one runs minutes.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from runner.bench.plan import (
    BenchConfig,
    BenchRecord,
    BenchTest,
    Sample,
    context_for,
    fill_statistics,
)
from runner.profiler.machine import collect_machine_info

BACKEND_LIBRARIES = {"llama-cpp": "llama_cpp", "mlx": "mlx_lm"}
"""Backend name -> its key in MachineInfo.libraries."""

Progress = Callable[[str, int], None]
"""(description of what runs now, units completed since the last call)."""


@dataclass(frozen=True)
class BenchSpec:
    configs: tuple[BenchConfig, ...]
    tests: tuple[BenchTest, ...]
    repetitions: int = 5
    warmup: bool = True
    interleave: bool = True
    continue_on_error: bool = True

    @property
    def units(self) -> int:
        """Progress units: one per load and one per sample (warm-ups included)."""
        per_config = 1 + len(self.tests) * (self.repetitions + (1 if self.warmup else 0))
        return per_config * len(self.configs)


class WorkerDied(Exception):
    """The worker process ended (crash, out-of-memory kill) or broke the protocol."""


class WorkerHandle:
    """The parent's end of one worker process."""

    def __init__(self, config: BenchConfig) -> None:
        self.config = config
        self._stderr: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the worker
        self.process = subprocess.Popen(
            [sys.executable, "-m", "runner.bench.worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
        )

    def request(self, message: dict[str, Any]) -> dict[str, Any]:
        stdin, stdout = self.process.stdin, self.process.stdout
        assert stdin is not None and stdout is not None
        try:
            stdin.write(json.dumps(message) + "\n")
            stdin.flush()
            line = stdout.readline()
        except (BrokenPipeError, OSError):
            line = ""
        if not line:
            raise WorkerDied(self._death_note())
        try:
            reply: dict[str, Any] = json.loads(line)
        except json.JSONDecodeError as err:
            raise WorkerDied(f"worker broke the protocol: {line[:200]!r}") from err
        return reply

    def _death_note(self) -> str:
        try:
            code = self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            code = self.process.wait()
        self._stderr.seek(0)
        lines = [ln for ln in self._stderr.read().decode("utf-8", "replace").splitlines() if ln.strip()]
        last = lines[-1].strip() if lines else ""
        cause = " (killed: out of memory?)" if code in (-9, 137) else ""
        return f"worker exited with code {code}{cause}" + (f": {last}" if last else "")

    def kill(self) -> None:
        """End the worker now, whatever it is doing."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        self._stderr.close()

    def close(self) -> None:
        if self.process.poll() is None:
            try:
                assert self.process.stdin is not None
                self.process.stdin.write(json.dumps({"op": "quit"}) + "\n")
                self.process.stdin.flush()
                self.process.wait(timeout=30)
            except (OSError, subprocess.TimeoutExpired):
                self.process.kill()
                self.process.wait()
        self._stderr.close()


@dataclass
class _ConfigRun:
    config: BenchConfig
    tests: tuple[BenchTest, ...]
    handle: WorkerHandle | None = None
    load_seconds: float | None = None
    error: str | None = None
    samples: dict[BenchTest, list[Sample]] = field(default_factory=dict)
    test_errors: dict[BenchTest, str] = field(default_factory=dict)

    def live_tests(self) -> list[BenchTest]:
        return [] if self.error else [t for t in self.tests if t not in self.test_errors]


def _model_size(model: str) -> int | None:
    path = Path(model).expanduser()
    if path.is_file():
        return path.stat().st_size
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return None


class _Sweep:
    def __init__(self, spec: BenchSpec, progress: Progress) -> None:
        self.spec = spec
        self.progress = progress
        self.stopped = False
        self.machine = collect_machine_info()
        self.runs = [
            _ConfigRun(replace(c, n_ctx=context_for(list(spec.tests), c.n_ctx)), spec.tests)
            for c in spec.configs
        ]

    def fail(self, run: _ConfigRun, message: str, test: BenchTest | None = None) -> None:
        if test is None:
            run.error = message
            if run.handle is not None:
                run.handle.close()
                run.handle = None
        else:
            run.test_errors[test] = message
        if not self.spec.continue_on_error:
            self.stopped = True

    def load(self, run: _ConfigRun) -> None:
        if self.stopped:
            self.progress("", 1)
            return
        self.progress(f"loading {run.config.label}", 0)
        try:
            run.handle = WorkerHandle(run.config)
            reply = run.handle.request({"op": "load", "config": asdict(run.config)})
        except (WorkerDied, OSError) as err:
            self.fail(run, str(err))
        else:
            if reply.get("ok"):
                run.load_seconds = reply.get("load_seconds")
            else:
                self.fail(run, str(reply.get("error")))
        self.progress(f"loaded {run.config.label}", 1)

    def sample(self, run: _ConfigRun, test: BenchTest, rep: int, warmup: bool) -> None:
        if self.stopped or run.error or test in run.test_errors or run.handle is None:
            return
        what = "warm-up" if warmup else f"rep {rep + 1}/{self.spec.repetitions}"
        self.progress(f"{run.config.label} {test.name}{' +grammar' if test.grammar else ''} {what}", 0)
        message = {"op": "sample", "test": asdict(test), "rep": rep, "warmup": warmup}
        try:
            reply = run.handle.request(message)
        except WorkerDied as err:
            self.fail(run, str(err))
            return
        finally:
            self.progress("", 1)
        if not reply.get("ok"):
            self.fail(run, str(reply.get("error")), test)
        elif not warmup:
            run.samples.setdefault(test, []).append(Sample(**reply["sample"]))

    def run_config(self, run: _ConfigRun, reps: range) -> None:
        for rep in reps:
            for test in run.live_tests():
                self.sample(run, test, rep, warmup=False)

    def execute(self) -> list[BenchRecord]:
        spec = self.spec
        try:
            if spec.interleave:
                for run in self.runs:
                    self.load(run)
                for run in self.runs:
                    self.warm(run)
                for rep in range(spec.repetitions):
                    for run in self.runs:
                        self.run_config(run, range(rep, rep + 1))
            else:
                for run in self.runs:
                    self.load(run)
                    self.warm(run)
                    self.run_config(run, range(spec.repetitions))
                    self.close(run)
        except BaseException:  # Ctrl-C, SIGTERM, a bug: no worker may outlive the sweep
            for run in self.runs:
                if run.handle is not None:
                    run.handle.kill()
                    run.handle = None
            raise
        finally:
            for run in self.runs:
                self.close(run)
        return [record for run in self.runs for record in self.records(run)]

    def warm(self, run: _ConfigRun) -> None:
        if self.spec.warmup:
            for test in run.live_tests():
                self.sample(run, test, 0, warmup=True)

    @staticmethod
    def close(run: _ConfigRun) -> None:
        if run.handle is not None:
            run.handle.close()
            run.handle = None

    def records(self, run: _ConfigRun) -> list[BenchRecord]:
        config = run.config
        now = datetime.now(UTC).isoformat(timespec="seconds")
        out = []
        for test in run.tests:
            record = BenchRecord(
                model_filename=config.model,
                model_size=_model_size(config.model),
                backend=config.backend,
                n_threads=config.n_threads,
                n_ctx=config.n_ctx,
                n_batch=config.n_batch,
                n_prompt=test.n_prompt,
                n_gen=test.n_gen,
                n_depth=test.n_depth,
                test=test.name,
                grammar=test.grammar,
                test_time=now,
                cpu_info=self.machine.cpu_model,
                gpu_info=self.machine.gpu,
                backend_version=self.machine.libraries.get(BACKEND_LIBRARIES.get(config.backend, "")),
                load_seconds=run.load_seconds,
            )
            samples = run.samples.get(test, [])
            error = run.error or run.test_errors.get(test)
            if error is None and len(samples) < self.spec.repetitions:
                error = "skipped: the sweep stopped at an earlier failure"
            out.append(fill_statistics(record.model_copy(update={"error": error}), samples))
        return out


def run_bench(spec: BenchSpec, progress: Progress | None = None) -> list[BenchRecord]:
    """Run every configuration x test; one record per pair, failures included (see the module docstring)."""
    return _Sweep(spec, progress or (lambda _what, _n: None)).execute()
