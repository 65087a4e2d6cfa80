"""The runtimes `lapbench fit --runtime` knows, each with the cache layout and defaults it really uses.

Every profile names the source code its defaults were read from. llama-server, LM Studio and Ollama run
llama.cpp with a window-sized cache for sliding-window layers; llama-cpp-python asks llama.cpp for a full-size
one unless given swa_full=False (lapbench's own backend does); mlx-lm gives windowed layers a RotatingKVCache.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from backends.prefix_cache import DEFAULT_MAX_BYTES
from runner.errors import ConfigError

if TYPE_CHECKING:
    from runner.fit.arch import ModelArch

GIB = 1 << 30
LAPBENCH_CTX_CAP = 16384
"""Most context `lapbench run` takes by default: a gold test function of the larger projects is ~5,000 tokens
after a prompt of ~3,900 (scripts/bench_run.py), more than 8,192. Below a model's trained context only: past
it the model would write at positions it never saw."""
FIT_MARGIN_BYTES = 1 * GIB  # llama.cpp's --fit-target default (1024 MiB per device)
CtxRule = Literal["fixed", "train-fit", "vram-tier", "train-cap"]


@dataclass(frozen=True)
class RuntimeProfile:
    name: str
    backend: Literal["llama-cpp", "mlx"]
    swa_full: bool
    flash_attn: bool | None
    """None: llama.cpp's "auto", which turns it on where the device supports it (Metal and CPU do)."""
    n_seq: int
    kv_unified: bool
    n_ubatch: int
    ctx_rule: CtxRule
    default_ctx: int
    source: str
    summary: str
    saved_state_limit: int = 0
    """Host memory for KV states saved for prompt reuse (lapbench's llama.cpp backend keeps up to 1 GiB)."""


PROFILES: dict[str, RuntimeProfile] = {
    p.name: p
    for p in (
        RuntimeProfile(
            "lapbench",
            "llama-cpp",
            swa_full=False,
            flash_attn=False,
            n_seq=1,
            kv_unified=False,
            n_ubatch=512,
            ctx_rule="train-cap",
            default_ctx=LAPBENCH_CTX_CAP,
            source="lapbench's llama.cpp backend (backends/llama_cpp): llama-cpp-python with swa_full=False, "
            "n_batch 512, flash attention off, KV states saved for prompt reuse (prefix_cache_mb, 1 GiB); "
            "`lapbench run` loads with the model's trained context, at most 16384",
            summary="lapbench's own llama.cpp backend: window-sized SWA cache, no flash attention, saved KV states",
            saved_state_limit=DEFAULT_MAX_BYTES,
        ),
        RuntimeProfile(
            "llama-cpp-python",
            "llama-cpp",
            swa_full=True,
            flash_attn=False,
            n_seq=1,
            kv_unified=False,
            n_ubatch=512,
            ctx_rule="fixed",
            default_ctx=512,
            source="https://github.com/abetlen/llama-cpp-python/blob/main/llama_cpp/llama.py (Llama(): n_ctx 512, "
            "n_batch/n_ubatch 512, flash_attn False, swa_full None = llama.cpp's default, the full-size cache)",
            summary="llama-cpp-python's Llama() defaults: full-size SWA cache, no flash attention",
        ),
        RuntimeProfile(
            "llama-server",
            "llama-cpp",
            swa_full=False,
            flash_attn=None,
            n_seq=4,
            kv_unified=True,
            n_ubatch=512,
            ctx_rule="train-fit",
            default_ctx=4096,
            source="https://github.com/ggml-org/llama.cpp/blob/master/common/common.h (n_ctx 0 = the trained "
            "context, n_ubatch 512, swa_full false, f16 cache, --fit on: 1 GiB margin, context not below 4096); "
            "https://github.com/ggml-org/llama.cpp/blob/master/tools/server/server.cpp (-np auto = 4 slots, "
            "unified KV cache); llama_context_default_params: flash attention auto",
            summary="llama-server: 4 slots sharing one unified cache, window-sized SWA cache, flash attention "
            "auto, context = the model's, lowered by --fit to what fits",
        ),
        RuntimeProfile(
            "lm-studio",
            "llama-cpp",
            swa_full=False,
            flash_attn=None,
            n_seq=4,
            kv_unified=True,
            n_ubatch=512,
            ctx_rule="fixed",
            default_ctx=4096,
            source="LM Studio's llama.cpp engine (closed source): context 4096 when loaded on demand and 4 "
            "concurrent predictions (`lms load --parallel`) as users report them; cache layout and flash "
            "attention as llama.cpp's defaults (not verified in LM Studio's code)",
            summary="LM Studio (llama.cpp engine): 4 parallel predictions, window-sized SWA cache, context 4096",
        ),
        RuntimeProfile(
            "ollama",
            "llama-cpp",
            swa_full=False,
            flash_attn=None,
            n_seq=1,
            kv_unified=False,
            n_ubatch=512,
            ctx_rule="vram-tier",
            default_ctx=4096,
            source="https://github.com/ollama/ollama/blob/main/server/routes.go (default num_ctx by GPU memory: "
            "4096 below 23 GiB, 32768 below 47 GiB, else 262144, capped at the trained context); "
            "llm/llama_server.go (runs llama-server with -np 1 (OLLAMA_NUM_PARALLEL), -b/-ub num_batch 512, "
            "--flash-attn auto, --cache-type-k/v from OLLAMA_KV_CACHE_TYPE, f16 by default)",
            summary="Ollama (runs llama-server): one sequence, window-sized SWA cache, flash attention auto, "
            "default context by GPU memory",
        ),
        RuntimeProfile(
            "mlx",
            "mlx",
            swa_full=False,
            flash_attn=None,
            n_seq=1,
            kv_unified=False,
            n_ubatch=2048,
            ctx_rule="fixed",
            default_ctx=8192,
            source="https://github.com/ml-explore/mlx-lm/blob/main/mlx_lm/models/cache.py (KVCache grows in steps "
            "of 256; RotatingKVCache keeps the window) and models/gemma3_text.py, gpt_oss.py make_cache "
            "(RotatingKVCache for sliding-window layers); generate.py: prefill in steps of 2048 tokens",
            summary="mlx-lm: rotating window cache for sliding-window layers, caches grow with the conversation",
        ),
    )
}
DEFAULT_RUNTIME = "lapbench"


def get_profile(name: str) -> RuntimeProfile:
    profile = PROFILES.get(name.lower())
    if profile is None:
        raise ConfigError(f"unknown runtime {name!r}", hint=f"one of: {', '.join(PROFILES)}")
    return profile


def default_ctx(profile: RuntimeProfile, arch: ModelArch, gpu_bytes: int, fits_up_to: int) -> int:
    """The context the runtime picks when the user names none. `fits_up_to` is the largest context that fits
    the budget less llama.cpp's --fit margin; `gpu_bytes` is what Ollama counts as GPU memory."""
    trained = arch.max_context or 0
    if profile.ctx_rule == "train-fit":
        if not trained:
            return profile.default_ctx
        return max(min(trained, fits_up_to), min(trained, profile.default_ctx))
    if profile.ctx_rule == "train-cap":
        return train_capped(trained, profile.default_ctx)
    if profile.ctx_rule == "vram-tier":
        tier = 262144 if gpu_bytes >= 47 * GIB else 32768 if gpu_bytes >= 23 * GIB else 4096
        return min(tier, trained) if trained else tier
    return profile.default_ctx


def train_capped(trained: int | None, cap: int) -> int:
    """The trained context, at most `cap` (`cap` when the trained context is unknown)."""
    return min(trained, cap) if trained else cap
