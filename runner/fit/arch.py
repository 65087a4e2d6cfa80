"""A backend-neutral description of what a model keeps in memory, built from a GGUF header, a Hugging Face /
MLX config.json, or a models.toml entry.

Each layer says what its cache holds per token (real key/value sizes, not hidden/heads), whether it is a
sliding-window layer (holding only its window), a recurrent / linear-attention layer (a constant state), or
an MLA layer (a compressed latent).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from runner.fit.gguf_header import GGUFHeader, TensorInfo

LayerKind = Literal["full", "swa", "recurrent"]

# llama.cpp hard-codes the sliding-window pattern for these architectures when the GGUF has no key for it
# (llama-model.cpp: set_swa_pattern); N means every Nth layer is a full-attention layer.
# ggml types the CPU backend repacks for its matrix kernels (ggml-cpu repack: Q4_0, Q4_K, IQ4_NL); the
# mmapped original stays resident too, so on a CPU these weights count twice in RSS.
CPU_REPACK_TYPES = frozenset({2, 12, 20})
GGUF_SWA_PATTERN_DEFAULTS = {"gemma2": 2, "gemma3": 6, "gemma3n": 5, "cohere2": 4, "gpt-oss": 2}


@dataclass(frozen=True)
class LayerCache:
    kind: LayerKind
    k_elems: int = 0  # cached key elements per token (kv_heads x key_length, or the MLA latent + rope key)
    v_elems: int = 0
    window: int = 0  # sliding-window layers
    state_bytes: int = 0  # recurrent layers: constant state per sequence (f32)


@dataclass(frozen=True)
class ModelArch:
    arch: str
    n_layers: int
    n_embd: int
    n_vocab: int
    n_head: int
    n_ff: int  # widest FFN intermediate per token (MoE: expert width x experts used)
    head_dim: int  # query/key head size (real, not hidden/heads)
    layers: tuple[LayerCache, ...]
    max_context: int | None = None
    n_params: int | None = None
    weights_bytes: int | None = None
    active_weights_bytes: int | None = None  # MoE: bytes read per token; dense: = weights_bytes
    n_tensors: int = 0
    n_merges: int = 0  # BPE merges in the tokenizer (their map is a visible part of the runtime overhead)
    cpu_repack_bytes: int = (
        0  # weights llama.cpp's CPU backend copies into an interleaved layout (see memory)
    )
    n_expert: int = 0
    n_expert_used: int = 0
    unread_bytes: int = 0
    """Weights one decode step does not read: the token-embedding table of a model with its own output head
    (only one row of it is looked up); a tied table is read whole as the output head."""
    prompt_params: int | None = None
    """Parameters multiplying every prompt token: all active ones but the token embedding and the output head,
    which llama.cpp evaluates for the last prompt token only. None: unknown (the total is used)."""
    prompt_params_by_type: tuple[tuple[str, int], ...] = ()
    """`prompt_params` split by ggml type name (("Q4_K", n), ...): each type has its own matrix kernel, whose
    speed differs several-fold (runner.fit.kernels). Empty when the tensors are unknown (no GGUF)."""
    source: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def is_moe(self) -> bool:
        return self.n_expert > 0

    def count(self, kind: LayerKind) -> int:
        return sum(1 for layer in self.layers if layer.kind == kind)


def token_terms(tensors: Sequence[TensorInfo], n_expert: int, used: int) -> tuple[int, int]:
    """(unread_bytes, prompt_params) of a GGUF's tensors (see ModelArch)."""
    embd = next((t for t in tensors if t.name == "token_embd.weight"), None)
    output = next((t for t in tensors if t.name == "output.weight"), None)
    by_type = prompt_params_by_type(tensors, n_expert, used)
    return (embd.n_bytes if embd and output else 0), sum(n for _, n in by_type)


def prompt_params_by_type(
    tensors: Sequence[TensorInfo], n_expert: int, used: int
) -> tuple[tuple[str, int], ...]:
    """The parameters that multiply every prompt token (active weights of more than one dimension, but the
    token embedding and the output head), summed per ggml type name, largest first."""
    from gguf import GGMLQuantizationType

    sums: dict[str, int] = {}
    for t in tensors:
        if t.name in ("token_embd.weight", "output.weight") or len(t.shape) < 2:
            continue
        n = t.n_elements * used // n_expert if n_expert and "_exps." in t.name else t.n_elements
        try:
            name = GGMLQuantizationType(t.ggml_type).name
        except ValueError:
            name = str(t.ggml_type)
        sums[name] = sums.get(name, 0) + n
    return tuple(sorted(sums.items(), key=lambda item: -item[1]))


def _per_layer(value: Any, n_layers: int, default: int) -> list[int]:
    if isinstance(value, list) and len(value) == n_layers:
        return [int(v) for v in value]
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return [int(value)] * n_layers
    return [default] * n_layers


