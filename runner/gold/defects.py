"""A defect injector: kinds of damage that keep a gold answer VALID (every validator still passes) but make
it worse, each declared with the rubric axis it hits. The rubric is calibrated with them
(`scripts/bench_rubric.py`): every kind must lower the score, and the score must fall with the number of
defects injected.

A defect is a pure function `(data, rng) -> data | None` over the gold JSON (`phase -> document`); None
means the kind cannot apply to this answer (there is nothing of its sort to damage), never a fake change.
`mutant(project_id, data, k, rng)` applies up to k distinct random kinds. The kinds live in
`runner.gold.defect_kinds` (analysis and database), `runner.gold.defect_api` (interface) and
`runner.gold.defect_tests` (tests).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from runner.errors import ConfigError
from runner.gold import validate_gold
from runner.gold.defect_api import API_DEFECTS
from runner.gold.defect_kinds import DATA_DEFECTS, keep_table
from runner.gold.defect_tests import TEST_DEFECTS, keep_operation

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
    kind: Defect(kind, axis, description, fn)
    for kind, axis, description, fn in (*DATA_DEFECTS, *API_DEFECTS, *TEST_DEFECTS)
}


def inject(project_id: str, data: Data, kind: str, rng: random.Random, *, check: bool = True) -> Data | None:
    """`data` with one defect of `kind`, checked valid (unless `check` is False); None when the kind cannot
    apply. The input is not changed. A kind that breaks validity is a bug of the injector: ConfigError
    names it."""
    # The operations' logic (realize) is not scored by the rubric and would have to follow every change.
    scored = {key: value for key, value in data.items() if key != "realize"}
    mutated = DEFECTS[kind].apply(json_copy(scored), rng)
    if mutated is not None and check:
        validate_gold(project_id, mutated)
    return mutated


def mutant(project_id: str, data: Data, k: int, rng: random.Random) -> tuple[Data, list[str]]:
    """Up to k distinct random defects applied one after the other (a kind that no longer applies is
    skipped); returns the mutated data, checked valid once at the end, and the kinds applied."""
    applied: list[str] = []
    for kind in rng.sample(sorted(DEFECTS), len(DEFECTS)):
        if len(applied) == k:
            break
        mutated = inject(project_id, data, kind, rng, check=False)
        if mutated is not None:
            data = mutated
            applied.append(kind)
    try:
        validate_gold(project_id, data)
    except ConfigError as err:
        raise ConfigError(f"defects {applied} together broke the answer: {err.message}") from None
    return data, applied


def json_copy(value: Any) -> Any:
    """A deep copy of a JSON value (dicts, lists, scalars; tuples are immutable and kept): a calibration
    copies the answer once per injection, and `copy.deepcopy` spent most of the time on its memo."""
    if isinstance(value, dict):
        return {k: json_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [json_copy(v) for v in value]
    return value


def minimal_answer(project_id: str, data: Data) -> Data:
    """The smallest valid answer cut from a gold answer: one actor, entity and feature, one table (the
    one the first operation works on, without its foreign keys), that operation with the components it
    needs, and one test function that calls only it. A baseline that must score low."""
    out = json_copy({key: value for key, value in data.items() if key != "realize"})
    feature = out["analyze"]["features"][0]
    out["analyze"]["actors"] = [a for a in out["analyze"]["actors"] if a["name"] == feature["actor"]]
    out["analyze"]["features"] = [feature]
    out["analyze"]["rules"] = []
    keep_operation(out, 0)
    keep_table(out)
    validate_gold(project_id, out)
    return out
