"""Per-project results → the run record: means with 95% confidence intervals over repeats, and phase
totals over every project and repeat."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from runner.rubric.types import AXIS_POINTS, RUBRIC_VERSION
from runner.run.config import repeat_seed
from runner.run.cost import run_cost
from runner.run.record import PHASE_NAMES, Interval, PhaseStatus, PhaseSummary, ProjectResult, RunRecord
from runner.run.stats import mean_ci


def _per_repeat(results: Sequence[ProjectResult], value: Any) -> list[float]:
    """The mean over projects of `value(result)` for each repeat (the suite score of that seed)."""
    by_repeat: dict[int, list[float]] = {}
    for result in results:
        by_repeat.setdefault(result.repeat, []).append(value(result))
    return [sum(v) / len(v) for _, v in sorted(by_repeat.items())]


def _phase_status(statuses: Sequence[PhaseStatus]) -> PhaseStatus:
    unique = set(statuses)
    if len(unique) == 1:
        return statuses[0]
    return "failed" if unique <= {"failed", "skipped"} else "partial"


def merge_phases(results: Sequence[ProjectResult]) -> dict[str, PhaseSummary]:
    out = {}
    for name in PHASE_NAMES:
        items = [r.phases[name] for r in results if name in r.phases]
        if not items:
            continue
        out[name] = PhaseSummary(
            status=_phase_status([p.status for p in items]),
            calls=sum(p.calls for p in items),
            retries=sum(p.retries for p in items),
            first_try_successes=sum(p.first_try_successes for p in items),
            tokens=sum(p.tokens for p in items),
            parts=sum(p.parts for p in items),
            parts_valid=sum(p.parts_valid for p in items),
            overflows=sum(p.overflows for p in items),
        )
    return out


def build_record(
    *,
    run_id: str,
    status: Any,
    config: dict[str, Any],
    machine: dict[str, Any],
    projects: Sequence[str],
    results: Sequence[ProjectResult],
    started_at: str,
    finished_at: str | None,
    wall_seconds: float,
    profile: dict[str, Any] | None = None,
) -> RunRecord:
    score_ci = mean_ci(_per_repeat(results, lambda r: r.score))
    axes_ci = {
        axis: mean_ci(_per_repeat(results, lambda r, a=axis: r.axes.get(a, 0.0))) for axis in AXIS_POINTS
    }
    dimension_names = list(dict.fromkeys(name for r in results for name in r.dimensions))
    dimensions_ci: dict[str, Interval] = {
        name: mean_ci(_per_repeat(results, lambda r, n=name: r.dimensions.get(n, 0.0)))
        for name in dimension_names
    }
    phases = merge_phases(results)
    repeats = int(config.get("repeats", 1))
    return RunRecord(
        run_id=run_id,
        status=status,
        model=str(config["model_label"]),
        backend=str(config["backend"]),
        suite=str(config["suite"]),
        track=str(config.get("track", "full")),
        mode=str(config["mode"]),
        engine=str(config["engine"]) if config["mode"] == "grammar" else None,
        repeats=repeats,
        seeds=[repeat_seed(int(config.get("seed", 0)), i) for i in range(repeats)],
        projects=list(projects),
        score=round(score_ci.mean, 3),
        score_ci=score_ci,
        axes={axis: round(ci.mean, 3) for axis, ci in axes_ci.items()},
        axes_ci=axes_ci,
        dimensions={name: round(ci.mean, 3) for name, ci in dimensions_ci.items()},
        dimensions_ci=dimensions_ci,
        phases=phases,
        results=list(results),
        rubric_version=RUBRIC_VERSION,
        started_at=started_at,
        finished_at=finished_at,
        wall_seconds=round(wall_seconds, 3),
        calls=sum(p.calls for p in phases.values()),
        retries=sum(p.retries for p in phases.values()),
        first_try_successes=sum(p.first_try_successes for p in phases.values()),
        tokens=sum(p.tokens for p in phases.values()),
        cost_usd=run_cost(config, profile or {}),
        config=config,
        machine=machine,
        profile=profile or {},
    )
