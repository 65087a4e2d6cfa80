"""A defect injector: kinds of damage that keep a gold answer VALID (every validator still passes) but make
it worse, each declared with the rubric axis it hits. The rubric is calibrated with them
(`scripts/bench_rubric.py`): every kind must lower the score, and the score must fall with the number of
defects injected.

A defect is a pure function `(data, rng) -> data | None` over the gold JSON (`phase -> document`); None
means the kind cannot apply to this answer (there is nothing of its sort to damage), never a fake change.
`mutant(project_id, data, k, rng)` applies up to k distinct random kinds. The kinds live in
`runner.gold.defect_kinds` (analysis and database) and `runner.gold.defect_api` (interface and tests).
"""

from __future__ import annotations

import copy
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from runner.gold import validate_gold
from runner.gold.defect_api import API_DEFECTS
from runner.gold.defect_kinds import DATA_DEFECTS

Data = dict[str, Any]
DefectFn = Callable[[Data, random.Random], Data | None]


@dataclass(frozen=True)
class Defect:
    kind: str
    axis: str
    """The rubric axis the defect is meant to lower."""
    description: str
    apply: DefectFn


DEFECTS: dict[str, Defect] = {
    kind: Defect(kind, axis, description, fn) for kind, axis, description, fn in (*DATA_DEFECTS, *API_DEFECTS)
}


def inject(project_id: str, data: Data, kind: str, rng: random.Random) -> Data | None:
    """`data` with one defect of `kind`, checked valid; None when the kind cannot apply. The input is not
    changed. A kind that breaks validity is a bug of the injector: ConfigError names it."""
    mutated = DEFECTS[kind].apply(copy.deepcopy(data), rng)
    if mutated is None:
        return None
    validate_gold(project_id, mutated)
    return mutated


def mutant(project_id: str, data: Data, k: int, rng: random.Random) -> tuple[Data, list[str]]:
    """Up to k distinct random defects applied one after the other (a kind that no longer applies is
    skipped); returns the mutated data and the kinds applied."""
    applied: list[str] = []
    for kind in rng.sample(sorted(DEFECTS), len(DEFECTS)):
        if len(applied) == k:
            break
        mutated = inject(project_id, data, kind, rng)
        if mutated is not None:
            data = mutated
            applied.append(kind)
    return data, applied
