"""`lapbench compare RUN_A RUN_B`: score, axes and dimensions side by side with bootstrap intervals of
the differences, and every ranking inversion (an axis or dimension where the run that loses overall
wins) marked significant or not. Runs of different tracks (runner.run.tracks) are not compared."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from runner.errors import ConfigError
from runner.report.bootstrap import Difference, bootstrap_difference
from runner.report.data import RunView, load_views, mixed_versions
from runner.run.cost import format_cost


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
    warning: str | None = None
    """Set when the runs were scored under different rubric versions."""

    def as_json(self) -> dict[str, Any]:
        return {
            "a": {"run_id": self.a.run_id, "label": self.a.label, "cost_usd": self.a.record.cost_usd,
                  "rubric_version": self.a.record.rubric_version},
            "b": {"run_id": self.b.run_id, "label": self.b.label, "cost_usd": self.b.record.cost_usd,
                  "rubric_version": self.b.record.rubric_version},
            "warning": self.warning,
            "rows": [r.as_json() for r in self.rows],
        }  # fmt: skip


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
    return Comparison(a, b, rows, mixed_versions([a.record, b.record]))


def _axis(name: str) -> Any:
    return lambda r: r.axes.get(name, 0.0)


def _dimension(name: str) -> Any:
    return lambda r: r.dimensions.get(name, 0.0)


def compare_runs(results: Path, run_a: str, run_b: str, samples: int = 2000, seed: int = 0) -> Comparison:
    a, b = load_views(results, [run_a, run_b])
    if a.record.track != b.record.track:  # other work and other runtime dimensions: nothing to rank
        raise ConfigError(
            f"run {a.run_id} is of the {a.record.track} track and run {b.run_id} of the {b.record.track} "
            "track: they did different work",
            hint="compare runs of one track (lapbench run --track)",
        )
    comparison = compare_views(a, b, samples, seed)
    different = different_work(results, a, b)
    if different:
        comparison = replace(comparison, warning="; ".join(filter(None, (comparison.warning, different))))
    return comparison


def different_work(results: Path, a: RunView, b: RunView) -> str | None:
    """A warning when two runs did not do the same work: other suites, other projects, or projects of one
    id whose definitions (requirements, entities, capabilities) differ."""
    from runner.run.store import ResultsStore

    with ResultsStore(results, read_only=True) as store:
        texts = [_project_texts(store.run_config(v.run_id), v.record.projects) for v in (a, b)]
    notes = []
    if a.record.suite != b.record.suite:
        notes.append(f"suites {a.record.suite} and {b.record.suite}")
    only = [sorted(set(texts[i]) - set(texts[1 - i])) for i in (0, 1)]
    if only[0] or only[1]:
        notes.append(
            f"projects only in A: {', '.join(only[0]) or '-'}, only in B: {', '.join(only[1]) or '-'}"
        )
    common = set(texts[0]) & set(texts[1])
    changed = sorted(p for p in common if texts[0][p] and texts[1][p] and texts[0][p] != texts[1][p])
    if changed:
        notes.append(f"different definitions of project {', '.join(changed)}")
    return (
        f"the runs did not do the same work ({'; '.join(notes)}): their scores do not compare"
        if notes
        else None
    )


def _project_texts(config: dict[str, Any], ids: list[str]) -> dict[str, str | None]:
    """Project id -> its stored definition as JSON (None for runs stored without their projects)."""
    stored = {
        str(p.get("id")): json.dumps(p, sort_keys=True)
        for p in config.get("projects", [])
        if isinstance(p, dict)
    }
    return {pid: stored.get(pid) for pid in ids} | stored


def format_comparison(c: Comparison) -> str:
    """Plain text table for the terminal."""
    head = "".join(
        f"{name} = {v.label} [{v.run_id}] · score {v.record.score:.1f} · cost {format_cost(v.record.cost_usd)}\n"
        for name, v in (("A", c.a), ("B", c.b))
    )
    if c.warning:
        head += f"WARNING: {c.warning}\n"
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
