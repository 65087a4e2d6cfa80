"""`lapbench run` as one core function: start or resume a run, execute every project × repeat through
the pipeline, commit each call as it finishes, score, and store the run record.

Interrupts: Ctrl-C or SIGTERM (KeyboardInterrupt) marks the run "interrupted" and raises `RunInterrupted`
(exit 130) whose hint is the resume command; everything finished is already committed. A crash or
SIGKILL leaves the run "running" with its finished calls stored (`lapbench runs` shows it dead: its lock,
runner.run.lock, is gone with its process); `--resume` works the same way.

Resume proves it continues the same run: the run's inputs (runner.run.identity) are stored when it starts
and checked before it resumes, and the harness replays a stored call only when its prompt is the one the
run would send now.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from backends.base import Backend, BackendError, LoadConfig, UnsupportedCapability
from runner.errors import ConfigError, LapbenchError
from runner.profiler import LoadProfile, aggregate, profile_load
from runner.projects import Project
from runner.rubric.types import RUBRIC_VERSION
from runner.run.aggregate import build_record
from runner.run.config import RunConfig
from runner.run.identity import STORED_GRAMMAR, check_resumable, check_unique_ids, run_inputs
from runner.run.lock import hold_run
from runner.run.parallel import check_parallel, execute_jobs
from runner.run.pipeline import ProjectOutcome
from runner.run.record import CallAttempt, ProjectResult, RunRecord, RuntimeResult
from runner.run.scoring import execute_outcome, phase_summaries, score_outcome
from runner.run.store import ResultsStore, now_iso
from runner.run.store_file import StoreWriteError
from runner.run.tracks import TRACK_PHASES, check_track


class RunInterrupted(LapbenchError):
    exit_code = 130


@dataclass
class RunHooks:
    """Progress callbacks for a user interface; every one is optional."""

    on_start: Callable[[str, int], None] | None = None
    """(run_id, total phases to run)."""
    on_phase: Callable[[int, str, str], None] | None = None
    """(repeat, project id, phase) as a phase starts."""
    on_attempt: Callable[[CallAttempt, bool], None] | None = None
    """(attempt, replayed from the store)."""
    on_token: Callable[[int, str], None] | None = None


def check_fit(config: RunConfig) -> None:
    """Refuse a local model file that `lapbench fit` says will not fit at this context (unless --force).
    A model the estimator cannot read is not refused: loading it will tell."""
    if config.force or config.backend not in ("llama-cpp", "mlx") or not Path(config.model).exists():
        return
    from runner.fit.api import FitOptions, fit_model
    from runner.fit.verdict import refuse_if_it_does_not_fit

    try:
        report = fit_model(config.model, None, FitOptions(ctx=config.n_ctx))
    except LapbenchError:
        return
    refuse_if_it_does_not_fit(report, force=config.force, label=config.model_label)


def new_run_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(3)


def start_run(
    config: RunConfig,
    projects: list[Project],
    results_path: Path,
    machine: dict[str, Any] | None = None,
    inputs: dict[str, Any] | None = None,
) -> str:
    """Create the run in the store (projects are stored in full so that a resume needs no files), with
    the identity of its inputs (`run_inputs`; computed here unless given)."""
    check_unique_ids(projects)
    run, stored_projects = config.model_dump(), [p.model_dump() for p in projects]
    run_id = new_run_id()
    with ResultsStore(results_path) as store:
        store.create_run(
            run_id,
            model=config.model_label,
            backend=config.backend,
            suite=config.suite,
            rubric_version=RUBRIC_VERSION,
            config={
                "run": run,
                "projects": stored_projects,
                "inputs": inputs or run_inputs(run, stored_projects),
            },
            machine=machine or {},
        )
    return run_id


def _load_backend(config: RunConfig, create: Callable[[str], Backend]) -> tuple[Backend, LoadProfile]:
    try:
        backend = create(config.backend)
        load = profile_load(
            backend,
            LoadConfig(
                model=config.model,
                n_ctx=config.n_ctx,
                n_threads=config.n_threads,
                seed=config.seed,
                options=config.backend_options,
            ),
        )
    except BackendError as err:
        raise LapbenchError(str(err), hint="check the model path and --backend") from None
    capabilities = backend.capabilities
    # an HTTP server takes the schema as a forced tool call; whether it enforced it is in Generation.constrained
    if (
        config.mode == "grammar"
        and config.engine not in capabilities.grammar_engines
        and not capabilities.native_tool_calls
    ):
        backend.close()
        engines = ", ".join(backend.capabilities.grammar_engines) or "none"
        raise ConfigError(
            f"backend {config.backend!r} cannot enforce grammar engine {config.engine!r} (it has: {engines})",
            hint="pick another --engine, or --mode free",
        )
    return backend, load


def execute_run(
    run_id: str,
    results_path: Path,
    hooks: RunHooks | None = None,
    create_backend: Callable[[str], Backend] | None = None,
) -> RunRecord:
    """Run (or continue) a stored run to the end and return its record."""
    from backends.registry import create_backend as registry_create

    hooks = hooks or RunHooks()
    with ResultsStore(results_path) as store:
        store.run_row(run_id)  # a clear error for an unknown run, before a lock file is made for it
        with hold_run(store.path, run_id):
            try:
                return _execute(store, run_id, hooks, create_backend or registry_create)
            except StoreWriteError as err:  # nothing more can be written: the run stays resumable as it is
                raise StoreWriteError(
                    f"run {run_id} stopped: {err.message}",
                    hint=f"{err.hint}, then `lapbench run --resume {run_id} --results {store.path}`",
                ) from None


def _execute(
    store: ResultsStore, run_id: str, hooks: RunHooks, create_backend: Callable[[str], Backend]
) -> RunRecord:
    results_path = store.path
    started = time.perf_counter()
    row = store.run_row(run_id)
    if row["status"] == "finished" and row["record_json"]:
        return store.load_run(run_id)
    stored = store.run_config(run_id)
    # a run stored before `--grammar` and `--dry` existed decoded under the plain schema without a repetition
    # penalty: resume it the same way
    config = RunConfig.model_validate({"grammar": STORED_GRAMMAR, "dry": 0.0, **stored["run"]})
    projects = [Project.model_validate(p) for p in stored["projects"]]
    check_resumable(run_id, stored, projects)
    replay = store.finished_calls(run_id)
    replayed_seconds = sum(c.wall_seconds for c in replay.values())
    store.set_status(run_id, "running")
    if hooks.on_start is not None:
        hooks.on_start(run_id, len(projects) * config.repeats * len(TRACK_PHASES[config.track]))
    try:
        backend, load = _load_backend(config, create_backend)
    except LapbenchError:
        store.set_status(run_id, "failed")
        raise
    try:
        finish = partial(_store_outcome, store, run_id)
        results = execute_jobs(config, projects, backend, replay, store, run_id, hooks, finish)
    except KeyboardInterrupt:
        store.set_status(run_id, "interrupted")
        raise RunInterrupted(
            f"run {run_id} interrupted; every finished call is saved in {results_path}",
            hint=f"continue it with `lapbench run --resume {run_id} --results {results_path}`",
        ) from None
    except UnsupportedCapability as err:  # an option this model or server cannot honour: resuming cannot help
        store.set_status(run_id, "failed")
        raise LapbenchError(
            f"run {run_id} stopped: {err}", hint="start a new run without that option"
        ) from None
    except BackendError as err:
        store.set_status(run_id, "failed")
        raise LapbenchError(
            f"run {run_id} stopped: {err}", hint=f"`lapbench run --resume {run_id}`"
        ) from None
    finally:
        backend.close()
    record = build_record(
        run_id=run_id,
        status="finished",
        config=config.model_dump(),
        machine=_machine(row["machine_json"]),
        projects=[p.id for p in projects],
        results=results,
        started_at=row["created_at"],
        finished_at=now_iso(),
        wall_seconds=replayed_seconds + time.perf_counter() - started,
        profile=aggregate(store.call_rows(run_id), [load]),
    )
    store.save_record(record)
    return record


def _store_outcome(store: ResultsStore, run_id: str, outcome: ProjectOutcome, seed: int) -> ProjectResult:
    """Score a finished project, store its phases and scores, and return its result."""
    project, repeat = outcome.project, outcome.repeat
    runtime = execute_outcome(outcome)
    card = score_outcome(outcome, project, runtime)
    phases = phase_summaries(outcome)
    for name, phase in outcome.phases.items():
        document = phase.document.model_dump_json(by_alias=True) if phase.document else None
        store.save_phase(run_id, repeat, project.id, name, phase.status, document, phases[name].model_dump())
    store.save_scores(run_id, repeat, project.id, card.dimensions, card.rubric_version)
    return ProjectResult(
        project=project.id,
        repeat=repeat,
        seed=seed,
        score=round(card.score, 3),
        axes={k: round(v, 3) for k, v in card.axes.items()},
        dimensions={k: round(v, 3) for k, v in card.dimension_points().items()},
        phases=phases,
        runtime=RuntimeResult(**{**asdict(runtime), "failures": list(runtime.failures)}),
    )


def _machine(text: str) -> dict[str, Any]:
    import json

    value = json.loads(text or "{}")
    return value if isinstance(value, dict) else {}


def benchmark(
    config: RunConfig | None,
    projects: list[Project],
    results_path: Path,
    *,
    resume: str | None = None,
    hooks: RunHooks | None = None,
) -> RunRecord:
    """Start a new run of `projects` with `config`, or continue run `resume` (then config is ignored)."""
    if resume is not None:
        return execute_run(resume, results_path, hooks)
    if config is None:
        raise ConfigError("a new run needs a configuration")
    from runner.profiler import collect_machine_info

    check_unique_ids(projects)
    check_track(config.track, projects)
    inputs = run_inputs(config.model_dump(), [p.model_dump() for p in projects])  # reads the model first
    check_fit(config)
    check_parallel(config)
    machine = collect_machine_info(backend=config.backend, n_threads=config.n_threads, n_ctx=config.n_ctx)
    run_id = start_run(config, projects, results_path, machine.model_dump(mode="json"), inputs)
    return execute_run(run_id, results_path, hooks)