def swa_flags(n_layers: int, pattern: int | list[Any] | None) -> list[bool]:
    """Which layers use the sliding window. An int N follows llama.cpp: layer i is local unless i % N == N-1."""
    if isinstance(pattern, list) and len(pattern) == n_layers:
        return [bool(v) for v in pattern]
    if isinstance(pattern, int) and pattern > 0:
        return [i % pattern < pattern - 1 for i in range(n_layers)]
    return [True] * n_layers if pattern == 0 else [False] * n_layers


def recurrent_state_bytes(conv_kernel: int, inner: int, groups: int, state: int) -> int:
    """Mamba2 / Gated DeltaNet state per layer, f32: conv state + recurrent state (llama.cpp hparams)."""
    conv = max(conv_kernel - 1, 0) * (inner + 2 * groups * state)
    return 4 * (conv + state * inner)


def arch_from_gguf(header: GGUFHeader) -> ModelArch:
    get = header.arch_value
    n_layers = int(get("block_count", 0))
    if n_layers <= 0:
        from runner.fit.gguf_header import GGUFHeaderError

        raise GGUFHeaderError(header.source, 0, f"{header.architecture}.block_count is missing")
    n_embd = int(get("embedding_length", 0))
    heads = _per_layer(get("attention.head_count"), n_layers, 1)
    kv_heads = _per_layer(get("attention.head_count_kv"), n_layers, heads[0])
    n_head = max(heads)
    key_len = int(get("attention.key_length", n_embd // max(n_head, 1)))
    value_len = int(get("attention.value_length", key_len))
    window = int(get("attention.sliding_window", 0) or 0)
    pattern = get("attention.sliding_window_pattern", GGUF_SWA_PATTERN_DEFAULTS.get(header.architecture))
    swa = swa_flags(n_layers, pattern) if window else [False] * n_layers
    kv_lora = int(get("attention.kv_lora_rank", 0) or 0)
    rope_dim = int(get("rope.dimension_count", 0) or 0)
    interval = int(get("full_attention_interval", 0) or 0)
    state = recurrent_state_bytes(
        int(get("ssm.conv_kernel", 0) or 0), int(get("ssm.inner_size", 0) or 0),
        int(get("ssm.group_count", 0) or 0), int(get("ssm.state_size", 0) or 0),
    )  # fmt: skip
    layers: list[LayerCache] = []
    for i in range(n_layers):
        recurrent = state > 0 and ((interval and (i + 1) % interval) or (not interval and kv_heads[i] == 0))
        if recurrent:
            layers.append(LayerCache("recurrent", state_bytes=state))
        elif kv_lora:
            layers.append(LayerCache("full", k_elems=kv_lora + rope_dim, v_elems=0))
        else:
            kind: LayerKind = "swa" if swa[i] else "full"
            layers.append(
                LayerCache(kind, kv_heads[i] * key_len, kv_heads[i] * value_len, window if swa[i] else 0)
            )
    n_expert = int(get("expert_count", 0) or 0)
    used = int(get("expert_used_count", 0) or 0)
    ff = max(_per_layer(get("feed_forward_length"), n_layers, 4 * n_embd))
    if n_expert:
        ff = max(ff, int(get("expert_feed_forward_length", ff) or ff) * max(used, 1))
    weights = header.tensor_bytes
    expert_bytes = sum(t.n_bytes for t in header.tensors if "_exps." in t.name)
    active = weights - expert_bytes + (expert_bytes * used // n_expert if n_expert else 0)
    vocab = int(get("vocab_size", 0) or 0) or _vocab_from_header(header)
    unread, prompt_params = token_terms(header.tensors, n_expert, used)
    by_type = prompt_params_by_type(header.tensors, n_expert, used)
    return ModelArch(
        arch=header.architecture, n_layers=n_layers, n_embd=n_embd, n_vocab=vocab, n_head=n_head, n_ff=ff, head_dim=key_len,
        layers=tuple(layers), max_context=get("context_length"), n_params=header.n_params,
        weights_bytes=weights, active_weights_bytes=active, n_tensors=len(header.tensors),
        n_expert=n_expert, n_expert_used=used, source=header.source,
        n_merges=int(getattr(header.metadata.get("tokenizer.ggml.merges"), "count", 0) or 0),
        cpu_repack_bytes=_cpu_repack_bytes(header), unread_bytes=unread, prompt_params=prompt_params,
        prompt_params_by_type=by_type,
    )  # fmt: skip


def _cpu_repack_bytes(header: GGUFHeader) -> int:
    return sum(
        t.n_bytes
        for t in header.tensors
        if t.ggml_type in CPU_REPACK_TYPES
        and len(t.shape) > 1
        and t.shape[1] % 8 == 0
        and not t.name.startswith("token_embd")
    )


def _vocab_from_header(header: GGUFHeader) -> int:
    tokens = header.metadata.get("tokenizer.ggml.tokens")
    count = getattr(tokens, "count", None)
    if count is not None:
        return int(count)
    if isinstance(tokens, list):
        return len(tokens)
    embd = next((t for t in header.tensors if t.name == "token_embd.weight"), None)
    return int(embd.shape[1]) if embd and len(embd.shape) > 1 else 0
