"""`lapbench compare RUN_A RUN_B`: score, axes and dimensions side by side with bootstrap intervals of
the differences, and every ranking inversion (an axis or dimension where the run that loses overall
wins) marked significant or not."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runner.report.bootstrap import Difference, bootstrap_difference
from runner.report.data import RunView, load_views


@dataclass(frozen=True)
class Row:
    name: str
    kind: str  # "score", "axis" or "dimension"
    difference: Difference
    inversion: bool

    def as_json(self) -> dict[str, Any]:
        d = self.difference
        return {
            "name": self.name, "kind": self.kind, "a": round(d.a, 3), "b": round(d.b, 3),
            "diff": round(d.diff, 3), "ci95": [round(d.low, 3), round(d.high, 3)],
            "significant": d.significant, "inversion": self.inversion, "note": d.reason,
        }  # fmt: skip


@dataclass(frozen=True)
class Comparison:
    a: RunView
    b: RunView
    rows: list[Row]

    def as_json(self) -> dict[str, Any]:
        return {
            "a": {"run_id": self.a.run_id, "label": self.a.label},
            "b": {"run_id": self.b.run_id, "label": self.b.label},
            "rows": [r.as_json() for r in self.rows],
        }


def _sign(x: float, eps: float = 1e-9) -> int:
    return 0 if abs(x) < eps else (1 if x > 0 else -1)


def compare_views(a: RunView, b: RunView, samples: int = 2000, seed: int = 0) -> Comparison:
    ra, rb = a.record.results, b.record.results
    overall = bootstrap_difference(ra, rb, lambda r: r.score, samples, seed)
    rows = [Row("score", "score", overall, False)]
    axes = list(dict.fromkeys([*a.record.axes, *b.record.axes]))
    dims = list(dict.fromkeys([*a.record.dimensions, *b.record.dimensions]))
    for kind, names, getter in (("axis", axes, _axis), ("dimension", dims, _dimension)):
        for name in names:
            diff = bootstrap_difference(ra, rb, getter(name), samples, seed)
            inversion = _sign(overall.diff) != 0 and _sign(diff.diff) == -_sign(overall.diff)
            rows.append(Row(name, kind, diff, inversion))
    return Comparison(a, b, rows)


def _axis(name: str) -> Any:
    return lambda r: r.axes.get(name, 0.0)


def _dimension(name: str) -> Any:
    return lambda r: r.dimensions.get(name, 0.0)


def compare_runs(results: Path, run_a: str, run_b: str, samples: int = 2000, seed: int = 0) -> Comparison:
    a, b = load_views(results, [run_a, run_b])
    return compare_views(a, b, samples, seed)


def format_comparison(c: Comparison) -> str:
    """Plain text table for the terminal."""
    head = f"A = {c.a.label} [{c.a.run_id}]\nB = {c.b.label} [{c.b.run_id}]\n"
    lines = [f"{'':<26}{'A':>8}{'B':>8}{'A-B':>8}  95% CI            verdict"]
    for row in c.rows:
        d = row.difference
        verdict = "significant" if d.significant else ("n/a: " + d.reason if d.reason else "not significant")
        if row.inversion:
            verdict = "INVERSION, " + verdict
        lines.append(
            f"{row.name:<26}{d.a:>8.2f}{d.b:>8.2f}{d.diff:>+8.2f}  [{d.low:+6.2f}, {d.high:+6.2f}]  {verdict}"
        )
    return head + "\n".join(lines)
