"""The bench worker: one process per configuration, so that a model that runs out of memory (or crashes
the native library) ends only its own configuration.

Protocol: JSON lines. The parent writes requests to stdin and reads one reply line per request from the
worker's original stdout; everything else the process prints (llama.cpp logs, warnings) goes to stderr.
    {"op": "load", "config": {...BenchConfig}}            -> {"ok": true, "load_seconds": s, "n_threads": n}
    {"op": "sample", "test": {...BenchTest}, "rep": i, "warmup": false} -> {"ok": true, "sample": {...Sample}}
    {"op": "quit"}
Any failure is {"ok": false, "error": "one line"}; the worker keeps serving after a failed sample.

`measure(backend, test, text_source, rep)` is the measurement itself and runs in-process too (tests).
"""

from __future__ import annotations

import json
import os
import random
import sys
from typing import Any, TextIO

from backends.base import Backend, BackendError, Constraint, GenerationRequest, GenerationStats, LoadConfig
from runner.bench.plan import BenchConfig, BenchTest, Sample, grammar_schema
from runner.profiler.profile import backend_memory_total
from runner.profiler.sampler import MemorySampler

_COMMON_WORDS = (
    "the of and to in is that for it as was with be by on not he this are or his from at which but have an "
    "they you were her she there one all we their been has would when if more will no out so said what up "
    "its about into than them can only other new some could time these two may then do first any my now "
    "such like our over man me even most made after also did many before must through back years where much "
    "your way well down should because each just those people how too little state good very make world "
    "still own see men work long get here between both life being under never day same another know while "
    "last might us great old year off come since against go came right used take three"
)
CANDIDATE_WORDS = tuple(_COMMON_WORDS.split())


class TextSource:
    """Prompt text with an exact token count: words that the model's tokenizer keeps as one token each,
    so a text of k words is k tokens and joined texts split at their boundary. Seeded per repetition so
    consecutive prompts differ from their first token (no accidental prefix-cache hits)."""

    def __init__(self, backend: Backend, seed: int = 0) -> None:
        self.backend = backend
        self.seed = seed
        self.words = [w for w in (" " + c for c in CANDIDATE_WORDS) if len(backend.tokenize(w)) == 1]
        if len(self.words) < 16:
            raise BackendError(f"tokenizer of {backend.name} keeps too few common words as single tokens")
        self.special = len(backend.tokenize("x", add_special=True)) - len(backend.tokenize("x"))
        """Tokens the backend adds to a raw prompt (a BOS token: 1)."""

    def text(self, n_tokens: int, key: str) -> str:
        rng = random.Random(f"{self.seed}/{key}")
        words = [rng.choice(self.words) for _ in range(max(n_tokens, 0))]
        return "".join(words)


def _constraint(test: BenchTest) -> Constraint | None:
    if test.grammar is None:
        return None
    return Constraint(json_schema=grammar_schema(test.n_gen), name="bench", engine=test.grammar)


def _backend_peak(backend: Backend, stats: GenerationStats) -> int | None:
    if stats.peak_memory_bytes is not None:
        return stats.peak_memory_bytes
    try:
        return backend_memory_total(backend.memory_report())
    except Exception:
        return None


