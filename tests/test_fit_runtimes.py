"""`lapbench fit --runtime`: each runtime's cache layout and defaults, checked against hand-computed sizes and
against the KV buffers real llama.cpp allocates for Gemma 3 (sliding-window layers) with each runtime's
context settings; and lapbench's own backend, now loading with a window-sized cache, still answers right."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import llama_cpp
import pytest
from typer.testing import CliRunner

from backends.base import GenerationRequest, LoadConfig
from backends.llama_cpp.load_log import LoadLog
from backends.registry import create_backend
from runner.cli import app
from runner.fit.api import FitOptions, runtime_for
from runner.fit.memory import estimate_memory
from runner.fit.resolve import local_gguf
from runner.fit.runtimes import PROFILES

runner = CliRunner()
GIB = 1 << 30
PER_TOKEN = 2 * 16 * 128 * 2  # gemma-3-27b: K and V, 16 KV heads of 128, f16, per layer
MAC_64 = ("--memory", "64GB", "--chip", "M1 Max")  # 48 GiB Metal budget; --chip also fixes the speed source


def _fit(*args: str) -> dict[str, Any]:
    result = runner.invoke(app, ["fit", *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("runtime", "swa_cells", "flash_attn"),
    [
        ("lapbench", 1536, False),  # PAD(1024 + 512, 256): one sequence
        ("llama-server", 4608, True),  # 4 slots in one unified stream: PAD(4 x 1024 + 512, 256)
        ("lm-studio", 4608, True),
        ("ollama", 1536, True),  # -np 1
        ("llama-cpp-python", 32768, False),  # swa_full: every layer keeps the whole context
        ("mlx", 1024 - 1 + 2048, None),  # RotatingKVCache while a 2048-token prompt chunk is added
    ],
)
def test_gemma_3_27b_at_32k_on_each_runtime(runtime: str, swa_cells: int, flash_attn: bool | None) -> None:
    out = _fit("gemma-3-27b", "--ctx", "32768", "--runtime", runtime, *MAC_64)
    assert out["kv_detail"]["full_bytes"] == 10 * 32768 * PER_TOKEN  # 10 global layers: 2.5 GiB everywhere
    assert out["kv_detail"]["sliding_window_bytes"] == 52 * swa_cells * PER_TOKEN
    assert out["runtime"]["name"] == runtime and out["ctx"] == 32768
    if flash_attn is not None:
        assert out["runtime"]["flash_attn"] is flash_attn
    assert out["verdict"] == "fits"  # the "does not fit" came from a full-size cache without a budget


def test_quantised_cache_and_flash_attention_follow_the_runtime() -> None:
    q8 = _fit("gemma-3-27b", "--ctx", "32768", "--runtime", "llama-server", "--kv-type", "q8_0", *MAC_64)
    f16 = _fit("gemma-3-27b", "--ctx", "32768", "--runtime", "llama-server", *MAC_64)
    assert q8["runtime"]["type_v"] == "q8_0" and q8["kv_bytes"] == f16["kv_bytes"] * 34 // 64
    # llama-cpp-python turns flash attention on only when asked; a quantised V cache needs it
    plain = _fit("gemma-3-27b", "--ctx", "32768", "--runtime", "llama-cpp-python", *MAC_64)
    assert plain["runtime"]["flash_attn"] is False
    no_fa = _fit("gemma-3-27b", "--ctx", "32768", "--runtime", "llama-server", "--no-flash-attn", *MAC_64)
    assert no_fa["compute_bytes"] > f16["compute_bytes"]  # the n_kv x n_ubatch x n_head score matrix


def test_default_contexts_are_the_runtimes_own() -> None:
    def ctx(runtime: str, *args: str) -> int:
        return int(_fit("gemma-3-27b", "--runtime", runtime, *args)["ctx"])

    # lapbench: the trained context (131072) capped at 16384, what `lapbench run` loads with
    assert ctx("lapbench", *MAC_64) == 16384
    assert ctx("llama-cpp-python", *MAC_64) == 512
    assert ctx("lm-studio", *MAC_64) == 4096
    # llama-server: the trained context, lowered by --fit to what fits, never below 4096
    assert ctx("llama-server", *MAC_64) == 131072
    assert ctx("llama-server", "--memory", "24GB", "--chip", "M1 Max") == 4096
    # Ollama: by GPU memory (the Metal budget): 48 GiB >= 47 -> 262144, capped at the trained 131072
    assert ctx("ollama", *MAC_64) == 131072
    assert ctx("ollama", "--memory", "36GB", "--chip", "M1 Max") == 32768  # 2/3 of 36 GiB = 24 GiB
    assert ctx("ollama", "--memory", "16GB", "--chip", "M1 Max") == 4096
    assert ctx("ollama", "--memory", "64GB", "--bandwidth", "100") == 4096  # no GPU on this machine


def test_unknown_runtime_is_one_line() -> None:
    result = runner.invoke(app, ["fit", "gemma-3-27b", "--runtime", "vllm"])
    assert (
        result.exit_code == 2
        and "unknown runtime 'vllm'" in result.output
        and "llama-server" in result.output
    )


def _llama_kv_bytes(path: Path, **params: Any) -> int:
    """The KV buffer llama.cpp allocates for a context with these llama_context_params."""
    model_params = llama_cpp.llama_model_default_params()
    with LoadLog() as log:
        model = llama_cpp.llama_model_load_from_file(str(path).encode(), model_params)
        cparams = llama_cpp.llama_context_default_params()
        for key, value in params.items():
            setattr(cparams, key, value)
        ctx = llama_cpp.llama_init_from_model(model, cparams)
    try:
        return log.buffers["kv_bytes"]
    finally:
        llama_cpp.llama_free(ctx)
        llama_cpp.llama_model_free(model)


@pytest.mark.model
@pytest.mark.parametrize("runtime", [name for name, p in PROFILES.items() if p.backend == "llama-cpp"])
def test_kv_buffer_matches_llama_cpp_for_each_runtime(gemma_gguf: Path, runtime: str) -> None:
    cfg = runtime_for(FitOptions(ctx=4096, runtime=runtime, device="cpu"))
    allocated = _llama_kv_bytes(
        gemma_gguf, n_ctx=4096, n_batch=512, n_ubatch=cfg.n_ubatch, n_seq_max=cfg.n_seq,
        kv_unified=cfg.kv_unified, swa_full=cfg.swa_full,
        flash_attn_type=llama_cpp.LLAMA_FLASH_ATTN_TYPE_ENABLED if cfg.flash_attn else llama_cpp.LLAMA_FLASH_ATTN_TYPE_DISABLED,
    )  # fmt: skip
    assert estimate_memory(local_gguf(gemma_gguf).arch, cfg).kv_bytes == allocated


@pytest.mark.model
def test_lapbench_backend_loads_a_window_sized_cache_and_reprocesses_an_evicted_prefix(
    gemma_gguf: Path,
) -> None:
    backend = create_backend("llama-cpp")
    backend.load(LoadConfig(model=str(gemma_gguf), n_ctx=4096))
    try:
        expected = estimate_memory(
            local_gguf(gemma_gguf).arch, runtime_for(FitOptions(ctx=4096, device="cpu"))
        )
        assert (
            backend.memory_report()["kv_bytes"] == expected.kv_bytes
        )  # 3 x 4096 + 15 x 1024 cells, not 18 x 4096
        long = "Once upon a time in a quiet valley there lived a patient clockmaker. " * 110  # > 1024 tokens
        backend.generate(GenerationRequest(prompt=long, max_tokens=4))
        # shares 300 tokens with the cache, but the window before them was overwritten: evaluate it all again
        short = backend.detokenize(backend.tokenize(long)[:300]) + " The clockmaker said"
        again = backend.generate(GenerationRequest(prompt=short, max_tokens=12))
        assert again.stats.prompt_tokens_evaluated == again.stats.prompt_tokens
    finally:
        backend.close()
    fresh = create_backend("llama-cpp")
    fresh.load(LoadConfig(model=str(gemma_gguf), n_ctx=4096))
    try:
        assert fresh.generate(GenerationRequest(prompt=short, max_tokens=12)).tokens == again.tokens
    finally:
        fresh.close()
