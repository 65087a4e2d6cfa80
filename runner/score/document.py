"""`lapbench score FILE`: validate one AST document and score it on its phase's axis.

The phase is detected from the top-level keys (actors → analyze, files → database, operations →
interface, functions → test) unless given. Coverage dimensions need the project (`--project`); an
interface is scored against a database document when one is given, tests against an interface.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from runner.errors import ConfigError
from runner.projects import Project, builtin_projects, load_project_file
from runner.rubric.analyze import score_analysis
from runner.rubric.database import score_database
from runner.rubric.interface import score_interface
from runner.rubric.testlogic import score_tests
from runner.rubric.types import Dimension
from runner.schemas.analyze import AnalyzeDocument
from runner.schemas.context import ValidationContext
from runner.schemas.database import DatabaseDocument
from runner.schemas.interface import InterfaceDocument
from runner.schemas.testlogic import TestDocument
from runner.schemas.validate import validate_document

DETECT_KEYS = {"actors": "analyze", "files": "database", "operations": "interface", "functions": "test"}


@dataclass(frozen=True)
class FileScore:
    phase: str
    valid: bool
    feedback: str
    errors: list[dict[str, Any]]
    dimensions: list[Dimension]

    @property
    def points(self) -> float:
        return sum(d.points for d in self.dimensions)

    @property
    def max_points(self) -> float:
        return sum(d.max_points for d in self.dimensions)

    def as_json(self) -> dict[str, Any]:
        return {
            "phase": self.phase,
            "valid": self.valid,
            "points": round(self.points, 3),
            "max_points": self.max_points,
            "dimensions": {
                d.name: {"points": round(d.points, 3), "max_points": d.max_points, "detail": d.detail}
                for d in self.dimensions
            },
            "errors": self.errors,
        }


def read_json(path: Path) -> Any:
    try:
        return json.loads(Path(path).expanduser().read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path} does not exist") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ConfigError(f"{path} is not a readable JSON document: {err}") from None


def is_autobe(path: Path) -> bool:
    """A folder of AutoBe outputs, or a file in AutoBe's own format (prisma.json / document.json)."""
    from runner.autobe import autobe_kind

    return Path(path).is_dir() or autobe_kind(read_json(path)) is not None


def detect_phase(data: Any, path: Path) -> str:
    if isinstance(data, dict):
        for key, phase in DETECT_KEYS.items():
            if key in data:
                return phase
    raise ConfigError(
        f"cannot tell which phase {path} belongs to (expected a top-level key: {', '.join(DETECT_KEYS)})",
        hint="pass --phase analyze|database|interface|test",
    )


def _project(value: str | None) -> Project | None:
    if value is None:
        return None
    projects = builtin_projects()
    return projects[value] if value in projects else load_project_file(value)


def _side_document(path: Path | None, phase: str) -> BaseModel | None:
    if path is None:
        return None
    report = validate_document(phase, read_json(path))
    if not report.valid:
        raise ConfigError(f"{path} is not a valid {phase} document: {report.errors[0].one_line()}")
    return report.document


def score_file(
    path: Path,
    *,
    phase: str | None = None,
    project: str | None = None,
    database: Path | None = None,
    interface: Path | None = None,
) -> FileScore:
    data = read_json(path)
    phase = phase or detect_phase(data, path)
    if phase not in DETECT_KEYS.values():
        raise ConfigError(f"unknown phase {phase!r}", hint="use analyze, database, interface or test")
    spec = _project(project)
    database_doc = _side_document(database, "database")
    interface_doc = _side_document(interface, "interface")
    context = ValidationContext.from_documents(
        database=database_doc if isinstance(database_doc, DatabaseDocument) else None,
        interface=interface_doc if isinstance(interface_doc, InterfaceDocument) else None,
    )
    report = validate_document(phase, data, context)
    doc = report.document if report.valid else None
    entities = spec.entities if spec else []
    capabilities = spec.capabilities if spec else []
    if phase == "analyze":
        dims = score_analysis(doc if isinstance(doc, AnalyzeDocument) else None, entities, capabilities)
    elif phase == "database":
        dims = score_database(doc if isinstance(doc, DatabaseDocument) else None, entities)
    elif phase == "interface":
        db = database_doc if isinstance(database_doc, DatabaseDocument) else None
        dims = score_interface(
            doc if isinstance(doc, InterfaceDocument) else None,
            db,
            capabilities,
            dto_reference=database is not None,
        )
    else:
        api = interface_doc if isinstance(interface_doc, InterfaceDocument) else None
        dims = score_tests(doc if isinstance(doc, TestDocument) else None, api, capabilities)
    return FileScore(
        phase=phase,
        valid=report.valid,
        feedback=report.feedback_text(),
        errors=[e.as_json() for e in report.errors],
        dimensions=dims,
    )
