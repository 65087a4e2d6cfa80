"""Bootstrap over projects and repeats: is the difference between two runs bigger than their noise?

Resampling is hierarchical — projects with replacement, then each run's repeats within each drawn project
— so that both the choice of projects and the seed-to-seed variation count. The generator has a fixed
seed, so the same runs always give the same verdict.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from runner.run.record import ProjectResult

Value = Callable[[ProjectResult], float]


@dataclass(frozen=True)
class Difference:
    """a - b with a 95% bootstrap interval; `significant` when the interval excludes 0."""

    a: float
    b: float
    low: float
    high: float
    significant: bool
    samples: int
    reason: str = ""

    @property
    def diff(self) -> float:
        return self.a - self.b


def _by_project(results: Sequence[ProjectResult], value: Value) -> dict[str, np.ndarray]:
    groups: dict[str, list[float]] = {}
    for r in results:
        groups.setdefault(r.project, []).append(value(r))
    return {k: np.asarray(v, dtype=float) for k, v in groups.items()}


def _mean(groups: dict[str, np.ndarray], projects: Sequence[str]) -> float:
    return float(np.mean([groups[p].mean() for p in projects])) if projects else 0.0


def _resampled(
    groups: dict[str, np.ndarray], projects: Sequence[str], drawn: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Per bootstrap sample: the mean over the drawn projects of each project's resampled repeat mean."""
    samples = drawn.shape[0]
    per_project = np.column_stack(
        [rng.choice(groups[p], size=(samples, len(groups[p])), replace=True).mean(axis=1) for p in projects]
    )
    return np.asarray(per_project[np.arange(samples)[:, None], drawn].mean(axis=1))


def bootstrap_difference(
    a: Sequence[ProjectResult], b: Sequence[ProjectResult], value: Value, samples: int = 2000, seed: int = 0
) -> Difference:
    ga, gb = _by_project(a, value), _by_project(b, value)
    common = sorted(set(ga) & set(gb))
    # Runs on different projects are compared on the projects they share; without any, on their own.
    pa = common or sorted(ga)
    pb = common or sorted(gb)
    mean_a, mean_b = _mean(ga, pa), _mean(gb, pb)
    n_a = sum(len(ga[p]) for p in pa)
    n_b = sum(len(gb[p]) for p in pb)
    if n_a < 2 or n_b < 2:
        return Difference(mean_a, mean_b, mean_a - mean_b, mean_a - mean_b, False, 0,
                          "one sample per run: no interval")  # fmt: skip
    rng = np.random.default_rng(seed)
    if common:
        drawn = rng.integers(0, len(common), size=(samples, len(common)))
        diffs = _resampled(ga, common, drawn, rng) - _resampled(gb, common, drawn, rng)
    else:
        diffs = _resampled(ga, pa, rng.integers(0, len(pa), size=(samples, len(pa))), rng) - _resampled(
            gb, pb, rng.integers(0, len(pb), size=(samples, len(pb))), rng
        )
    low, high = (float(x) for x in np.percentile(diffs, [2.5, 97.5]))
    significant = low > 0 or high < 0
    return Difference(mean_a, mean_b, low, high, significant, samples)
