"""Profiles of model loads and generations, in the results store's column names.

What the benchmark pipeline calls (one call = one `generate`)::

    from runner.profiler import profile_load, profiled_generate, aggregate

    load = profile_load(backend, LoadConfig(model=path, n_ctx=4096))    # LoadProfile
    generation, call = profiled_generate(backend, request, on_token)    # (Generation, CallProfile)
    row.update(call.to_row())          # exactly the store's profiler columns (CALL_COLUMNS)
    summary = aggregate(calls)         # dict per phase / per run; also accepts store rows (mappings)

`profile_generation(backend, request)` returns only the CallProfile. A caller that already has a
`Generation` (e.g. from its own loop) builds the profile with `call_profile(generation.stats, ...)`.

Definitions (see backends/base.py for the stats themselves):
- ITL (inter-token latency): differences of consecutive `GenerationStats.token_times`, in milliseconds;
  p50/p90/p99 by linear interpolation between order statistics.
- backend_peak_bytes: the backend's own figure for the call (`stats.peak_memory_bytes`: MLX peak after a
  reset), else the sum of `backend.memory_report()` (llama.cpp: weights + KV cache + compute buffers).
- peak_rss_bytes: the process's peak resident set during the call (`MemorySampler`).
- mask_ms_per_token: grammar mask time per generated token; forced_share: forced / generated tokens.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from backends.base import Backend, Generation, GenerationRequest, GenerationStats, LoadConfig, TokenCallback
from runner.profiler.sampler import MemorySampler

CALL_COLUMNS: tuple[str, ...] = (
    "prompt_tokens",
    "prompt_tokens_evaluated",
    "generated_tokens",
    "forced_tokens",
    "prompt_seconds",
    "ttft_seconds",
    "generation_seconds",
    "mask_seconds",
    "compile_seconds",
    "reasoning_tokens",
    "prompt_tps",
    "generation_tps",
    "peak_rss_bytes",
    "backend_peak_bytes",
    "itl_p50_ms",
    "itl_p99_ms",
)
"""The profiler's columns of the results store's `calls` table, as produced by `CallProfile.to_row()`."""


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0..100) with linear interpolation (numpy's default); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100.0
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def inter_token_ms(token_times: Sequence[float]) -> tuple[float, ...]:
    """Milliseconds between consecutive generated tokens."""
    return tuple((b - a) * 1000.0 for a, b in itertools.pairwise(token_times))


def backend_memory_total(report: Mapping[str, int]) -> int | None:
    """One figure from `backend.memory_report()`: its "total" entry when present, else the sum."""
    if not report:
        return None
    if "total" in report:
        return int(report["total"])
    return int(sum(report.values()))


@dataclass(frozen=True)
class LoadProfile:
    load_seconds: float
    peak_rss_bytes: int
    rss_added_bytes: int
    """Resident memory the load added (peak minus the RSS before it)."""
    backend_memory: Mapping[str, int] = field(default_factory=dict)
    peak_footprint_bytes: int | None = None


@dataclass(frozen=True)
class CallProfile:
    prompt_tokens: int
    prompt_tokens_evaluated: int
    generated_tokens: int
    forced_tokens: int
    prompt_seconds: float
    ttft_seconds: float
    generation_seconds: float
    mask_seconds: float
    prompt_tps: float
    generation_tps: float
    peak_rss_bytes: int | None
    backend_peak_bytes: int | None
    itl_p50_ms: float | None
    itl_p90_ms: float | None
    itl_p99_ms: float | None
    wall_seconds: float | None = None
    peak_footprint_bytes: int | None = None
    compile_seconds: float = 0.0
    """Grammar compile time of the call (GenerationStats.compile_seconds)."""
    reasoning_tokens: int = 0
    """Of generated_tokens, those of the thinking segment (GenerationStats.reasoning_tokens)."""
    itl_ms: tuple[float, ...] = field(default=(), repr=False)
    """Raw inter-token latencies, kept so that `aggregate` can pool them across calls."""

    @property
    def mask_ms_per_token(self) -> float:
        return 1000.0 * self.mask_seconds / self.generated_tokens if self.generated_tokens else 0.0

    @property
    def forced_share(self) -> float:
        return self.forced_tokens / self.generated_tokens if self.generated_tokens else 0.0

    def to_row(self) -> dict[str, Any]:
        """The store's profiler columns (CALL_COLUMNS) for this call."""
        return {name: getattr(self, name) for name in CALL_COLUMNS}

    def to_dict(self) -> dict[str, Any]:
        """Every figure, JSON-ready (raw ITLs left out)."""
        data = asdict(self)
        del data["itl_ms"]
        data.update(mask_ms_per_token=self.mask_ms_per_token, forced_share=self.forced_share)
        return data

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> CallProfile:
        """Rebuild from a store row (columns missing or NULL count as 0 / None)."""

        def num(name: str) -> float:
            return float(row.get(name) or 0)

        def opt(name: str) -> Any:
            return row.get(name)

        return cls(
            prompt_tokens=int(num("prompt_tokens")),
            prompt_tokens_evaluated=int(num("prompt_tokens_evaluated")),
            generated_tokens=int(num("generated_tokens")),
            forced_tokens=int(num("forced_tokens")),
            prompt_seconds=num("prompt_seconds"),
            ttft_seconds=num("ttft_seconds"),
            generation_seconds=num("generation_seconds"),
            mask_seconds=num("mask_seconds"),
            prompt_tps=num("prompt_tps"),
            generation_tps=num("generation_tps"),
            peak_rss_bytes=opt("peak_rss_bytes"),
            backend_peak_bytes=opt("backend_peak_bytes"),
            itl_p50_ms=opt("itl_p50_ms"),
            itl_p90_ms=opt("itl_p90_ms"),
            itl_p99_ms=opt("itl_p99_ms"),
            compile_seconds=num("compile_seconds"),
            reasoning_tokens=int(num("reasoning_tokens")),
        )


