"""From a project's outcome to its score card and per-phase summaries (all pure).

One code path scores everything: a run's outcome (`score_outcome`) and static documents such as the gold
answers or their mutants (`score_static`, as if a perfect run had produced them: every planned part valid
on the first try, the tool-call statistics the oracle run gives) both end in `score_documents`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pydantic import BaseModel

from runner.projects import Project
from runner.rubric.analyze import score_analysis
from runner.rubric.database import score_database
from runner.rubric.efficiency import ToolCallStats, score_efficiency
from runner.rubric.interface import score_interface
from runner.rubric.runtime import RuntimeFigures, score_runtime
from runner.rubric.testlogic import score_tests
from runner.rubric.total import ScoreCard, total_score
from runner.run.config import RunConfig
from runner.run.harness import ToolResult
from runner.run.pipeline import ProjectOutcome
from runner.run.record import PHASE_NAMES, PhaseSummary
from runner.run.runtime import execute_project
from runner.run.tracks import TRACK_PHASES
from runner.schemas.analyze import AnalyzeDocument
from runner.schemas.database import DatabaseDocument
from runner.schemas.interface import InterfaceDocument
from runner.schemas.realize import RealizeDocument
from runner.schemas.testlogic import TestDocument

DEFAULT_RETRIES = int(RunConfig.model_fields["retries"].default)


@dataclass(frozen=True)
class Documents:
    """The final documents of a project's phases; None where a phase produced no valid document."""

    analyze: AnalyzeDocument | None = None
    database: DatabaseDocument | None = None
    interface: InterfaceDocument | None = None
    test: TestDocument | None = None
    realize: RealizeDocument | None = None

    @classmethod
    def of(cls, docs: Mapping[str, BaseModel | None]) -> Documents:
        a, d, i, t, r = (docs.get(p) for p in PHASE_NAMES)
        return cls(
            a if isinstance(a, AnalyzeDocument) else None,
            d if isinstance(d, DatabaseDocument) else None,
            i if isinstance(i, InterfaceDocument) else None,
            t if isinstance(t, TestDocument) else None,
            r if isinstance(r, RealizeDocument) else None,
        )


def _generated(result: ToolResult, final_only: bool = False) -> int:
    attempts = result.attempts[-1:] if final_only else result.attempts
    return sum(int(a.measures.get("generated_tokens") or 0) for a in attempts)


def tool_stats(outcome: ProjectOutcome) -> list[ToolCallStats]:
    return [
        ToolCallStats(
            phase=phase.phase,
            attempts=len(result.attempts),
            valid=result.valid,
            generated_tokens=_generated(result),
            final_generated_tokens=_generated(result, final_only=True),
            max_retries=result.max_retries,
        )
        for phase in outcome.phases.values()
        for result in phase.results
    ]


def planned_parts(planned: Mapping[str, int], project: Project, track: str = "full") -> int:
    """Tool calls the work needed: what the run planned per phase (skipped parts included), and never
    less than the project asks for (a table per required entity, the endpoint plan plus an operation
    per required capability, one call for the analysis and for the tests, the logic of an operation
    per required capability), so planning less is no shortcut. Only the phases of the track count."""
    floors = {
        "analyze": 1,
        "database": len(project.entities),
        "interface": 1 + len(project.capabilities),
        "test": 1,
        "realize": len(project.capabilities),
    }
    phases = TRACK_PHASES[track]
    return sum(max(planned.get(phase, 0), floor) for phase, floor in floors.items() if phase in phases)


def score_documents(
    docs: Documents,
    project: Project,
    stats: Sequence[ToolCallStats],
    planned: Mapping[str, int],
    runtime: RuntimeFigures | None = None,
    track: str = "full",
) -> ScoreCard:
    """The score card; in a controlled track only what the model wrote is scored (the axes of the gold
    documents it was given earn nothing: they are not its work)."""
    written = TRACK_PHASES[track]
    dimensions = [
        *(
            score_analysis(docs.analyze, project.entities, project.capabilities)
            if "analyze" in written
            else []
        ),
        *(score_database(docs.database, project.entities) if "database" in written else []),
        *(
            score_interface(docs.interface, docs.database, project.capabilities)
            if "interface" in written
            else []
        ),
        *(score_tests(docs.test, docs.interface, project.capabilities) if "test" in written else []),
        *score_runtime(runtime, track),
        *score_efficiency(stats, planned_parts(planned, project, track)),
    ]
    return total_score(dimensions)


