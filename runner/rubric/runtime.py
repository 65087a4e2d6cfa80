"""The runtime axis (rubric v3): what the backend a model built does when it runs (runner.execute).

Inputs are counts (`RuntimeFigures`) from `runner.run.runtime`, which executes test documents against
realize documents over SQLite. Dimensions depend on the track (what the model wrote):
- full (all five phases): `own_tests_passed`, the model's test functions that pass against its own
  backend, and `gold_tests_passed`, the project's gold test functions that pass against it (they call
  the gold endpoints, so an API that differs from the gold one fails them: the gold tests judge the
  behaviour the requirements ask for);
- realize (the logic, for the gold database and interface): `gold_tests_passed`;
- test (tests for the gold database and interface): `own_tests_passed` against the gold realize, and
  `mutation_score`, the share of the gold realize's mutants (runner.execute.bugs) that the model's tests
  kill (see `runner.run.runtime.mutation_figures` for the exact rule).
Nothing ran (no tests, no backend, no mutants): 0, never full marks.
"""

from __future__ import annotations

from dataclasses import dataclass

from runner.rubric.types import Dimension, Result, scaled_dimensions

AXIS = "runtime"
WEIGHTS_BY_TRACK: dict[str, dict[str, float]] = {
    "full": {"own_tests_passed": 1.0, "gold_tests_passed": 1.0},
    "realize": {"gold_tests_passed": 1.0},
    "test": {"own_tests_passed": 1.0, "mutation_score": 1.0},
}
TRACKS = tuple(WEIGHTS_BY_TRACK)


@dataclass(frozen=True)
class RuntimeFigures:
    """What ran and what passed, for one project. Zero counts: nothing of that kind ran."""

    track: str = "full"
    own_tests: int = 0
    """Test functions of the model's tests that ran."""
    own_passed: int = 0
    gold_tests: int = 0
    """Gold test functions that ran against the model's realize."""
    gold_passed: int = 0
    mutants: int = 0
    """Mutants of the gold realize the model's tests ran against (test track)."""
    killed: int = 0
    failures: tuple[str, ...] = ()
    """The first failures, one line each (function, statement path, reason)."""


def _ratio(passed: int, total: int, what: str) -> Result:
    if total == 0:
        return 0.0, f"no {what} ran"
    return passed / total, f"{passed}/{total} {what}"


def score_runtime(figures: RuntimeFigures | None, track: str = "full") -> list[Dimension]:
    """The runtime axis's dimensions for `track`; `figures` None: nothing was executed (0)."""
    weights = WEIGHTS_BY_TRACK[track]
    if figures is None:
        return scaled_dimensions(AXIS, weights, dict.fromkeys(weights, (0.0, "nothing was executed")))
    fails = f"; first failure: {figures.failures[0]}" if figures.failures else ""
    own = _ratio(figures.own_passed, figures.own_tests, "own test functions passed")
    fractions: dict[str, Result] = {
        "own_tests_passed": (own[0], own[1] + (fails if figures.own_passed < figures.own_tests else "")),
        "gold_tests_passed": _ratio(figures.gold_passed, figures.gold_tests, "gold test functions passed"),
        "mutation_score": _ratio(figures.killed, figures.mutants, "mutants killed"),
    }
    return scaled_dimensions(AXIS, weights, {name: fractions[name] for name in weights})
