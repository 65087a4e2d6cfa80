"""A full run as fast as the hardware allows: prompt reuse, jump-forward on the real tool calls, suite time.

    python scripts/bench_run.py [--suite standard] [--calls-suite smoke] [--threads 1] [--write-tokens] [--json]

On the default model through lapbench's llama.cpp backend:
1. the gold-forced run of `--suite` (`lapbench run MODEL --backend oracle`, every call's gold answer forced
   through llama.cpp, in the oracle's 16,384-token context), with prompt reuse (saved KV states, backends/prefix_cache.py) and without it
   (`prefix_cache_mb: 0`: only the live context is reused, as before): prompt tokens, evaluated tokens,
   wall time, and whether both runs score the same;
2. the prediction of run 1's wall time by `runner.fit.suite_time` from the gold token counts (the stored
   `runner/projects/gold/<id>/tokens.json`, else run 1's) and this machine's calibrated speeds;
3. the real tool calls of `lapbench run` on the default model (`--calls-suite`, grammar mode): each
   constrained call is decoded once more without its grammar, from the same prompt, for as many tokens ->
   decode tokens/s constrained over free (`tool_call_ratio`) and the share of the constrained calls' tokens
   that jump-forward appended (`forced_share`).
`--write-tokens` stores run 1's counts per project (what `lapbench fit MODEL --suite` reads).
`--json` prints {"prompt_tokens", "evaluated_tokens", "evaluated_share", "wall_s", "predicted_wall_s",
"prediction_error", "tool_call_ratio", "forced_share", "same_scores", ...}.
Goals: evaluated_share <= 0.25, prediction_error <= 0.15, tool_call_ratio >= 1.3, same_scores true.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from backends.base import Backend, Constraint, Generation, GenerationRequest, GenerationStats, LoadConfig
from backends.registry import create_backend
from runner.fit.calibrate import Calibration
from runner.fit.suite_time import GoldTokens, SuiteTime, predict_suite_time, speed_for, write_tokens
from runner.projects import suite_projects
from runner.run.config import RunConfig, run_context
from runner.run.record import RunRecord
from runner.run.run import execute_run, start_run
from runner.setup.pypi_models import default_model_path


class Recorder:
    """A backend wrapper that keeps every request with its generation; with `free_twin`, it also decodes each
    constrained request again without its constraint, for as many tokens (the pipeline never sees it)."""

    def __init__(self, inner: Backend, free_twin: bool = False) -> None:
        self.inner, self.free_twin = inner, free_twin
        self.name, self.capabilities = inner.name, inner.capabilities
        self.calls: list[tuple[GenerationRequest, Generation, GenerationStats | None]] = []

    def load(self, config: LoadConfig) -> None:
        self.inner.load(config)
        self.capabilities = self.inner.capabilities

    def tokenize(self, text: str, *, add_special: bool = False) -> list[int]:
        return self.inner.tokenize(text, add_special=add_special)

    def detokenize(self, tokens: Sequence[int]) -> str:
        return self.inner.detokenize(tokens)

    def generate(self, request: GenerationRequest, on_token: Any = None) -> Generation:
        generation = self.inner.generate(request, on_token)
        free = None
        if self.free_twin and request.constraint is not None and generation.stats.generated_tokens > 1:
            # as many tokens as the constrained call made, from the same prompt: the same depths
            n = generation.stats.generated_tokens
            twin = replace(request, constraint=None, max_tokens=n, ignore_eos=True, stop=())
            free = self.inner.generate(twin).stats
        self.calls.append((request, generation, free))
        return generation

    def memory_report(self) -> Mapping[str, int]:
        return self.inner.memory_report()

    def close(self) -> None:
        self.inner.close()


@dataclass
class Run:
    record: RunRecord
    wall_s: float
    cpu_s: float
    """CPU seconds of this process: the wall time of an idle machine, when llama.cpp runs one thread."""
    rows: list[dict[str, Any]]
    recorder: Recorder
    refused: int = 0
    """Calls whose gold answer the tool's grammar refuses (see schema_forced)."""


def run_suite(config: RunConfig, free_twin: bool = False) -> Run:
    db = Path(tempfile.mkdtemp(prefix="lapbench-bench-run-")) / "results.sqlite"
    run_id = start_run(config, suite_projects(config.suite), db)
    recorders: list[Recorder] = []

    def create(name: str) -> Backend:
        recorders.append(Recorder(create_backend(name), free_twin))
        return recorders[-1]

    started, cpu = time.perf_counter(), time.process_time()
    record = execute_run(run_id, db, create_backend=create)
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    from runner.run.store import ResultsStore

    with ResultsStore(db) as store:
        rows = store.call_rows(run_id)
    return Run(record, wall, cpu, rows, recorders[0])


