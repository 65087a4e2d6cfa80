"""How much of a known output a grammar would have forced: the output's tokens replayed through a matcher the
way the decode loop (backends/grammar/decode.py) drives it, without a model.

At each step the matcher's forced tokens are appended when the output continues with them (jump-forward);
otherwise the output's next token counts as sampled. This is what a model that writes exactly this output
under this grammar would sample and what it would get for free, which predicts the speed of constrained
decoding on real outputs (gold answers, earlier runs) and shows where a schema leaves tokens to the model.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from backends.grammar import TokenMatcher


@dataclass(frozen=True)
class Replay:
    forced: int
    sampled: int
    rejected_at: int | None = None
    """Index of the first token the grammar refused (the rest is counted as sampled), or None."""

    @property
    def tokens(self) -> int:
        return self.forced + self.sampled

    @property
    def forced_share(self) -> float:
        return self.forced / self.tokens if self.tokens else 0.0


def replay_forced(matcher: TokenMatcher, tokens: Sequence[int]) -> Replay:
    """Replay `tokens` through a fresh `matcher`; the matcher is consumed."""
    forced = i = 0
    while i < len(tokens):
        if not matcher.is_done():
            run = matcher.forced_tokens()
            n = 0
            while n < len(run) and i + n < len(tokens) and run[n] == tokens[i + n]:
                n += 1
            if n and all(matcher.consume(t) for t in run[:n]):
                forced, i = forced + n, i + n
                continue
        if not matcher.consume(tokens[i]):
            return Replay(forced, len(tokens) - forced, rejected_at=i)
        i += 1
    return Replay(forced, len(tokens) - forced)
