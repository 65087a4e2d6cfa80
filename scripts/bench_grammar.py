"""Grammar overhead benchmark: free decoding vs llguidance (with and without jump-forward) vs GBNF.

Method
- Default model SmolLM2-135M-Instruct Q4_1 through the llama.cpp backend, 2 threads, one loaded model.
- The grammar of a real call of `lapbench run`: the tool (`--tool`, default `test.function`) comes from
  `runner.run.tools.make_tool`, so its engine schema, whitespace cap and prompt text are exactly what the
  run compiles and sends. The prompt is the run's own (system prompt, tool schema as TypeScript, the smoke
  project's requirements, a one-line task); it is the same for every run, so after the warm-up it is served
  from the KV cache (one token replayed) and the runs differ only in decoding.
- Every run produces exactly `--tokens` tokens: `ignore_eos=True`. Unconstrained, end-of-generation is
  never sampled; constrained, a document that completes early is followed by a fresh document under the
  same grammar (the decode loop resets the matcher), so every token is still grammar-constrained.
- Throughput = output tokens / decode wall time, where decode wall time runs from the end of prefill
  (logits of the last prompt token ready) to the moment the last token is known. Forced (jump-forward)
  tokens count as output tokens: that is what the user waits for.
- Mask time per token: the matcher time of each decode step (candidate check, full mask when needed,
  advancing, forced-token computation), over all measured llguidance runs without jump-forward.
- One warm-up run per variant (compiles and caches the grammar), then `--reps` measured runs each;
  mean ± sample stddev. The machine may be shared: figures are only comparable within one invocation.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from backends.base import Constraint, GenerationRequest, LoadConfig, Message
from backends.llama_cpp.backend import LlamaCppBackend
from runner.paths import models_dir
from runner.projects import suite_projects
from runner.run.grammar import GRAMMAR_MAX_WHITESPACE
from runner.run.harness import ToolSpec
from runner.run.prompts import SYSTEM, user_prompt
from runner.run.tools import RUN_TOOLS, make_tool

DEFAULT_MODEL = "SmolLM2-135M-Instruct.Q4_1.gguf"
DEFAULT_TOOL = "test.function"


def prompt_of(tool: ToolSpec) -> tuple[Message, ...]:
    """The run's prompt for a call of `tool` on the smoke project, without earlier results."""
    (project,) = suite_projects("smoke")
    task = f"Call `{tool.name}` with the arguments this project needs."
    return Message("system", SYSTEM), Message("user", user_prompt(tool.name, tool.doc, project, [], task))


@dataclass
class Variant:
    name: str
    constraint: Constraint | None
    tps: list[float] = field(default_factory=list)
    forced: list[int] = field(default_factory=list)
    generated: list[int] = field(default_factory=list)
    step_seconds: list[float] = field(default_factory=list)


def _stats(values: list[float]) -> tuple[float, float]:
    return statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else 0.0


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else 0.0


