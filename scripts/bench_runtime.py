"""Runtime correctness of the gold answers: the gold tests against the gold realize, and against every
injected logic bug (runner.execute.bugs) of it, on the projects that have a gold realize.

    python scripts/bench_runtime.py [--project todo ...] [--seed 0] [--json]

Per project: `gold_pass_rate` (test functions passing on the gold realize), `bugs` (mutants injected),
`bug_catch_rate` (mutants for which at least one gold test function fails), `median_test_ms` (one test
function on a fresh in-memory server, measured on the gold run), `caught_by_operator`, and `survivors`
(the mutants no gold test notices). Goals: gold pass rate 1.0; catch rate >= 0.9; median <= 50 ms.
Everything runs through the production path (`runner.execute.run_tests`, `runner.execute.mutants`).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import Counter
from typing import Any

from runner.execute import mutants, run_tests
from runner.gold import gold_projects, load_gold
from runner.schemas.checks.realize import RealizeContext


def measure(project: str, seed: int) -> dict[str, Any]:
    gold = load_gold(project)
    assert gold.realize is not None
    result = run_tests(gold.test, gold.database, gold.interface, gold.realize, seed=seed)
    bugs = mutants(gold.realize, RealizeContext.of(gold.analyze, gold.database, gold.interface))
    caught: Counter[str] = Counter()
    total: Counter[str] = Counter()
    survivors = []
    for index, bug in enumerate(bugs, start=1):
        print(f"\r{project}: bug {index}/{len(bugs)}", end="", file=sys.stderr, flush=True)
        total[bug.operator] += 1
        if run_tests(gold.test, gold.database, gold.interface, bug.document, seed=seed).pass_rate < 1.0:
            caught[bug.operator] += 1
        else:
            survivors.append(bug.id)
    print(file=sys.stderr)
    return {
        "gold_pass_rate": result.pass_rate,
        "gold_failures": [f.one_line() for f in result.failures],
        "bug_catch_rate": round(sum(caught.values()) / len(bugs), 3) if bugs else 0.0,
        "median_test_ms": round(statistics.median(f.ms for f in result.functions), 2),
        "bugs": len(bugs),
        "caught_by_operator": {op: f"{caught[op]}/{n}" for op, n in sorted(total.items())},
        "survivors": survivors,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--project", action="append", help="a project id (default: every project with a gold realize)"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the tests' random data")
    parser.add_argument("--json", action="store_true", help="print the results as JSON on stdout")
    args = parser.parse_args()
    projects = args.project or [p for p in gold_projects() if load_gold(p).realize is not None]
    start = time.perf_counter()
    results = {project: measure(project, args.seed) for project in projects}
    if args.json:
        print(json.dumps({"projects": results, "seconds": round(time.perf_counter() - start, 1)}, indent=2))
        return
    print(f"{'project':<20} {'gold pass':>9} {'bugs':>5} {'caught':>7} {'median ms':>10}")
    for project, r in results.items():
        print(
            f"{project:<20} {r['gold_pass_rate']:>9.2f} {r['bugs']:>5} {r['bug_catch_rate']:>7.2f} {r['median_test_ms']:>10.1f}"
        )
    for project, r in results.items():
        for failure in r["gold_failures"]:
            print(f"{project}: gold test fails: {failure}")


if __name__ == "__main__":
    main()
