"""The backend contract: a small Protocol plus frozen value types.

`backends/` knows nothing about the benchmark: a backend loads a model, tokenizes, and generates text,
optionally under a constraint described neutrally as a JSON Schema. The runner sees backends only
through this module and `backends.registry`.

Stats have the same names and meanings on every backend:
- prompt_tokens: tokens of the rendered prompt; prompt_tokens_evaluated: those actually evaluated
  after prefix reuse (prompt_tokens - prompt_tokens_evaluated were served from the cache).
- prompt_seconds: wall time from the start of the call until the logits of the last prompt token are ready
  (prefill only, no decode step — unlike mlx-lm's prompt_tps).
- time_to_first_token: wall time from the start of the call until the first generated token is known.
- generated_tokens: tokens appended after the prompt, sampled or forced; forced_tokens: of those, appended
  by jump-forward without sampling.
- generation_seconds: wall time from the first generated token until the last one is known, so that
  generation_tps = (generated_tokens - 1) / generation_seconds counts inter-token time only.
- mask_seconds: total time spent computing grammar masks (0 when unconstrained).
- compile_seconds: time spent compiling the call's constraint into a grammar before the call's clock
  starts (0 when unconstrained or served from the backend's compiled-grammar cache).
- peak_memory_bytes: the backend's own peak figure for the call (MLX: mx.get_peak_memory after a reset;
  llama.cpp: model + context + compute buffers) or None where the backend cannot tell.
- token_times: monotonic seconds since the start of the call at which each generated token became known
  (inter-token latency distribution).
- reasoning_tokens: of generated_tokens, those of the thinking segment before the answer (`think_tokens`),
  its closing marker included; 0 without thinking.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

FinishReason = Literal["stop", "length", "grammar", "error"]
"""stop: end-of-generation token or a stop string; length: max_tokens reached;
grammar: the constraint reached an accepting end state; error: the backend gave up (see Generation.error)."""


class BackendError(Exception):
    """Base of every error a backend raises; the message names the model path or URL."""


class BackendUnavailable(BackendError):
    """The backend's package is not installed; the message is a one-line install hint."""


class ModelLoadError(BackendError):
    """The model file or folder is missing, truncated, or not a model this backend can load."""


class UnsupportedCapability(BackendError):
    """The caller asked for a feature (e.g. a grammar engine) that this backend lacks."""


class ConstraintCompileError(BackendError):
    """A grammar engine could not compile a schema. Never silently replaced by 'any JSON'."""

    def __init__(self, engine: str, schema_name: str, reason: str) -> None:
        super().__init__(f"grammar engine {engine!r} cannot compile schema {schema_name!r}: {reason}")
        self.engine = engine
        self.schema_name = schema_name


class RemoteError(BackendError):
    """An HTTP backend's server is down, too slow, or answered something that is not the protocol."""


@dataclass(frozen=True)
class Capabilities:
    """What a backend can do, as data: the harness decides before it calls."""

    grammar_engines: tuple[str, ...] = ()
    """Engines that enforce a constraint while decoding on this backend (e.g. "llguidance", "gbnf")."""
    jump_forward: bool = False
    """A constraint's forced tokens are appended without sampling (`GenerationStats.forced_tokens`)."""
    native_tool_calls: bool = False
    """The server takes `tools` + forced `tool_choice` itself (OpenAI-compatible HTTP)."""
    prefix_cache: bool = False
    """A prompt that repeats the previous call's prefix evaluates only the new suffix."""
    token_level: bool = True
    """`Generation.tokens` are the ids the model generated, one per generated token, and `on_token` receives
    exactly those ids. False over HTTP: the server sends text, and its ids come from tokenizing it afterwards."""
    parallel_calls: bool = False
    """`generate` may be called from several threads at once (a server queues the requests or serves them in
    parallel slots). A model loaded in this process serves one call at a time."""


@dataclass(frozen=True)
class LoadConfig:
    """How to load a model. `model` is a GGUF path, an MLX folder, or a model name on an HTTP server."""

    model: str
    n_ctx: int = 4096
    n_threads: int | None = None
    n_gpu_layers: int = 0
    n_batch: int = 512
    seed: int = 0
    options: Mapping[str, Any] = field(default_factory=dict)
    """Backend-specific settings (e.g. base_url, api_key, timeout_s for HTTP)."""


@dataclass(frozen=True)
class Message:
    role: Literal["system", "user", "assistant", "tool"]
    content: str


@dataclass(frozen=True)
class Constraint:
    """A neutral description of what the output must be; each backend compiles it with `engine`."""

    json_schema: Mapping[str, Any]
    name: str = "output"
    """Tool/schema name, used in errors and as the forced tool's name on HTTP backends."""
    engine: str = "llguidance"
    jump_forward: bool = True
    max_whitespace: int = 2
    """Longest run of whitespace the grammar allows between JSON tokens (bounds degenerate output)."""