def run(args: argparse.Namespace) -> dict[str, Any]:
    tool = make_tool(args.tool)
    prompt = prompt_of(tool)
    backend = LlamaCppBackend()
    backend.load(LoadConfig(str(args.model), n_ctx=args.n_ctx, n_threads=args.threads, seed=0))

    def constraint(engine: str, jump: bool) -> Constraint:
        return Constraint(
            tool.json_schema, tool.name, engine, jump_forward=jump, max_whitespace=GRAMMAR_MAX_WHITESPACE
        )

    variants = [
        Variant("free", None),
        Variant("llguidance", constraint("llguidance", False)),
        Variant("llguidance+jump_forward", constraint("llguidance", True)),
        Variant("gbnf", constraint("gbnf", False)),
    ]
    prompt_tokens = 0
    try:
        for rep in range(args.reps + 1):  # rep 0 is the warm-up
            for variant in variants:
                request = GenerationRequest(
                    messages=prompt, max_tokens=args.tokens, ignore_eos=True, constraint=variant.constraint
                )
                generation = backend.generate(request)
                stats = generation.stats
                if generation.finish_reason != "length":
                    raise SystemExit(
                        f"{variant.name}: stopped early ({generation.finish_reason}: {generation.error})"
                    )
                if rep == 0:
                    prompt_tokens = stats.prompt_tokens
                    continue
                decode_seconds = stats.token_times[-1] - stats.prompt_seconds
                variant.tps.append(stats.generated_tokens / decode_seconds)
                variant.forced.append(stats.forced_tokens)
                variant.generated.append(stats.generated_tokens)
                if backend.last_decode is not None:
                    variant.step_seconds += backend.last_decode.grammar_seconds
                print(f"rep {rep} {variant.name}: {variant.tps[-1]:.1f} tok/s", file=sys.stderr)
    finally:
        backend.close()
    by_name = {variant.name: variant for variant in variants}
    free, llg, jump, gbnf = (by_name[n] for n in ("free", "llguidance", "llguidance+jump_forward", "gbnf"))
    mask_us = [s * 1e6 for s in llg.step_seconds]
    gbnf_us = [s * 1e6 for s in gbnf.step_seconds]
    free_tps = _stats(free.tps)[0]
    return {
        "model": Path(args.model).name,
        "threads": args.threads,
        "tokens": args.tokens,
        "reps": args.reps,
        "tool": args.tool,
        "tool_name": tool.name,
        "schema_hash": tool.schema_hash,
        "max_whitespace": GRAMMAR_MAX_WHITESPACE,
        "prompt_tokens": prompt_tokens,
        "free_tps": free_tps,
        "free_tps_std": _stats(free.tps)[1],
        "constrained_tps": _stats(llg.tps)[0],
        "constrained_tps_std": _stats(llg.tps)[1],
        "jump_forward_tps": _stats(jump.tps)[0],
        "jump_forward_tps_std": _stats(jump.tps)[1],
        "gbnf_tps": _stats(gbnf.tps)[0],
        "gbnf_tps_std": _stats(gbnf.tps)[1],
        "forced_share": sum(jump.forced) / max(1, sum(jump.generated)),
        "mask_us_mean": statistics.fmean(mask_us) if mask_us else 0.0,
        "mask_us_p50": _percentile(mask_us, 0.5),
        "mask_us_p99": _percentile(mask_us, 0.99),
        "gbnf_mask_us_mean": statistics.fmean(gbnf_us) if gbnf_us else 0.0,
        "gbnf_mask_us_p99": _percentile(gbnf_us, 0.99),
        "ratio_constrained": _stats(llg.tps)[0] / free_tps,
        "ratio_jump_forward": _stats(jump.tps)[0] / free_tps,
        "ratio_gbnf": _stats(gbnf.tps)[0] / free_tps,
        "samples": {variant.name: variant.tps for variant in variants},
    }


def render(result: dict[str, Any]) -> str:
    rows = [
        ("unconstrained", "free_tps", None),
        ("llguidance", "constrained_tps", "ratio_constrained"),
        ("llguidance + jump-forward", "jump_forward_tps", "ratio_jump_forward"),
        ("GBNF (llama.cpp)", "gbnf_tps", "ratio_gbnf"),
    ]
    lines = [
        f"{result['model']}, {result['threads']} threads, {result['tokens']} tokens, {result['reps']} reps, "
        f"tool {result['tool']} (schema {result['schema_hash'][:12]}, prompt {result['prompt_tokens']} tokens)",
        f"{'variant':<28}{'tok/s':>16}{'x free':>9}",
    ]
    for label, key, ratio in rows:
        value = f"{result[key]:.1f} ± {result[key + '_std']:.1f}"
        lines.append(f"{label:<28}{value:>16}{(f'{result[ratio]:.2f}' if ratio else '1.00'):>9}")
    lines.append(f"forced share (jump-forward): {result['forced_share']:.1%}")
    lines.append(
        f"llguidance mask time per token: mean {result['mask_us_mean']:.0f} µs, "
        f"p50 {result['mask_us_p50']:.0f} µs, p99 {result['mask_us_p99']:.0f} µs "
        f"(GBNF mean {result['gbnf_mask_us_mean']:.0f} µs)"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", type=Path, default=models_dir() / DEFAULT_MODEL)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--tokens", type=int, default=256)
    parser.add_argument(
        "--tool", choices=RUN_TOOLS, default=DEFAULT_TOOL, help="the tool whose grammar to measure"
    )
    parser.add_argument("--n-ctx", type=int, default=4096, help="room for the run's prompt and the output")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)
    result = run(args)
    print(json.dumps(result, indent=2) if args.json else render(result))


if __name__ == "__main__":
    main()