def call_profile(
    stats: GenerationStats,
    *,
    peak_rss_bytes: int | None = None,
    memory_report: Mapping[str, int] | None = None,
    wall_seconds: float | None = None,
    peak_footprint_bytes: int | None = None,
) -> CallProfile:
    """A CallProfile from a generation's stats plus what was measured around it."""
    itl = inter_token_ms(stats.token_times)
    backend_peak = stats.peak_memory_bytes
    if backend_peak is None and memory_report:
        backend_peak = backend_memory_total(memory_report)
    return CallProfile(
        prompt_tokens=stats.prompt_tokens,
        prompt_tokens_evaluated=stats.prompt_tokens_evaluated,
        generated_tokens=stats.generated_tokens,
        forced_tokens=stats.forced_tokens,
        prompt_seconds=stats.prompt_seconds,
        ttft_seconds=stats.time_to_first_token,
        generation_seconds=stats.generation_seconds,
        mask_seconds=stats.mask_seconds,
        prompt_tps=stats.prompt_tps,
        generation_tps=stats.generation_tps,
        peak_rss_bytes=peak_rss_bytes,
        backend_peak_bytes=backend_peak,
        itl_p50_ms=percentile(itl, 50),
        itl_p90_ms=percentile(itl, 90),
        itl_p99_ms=percentile(itl, 99),
        wall_seconds=wall_seconds,
        peak_footprint_bytes=peak_footprint_bytes,
        compile_seconds=stats.compile_seconds,
        reasoning_tokens=stats.reasoning_tokens,
        itl_ms=itl,
    )


def _safe_memory_report(backend: Backend) -> Mapping[str, int]:
    try:
        return dict(backend.memory_report())
    except Exception:  # a backend that cannot tell must not fail the call being profiled
        return {}


def profiled_generate(
    backend: Backend,
    request: GenerationRequest,
    on_token: TokenCallback | None = None,
    *,
    period_s: float = 0.01,
) -> tuple[Generation, CallProfile]:
    """Run one generation under a MemorySampler; return it with its profile."""
    with MemorySampler(period_s) as sampler:
        started = time.perf_counter()
        generation = backend.generate(request, on_token)
        wall = time.perf_counter() - started
    report = _safe_memory_report(backend) if generation.stats.peak_memory_bytes is None else None
    profile = call_profile(
        generation.stats,
        peak_rss_bytes=sampler.peak_rss,
        memory_report=report,
        wall_seconds=wall,
        peak_footprint_bytes=sampler.peak_footprint,
    )
    return generation, profile


