"""The function-calling harness: one forced tool call with validation and a feedback loop.

A tool call is a sequence of attempts. Each attempt is one generation (under the tool's grammar in
grammar mode; unconstrained in free mode, then parsed leniently), validated by pydantic and the semantic
validators — even under a grammar, never failing open — and recorded. A failed attempt is answered with
the model's own arguments, every error placed at its path, plus a summary of earlier failures, and the
model tries again until the retry budget is spent.

To keep small contexts workable the conversation does not grow with every retry: a retry is one user
message, the original request followed by the feedback on the previous answer (which already shows that
answer, annotated; earlier failures only as a summary). The original request stays the prompt's prefix,
so the backend's prompt cache serves it again. Feedback too long for a small context is cut to a list.

Resume: attempts whose deterministic key is already stored are replayed from the store instead of being
generated again; replay re-validates the stored text, which is pure, so the run continues exactly where it
was interrupted. A stored attempt is replayed only when its prompt and tool schema are the ones this call
would send now (`ReplayMismatch` otherwise): a key names a place in the run, the prompt proves the answer
belongs there.

A prompt that leaves no room for an answer in the context is not sent: the attempt is recorded as a
`context` failure (finish reason `CONTEXT_OVERFLOW`) without generating, and so are the retries, whose
prompts are longer still; such a call earns nothing.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from backends.base import (
    Backend,
    Constraint,
    Generation,
    GenerationRequest,
    GenerationStats,
    Message,
    RepetitionControl,
)
from runner.errors import LapbenchError
from runner.profiler import profiled_generate
from runner.run.config import DEFAULT_CTX
from runner.run.grammar import GRAMMAR_MAX_WHITESPACE
from runner.run.narrow import GrammarMode
from runner.run.record import CallAttempt
from runner.schemas.feedback import ValidationReport, summarize_failures, unplaced

Mode = Literal["grammar", "free"]
RETRY_HEADER = "Your previous call of this tool failed validation. Feedback:"
FEEDBACK_MAX_CHARS = 6000
"""Longer feedback (a model that repeated one mistake many times) falls back to a list of errors: the
prompt must stay well inside small contexts."""
MAX_LISTED_ERRORS = 12
CONTEXT_OVERFLOW = "context"
"""Finish reason of an attempt whose prompt did not fit the context (nothing was generated)."""
MIN_ANSWER_TOKENS = 16
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
    grammar: GrammarMode = "schema"
    """Whether `json_schema` was narrowed by what the run knows (runner.run.narrow) or is the plain schema."""


@dataclass(frozen=True)
class CallSite:
    """Where a tool call sits in a run; with the attempt number it makes the deterministic call key."""

    repeat: int
    project: str
    phase: str
    part: str

    def key(self, attempt: int) -> str:
        return f"{self.repeat}/{self.project}/{self.phase}/{self.part}/{attempt}"


class ReplayMismatch(LapbenchError):
    """A stored attempt was made with another prompt or schema than the resumed run would send."""


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

    @property
    def overflowed(self) -> bool:
        """The call's prompt never fitted the context: it was never sent."""
        return any(a.finish_reason == CONTEXT_OVERFLOW for a in self.attempts)