def gold_config(suite: str, threads: int, options: dict[str, Any]) -> RunConfig:
    model = default_model_path()
    return RunConfig(
        model=str(model), model_label=f"{model.stem} (gold-forced)", backend="oracle", suite=suite,
        n_threads=threads, n_ctx=run_context(str(model), "oracle"),
        backend_options={"through": "llama-cpp", **options},
    )  # fmt: skip


def schema_forced(run: Run) -> list[int]:
    """Per call, the tokens of the gold answer that the tool's own grammar would have forced. Where the
    grammar refuses the gold (its caps are stricter than the schemas: long strings, long lists), the share
    forced before the refusal is extrapolated to the rest of the answer."""
    import llama_cpp

    from backends.grammar.replay import replay_forced
    from backends.llama_cpp.grammars import Grammars

    llm = llama_cpp.Llama(model_path=str(default_model_path()), vocab_only=True, verbose=False)
    vocab = llama_cpp.llama_model_get_vocab(llm.model)
    eog = [t for t in range(llm.n_vocab()) if llama_cpp.llama_vocab_is_eog(vocab, t)]
    grammars = Grammars(vocab, llm.n_vocab(), eog)
    counts = []
    try:
        for request, generation, _ in run.recorder.calls:
            constraint = request.constraint or Constraint({})
            replay = replay_forced(grammars.matcher(constraint), generation.tokens)
            seen = replay.tokens if replay.rejected_at is None else replay.rejected_at
            run.refused += replay.rejected_at is not None
            counts.append(round(replay.forced * replay.tokens / seen) if seen else 0)
    finally:
        grammars.close()
        llm.close()
    return counts


def token_counts(run: Run, model: str) -> dict[str, GoldTokens]:
    """Run 1's counts per project (calls are stored in the order the backend served them)."""
    if len(run.rows) != len(run.recorder.calls):
        raise SystemExit(f"{len(run.rows)} stored calls but {len(run.recorder.calls)} generations")
    by_project: dict[str, list[tuple[dict[str, Any], int]]] = defaultdict(list)
    for row, forced in zip(run.rows, schema_forced(run), strict=True):
        by_project[row["project"]].append((row, forced))
    counts = {}
    for project, calls in by_project.items():
        evaluated = sum(r["prompt_tokens_evaluated"] for r, _ in calls) or 1
        generated = sum(r["generated_tokens"] for r, _ in calls) or 1
        counts[project] = GoldTokens(
            projects=(project,), model=model, calls=len(calls),
            prompt_tokens=sum(r["prompt_tokens"] for r, _ in calls),
            evaluated_tokens=sum(r["prompt_tokens_evaluated"] for r, _ in calls),
            generated_tokens=sum(r["generated_tokens"] for r, _ in calls),
            forced_tokens=sum(r["forced_tokens"] for r, _ in calls),
            schema_forced_tokens=sum(f for _, f in calls),
            evaluated_depth=round(sum(
                r["prompt_tokens_evaluated"] * (r["prompt_tokens"] - r["prompt_tokens_evaluated"] / 2)
                for r, _ in calls) / evaluated, 1),
            generated_depth=round(sum(
                r["generated_tokens"] * (r["prompt_tokens"] + r["generated_tokens"] / 2) for r, _ in calls
            ) / generated, 1),
        )  # fmt: skip
    return counts


def calibration(threads: int | None) -> Calibration | None:
    """This machine's speed measured now, next to run 1 and with its threads (`lapbench fit --calibrate`
    measures with the backend's default threads, which on a busy 2-core machine is another speed)."""
    from backends.base import BackendError
    from runner.errors import LapbenchError
    from runner.fit.calibrate import calibrate

    try:
        return calibrate(n_threads=threads)
    except (LapbenchError, BackendError) as err:
        print(f"no prediction: no calibration: {err}", file=sys.stderr)
        return None


def predict(tokens: GoldTokens, cal: Calibration | None) -> SuiteTime | None:
    """Run 1's wall time from gold token counts and the calibration, as `lapbench fit --suite` does."""
    from runner.fit.api import FitOptions, runtime_for
    from runner.fit.resolve import local_gguf

    cfg = runtime_for(FitOptions(ctx=run_context(str(default_model_path()), "oracle")))
    arch = local_gguf(default_model_path()).arch
    return predict_suite_time(tokens, speed_for(arch, cfg, cal, None), decoding="gold")


