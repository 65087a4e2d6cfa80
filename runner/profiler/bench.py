"""`lapbench bench` core: options -> configurations x tests -> records (see bench_plan for semantics).

spec = build_spec(BenchOptions(models=["model.gguf"], n_prompt=[512], n_gen=[128]))
records = run_bench(spec, progress)      # runner.profiler.bench_runner
"""

from __future__ import annotations

from dataclasses import dataclass, field

from runner.errors import ConfigError
from runner.profiler.bench_plan import BenchConfig, plan_tests
from runner.profiler.bench_runner import BenchSpec

DEFAULT_GRAMMAR_ENGINE = "llguidance"


@dataclass(frozen=True)
class BenchOptions:
    models: list[str] = field(default_factory=list)
    """Model files or MLX folders; empty: the bundled default model."""
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


def _default_model() -> str:
    from runner.setup_models import default_model_path

    return str(default_model_path())


def resolve_model(text: str) -> str:
    """A path as given; a catalog id ("smollm2-135m" or "smollm2-135m:Q4_1") becomes its local file."""
    from pathlib import Path

    if Path(text).expanduser().exists() or "/" in text or text.endswith(".gguf"):
        return text
    from runner.catalog import load_catalog
    from runner.local_models import find_local, search_dirs

    model_id, _, quant_name = text.partition(":")
    entry = load_catalog().get(model_id)
    if entry is None:
        return text  # neither a file nor a catalog id: the configuration fails and says so
    quants = [q for q in entry.quant if not quant_name or q.name.lower() == quant_name.lower()]
    for quant in quants:
        local = find_local(quant, search_dirs())
        if local is not None:
            return str(local)
    raise ConfigError(
        f"{text} is in the catalog but no file of it is on this machine", hint=f"lapbench pull {text}"
    )


def _backend_for(model: str, requested: str | None) -> str:
    if requested:
        from backends.registry import BACKENDS

        if requested not in BACKENDS:
            raise ConfigError(f"unknown backend {requested!r}; known: {', '.join(sorted(BACKENDS))}")
        return requested
    from backends.base import BackendError
    from backends.registry import pick_backend_for

    try:
        return pick_backend_for(model)
    except BackendError as err:
        raise ConfigError(str(err), hint="pass a .gguf file or an MLX folder, or choose --backend") from None


def build_spec(options: BenchOptions) -> BenchSpec:
    if options.repetitions < 1:
        raise ConfigError(f"-r must be at least 1, got {options.repetitions}")
    from runner.profiler.bench_worker import default_threads

    models = [resolve_model(m) for m in options.models] or [_default_model()]
    threads: list[int | None] = list(options.threads) or [default_threads()]
    configs = tuple(
        BenchConfig(
            model=model,
            backend=_backend_for(model, options.backend),
            n_threads=n_threads,
            n_ctx=options.n_ctx,
            n_batch=options.n_batch,
        )
        for model in models
        for n_threads in threads
    )
    engines: list[str | None] = [None, options.grammar_engine] if options.grammar else [None]
    tests = plan_tests(options.n_prompt, options.n_gen, options.pg, options.depth or [0], engines)
    if not tests:
        raise ConfigError("nothing to measure: every -p, -n and --pg value is 0", hint="e.g. -p 512 -n 128")
    return BenchSpec(
        configs=configs,
        tests=tuple(tests),
        repetitions=options.repetitions,
        warmup=options.warmup,
        interleave=options.interleave,
        continue_on_error=options.continue_on_error,
    )
