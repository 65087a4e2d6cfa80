"""The llguidance engine: JSON Schema -> token matcher with jump-forward, for llama.cpp and MLX.

Both backends use it the same way: build a tokenizer once per model (`tokenizer_from_llama_vocab` for
llama.cpp, `tokenizer_from_tokenizer_json` for an MLX folder, with `n_vocab` = the width of the logits
row), compile a schema with `compile_json_schema` (ConstraintCompileError, never 'any JSON'), and hand
`grammar.matcher()` to the shared decode loop (backends/grammar/decode.py), which drives it through the
`TokenMatcher` protocol on numpy logits rows.

Cost: building a tokenizer takes ~0.1-1 s (cache it per model); compiling a schema is cached per
(schema, whitespace) inside this module; `matcher()` is a cheap deep copy of a compiled template.
The logits row may be wider than the tokenizer's vocabulary (padded embeddings): extra ids are masked.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import llguidance
import numpy as np
from llguidance.numpy import allocate_token_bitmask, fill_next_token_bitmask
from numpy.typing import NDArray

from backends.base import ConstraintCompileError

ENGINE = "llguidance"
_WHITESPACE = r"[\x20\x0A\x0D\x09]"
_CACHE_SIZE = 16


def whitespace_options(max_whitespace: int) -> dict[str, Any]:
    """`x-guidance` options that allow at most `max_whitespace` whitespace characters between tokens."""
    if max_whitespace <= 0:
        return {"whitespace_flexible": False}
    return {"whitespace_pattern": f"{_WHITESPACE}{{1,{max_whitespace}}}"}


def tokenizer_from_llama_vocab(
    vocab: Any, *, eos_tokens: Sequence[int] | None = None
) -> llguidance.LLTokenizer:
    """A tokenizer over a llama.cpp vocabulary (`llama_cpp.llama_model_get_vocab(model)`)."""
    from llguidance.llamacpp import lltokenizer_from_vocab

    eos = list(eos_tokens) if eos_tokens else None
    return lltokenizer_from_vocab(vocab, eos_token=eos)


def tokenizer_from_tokenizer_json(
    source: str | Path, *, n_vocab: int | None = None, eos_tokens: Sequence[int] | None = None
) -> llguidance.LLTokenizer:
    """A tokenizer from a Hugging Face `tokenizer.json` (path or its JSON text), as in MLX model folders.
    `n_vocab` should be the width of the model's logits row when it differs from the tokenizer's size."""
    text = Path(source).read_text(encoding="utf-8") if isinstance(source, Path) else source
    eos = list(eos_tokens) if eos_tokens else None
    return llguidance.LLTokenizer(text, n_vocab=n_vocab, eos_token=eos)


class LlguidanceMatcher:
    """One generation's grammar state (see `TokenMatcher` in backends/grammar/__init__.py)."""

    engine = ENGINE

    def __init__(
        self, matcher: llguidance.LLMatcher, vocab_size: int, tokenizer: llguidance.LLTokenizer | None = None
    ) -> None:
        self._matcher = matcher
        self.vocab_size = vocab_size
        self._bitmask = allocate_token_bitmask(1, vocab_size)
        self._tokenizer = tokenizer

    def allows(self, token: int) -> bool:
        return self._matcher.validate_tokens([token]) == 1

    def mask_logits(self, logits: NDArray[np.float32]) -> None:
        fill_next_token_bitmask(self._matcher, self._bitmask)  # int32 words, bit set = token allowed
        allowed = np.unpackbits(self._bitmask.view(np.uint8), bitorder="little")
        width = min(logits.shape[-1], self.vocab_size)
        logits[:width][allowed[:width] == 0] = -np.inf
        logits[width:] = -np.inf

    def consume(self, token: int) -> bool:
        return bool(self._matcher.consume_token(token))

    def forced_tokens(self) -> list[int]:
        """The forced tokens llguidance is sure of, or, when the grammar forces more bytes than they spell,
        those bytes tokenized, as far as the grammar takes them. llguidance holds back the last bytes
        whose token could merge with what the model writes next (a key's closing `":"` before its
        value); with compact JSON such a merge is rare, and appending them saves a decode step per key."""
        safe = list(self._matcher.compute_ff_tokens())
        forced = self._matcher.compute_ff_bytes()
        if self._tokenizer is None or len(forced) <= len(self._tokenizer.decode_bytes(safe)):
            return safe
        eager = self._tokenizer.tokenize_bytes(forced)
        eager = eager[: self._matcher.validate_tokens(eager)]
        covered = len(self._tokenizer.decode_bytes(eager))
        return eager if covered > len(self._tokenizer.decode_bytes(safe)) else safe

    def is_accepting(self) -> bool:
        return bool(self._matcher.is_accepting())

    def is_done(self) -> bool:
        return bool(self._matcher.is_stopped())

    def reset(self) -> None:
        self._matcher.reset()


