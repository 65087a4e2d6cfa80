"""The report's figures, drawn with matplotlib (Agg) and returned as PNG data URIs so that the HTML
file is self-contained. Every figure has a title, labelled axes with units, and readable font sizes."""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from typing import Any

from runner.report.data import RunView
from runner.rubric.types import AXIS_POINTS
from runner.run.record import PHASE_NAMES

AXIS_COLORS = {"analysis": "#ccb974", "database": "#4c72b0", "interface": "#55a868", "test": "#c44e52",
               "efficiency": "#8172b2"}  # fmt: skip
GIB = 2**30


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"font.size": 10, "axes.titlesize": 12, "axes.grid": True, "grid.alpha": 0.3,
                         "svg.hashsalt": "lapbench"})  # fmt: skip
    return plt


def _data_uri(fig: Any) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight", metadata={"Software": None})
    _pyplot().close(fig)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def leaderboard_plot(views: Sequence[RunView]) -> str:
    """Stacked per-axis points with the 95% CI of the total as an error bar, best on top."""
    plt = _pyplot()
    ordered = sorted(views, key=lambda v: v.record.score)
    fig, ax = plt.subplots(figsize=(8, 0.6 * len(ordered) + 1.6))
    labels = [v.label for v in ordered]
    left = [0.0] * len(ordered)
    for axis, color in AXIS_COLORS.items():
        values = [v.record.axes.get(axis, 0.0) for v in ordered]
        ax.barh(labels, values, left=left, color=color, label=f"{axis} (/{AXIS_POINTS.get(axis, 0):g})")
        left = [a + b for a, b in zip(left, values, strict=True)]
    errors = [v.record.score_ci.half_width or 0.0 for v in ordered]
    ax.errorbar([v.record.score for v in ordered], labels, xerr=errors, fmt="o", color="black",
                capsize=4, label="total ± 95% CI")  # fmt: skip
    for y, v in enumerate(ordered):
        ax.annotate(f"{v.record.score:.1f}", (v.record.score, y), xytext=(8, 6), textcoords="offset points")
    ax.set_xlim(0, 100)
    ax.set_xlabel("score (points of 100)")
    ax.set_title("Leaderboard: score by axis")
    ax.legend(loc="lower right", fontsize=8)
    return _data_uri(fig)


def pareto_plot(views: Sequence[RunView], metric: str) -> str | None:
    """Score against a cost (peak memory or wall time); the Pareto front (nothing both cheaper and
    better) is drawn as a line. None when no run has the cost measured."""
    if metric == "memory":
        points = [(v.peak_memory_bytes / GIB, v) for v in views if v.peak_memory_bytes]
        xlabel, title = "peak memory (GiB)", "Score vs peak memory"
    else:
        points = [(v.record.wall_seconds / 60, v) for v in views if v.record.wall_seconds > 0]
        xlabel, title = "wall time of the run (minutes)", "Score vs wall time"
    if not points:
        return None
    plt = _pyplot()
    colors = {v.run_id: f"C{i}" for i, v in enumerate(views)}  # the same run has the same colour everywhere
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    for i, (x, v) in enumerate(sorted(points, key=lambda p: (p[0], p[1].record.score))):
        err = v.record.score_ci.half_width or 0.0
        ax.errorbar(
            [x], [v.record.score], yerr=[err], fmt="o", capsize=4, markersize=7, color=colors[v.run_id]
        )
        # Alternate label sides so that runs with nearly equal cost do not print over each other.
        offset = (6, 6) if i % 2 == 0 else (6, -16)
        ax.annotate(f"{v.label} · {v.quant}", (x, v.record.score), xytext=offset, textcoords="offset points",
                    fontsize=8)  # fmt: skip
    front = pareto_front([(x, v.record.score) for x, v in points])
    if len(front) > 1:
        ax.plot([p[0] for p in front], [p[1] for p in front], "--", color="gray", label="Pareto front")
        ax.legend(loc="upper left", fontsize=8)
    xs = [x for x, _ in points]
    ax.set_xlim(0, max(xs) * 1.6 + 1e-9)
    # Zoom on the scores present (small models score low), never beyond the 0-100 scale.
    top = max(v.record.score + (v.record.score_ci.half_width or 0.0) for _, v in points)
    ax.set_ylim(0, min(100.0, max(10.0, top * 1.3)))
    ax.set_xlabel(xlabel)
    ax.set_ylabel("score (of 100)")
    ax.set_title(title)
    return _data_uri(fig)


def pareto_front(points: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    """Points (cost, score) not dominated by a cheaper-or-equal point with a higher-or-equal score."""
    front: list[tuple[float, float]] = []
    for cost, score in sorted(points, key=lambda p: (p[0], -p[1])):
        if not front or score > front[-1][1]:
            front.append((cost, score))
    return front


def phase_plot(views: Sequence[RunView]) -> str:
    """Per phase: first-try success rate and retries, one bar per run."""
    plt = _pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
    width = 0.8 / max(1, len(views))
    for i, v in enumerate(views):
        xs = [p + (i - (len(views) - 1) / 2) * width for p in range(len(PHASE_NAMES))]
        phases = [v.record.phases.get(name) for name in PHASE_NAMES]
        rates = [100 * p.first_try_successes / p.parts if p and p.parts else 0.0 for p in phases]
        retries = [p.retries if p else 0 for p in phases]
        left.bar(xs, rates, width=width, label=v.label)
        right.bar(xs, retries, width=width, label=v.label)
    for ax, ylabel, title in ((left, "first-try success (%)", "First-try success per phase"),
                              (right, "retries (count)", "Retries per phase")):  # fmt: skip
        ax.set_xticks(range(len(PHASE_NAMES)), PHASE_NAMES)
        ax.set_ylabel(ylabel)
        ax.set_title(title)
    left.set_ylim(0, 105)
    handles, labels = left.get_legend_handles_labels()
    fig.legend(
        handles, labels, fontsize=8, loc="upper center", ncol=min(4, len(views)), bbox_to_anchor=(0.5, 1.1)
    )
    return _data_uri(fig)


def speed_memory_plot(views: Sequence[RunView]) -> str:
    """Decode speed, prefill speed and peak memory per run (bars; missing measurements left empty)."""
    plt = _pyplot()
    views = sorted(views, key=lambda v: v.record.score)  # best on top (barh draws bottom-up)
    fig, axes = plt.subplots(1, 3, figsize=(12, 0.5 * len(views) + 2.4))
    labels = [v.label for v in views]
    series = (
        ("decode speed (tokens/s)", [v.decode_tps or 0.0 for v in views], "#4c72b0"),
        ("prefill speed (tokens/s)", [v.prefill_tps or 0.0 for v in views], "#55a868"),
        ("peak memory (GiB)", [(v.peak_memory_bytes or 0) / GIB for v in views], "#c44e52"),
    )
    for ax, (title, values, color) in zip(axes, series, strict=True):
        ax.barh(labels, values, color=color)
        for y, value in enumerate(values):
            ax.annotate(f"{value:.1f}" if value else "n/a", (value, y), xytext=(3, -3), textcoords="offset points",
                        fontsize=8)  # fmt: skip
        ax.set_title(title)
        ax.set_xlim(0, max([*values, 1e-09]) * 1.3)
    for ax in axes[1:]:
        ax.set_yticks(range(len(labels)), [""] * len(labels))
    return _data_uri(fig)
