"""What `lapbench bench` measures: configurations (one loaded model each), tests, and result records.

Semantics follow llama.cpp's llama-bench (tools/llama-bench/llama-bench.cpp):
- `pp<N>`: prompt processing of N new tokens (random common words, different every repetition);
  t/s = tokens actually evaluated / prefill seconds (a BOS token still cached from the previous call is
  not re-evaluated, and not counted).
- `tg<N>`: N token-generation steps, one token each; t/s = N / seconds of those steps. Through a backend
  the first token comes out of the prompt's logits, so N + 1 tokens are generated and the N steps after the
  first are timed (GenerationStats.generation_seconds).
- `pp<N>+tg<M>`: both in one timed region; t/s = (N + M) / seconds.
- `@ d<D>`: the context is pre-filled with D tokens before the timed region (not timed); pp tests rely on
  the backend's prefix cache to keep that prefix.
- a warm-up run of every test before the repetitions (pp in full, tg with 2 tokens), then `reps` samples;
  avg/stddev (sample standard deviation, n - 1) over samples_ts = tokens * 1e9 / samples_ns.
With `grammar` set, tg and pp+tg tests generate a schema-constrained JSON document (GRAMMAR_SCHEMA, sized so
that the constraint cannot end before n_gen tokens) through that grammar engine.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, Field


@dataclass(frozen=True)
class BenchTest:
    n_prompt: int = 0
    n_gen: int = 0
    n_depth: int = 0
    grammar: str | None = None
    """Grammar engine name (e.g. "llguidance"), or None for free generation."""

    @property
    def name(self) -> str:
        if self.n_prompt > 0 and self.n_gen == 0:
            text = f"pp{self.n_prompt}"
        elif self.n_gen > 0 and self.n_prompt == 0:
            text = f"tg{self.n_gen}"
        else:
            text = f"pp{self.n_prompt}+tg{self.n_gen}"
        return f"{text} @ d{self.n_depth}" if self.n_depth > 0 else text

    @property
    def context_needed(self) -> int:
        # +2: a BOS token and the extra generated token that starts the timed tg steps
        return self.n_depth + self.n_prompt + self.n_gen + 2


@dataclass(frozen=True)
class BenchConfig:
    """One model loaded once, in its own worker process."""

    model: str
    backend: str
    n_threads: int | None = None
    n_ctx: int = 0
    """0: the smallest multiple of 256 that holds every test."""
    n_batch: int = 512
    seed: int = 0

    @property
    def label(self) -> str:
        threads = f" t{self.n_threads}" if self.n_threads else ""
        return f"{self.model.rsplit('/', 1)[-1]} [{self.backend}{threads}]"


def plan_tests(
    prompts: list[int],
    gens: list[int],
    pgs: list[tuple[int, int]],
    depths: list[int],
    grammar_engines: list[str | None],
) -> list[BenchTest]:
    """The test matrix in llama-bench's order (pp, then tg, then pg; per depth); grammar variants apply
    to tests that generate, placed next to their free twin so that A B A B interleaving pairs them."""
    tests: list[BenchTest] = []
    for depth in depths:
        tests.extend(BenchTest(n_prompt=p, n_depth=depth) for p in prompts if p > 0)
        for n in gens:
            if n > 0:
                tests.extend(BenchTest(n_gen=n, n_depth=depth, grammar=g) for g in grammar_engines)
        for p, n in pgs:
            tests.extend(BenchTest(n_prompt=p, n_gen=n, n_depth=depth, grammar=g) for g in grammar_engines)
    return tests


def context_for(tests: list[BenchTest], requested: int = 0) -> int:
    if requested > 0:
        return requested
    needed = max((t.context_needed for t in tests), default=512)
    return max(256, math.ceil(needed / 256) * 256)


def grammar_schema(n_gen: int) -> dict[str, Any]:
    """A harness-like schema (objects with named fields inside an array) whose minItems keeps the
    constraint open for at least n_gen tokens: every item takes more than four tokens."""
    item = {
        "type": "object",
        "properties": {"name": {"type": "string"}, "count": {"type": "integer"}},
        "required": ["name", "count"],
        "additionalProperties": False,
    }
    return {
        "type": "object",
        "properties": {"items": {"type": "array", "items": item, "minItems": n_gen // 4 + 2}},
        "required": ["items"],
        "additionalProperties": False,
    }


class Sample(BaseModel):
    """One timed repetition, as the worker reports it."""

    seconds: float
    tokens: int
    peak_rss_bytes: int
    backend_peak_bytes: int | None = None
    generated_tokens: int = 0
    forced_tokens: int = 0
    mask_seconds: float = 0.0


class BenchRecord(BaseModel):
    """One (configuration, test) result; field names follow llama-bench's JSON where they exist."""

    model_filename: str
    model_size: int | None = Field(default=None, description="bytes on disk")
    backend: str
    n_threads: int | None
    n_ctx: int
    n_batch: int
    n_prompt: int
    n_gen: int
    n_depth: int
    test: str
    grammar: str | None
    test_time: str
    cpu_info: str | None = None
    gpu_info: str | None = None
    backend_version: str | None = Field(default=None, description="version of the backend's Python package")
    load_seconds: float | None = None
    avg_ns: int | None = None
    stddev_ns: int | None = None
    avg_ts: float | None = None
    stddev_ts: float | None = None
    samples_ns: list[int] = Field(default_factory=list)
    samples_ts: list[float] = Field(default_factory=list)
    peak_rss_bytes: int | None = None
    backend_peak_bytes: int | None = None
    mask_ms_per_token: float | None = None
    forced_share: float | None = None
    error: str | None = None


def mean_stddev(values: list[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (0 for a single value), as llama-bench reports them."""
    if not values:
        return 0.0, 0.0
    return statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else 0.0


def fill_statistics(record: BenchRecord, samples: list[Sample]) -> BenchRecord:
    """Copy samples into a record and compute its averages."""
    ns = [round(s.seconds * 1e9) for s in samples]
    ts = [s.tokens / s.seconds if s.seconds > 0 else 0.0 for s in samples]
    avg_ns, sd_ns = mean_stddev([float(v) for v in ns])
    avg_ts, sd_ts = mean_stddev(ts)
    generated = sum(s.generated_tokens for s in samples)
    peaks = [s.backend_peak_bytes for s in samples if s.backend_peak_bytes is not None]
    return record.model_copy(
        update={
            "samples_ns": ns,
            "samples_ts": ts,
            "avg_ns": round(avg_ns) if samples else None,
            "stddev_ns": round(sd_ns) if samples else None,
            "avg_ts": avg_ts if samples else None,
            "stddev_ts": sd_ts if samples else None,
            "peak_rss_bytes": max((s.peak_rss_bytes for s in samples), default=None),
            "backend_peak_bytes": max(peaks) if peaks else None,
            "mask_ms_per_token": 1000 * sum(s.mask_seconds for s in samples) / generated
            if generated
            else None,
            "forced_share": sum(s.forced_tokens for s in samples) / generated if generated else None,
        }
    )
