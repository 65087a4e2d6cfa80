"""The MLX backend's two decode loops, both starting from the prefill's logits row.

- free: the first token is sampled from the prefill logits, the rest comes from `mlx_lm.generate.generate_step`
  (the loop `stream_generate` uses, with its asynchronous evaluation), so decode speed is mlx-lm's own;
- constrained: the decode loop of `backends.grammar.decode` (the one the llama.cpp backend runs) drives an
  llguidance matcher on numpy logits rows (llguidance's MLX bitmask kernel is Metal-only), with
  jump-forward of forced tokens.
End-of-generation tokens are not part of `DecodeRun.tokens` (as in the llama.cpp backend).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from backends.base import FinishReason, GenerationRequest, TokenCallback
from backends.thinking import ThinkFormat


@dataclass
class DecodeRun:
    """What a decode loop produced; `fed` lists the tokens given to the model after the prompt, in order."""

    finish_reason: FinishReason = "length"
    tokens: list[int] = field(default_factory=list)
    fed: list[int] = field(default_factory=list)
    token_times: list[float] = field(default_factory=list)
    text: str | None = None
    forced_tokens: int = 0
    mask_seconds: float = 0.0
    error: str | None = None
    reasoning_tokens: int = 0
    reasoning: str = ""


def decode_free(
    model: Any,
    tokenizer: Any,
    logits: Any,
    cache: list[Any],
    request: GenerationRequest,
    max_tokens: int,
    started: float,
    on_token: TokenCallback | None,
) -> DecodeRun:
    """Sample the first token from the prefill logits, then continue with mlx-lm's `generate_step`."""
    import mlx.core as mx
    from mlx_lm.generate import generate_step
    from mlx_lm.sample_utils import make_sampler

    sampler = make_sampler(request.temperature, top_p=request.top_p if request.top_p < 1.0 else 0.0)
    eos = set(tokenizer.eos_token_ids)
    processors = []
    if request.ignore_eos and eos:
        ban = mx.zeros((logits.shape[-1],), dtype=logits.dtype)
        ban[mx.array(sorted(eos))] = -float("inf")
        processors.append(lambda _tokens, row: row + ban)
    if request.repetition is not None and request.repetition.active:
        processors.append(_repetition_processor(request, tokenizer))
    detokenizer = tokenizer.detokenizer if on_token is not None or request.stop else None
    if detokenizer is not None:
        detokenizer.reset()
    run, window = DecodeRun(), max((len(s) for s in request.stop), default=0)
    tail = ""

    def accept(token: int) -> bool:
        """Record one sampled token; True when generation ends here."""
        nonlocal tail
        now = time.perf_counter() - started
        if token in eos and not request.ignore_eos:
            run.finish_reason = "stop"
            return True
        run.tokens.append(token)
        run.token_times.append(now)
        if detokenizer is not None:
            detokenizer.add_token(token)
            piece = detokenizer.last_segment
            if on_token is not None:
                on_token(token, piece)
            tail = (tail + piece)[-(window + len(piece)) :]
            if window and any(s in tail for s in request.stop if s):
                run.finish_reason = "stop"
                return True
        return False

    if max_tokens <= 0:
        return run
    row = logits[None]
    for processor in processors:
        row = processor(None, row)
    sampled: Any = sampler(row - mx.logsumexp(row, keepdims=True))
    first = int(sampled.item())
    if accept(first) or max_tokens <= 1:
        return run
    run.fed.append(first)
    steps = generate_step(
        mx.array([first]),
        model,
        max_tokens=max_tokens - 1,
        sampler=sampler,
        logits_processors=processors or None,
        prompt_cache=cache,
    )
    for token, _ in steps:
        run.fed.append(int(token))
        if accept(int(token)):
            return run
    return run


def _repetition_processor(request: GenerationRequest, tokenizer: Any) -> Any:
    """mlx-lm logits processor applying `backends.repetition` (the history is the generated tokens; a numpy
    round trip per step, the price of one penalty implementation for every backend)."""
    import mlx.core as mx
    import numpy as np

    from backends.repetition import RepetitionPenalizer

    assert request.repetition is not None
    penalizer = RepetitionPenalizer(request.repetition, lambda t: str(tokenizer.decode([t])).encode())

    def penalize(tokens: Any, row: Any) -> Any:
        if tokens is None or tokens.size == 0:
            return row
        values = np.array(row[0].astype(mx.float32), copy=True)
        penalizer.apply(values, tokens.tolist())
        return mx.array(values)[None].astype(row.dtype)

    return penalize


class MlxLogits:
    """`backends.grammar.decode.LogitsSource` over an mlx-lm model and its KV cache."""

    def __init__(self, model: Any, cache: list[Any], row: Any, grammar: Any, n_ctx: int) -> None:
        self.model, self.cache, self.row, self.n_ctx = model, cache, row, n_ctx
        self.lltokenizer = grammar.tokenizer
        self.fed: list[int] = []

    def evaluate(self, tokens: Sequence[int]) -> bool:
        import mlx.core as mx

        if self.cache[0].offset + len(tokens) > self.n_ctx:
            return False
        self.row = self.model(mx.array(list(tokens))[None], cache=self.cache)[0, -1]
        self.fed.extend(tokens)
        return True

    def logits(self) -> Any:
        import mlx.core as mx
        import numpy as np

        return np.array(self.row.astype(mx.float32), copy=True)

    def token_bytes(self, token: int) -> bytes:
        return bytes(self.lltokenizer.decode_bytes([token]))


def decode_constrained(
    model: Any,
    cache: list[Any],
    logits: Any,
    grammar: Any,
    request: GenerationRequest,
    max_tokens: int,
    started: float,
    on_token: TokenCallback | None,
    n_ctx: int,
    eos_tokens: Sequence[int],
    think: ThinkFormat | None = None,
    tokenize: Any = None,
) -> DecodeRun:
    """The shared grammar decode loop (llguidance matcher, jump-forward) on numpy logits rows, after a
    thinking segment when `think` is given (`backends.thinking`; `tokenize` spells its forced markers)."""
    from backends.grammar.decode import Sampling
    from backends.thinking import decode_with_thinking

    assert request.constraint is not None
    source = MlxLogits(model, cache, logits, grammar, n_ctx)
    sampling = Sampling(
        max_tokens=max_tokens,
        temperature=request.temperature,
        top_p=request.top_p,
        seed=request.seed or 0,
        stop=request.stop,
        ignore_eos=request.ignore_eos,
        jump_forward=request.constraint.jump_forward,
        repetition=request.repetition,
    )
    result, thought = decode_with_thinking(
        source,
        think,
        request.think_tokens,
        sampling=sampling,
        eog_tokens=eos_tokens,
        matcher=grammar.matcher(),
        tokenize=tokenize,
        started=started,
        on_token=on_token,
    )
    return DecodeRun(
        finish_reason=result.finish_reason,
        tokens=list(result.tokens),
        fed=source.fed,
        token_times=list(result.token_times),
        text=result.text,
        forced_tokens=result.forced_tokens,
        mask_seconds=sum(result.grammar_seconds),
        error=result.error,
        reasoning_tokens=len(thought.tokens) if thought is not None else 0,
        reasoning=thought.text if thought is not None else "",
    )
