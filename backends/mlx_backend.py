"""MLX backend (mlx-lm): Metal on macOS, `mlx[cpu]` on Linux.

Loads an MLX model folder (config.json + *.safetensors + tokenizer files, e.g. one written by
`backends.mlx_convert`). Prompts are rendered with the model's chat template through the same sandboxed
renderer the llama.cpp backend uses (`backends.chat_template`), so both backends see identical prompt text.

Per call:
1. prefill: the prompt tokens not already in the KV cache (prefix reuse: the cache of the previous call is
   trimmed to the common prefix; at least the last prompt token is always evaluated) in `n_batch` chunks,
   until the logits of the last prompt token are evaluated -> `prompt_seconds` (no decode step inside,
   unlike mlx-lm's `prompt_tps`);
2. the first token is sampled from those logits -> `time_to_first_token`;
3. unconstrained: the rest comes from `mlx_lm.generate.generate_step` (the loop `stream_generate` uses, with
   its asynchronous evaluation), so decode speed is mlx-lm's own;
   constrained: the decode loop of `backends.grammar.decode` drives an llguidance matcher on numpy logits
   rows (llguidance's MLX bitmask kernel is Metal-only), with jump-forward of forced tokens.
`peak_memory_bytes` is `mx.get_peak_memory()` after `mx.reset_peak_memory()` at the start of the call.
End-of-generation tokens are not part of `Generation.tokens` (as in the llama.cpp backend).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from backends.base import (
    BackendError,
    BackendUnavailable,
    Capabilities,
    FinishReason,
    Generation,
    GenerationRequest,
    GenerationStats,
    LoadConfig,
    ModelLoadError,
    TokenCallback,
    UnsupportedCapability,
)

INSTALL_HINT = 'pip install -e ".[mlx]"'


def is_mlx_folder(path: Path) -> bool:
    return path.is_dir() and (path / "config.json").is_file() and any(path.glob("*.safetensors"))


class MlxBackend:
    name = "mlx"
    capabilities = Capabilities(
        grammar_engines=("llguidance",), jump_forward=True, streaming=True, prefix_cache=True
    )

    def __init__(self) -> None:
        self.path: Path | None = None
        self.config: LoadConfig | None = None
        self._model: Any = None
        self._tokenizer: Any = None
        self._template: Any = None
        self._lltokenizer: Any = None
        self._vocab_size = 0
        self._cache: list[Any] | None = None
        self._cached_tokens: list[int] = []

    def load(self, config: LoadConfig) -> None:
        path = Path(config.model).expanduser()
        if not is_mlx_folder(path):
            raise ModelLoadError(f"{path}: not an MLX model folder (expected config.json and *.safetensors)")
        try:
            import mlx.core  # noqa: F401
            from mlx_lm.utils import load as mlx_load
        except ImportError as err:
            raise BackendUnavailable(f"the MLX backend needs mlx and mlx-lm: {INSTALL_HINT}") from err
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
        self._cache, self._cached_tokens = None, []

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

    def render(self, request: GenerationRequest) -> list[int]:
        """The prompt tokens of a request (chat template for messages, the raw prompt otherwise)."""
        if request.prompt is not None:
            return self.tokenize(request.prompt, add_special=True)
        return self.tokenize(self._template.render(request.messages), add_special=False)

    def generate(self, request: GenerationRequest, on_token: TokenCallback | None = None) -> Generation:
        import mlx.core as mx

        model = self._require_model()
        assert self.config is not None
        constraint = request.constraint
        if constraint is not None and constraint.engine not in self.capabilities.grammar_engines:
            raise UnsupportedCapability(f"MLX backend: grammar engine {constraint.engine!r} is not available")
        grammar = (
            self._grammar(constraint) if constraint is not None else None
        )  # ConstraintCompileError first
        prompt = self.render(request)
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
        cache, reused = self._reuse_cache(prompt)
        logits = self._prefill(model, prompt[reused:], cache)
        prompt_seconds = time.perf_counter() - started
        max_tokens = min(request.max_tokens, room)
        if grammar is None:
            run = _decode_free(model, self._tokenizer, logits, cache, request, max_tokens, started, on_token)
        else:
            run = _decode_constrained(
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
            )
        self._cached_tokens = (prompt + run.fed)[: cache[0].offset] if cache else []
        stats = GenerationStats.from_token_times(
            prompt_tokens=len(prompt),
            prompt_tokens_evaluated=len(prompt) - reused,
            prompt_seconds=prompt_seconds,
            token_times=tuple(run.token_times),
            forced_tokens=run.forced_tokens,
            mask_seconds=run.mask_seconds,
            peak_memory_bytes=int(mx.get_peak_memory()),
        )
        text = run.text if run.text is not None else self.detokenize(run.tokens)
        finish: FinishReason = run.finish_reason
        return Generation(
            text=_cut_at_stop(text, request.stop),
            tokens=tuple(run.tokens),
            finish_reason=finish,
            constrained=constraint is not None,
            stats=stats,
            engine=constraint.engine if constraint is not None else None,
            error=run.error,
        )

    def _reuse_cache(self, prompt: list[int]) -> tuple[list[Any], int]:
        """The KV cache to continue from and how many prompt tokens it already holds."""
        from mlx_lm.models.cache import can_trim_prompt_cache, make_prompt_cache, trim_prompt_cache

        common = 0
        for a, b in zip(prompt, self._cached_tokens, strict=False):
            if a != b:
                break
            common += 1
        common = min(common, len(prompt) - 1)
        cache = self._cache
        self._cached_tokens = []  # unknown until this call completes (an interrupted call leaves it empty)
        if cache and common > 0 and can_trim_prompt_cache(cache):
            trim_prompt_cache(cache, cache[0].offset - common)
            return cache, common
        self._cache = make_prompt_cache(self._model)
        return self._cache, 0

    def _prefill(self, model: Any, tokens: list[int], cache: list[Any]) -> Any:
        """Evaluate `tokens` into `cache`; returns the evaluated logits row of the last one."""
        import mlx.core as mx

        assert self.config is not None
        step = max(self.config.n_batch, 1)
        chunks = [tokens[i : i + step] for i in range(0, len(tokens), step)]
        for chunk in chunks[:-1]:
            model(mx.array(chunk)[None], cache=cache)
            mx.eval([c.state for c in cache])
        logits = model(mx.array(chunks[-1])[None], cache=cache)[0, -1]
        mx.eval(logits)
        return logits

    def _grammar(self, constraint: Any) -> Any:
        from backends.grammar.llguidance_engine import compile_json_schema, tokenizer_from_tokenizer_json

        assert self.path is not None
        if self._lltokenizer is None:
            self._lltokenizer = tokenizer_from_tokenizer_json(
                self.path / "tokenizer.json",
                n_vocab=self._vocab_size,
                eos_tokens=sorted(self._tokenizer.eos_token_ids),
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
        kv = sum(int(getattr(c, "nbytes", 0)) for c in self._cache or [])
        return {
            "weights": weights,
            "kv_cache": kv,
            "active": int(mx.get_active_memory()),
            "cache_pool": int(mx.get_cache_memory()),
        }

    def close(self) -> None:
        self._model = self._tokenizer = self._cache = self._lltokenizer = None
        self._cached_tokens = []
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


@dataclass
class _Run:
    """What a decode loop produced; `fed` lists the tokens given to the model after the prompt, in order."""

    finish_reason: FinishReason = "length"
    tokens: list[int] = field(default_factory=list)
    fed: list[int] = field(default_factory=list)
    token_times: list[float] = field(default_factory=list)
    text: str | None = None
    forced_tokens: int = 0
    mask_seconds: float = 0.0
    error: str | None = None


def _decode_free(
    model: Any,
    tokenizer: Any,
    logits: Any,
    cache: list[Any],
    request: GenerationRequest,
    max_tokens: int,
    started: float,
    on_token: TokenCallback | None,
) -> _Run:
    """Sample the first token from the prefill logits, then continue with mlx-lm's `generate_step`."""
    import mlx.core as mx
    from mlx_lm.generate import generate_step
    from mlx_lm.sample_utils import make_sampler

    sampler = make_sampler(request.temperature, top_p=request.top_p if request.top_p < 1.0 else 0.0)
    eos = set(tokenizer.eos_token_ids)
    processors = []
    if request.ignore_eos and eos:
        ban = mx.zeros((logits.shape[-1],), dtype=logits.dtype)
        ban[mx.array(sorted(eos))] = -float("inf")
        processors.append(lambda _tokens, row: row + ban)
    detokenizer = tokenizer.detokenizer if on_token is not None or request.stop else None
    if detokenizer is not None:
        detokenizer.reset()
    run, window = _Run(), max((len(s) for s in request.stop), default=0)
    tail = ""

    def accept(token: int) -> bool:
        """Record one sampled token; True when generation ends here."""
        nonlocal tail
        now = time.perf_counter() - started
        if token in eos and not request.ignore_eos:
            run.finish_reason = "stop"
            return True
        run.tokens.append(token)
        run.token_times.append(now)
        if detokenizer is not None:
            detokenizer.add_token(token)
            piece = detokenizer.last_segment
            if on_token is not None:
                on_token(token, piece)
            tail = (tail + piece)[-(window + len(piece)) :]
            if window and any(s in tail for s in request.stop if s):
                run.finish_reason = "stop"
                return True
        return False

    if max_tokens <= 0:
        return run
    row = logits[None]
    for processor in processors:
        row = processor(None, row)
    sampled: Any = sampler(row - mx.logsumexp(row, keepdims=True))
    first = int(sampled.item())
    if accept(first) or max_tokens <= 1:
        return run
    run.fed.append(first)
    steps = generate_step(
        mx.array([first]),
        model,
        max_tokens=max_tokens - 1,
        sampler=sampler,
        logits_processors=processors or None,
        prompt_cache=cache,
    )
    for token, _ in steps:
        run.fed.append(int(token))
        if accept(int(token)):
            return run
    return run


