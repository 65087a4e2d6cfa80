"""Prompt reuse across calls for llama.cpp: sequence 0's KV cells saved in host memory after each call
(`llama_state_seq_get_data`, what `Llama.save_state` does for the whole context, without the logits) and
restored before a call whose prompt they serve better than the live context (`llama_state_seq_set_data`).
The policy (longest prefix, byte bound, least recently used) is `backends.prefix_cache.PrefixStore`.
"""

from __future__ import annotations

import ctypes
from collections.abc import Sequence

import llama_cpp
import numpy as np
from numpy.typing import NDArray

from backends.llama_cpp.sequence import KvSequence
from backends.prefix_cache import MIN_GAIN_TOKENS, PrefixStore, common_prefix

SEQ = 0
BYTES = ctypes.POINTER(ctypes.c_uint8)


class SavedStates:
    """The saved KV states of one context."""

    def __init__(self, max_bytes: int) -> None:
        self.store: PrefixStore[NDArray[np.uint8]] = PrefixStore(max_bytes)

    def reuse(self, sequence: KvSequence, prompt: Sequence[int]) -> int:
        """Leave in `sequence` the longest prefix of `prompt` that the live cache or a saved state holds
        (minus the last prompt token, whose logits must be fresh); returns how many tokens that is."""
        if self.store.max_bytes:
            limit = len(prompt) - 1
            live = common_prefix(np.asarray(sequence.tokens, np.int32), np.asarray(prompt, np.int32))
            saved, n = self.store.longest(prompt)
            if saved is not None and min(n, limit) >= min(live, limit) + MIN_GAIN_TOKENS:
                sequence.clear()
                data = saved.state.ctypes.data_as(BYTES)
                if llama_cpp.llama_state_seq_set_data(sequence.ctx, data, saved.nbytes, SEQ) == saved.nbytes:
                    sequence.tokens = saved.tokens.tolist()
                else:  # a state this context cannot take (never seen): evaluate afresh
                    sequence.clear()
        return sequence.keep_prefix(prompt)

    def save(self, sequence: KvSequence) -> None:
        """Keep the state of what the sequence holds now, unless a saved state already covers it."""
        if not self.store.max_bytes or not sequence.tokens or self.store.covers(sequence.tokens):
            return
        size = int(llama_cpp.llama_state_seq_get_size(sequence.ctx, SEQ))
        if size > self.store.max_bytes:
            return
        data = np.empty(size, dtype=np.uint8)  # not zero-filled: llama.cpp writes every byte it reports
        written = int(llama_cpp.llama_state_seq_get_data(sequence.ctx, data.ctypes.data_as(BYTES), size, SEQ))
        if written:
            self.store.add(sequence.tokens, data[:written], written)

    def clear(self) -> None:
        self.store.clear()
