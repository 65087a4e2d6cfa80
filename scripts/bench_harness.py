"""What the harness buys: the smoke suite in grammar mode, narrowed versus schema-only grammars (issue 14).

    python scripts/bench_harness.py [--models default gemma-3-270m] [--seeds 0 1 2]
                                    [--grammars narrowed schema] [--threads 1] [--json]

Each (model, grammar, seed) is one real `lapbench run` (runner.run.run.benchmark, llama.cpp, one run at a
time) into a temporary results store. Per run: the phases whose gate passed (the phase's assembled document
validated in every project of the suite), the first-try success rate of the tool calls, retries, tokens
(prompt evaluated + generated), wall time, the grammar compile time per call and the mask time per token.
`--json` prints {"results": [{"model", "grammar", "seed", "gates_passed", "first_try_rate", "retries",
"tokens", "wall_s", "mask_us_mean", "compile_ms_mean", ...}, ...], "goals": {...}}.
Goals (the default model): narrowed passes every phase gate in >= 2 of 3 seeds; its first-try rate is
>= 60%; its mask time per token is within 1.5x of the schema-only grammar's.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from runner.projects import suite_projects
from runner.run.config import RunConfig, model_for_run
from runner.run.narrow import GRAMMAR_MODES
from runner.run.record import RunRecord
from runner.run.run import benchmark

GATE_PASSED = ("ok", "partial")
"""Phase statuses whose assembled document validated (runner.run.pipeline `_finish`)."""
MIN_SEEDS_ALL_GATES = 2
MIN_FIRST_TRY = 0.60
MAX_MASK_RATIO = 1.5


def summarize(record: RunRecord, model: str, grammar: str, seed: int) -> dict[str, Any]:
    """One row of the table from a finished run's record."""
    phases = [name for name, summary in record.phases.items() if summary.parts or summary.calls]
    passed = [
        name
        for name in phases
        if all(r.phases.get(name) and r.phases[name].status in GATE_PASSED for r in record.results)
    ]
    parts = sum(s.parts for s in record.phases.values())
    profile = record.profile
    generated = int(profile.get("generated_tokens") or 0)
    calls = max(int(profile.get("calls") or 0), 1)
    return {
        "model": model,
        "grammar": grammar,
        "seed": seed,
        "gates_passed": passed,
        "phases_run": phases,
        "first_try_rate": round(record.first_try_successes / parts, 3) if parts else 0.0,
        "tool_calls": parts,
        "generations": record.calls,
        "retries": record.retries,
        "tokens": record.tokens,
        "wall_s": round(record.wall_seconds, 1),
        "mask_us_mean": round(1e6 * float(profile.get("mask_seconds") or 0) / generated, 1)
        if generated
        else 0.0,
        "compile_ms_mean": round(1e3 * float(profile.get("compile_seconds") or 0) / calls, 2),
        "score": round(record.score, 1),
    }


def run_one(model: str, grammar: str, seed: int, threads: int, store: Path) -> dict[str, Any]:
    path, label, backend = model_for_run(None if model == "default" else model)
    config = RunConfig(
        model=path, model_label=label, backend=backend, suite="smoke", mode="grammar",
        grammar="narrowed" if grammar == "narrowed" else "schema", seed=seed, n_threads=threads,
    )  # fmt: skip
    record = benchmark(config, suite_projects("smoke"), store)
    return summarize(record, label, grammar, seed)


def goals(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The issue's goals on the default model's rows (None where a run needed for it is missing)."""
    default = rows[0]["model"] if rows else None
    mine = [r for r in rows if r["model"] == default]
    narrowed = [r for r in mine if r["grammar"] == "narrowed"]
    schema = [r for r in mine if r["grammar"] == "schema"]
    every_gate = sum(
        set(r["phases_run"]) <= set(r["gates_passed"]) and bool(r["phases_run"]) for r in narrowed
    )
    tool_calls = sum(r["tool_calls"] for r in narrowed)
    first_try = (
        sum(r["first_try_rate"] * r["tool_calls"] for r in narrowed) / tool_calls if tool_calls else None
    )

    def mask(group: Sequence[dict[str, Any]]) -> float | None:
        values = [r["mask_us_mean"] for r in group if r["mask_us_mean"]]
        return sum(values) / len(values) if values else None

    narrowed_mask, schema_mask = mask(narrowed), mask(schema)
    ratio = narrowed_mask / schema_mask if narrowed_mask and schema_mask else None
    return {
        "model": default,
        "narrowed_seeds_all_gates": every_gate,
        "narrowed_seeds": len(narrowed),
        "all_gates_met": every_gate >= MIN_SEEDS_ALL_GATES,
        "first_try_rate": None if first_try is None else round(first_try, 3),
        "first_try_met": first_try is not None and first_try >= MIN_FIRST_TRY,
        "mask_ratio": None if ratio is None else round(ratio, 2),
        "mask_met": ratio is not None and ratio <= MAX_MASK_RATIO,
    }


def _table(rows: Sequence[dict[str, Any]], met: dict[str, Any]) -> str:
    head = "model                      grammar   seed gates                          1st-try retries tokens  wall_s mask_us compile_ms"
    lines = [head]
    for r in rows:
        lines.append(
            f"{r['model'][:26]:26} {r['grammar']:9} {r['seed']:4} {','.join(r['gates_passed']) or '-':30} "
            f"{r['first_try_rate']:7.0%} {r['retries']:7} {r['tokens']:6} {r['wall_s']:7.1f} "
            f"{r['mask_us_mean']:7.1f} {r['compile_ms_mean']:10.2f}"
        )
    lines.append(
        f"goals ({met['model']}): every gate in >= {MIN_SEEDS_ALL_GATES} seeds: "
        f"{met['narrowed_seeds_all_gates']}/{met['narrowed_seeds']} {'met' if met['all_gates_met'] else 'MISSED'}; "
        f"first-try >= {MIN_FIRST_TRY:.0%}: {met['first_try_rate']} {'met' if met['first_try_met'] else 'MISSED'}; "
        f"mask narrowed/schema <= {MAX_MASK_RATIO}: {met['mask_ratio']} {'met' if met['mask_met'] else 'MISSED'}"
    )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", default=["default", "gemma-3-270m"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--grammars", nargs="+", choices=GRAMMAR_MODES, default=list(GRAMMAR_MODES))
    parser.add_argument("--threads", type=int, default=1, help="llama.cpp threads (the CI box has 2 cores)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for model in args.models:
            for grammar in args.grammars:
                for seed in args.seeds:
                    store = Path(tmp) / f"{len(rows)}.sqlite"
                    rows.append(run_one(model, grammar, seed, args.threads, store))
                    print(json.dumps(rows[-1]), file=sys.stderr, flush=True)  # progress; --json is stdout
    met = goals(rows)
    print(json.dumps({"results": rows, "goals": met}, indent=2) if args.json else _table(rows, met))
    return 0


if __name__ == "__main__":
    sys.exit(main())
