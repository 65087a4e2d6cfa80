"""Calibration of the rubric against the gold answers (issue 13, DESIGN §4.4).

Per project with a gold answer: the score of the gold answer, of an empty answer (no documents) and of a
minimal one (one table, one operation, one test: valid), the mean drop of each defect kind of
`runner.gold.defects` on the axis it hits and on the total, and the Spearman correlation between the number
of defects injected into random mutants and their score. Static documents are scored as if a perfect run
had produced them, on the static axes (every axis but runtime, out of 100: `runner.gold.calibrate`); the
gold's full score with its logic executed (`score_static`) is printed beside it. Everything is scored twice to check determinism.

    python scripts/bench_rubric.py [--json] [--mutants 200] [--seed 0] [--project todo]

Goals (printed): gold >= 95 everywhere, empty <= 2, minimal <= 20, every defect kind lowers the score,
Spearman <= -0.9 on every project, deterministic.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from runner.gold import gold_projects, load_gold  # noqa: E402
from runner.gold.calibrate import axis_share, static_card, static_points, with_requirements  # noqa: E402
from runner.gold.defects import DEFECTS, inject, minimal_answer, mutant  # noqa: E402
from runner.projects import Project, builtin_projects  # noqa: E402
from runner.run.scoring import Documents, score_documents, score_static  # noqa: E402

GOALS = {"gold": 95.0, "empty": 2.0, "minimal": 20.0, "spearman": -0.9}


def _ranks(values: list[float]) -> list[float]:
    """Ranks from 1, ties sharing the mean of their ranks."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return ranks


def spearman(x: list[float], y: list[float]) -> float:
    """Spearman's rank correlation: Pearson's correlation of the ranks."""
    rx, ry = _ranks(x), _ranks(y)
    mx, my = sum(rx) / len(rx), sum(ry) / len(ry)
    cov = sum((a - mx) * (b - my) for a, b in zip(rx, ry, strict=True))
    sx = sum((a - mx) ** 2 for a in rx) ** 0.5
    sy = sum((b - my) ** 2 for b in ry) ** 0.5
    return cov / (sx * sy) if sx and sy else 0.0


def score(project: Project, data: dict[str, Any]) -> float:
    """The static score out of 100 (see `runner.gold.calibrate`)."""
    return static_points(static_card(project, data))


def bench_project(
    project: Project, mutants: int, seed: int, max_defects: int, defect_seeds: int
) -> dict[str, Any]:
    gold = load_gold(project.id)
    data = with_requirements(project)
    gold_card = static_card(project, data)
    gold_score = static_points(gold_card)
    empty = static_points(score_documents(Documents(), project, [], {}))
    minimal = score(project, minimal_answer(project.id, data))
    drops: dict[str, dict[str, float] | None] = {}
    for kind, defect in DEFECTS.items():
        axis_drops, total_drops = [], []
        for s in range(defect_seeds):
            mutated = inject(project.id, data, kind, random.Random(f"{seed}/{project.id}/{kind}/{s}"))
            if mutated is not None:
                card = static_card(project, mutated)
                axis_drops.append(axis_share(gold_card, defect.axis) - axis_share(card, defect.axis))
                total_drops.append(gold_score - static_points(card))
        drops[kind] = (
            {"axis": sum(axis_drops) / len(axis_drops), "total": sum(total_drops) / len(total_drops)}
            if axis_drops
            else None
        )
    counts, scores = [], []
    for m in range(mutants):
        rng = random.Random(f"{seed}/{project.id}/mutant/{m}")
        mutated, applied = mutant(project.id, data, rng.randint(0, max_defects), rng)
        counts.append(float(len(applied)))
        scores.append(score(project, mutated))
    full = score_static(
        gold.data, Documents(gold.analyze, gold.database, gold.interface, gold.test, gold.realize), project
    )
    return {
        "gold": round(gold_score, 3),
        "gold_full": round(full.score, 3),
        "empty": round(empty, 3),
        "minimal": round(minimal, 3),
        "spearman": round(spearman(counts, scores), 4) if mutants > 1 else None,
        "defects": drops,
        "_scores": [gold_score, empty, minimal, *scores],
    }