class _MlxLogits:
    """`backends.grammar.decode.LogitsSource` over an mlx-lm model and its KV cache."""

    def __init__(self, model: Any, cache: list[Any], row: Any, grammar: Any, n_ctx: int) -> None:
        self.model, self.cache, self.row, self.n_ctx = model, cache, row, n_ctx
        self.lltokenizer = grammar.tokenizer
        self.fed: list[int] = []

    def evaluate(self, tokens: Sequence[int]) -> bool:
        import mlx.core as mx

        if self.cache[0].offset + len(tokens) > self.n_ctx:
            return False
        self.row = self.model(mx.array(list(tokens))[None], cache=self.cache)[0, -1]
        self.fed.extend(tokens)
        return True

    def logits(self) -> Any:
        import mlx.core as mx
        import numpy as np

        return np.array(self.row.astype(mx.float32), copy=True)

    def token_bytes(self, token: int) -> bytes:
        return bytes(self.lltokenizer.decode_bytes([token]))


def _decode_constrained(
    model: Any,
    cache: list[Any],
    logits: Any,
    grammar: Any,
    request: GenerationRequest,
    max_tokens: int,
    started: float,
    on_token: TokenCallback | None,
    n_ctx: int,
    eos_tokens: Sequence[int],
) -> _Run:
    """The shared grammar decode loop (llguidance matcher, jump-forward) on numpy logits rows."""
    from backends.grammar.decode import Sampling, run_decode

    assert request.constraint is not None
    source = _MlxLogits(model, cache, logits, grammar, n_ctx)
    sampling = Sampling(
        max_tokens=max_tokens,
        temperature=request.temperature,
        top_p=request.top_p,
        seed=request.seed or 0,
        stop=request.stop,
        ignore_eos=request.ignore_eos,
        jump_forward=request.constraint.jump_forward,
    )
    result = run_decode(
        source,
        sampling=sampling,
        eog_tokens=eos_tokens,
        matcher=grammar.matcher(),
        started=started,
        on_token=on_token,
    )
    return _Run(
        finish_reason=result.finish_reason,
        tokens=list(result.tokens),
        fed=source.fed,
        token_times=list(result.token_times),
        text=result.text,
        forced_tokens=result.forced_tokens,
        mask_seconds=sum(result.grammar_seconds),
        error=result.error,
    )