def outcome_documents(outcome: ProjectOutcome) -> Documents:
    """The model's documents plus the gold ones a controlled track gave it."""
    written = {name: phase.document for name, phase in outcome.phases.items()}
    return Documents.of({**outcome.given, **{k: v for k, v in written.items() if v is not None}})


def execute_outcome(outcome: ProjectOutcome) -> RuntimeFigures:
    """Run the backend the outcome's documents make (runner.run.runtime)."""
    docs = outcome_documents(outcome)
    return execute_project(
        outcome.track,
        outcome.project.id,
        tests=docs.test,
        database=docs.database,
        interface=docs.interface,
        realize=docs.realize,
    )


def score_outcome(
    outcome: ProjectOutcome, project: Project, runtime: RuntimeFigures | None = None
) -> ScoreCard:
    """`runtime`: the execution's figures (`execute_outcome`); None scores the runtime axis 0."""
    planned = {name: max(phase.planned, len(phase.results)) for name, phase in outcome.phases.items()}
    docs = outcome_documents(outcome)
    return score_documents(docs, project, tool_stats(outcome), planned, runtime, outcome.track)


def _parts(docs: Documents, data: Mapping[str, object]) -> dict[str, list[object]]:
    """The tool-call answers the pipeline asks for: the analysis, one table each, the endpoint plan and one
    operation each, one test function each, the logic of each operation."""

    def items(phase: str, *keys: str) -> list[object]:
        node = data.get(phase)
        for key in keys:
            node = node.get(key, []) if isinstance(node, dict) else []
        return list(node) if isinstance(node, list) else []

    tables = [t for f in items("database", "files") if isinstance(f, dict) for t in f.get("tables", [])]
    return {
        "analyze": [data.get("analyze")] if docs.analyze else [],
        "database": tables if docs.database else [],
        "interface": [{"plan": True}, *items("interface", "operations")] if docs.interface else [],
        "test": items("test", "functions") if docs.test else [],
        "realize": items("realize", "operations") if docs.realize else [],
    }


def perfect_run(docs: Documents, data: Mapping[str, object]) -> tuple[list[ToolCallStats], dict[str, int]]:
    """The tool-call statistics and planned parts of a run that wrote `docs` with every part valid on
    the first try (what the oracle backend gives): one attempt per part, all of its tokens useful."""
    stats, planned = [], {}
    for phase, parts in _parts(docs, data).items():
        planned[phase] = len(parts)
        for part in parts:
            tokens = max(1, len(json.dumps(part)) // 4)
            stats.append(ToolCallStats(phase, 1, True, tokens, tokens, DEFAULT_RETRIES))
    return stats, planned


def score_static(data: Mapping[str, object], docs: Documents, project: Project) -> ScoreCard:
    """Score documents as if a perfect run had produced them (gold answers, their mutants), their
    backend executed as in the full track."""
    stats, planned = perfect_run(docs, data)
    return score_documents(docs, project, stats, planned, _static_runtime(docs, project.id), "full")


_STATIC_RUNTIME: dict[str, RuntimeFigures] = {}


def _static_runtime(docs: Documents, project_id: str) -> RuntimeFigures:
    """Executions are deterministic (seeded), and calibration scores many mutants that leave the
    executed documents alone (a defect in the analysis): each distinct set is executed once."""
    parts = (docs.test, docs.database, docs.interface, docs.realize)
    digest = hashlib.sha256(project_id.encode())
    for part in parts:
        digest.update(b"\0" + (part.model_dump_json(by_alias=True).encode() if part else b""))
    key = digest.hexdigest()
    if key not in _STATIC_RUNTIME:
        _STATIC_RUNTIME[key] = execute_project(
            "full", project_id, tests=docs.test, database=docs.database, interface=docs.interface,
            realize=docs.realize,
        )  # fmt: skip
    return _STATIC_RUNTIME[key]


def phase_summaries(outcome: ProjectOutcome) -> dict[str, PhaseSummary]:
    out = {}
    for name, phase in outcome.phases.items():
        attempts = [a for r in phase.results for a in r.attempts]
        tokens = sum(
            int(a.measures.get("prompt_tokens_evaluated") or 0) + int(a.measures.get("generated_tokens") or 0)
            for a in attempts
        )
        out[name] = PhaseSummary(
            status=phase.status,
            calls=len(attempts),
            retries=sum(r.retries for r in phase.results),
            first_try_successes=sum(1 for r in phase.results if r.first_try),
            tokens=tokens,
            parts=len(phase.results),
            parts_valid=sum(1 for r in phase.results if r.valid),
            overflows=sum(1 for r in phase.results if r.overflowed),
        )
    return out
