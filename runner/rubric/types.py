"""Shared value types of the rubric: every axis scorer returns a list of `Dimension`s.

The rubric is versioned; every stored score carries `RUBRIC_VERSION` so that scores made under different
rubrics are never compared silently. Axis weights add to 100.

Rules of v2 (v1 gave 57% of the database axis to one empty table):
- nothing to judge scores 0: `Checklist.result` and `over_required` never hand out credit for an empty
  list of checks;
- ratios are taken over what the project asks for: `over_required` averages the required parts that were
  written together with those that were not (each counts 0); parts the project did not ask for only
  cost what their faults cost. Leaving a required part out never raises a ratio, and extra work never
  earns points (it can lose them).
v3 keeps v2's rules and adds the runtime axis (runner.rubric.runtime: the built backend executed against
its own tests, the gold tests or mutants, by track); v2's static axes are scaled by 0.8 to make room.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

RUBRIC_VERSION = "3"

AXIS_POINTS_BY_VERSION: dict[str, dict[str, float]] = {
    "1": {"database": 30.0, "interface": 30.0, "test": 25.0, "efficiency": 15.0},
    "2": {"analysis": 10.0, "database": 25.0, "interface": 25.0, "test": 25.0, "efficiency": 15.0},
    # v3: v2's axes scaled by 0.8, plus the runtime axis (runner.rubric.runtime: the backend executed).
    "3": {
        "analysis": 8.0,
        "database": 20.0,
        "interface": 20.0,
        "test": 20.0,
        "efficiency": 12.0,
        "runtime": 20.0,
    },
}
AXIS_POINTS: dict[str, float] = AXIS_POINTS_BY_VERSION[RUBRIC_VERSION]


def axis_points(version: str) -> dict[str, float]:
    """The axes (and their points) of a rubric version; an unknown version gets the current axes."""
    return AXIS_POINTS_BY_VERSION.get(version, AXIS_POINTS)


@dataclass(frozen=True)
class Dimension:
    """One named, scored aspect of an axis. `fraction` (0..1) of `max_points` was earned."""

    name: str
    axis: str
    max_points: float
    fraction: float
    detail: str

    def __post_init__(self) -> None:
        if not 0.0 <= self.fraction <= 1.0:
            raise ValueError(f"Dimension {self.name!r}: fraction {self.fraction} is outside 0..1")
        if self.max_points < 0:
            raise ValueError(f"Dimension {self.name!r}: max_points {self.max_points} is negative")

    @property
    def points(self) -> float:
        return self.max_points * self.fraction


Result = tuple[float, str]
"""(fraction 0..1, detail) of one dimension."""


def scaled_dimensions(axis: str, weights: dict[str, float], fractions: dict[str, Result]) -> list[Dimension]:
    """Build an axis's dimensions from relative weights, scaled so they add to the axis's points.

    `weights` fixes the order and the relative importance; `fractions` maps each name to (fraction, detail).
    """
    total_weight = sum(weights.values())
    axis_total = AXIS_POINTS[axis]
    out = []
    for name, weight in weights.items():
        fraction, detail = fractions[name]
        clamped = min(1.0, max(0.0, fraction))
        out.append(Dimension(name, axis, axis_total * weight / total_weight, clamped, detail))
    return out


@dataclass
class Checklist:
    """Pass/fail checks of one dimension (or of one part, see `over_required`): the fraction is the share
    passed (partial credit allowed), the detail names the first failures so that a user sees why points
    were lost. No check at all is nothing to judge: fraction 0."""

    label: str
    total: float = 0.0
    passed: float = 0.0
    failures: list[str] | None = None

    def check(self, ok: bool | float, failure: str) -> None:
        credit = float(ok)
        self.total += 1.0
        self.passed += credit
        if credit < 1.0:
            if self.failures is None:
                self.failures = []
            self.failures.append(failure)

    @property
    def fraction(self) -> float:
        return self.passed / self.total if self.total else 0.0

    @property
    def part_fraction(self) -> float:
        """The score of one part (a table, an operation, a test function): it falls with the number of
        its faults, 1 / (1 + faults), not with the share of checks passed, so that a part with many
        checks (a table of twenty columns) does not hide a fault that a small one would show."""
        if not self.total:
            return 0.0
        return min(self.fraction, 1.0 / (1.0 + self.total - self.passed))

    def result(self, shown: int = 3) -> Result:
        if self.total == 0:
            return 0.0, f"no {self.label} to check"
        detail = f"{self.passed:g}/{self.total:g} {self.label} ok"
        return self.fraction, detail + failure_text(self.failures or [], shown)


def failure_text(failures: Sequence[str], shown: int = 3) -> str:
    if not failures:
        return ""
    more = len(failures) - shown
    return "; " + "; ".join(failures[:shown]) + (f"; +{more} more" if more > 0 else "")


def over_required(
    parts: Sequence[Checklist], missing: Sequence[str], what: str, extra: Sequence[Checklist] = ()
) -> Result:
    """The mean score (`Checklist.part_fraction`) of the required parts written (tables, operations, test
    functions that stand for what the project asks for and have something to check) and of the required
    parts missing (0 each), less what the extra parts' faults cost (1 - part_fraction each, on the same
    scale as a required part): work the project did not ask for can cost points but never earn them (a
    faulty extra part averaged in would raise the mean of worse required parts). Nothing to judge: 0."""
    judged = [p for p in parts if p.total > 0]
    faulty = [p for p in extra if p.total > 0 and p.fraction < 1.0]
    count = len(judged) + len(missing)
    if count == 0:
        return 0.0, f"no {what} to judge"
    cost = sum(1.0 - p.part_fraction for p in faulty)
    fraction = max(0.0, (sum(p.part_fraction for p in judged) - cost) / count)
    failures = [f for p in (*judged, *faulty) for f in (p.failures or [])]
    failures += [f"no {what} for required {m}" for m in missing]
    good = sum(1 for p in judged if p.fraction >= 1.0)
    detail = f"{good}/{count} {what} without fault"
    if missing:
        detail += f" ({len(missing)} required missing)"
    if faulty:
        detail += f" ({len(faulty)} other {what} with faults)"
    return fraction, detail + failure_text(failures)


def gate_dimensions(axis: str, weights: dict[str, float], reason: str) -> list[Dimension]:
    """A failed gate: every dimension of the axis at 0, the reason repeated in each detail."""
    return scaled_dimensions(axis, weights, {name: (0.0, f"gate failed: {reason}") for name in weights})
