"""The execution loop of a run: every repeat × project through the pipeline, one after another or, with
`--parallel N`, up to N side by side on a backend that serves calls in parallel (an HTTP server's slots).

A (repeat, project) is one job, and the calls of a job stay in order: each depends on the ones before. Jobs
run in worker threads. Every finished call is committed before its job goes on: workers hand their calls to
one writer thread, which owns its own SQLite connection (a connection belongs to the thread that opened it)
and acknowledges each commit. Scoring and the phase and score rows stay on the calling thread as outcomes
arrive, and results come back in job order whatever order the jobs finish in.

A server with fewer slots than `--parallel` queues the extra calls, and the queueing counts against each
call's HTTP timeout (`timeout_s`): raise it for a slow server.

Ctrl-C on the calling thread, or an error in any job, stops the other jobs at their next call: calls
already committed stay, calls in flight are lost, and `--resume` replays the first and repeats the second.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from backends.base import Backend, BackendError, Capabilities
from runner.errors import ConfigError
from runner.projects import Project
from runner.run.config import RunConfig, repeat_seed
from runner.run.harness import Harness, HarnessOptions
from runner.run.pipeline import ProjectOutcome, ProjectPipeline
from runner.run.record import CallAttempt, ProjectResult
from runner.run.store import ResultsStore

if TYPE_CHECKING:
    from runner.run.run import RunHooks

Finish = Callable[[ProjectOutcome, int], ProjectResult]
"""(outcome, seed) -> the stored, scored result (runs on the calling thread)."""


class _Stopped(BaseException):
    """Ends a job whose run stopped; a BaseException so that no `except Exception` in a job swallows it."""


@dataclass(frozen=True)
class Job:
    index: int
    repeat: int
    project: Project


def check_parallel(config: RunConfig, capabilities: Capabilities | None = None) -> None:
    """Refuse `--parallel > 1` unless every backend the run loads serves calls in parallel. Without
    `capabilities` (before loading), the backends named by the config are asked, unloaded."""
    if config.parallel <= 1:
        return
    found = [(config.backend, capabilities)] if capabilities is not None else _unloaded(config)
    for name, caps in found:
        if not caps.parallel_calls:
            raise ConfigError(
                f"--parallel {config.parallel}: backend {name!r} runs a model in this process, "
                "one call at a time",
                hint="drop --parallel, or serve the model (llama-server -np N) and use --backend openai",
            )


def _unloaded(config: RunConfig) -> list[tuple[str, Capabilities]]:
    """The capabilities of the backends the config names (the oracle's `through` too), before loading."""
    from backends.registry import create_backend

    found = []
    for name in filter(None, (config.backend, config.backend_options.get("through"))):
        try:
            found.append((str(name), create_backend(str(name)).capabilities))
        except BackendError:
            continue  # loading it will say what is wrong
    return found


def harness_options(config: RunConfig, repeat: int) -> HarnessOptions:
    return HarnessOptions(
        mode=config.mode,
        engine=config.engine,
        retries=config.retries,
        seed=repeat_seed(config.seed, repeat),
        temperature=config.temperature,
        n_ctx=config.n_ctx,
        max_tokens=config.max_tokens,
        grammar=config.grammar,
        repetition=config.repetition(),
        think_tokens=config.think if config.mode == "grammar" else 0,
    )


def execute_jobs(
    config: RunConfig,
    projects: Sequence[Project],
    backend: Backend,
    replay: Mapping[str, CallAttempt],
    store: ResultsStore,
    run_id: str,
    hooks: RunHooks,
    finish: Finish,
) -> list[ProjectResult]:
    """Run every job of the run (`config.parallel` at a time) and return their results in job order."""
    check_parallel(config, backend.capabilities)
    jobs = [
        Job(i, repeat, project)
        for i, (repeat, project) in enumerate((r, p) for r in range(config.repeats) for p in projects)
    ]

    def run_job(
        job: Job, record: Callable[[CallAttempt], None], guard: Callable[[Any], Any]
    ) -> ProjectOutcome:
        harness = Harness(
            backend,
            harness_options(config, job.repeat),
            record=record,
            replay=replay,
            on_attempt=guard(hooks.on_attempt),
            on_token=guard(hooks.on_token),
        )
        on_phase = hooks.on_phase and partial(hooks.on_phase, job.repeat, job.project.id)
        return ProjectPipeline(harness, job.project, job.repeat, guard(on_phase), config.track).run()

    if config.parallel <= 1 or len(jobs) <= 1:
        record = partial(store.record_call, run_id)
        results = []
        for job in jobs:
            outcome = run_job(job, record, lambda hook: hook)
            results.append(finish(outcome, harness_options(config, job.repeat).seed))
        return results
    writer = _Writer(store.path, run_id)
    try:
        return _side_by_side(jobs, config, run_job, writer, finish)
    finally:
        writer.close()


def _side_by_side(
    jobs: list[Job],
    config: RunConfig,
    run_job: Callable[[Job, Callable[[CallAttempt], None], Callable[[Any], Any]], ProjectOutcome],
    writer: _Writer,
    finish: Finish,
) -> list[ProjectResult]:
    todo: queue.SimpleQueue[Job] = queue.SimpleQueue()
    for job in jobs:
        todo.put(job)
    done: queue.SimpleQueue[tuple[Job, ProjectOutcome | BaseException]] = queue.SimpleQueue()
    stop = threading.Event()
    hook_lock = threading.Lock()

    def guard(hook: Callable[..., None] | None) -> Callable[..., None] | None:
        """A progress hook called by one job at a time, which also stops the job when the run stopped."""
        if hook is None:
            return None

        def call(*args: Any) -> None:
            if stop.is_set():
                raise _Stopped
            with hook_lock:
                hook(*args)

        return call

    def record(call: CallAttempt) -> None:
        writer.record(call)
        if stop.is_set():  # committed: the job stops before its next generation
            raise _Stopped

    def work() -> None:
        while not stop.is_set():
            try:
                job = todo.get_nowait()
            except queue.Empty:
                return
            try:
                done.put((job, run_job(job, record, guard)))
            except BaseException as err:
                done.put((job, err))
                stop.set()
                return

    # daemon: a worker still waiting on the server must not keep the process alive after Ctrl-C
    workers = [
        threading.Thread(target=work, name=f"lapbench-job-{i}", daemon=True)
        for i in range(min(config.parallel, len(jobs)))
    ]
    for worker in workers:
        worker.start()
    results: dict[int, ProjectResult] = {}
    try:
        while len(results) < len(jobs):
            try:
                job, outcome = done.get(timeout=0.1)  # a timeout keeps Ctrl-C deliverable
            except queue.Empty:
                continue
            if isinstance(outcome, BaseException):
                raise outcome
            results[job.index] = finish(outcome, harness_options(config, job.repeat).seed)
    finally:
        stop.set()
    return [results[i] for i in range(len(jobs))]


class _Writer:
    """One thread with its own connection that commits the calls workers hand it, one at a time."""

    def __init__(self, path: Path, run_id: str) -> None:
        self._queue: queue.SimpleQueue[tuple[CallAttempt, Future[None]] | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._closed = False
        self._thread = threading.Thread(
            target=self._loop, args=(path, run_id), name="lapbench-writer", daemon=True
        )
        self._thread.start()

    def record(self, call: CallAttempt) -> None:
        """Return once `call` is committed (or raise what the store raised)."""
        committed: Future[None] = Future()
        with self._lock:
            if self._closed:
                raise _Stopped
            self._queue.put((call, committed))
        committed.result()

    def close(self) -> None:
        """Commit what was handed over, then end the thread."""
        with self._lock:
            self._closed = True
            self._queue.put(None)
        self._thread.join()

    def _loop(self, path: Path, run_id: str) -> None:
        store: ResultsStore | None = None
        failure: BaseException | None = None
        try:
            store = ResultsStore(path)
        except BaseException as err:
            failure = err
        while (item := self._queue.get()) is not None:
            call, committed = item
            try:
                if store is None:
                    raise failure or RuntimeError("results store not open")
                store.record_call(run_id, call)
            except BaseException as err:
                committed.set_exception(err)
            else:
                committed.set_result(None)
        if store is not None:
            store.close()