class LlguidanceGrammar:
    """A compiled schema for one tokenizer; `matcher()` hands out fresh, independent states."""

    def __init__(self, template: llguidance.LLMatcher, tokenizer: llguidance.LLTokenizer) -> None:
        self._template = template
        self.tokenizer = tokenizer
        self.vocab_size: int = tokenizer.vocab_size

    def matcher(self, eager: bool = True) -> LlguidanceMatcher:
        """`eager=False`: only the forced tokens llguidance is sure of (see `LlguidanceMatcher.forced_tokens`)."""
        return LlguidanceMatcher(
            self._template.deep_copy(), self.vocab_size, self.tokenizer if eager else None
        )


_compiled: OrderedDict[tuple[int, str], LlguidanceGrammar] = OrderedDict()


def forget_tokenizer(tokenizer: llguidance.LLTokenizer) -> None:
    """Drop the cached grammars of a tokenizer whose model is being closed (a llama.cpp tokenizer points
    into the model's vocabulary)."""
    for key in [key for key, grammar in _compiled.items() if grammar.tokenizer is tokenizer]:
        del _compiled[key]


def schema_with_whitespace(schema: Mapping[str, Any], max_whitespace: int) -> dict[str, Any]:
    """The schema with top-level `x-guidance` options: whitespace capped, `oneOf` kept strict."""
    options = dict(schema.get("x-guidance") or {})
    options.update(whitespace_options(max_whitespace))
    return {**schema, "x-guidance": options}


def compile_json_schema(
    schema: Mapping[str, Any],
    tokenizer: llguidance.LLTokenizer,
    *,
    name: str = "output",
    max_whitespace: int = 2,
) -> LlguidanceGrammar:
    """Compile `schema` for `tokenizer`; raises ConstraintCompileError (never falls back to 'any JSON')."""
    try:
        text = json.dumps(schema_with_whitespace(schema, max_whitespace), sort_keys=False)
    except (TypeError, ValueError) as err:
        raise ConstraintCompileError(ENGINE, name, f"schema is not JSON: {err}") from err
    key = (id(tokenizer), text)
    cached = _compiled.get(key)
    if cached is not None and cached.tokenizer is tokenizer:
        _compiled.move_to_end(key)
        return cached
    try:
        grammar = llguidance.LLMatcher.grammar_from_json_schema(text)
    except ValueError as err:
        raise ConstraintCompileError(ENGINE, name, str(err)) from err
    is_error, messages = llguidance.LLMatcher.validate_grammar_with_warnings(grammar, tokenizer)
    if is_error:
        raise ConstraintCompileError(ENGINE, name, "; ".join(messages))
    template = llguidance.LLMatcher(tokenizer, grammar, log_level=0)
    if template.is_error():
        raise ConstraintCompileError(ENGINE, name, template.get_error())
    compiled = LlguidanceGrammar(template, tokenizer)
    _compiled[key] = compiled
    while len(_compiled) > _CACHE_SIZE:
        _compiled.popitem(last=False)
    return compiled
