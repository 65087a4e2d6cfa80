"""The memory model against hand-computed numbers (FACTS.md) and against llama.cpp's own buffer sizes."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from runner.fit.arch import arch_from_gguf
from runner.fit.budget import GIB, find_chip, metal_default_budget, parse_size
from runner.fit.catalog_arch import arch_from_catalog
from runner.fit.gguf_header import parse_gguf_header
from runner.fit.memory import RuntimeConfig, estimate_memory, kv_bytes
from runner.fit.sources import FileSource
from runner.fit.verdict import max_context, verdict_for
from runner.models.catalog import ModelEntry, load_catalog

MIB = 1 << 20
# Decoding one token at a time, mlx-lm's caches hold exactly the window (RotatingKVCache) and the context
# (in steps of 256 cells): the published numbers are stated that way.
EXACT = RuntimeConfig(backend="mlx", swa_full=False, n_ubatch=1)


def catalog_arch(model_id: str, quant: str | None = None):  # type: ignore[no-untyped-def]
    entry = load_catalog().get(model_id)
    assert entry is not None, model_id
    return arch_from_catalog(entry, entry.find_quant(quant) if quant else None)


def per_token_full_kv(model_id: str) -> int:
    arch = catalog_arch(model_id)
    one, two = (kv_bytes(arch, replace(EXACT, ctx=n))[0] for n in (1024, 2048))
    return (two - one) // 1024


@pytest.mark.parametrize(
    ("model_id", "bytes_per_token"),
    [
        ("qwen3.6-27b", 2 * 4 * 256 * 16 * 2),  # 16 of 64 layers grow: 64 KiB, not the naive 256 KiB
        ("qwen3.5-35b-a3b", 20480),  # KVGEOM fixture: 10 full layers
        ("gemma-3-27b", 2 * 16 * 128 * 10 * 2),  # 10 global layers: 80 KiB/token
        ("gpt-oss-120b", 36864),  # 18 full layers (KVGEOM)
        ("minimax-m2.7", 253952),  # all 62 layers (KVGEOM)
        ("glm-4.7-flash", (512 + 64) * 2 * 47),  # MLA latent + RoPE key
        ("deepseek-v3.2", (512 + 64 + 128) * 2 * 61),  # MLA latent + DSA indexer key
        ("llama-3.1-8b", 131072),
    ],
)
def test_kv_per_token_of_catalog_models(model_id: str, bytes_per_token: int) -> None:
    assert per_token_full_kv(model_id) == bytes_per_token


def test_gemma3_27b_sliding_layers_hold_only_their_window() -> None:
    arch = catalog_arch("gemma-3-27b")
    assert (arch.count("full"), arch.count("swa")) == (10, 52)
    full, swa, state = kv_bytes(arch, replace(EXACT, ctx=32768))
    assert swa == 52 * 1024 * (2 * 16 * 128 * 2) == 416 * MIB  # FACTS: "fixed ~416 MiB"
    assert full == 80 * 1024 * 32768 == int(2.5 * GIB)  # FACTS §2: 2.50 GiB at 32K
    assert state == 0
    # llama.cpp keeps PAD(window + n_ubatch, 256) cells per local layer unless --swa-full
    _, swa_llama, _ = kv_bytes(arch, RuntimeConfig(ctx=32768, swa_full=False))
    assert swa_llama == 52 * 1536 * 8192
    # llama-server's 4 slots share one unified stream: PAD(4 x window + n_ubatch, 256) cells
    _, swa_server, _ = kv_bytes(arch, RuntimeConfig(ctx=32768, n_seq=4, kv_unified=True))
    assert swa_server == 52 * 4608 * 8192
    # mlx-lm: while a 2048-token prompt chunk is added, the rotating cache holds window - 1 + 2048 cells
    _, swa_mlx, _ = kv_bytes(arch, RuntimeConfig(ctx=32768, backend="mlx", n_ubatch=2048))
    assert swa_mlx == 52 * (1024 - 1 + 2048) * 8192


def test_qwen36_hybrid_state_is_constant_in_context() -> None:
    arch = catalog_arch("qwen3.6-27b")
    assert (arch.count("full"), arch.count("recurrent")) == (16, 48)
    small, big = (kv_bytes(arch, replace(EXACT, ctx=n)) for n in (4096, 131072))
    assert small[2] == big[2] == 39223296 * 4  # FACTS: 156.9 MB f32 for 48 Gated DeltaNet layers
    assert big[0] == 65536 * 131072


def test_mla_latent_matches_ik_llama_log() -> None:
    # DeepSeek-V3 (no DSA indexer) at 32768 tokens with a q8_0 cache: ik_llama.cpp logs 1166.62 MiB.
    v32 = load_catalog().get("deepseek-v3.2")
    assert v32 is not None
    v3 = ModelEntry.model_validate(
        {
            **v32.model_dump(),
            "id": "deepseek-v3",
            "arch": {**v32.arch.model_dump(exclude_none=True), "dsa_index_head_dim": None},
        }
    )
    full, _, _ = kv_bytes(
        arch_from_catalog(v3, None), replace(EXACT, ctx=32768, type_k="q8_0", type_v="q8_0")
    )
    assert round(full / MIB, 2) == 1166.62


@pytest.mark.model
def test_gguf_models_match_llama_cpp_buffer_sizes(smollm2_gguf: Path, gemma_gguf: Path) -> None:
    # Sizes llama.cpp (llama-cpp-python 0.3.36) printed when loading these files on this machine.
    with FileSource(smollm2_gguf) as s:
        smol = arch_from_gguf(parse_gguf_header(s))
    with FileSource(gemma_gguf) as s:
        gemma = arch_from_gguf(parse_gguf_header(s))
    metal = RuntimeConfig(swa_full=True, device="metal")  # the reserved (allocated) compute buffer
    cases = [(smol, 512, 11.25, 98.25), (smol, 8192, 180.0, 166.38), (gemma, 8192, 24.0 + 120.0, 514.5)]
    for arch, ctx, kv_mib, compute_mib in cases:
        est = estimate_memory(arch, replace(metal, ctx=ctx))
        assert round(est.kv_bytes / MIB, 2) == kv_mib
        assert abs(est.compute_bytes / MIB - compute_mib) < 0.02 * compute_mib
        assert est.weights_bytes == arch.weights_bytes


def test_budget_rules_follow_facts() -> None:
    assert metal_default_budget(64 * GIB) == 48 * GIB  # METAL_64: 49152 MiB
    assert metal_default_budget(16 * GIB) == 16 * GIB * 2 // 3  # METAL_16: 10922.67 MiB
    assert parse_size("64GB") == parse_size("64 GiB") == 64 * GIB
    assert parse_size("48000MB") == 48000 * MIB
    chip = find_chip("m4 max")
    assert (chip.name, chip.bandwidth_gbs) == ("M4 Max 16c/40c", 546.0)
    assert find_chip("M1 Max").ram_gb == 64


def test_max_context_is_the_largest_that_fits() -> None:
    arch = catalog_arch("qwen3-8b", "Q4_K_M")
    cfg = RuntimeConfig(ctx=4096)
    budget = 8 * GIB
    best = max_context(arch, cfg, budget)
    assert 0 < best < (arch.max_context or 0)
    assert estimate_memory(arch, replace(cfg, ctx=best)).total_bytes <= budget
    assert estimate_memory(arch, replace(cfg, ctx=best + 256)).total_bytes > budget
    assert verdict_for(int(budget * 0.5), budget) == "fits"
    assert verdict_for(int(budget * 0.95), budget) == "tight"
    assert verdict_for(budget + 1, budget) == "does not fit"


def test_moe_memory_from_total_speed_from_active() -> None:
    arch = catalog_arch("qwen3-30b-a3b", "Q4_K_M")
    assert arch.weights_bytes == round(17.28 * GIB)
    assert arch.active_weights_bytes is not None
    assert arch.active_weights_bytes == int(arch.weights_bytes * 3.3e9 / 30.53e9)


@pytest.mark.parametrize(
    ("model_id", "quant", "chip", "measured_tps"),
    [
        ("llama-3.1-8b", "Q4_K_M", "M1 Max", 46.2),  # NORMIEBENCH tg128
        ("llama-3.1-8b", "Q4_K_M", "M4", 20.87),  # NORMIEBENCH, Mac mini M4
        ("qwen3-30b-a3b", "Q4_K_M", "M1 Max", 51.03),  # Q30_GGUF tg128, MoE
    ],
)
def test_decode_speed_reproduces_facts_calibration_points(
    model_id: str, quant: str, chip: str, measured_tps: float
) -> None:
    from runner.fit.budget import resolve_budget
    from runner.fit.speed import from_bandwidth

    arch = catalog_arch(model_id, quant)
    budget = resolve_budget("64GB", chip)
    speed = from_bandwidth(arch, RuntimeConfig(ctx=256, device="metal"), budget)
    assert speed is not None and speed.decode_tps is not None
    assert abs(speed.decode_tps - measured_tps) / measured_tps < 0.05
