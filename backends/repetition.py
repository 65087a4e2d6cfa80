"""Repetition penalties over a logits row: presence/frequency over a window, and DRY.

Backend-neutral (token ids and a numpy row), used by every decode loop that samples in this process
(`backends.grammar.decode` for llama.cpp and MLX, and MLX's free loop through a logits processor). The
penalties touch only the row a sampled step draws from, before any grammar mask: a token forced by
jump-forward is never sampled, so it is never penalised, though it counts in the history.

DRY ("don't repeat yourself", as in llama.cpp's sampler, ported there from koboldcpp): when the last n
generated tokens already occurred earlier followed by token x, emitting x would extend the repeat to n + 1,
so x loses `multiplier * base ** (n - allowed_length)` once n >= allowed_length. A sequence breaker ends
every repeat: the repeat may not reach back past the latest breaker, and a breaker is never penalised.
One simplification: a breaker is a single token whose text contains a breaker string (llama.cpp also
matches breakers spelled by several tokens); the default breakers are single characters, so this agrees.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
from numpy.typing import NDArray

from backends.base import RepetitionControl

FLOAT32_MAX_LOG = 88.7228391
"""log(float32 max): the DRY exponent is clamped below it, as llama.cpp does, so the penalty stays finite."""


def presence_frequency(
    row: NDArray[np.float32], recent: NDArray[np.intp], presence: float, frequency: float
) -> None:
    """Subtract `presence` once and `frequency` per occurrence from every token in `recent` (in place)."""
    if recent.size == 0:
        return
    ids, counts = np.unique(recent, return_counts=True)
    row[ids] -= (presence + frequency * counts).astype(row.dtype)


def dry_repeat_lengths(
    recent: NDArray[np.intp], breaker: NDArray[np.bool_], allowed_length: int
) -> dict[int, int]:
    """Token -> the longest repeat it would extend (only repeats of at least `allowed_length` tokens).

    `breaker[i]` says whether `recent[i]` is a sequence breaker. A repeat is a run ending at position j < n-1
    equal to the run ending at the last token; the token at j + 1 would continue it.
    """
    n = recent.size
    if n <= allowed_length:
        return {}
    after_break = np.nonzero(breaker)[0]
    limit = n - 1 - int(after_break[-1]) if after_break.size else n
    if limit < max(allowed_length, 1):
        return {}
    ends = np.nonzero(recent[:-1] == recent[-1])[0]
    lengths = np.ones(ends.size, dtype=np.intp)
    alive = np.ones(ends.size, dtype=bool)
    for k in range(1, limit):  # extend every candidate one token further back at a time
        earlier = ends - k
        alive &= earlier >= 0
        alive[alive] = recent[earlier[alive]] == recent[n - 1 - k]
        if not alive.any():
            break
        lengths[alive] += 1
    found: dict[int, int] = {}
    for end, length in zip(ends.tolist(), lengths.tolist(), strict=True):
        if length >= allowed_length:
            token = int(recent[end + 1])
            found[token] = max(found.get(token, 0), length)
    return found


def dry_penalty(control: RepetitionControl, length: int) -> float:
    exponent = length - control.dry_allowed_length
    if control.dry_base > 1.000001:
        exponent = min(exponent, int(FLOAT32_MAX_LOG / math.log(control.dry_base)))
    return control.dry_multiplier * control.dry_base**exponent


class RepetitionPenalizer:
    """Applies one `RepetitionControl` to the rows of one generation; remembers which tokens are breakers."""

    def __init__(self, control: RepetitionControl, token_bytes: Callable[[int], bytes]) -> None:
        self.control = control
        self.token_bytes = token_bytes
        self._breaker: dict[int, bool] = {}

    def is_breaker(self, token: int) -> bool:
        known = self._breaker.get(token)
        if known is None:
            text = self.token_bytes(token).decode("utf-8", errors="ignore")
            known = self._breaker[token] = any(b and b in text for b in self.control.dry_breakers)
        return known

    def apply(self, row: NDArray[np.float32], history: Sequence[int]) -> None:
        """Penalise `row` (in place) for the generated tokens in `history`, oldest first."""
        control = self.control
        if not control.active or not history:
            return
        recent = np.asarray(history[-control.window :], dtype=np.intp)
        if control.presence_penalty or control.frequency_penalty:
            presence_frequency(row, recent, control.presence_penalty, control.frequency_penalty)
        if control.dry_multiplier > 0.0 and control.dry_base >= 1.0:
            breaker = np.fromiter((self.is_breaker(int(t)) for t in recent), dtype=bool, count=recent.size)
            for token, length in dry_repeat_lengths(recent, breaker, control.dry_allowed_length).items():
                if not self.is_breaker(token):
                    row[token] -= dry_penalty(control, length)
