"""mlx-lm's KV cache of one model, reused across calls by common prefix (like the llama.cpp backend's).

The live cache of the previous call is trimmed to the prefix it shares with the new prompt. After each call
the key/value arrays it holds are also saved (`backends.prefix_cache.PrefixStore`: bounded in bytes, least
recently used dropped first), and a saved state that shares a longer prefix with the next prompt than the
live cache does replaces it. At least the last prompt token is always evaluated, so that fresh logits exist.
Saved states need plain `KVCache` layers (what `make_prompt_cache` gives full-attention models); models with
rotating or recurrent caches keep the live reuse only.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from backends.prefix_cache import DEFAULT_MAX_BYTES, MIN_GAIN_TOKENS, PrefixStore, common_prefix

Arrays = list[tuple[Any, Any]]
"""Per layer (keys, values), each (batch, kv heads, tokens, head dim), holding exactly the saved tokens."""


class PromptCache:
    """The cache layers (`mlx_lm.models.cache.make_prompt_cache`) and the tokens they hold."""

    def __init__(self, model: Any, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.model = model
        self.layers: list[Any] | None = None
        self.tokens: list[int] = []
        self.saved: PrefixStore[Arrays] = PrefixStore(max_bytes)

    def reuse(self, prompt: list[int]) -> tuple[list[Any], int]:
        """The cache layers to continue from and how many prompt tokens they already hold."""
        from mlx_lm.models.cache import can_trim_prompt_cache, make_prompt_cache, trim_prompt_cache

        limit = len(prompt) - 1
        common = min(common_prefix(np.asarray(prompt, np.int32), np.asarray(self.tokens, np.int32)), limit)
        layers = self.layers
        self.tokens = []  # unknown until this call completes (an interrupted call leaves it empty)
        saved, n = self.saved.longest(prompt) if self.saved.max_bytes else (None, 0)
        if saved is not None and min(n, limit) >= common + MIN_GAIN_TOKENS:
            self.layers = _restore(saved.state, min(n, limit))
            return self.layers, min(n, limit)
        if layers and common > 0 and can_trim_prompt_cache(layers):
            trim_prompt_cache(layers, layers[0].offset - common)
            return layers, common
        self.layers = make_prompt_cache(self.model)
        return self.layers, 0

    def prefill(self, tokens: list[int], n_batch: int) -> Any:
        """Evaluate `tokens` into the cache in `n_batch` chunks; returns the evaluated logits row of the last."""
        import mlx.core as mx

        assert self.layers is not None
        step = max(n_batch, 1)
        chunks = [tokens[i : i + step] for i in range(0, len(tokens), step)]
        for chunk in chunks[:-1]:
            self.model(mx.array(chunk)[None], cache=self.layers)
            mx.eval([c.state for c in self.layers])
        logits = self.model(mx.array(chunks[-1])[None], cache=self.layers)[0, -1]
        mx.eval(logits)
        return logits

    def remember(self, fed: list[int]) -> None:
        """Record what the cache holds after a call (the first `offset` of every token fed to the model)
        and save its state for later calls."""
        self.tokens = fed[: self.layers[0].offset] if self.layers else []
        if not (self.saved.max_bytes and self.tokens and _plain(self.layers)):
            return
        if not self.saved.covers(self.tokens):
            arrays = _snapshot(self.layers or [])
            self.saved.add(self.tokens, arrays, sum(int(k.nbytes + v.nbytes) for k, v in arrays))

    @property
    def nbytes(self) -> int:
        return sum(int(getattr(c, "nbytes", 0)) for c in self.layers or [])


def _plain(layers: list[Any] | None) -> bool:
    from mlx_lm.models.cache import KVCache

    return bool(layers) and all(type(c) is KVCache and c.keys is not None for c in layers or [])


def _snapshot(layers: list[Any]) -> Arrays:
    """Copies of the live arrays cut to the tokens they hold: a slice is a new array, so the in-place
    updates of the live cache (`keys[..., a:b, :] = ...`) never reach a saved state."""
    import mlx.core as mx

    arrays = [(c.keys[..., : c.offset, :], c.values[..., : c.offset, :]) for c in layers]
    mx.eval(arrays)
    return arrays


def _restore(arrays: Arrays, n: int) -> list[Any]:
    """Fresh cache layers holding the first `n` saved tokens (new slices again, for the same reason)."""
    from mlx_lm.models.cache import KVCache

    layers = []
    for keys, values in arrays:
        layer = KVCache()
        layer.state = (keys[..., :n, :], values[..., :n, :], n)
        layers.append(layer)
    return layers
