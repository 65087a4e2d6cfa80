"""mlx-lm's KV cache of one model, reused across calls by common prefix (like the llama.cpp backend's).

The cache of the previous call is trimmed to the prefix it shares with the new prompt; at least the last
prompt token is always evaluated, so that fresh logits exist.
"""

from __future__ import annotations

from typing import Any


class PromptCache:
    """The cache layers (`mlx_lm.models.cache.make_prompt_cache`) and the tokens they hold."""

    def __init__(self, model: Any) -> None:
        self.model = model
        self.layers: list[Any] | None = None
        self.tokens: list[int] = []

    def reuse(self, prompt: list[int]) -> tuple[list[Any], int]:
        """The cache layers to continue from and how many prompt tokens they already hold."""
        from mlx_lm.models.cache import can_trim_prompt_cache, make_prompt_cache, trim_prompt_cache

        common = 0
        for a, b in zip(prompt, self.tokens, strict=False):
            if a != b:
                break
            common += 1
        common = min(common, len(prompt) - 1)
        layers = self.layers
        self.tokens = []  # unknown until this call completes (an interrupted call leaves it empty)
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
        """Record what the cache holds after a call: the first `offset` of every token fed to the model."""
        self.tokens = fed[: self.layers[0].offset] if self.layers else []

    @property
    def nbytes(self) -> int:
        return sum(int(getattr(c, "nbytes", 0)) for c in self.layers or [])
