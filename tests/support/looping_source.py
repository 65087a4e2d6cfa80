"""Scripted logits sources for decode-loop tests (no model): one letter per token."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

LETTERS = "abcdefgh"
EOS = len(LETTERS)
"""The end-of-generation token (never favoured: these sources loop until the budget runs out)."""


class LoopingSource:
    """Logits that always favour repeating the last `period` tokens: the next favourite is the token `period`
    steps back (margin 4 over the rest); the other letters rank by id. A model stuck in a loop, in short."""

    def __init__(self, prompt: str, period: int) -> None:
        self.tokens = [LETTERS.index(c) for c in prompt]
        self.period = period

    def evaluate(self, tokens: Sequence[int]) -> bool:
        self.tokens.extend(tokens)
        return True

    def logits(self) -> NDArray[np.float32]:
        row = -np.arange(len(LETTERS) + 1, dtype=np.float32) * 0.1
        row[EOS] = -100.0
        row[self.tokens[-self.period]] = 4.0
        return row

    def token_bytes(self, token: int) -> bytes:
        return LETTERS[token].encode() if token < len(LETTERS) else b""
