"""A scripted model for the thinking decode (no model): whole-text tokens, a next-token table, and a matcher
that admits one fixed answer."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from numpy.typing import NDArray

WORDS = (
    "<eos>",
    "a",
    "b",
    "<think>\n",
    "</think>",
    "\n\n",
    "{",
    "}",
    "<|end|>",
    "<|start|>assistant<|channel|>final<|message|>",
)
EOS = 0


def tok(word: str) -> int:
    return WORDS.index(word)


def tokenize(text: str) -> list[int]:
    """Greedy longest match over WORDS (enough for the markers the thinking module forces)."""
    out = []
    while text:
        word = max((w for w in WORDS[1:] if text.startswith(w)), key=len)
        out.append(tok(word))
        text = text[len(word) :]
    return out


class WordSource:
    """Logits that favour `after[last evaluated word]` (margin 5; "a" by default), recording what it evaluated."""

    def __init__(self, after: Mapping[str, str]) -> None:
        self.after = after
        self.evaluated: list[str] = ["<prompt>"]

    def evaluate(self, tokens: Sequence[int]) -> bool:
        self.evaluated.extend(WORDS[t] for t in tokens)
        return True

    def logits(self) -> NDArray[np.float32]:
        row = np.zeros(len(WORDS), dtype=np.float32)
        row[tok(self.after.get(self.evaluated[-1], "a"))] = 5.0
        return row

    def token_bytes(self, token: int) -> bytes:
        return b"" if token == EOS else WORDS[token].encode()


class AnswerMatcher:
    """A TokenMatcher admitting exactly `answer` (no jump-forward), like a grammar with one document."""

    engine = "scripted"

    def __init__(self, answer: Sequence[str]) -> None:
        self.answer = [tok(w) for w in answer]
        self.at = 0

    def allows(self, token: int) -> bool:
        return self.at < len(self.answer) and token == self.answer[self.at]

    def mask_logits(self, logits: NDArray[np.float32]) -> None:
        keep = logits[self.answer[self.at]] if self.at < len(self.answer) else None
        logits[:] = -np.inf
        if keep is not None:
            logits[self.answer[self.at]] = keep

    def consume(self, token: int) -> bool:
        if not self.allows(token):
            return False
        self.at += 1
        return True

    def forced_tokens(self) -> list[int]:
        return []

    def is_accepting(self) -> bool:
        return self.at == len(self.answer)

    def is_done(self) -> bool:
        return self.is_accepting()

    def reset(self) -> None:
        self.at = 0
