"""The lapbench rubric: pure, deterministic scorers, one module per axis (see `types` for the shared value
types and the rubric version)."""

from __future__ import annotations

from runner.rubric.types import AXIS_POINTS, RUBRIC_VERSION, Dimension

__all__ = ["AXIS_POINTS", "RUBRIC_VERSION", "Dimension"]
