"""The efficiency axis (15 points): how cheaply the harness got valid function calls out of the model.

Input is one `ToolCallStats` per tool call (a call is one part of a phase with its own retry budget;
each attempt is one generation) and the number of parts the run planned. Dimensions:
- first_try_success: tool calls whose first attempt validated;
- retry_economy: 1 - retries used / retries available (a model that never needs feedback scores 1);
- token_economy: generated tokens that ended up in a valid final answer / all generated tokens
  (retries, truncated output and failed calls are waste).
Each is multiplied by the share of the planned work that was done (valid parts / planned parts, the
planned parts including those the pipeline skipped after giving up): a run that stops early is not
efficient, it is unfinished. No tool call at all scores 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from runner.rubric.types import Dimension, scaled_dimensions

WEIGHTS = {"first_try_success": 7.0, "retry_economy": 4.0, "token_economy": 4.0}


@dataclass(frozen=True)
class ToolCallStats:
    phase: str
    attempts: int
    """Generations made (1 + retries)."""
    valid: bool
    """The final attempt validated."""
    generated_tokens: int
    """Over all attempts."""
    final_generated_tokens: int
    """Of the final attempt."""
    max_retries: int


def score_efficiency(call_stats: Sequence[ToolCallStats], planned_parts: int) -> list[Dimension]:
    """`planned_parts`: tool calls the run planned (at least the calls made)."""
    calls = [c for c in call_stats if c.attempts > 0]
    if not calls:
        nothing = (0.0, "no tool calls")
        return scaled_dimensions("efficiency", WEIGHTS, dict.fromkeys(WEIGHTS, nothing))
    planned = max(planned_parts, len(calls))
    valid = sum(1 for c in calls if c.valid)
    done = valid / planned
    work = f" × {valid}/{planned} planned parts done"
    first = sum(1 for c in calls if c.valid and c.attempts == 1)
    retries = sum(c.attempts - 1 for c in calls)
    budget = sum(c.max_retries for c in calls)
    generated = sum(c.generated_tokens for c in calls)
    useful = sum(c.final_generated_tokens for c in calls if c.valid)
    fractions = {
        "first_try_success": (first / len(calls), f"{first}/{len(calls)} tool calls valid on the first try"),
        "retry_economy": (
            1.0 - retries / budget if budget else (1.0 if retries == 0 else 0.0),
            f"{retries} retries of {budget} available",
        ),
        "token_economy": (
            useful / generated if generated else 0.0,
            f"{useful}/{generated} generated tokens in valid answers",
        ),
    }
    return scaled_dimensions(
        "efficiency", WEIGHTS, {name: (f * done, detail + work) for name, (f, detail) in fractions.items()}
    )
