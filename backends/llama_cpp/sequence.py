"""Sequence 0 of a llama.cpp context: the tokens held in its KV cache, prefix reuse, batched evaluation.

The next call evaluates only the suffix after the longest prefix it shares with the cached tokens, the way
`Llama.generate` does (at least one token is replayed so that fresh logits exist).
"""

from __future__ import annotations

import ctypes
from collections.abc import Sequence
from typing import Any

import llama_cpp
import numpy as np
from numpy.typing import NDArray

from backends.base import BackendError


class KvSequence:
    """The tokens in the context's KV cache and one reusable decode batch of `n_batch` slots."""

    def __init__(self, ctx: Any, n_ctx: int, n_batch: int, n_vocab: int) -> None:
        self.ctx = ctx
        self.n_ctx = n_ctx
        self.n_batch = n_batch
        self.n_vocab = n_vocab
        self.tokens: list[int] = []
        self.batch = llama_cpp.llama_batch_init(n_batch, 0, 1)
        # a window-sized SWA cache (swa_full=False) overwrites cells older than the window
        self.n_swa = int(llama_cpp.llama_model_n_swa(llama_cpp.llama_get_model(ctx)))

    def close(self) -> None:
        llama_cpp.llama_batch_free(self.batch)

    def clear(self) -> None:
        llama_cpp.llama_memory_clear(llama_cpp.llama_get_memory(self.ctx), True)
        self.tokens = []

    def keep_prefix(self, tokens: Sequence[int]) -> int:
        """Drop cached tokens after the longest prefix shared with `tokens` (minus one, so the last
        token is re-evaluated and its logits are fresh); returns how many are kept."""
        keep = 0
        for cached, new in zip(self.tokens, tokens, strict=False):
            if cached != new:
                break
            keep += 1
        keep = min(keep, len(tokens) - 1)
        if keep < len(self.tokens):
            mem = llama_cpp.llama_get_memory(self.ctx)
            # the window before `keep` must still be cached for the sliding-window layers (llama-server's test)
            gone = self.n_swa > 0 and llama_cpp.llama_memory_seq_pos_min(mem, 0) > max(0, keep - self.n_swa)
            if keep <= 0 or gone or not llama_cpp.llama_memory_seq_rm(mem, -1, keep, -1):
                self.clear()
                return 0
            del self.tokens[keep:]
        return keep

    def evaluate(self, tokens: Sequence[int]) -> bool:
        """Append `tokens` in `n_batch` chunks; False (and an emptied cache) when the context is full."""
        if len(self.tokens) + len(tokens) > self.n_ctx:
            return False
        batch = self.batch
        for start in range(0, len(tokens), self.n_batch):
            chunk = tokens[start : start + self.n_batch]
            n_past = len(self.tokens)
            for i, token in enumerate(chunk):
                batch.token[i] = token
                batch.pos[i] = n_past + i
                batch.n_seq_id[i] = 1
                batch.seq_id[i][0] = 0
                batch.logits[i] = False
            batch.logits[len(chunk) - 1] = True
            batch.n_tokens = len(chunk)
            code = llama_cpp.llama_decode(self.ctx, batch)
            if code != 0:
                self.clear()
                if code == 1:  # no KV slot for the batch: the context is full
                    return False
                raise BackendError(f"llama_decode failed with code {code}")
            self.tokens.extend(chunk)
        llama_cpp.llama_synchronize(self.ctx)
        return True

    def logits(self) -> NDArray[np.float32]:
        pointer = llama_cpp.llama_get_logits_ith(self.ctx, -1)
        return np.ctypeslib.as_array(pointer, shape=(self.n_vocab,))


class SequenceSource:
    """The decode loop's view of a sequence (see backends.grammar.decode.LogitsSource)."""

    def __init__(self, sequence: KvSequence, pieces: dict[int, bytes], vocab: Any) -> None:
        self.sequence = sequence
        self.pieces = pieces
        """token id -> its bytes, shared across calls (filled on first sight)."""
        self.vocab = vocab
        self.evaluate = sequence.evaluate
        self.logits = sequence.logits

    def token_bytes(self, token: int) -> bytes:
        piece = self.pieces.get(token)
        if piece is None:
            buffer = ctypes.create_string_buffer(256)
            n = llama_cpp.llama_token_to_piece(self.vocab, token, buffer, 256, 0, True)
            piece = self.pieces[token] = buffer.raw[: max(n, 0)]
        return piece
