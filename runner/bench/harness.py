"""The function-calling harness: one forced tool call with validation and a feedback loop.

A tool call is a sequence of attempts. Each attempt is one generation (under the tool's grammar in
grammar mode; unconstrained in free mode, then parsed leniently), validated by pydantic and the semantic
validators — even under a grammar, never failing open — and recorded. A failed attempt is answered with
the model's own arguments, every error placed at its path, plus a summary of earlier failures, and the
model tries again until the retry budget is spent.

To keep small contexts workable the conversation does not grow with every retry: an attempt sees the
original request, its previous answer and the feedback on it (earlier failures only as a summary).

Resume: attempts whose deterministic key is already stored are replayed from the store instead of being
generated again; replay re-validates the stored text, which is pure, so the run continues exactly where it
was interrupted.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from backends.base import Backend, Constraint, Generation, GenerationRequest, Message
from runner.bench.record import CallAttempt
from runner.profiler import profiled_generate
from runner.schemas.report import ValidationReport, summarize_failures, unplaced

Mode = Literal["grammar", "free"]
Parser = Callable[[str], Any]
"""Raw text -> JSON value; raises ValueError when nothing usable is in the text."""


@dataclass(frozen=True)
class ToolSpec:
    """One tool: its JSON schema (already normalised for the engines) and how to validate its arguments."""

    name: str
    json_schema: Mapping[str, Any]
    schema_hash: str
    validate: Callable[[Any], ValidationReport]
    parse: Parser
    """Free mode: recovers the JSON arguments from chatty output."""
    max_tokens: int
    doc: str = ""
    """The schema as short text for the prompt."""


@dataclass(frozen=True)
class CallSite:
    """Where a tool call sits in a run; with the attempt number it makes the deterministic call key."""

    repeat: int
    project: str
    phase: str
    part: str

    def key(self, attempt: int) -> str:
        return f"{self.repeat}/{self.project}/{self.phase}/{self.part}/{attempt}"


@dataclass(frozen=True)
class ToolResult:
    site: CallSite
    valid: bool
    data: Any
    """The validated arguments (JSON value) when valid, else the last attempt's parsed value (or None)."""
    report: ValidationReport
    attempts: tuple[CallAttempt, ...]
    max_retries: int

    @property
    def retries(self) -> int:
        return len(self.attempts) - 1

    @property
    def first_try(self) -> bool:
        return self.valid and len(self.attempts) == 1


@dataclass
class HarnessOptions:
    mode: Mode = "grammar"
    engine: str = "llguidance"
    retries: int = 3
    seed: int = 0
    temperature: float = 0.0
    n_ctx: int = 8192
    max_tokens: int | None = None
    """Caps every tool's own output budget (a cheaper, shorter run)."""
    context_margin: int = 32
    """Tokens kept free between the prompt and the end of the context (chat template overhead)."""


