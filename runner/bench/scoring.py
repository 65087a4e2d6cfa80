"""From a project's outcome to its score card and per-phase summaries (all pure)."""

from __future__ import annotations

from runner.bench.harness import ToolResult
from runner.bench.pipeline import ProjectOutcome
from runner.bench.record import PhaseSummary
from runner.projects import Project
from runner.rubric.analyze import analysis_coverage
from runner.rubric.database import score_database
from runner.rubric.efficiency import ToolCallStats, score_efficiency
from runner.rubric.interface import score_interface
from runner.rubric.testlogic import score_tests
from runner.rubric.total import ScoreCard, total_score
from runner.schemas.analyze import AnalyzeDocument
from runner.schemas.database import DatabaseDocument
from runner.schemas.interface import InterfaceDocument
from runner.schemas.testlogic import TestDocument


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


def score_outcome(outcome: ProjectOutcome, project: Project) -> ScoreCard:
    docs = {name: phase.document for name, phase in outcome.phases.items()}
    analysis = docs.get("analyze")
    database = docs.get("database")
    interface = docs.get("interface")
    tests = docs.get("test")
    analysis = analysis if isinstance(analysis, AnalyzeDocument) else None
    database = database if isinstance(database, DatabaseDocument) else None
    interface = interface if isinstance(interface, InterfaceDocument) else None
    tests = tests if isinstance(tests, TestDocument) else None
    dimensions = [
        *score_database(database, project.entities),
        *score_interface(interface, database, project.capabilities),
        *score_tests(tests, interface),
        *score_efficiency(
            tool_stats(outcome), analysis_coverage(analysis, project.entities, project.capabilities)
        ),
    ]
    return total_score(dimensions)


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
        )
    return out
