"""Profiler overhead: decode tokens/s with the memory sampler on versus off, on the default model.

    python scripts/bench_profiler.py [--reps 5] [--tokens 128] [--period 0.01] [--threads N] [--sampler-thread] [--json]
    python scripts/bench_profiler.py --vs-raw [-p 512] [-n 128]   # also: `lapbench bench` vs raw llama-cpp-python

One warm-up, then `--reps` repetitions of each, interleaved (off on, on off, off on, ...) so that machine
noise and order effects hit both. Decode t/s is GenerationStats.generation_tps (inter-token time only).
Goal: ratio on/off within 1% of 1.0. `--json` prints {"on_tps", "off_tps", "ratio", ...} with the raw
samples. "On" is the sampler as runs use it (on Linux: no thread, the kernel's high-water mark);
`--sampler-thread` measures the 10 ms sampling thread itself.

`--vs-raw` adds the bench's own comparison: pp<p> and tg<n> measured the way `lapbench bench` does
(runner.bench.worker.measure through the llama-cpp backend) against a raw llama-cpp-python loop
(`Llama.eval` of random tokens, no sampling — what llama-bench does), interleaved; the ratio
bench/raw is the runner's overhead.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from typing import Any

from backends.base import Backend, GenerationRequest, LoadConfig
from backends.registry import create_backend
from runner.bench.plan import BenchTest
from runner.bench.worker import TextSource, default_threads, measure
from runner.profiler.sampler import MemorySampler
from runner.setup.pypi_models import default_model_path

PROMPT = "Once upon a time, in a small village by the sea, there lived an old fisherman who"


def _decode_tps(backend: Backend, tokens: int, period: float | None, thread: bool | None = None) -> float:
    request = GenerationRequest(prompt=PROMPT, max_tokens=tokens + 1, ignore_eos=True)
    if period is None:
        return backend.generate(request).stats.generation_tps
    with MemorySampler(period, thread=thread):
        return backend.generate(request).stats.generation_tps


def _summary(samples: list[float]) -> dict[str, Any]:
    return {
        "mean": statistics.fmean(samples),
        "stddev": statistics.stdev(samples) if len(samples) > 1 else 0.0,
        "samples": samples,
    }


def sampler_overhead(
    backend: Backend, reps: int, tokens: int, period: float, thread: bool | None = None
) -> dict[str, Any]:
    _decode_tps(backend, tokens, None)
    on: list[float] = []
    off: list[float] = []
    for rep in range(reps):
        # off-on, then on-off: neither setting always runs first (ABBA cancels order effects)
        for sampled in (False, True) if rep % 2 == 0 else (True, False):
            (on if sampled else off).append(_decode_tps(backend, tokens, period if sampled else None, thread))
    on_tps, off_tps = statistics.fmean(on), statistics.fmean(off)
    return {
        "on_tps": on_tps,
        "off_tps": off_tps,
        "ratio": on_tps / off_tps if off_tps else 0.0,
        "period_s": period,
        "sampler_thread": thread if thread is not None else not sys.platform.startswith("linux"),
        "tokens": tokens,
        "on": _summary(on),
        "off": _summary(off),
    }


class RawLoop:
    """llama-bench's loop through llama-cpp-python: random tokens, evaluated without sampling."""

    def __init__(self, model: str, n_ctx: int, threads: int) -> None:
        import llama_cpp

        self.llama_cpp = llama_cpp
        self.llm = llama_cpp.Llama(
            model, n_ctx=n_ctx, n_batch=512, n_threads=threads, n_threads_batch=threads, verbose=False
        )
        self.rng = random.Random(0)

    def _clear(self) -> None:
        self.llm.reset()
        self.llama_cpp.llama_memory_clear(self.llama_cpp.llama_get_memory(self.llm.ctx), True)

    def _random(self, n: int) -> list[int]:
        return [self.rng.randrange(1000, self.llm.n_vocab()) for _ in range(n)]

    def pp(self, n: int) -> float:
        self._clear()
        tokens = self._random(n)
        started = time.perf_counter()
        self.llm.eval(tokens)
        return n / (time.perf_counter() - started)

    def tg(self, n: int) -> float:
        self._clear()
        self.llm.eval(self._random(1))
        started = time.perf_counter()
        for token in self._random(n):
            self.llm.eval([token])
        return n / (time.perf_counter() - started)


def bench_vs_raw(
    backend: Backend, model: str, threads: int, reps: int, n_prompt: int, n_gen: int
) -> dict[str, Any]:
    raw = RawLoop(model, n_ctx=n_prompt + n_gen + 64, threads=threads)
    source = TextSource(backend)
    results: dict[str, Any] = {}
    for name, test, raw_run in (
        (f"pp{n_prompt}", BenchTest(n_prompt=n_prompt), lambda: raw.pp(n_prompt)),
        (f"tg{n_gen}", BenchTest(n_gen=n_gen), lambda: raw.tg(n_gen)),
    ):
        measure(backend, test, source, rep=-1)
        raw_run()
        ours: list[float] = []
        theirs: list[float] = []
        for rep in range(reps):
            sample = measure(backend, test, source, rep)
            ours.append(sample.tokens / sample.seconds)
            theirs.append(raw_run())
        results[name] = {
            "bench_tps": _summary(ours),
            "raw_tps": _summary(theirs),
            "ratio": statistics.fmean(ours) / statistics.fmean(theirs),
        }
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--tokens", type=int, default=128, help="decode steps per repetition")
    parser.add_argument("--period", type=float, default=0.01, help="sampler period in seconds")
    parser.add_argument("--threads", type=int, default=0, help="default: physical cores")
    parser.add_argument(
        "--sampler-thread",
        action="store_true",
        help="force the sampling thread (default: as runs use it, i.e. none on Linux where the kernel "
        "high-water mark is exact)",
    )
    parser.add_argument("--vs-raw", action="store_true", help="also compare bench pp/tg with a raw loop")
    parser.add_argument("-p", type=int, default=512)
    parser.add_argument("-n", type=int, default=128)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    model = str(default_model_path())
    threads = args.threads or default_threads()
    backend = create_backend("llama-cpp")
    backend.load(LoadConfig(model=model, n_ctx=max(1024, args.p + args.n + 64), n_threads=threads))
    result = sampler_overhead(
        backend, args.reps, args.tokens, args.period, True if args.sampler_thread else None
    )
    result["threads"] = threads
    if args.vs_raw:
        result["vs_raw"] = bench_vs_raw(backend, model, threads, args.reps, args.p, args.n)
    backend.close()
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"decode t/s, sampler off: {result['off_tps']:.2f} ± {result['off']['stddev']:.2f}")
    print(f"decode t/s, sampler on:  {result['on_tps']:.2f} ± {result['on']['stddev']:.2f}")
    print(f"ratio on/off: {result['ratio']:.4f} (goal: within 0.99..1.01)")
    for name, row in result.get("vs_raw", {}).items():
        bench, raw = row["bench_tps"], row["raw_tps"]
        print(
            f"{name}: bench {bench['mean']:.2f} ± {bench['stddev']:.2f}, raw {raw['mean']:.2f} ± "
            f"{raw['stddev']:.2f}, ratio {row['ratio']:.3f}"
        )


if __name__ == "__main__":
    main()
