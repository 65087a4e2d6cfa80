"""Runner overhead: decode tokens/s through each lapbench backend versus the library's own loop.

    python scripts/bench_backends.py [--reps 5] [--max-tokens 64] [--only llama_cpp|mlx] [--json]

Same model (the default SmolLM2 GGUF, and its converted MLX folder), same prompt, greedy, same number of
tokens. Decode speed is counted the same way on both sides: (tokens - 1) / (time of the last token - time
of the first token), i.e. inter-token time only (base.GenerationStats.generation_tps).
- llama_cpp: `LlamaCppBackend.generate` vs `llama_cpp.Llama.generate` (the raw token generator);
- mlx: `MlxBackend.generate` vs `mlx_lm.stream_generate`.
One warm-up each, then `--reps` repetitions alternating backend / raw so that machine noise hits both.
Prints mean ± sample stddev and the ratio backend/raw (goal >= 0.97); `--json` prints
{"llama_cpp": {"backend_tps", "raw_tps", "ratio", ...}, "mlx": {...}} with the raw samples.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from backends.base import Backend, GenerationRequest, LoadConfig
from backends.registry import create_backend
from runner.paths import models_dir

PROMPT = "Once upon a time, in a small village by the sea, there lived an old fisherman who"


def _inter_token_tps(times: list[float]) -> float:
    return (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 and times[-1] > times[0] else 0.0


def _backend_sampler(backend: Backend, max_tokens: int) -> Callable[[], float]:
    request = GenerationRequest(prompt=PROMPT, max_tokens=max_tokens)

    def run() -> float:
        generation = backend.generate(request)
        if generation.stats.generated_tokens != max_tokens:
            raise SystemExit(f"{backend.name}: stopped after {generation.stats.generated_tokens} tokens")
        return generation.stats.generation_tps

    return run


def _raw_llama(gguf: Path, max_tokens: int, n_ctx: int) -> Callable[[], float]:
    from llama_cpp import Llama

    llm = Llama(model_path=str(gguf), n_ctx=n_ctx, verbose=False)
    prompt = llm.tokenize(PROMPT.encode(), add_bos=True, special=True)

    def run() -> float:
        times: list[float] = []
        for _ in llm.generate(prompt, temp=0.0, top_k=1, reset=True):
            times.append(time.perf_counter())
            if len(times) == max_tokens:
                break
        return _inter_token_tps(times)

    return run


def _raw_mlx(folder: Path, max_tokens: int) -> Callable[[], float]:
    from mlx_lm import load, stream_generate

    loaded: Any = load(str(folder))
    model, tokenizer = loaded[0], loaded[1]
    prompt = tokenizer.encode(PROMPT, add_special_tokens=True)

    def run() -> float:
        times = []
        for response in stream_generate(model, tokenizer, prompt, max_tokens=max_tokens):
            times.append(time.perf_counter())
            if response.finish_reason == "stop":
                raise SystemExit(f"mlx_lm: stopped after {len(times)} tokens")
        return _inter_token_tps(times)

    return run


def _measure(backend_run: Callable[[], float], raw_run: Callable[[], float], reps: int) -> dict[str, Any]:
    backend_run(), raw_run()  # warm-up: caches, lazy kernels
    backend_samples, raw_samples = [], []
    for _ in range(reps):
        backend_samples.append(backend_run())
        raw_samples.append(raw_run())
    backend_tps, raw_tps = statistics.fmean(backend_samples), statistics.fmean(raw_samples)
    return {
        "backend_tps": backend_tps,
        "backend_stddev": statistics.stdev(backend_samples) if reps > 1 else 0.0,
        "raw_tps": raw_tps,
        "raw_stddev": statistics.stdev(raw_samples) if reps > 1 else 0.0,
        "ratio": backend_tps / raw_tps if raw_tps else 0.0,
        "backend_samples": backend_samples,
        "raw_samples": raw_samples,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--only", choices=("llama_cpp", "mlx"), action="append")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    gguf = models_dir() / "SmolLM2-135M-Instruct.Q4_1.gguf"
    folder = models_dir() / "mlx" / "smollm2-135m-q4_1"
    n_ctx = 1024
    results: dict[str, dict[str, Any]] = {}
    for which in args.only or ["llama_cpp", "mlx"]:
        name, model = ("llama-cpp", gguf) if which == "llama_cpp" else ("mlx", folder)
        backend = create_backend(name)
        backend.load(LoadConfig(model=str(model), n_ctx=n_ctx))
        raw = (
            _raw_llama(gguf, args.max_tokens, n_ctx)
            if which == "llama_cpp"
            else _raw_mlx(folder, args.max_tokens)
        )
        results[which] = _measure(_backend_sampler(backend, args.max_tokens), raw, args.reps)
        backend.close()
        if not args.json:
            r = results[which]
            print(
                f"{which:10s} backend {r['backend_tps']:7.2f} ± {r['backend_stddev']:5.2f} tok/s   "
                f"raw {r['raw_tps']:7.2f} ± {r['raw_stddev']:5.2f} tok/s   ratio {r['ratio']:.3f}"
            )
    if args.json:
        print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
