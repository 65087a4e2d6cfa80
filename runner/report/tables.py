"""The report's tables as plain data (header + rows of strings), shared by the HTML and Markdown
renderers so that both always show the same numbers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from runner.report.bootstrap import bootstrap_difference
from runner.report.data import RunView, machine_summary
from runner.rubric.types import AXIS_POINTS
from runner.run.cost import format_cost
from runner.run.record import PHASE_NAMES, Interval

GIB = 2**30


@dataclass(frozen=True)
class Table:
    title: str
    header: list[str]
    rows: list[list[str]]
    anchor: str


def _ci(interval: Interval, digits: int = 1) -> str:
    if interval.half_width is None:
        return f"{interval.mean:.{digits}f}"
    return f"{interval.mean:.{digits}f} ± {interval.half_width:.{digits}f}"


def _opt(value: float | None, fmt: str) -> str:
    return format(value, fmt) if value is not None else "—"


def ranked(views: Sequence[RunView]) -> list[RunView]:
    return sorted(views, key=lambda v: (-v.record.score, v.label))


def leaderboard(views: Sequence[RunView], samples: int = 1000) -> Table:
    order = ranked(views)
    header = ["#", "model (mode)", "quant", "score ± 95% CI", *(f"{a} /{p:g}" for a, p in AXIS_POINTS.items()),
              "first-try", "retries", "n", "gap to next"]  # fmt: skip
    rows = []
    for i, v in enumerate(order):
        r = v.record
        gap = "—"
        if i + 1 < len(order):
            d = bootstrap_difference(r.results, order[i + 1].record.results, lambda x: x.score, samples)
            verdict = (
                "untested: one sample" if d.reason else "significant" if d.significant else "not significant"
            )
            gap = f"{d.diff:+.1f} ({verdict})"
        # a run of an older rubric has other axes: "—" where it has none
        axes = [
            _ci(r.axes_ci[a]) if a in r.axes_ci else f"{r.axes[a]:.1f}" if a in r.axes else "—"
            for a in AXIS_POINTS
        ]
        rate = v.first_try_rate
        rows.append([str(i + 1), v.label, v.quant, _ci(r.score_ci), *axes,
                     f"{100 * rate:.0f}%" if rate is not None else "—", str(r.retries),
                     f"{len(r.projects)}×{r.repeats}", gap])  # fmt: skip
    return Table("Leaderboard", header, rows, "leaderboard")


def costs(views: Sequence[RunView]) -> Table:
    header = ["model (mode)", "backend", "score", "cost", "peak memory (GiB)", "wall time (min)", "decode tok/s",
              "prefill tok/s", "TTFT (s)", "tokens", "calls"]  # fmt: skip
    rows = [
        [
            v.label,
            v.record.backend,
            f"{v.record.score:.1f}",
            format_cost(v.record.cost_usd),
            _opt(v.peak_memory_bytes / GIB if v.peak_memory_bytes else None, ".2f"),
            f"{v.record.wall_seconds / 60:.1f}",
            _opt(v.decode_tps, ".1f"),
            _opt(v.prefill_tps, ".0f"),
            _opt(v.ttft_seconds, ".2f"),
            str(v.record.tokens),
            str(v.record.calls),
        ]
        for v in ranked(views)
    ]
    return Table("Cost: dollars, memory, time and speed", header, rows, "costs")


def phases(views: Sequence[RunView]) -> Table:
    header = [
        "model (mode)",
        "phase",
        "status",
        "tool calls",
        "generations",
        "first-try",
        "retries",
        "tokens",
    ]
    rows = []
    for v in ranked(views):
        for name in PHASE_NAMES:
            p = v.record.phases.get(name)
            if p is None:
                continue
            rows.append([v.label, name, p.status, str(p.parts), str(p.calls),
                         f"{p.first_try_successes}/{p.parts}" if p.parts else "—", str(p.retries),
                         str(p.tokens)])  # fmt: skip
    return Table("Per-phase breakdown", header, rows, "phases")


def dimensions(views: Sequence[RunView]) -> Table:
    order = ranked(views)
    names = list(dict.fromkeys(n for v in order for n in v.record.dimensions))
    header = ["dimension", *(v.label for v in order)]
    rows = [[n, *(_opt(v.record.dimensions.get(n), ".2f") for v in order)] for n in names]
    return Table("Rubric dimensions (points, mean over projects and repeats)", header, rows, "dimensions")


def _thinking(view: RunView) -> str:
    """The think budget per call and the reasoning tokens spent per call ("—" for runs without thinking)."""
    budget = int(view.record.config.get("think") or 0)
    if budget <= 0:
        return "—"
    spent = view.record.profile.get("reasoning_tokens")
    per_call = f", {spent / view.record.calls:.0f} reasoning tok/call" if spent and view.record.calls else ""
    return f"{budget} tokens{per_call}"


def machines(views: Sequence[RunView]) -> Table:
    header = ["run", "model (mode)", "machine", "started", "suite", "rubric", "thinking"]
    rows = [
        [
            v.run_id,
            v.label,
            machine_summary(v.record.machine),
            v.record.started_at,
            v.record.suite,
            f"v{v.record.rubric_version}",
            _thinking(v),
        ]
        for v in ranked(views)
    ]
    return Table("Runs and machines", header, rows, "machines")


def all_tables(views: Sequence[RunView]) -> list[Table]:
    return [leaderboard(views), costs(views), phases(views), dimensions(views), machines(views)]
