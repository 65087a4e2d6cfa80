"""`lapbench bench`: llama-bench-style throughput of a model (prompt processing and token generation)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from runner.bench.execute import BenchSpec
    from runner.bench.plan import BenchRecord

from runner.errors import ConfigError

OUTPUT_HELP = "table (default), json, jsonl, csv or md (llama-bench's formats)."


def register(app: typer.Typer) -> None:
    @app.command()
    def bench(
        models: list[str] = typer.Argument(
            None,
            help="Model files (.gguf), MLX folders, catalog ids, org/repo:QUANT or ollama:MODEL; several run "
            "interleaved. Default: the bundled model.",
        ),
        n_prompt: str = typer.Option(
            "512", "-p", "--n-prompt", help="Prompt-processing test sizes, e.g. 128,512."
        ),
        n_gen: str = typer.Option("128", "-n", "--n-gen", help="Token-generation test sizes, e.g. 32,128."),
        pg: list[str] = typer.Option([], "--pg", help="Prompt+generation test PROMPT,GEN (repeatable)."),
        depth: str = typer.Option(
            "0", "-d", "--n-depth", help="Context pre-filled before each test, e.g. 0,4096."
        ),
        repetitions: int = typer.Option(5, "-r", "--repetitions", help="Timed repetitions after a warm-up."),
        grammar: bool = typer.Option(
            False,
            "--grammar",
            help="Also run generation tests under a JSON-schema grammar (free vs constrained).",
        ),
        grammar_engine: str = typer.Option(
            "llguidance", "--grammar-engine", help="Engine used with --grammar."
        ),
        backend: str | None = typer.Option(
            None, "--backend", help="llama-cpp or mlx (default: from the model)."
        ),
        threads: str = typer.Option(
            "", "-t", "--threads", help="Thread counts, e.g. 1,2 (default: physical cores)."
        ),
        n_ctx: int = typer.Option(
            0, "--ctx", help="Context size (default: the smallest that holds every test)."
        ),
        n_batch: int = typer.Option(512, "-b", "--batch-size", help="Prompt batch size."),
        output: str = typer.Option("table", "-o", "--output", help=OUTPUT_HELP),
        as_json: bool = typer.Option(False, "--json", help="Same as -o json."),
        warmup: bool = typer.Option(True, "--warmup/--no-warmup", help="One untimed run of each test first."),
        interleave: bool = typer.Option(
            True,
            "--interleave/--no-interleave",
            help="Alternate repetitions across models (A B A B) to cancel drift; --no-interleave keeps one "
            "model in memory at a time.",
        ),
        continue_on_error: bool = typer.Option(
            True,
            "--continue-on-error/--fail-fast",
            help="Keep going when a configuration fails (out of memory, missing file); exit code 1 at the end.",
        ),
    ) -> None:
        """Measure prompt processing (pp) and token generation (tg) speed like llama-bench: mean ± sample
        stddev over repetitions, raw samples, peak memory per test. Each model runs in its own process,
        so one that runs out of memory does not end the sweep."""
        from runner.bench.output import FORMATS, failures, render_table, render_text
        from runner.bench.spec import BenchOptions, build_spec, parse_int_list, parse_pg

        fmt = "json" if as_json else output
        if fmt not in FORMATS:
            raise ConfigError(f"unknown output format {fmt!r}", hint=f"-o one of {', '.join(FORMATS)}")
        options = BenchOptions(
            models=list(models or []),
            n_prompt=parse_int_list(n_prompt, "-p"),
            n_gen=parse_int_list(n_gen, "-n"),
            pg=[parse_pg(text) for text in pg],
            depth=parse_int_list(depth, "-d") or [0],
            repetitions=repetitions,
            grammar=grammar,
            grammar_engine=grammar_engine,
            backend=backend,
            threads=parse_int_list(threads, "-t"),
            n_ctx=n_ctx,
            n_batch=n_batch,
            warmup=warmup,
            interleave=interleave,
            continue_on_error=continue_on_error,
        )
        records = _run_with_progress(build_spec(options))
        if fmt == "table":
            from rich.console import Console

            Console().print(render_table(records))
        else:
            typer.echo(render_text(records, fmt), nl=False)
        problems = failures(records)
        for line in problems:
            typer.secho(f"failed: {line}", err=True, fg=typer.colors.RED)
        if problems:
            raise typer.Exit(1)


def _run_with_progress(spec: BenchSpec) -> list[BenchRecord]:
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    from runner.bench.execute import run_bench

    columns = (TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(), TimeRemainingColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task("bench", total=spec.units)

        def report(what: str, advance: int) -> None:
            progress.update(task, advance=advance, description=what or None)

        return run_bench(spec, report)
