"""Gold answers: for every reference project, the analysis, database, interface and test documents that a
senior engineer would write (`runner/projects/gold/<id>/<phase>.json`, written for lapbench).

They calibrate the rubric (gold scores ≥ 95, see scripts/bench_rubric.py), feed the oracle backend
(`--backend oracle`), and are the controlled inputs of the runtime tracks. Each document passes every
validator; `tests/test_gold.py` keeps it that way.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from runner.errors import ConfigError
from runner.projects import PROJECTS_DIR
from runner.schemas.analyze import AnalyzeDocument
from runner.schemas.checks.realize import RealizeContext, validate_realize
from runner.schemas.context import ValidationContext
from runner.schemas.database import DatabaseDocument
from runner.schemas.interface import InterfaceDocument
from runner.schemas.realize import RealizeDocument
from runner.schemas.testlogic import TestDocument
from runner.schemas.validate import validate_document

GOLD_DIR = PROJECTS_DIR / "gold"
PHASES = ("analyze", "database", "interface", "test")


@dataclass(frozen=True)
class GoldAnswer:
    """One project's gold documents as JSON values (what a model would have sent) and as parsed models."""

    project_id: str
    data: dict[str, Any]
    """phase -> JSON document."""
    analyze: AnalyzeDocument
    database: DatabaseDocument
    interface: InterfaceDocument
    test: TestDocument
    realize: RealizeDocument | None = None
    """The operations' logic (`realize.json`), for the projects that have it yet."""

    def context(self) -> ValidationContext:
        return ValidationContext.from_documents(self.analyze, self.database, self.interface)


def gold_projects(directory: Path = GOLD_DIR) -> list[str]:
    """Ids of the projects that have a gold answer."""
    if not directory.is_dir():
        return []
    return sorted(p.name for p in directory.iterdir() if (p / "analyze.json").is_file())


def read_gold_data(project_id: str, directory: Path = GOLD_DIR) -> dict[str, Any]:
    folder = directory / project_id
    data: dict[str, Any] = {}
    for phase in PHASES:
        path = folder / f"{phase}.json"
        try:
            data[phase] = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(
                f"project {project_id!r} has no gold {phase} document ({path})",
                hint=f"projects with gold answers: {', '.join(gold_projects(directory)) or 'none'}",
            ) from None
        except (OSError, ValueError) as err:
            raise ConfigError(f"gold answer {path} cannot be read: {err}") from None
    realize = folder / "realize.json"
    if realize.is_file():  # optional until every project has its gold realize
        data["realize"] = json.loads(realize.read_text(encoding="utf-8"))
    return data


def validate_gold(project_id: str, data: dict[str, Any]) -> GoldAnswer:
    """Every gold document through the validators, with the context the pipeline gives each phase."""
    analyze = _valid(project_id, "analyze", data["analyze"], None)
    database = _valid(project_id, "database", data["database"], None)
    interface_context = ValidationContext(
        table_names=frozenset(t.name for t in database.tables()),
        actor_names=frozenset(a.name for a in analyze.actors),
    )
    interface = _valid(project_id, "interface", data["interface"], interface_context)
    test = _valid(
        project_id, "test", data["test"], ValidationContext.from_documents(analyze, database, interface)
    )
    realize = None
    if "realize" in data:
        report = validate_realize(data["realize"], RealizeContext.of(analyze, database, interface))
        if not isinstance(report.document, RealizeDocument) or not report.valid:
            first = report.errors[0].one_line()
            raise ConfigError(
                f"gold realize of {project_id} does not validate ({len(report.errors)} errors): {first}"
            )
        realize = report.document
    return GoldAnswer(project_id, data, analyze, database, interface, test, realize)


def _valid(project_id: str, phase: str, data: Any, context: ValidationContext | None) -> Any:
    report = validate_document(phase, data, context)
    if not report.valid:
        first = report.errors[0].one_line()
        raise ConfigError(
            f"gold {phase} of {project_id} does not validate ({len(report.errors)} errors): {first}"
        )
    return report.document


@cache
def load_gold(project_id: str) -> GoldAnswer:
    """The validated gold answer of a built-in project (cached: gold files do not change during a run)."""
    return validate_gold(project_id, read_gold_data(project_id))
