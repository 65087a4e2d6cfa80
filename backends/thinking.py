"""Thinking before a constrained answer: a bounded free reasoning segment in the model's own format.

Reasoning models lose their reasoning when a grammar forces JSON from the first token. With a thinking
budget the decode runs in two stages on one sequence: first free tokens inside the model's thinking segment
(its chat template's `<think>` tags, Qwen3 / DeepSeek-R1 style, or gpt-oss's analysis channel), stopped at
the closing marker or, when the budget runs out, closed by force; then the answer under the grammar. The
format is read from the chat template source, so a model without one is refused rather than given tags
it never learned.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from backends.base import GenerationRequest, UnsupportedCapability
from backends.grammar import TokenMatcher
from backends.grammar.decode import DecodeResult, LogitsSource, Sampling, run_decode


@dataclass(frozen=True)
class ThinkFormat:
    name: str
    open: str
    """Text that opens the segment after the generation prompt (not repeated when the template wrote it)."""
    close: str
    """Text that ends the segment: a stop string while thinking, forced when the budget runs out."""
    answer: str = ""
    """Text between the closed segment and the answer (gpt-oss opens its final channel there)."""


THINK_TAGS = ThinkFormat("think tags", "<think>\n", "</think>", "\n\n")
ANALYSIS_CHANNEL = ThinkFormat(
    "analysis channel",
    "<|channel|>analysis<|message|>",
    "<|end|>",
    "<|start|>assistant<|channel|>final<|message|>",
)


def think_format(template_source: str) -> ThinkFormat | None:
    """The thinking format a chat template speaks, or None when it has none (most small instruct models)."""
    if "<|channel|>" in template_source and "analysis" in template_source:
        return ANALYSIS_CHANNEL
    if "<think>" in template_source and "</think>" in template_source:
        return THINK_TAGS
    return None


def requested_format(request: GenerationRequest, template_source: str, model: str) -> ThinkFormat | None:
    """The format to think in when `request` asks for thinking (None when it does not); refuses a model whose
    template has no thinking format, a raw prompt (no template renders it) and an unconstrained call."""
    if request.think_tokens <= 0:
        return None
    if request.constraint is None or request.prompt is not None:
        raise UnsupportedCapability(f"{model}: a thinking budget applies to constrained chat calls only")
    fmt = think_format(template_source)
    if fmt is None:
        raise UnsupportedCapability(
            f"{model}: its chat template has no thinking format (<think> tags or an analysis channel), so "
            "--think cannot apply; run it without --think"
        )
    return fmt


def open_segment(prompt_text: str, fmt: ThinkFormat) -> str:
    """The rendered prompt with the thinking segment opened (DeepSeek-R1's template opens it itself)."""
    if prompt_text.endswith(fmt.open) or prompt_text.endswith(fmt.open.rstrip()):
        return prompt_text
    return prompt_text + fmt.open


@dataclass
class Thought:
    """The reasoning segment of one call: every token before the answer, the closing marker included."""

    tokens: list[int] = field(default_factory=list)
    text: str = ""
    token_times: list[float] = field(default_factory=list)
    forced_tokens: int = 0
    """Closing and answer-opening tokens appended without sampling."""
    closed_by_model: bool = False
    error: str | None = None


class _Fed:
    """A logits source that remembers which tokens it evaluated (the loop leaves its last pick unevaluated)."""

    def __init__(self, source: LogitsSource) -> None:
        self.source = source
        self.fed = 0
        self.token_bytes = source.token_bytes
        self.logits = source.logits

    def evaluate(self, tokens: Sequence[int]) -> bool:
        ok = self.source.evaluate(tokens)
        self.fed += len(tokens) if ok else 0
        return ok


def think(
    source: LogitsSource,
    fmt: ThinkFormat,
    budget: int,
    *,
    sampling: Sampling,
    eog_tokens: Sequence[int],
    tokenize: Callable[[str], list[int]],
    started: float,
    on_token: Callable[[int, str], None] | None = None,
) -> Thought:
    """Free tokens until `fmt.close` or `budget`; afterwards every token of the segment is evaluated and the
    logits are those of the answer's first position."""
    fed = _Fed(source)
    free = replace(sampling, max_tokens=budget, stop=(fmt.close,), ignore_eos=False, jump_forward=False)
    result: DecodeResult = run_decode(
        fed, sampling=free, eog_tokens=eog_tokens, started=started, on_token=on_token
    )
    thought = Thought(tokens=list(result.tokens), token_times=list(result.token_times))
    thought.text = result.text  # cut before the closing marker when the model wrote it
    thought.closed_by_model = result.finish_reason == "stop" and fmt.close in _joined(result, source)
    unevaluated = thought.tokens[fed.fed :]
    forced = tokenize(("" if thought.closed_by_model else fmt.close) + fmt.answer)
    pending = unevaluated + forced
    if pending and not source.evaluate(pending):
        thought.error = "the context filled up while thinking"
    now = time.perf_counter() - started
    for token in forced:
        thought.tokens.append(token)
        thought.token_times.append(now)
        if on_token is not None:
            on_token(token, source.token_bytes(token).decode("utf-8", errors="replace"))
    thought.forced_tokens = len(forced)
    return thought


def _joined(result: DecodeResult, source: LogitsSource) -> str:
    return b"".join(source.token_bytes(t) for t in result.tokens).decode("utf-8", errors="replace")


def decode_with_thinking(
    source: LogitsSource,
    fmt: ThinkFormat | None,
    budget: int,
    *,
    sampling: Sampling,
    eog_tokens: Sequence[int],
    matcher: TokenMatcher | None,
    tokenize: Callable[[str], list[int]],
    started: float,
    on_token: Callable[[int, str], None] | None = None,
) -> tuple[DecodeResult, Thought | None]:
    """Without a format: the plain decode loop. With one: the thinking segment, then the answer under
    `matcher` with the whole answer budget of `sampling`; one combined record (see `combined`)."""
    if fmt is None:
        plain = run_decode(
            source,
            sampling=sampling,
            eog_tokens=eog_tokens,
            matcher=matcher,
            started=started,
            on_token=on_token,
        )
        return plain, None
    thought = think(
        source, fmt, budget, sampling=sampling, eog_tokens=eog_tokens, tokenize=tokenize, started=started,
        on_token=on_token,
    )  # fmt: skip
    if thought.error is not None:  # no room left for an answer
        return combined(thought, DecodeResult(finish_reason="length")), thought
    answer = run_decode(
        source, sampling=sampling, eog_tokens=eog_tokens, matcher=matcher, started=started, on_token=on_token
    )
    return combined(thought, answer), thought


def combined(thought: Thought, answer: DecodeResult) -> DecodeResult:
    """One decode record of both stages: the reasoning tokens first, the answer's text and ending."""
    return DecodeResult(
        tokens=thought.tokens + answer.tokens,
        text=answer.text,
        finish_reason=answer.finish_reason,
        forced_tokens=thought.forced_tokens + answer.forced_tokens,
        first_token_time=thought.token_times[0] if thought.token_times else answer.first_token_time,
        token_times=thought.token_times + answer.token_times,
        grammar_seconds=answer.grammar_seconds,
        error=answer.error,
    )