@dataclass
class HarnessOptions:
    mode: Mode = "grammar"
    engine: str = "llguidance"
    retries: int = 3
    seed: int = 0
    temperature: float = 0.0
    n_ctx: int = DEFAULT_CTX
    max_tokens: int | None = None
    """Caps every tool's own output budget (a cheaper, shorter run)."""
    context_margin: int = 32
    """Tokens kept free between the prompt and the end of the context (chat template overhead)."""
    grammar: GrammarMode = "narrowed"
    """Grammar mode: the pipeline narrows each tool's schema by what the run knows (runner.run.narrow)."""
    repetition: RepetitionControl | None = None
    think_tokens: int = 0
    """Grammar mode: free reasoning tokens in the model's own thinking format before the constrained answer."""


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
        previous: str | None = None  # feedback on the last failed attempt
        data: Any = None
        for attempt in range(self.options.retries + 1):
            request = user
            if previous is not None:
                feedback = previous
                if len(reports) > 1:
                    feedback += "\n\n" + summarize_failures(reports[:-1])
                request = f"{user}\n\n{RETRY_HEADER}\n{feedback}"
            messages = [Message("system", system), Message("user", request)]
            stored = self.replay.get(site.key(attempt))
            if stored is not None:  # finished before an interruption: replay, do not generate again
                _check_replay(stored, messages, tool)
                call = stored
                data, report = self._check(
                    tool, stored.raw_output, stored.finish_reason, _generated(stored), None
                )
                if stored.finish_reason == CONTEXT_OVERFLOW:
                    data, report = None, self._overflow(self._prompt_tokens(messages), tool) or report
            elif (overflow := self._overflow(tokens := self._prompt_tokens(messages), tool)) is not None:
                data, report = None, overflow
                call = self._attempt(site, attempt, tool, messages, report, _NOT_SENT, 0.0, {})
                call = replace(call, finish_reason=CONTEXT_OVERFLOW)
                self.record(call)
            else:
                generation, wall, measures = self._generate(tool, messages, attempt, tokens)
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
            previous = call.feedback
        return ToolResult(site, False, data, reports[-1], tuple(attempts), self.options.retries)

    def _generate(
        self, tool: ToolSpec, messages: Sequence[Message], attempt: int, prompt_tokens: int
    ) -> tuple[Generation, float, dict[str, float | int | None]]:
        constraint = None
        if self.options.mode == "grammar":
            constraint = Constraint(
                json_schema=tool.json_schema,
                name=tool.name,
                engine=self.options.engine,
                max_whitespace=GRAMMAR_MAX_WHITESPACE,
            )
        request = GenerationRequest(
            messages=tuple(messages),
            max_tokens=self._budget(tool, prompt_tokens),
            temperature=self.options.temperature,
            seed=self.options.seed + attempt,
            constraint=constraint,
            repetition=self.options.repetition,
            think_tokens=self.options.think_tokens if constraint is not None else 0,
        )
        started = time.perf_counter()
        generation, profile = profiled_generate(self.backend, request, self.on_token)
        return generation, time.perf_counter() - started, profile.to_row()

    def _prompt_tokens(self, messages: Sequence[Message]) -> int:
        return sum(len(self.backend.tokenize(m.content)) + 4 for m in messages)

    def _budget(self, tool: ToolSpec, prompt_tokens: int) -> int:
        """The tool's token budget, shrunk so that prompt + output fit in the context."""
        thinking = self.options.think_tokens if self.options.mode == "grammar" else 0
        room = self.options.n_ctx - prompt_tokens - self.options.context_margin - thinking
        budget = min(tool.max_tokens, self.options.max_tokens or tool.max_tokens)
        return max(MIN_ANSWER_TOKENS, min(budget, room))

    def _overflow(self, tokens: int, tool: ToolSpec) -> ValidationReport | None:
        """The failure of a prompt that leaves less than `MIN_ANSWER_TOKENS` of the context for the answer."""
        limit = self.options.n_ctx - self.options.context_margin - MIN_ANSWER_TOKENS
        if tokens <= limit:
            return None
        why = (
            f"the prompt ({tokens} tokens) does not fit the context of {self.options.n_ctx} tokens, "
            "so it was not sent; run with a larger --ctx"
        )
        problem = unplaced(CONTEXT_OVERFLOW, f"a prompt of at most {limit} tokens", tokens, why)
        return ValidationReport(tool.name, None, (problem,))

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
        prompt = prompt_json(messages)
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
            feedback="" if report.valid else bounded_feedback(report),
            finish_reason=generation.finish_reason,
            constrained=generation.constrained,
            engine=generation.engine,
            schema_hash=tool.schema_hash,
            grammar=tool.grammar if self.options.mode == "grammar" else "none",
            wall_seconds=wall,
            parsed_json=json.dumps(report.data, ensure_ascii=False) if report.valid else None,
            measures=measures,
        )


def _generated(call: CallAttempt) -> int:
    return int(call.measures.get("generated_tokens") or 0)


def prompt_json(messages: Sequence[Message]) -> str:
    """The stored form of a request's messages (`CallAttempt.prompt`)."""
    return json.dumps([{"role": m.role, "content": m.content} for m in messages], ensure_ascii=False)


def _check_replay(stored: CallAttempt, messages: Sequence[Message], tool: ToolSpec) -> None:
    if stored.prompt == prompt_json(messages) and stored.schema_hash == tool.schema_hash:
        return
    what = "prompt" if stored.prompt != prompt_json(messages) else "tool schema"
    raise ReplayMismatch(
        f"stored call {stored.key} was made with another {what} than the resumed run sends there, so its "
        "answer cannot be replayed",
        hint="the run's inputs or lapbench changed since it started: start a new run",
    )


_NOT_SENT = Generation("", (), "error", False, GenerationStats(0, 0, 0.0, 0.0, 0, 0.0))


def bounded_feedback(report: ValidationReport) -> str:
    """The report's feedback (the model's own JSON with every error at its place), or, when that is too
    long for a small context, the first errors one per line."""
    text = report.feedback_text(collapse_valid=True)
    if len(text) <= FEEDBACK_MAX_CHARS:
        return text
    errors = report.errors
    lines = [
        f"Your {report.phase} arguments have {len(errors)} errors. Fix each one and call the tool again "
        "with the complete corrected arguments. The first ones:"
    ]
    lines += [f"- {e.one_line()}"[:300] for e in errors[:MAX_LISTED_ERRORS]]
    if len(errors) > MAX_LISTED_ERRORS:
        lines.append(f"- … and {len(errors) - MAX_LISTED_ERRORS} more")
    return "\n".join(lines)
