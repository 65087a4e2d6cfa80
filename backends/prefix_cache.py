"""Saved model states of token prefixes, reused across calls: the library-neutral half of prompt reuse.

A backend saves the state of its sequence after each call (prompt and generated tokens) and, before the
next, restores the saved state sharing the longest prefix with the new prompt when that beats what its live
context already holds; the restored state is trimmed to the shared prefix, so a state saved after call A
serves any later prompt that starts like A's (the system prompt, the requirements, earlier phases).
What a state is (llama.cpp: bytes of one sequence's KV cells; MLX: per-layer key/value arrays) is the
backend's business (`backends/llama_cpp/prefix_cache.py`, `backends/mlx/prompt_cache.py`).

The store is bounded in bytes and drops the least recently used state first. A new state also replaces the
states whose tokens it mostly repeats (at least half of them are its prefix, e.g. the previous call of the
same tool: same instructions and project, another task): trimmed, it serves that shared part, and what only
the older state held (its task and answer) is not asked for again, since a retry follows its call at once
and finds it in the live context. So the bound holds one state per family of prompts (a tool's
instructions, a project) rather than the last few calls, which is what later phases and projects reuse.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import numpy as np
from numpy.typing import NDArray

from backends.base import BackendError

State = TypeVar("State")

DEFAULT_MAX_BYTES = 1 << 30
"""Host memory for saved states unless `prefix_cache_mb` says otherwise: a dozen 3k-token prompts of the
default model, one or two of a 27B model (whose KV cache takes ~0.2-0.5 MB per token)."""
MIN_GAIN_TOKENS = 16
"""Restore a saved state only when it serves this many more tokens than the live context: a restore copies
the whole state, which costs about as much as evaluating a handful of tokens."""


def max_bytes_option(options: Mapping[str, Any], default: int = DEFAULT_MAX_BYTES) -> int:
    """`prefix_cache_mb` from a backend's load options (0 turns saved states off), in bytes."""
    value = options.get("prefix_cache_mb")
    if value is None:
        return default
    try:
        mb = float(value)
    except (TypeError, ValueError):
        mb = -1.0
    if mb < 0:
        raise BackendError(
            f"prefix_cache_mb must be a number of MiB >= 0 (0: no saved states), got {value!r}; "
            "e.g. --backend-options '{\"prefix_cache_mb\": 2048}'"
        )
    return int(mb * (1 << 20))


def common_prefix(a: NDArray[np.int32], b: NDArray[np.int32]) -> int:
    """Length of the prefix two token arrays share."""
    n = min(a.shape[0], b.shape[0])
    differ = np.flatnonzero(a[:n] != b[:n])
    return int(differ[0]) if differ.size else n


@dataclass(frozen=True)
class Saved(Generic[State]):
    tokens: NDArray[np.int32]
    state: State
    nbytes: int


class PrefixStore(Generic[State]):
    """Saved states by their token sequence, least recently used first."""

    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.max_bytes = max_bytes
        self._saved: OrderedDict[bytes, Saved[State]] = OrderedDict()
        self.total_bytes = 0

    def __len__(self) -> int:
        return len(self._saved)

    def __iter__(self) -> Iterator[Saved[State]]:
        return iter(list(self._saved.values()))

    def longest(self, tokens: Sequence[int]) -> tuple[Saved[State] | None, int]:
        """The saved state sharing the longest prefix with `tokens`, and that length (marked as used)."""
        if not self._saved:
            return None, 0
        wanted = np.asarray(tokens, dtype=np.int32)
        best: tuple[bytes, Saved[State]] | None = None
        best_len = 0
        for key, saved in self._saved.items():
            n = common_prefix(saved.tokens, wanted)
            if n > best_len:
                best, best_len = (key, saved), n
        if best is None:
            return None, 0
        self._saved.move_to_end(best[0])
        return best[1], best_len

    def covers(self, tokens: Sequence[int]) -> bool:
        """A saved state already holds `tokens` as its prefix (saving them again would add nothing)."""
        wanted = np.asarray(tokens, dtype=np.int32)
        for key, saved in self._saved.items():
            if common_prefix(saved.tokens, wanted) == wanted.shape[0]:
                self._saved.move_to_end(key)
                return True
        return False

    def add(self, tokens: Sequence[int], state: State, nbytes: int) -> bool:
        """Keep `state` of `tokens`; False when it alone exceeds the bound (nothing is dropped then)."""
        if nbytes > self.max_bytes or not tokens:
            return False
        array = np.asarray(tokens, dtype=np.int32)
        for key in [k for k, s in self._saved.items() if 2 * common_prefix(s.tokens, array) >= len(s.tokens)]:
            self._drop(key)  # mostly the new state's prefix (see the module docstring)
        while self._saved and self.total_bytes + nbytes > self.max_bytes:
            self._drop(next(iter(self._saved)))
        self._saved[array.tobytes()] = Saved(array, state, nbytes)
        self.total_bytes += nbytes
        return True

    def _drop(self, key: bytes) -> None:
        self.total_bytes -= self._saved.pop(key).nbytes

    def clear(self) -> None:
        self._saved.clear()
        self.total_bytes = 0