@dataclass
class Harness:
    """Runs tool calls on one loaded backend and hands every attempt to `record` before going on."""

    backend: Backend
    options: HarnessOptions
    record: Callable[[CallAttempt], None]
    replay: Mapping[str, CallAttempt] = field(default_factory=dict)
    on_attempt: Callable[[CallAttempt, bool], None] | None = None
    """Progress hook: (attempt, replayed)."""
    on_token: Callable[[int, str], None] | None = None

    def call(self, site: CallSite, tool: ToolSpec, system: str, user: str) -> ToolResult:
        reports: list[ValidationReport] = []
        attempts: list[CallAttempt] = []
        previous: tuple[str, str] | None = None  # (raw output, feedback) of the last failed attempt
        data: Any = None
        for attempt in range(self.options.retries + 1):
            messages = [Message("system", system), Message("user", user)]
            if previous is not None:
                feedback = previous[1]
                if len(reports) > 1:
                    feedback += "\n\n" + summarize_failures(reports[:-1])
                messages += [Message("assistant", previous[0]), Message("user", feedback)]
            stored = self.replay.get(site.key(attempt))
            if stored is not None:  # finished before an interruption: replay, do not generate again
                call = stored
                data, report = self._check(
                    tool, stored.raw_output, stored.finish_reason, _generated(stored), None
                )
            else:
                generation, wall, measures = self._generate(tool, messages, attempt)
                data, report = self._check(
                    tool,
                    generation.text,
                    generation.finish_reason,
                    generation.stats.generated_tokens,
                    generation.error,
                )
                call = self._attempt(site, attempt, tool, messages, report, generation, wall, measures)
                self.record(call)
            if self.on_attempt is not None:
                self.on_attempt(call, stored is not None)
            attempts.append(call)
            reports.append(report)
            if report.valid:
                return ToolResult(site, True, data, report, tuple(attempts), self.options.retries)
            previous = (call.raw_output, call.feedback)
        return ToolResult(site, False, data, reports[-1], tuple(attempts), self.options.retries)

    def _generate(
        self, tool: ToolSpec, messages: Sequence[Message], attempt: int
    ) -> tuple[Generation, float, dict[str, float | int | None]]:
        constraint = None
        if self.options.mode == "grammar":
            constraint = Constraint(json_schema=tool.json_schema, name=tool.name, engine=self.options.engine)
        request = GenerationRequest(
            messages=tuple(messages),
            max_tokens=self._budget(tool, messages),
            temperature=self.options.temperature,
            seed=self.options.seed + attempt,
            constraint=constraint,
        )
        started = time.perf_counter()
        generation, profile = profiled_generate(self.backend, request, self.on_token)
        return generation, time.perf_counter() - started, profile.to_row()

    def _budget(self, tool: ToolSpec, messages: Sequence[Message]) -> int:
        """The tool's token budget, shrunk so that prompt + output fit in the context."""
        prompt_tokens = sum(len(self.backend.tokenize(m.content)) + 4 for m in messages)
        room = self.options.n_ctx - prompt_tokens - self.options.context_margin
        budget = min(tool.max_tokens, self.options.max_tokens or tool.max_tokens)
        return max(16, min(budget, room))

    def _check(
        self, tool: ToolSpec, raw: str, finish_reason: str, generated_tokens: int, error: str | None
    ) -> tuple[Any, ValidationReport]:
        try:
            data = json.loads(raw) if self.options.mode == "grammar" else tool.parse(raw)
        except ValueError as err:
            why = f"could not read JSON from your answer: {err}"
            if finish_reason == "length":
                why = f"your answer was cut off after {generated_tokens} tokens; be shorter"
            elif error:
                why = f"generation failed: {error}"
            problem = unplaced("json", "one JSON object with the tool's arguments", raw[-200:], why)
            return None, ValidationReport(tool.name, None, (problem,))
        return data, tool.validate(data)

    def _attempt(
        self, site: CallSite, attempt: int, tool: ToolSpec, messages: Sequence[Message],
        report: ValidationReport, generation: Generation, wall: float, measures: dict[str, float | int | None],
    ) -> CallAttempt:  # fmt: skip
        prompt = json.dumps([{"role": m.role, "content": m.content} for m in messages], ensure_ascii=False)
        return CallAttempt(
            key=site.key(attempt),
            repeat=site.repeat,
            project=site.project,
            phase=site.phase,
            part=site.part,
            attempt=attempt,
            prompt=prompt,
            raw_output=generation.text,
            valid=report.valid,
            errors=tuple(e.as_json() for e in report.errors),
            feedback="" if report.valid else report.feedback_text(collapse_valid=True),
            finish_reason=generation.finish_reason,
            constrained=generation.constrained,
            engine=generation.engine,
            schema_hash=tool.schema_hash,
            wall_seconds=wall,
            parsed_json=json.dumps(report.data, ensure_ascii=False) if report.valid else None,
            measures=measures,
        )


def _generated(call: CallAttempt) -> int:
    return int(call.measures.get("generated_tokens") or 0)