def stored_or(run_tokens: dict[str, GoldTokens], suite: str) -> tuple[GoldTokens, str]:
    from runner.errors import ConfigError
    from runner.fit.suite_time import suite_gold_tokens

    try:
        return suite_gold_tokens(suite), "stored tokens.json"
    except ConfigError:
        return GoldTokens.total(run_tokens.values()), "this run's counts"


def tool_calls(suite: str, threads: int) -> dict[str, Any]:
    """Constrained vs free decode speed on the real calls of `lapbench run` on the default model."""
    model = default_model_path()
    config = RunConfig(
        model=str(model), model_label=model.stem, backend="llama-cpp", suite=suite, n_threads=threads
    )
    run = run_suite(config, free_twin=True)
    pairs = [(g.stats, f) for _, g, f in run.recorder.calls if f is not None]
    steps = lambda s: max(s.generated_tokens - 1, 0)  # noqa: E731  (inter-token time, as generation_tps)
    constrained_s = sum(c.generation_seconds for c, _ in pairs) or 1e-9
    free_s = sum(f.generation_seconds for _, f in pairs) or 1e-9
    constrained_tps = sum(steps(c) for c, _ in pairs) / constrained_s
    free_tps = sum(steps(f) for _, f in pairs) / free_s
    generated = sum(c.generated_tokens for c, _ in pairs) or 1
    return {
        "calls": len(pairs),
        "constrained_tps": round(constrained_tps, 2),
        "free_tps": round(free_tps, 2),
        "tool_call_ratio": round(constrained_tps / free_tps, 3) if free_tps else None,
        "forced_share": round(sum(c.forced_tokens for c, _ in pairs) / generated, 3),
        "score": run.record.score,
    }


def scores(record: RunRecord) -> list[tuple[str, float, dict[str, float]]]:
    return [(r.project, r.score, r.dimensions) for r in record.results]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--suite", default="standard", help="suite of the gold-forced runs")
    parser.add_argument("--calls-suite", default="smoke", help="suite of the real tool calls (none: skip)")
    parser.add_argument("--threads", type=int, default=1, help="llama.cpp threads (1 on a shared machine)")
    parser.add_argument("--write-tokens", action="store_true", help="store the gold token counts per project")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    cal = calibration(args.threads)
    reuse = run_suite(gold_config(args.suite, args.threads, {}))
    counts = token_counts(reuse, default_model_path().stem)
    if args.write_tokens:
        for tokens in counts.values():
            print(f"wrote {write_tokens(tokens)}", file=sys.stderr)
    baseline = run_suite(gold_config(args.suite, args.threads, {"prefix_cache_mb": 0}))
    tokens, source = stored_or(counts, args.suite)
    predicted = predict(tokens, cal)
    prompt = sum(r["prompt_tokens"] for r in reuse.rows)
    evaluated = sum(r["prompt_tokens_evaluated"] for r in reuse.rows)
    base_evaluated = sum(r["prompt_tokens_evaluated"] for r in baseline.rows)
    calls = tool_calls(args.calls_suite, args.threads) if args.calls_suite != "none" else {}
    result = {
        "prompt_tokens": prompt,
        "evaluated_tokens": evaluated,
        "evaluated_share": round(evaluated / prompt, 3) if prompt else None,
        "wall_s": round(reuse.wall_s, 1),
        "cpu_s": round(reuse.cpu_s, 1),
        "predicted_wall_s": predicted.seconds if predicted else None,
        "prediction_error": round(abs(predicted.seconds - reuse.wall_s) / reuse.wall_s, 3) if predicted else None,
        "tool_call_ratio": calls.get("tool_call_ratio"),
        "forced_share": calls.get("forced_share"),
        "same_scores": scores(reuse.record) == scores(baseline.record),
        "suite": args.suite,
        "calls": len(reuse.rows),
        "score": reuse.record.score,
        "baseline": {"evaluated_tokens": base_evaluated, "evaluated_share": round(base_evaluated / prompt, 3),
                     "wall_s": round(baseline.wall_s, 1), "score": baseline.record.score},
        "prediction": {**predicted.as_json(), "tokens_from": source} if predicted else None,
        "gold_schema_forced_share": round(tokens.schema_forced_tokens / max(tokens.generated_tokens, 1), 3),
        "gold_refused_by_grammar": reuse.refused,
        "load_average": [round(x, 1) for x in os.getloadavg()],
        "call_overhead_s": round((reuse.wall_s - sum(
            (r["prompt_seconds"] or 0) + (r["generation_seconds"] or 0) for r in reuse.rows)) / len(reuse.rows), 3),
        "real_calls": calls,
    }  # fmt: skip
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    for key, value in result.items():
        print(f"{key:>26}: {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
