"""From a project's outcome to its score card and per-phase summaries (all pure).

One code path scores everything: a run's outcome (`score_outcome`) and static documents such as the gold
answers or their mutants (`score_static`, as if a perfect run had produced them: every planned part valid
on the first try, the tool-call statistics the oracle run gives) both end in `score_documents`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pydantic import BaseModel

from runner.projects import Project
from runner.rubric.analyze import score_analysis
from runner.rubric.database import score_database
from runner.rubric.efficiency import ToolCallStats, score_efficiency
from runner.rubric.interface import score_interface
from runner.rubric.testlogic import score_tests
from runner.rubric.total import ScoreCard, total_score
from runner.run.config import RunConfig
from runner.run.harness import ToolResult
from runner.run.pipeline import ProjectOutcome
from runner.run.record import PHASE_NAMES, PhaseSummary
from runner.schemas.analyze import AnalyzeDocument
from runner.schemas.database import DatabaseDocument
from runner.schemas.interface import InterfaceDocument
from runner.schemas.testlogic import TestDocument

DEFAULT_RETRIES = int(RunConfig.model_fields["retries"].default)


@dataclass(frozen=True)
class Documents:
    """The final documents of a project's phases; None where a phase produced no valid document."""

    analyze: AnalyzeDocument | None = None
    database: DatabaseDocument | None = None
    interface: InterfaceDocument | None = None
    test: TestDocument | None = None

    @classmethod
    def of(cls, docs: Mapping[str, BaseModel | None]) -> Documents:
        a, d, i, t = (docs.get(p) for p in PHASE_NAMES)
        return cls(
            a if isinstance(a, AnalyzeDocument) else None,
            d if isinstance(d, DatabaseDocument) else None,
            i if isinstance(i, InterfaceDocument) else None,
            t if isinstance(t, TestDocument) else None,
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


def planned_parts(planned: Mapping[str, int], project: Project) -> int:
    """Tool calls the work needed: what the run planned per phase (skipped parts included), and never
    less than the project asks for (a table per required entity, the endpoint plan plus an operation
    per required capability, one call for the analysis and for the tests), so planning less is no
    shortcut."""
    floors = {
        "analyze": 1,
        "database": len(project.entities),
        "interface": 1 + len(project.capabilities),
        "test": 1,
    }
    return sum(max(planned.get(phase, 0), floor) for phase, floor in floors.items())


def score_documents(
    docs: Documents, project: Project, stats: Sequence[ToolCallStats], planned: Mapping[str, int]
) -> ScoreCard:
    dimensions = [
        *score_analysis(docs.analyze, project.entities, project.capabilities),
        *score_database(docs.database, project.entities),
        *score_interface(docs.interface, docs.database, project.capabilities),
        *score_tests(docs.test, docs.interface, project.capabilities),
        *score_efficiency(stats, planned_parts(planned, project)),
    ]
    return total_score(dimensions)


def score_outcome(outcome: ProjectOutcome, project: Project) -> ScoreCard:
    docs = Documents.of({name: phase.document for name, phase in outcome.phases.items()})
    planned = {name: max(phase.planned, len(phase.results)) for name, phase in outcome.phases.items()}
    return score_documents(docs, project, tool_stats(outcome), planned)


def _parts(docs: Documents, data: Mapping[str, object]) -> dict[str, list[object]]:
    """The tool-call answers the pipeline asks for: the analysis, one table each, the endpoint plan and one
    operation each, one test function each."""

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
    """Score documents as if a perfect run had produced them (gold answers, their mutants)."""
    stats, planned = perfect_run(docs, data)
    return score_documents(docs, project, stats, planned)


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
