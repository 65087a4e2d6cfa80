"""`lapbench bench` core: options -> configurations x tests -> records (see bench_plan for semantics).

spec = build_spec(BenchOptions(models=["model.gguf"], n_prompt=[512], n_gen=[128]))
records = run_bench(spec, progress)      # runner.bench.execute
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from runner.bench.execute import BenchSpec
from runner.bench.plan import BenchConfig, context_for, plan_tests
from runner.errors import ConfigError

DEFAULT_GRAMMAR_ENGINE = "llguidance"


@dataclass(frozen=True)
class BenchOptions:
    models: list[str] = field(default_factory=list)
    """What the model resolver takes (files, MLX folders, catalog ids, org/repo:QUANT, ollama:NAME...);
    empty: the bundled default model."""
    n_prompt: list[int] = field(default_factory=lambda: [512])
    n_gen: list[int] = field(default_factory=lambda: [128])
    pg: list[tuple[int, int]] = field(default_factory=list)
    depth: list[int] = field(default_factory=lambda: [0])
    repetitions: int = 5
    grammar: bool = False
    """Also run every generating test under a grammar (free and constrained, side by side)."""
    grammar_engine: str = DEFAULT_GRAMMAR_ENGINE
    backend: str | None = None
    """None: chosen per model (a .gguf -> llama-cpp, an MLX folder -> mlx)."""
    threads: list[int] = field(default_factory=list)
    """Empty: the number of physical cores (llama-bench's default)."""
    n_ctx: int = 0
    n_batch: int = 512
    warmup: bool = True
    interleave: bool = True
    continue_on_error: bool = True


def parse_int_list(text: str, option: str) -> list[int]:
    """'128,512' -> [128, 512] (llama-bench's comma lists); a bad value is a ConfigError naming the option."""
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise ConfigError(
            f"{option} expects comma-separated integers, got {text!r}", hint=f"e.g. {option} 128,512"
        ) from None
    if any(v < 0 for v in values):
        raise ConfigError(f"{option} values must not be negative, got {text!r}")
    return values


def parse_pg(text: str) -> tuple[int, int]:
    values = parse_int_list(text, "--pg")
    if len(values) != 2:
        raise ConfigError(f"--pg expects PROMPT,GEN (two integers), got {text!r}", hint="e.g. --pg 512,128")
    return values[0], values[1]


def locate_model(text: str | None) -> tuple[str, str | None]:
    """(model, backend) from the model resolver (runner.models.resolve); None is the bundled default model.
    A file path that does not exist is kept, so that its configuration fails and the sweep goes on."""
    from runner.models.resolve import locate, parse_spec

    spec = parse_spec(text)
    if spec.kind == "path" and not Path(spec.text).exists():
        return spec.text, None
    found = locate(spec)
    return found.target, found.backend


def _backend_for(model: str, requested: str | None, found: str | None) -> str:
    if requested:
        from backends.registry import BACKENDS

        if requested not in BACKENDS:
            raise ConfigError(f"unknown backend {requested!r}; known: {', '.join(sorted(BACKENDS))}")
        return requested
    from runner.models.resolve import backend_for

    return found or backend_for(Path(model))


def check_trained_context(model: str, needed: int) -> None:
    """Refuse tests longer than the model's trained context: llama.cpp would run them on positions the model
    never saw, and their speed (and output) would not be the model's."""
    from runner.fit.resolve import trained_context

    trained = trained_context(model)
    if trained and needed > trained:
        raise ConfigError(
            f"{Path(model).name}: these tests need a context of {needed} tokens, beyond the {trained} the "
            "model was trained for",
            hint=f"keep -p + -n + -d (and --ctx) within {trained}",
        )


def build_spec(options: BenchOptions) -> BenchSpec:
    if options.repetitions < 1:
        raise ConfigError(f"-r must be at least 1, got {options.repetitions}")
    from runner.bench.worker import default_threads

    models = [locate_model(m) for m in options.models] or [locate_model(None)]
    threads: list[int | None] = list(options.threads) or [default_threads()]
    configs = tuple(
        BenchConfig(
            model=model,
            backend=_backend_for(model, options.backend, found),
            n_threads=n_threads,
            n_ctx=options.n_ctx,
            n_batch=options.n_batch,
        )
        for model, found in models
        for n_threads in threads
    )
    engines: list[str | None] = [None, options.grammar_engine] if options.grammar else [None]
    tests = plan_tests(options.n_prompt, options.n_gen, options.pg, options.depth or [0], engines)
    if not tests:
        raise ConfigError("nothing to measure: every -p, -n and --pg value is 0", hint="e.g. -p 512 -n 128")
    needed = context_for(tests, options.n_ctx)
    for config in configs:
        check_trained_context(config.model, needed)
    return BenchSpec(
        configs=configs,
        tests=tuple(tests),
        repetitions=options.repetitions,
        warmup=options.warmup,
        interleave=options.interleave,
        continue_on_error=options.continue_on_error,
    )
