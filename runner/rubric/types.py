"""Shared value types of the rubric: every axis scorer returns a list of `Dimension`s.

The rubric is versioned; every stored score carries `RUBRIC_VERSION` so that scores made under different
rubrics are never compared silently. Axis weights add to 100.
"""

from __future__ import annotations

from dataclasses import dataclass

RUBRIC_VERSION = "1"

AXIS_POINTS: dict[str, float] = {"database": 30.0, "interface": 30.0, "test": 25.0, "efficiency": 15.0}


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


def axis_points(dimensions: list[Dimension], axis: str) -> float:
    """Points earned on one axis (sum over its dimensions)."""
    return sum(d.points for d in dimensions if d.axis == axis)


def scaled_dimensions(
    axis: str, weights: dict[str, float], fractions: dict[str, tuple[float, str]]
) -> list[Dimension]:
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
    """Pass/fail checks of one dimension: the fraction is the share passed (partial credit allowed), the
    detail names the first failures so that a user sees why points were lost."""

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

    def result(self, empty_fraction: float = 1.0, shown: int = 3) -> tuple[float, str]:
        if self.total == 0:
            return empty_fraction, f"no {self.label} to check"
        fraction = self.passed / self.total
        detail = f"{self.passed:g}/{self.total:g} {self.label} ok"
        if self.failures:
            more = len(self.failures) - shown
            detail += "; " + "; ".join(self.failures[:shown]) + (f"; +{more} more" if more > 0 else "")
        return fraction, detail


def gate_dimensions(axis: str, weights: dict[str, float], reason: str) -> list[Dimension]:
    """A failed gate: every dimension of the axis at 0, the reason repeated in each detail."""
    return scaled_dimensions(axis, weights, {name: (0.0, f"gate failed: {reason}") for name in weights})
