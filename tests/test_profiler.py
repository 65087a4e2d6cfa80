"""The profiler: memory sampler, call/load profiles, aggregation, machine facts."""

from __future__ import annotations

import json
import mmap
import statistics
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path

import pytest

from backends.base import Backend, GenerationRequest, GenerationStats, LoadConfig
from backends.fake import FakeBackend
from runner.bench.execute import WorkerHandle
from runner.bench.plan import BenchConfig, BenchTest
from runner.profiler import (
    CALL_COLUMNS,
    LoadProfile,
    MemorySampler,
    aggregate,
    call_profile,
    collect_machine_info,
    percentile,
    profile_generation,
    profile_load,
    profiled_generate,
)
from runner.run.record import PROFILER_COLUMNS

MiB = 1024 * 1024


def _resident_block(size: int) -> mmap.mmap:
    """Fresh anonymous memory with every page written, so it is resident for sure (a zero-filled
    bytearray can come from calloc'd pages the kernel never maps in, or reuse heap already counted)."""
    block = mmap.mmap(-1, size)
    page = mmap.PAGESIZE
    for offset in range(0, size, page):
        block[offset] = 1
    return block


def test_sampler_records_the_peak_of_an_allocation() -> None:
    with MemorySampler(period_s=0.005) as sampler:
        block = _resident_block(64 * MiB)
        block.close()
    assert sampler.samples >= 2
    assert sampler.start_rss > 0
    assert sampler.peak_rss >= sampler.start_rss + 60 * MiB


def test_sampler_thread_takes_periodic_readings() -> None:
    import time

    with MemorySampler(period_s=0.005, thread=True) as sampler:
        block = _resident_block(32 * MiB)
        time.sleep(0.1)
        block.close()
    assert sampler.threaded
    assert sampler.samples > 5  # entry, exit and the thread's readings
    assert sampler.peak_rss >= sampler.start_rss + 30 * MiB


def test_nested_samplers_both_see_the_peak() -> None:
    with MemorySampler() as outer:
        with MemorySampler() as inner:
            block = _resident_block(48 * MiB)
            block.close()
        block = _resident_block(8 * MiB)
        block.close()
    assert inner.peak_rss >= inner.start_rss + 40 * MiB
    assert outer.peak_rss >= inner.peak_rss - MiB


def test_sampler_rejects_a_non_positive_period() -> None:
    with pytest.raises(ValueError):
        MemorySampler(period_s=0)


def test_percentiles_interpolate_linearly() -> None:
    assert percentile([], 50) is None
    assert percentile([5.0], 99) == 5.0
    values = [10.0, 20.0, 30.0, 40.0]
    assert percentile(values, 50) == pytest.approx(25.0)
    assert percentile(values, 90) == pytest.approx(37.0)
    assert percentile(values, 99) == pytest.approx(39.7)


def test_itl_distribution_from_scripted_token_times() -> None:
    stats = GenerationStats(
        prompt_tokens=12,
        prompt_tokens_evaluated=10,
        prompt_seconds=0.05,
        time_to_first_token=0.06,
        generated_tokens=5,
        generation_seconds=0.10,
        forced_tokens=2,
        mask_seconds=0.005,
        token_times=(0.06, 0.07, 0.09, 0.12, 0.16),
    )
    profile = call_profile(stats, peak_rss_bytes=123, memory_report={"model_bytes": 7, "kv_bytes": 3})
    assert profile.itl_ms == pytest.approx((10.0, 20.0, 30.0, 40.0))
    assert profile.itl_p50_ms == pytest.approx(25.0)
    assert profile.itl_p90_ms == pytest.approx(37.0)
    assert profile.itl_p99_ms == pytest.approx(39.7)
    assert profile.prompt_tps == pytest.approx(200.0)
    assert profile.generation_tps == pytest.approx(40.0)
    assert profile.forced_share == pytest.approx(0.4)
    assert profile.mask_ms_per_token == pytest.approx(1.0)
    assert profile.backend_peak_bytes == 10  # no peak in the stats: the memory report's sum
    assert profile.to_row()["peak_rss_bytes"] == 123


def test_fake_backend_call_profile_has_the_store_columns() -> None:
    fake = FakeBackend(["one two three four"], seconds_per_token=0.02, peak_memory_bytes=4096)
    fake.load(LoadConfig(model="fake"))
    generation, profile = profiled_generate(fake, GenerationRequest(prompt="hello there"))
    assert generation.text == "one two three four"
    assert tuple(profile.to_row()) == CALL_COLUMNS == PROFILER_COLUMNS
    assert profile.generated_tokens == 4
    assert profile.itl_p50_ms == pytest.approx(20.0)
    assert profile.backend_peak_bytes == 4096
    assert profile.peak_rss_bytes is not None and profile.peak_rss_bytes > 0
    json.dumps(profile.to_dict())