def goals(projects: dict[str, dict[str, Any]], deterministic: bool) -> list[tuple[str, bool, str]]:
    rows = []
    worst = min(projects.items(), key=lambda kv: kv[1]["gold"])
    rows.append(
        (
            "gold >= 95 on every project",
            worst[1]["gold"] >= GOALS["gold"],
            f"lowest {worst[1]['gold']:.2f} ({worst[0]})",
        )
    )
    worst = max(projects.items(), key=lambda kv: kv[1]["empty"])
    rows.append(
        ("empty <= 2", worst[1]["empty"] <= GOALS["empty"], f"highest {worst[1]['empty']:.2f} ({worst[0]})")
    )
    worst = max(projects.items(), key=lambda kv: kv[1]["minimal"])
    rows.append(
        (
            "minimal <= 20",
            worst[1]["minimal"] <= GOALS["minimal"],
            f"highest {worst[1]['minimal']:.2f} ({worst[0]})",
        )
    )
    flat = [
        f"{kind} on {pid}"
        for pid, p in projects.items()
        for kind, d in p["defects"].items()
        if d is not None and d["total"] <= 0
    ]
    rows.append(("every defect kind lowers the score", not flat, ", ".join(flat) or "all do"))
    rho = [(pid, p["spearman"]) for pid, p in projects.items() if p["spearman"] is not None]
    if rho:
        pid, value = max(rho, key=lambda kv: kv[1])
        rows.append(
            ("Spearman <= -0.9 on every project", value <= GOALS["spearman"], f"highest {value:.3f} ({pid})")
        )
    rows.append(("deterministic", deterministic, "same scores twice" if deterministic else "scores differ"))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("--mutants", type=int, default=200, help="random mutants per project (default 200)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--max-defects", type=int, default=len(DEFECTS),
        help=f"defects per mutant: 0..N, each kind at most once (default: every kind, {len(DEFECTS)})",
    )  # fmt: skip
    parser.add_argument("--defect-seeds", type=int, default=5, help="injections per defect kind (default 5)")
    parser.add_argument("--project", action="append", help="only this project (repeatable)")
    args = parser.parse_args()
    projects = builtin_projects()
    ids = args.project or gold_projects()
    results: dict[str, dict[str, Any]] = {}
    deterministic = True
    started = time.perf_counter()
    for pid in ids:
        print(f"[{time.perf_counter() - started:6.0f}s] {pid} ...", file=sys.stderr, flush=True)
        first = bench_project(projects[pid], args.mutants, args.seed, args.max_defects, args.defect_seeds)
        again = bench_project(projects[pid], args.mutants, args.seed, args.max_defects, args.defect_seeds)
        deterministic &= first["_scores"] == again["_scores"] and first["defects"] == again["defects"]
        results[pid] = first
    out = {
        "projects": {
            pid: {
                "gold": r["gold"], "gold_full": r["gold_full"], "empty": r["empty"], "minimal": r["minimal"], "spearman": r["spearman"],
                "defects": {k: (round(d["axis"], 3) if d else None) for k, d in r["defects"].items()},
            }
            for pid, r in results.items()
        },
        "deterministic": deterministic,
    }  # fmt: skip
    # with --json the tables go to stderr: one (long) run gives both
    report = sys.stderr if args.json else sys.stdout
    if args.json:
        print(json.dumps(out, indent=2))
    print(_tables(results, args), file=report)
    for goal, met, detail in goals(results, deterministic):
        print(f"{'MET ' if met else 'MISS'}  {goal}: {detail}", file=report)
    print(f"({time.perf_counter() - started:.0f} s)", file=report)
    return 0


def _tables(results: dict[str, dict[str, Any]], args: argparse.Namespace) -> str:
    ids = list(results)
    lines = [
        f"{'project':<22}{'gold':>8}{'empty':>8}{'minimal':>9}{'spearman':>10}{'gold+runtime':>14}"
        f"   (static axes /100; {args.mutants} mutants, 0..{args.max_defects} defects)"
    ]
    for pid, r in results.items():
        rho = f"{r['spearman']:.3f}" if r["spearman"] is not None else "—"
        lines.append(
            f"{pid:<22}{r['gold']:>8.2f}{r['empty']:>8.2f}{r['minimal']:>9.2f}{rho:>10}{r['gold_full']:>14.2f}"
        )
    lines.append("")
    lines.append("mean drop of each defect kind: on its axis / on the total (— = cannot apply)")
    short = [pid[:10] for pid in ids]
    lines.append(f"{'defect (axis)':<42}" + "".join(f"{s:>13}" for s in short))
    for kind, defect in DEFECTS.items():
        cells = []
        for pid in ids:
            d = results[pid]["defects"][kind]
            cells.append("—" if d is None else f"{d['axis']:.2f}/{d['total']:.2f}")
        lines.append(f"{kind + ' (' + defect.axis + ')':<42}" + "".join(f"{c:>13}" for c in cells))
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
