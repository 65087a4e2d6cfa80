"""The total score: the dimensions of all axes added up to a 0-100 score card.

The axes and their points are fixed by `runner.rubric.types.AXIS_POINTS` (v3: analysis 8, database 20,
interface 20, test 20, efficiency 12, runtime 20). An axis without dimensions (its scorer was not run) counts 0, never
a free pass.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from runner.rubric.types import AXIS_POINTS, RUBRIC_VERSION, Dimension


@dataclass(frozen=True)
class ScoreCard:
    score: float
    """0-100."""
    axes: dict[str, float]
    """Axis name -> points earned (every axis of AXIS_POINTS is present)."""
    dimensions: tuple[Dimension, ...]
    rubric_version: str = RUBRIC_VERSION

    def dimension_points(self) -> dict[str, float]:
        """`axis.name` -> points, the flat form stored in run records."""
        return {dimension_key(d): d.points for d in self.dimensions}


def dimension_key(dimension: Dimension) -> str:
    prefix = f"{dimension.axis}."
    return dimension.name if dimension.name.startswith(prefix) else prefix + dimension.name


def total_score(dimensions: Sequence[Dimension]) -> ScoreCard:
    """Add up dimensions into a score card; rejects an axis whose dimensions do not add to its points."""
    by_axis: dict[str, list[Dimension]] = {axis: [] for axis in AXIS_POINTS}
    seen: set[str] = set()
    for dimension in dimensions:
        if dimension.axis not in by_axis:
            raise ValueError(f"dimension {dimension.name!r} is on unknown axis {dimension.axis!r}")
        key = dimension_key(dimension)
        if key in seen:
            raise ValueError(f"dimension {key!r} appears twice")
        seen.add(key)
        by_axis[dimension.axis].append(dimension)
    axes: dict[str, float] = {}
    for axis, members in by_axis.items():
        if members:
            available = math.fsum(d.max_points for d in members)
            if not math.isclose(available, AXIS_POINTS[axis], abs_tol=1e-6):
                raise ValueError(
                    f"axis {axis!r}: dimensions offer {available} points, expected {AXIS_POINTS[axis]}"
                )
        axes[axis] = round(math.fsum(d.points for d in members), 6)
    return ScoreCard(score=round(math.fsum(axes.values()), 6), axes=axes, dimensions=tuple(dimensions))
