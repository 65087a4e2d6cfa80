"""Memory model: weights + KV cache + compute buffers + runtime overhead, each term shown.

KV cache: per layer, with the layer's real cached sizes; sliding-window layers hold only their window
(llama.cpp: PAD(window x sequences + n_ubatch, 256) cells per stream unless the full-size SWA cache is requested;
mlx-lm's RotatingKVCache: the window plus one prefill step while a prompt is evaluated), recurrent layers a
constant f32 state per sequence, MLA layers the compressed latent. llama.cpp keeps one stream of cells shared
by all sequences when the cache is unified (llama-server's default with parallel slots), else one per sequence.

Compute buffer: llama.cpp sizes it by reserving the worst-case graph of one micro-batch (n_ubatch tokens)
against a full cache, and ggml-alloc reuses memory between layers, so its size is the peak of the live tensors
of one layer, not a sum over layers. We model three phases of that graph and take the largest:
attention (masks, Q/K/V, and without flash attention the n_kv x n_ubatch x n_head score matrix), the FFN
(gate and up projections), and the output (logits for the outputs of the batch). llama.cpp reserves logits
for every token of the micro-batch; on Metal that reservation is wired memory, so the reserved size is the
one that must fit (device "metal"). On a CPU the buffer is plain virtual memory and a real run writes only
the logits it asks for, so only that part becomes resident (device "cpu", what peak RSS shows).

Runtime overhead: the process itself (interpreter, libraries), the vocabulary tables and the output buffer.
The two constants below were calibrated on this machine against llama-cpp-python 0.3.36 (scripts/bench_fit.py):
they are properties of the runtime, not of any one model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from runner.fit.arch import ModelArch

KV_TYPES = {"f32": 4.0, "f16": 2.0, "bf16": 2.0, "q8_0": 34 / 32, "q5_1": 24 / 32, "q5_0": 22 / 32,
            "q4_1": 20 / 32, "q4_0": 18 / 32, "iq4_nl": 18 / 32}  # fmt: skip
CTX_PAD = 256
RUNTIME_BASE_BYTES = 46 << 20  # measured: python + llama_cpp + numpy imported, before loading (45.8 MiB RSS)
# measured after load, minus weights, KV and output buffer: Gemma 3 (262,144 SPM tokens) 47.0 MiB,
# SmolLM2 (49,152 BPE tokens + 48,900 merges) 20.5 MiB -> per token and per merge:
VOCAB_BYTES_PER_TOKEN = 188  # llama.cpp vocabulary: token text, id maps, scores, piece cache
BYTES_PER_MERGE = 250  # BPE merge ranks map
# measured on this machine: mlx + mlx_lm imported (75 MiB) and SmolLM2's MLX folder loaded, less its weights and
# the vocabulary terms below; calibrated on that one model, so the split between the two is an assumption
MLX_RUNTIME_BASE_BYTES = 118 << 20

Device = Literal["metal", "cpu"]


@dataclass(frozen=True)
class RuntimeConfig:
    ctx: int = 4096
    n_ubatch: int = 512  # mlx: the prefill step (mlx-lm evaluates a prompt 2048 tokens at a time)
    type_k: str = "f16"
    type_v: str = "f16"
    flash_attn: bool = False
    swa_full: bool = False
    n_seq: int = 1
    kv_unified: bool = False
    saved_state_limit: int = 0  # host memory for KV states kept for prompt reuse (lapbench's prefix cache)
    device: Device = "metal"
    backend: Literal["llama-cpp", "mlx"] = "llama-cpp"  # the backend registry's names

    @property
    def streams(self) -> int:
        """KV streams llama.cpp allocates: one shared by every sequence when unified, else one each."""
        return 1 if self.kv_unified else self.n_seq


@dataclass(frozen=True)
class MemoryEstimate:
    weights_bytes: int
    kv_bytes: int
    kv_full_bytes: int
    kv_swa_bytes: int
    recurrent_bytes: int
    compute_bytes: int
    overhead_bytes: int
    ctx: int
    saved_state_bytes: int = 0

    @property
    def total_bytes(self) -> int:
        return (
            self.weights_bytes
            + self.kv_bytes
            + self.compute_bytes
            + self.overhead_bytes
            + self.saved_state_bytes
        )


def pad(n: int, to: int) -> int:
    return -(-n // to) * to


def kv_cells(arch: ModelArch, cfg: RuntimeConfig) -> tuple[int, int]:
    """Cells of one stream of the full-attention cache and of the sliding-window cache. `ctx` is what one
    sequence may reach: a unified stream of ctx cells is shared by all sequences (llama-server's -c)."""
    # both runtimes pad or grow caches in steps of 256 cells (llama.cpp n_pad, mlx-lm KVCache.step)
    n_ctx = pad(cfg.ctx, CTX_PAD)
    windows = [layer.window for layer in arch.layers if layer.kind == "swa"]
    if not windows or cfg.swa_full:
        return n_ctx, n_ctx
    if cfg.backend == "mlx":  # RotatingKVCache keeps window - 1 old tokens plus the prompt chunk being added
        return n_ctx, min(n_ctx, max(windows) + min(cfg.ctx, cfg.n_ubatch) - 1)
    seqs = cfg.n_seq if cfg.kv_unified else 1
    return n_ctx, min(n_ctx, pad(max(windows) * seqs + cfg.n_ubatch, CTX_PAD))


def kv_bytes(arch: ModelArch, cfg: RuntimeConfig) -> tuple[int, int, int]:
    """(full-attention KV, sliding-window KV, recurrent state) in bytes."""
    k_size, v_size = KV_TYPES[cfg.type_k], KV_TYPES[cfg.type_v]
    full_cells, swa_cells = kv_cells(arch, cfg)
    full = swa = state = 0.0
    for layer in arch.layers:
        per_token = layer.k_elems * k_size + layer.v_elems * v_size
        if layer.kind == "full":
            full += per_token * full_cells * cfg.streams
        elif layer.kind == "swa":
            swa += per_token * swa_cells * cfg.streams
        else:
            state += layer.state_bytes * cfg.n_seq
    return int(full), int(swa), int(state)


def compute_bytes(arch: ModelArch, cfg: RuntimeConfig) -> int:
    """Peak of the live f32 tensors of the worst-case micro-batch graph (see the module docstring)."""
    if cfg.backend == "mlx":
        return _mlx_compute(arch, cfg)
    tokens = min(cfg.ctx, cfg.n_ubatch)
    full_cells, swa_cells = kv_cells(arch, cfg)
    attn_layers = [layer for layer in arch.layers if layer.kind != "recurrent"]
    kv_max = max((layer.k_elems for layer in attn_layers), default=0)
    mask_bytes = 2 if cfg.flash_attn else 4
    masks = full_cells * tokens * mask_bytes if any(x.kind == "full" for x in attn_layers) else 0
    if any(x.kind == "swa" for x in attn_layers):
        masks += swa_cells * tokens * mask_bytes
    inputs = 4 * tokens * (arch.n_embd + 2) + masks
    hidden = 2 * 4 * arch.n_embd * tokens  # the residual stream and the normed copy
    head_dim = arch.head_dim or arch.n_embd // max(arch.n_head, 1)
    v_max = max((layer.v_elems for layer in attn_layers), default=0)
    qkv = 4 * tokens * (arch.n_head * head_dim + kv_max + v_max)
    scores = 0 if cfg.flash_attn else 4 * full_cells * tokens * arch.n_head
    attention = inputs + hidden + qkv + scores + 4 * tokens * arch.n_head * head_dim
    ffn = inputs + hidden + 2 * 4 * arch.n_ff * tokens
    outputs = tokens if cfg.device == "metal" else cfg.n_seq
    output = hidden + 4 * arch.n_vocab * outputs
    # The CPU backend converts the f32 attention probabilities to f16 for the KQV product in a separate
    # work buffer (ggml_graph_plan work_size); Metal does not.
    cpu_work = 2 * full_cells * tokens * arch.n_head if cfg.device == "cpu" and not cfg.flash_attn else 0
    return int(max(attention, ffn, output) + cpu_work)


def _mlx_compute(arch: ModelArch, cfg: RuntimeConfig) -> int:
    # mlx-lm prefills in steps of n_ubatch (2048) tokens and materialises the attention scores of one step.
    step = min(cfg.ctx, cfg.n_ubatch)
    return int(4 * step * (cfg.ctx * arch.n_head + 2 * arch.n_ff + 4 * arch.n_embd) + 4 * arch.n_vocab)


def overhead_bytes(arch: ModelArch, cfg: RuntimeConfig) -> int:
    base = RUNTIME_BASE_BYTES if cfg.backend == "llama-cpp" else MLX_RUNTIME_BASE_BYTES
    output_buffer = 4 * arch.n_vocab * cfg.n_seq
    vocab = VOCAB_BYTES_PER_TOKEN * arch.n_vocab + BYTES_PER_MERGE * arch.n_merges
    return base + vocab + output_buffer


def estimate_memory(arch: ModelArch, cfg: RuntimeConfig, weights_bytes: int | None = None) -> MemoryEstimate:
    weights = weights_bytes if weights_bytes is not None else (arch.weights_bytes or 0)
    if cfg.device == "cpu" and cfg.backend == "llama-cpp":
        weights += arch.cpu_repack_bytes
    full, swa, state = kv_bytes(arch, cfg)
    # after a call that used the whole context, its KV state is copied out (one state; a state larger than
    # the limit is not kept)
    saved = full + swa + state if full + swa + state <= cfg.saved_state_limit else 0
    return MemoryEstimate(
        weights_bytes=weights, kv_bytes=full + swa + state, kv_full_bytes=full, kv_swa_bytes=swa,
        recurrent_bytes=state, compute_bytes=compute_bytes(arch, cfg), overhead_bytes=overhead_bytes(arch, cfg),
        ctx=cfg.ctx, saved_state_bytes=saved,
    )  # fmt: skip