def test_aggregate_pools_latencies_and_weights_rates() -> None:
    def stats(times: tuple[float, ...], evaluated: int, prompt_seconds: float) -> GenerationStats:
        return GenerationStats(
            prompt_tokens=evaluated,
            prompt_tokens_evaluated=evaluated,
            prompt_seconds=prompt_seconds,
            time_to_first_token=times[0],
            generated_tokens=len(times),
            generation_seconds=times[-1] - times[0],
            forced_tokens=1,
            token_times=times,
        )

    a = call_profile(stats((1.0, 1.01, 1.02), 100, 1.0), peak_rss_bytes=500)
    b = call_profile(stats((0.5, 0.54), 300, 0.5), peak_rss_bytes=700)
    summary = aggregate([a, b])
    assert summary["calls"] == 2
    assert summary["generated_tokens"] == 5
    assert summary["prompt_tps"] == pytest.approx(400 / 1.5)
    assert summary["generation_tps"] == pytest.approx(3 / 0.06)
    assert summary["peak_rss_bytes"] == 700
    assert summary["forced_share"] == pytest.approx(0.4)
    assert summary["itl_p50_ms"] == pytest.approx(statistics.median([10.0, 10.0, 40.0]))
    from_rows = aggregate([a.to_row(), b.to_row()])  # store rows have no raw latencies
    assert from_rows["generated_tokens"] == 5
    assert from_rows["itl_p50_ms"] == pytest.approx((10.0 * 3 + 40.0 * 2) / 5)
    assert aggregate([])["calls"] == 0


@pytest.fixture(scope="module")
def llama(smollm2_gguf: Path) -> Iterator[tuple[Backend, LoadProfile]]:
    from backends.registry import create_backend

    backend = create_backend("llama-cpp")
    load = profile_load(backend, LoadConfig(model=str(smollm2_gguf), n_ctx=512, n_threads=1))
    yield backend, load
    backend.close()


@pytest.mark.model
def test_real_llama_cpp_load_and_call_profiles(llama: tuple[Backend, LoadProfile]) -> None:
    backend, load = llama
    assert load.load_seconds > 0
    assert load.rss_added_bytes > 50 * MiB  # 98 MB of weights
    assert load.backend_memory["model_bytes"] > 50 * MiB
    request = GenerationRequest(prompt="The capital of France is", max_tokens=6, ignore_eos=True)
    profile = profile_generation(backend, request)
    assert profile.generated_tokens == 6
    assert profile.prompt_tokens_evaluated > 0 and profile.prompt_tps > 0
    assert profile.generation_tps > 0 and profile.ttft_seconds > 0
    assert profile.itl_p50_ms is not None and profile.itl_p99_ms is not None
    assert profile.itl_p50_ms <= profile.itl_p99_ms
    assert profile.peak_rss_bytes is not None and profile.peak_rss_bytes > 100 * MiB
    assert profile.backend_peak_bytes is not None and profile.backend_peak_bytes > 50 * MiB


@pytest.mark.model
def test_peak_memory_rises_with_a_larger_context(smollm2_gguf: Path) -> None:
    """Each load in its own process (the bench worker), so the first cannot hide the second's peak."""
    peaks = {}
    for n_ctx in (512, 8192):
        handle = WorkerHandle(
            BenchConfig(model=str(smollm2_gguf), backend="llama-cpp", n_threads=1, n_ctx=n_ctx)
        )
        try:
            loaded = handle.request({"op": "load", "config": asdict(handle.config)})
            sampled = handle.request({"op": "sample", "test": asdict(BenchTest(n_prompt=8)), "rep": 0})
        finally:
            handle.close()
        assert loaded["ok"] and sampled["ok"], (loaded, sampled)
        peaks[n_ctx] = (
            loaded["peak_rss_bytes"],
            sampled["sample"]["peak_rss_bytes"],
            loaded["backend_memory"],
        )
    # KV cache of SmolLM2-135M: 30 layers x 2 x 192 x 2 bytes = 23 KB per token -> ~170 MB more at 8192
    assert peaks[8192][0] > peaks[512][0] + 100 * MiB
    assert peaks[8192][1] > peaks[512][1] + 100 * MiB
    assert peaks[8192][2]["kv_bytes"] > peaks[512][2]["kv_bytes"]


def test_machine_info_is_json_ready() -> None:
    info = collect_machine_info(backend="llama-cpp", n_threads=2, n_ctx=4096, quant="Q4_1")
    data = json.loads(info.model_dump_json())
    assert data["ram_bytes"] > 0
    assert data["cpu_cores_logical"] >= 1
    assert data["os"]
    assert "llama_cpp" in data["libraries"] and "pydantic" in data["libraries"]
    assert data["n_threads"] == 2 and data["quant"] == "Q4_1"
    assert "system_info" in data["backend_details"]  # llama.cpp reports its CPU features
