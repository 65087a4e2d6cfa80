"""The decode loop: sample from a logits source, optionally under a grammar, with jump-forward.

The loop is independent of any model library: the llama.cpp and MLX backends both run it, and tests
script the logits (`LogitsSource`). Per step:
1. take the logits row of the last evaluated position (a numpy view, never a Python list) and apply the
   repetition penalties, if any, before any mask (`backends.repetition`);
2. pick a token: greedy takes the argmax and asks the matcher whether it is allowed; only when it is not
   is the full mask computed and applied (with temperature the same holds: sampling from p and accepting
   an allowed token, else resampling from the masked p, draws exactly from the masked distribution);
3. advance the matcher; with jump-forward, append the tokens the grammar forces next without sampling;
4. evaluate the new tokens in one batch.

Ends: max_tokens -> "length"; an end-of-generation token -> "stop" (or "grammar" when a constraint is
active, because a matcher admits end-of-generation only on a complete document); the grammar allows
nothing more -> "grammar"; a stop string -> "stop". With `ignore_eos` end-of-generation is never chosen,
and under a grammar a complete document starts a new one, so throughput runs always last max_tokens.
"""

from __future__ import annotations

import codecs
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from backends.base import FinishReason, RepetitionControl
from backends.grammar import TokenMatcher
from backends.repetition import RepetitionPenalizer


class LogitsSource(Protocol):
    """What the loop needs from a model: evaluate tokens, expose the last logits row, spell tokens."""

    def evaluate(self, tokens: Sequence[int]) -> bool:
        """Append `tokens` to the sequence and compute the logits after the last; False if the context is full."""
        ...

    def logits(self) -> NDArray[np.float32]:
        """The logits row of the last evaluated token (may be a view into the model's buffer)."""
        ...

    def token_bytes(self, token: int) -> bytes: ...


@dataclass(frozen=True)
class Sampling:
    max_tokens: int = 256
    temperature: float = 0.0
    top_p: float = 1.0
    seed: int = 0
    stop: tuple[str, ...] = ()
    ignore_eos: bool = False
    jump_forward: bool = True
    repetition: RepetitionControl | None = None
    """Penalties applied to each sampled step's row before the grammar mask (backends.repetition)."""


@dataclass
class DecodeResult:
    tokens: list[int] = field(default_factory=list)
    text: str = ""
    finish_reason: FinishReason = "length"
    forced_tokens: int = 0
    first_token_time: float | None = None
    token_times: list[float] = field(default_factory=list)
    """Seconds since `started` at which each token became known."""
    grammar_seconds: list[float] = field(default_factory=list)
    """Time spent in the matcher for each sampling step (masks, checks, advancing, forced tokens)."""
    error: str | None = None


class _Picker:
    """Chooses the next token from a logits row, asking the matcher as little as possible."""

    def __init__(self, sampling: Sampling, eog_tokens: Sequence[int]) -> None:
        self.sampling = sampling
        self.eog = np.asarray(sorted(set(eog_tokens)), dtype=np.intp)
        self.rng = np.random.default_rng(sampling.seed)
        self.matcher_seconds = 0.0

    def draw(self, logits: NDArray[np.float32]) -> int:
        if self.sampling.temperature <= 0.0:
            return int(np.argmax(logits))
        scaled = logits.astype(np.float64) / self.sampling.temperature
        scaled -= scaled.max()
        probs = np.exp(scaled)
        probs /= probs.sum()
        if self.sampling.top_p < 1.0:
            order = np.argsort(-probs)
            keep = np.cumsum(probs[order]) - probs[order] < self.sampling.top_p
            trimmed = np.zeros_like(probs)
            trimmed[order[keep]] = probs[order[keep]]
            probs = trimmed / trimmed.sum()
        return int(self.rng.choice(probs.shape[0], p=probs))

    def pick(self, row: NDArray[np.float32], matcher: TokenMatcher | None) -> int | None:
        """The next token, or None if the grammar allows no token at all (row is left untouched then)."""
        if self.sampling.ignore_eos and self.eog.size:
            row[self.eog] = -np.inf
        token = self.draw(row)
        if matcher is None:
            return token
        g0 = time.perf_counter()
        try:
            if matcher.allows(token):
                return token
            masked = row.copy()
            matcher.mask_logits(masked)
        finally:
            self.matcher_seconds += time.perf_counter() - g0
        if not np.isfinite(masked).any():
            return None
        return self.draw(masked)


