"""Execution after the run (DESIGN.md §4.5): the backend a project's documents make is served in-process
over SQLite (runner.execute) and test documents run against it; the counts feed the runtime axis
(runner.rubric.runtime) and the run record (`RuntimeResult`).

Per track (runner.run.tracks):
- full: the model's tests against the model's realize, and the gold tests against the model's realize
  (over the model's own database and interface);
- realize: the gold tests against the model's realize, over the gold database and interface;
- test: the model's tests against the gold realize, and against every mutant of it.

Mutation score: a mutant (one injected logic bug, `runner.execute.bugs.mutants` of the gold realize) is
killed when at least one of the model's test functions that passes against the gold realize fails against
the mutant. A test that already fails against the gold realize says nothing about a bug, so it kills
nothing. The score is killed mutants / all mutants of the project; no passing test: 0.
"""

from __future__ import annotations

from functools import cache

from runner.execute import Bug, SuiteResult, mutants, run_function, run_tests
from runner.gold import GoldAnswer, load_gold
from runner.rubric.runtime import RuntimeFigures
from runner.schemas.checks.realize import RealizeContext
from runner.schemas.database import DatabaseDocument
from runner.schemas.interface import InterfaceDocument
from runner.schemas.realize import RealizeDocument
from runner.schemas.testlogic import TestDocument

SHOWN_FAILURES = 3


@cache
def gold_mutants(project_id: str) -> tuple[Bug, ...]:
    """The mutants of a project's gold realize (validating each takes seconds: made once per process)."""
    gold = load_gold(project_id)
    if gold.realize is None:
        return ()
    return tuple(mutants(gold.realize, RealizeContext.of(gold.analyze, gold.database, gold.interface)))


def _suite(
    tests: TestDocument | None,
    database: DatabaseDocument | None,
    interface: InterfaceDocument | None,
    realize: RealizeDocument | None,
) -> SuiteResult | str:
    """The suite's result, or why nothing ran."""
    if tests is None or not tests.functions:
        return "no tests"
    if database is None or interface is None or realize is None:
        return "no backend to run against"
    try:
        return run_tests(tests, database, interface, realize)
    # The documents are a model's: a backend that cannot even start (a DDL SQLite refuses) or a suite the
    # interpreter cannot run scores nothing at run time instead of stopping the benchmark.
    except Exception as err:
        return f"the suite could not run: {type(err).__name__}: {str(err)[:120]}"


def _count(result: SuiteResult | str, label: str, failures: list[str]) -> tuple[int, int]:
    if isinstance(result, str):
        failures.append(f"{label}: {result}")
        return 0, 0
    failures += [f"{label}: {f.one_line()}" for f in result.failures]
    return len(result.functions), result.passed


def mutation_figures(
    tests: TestDocument, passing: SuiteResult, gold: GoldAnswer, bugs: tuple[Bug, ...]
) -> tuple[int, int]:
    """(mutants, killed) under the rule of the module docstring; stops at the first test that kills."""
    alive = [fn for fn, result in zip(tests.functions, passing.functions, strict=True) if result.passed]
    if not alive:
        return len(bugs), 0
    killed = 0
    for bug in bugs:
        backend = (gold.database, gold.interface, bug.document)
        if any(not run_function(fn, backend, index=i).passed for i, fn in enumerate(alive)):
            killed += 1
    return len(bugs), killed


def execute_project(
    track: str,
    project_id: str,
    *,
    tests: TestDocument | None = None,
    database: DatabaseDocument | None = None,
    interface: InterfaceDocument | None = None,
    realize: RealizeDocument | None = None,
) -> RuntimeFigures:
    """Run what `track` judges. `tests`, `database`, `interface`, `realize`: the model's documents (for
    the realize and test tracks the database and interface are the gold ones)."""
    gold = load_gold(project_id) if _has_gold(project_id) else None
    failures: list[str] = []
    own_tests = own_passed = gold_tests = gold_passed = total_mutants = killed = 0
    if track in ("full", "realize"):
        gold_run = _suite(gold.test if gold else None, database, interface, realize)
        gold_tests, gold_passed = _count(gold_run, "gold tests", failures)
    if track == "full":
        own_tests, own_passed = _count(_suite(tests, database, interface, realize), "own tests", failures)
    if track == "test" and gold is not None:
        own_run = _suite(tests, gold.database, gold.interface, gold.realize)
        own_tests, own_passed = _count(own_run, "own tests", failures)
        if tests is not None and not isinstance(own_run, str):
            total_mutants, killed = mutation_figures(tests, own_run, gold, gold_mutants(project_id))
    return RuntimeFigures(
        track, own_tests, own_passed, gold_tests, gold_passed, total_mutants, killed,
        tuple(failures[:SHOWN_FAILURES]),
    )  # fmt: skip


def _has_gold(project_id: str) -> bool:
    from runner.gold import gold_projects

    return project_id in gold_projects()