@dataclass(frozen=True)
class RepetitionControl:
    """Penalties on repeated tokens and spans, applied to the logits of sampled steps before any grammar mask
    (tokens forced by jump-forward are never sampled, so never penalised). The history is the call's own
    generated tokens (forced ones included), never the prompt. Every strength at 0 turns its penalty off.
    Semantics follow llama.cpp's samplers (see backends/repetition.py)."""

    presence_penalty: float = 0.0
    """Subtracted once from the logit of every token seen in the last `window` generated tokens."""
    frequency_penalty: float = 0.0
    """Subtracted per occurrence in the last `window` generated tokens."""
    window: int = 256
    """How many of the latest generated tokens the penalties look at (DRY too)."""
    dry_multiplier: float = 0.0
    """DRY: a token that would extend a repeat of n >= allowed_length tokens loses multiplier * base^(n - allowed)."""
    dry_base: float = 1.75
    dry_allowed_length: int = 2
    dry_breakers: tuple[str, ...] = ("\n", ":", '"', "*")
    """A token whose text contains one of these ends every repeat (llama.cpp's defaults)."""

    @property
    def active(self) -> bool:
        return self.window > 0 and (
            self.presence_penalty != 0.0 or self.frequency_penalty != 0.0 or self.dry_multiplier > 0.0
        )


@dataclass(frozen=True)
class GenerationRequest:
    """Either chat `messages` (rendered with the model's own chat template) or a raw `prompt`."""

    messages: tuple[Message, ...] = ()
    prompt: str | None = None
    max_tokens: int = 256
    temperature: float = 0.0
    top_p: float = 1.0
    seed: int | None = None
    stop: tuple[str, ...] = ()
    constraint: Constraint | None = None
    ignore_eos: bool = False
    """Keep generating past end-of-generation (throughput benchmarks measure a fixed length)."""
    repetition: RepetitionControl | None = None
    think_tokens: int = 0
    """With a constraint: first let the model reason freely for up to this many tokens inside its own thinking
    segment (think tags or an analysis channel), then decode the answer under the constraint. A model without
    a thinking format raises `UnsupportedCapability`."""


@dataclass(frozen=True)
class GenerationStats:
    prompt_tokens: int
    prompt_tokens_evaluated: int
    prompt_seconds: float
    time_to_first_token: float
    generated_tokens: int
    generation_seconds: float
    forced_tokens: int = 0
    mask_seconds: float = 0.0
    peak_memory_bytes: int | None = None
    token_times: tuple[float, ...] = ()
    compile_seconds: float = 0.0
    reasoning_tokens: int = 0

    @classmethod
    def from_token_times(
        cls,
        *,
        prompt_tokens: int,
        prompt_tokens_evaluated: int,
        prompt_seconds: float,
        token_times: tuple[float, ...],
        forced_tokens: int = 0,
        mask_seconds: float = 0.0,
        peak_memory_bytes: int | None = None,
        compile_seconds: float = 0.0,
        reasoning_tokens: int = 0,
    ) -> GenerationStats:
        """Stats of a decode loop that timestamped every token (TTFT and decode time follow from them)."""
        return cls(
            prompt_tokens=prompt_tokens,
            prompt_tokens_evaluated=prompt_tokens_evaluated,
            prompt_seconds=prompt_seconds,
            time_to_first_token=token_times[0] if token_times else prompt_seconds,
            generated_tokens=len(token_times),
            generation_seconds=token_times[-1] - token_times[0] if token_times else 0.0,
            forced_tokens=forced_tokens,
            mask_seconds=mask_seconds,
            peak_memory_bytes=peak_memory_bytes,
            token_times=token_times,
            compile_seconds=compile_seconds,
            reasoning_tokens=reasoning_tokens,
        )

    @property
    def prompt_tps(self) -> float:
        return self.prompt_tokens_evaluated / self.prompt_seconds if self.prompt_seconds > 0 else 0.0

    @property
    def generation_tps(self) -> float:
        steps = self.generated_tokens - 1
        return steps / self.generation_seconds if steps > 0 and self.generation_seconds > 0 else 0.0


@dataclass(frozen=True)
class Generation:
    text: str
    tokens: tuple[int, ...]
    finish_reason: FinishReason
    constrained: bool
    """True only when the constraint was enforced while decoding (not merely validated afterwards)."""
    stats: GenerationStats
    engine: str | None = None
    """What enforced the constraint: a grammar engine ("llguidance", "gbnf"), or on an HTTP server how it was
    asked ("server:json_schema", "server:json_object", "server:ollama", "server:tool"); None when nothing did."""
    error: str | None = None
    reasoning: str = ""
    """The thinking segment's text (without its markers) when `think_tokens` was asked for; `text` is the
    answer after it, and `tokens` holds the reasoning tokens first, then the answer's."""


TokenCallback = Callable[[int, str], None]
"""Called with (token id, its text) as each token becomes known; raising KeyboardInterrupt stops the call."""


@runtime_checkable
class Backend(Protocol):
    name: str
    capabilities: Capabilities

    def load(self, config: LoadConfig) -> None: ...

    def tokenize(self, text: str, *, add_special: bool = False) -> list[int]: ...

    def detokenize(self, tokens: Sequence[int]) -> str: ...

    def generate(self, request: GenerationRequest, on_token: TokenCallback | None = None) -> Generation: ...

    def memory_report(self) -> Mapping[str, int]:
        """The backend's own memory figures in bytes (weights, KV cache, compute buffers, ...)."""
        ...

    def close(self) -> None: ...