def measure(
    backend: Backend, test: BenchTest, source: TextSource, rep: int, *, warmup: bool = False
) -> Sample:
    """One repetition of `test` (see bench_plan for the semantics); only the test's own tokens are timed.
    A warm-up (llama-bench's) processes the full prompt but generates only 2 tokens, under the same grammar."""
    n_gen = min(test.n_gen, 2) if warmup else test.n_gen
    depth_text = source.text(test.n_depth - source.special, f"depth{test.n_depth}") if test.n_depth else ""
    if test.n_depth and test.n_prompt:  # pre-fill, untimed; a tg test's prompt is the depth text itself
        backend.generate(GenerationRequest(prompt=depth_text, max_tokens=1))
    prompt_words = test.n_prompt - (0 if test.n_depth else source.special)
    if test.n_prompt:
        prompt = depth_text + source.text(prompt_words, f"prompt{rep}/{test.name}")
    else:
        prompt = depth_text or source.text(1, f"gen{rep}/{test.name}")
    request = GenerationRequest(
        prompt=prompt,
        max_tokens=n_gen + 1 if n_gen else 1,
        ignore_eos=True,
        constraint=_constraint(test) if test.n_gen else None,
    )
    with MemorySampler() as sampler:
        generation = backend.generate(request)
    if generation.error or generation.finish_reason == "error":
        raise BackendError(f"generation failed: {generation.error or 'finish reason error'}")
    stats = generation.stats
    if test.n_prompt and test.n_depth and stats.prompt_tokens_evaluated > test.n_prompt + 1:
        raise BackendError(
            f"{backend.name} re-evaluated the {test.n_depth}-token depth prefix "
            f"({stats.prompt_tokens_evaluated} tokens evaluated): no prefix cache, cannot time pp at depth"
        )
    if n_gen and stats.generated_tokens < n_gen + 1:
        raise BackendError(
            f"generation stopped after {stats.generated_tokens} of {n_gen + 1} tokens "
            f"(finish reason {generation.finish_reason})"
        )
    steps = stats.generated_tokens - 1
    if test.n_prompt and test.n_gen:
        seconds, tokens = (
            stats.time_to_first_token + stats.generation_seconds,
            stats.prompt_tokens_evaluated + steps,
        )
    elif test.n_gen:
        seconds, tokens = stats.generation_seconds, steps
    else:
        seconds, tokens = stats.prompt_seconds, stats.prompt_tokens_evaluated
    return Sample(
        seconds=seconds,
        tokens=tokens,
        peak_rss_bytes=sampler.peak_rss,
        backend_peak_bytes=_backend_peak(backend, stats),
        generated_tokens=stats.generated_tokens if test.n_gen else 0,
        forced_tokens=stats.forced_tokens,
        mask_seconds=stats.mask_seconds,
    )


def default_threads() -> int:
    import psutil

    return psutil.cpu_count(logical=False) or os.cpu_count() or 1


class Worker:
    def __init__(self) -> None:
        self.backend: Backend | None = None
        self.source: TextSource | None = None

    def handle(self, message: dict[str, Any]) -> dict[str, Any]:
        op = message.get("op")
        if op == "load":
            return self._load(BenchConfig(**message["config"]))
        if op == "sample":
            if self.backend is None or self.source is None:
                raise BackendError("sample before load")
            test = BenchTest(**message["test"])
            rep, warmup = int(message.get("rep", 0)), bool(message.get("warmup"))
            sample = measure(self.backend, test, self.source, rep, warmup=warmup)
            return {"ok": True, "sample": sample.model_dump()}
        raise BackendError(f"unknown op {op!r}")

    def _load(self, config: BenchConfig) -> dict[str, Any]:
        from backends.registry import create_backend
        from runner.profiler.profile import profile_load

        backend = create_backend(config.backend)
        load = LoadConfig(
            model=config.model,
            n_ctx=config.n_ctx,
            n_threads=config.n_threads,
            n_batch=config.n_batch,
            seed=config.seed,
        )
        profile = profile_load(backend, load)
        self.backend = backend
        self.source = TextSource(backend, config.seed)
        return {
            "ok": True,
            "load_seconds": profile.load_seconds,
            "peak_rss_bytes": profile.peak_rss_bytes,
            "backend_memory": dict(profile.backend_memory),
        }


def serve(requests: TextIO, replies: TextIO) -> None:
    worker = Worker()
    for line in requests:
        message = json.loads(line)
        if message.get("op") == "quit":
            break
        try:
            reply = worker.handle(message)
        except Exception as err:  # reported to the parent as this sample's error; the worker carries on
            reply = {"ok": False, "error": f"{type(err).__name__}: {err}".splitlines()[0]}
        replies.write(json.dumps(reply) + "\n")
        replies.flush()
    if worker.backend is not None:
        worker.backend.close()


def main() -> None:
    # Native libraries print to fd 1; keep the protocol on a private copy of it and send fd 1 to stderr.
    replies = os.fdopen(os.dup(sys.stdout.fileno()), "w", buffering=1)
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    serve(sys.stdin, replies)


if __name__ == "__main__":
    main()
