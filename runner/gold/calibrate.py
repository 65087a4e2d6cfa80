"""Scoring a gold answer, or a mutant of it, the way the rubric is calibrated (`scripts/bench_rubric.py`,
tests/test_rubric_v2.py, tests/test_defects.py): one place, so that the script and the tests measure the
same thing.

Documents are scored as if a perfect run had written them (`runner.run.scoring.perfect_run`, the code path
of `lapbench run`), on the static axes: every axis but runtime, out of 100. The runtime axis executes the
project's logic (`realize`), which the injector does not make follow its defects (a table renamed in the
database fails every test at runtime whatever its quality as a design); `scripts/bench_runtime.py`
calibrates that axis. The gold logic of the operations the answer still has counts as written, so that
efficiency sees the planned work done.
"""

from __future__ import annotations

from typing import Any

from runner.gold import load_gold, validate_gold
from runner.projects import Project
from runner.rubric.total import ScoreCard
from runner.rubric.types import AXIS_POINTS
from runner.run.scoring import Documents, perfect_run, score_documents

STATIC_AXES = {axis: points for axis, points in AXIS_POINTS.items() if axis != "runtime"}


def with_requirements(project: Project) -> dict[str, Any]:
    """The project's gold data plus its requirements, which the defects aim at; without the logic
    (`static_card` counts the gold logic of the operations an answer has)."""
    requirements = {"entities": project.entities, "capabilities": project.capabilities}
    data = {k: v for k, v in load_gold(project.id).data.items() if k != "realize"}
    return {**data, "requirements": requirements}


def static_card(project: Project, data: dict[str, Any], docs: Documents | None = None) -> ScoreCard:
    """The score card of `data` with runtime at 0; `docs`: its documents, else `data` validated (a
    ConfigError names the first error)."""
    if docs is None:
        gold = validate_gold(project.id, data)
        docs = Documents(gold.analyze, gold.database, gold.interface, gold.test)
    ops = {(op["method"], op["path"]) for op in data["interface"]["operations"]}
    logic = load_gold(project.id).data.get("realize", {"operations": []})
    written = {"operations": [op for op in logic["operations"] if (op["method"], op["path"]) in ops]}
    realize = load_gold(project.id).realize if written["operations"] else None
    docs = Documents(docs.analyze, docs.database, docs.interface, docs.test, realize)
    stats, planned = perfect_run(docs, {**data, "realize": written})
    return score_documents(docs, project, stats, planned, runtime=None)


def static_points(card: ScoreCard) -> float:
    """The static axes' points out of 100."""
    return round(100.0 * sum(card.axes[a] for a in STATIC_AXES) / sum(STATIC_AXES.values()), 6)


def axis_share(card: ScoreCard, axis: str) -> float:
    """An axis's points on the scale of `static_points`."""
    return 100.0 * card.axes[axis] / sum(STATIC_AXES.values())