def profile_generation(backend: Backend, request: GenerationRequest) -> CallProfile:
    """The profile of one generation (its text is discarded; see `profiled_generate`)."""
    return profiled_generate(backend, request)[1]


def profile_load(backend: Backend, config: LoadConfig, *, period_s: float = 0.01) -> LoadProfile:
    """Load `config` into `backend` under a MemorySampler; the backend's memory report afterwards."""
    with MemorySampler(period_s) as sampler:
        started = time.perf_counter()
        backend.load(config)
        seconds = time.perf_counter() - started
    return LoadProfile(
        load_seconds=seconds,
        peak_rss_bytes=sampler.peak_rss,
        rss_added_bytes=max(sampler.peak_rss - sampler.start_rss, 0),
        backend_memory=_safe_memory_report(backend),
        peak_footprint_bytes=sampler.peak_footprint,
    )


def _max(values: Iterable[int | None]) -> int | None:
    present = [v for v in values if v is not None]
    return max(present) if present else None


def aggregate(
    profiles: Iterable[CallProfile | Mapping[str, Any]], loads: Sequence[LoadProfile] = ()
) -> dict[str, Any]:
    """Totals and rates over calls (a phase or a run): rates are total tokens over total seconds, peaks
    are maxima, ITL percentiles pool every call's latencies (or, for store rows without raw latencies,
    average the per-call percentiles weighted by generated tokens)."""
    calls = [p if isinstance(p, CallProfile) else CallProfile.from_row(p) for p in profiles]
    generated = sum(c.generated_tokens for c in calls)
    evaluated = sum(c.prompt_tokens_evaluated for c in calls)
    prompt_seconds = sum(c.prompt_seconds for c in calls)
    generation_seconds = sum(c.generation_seconds for c in calls)
    steps = sum(max(c.generated_tokens - 1, 0) for c in calls if c.generation_seconds > 0)
    pooled = [x for c in calls for x in c.itl_ms]
    summary: dict[str, Any] = {
        "calls": len(calls),
        "prompt_tokens": sum(c.prompt_tokens for c in calls),
        "prompt_tokens_evaluated": evaluated,
        "generated_tokens": generated,
        "forced_tokens": sum(c.forced_tokens for c in calls),
        "prompt_seconds": prompt_seconds,
        "generation_seconds": generation_seconds,
        "mask_seconds": sum(c.mask_seconds for c in calls),
        "compile_seconds": sum(c.compile_seconds for c in calls),
        "reasoning_tokens": sum(c.reasoning_tokens for c in calls),
        "prompt_tps": evaluated / prompt_seconds if prompt_seconds > 0 else 0.0,
        "generation_tps": steps / generation_seconds if generation_seconds > 0 else 0.0,
        "ttft_mean_seconds": sum(c.ttft_seconds for c in calls) / len(calls) if calls else None,
        "ttft_p50_seconds": percentile([c.ttft_seconds for c in calls], 50),
        "peak_rss_bytes": _max([c.peak_rss_bytes for c in calls] + [lp.peak_rss_bytes for lp in loads]),
        "backend_peak_bytes": _max(c.backend_peak_bytes for c in calls),
        "peak_footprint_bytes": _max(c.peak_footprint_bytes for c in calls),
        "load_seconds": sum(lp.load_seconds for lp in loads) if loads else None,
    }
    summary["mask_ms_per_token"] = 1000.0 * summary["mask_seconds"] / generated if generated else 0.0
    summary["forced_share"] = summary["forced_tokens"] / generated if generated else 0.0
    for q in (50, 90, 99):
        key = f"itl_p{q}_ms"
        if pooled:
            summary[key] = percentile(pooled, q)
        else:
            weighted = [(getattr(c, key), c.generated_tokens) for c in calls if getattr(c, key) is not None]
            weight = sum(w for _, w in weighted)
            summary[key] = sum(v * w for v, w in weighted) / weight if weight else None
    return summary
