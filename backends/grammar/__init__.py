"""Grammar engines: compile a JSON Schema once, then drive decoding one token at a time.

An engine turns `Constraint.json_schema` into a `TokenMatcher` bound to one model vocabulary. The decode
loop (backends/grammar/decode.py, run by both the llama.cpp and the MLX backend on numpy logits rows) asks
the matcher per step:

    matcher.allows(token)        cheap check of one candidate (the greedy argmax is usually allowed)
    matcher.mask_logits(logits)  set every disallowed logit of a float32 numpy row to -inf, in place
    matcher.consume(token)       advance; returns False if the token was not allowed (matcher is then broken)
    matcher.forced_tokens()      tokens the grammar forces next (jump-forward); [] if none or unsupported
    matcher.is_accepting()       the text so far is a complete document (end-of-generation is allowed)
    matcher.is_done()            complete AND nothing more may follow
    matcher.reset()              back to the start state (a fresh document)

Engines:
- "llguidance" (default; backends/grammar/llguidance_engine.py): Earley parser + lexer over token tries,
  jump-forward, whitespace capped through the schema's `x-guidance` options; llama.cpp and MLX.
- "gbnf" (backends/grammar/gbnf_engine.py): llama.cpp's own grammar sampler fed with
  `llama_cpp.llama_grammar.json_schema_to_gbnf`; the baseline, llama.cpp only, no jump-forward.

`replay.py` replays a known output through a matcher without a model: how many of its tokens jump-forward
would have appended (the forced share a schema allows on real answers).

Never fail open: an engine that cannot compile a schema raises `backends.base.ConstraintCompileError`.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
from numpy.typing import NDArray

ENGINE_NAMES: tuple[str, ...] = ("llguidance", "gbnf")


class TokenMatcher(Protocol):
    """The per-call state of a compiled grammar (see the module docstring for the step protocol)."""

    engine: str

    def allows(self, token: int) -> bool: ...

    def mask_logits(self, logits: NDArray[np.float32]) -> None: ...

    def consume(self, token: int) -> bool: ...

    def forced_tokens(self) -> list[int]: ...

    def is_accepting(self) -> bool: ...

    def is_done(self) -> bool: ...

    def reset(self) -> None: ...