def run_decode(
    source: LogitsSource,
    *,
    sampling: Sampling,
    eog_tokens: Sequence[int],
    matcher: TokenMatcher | None = None,
    started: float | None = None,
    on_token: Callable[[int, str], None] | None = None,
) -> DecodeResult:
    """Generate after the prompt already evaluated into `source` (its logits are ready)."""
    t0 = time.perf_counter() if started is None else started
    result = DecodeResult()
    picker = _Picker(sampling, eog_tokens)
    rep = sampling.repetition
    penalizer = RepetitionPenalizer(rep, source.token_bytes) if rep is not None and rep.active else None
    eog = set(eog_tokens)
    utf8 = codecs.getincrementaldecoder("utf-8")(errors="replace")
    pieces: list[str] = []
    stop_window = max((len(s) for s in sampling.stop), default=0)

    def emit(tokens: Sequence[int], forced: bool) -> bool:
        """Record tokens; True when a stop string appeared."""
        now = time.perf_counter() - t0
        for token in tokens:
            piece = utf8.decode(source.token_bytes(token))
            result.tokens.append(token)
            result.token_times.append(now)
            pieces.append(piece)
            result.forced_tokens += forced
            if on_token is not None:
                on_token(token, piece)
        if result.first_token_time is None and tokens:
            result.first_token_time = now
        if stop_window and tokens:
            tail = "".join(pieces[-stop_window - len(tokens) :])
            return any(s in tail for s in sampling.stop)
        return False

    def jump(budget: int) -> list[int] | None:
        """Forced tokens appended and consumed (None if the matcher broke)."""
        assert matcher is not None
        if not sampling.jump_forward or budget <= 0 or matcher.is_done():
            return []
        forced = matcher.forced_tokens()[:budget]
        return forced if all(matcher.consume(t) for t in forced) else None

    pending: list[int] = []
    if matcher is not None:
        g0 = time.perf_counter()
        forced = jump(sampling.max_tokens)
        result.grammar_seconds.append(time.perf_counter() - g0)
        if forced is None:
            return _broken(result, matcher, pieces)
        pending = forced
        if emit(pending, forced=True):
            return _finish(result, "stop", pieces, utf8, sampling.stop)
        if matcher.is_done() and not sampling.ignore_eos:  # forced to the end (a const): nothing to evaluate
            return _finish(result, "grammar", pieces, utf8)
    while True:
        if len(result.tokens) >= sampling.max_tokens:
            return _finish(result, "length", pieces, utf8)
        if pending and not source.evaluate(pending):
            return _finish(result, "length", pieces, utf8)
        row = source.logits()
        if penalizer is not None:
            penalizer.apply(row, result.tokens)
        picker.matcher_seconds = 0.0
        token = picker.pick(row, matcher)
        if token is None and matcher is not None and sampling.ignore_eos and matcher.is_accepting():
            matcher.reset()  # a complete document under ignore_eos: start the next one
            token = picker.pick(row, matcher)
        if token is None:
            return _broken(result, matcher, pieces, "the grammar allows no token")
        if token in eog:
            result.grammar_seconds.append(picker.matcher_seconds)
            return _finish(result, "grammar" if matcher is not None else "stop", pieces, utf8)
        pending = [token]
        if matcher is not None:
            g0 = time.perf_counter()
            if not matcher.consume(token):
                return _broken(result, matcher, pieces)
            while True:  # under ignore_eos a finished document restarts, its forced prefix included
                if sampling.ignore_eos and matcher.is_done():
                    matcher.reset()
                forced = jump(sampling.max_tokens - len(result.tokens) - len(pending))
                if forced is None:
                    return _broken(result, matcher, pieces)
                pending.extend(forced)
                if not (forced and sampling.ignore_eos and matcher.is_done()):
                    break
            result.grammar_seconds.append(picker.matcher_seconds + time.perf_counter() - g0)
        if emit(pending[:1], forced=False) or emit(pending[1:], forced=True):
            return _finish(result, "stop", pieces, utf8, sampling.stop)
        if matcher is not None and matcher.is_done():
            return _finish(result, "grammar", pieces, utf8)


def _finish(
    result: DecodeResult,
    reason: FinishReason,
    pieces: list[str],
    utf8: codecs.IncrementalDecoder,
    stop: Sequence[str] = (),
) -> DecodeResult:
    text = "".join(pieces) + utf8.decode(b"", final=True)
    cuts = [text.find(s) for s in stop if s and s in text]
    result.text = text[: min(cuts)] if cuts else text
    result.finish_reason = reason
    return result


def _broken(
    result: DecodeResult, matcher: TokenMatcher | None, pieces: list[str], reason: str | None = None
) -> DecodeResult:
    detail = reason or getattr(matcher, "error", lambda: "token rejected by the grammar")()
    result.text = "".join(pieces)
    result.finish_reason = "error"
    result.error = f"grammar engine {getattr(matcher, 'engine', '?')}: {detail or 'token rejected'}"
    return result
