"""`MlxBackend`: load an MLX model folder, tokenize, and run one generation call.

The folder holds config.json + *.safetensors + tokenizer files (e.g. one written by `backends.mlx.convert`).
Prompts are rendered with the model's chat template through the same sandboxed renderer the llama.cpp
backend uses (`backends.chat_template`), so both backends see identical prompt text.

Per call:
1. prefill: the prompt tokens not already in the KV cache (`prompt_cache.PromptCache`) in `n_batch` chunks,
   until the logits of the last prompt token are evaluated -> `prompt_seconds` (no decode step inside,
   unlike mlx-lm's `prompt_tps`);
2. the first token is sampled from those logits -> `time_to_first_token`;
3. the rest: one of the two loops of `backends.mlx.decode`.
`peak_memory_bytes` is `mx.get_peak_memory()` after `mx.reset_peak_memory()` at the start of the call.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from backends.base import (
    BackendError,
    BackendUnavailable,
    Capabilities,
    Constraint,
    Generation,
    GenerationRequest,
    GenerationStats,
    LoadConfig,
    ModelLoadError,
    TokenCallback,
    UnsupportedCapability,
)
from backends.mlx import is_mlx_folder
from backends.mlx.decode import decode_constrained, decode_free
from backends.mlx.prompt_cache import PromptCache
from backends.prefix_cache import max_bytes_option
from backends.registry import INSTALL_HINTS
from backends.thinking import ThinkFormat, open_segment, requested_format


class MlxBackend:
    name = "mlx"
    capabilities = Capabilities(grammar_engines=("llguidance",), jump_forward=True, prefix_cache=True)

    def __init__(self) -> None:
        self.path: Path | None = None
        self.config: LoadConfig | None = None
        self._model: Any = None
        self._tokenizer: Any = None
        self._template: Any = None
        self._lltokenizer: Any = None
        self._vocab_size = 0
        self._cache: PromptCache | None = None

    def load(self, config: LoadConfig) -> None:
        path = Path(config.model).expanduser()
        if not is_mlx_folder(path):
            raise ModelLoadError(f"{path}: not an MLX model folder (expected config.json and *.safetensors)")
        try:
            import mlx.core  # noqa: F401
            from mlx_lm.utils import load as mlx_load
        except ImportError as err:
            raise BackendUnavailable(
                f"the MLX backend needs mlx and mlx-lm: {INSTALL_HINTS['mlx_lm']}"
            ) from err
        from backends.chat_template import ChatTemplate

        try:
            loaded: Any = mlx_load(str(path), return_config=True)
            model, tokenizer, model_config = loaded
        except Exception as err:  # mlx-lm raises ValueError/KeyError/RuntimeError/OSError for broken folders
            raise ModelLoadError(f"{path}: cannot load the MLX model: {type(err).__name__}: {err}") from err
        self.path, self.config = path, config
        self._model, self._tokenizer = model, tokenizer
        self._vocab_size = int(model_config.get("vocab_size") or len(tokenizer.get_vocab()))
        self._template = ChatTemplate.from_metadata(
            {"tokenizer.chat_template": getattr(tokenizer, "chat_template", None) or ""},
            bos_token=tokenizer.bos_token or "",
            eos_token=tokenizer.eos_token or "",
            where=str(path),
        )
        self._cache = PromptCache(model, max_bytes_option(config.options))

    def _require_model(self) -> Any:
        if self._model is None:
            raise BackendError("MLX backend: load() a model first")
        return self._model

    def tokenize(self, text: str, *, add_special: bool = False) -> list[int]:
        self._require_model()
        return list(self._tokenizer.encode(text, add_special_tokens=add_special))

    def detokenize(self, tokens: Sequence[int]) -> str:
        self._require_model()
        return str(self._tokenizer.decode(list(tokens)))

    def render(self, request: GenerationRequest, think: ThinkFormat | None = None) -> list[int]:
        """The prompt tokens of a request (chat template for messages, the raw prompt otherwise), with the
        thinking segment opened when `think` is given."""
        if request.prompt is not None:
            return self.tokenize(request.prompt, add_special=True)
        text = self._template.render(request.messages)
        return self.tokenize(open_segment(text, think) if think is not None else text, add_special=False)

    def generate(self, request: GenerationRequest, on_token: TokenCallback | None = None) -> Generation:
        import mlx.core as mx

        model = self._require_model()
        assert self.config is not None and self._cache is not None
        constraint = request.constraint
        if constraint is not None and constraint.engine not in self.capabilities.grammar_engines:
            raise UnsupportedCapability(f"MLX backend: grammar engine {constraint.engine!r} is not available")
        # compile before anything else: a ConstraintCompileError must not leave a half-done call behind
        grammar = self._grammar(constraint) if constraint is not None else None
        think = requested_format(request, self._template.source, str(self.path))
        prompt = self.render(request, think)
        room = self.config.n_ctx - len(prompt)
        if not prompt or room <= 0:
            return _error_generation(
                f"{self.path}: prompt of {len(prompt)} tokens does not fit n_ctx={self.config.n_ctx}",
                len(prompt),
            )
        mx.reset_peak_memory()
        started = time.perf_counter()
        seed = request.seed if request.seed is not None else self.config.seed
        mx.random.seed(seed)
        cache, reused = self._cache.reuse(prompt)
        logits = self._cache.prefill(prompt[reused:], self.config.n_batch)
        prompt_seconds = time.perf_counter() - started
        max_tokens = min(request.max_tokens, room)
        if grammar is None:
            run = decode_free(model, self._tokenizer, logits, cache, request, max_tokens, started, on_token)
        else:
            run = decode_constrained(
                model,
                cache,
                logits,
                grammar,
                request,
                max_tokens,
                started,
                on_token,
                self.config.n_ctx,
                self.eos_token_ids,
                think,
                self.tokenize,
            )
        self._cache.remember(prompt + run.fed)
        stats = GenerationStats.from_token_times(
            prompt_tokens=len(prompt),
            prompt_tokens_evaluated=len(prompt) - reused,
            prompt_seconds=prompt_seconds,
            token_times=tuple(run.token_times),
            forced_tokens=run.forced_tokens,
            mask_seconds=run.mask_seconds,
            peak_memory_bytes=int(mx.get_peak_memory()),
            reasoning_tokens=run.reasoning_tokens,
        )
        text = run.text if run.text is not None else self.detokenize(run.tokens)
        return Generation(
            text=_cut_at_stop(text, request.stop),
            tokens=tuple(run.tokens),
            finish_reason=run.finish_reason,
            constrained=constraint is not None,
            stats=stats,
            engine=constraint.engine if constraint is not None else None,
            error=run.error,
            reasoning=run.reasoning,
        )

    def _grammar(self, constraint: Constraint) -> Any:
        from backends.grammar.llguidance_engine import compile_json_schema, tokenizer_from_tokenizer_json

        assert self.path is not None
        if self._lltokenizer is None:
            self._lltokenizer = tokenizer_from_tokenizer_json(
                self.path / "tokenizer.json",
                n_vocab=self._vocab_size,
                eos_tokens=self.eos_token_ids,
            )
        return compile_json_schema(
            constraint.json_schema,
            self._lltokenizer,
            name=constraint.name,
            max_whitespace=constraint.max_whitespace,
        )

    @property
    def eos_token_ids(self) -> list[int]:
        return sorted(self._tokenizer.eos_token_ids)

    def memory_report(self) -> Mapping[str, int]:
        import mlx.core as mx
        from mlx.utils import tree_flatten

        model = self._require_model()
        parameters: Any = tree_flatten(model.parameters())
        weights = sum(int(array.nbytes) for _, array in parameters)
        return {
            "weights": weights,
            "kv_cache": self._cache.nbytes if self._cache is not None else 0,
            "prefix_cache": self._cache.saved.total_bytes if self._cache is not None else 0,
            "active": int(mx.get_active_memory()),
            "cache_pool": int(mx.get_cache_memory()),
        }

    def close(self) -> None:
        self._model = self._tokenizer = self._cache = self._lltokenizer = None
        try:
            import mlx.core as mx

            mx.clear_cache()
        except ImportError:
            return


def _error_generation(message: str, prompt_tokens: int) -> Generation:
    stats = GenerationStats(prompt_tokens, 0, 0.0, 0.0, 0, 0.0)
    return Generation(
        text="", tokens=(), finish_reason="error", constrained=False, stats=stats, error=message
    )


def _cut_at_stop(text: str, stop: Sequence[str]) -> str:
    cuts = [text.find(s) for s in stop if s and s in text]
    return text[: min(cuts)] if cuts else text
