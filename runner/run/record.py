"""The result record of a run (what `lapbench run --json` prints and `ResultsStore.load_run` returns),
and the value types the pipeline hands to the store.

Records are pydantic models (they are read back from SQLite and printed as JSON); a call attempt is a
frozen dataclass because the harness makes many of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from runner.profiler.profile import CALL_COLUMNS

PhaseStatus = Literal["ok", "failed", "partial", "skipped"]
RunStatus = Literal["running", "interrupted", "finished", "failed"]
PHASE_NAMES = ("analyze", "database", "interface", "test", "realize")

PROFILER_COLUMNS = CALL_COLUMNS  # the profiler defines the per-call measurement columns
"""Per-call measurement columns shared with the profiler (contract); None where not measured."""


@dataclass(frozen=True)
class CallAttempt:
    """One generation and its validation. `key` is deterministic, so a resumed run finds it again."""

    key: str
    repeat: int
    project: str
    phase: str
    part: str
    attempt: int
    """0 for the first try; n for the n-th retry after feedback."""
    prompt: str
    """The request's messages as JSON (what the model saw)."""
    raw_output: str
    valid: bool
    errors: tuple[dict[str, Any], ...]
    feedback: str
    finish_reason: str
    constrained: bool
    engine: str | None
    schema_hash: str
    wall_seconds: float
    grammar: str = "schema"
    """"narrowed" (the schema narrowed by what the run knew, runner.run.narrow), "schema" (the plain tool
    schema; every call stored before narrowing existed) or "none" (free mode: nothing constrained)."""
    parsed_json: str | None = None
    """The validated arguments (JSON) when `valid`."""
    measures: dict[str, float | int | None] = field(default_factory=dict)
    """Profiler columns (see PROFILER_COLUMNS)."""


class PhaseSummary(BaseModel):
    status: PhaseStatus
    calls: int = Field(description="generations made (first tries and retries)")
    retries: int
    first_try_successes: int
    tokens: int = Field(description="prompt tokens evaluated plus generated tokens")
    parts: int = Field(0, description="tool calls (each with its own retry budget)")
    parts_valid: int = 0
    overflows: int = Field(0, description="tool calls whose prompt did not fit the context (never sent)")


class Interval(BaseModel):
    """Mean with a 95% confidence interval (t-distribution); half_width is None for a single sample."""

    mean: float
    half_width: float | None = None
    n: int = 1

    @property
    def low(self) -> float:
        return self.mean - (self.half_width or 0.0)

    @property
    def high(self) -> float:
        return self.mean + (self.half_width or 0.0)


class RuntimeResult(BaseModel):
    """What ran when the project's backend was executed (runner.run.runtime; the runtime axis)."""

    track: str = "full"
    own_tests: int = Field(0, description="the model's test functions run")
    own_passed: int = 0
    gold_tests: int = Field(0, description="gold test functions run against the model's realize")
    gold_passed: int = 0
    mutants: int = Field(0, description="mutants of the gold realize run against the model's tests")
    killed: int = 0
    failures: list[str] = Field(default_factory=list, description="the first failures, one line each")


class ProjectResult(BaseModel):
    """One project under one repeat (one seed)."""

    project: str
    repeat: int
    seed: int
    score: float
    axes: dict[str, float]
    dimensions: dict[str, float]
    phases: dict[str, PhaseSummary]
    runtime: RuntimeResult | None = Field(None, description="None in records made before rubric v3")


class RunRecord(BaseModel):
    model_config = ConfigDict(extra="forbid")

    run_id: str
    status: RunStatus
    model: str
    backend: str
    suite: str
    track: str = Field("full", description="full, realize or test (runner.run.tracks)")
    mode: str
    engine: str | None
    repeats: int
    seeds: list[int]
    projects: list[str]
    score: float = Field(description="0-100, mean over projects and repeats")
    score_ci: Interval
    axes: dict[str, float]
    axes_ci: dict[str, Interval]
    dimensions: dict[str, float]
    dimensions_ci: dict[str, Interval]
    phases: dict[str, PhaseSummary]
    results: list[ProjectResult]
    rubric_version: str
    started_at: str
    finished_at: str | None = None
    wall_seconds: float = 0.0
    calls: int = 0
    retries: int = 0
    first_try_successes: int = 0
    tokens: int = 0
    cost_usd: float | None = Field(None, description="dollars at --price-in/--price-out (runner.run.cost)")
    config: dict[str, Any] = Field(default_factory=dict)
    machine: dict[str, Any] = Field(default_factory=dict)
    profile: dict[str, Any] = Field(
        default_factory=dict,
        description="runner.profiler.aggregate over every call of the run, plus the load",
    )
