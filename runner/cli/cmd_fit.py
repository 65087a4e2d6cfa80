"""`lapbench fit` (will it fit, how fast) and `lapbench pull` (download after the fit check)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from runner.fit.verdict import FitReport

MIB = 1 << 20
SOURCE_WORDS = {"gguf-file": "local GGUF header", "gguf-remote": "remote GGUF header", "config": "config.json",
                "catalog": "catalog numbers"}  # fmt: skip
RUNTIME_HELP = (
    "Runtime whose cache layout and defaults to size for: lapbench (its own llama.cpp backend, default), "
    "llama-server, llama-cpp-python, lm-studio, ollama or mlx."
)


def _gib(n: int) -> str:
    return f"{n / (1 << 30):.2f} GiB" if n >= 1 << 30 else f"{n / MIB:.1f} MiB"


def _render(report: FitReport) -> None:
    from rich.console import Console
    from rich.table import Table

    m, b = report.memory, report.budget
    title = f"{report.model} at ctx {m.ctx} on {report.runtime_name} ({SOURCE_WORDS.get(report.source_kind, report.source_kind)})"
    table = Table(title=title)
    table.add_column("term")
    table.add_column("size", justify="right")
    table.add_column("detail")
    a = report.arch
    table.add_row(
        "weights", _gib(m.weights_bytes), f"{a.n_params or '?'} params, {a.n_tensors or '?'} tensors"
    )
    r = report.runtime
    cache = f"{r.type_k}" if r.type_k == r.type_v else f"K {r.type_k}, V {r.type_v}"
    slots = f", {r.n_seq} slots" + (" sharing one cache" if r.kv_unified else "") if r.n_seq > 1 else ""
    table.add_row(
        "KV cache", _gib(m.kv_bytes),
        f"full {_gib(m.kv_full_bytes)} ({a.count('full')} layers), sliding {_gib(m.kv_swa_bytes)} "
        f"({a.count('swa')}{', whole context' if r.swa_full and a.count('swa') else ''}), recurrent state "
        f"{_gib(m.recurrent_bytes)} ({a.count('recurrent')}); {cache}{slots}",
    )  # fmt: skip
    attention = "flash attention" if r.flash_attn else "no flash attention"
    step = "prefill step" if r.backend == "mlx" else "micro-batch"
    table.add_row("compute", _gib(m.compute_bytes), f"{step} {r.n_ubatch}, {attention}, {r.device}")
    table.add_row("overhead", _gib(m.overhead_bytes), "runtime, vocabulary, output buffer")
    if m.saved_state_bytes:
        table.add_row(
            "saved KV", _gib(m.saved_state_bytes), "one KV state kept for prompt reuse (up to 1 GiB)"
        )
    table.add_row("total", _gib(m.total_bytes), f"budget {_gib(b.budget_bytes)}: {b.rule}")
    console = Console()
    console.print(table)
    color = {"fits": "green", "tight": "yellow"}.get(report.verdict, "red")
    console.print(f"[{color}]{report.verdict}[/{color}]; largest context that fits: {report.max_ctx}")
    if report.predicted_tps:
        pp = f", prompt ≈ {report.predicted_pp_tps:.3g} tok/s" if report.predicted_pp_tps else ""
        console.print(f"decode ≈ {report.predicted_tps:.3g} tok/s{pp} ({report.speed_source})")
    else:
        console.print("decode ≈ ? tok/s (give --chip or --bandwidth, or run `lapbench setup` to calibrate)")
    if report.suite_seconds:
        console.print(f"suite ≈ {report.suite_seconds / 60:.0f} min ({report.suite_tokens.source})")
    for note in report.notes:
        console.print(f"note: {note}")


def register(app: typer.Typer) -> None:
    @app.command()
    def fit(
        model: str | None = typer.Argument(
            None,
            help="Catalog id (e.g. gemma-3-27b), .gguf file, model folder, URL, hf://org/repo/file.gguf, "
            "org/repo:QUANT or ollama:MODEL; a local copy is read first.",
        ),
        quant: str | None = typer.Option(None, "--quant", "-q", help="Quant to check, e.g. Q4_K_M."),
        ctx: int | None = typer.Option(
            None, "--ctx", help="Context length to size the KV cache for (default: the runtime's own)."
        ),
        runtime: str = typer.Option("lapbench", "--runtime", "-r", help=RUNTIME_HELP),
        memory: str | None = typer.Option(
            None, "--memory", help="Machine RAM instead of this one's, e.g. 64GB."
        ),
        chip: str | None = typer.Option(
            None, "--chip", help='An Apple chip, e.g. "M4 Max": bandwidth and RAM.'
        ),
        bandwidth: float | None = typer.Option(None, "--bandwidth", help="Memory bandwidth in GB/s."),
        kv_type: str = typer.Option("f16", "--kv-type", help="KV cache type: f16, q8_0, q4_0, ..."),
        swa_full: bool | None = typer.Option(
            None,
            "--swa-full/--swa-window",
            help="Sliding-window layers keep the whole context or only their window (default: the runtime's).",
        ),
        flash_attn: bool | None = typer.Option(
            None,
            "--flash-attn/--no-flash-attn",
            help="Flash attention: no n_ctx x n_ubatch score matrix (default: the runtime's; always on "
            "when --kv-type is quantised, as llama.cpp needs it for a quantised V cache).",
        ),
        calibrate: bool = typer.Option(
            False,
            "--calibrate",
            help="Measure this machine's speed again (a few seconds on the default model).",
        ),
        models_dir: Path | None = typer.Option(
            None, "--models-dir", help="Another folder holding model files."
        ),
        all_models: bool = typer.Option(False, "--all", help="Rank every catalog model and quant."),
        suite: str | None = typer.Option(
            None,
            "--suite",
            help="Predict the wall time of this suite (smoke, standard, full) from its gold run.",
        ),
        as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
    ) -> None:
        """Will MODEL fit in memory, at what context, how fast? Reads only GGUF headers (Range requests for
        remote files; a catalog model's header is read from its hub repository, else the catalog's numbers).
        Without --chip or --bandwidth the speed is this machine's, measured once and stored."""
        from runner.errors import ConfigError
        from runner.fit.api import FitOptions, fit_all, fit_model

        opts = FitOptions(
            ctx=ctx, memory=memory, chip=chip, bandwidth=bandwidth, kv_type=kv_type, swa_full=swa_full,
            flash_attn=flash_attn, runtime=runtime, models_dir=models_dir, remote=True,
            calibration="refresh" if calibrate else "use",
        )  # fmt: skip
        if all_models:
            reports = fit_all(opts)
            if as_json:
                typer.echo(json.dumps([r.as_json() for r in reports], indent=2))
                return
            _render_all(reports)
            return
        if not model:
            raise ConfigError("give a MODEL or --all", hint="e.g. `lapbench fit smollm2-135m`")
        report = fit_model(model, quant, opts)
        from runner.fit.suite_time import describe, for_report

        timed = for_report(report, suite, calibrated=not (chip or bandwidth)) if suite else None
        if as_json:
            extra = {"suite_time": timed.as_json() if timed else None} if suite else {}
            typer.echo(json.dumps({**report.as_json(), **extra}, indent=2))
        else:
            _render(report)
            if suite:
                typer.echo(describe(suite, timed))

    @app.command()
    def pull(
        model: str = typer.Argument(
            ...,
            help="Catalog id or org/repo, optionally :QUANT (e.g. qwen3-8b:Q4_K_M), or hf://org/repo/file.gguf.",
        ),
        quant: str | None = typer.Option(None, "--quant", "-q", help="Quant to download."),
        ctx: int | None = typer.Option(
            None,
            "--ctx",
            help="Context the fit check sizes for (default: what `lapbench run` takes, the model's trained "
            "context up to 16384).",
        ),
        memory: str | None = typer.Option(None, "--memory", help="Machine RAM for the fit check, e.g. 64GB."),
        models_dir: Path | None = typer.Option(
            None, "--models-dir", help="Download into this folder instead of the Hugging Face cache."
        ),
        force: bool = typer.Option(
            False, "--force", help="Download even if the fit check says it does not fit."
        ),
        as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
    ) -> None:
        """Download MODEL's GGUF (resumable, with a progress bar) into the Hugging Face cache, unless it is
        already on this machine (any place `lapbench models` looks) or does not fit."""
        from runner.fit.api import FitOptions
        from runner.pull.download import pull as do_pull

        result = do_pull(
            model,
            quant,
            force=force,
            opts=FitOptions(ctx=ctx, memory=memory, remote=True),
            models_dir=models_dir,
        )
        if as_json:
            typer.echo(json.dumps(result.as_json(), indent=2))
            return
        state = "already present" if result.already_present else "downloaded"
        for path in result.paths:
            typer.echo(f"{state}: {path}")


def _render_all(reports: list[FitReport]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="lapbench fit --all")
    for column in ("model", "total", "budget", "verdict", "max ctx", "tok/s"):
        table.add_column(column, justify="right" if column not in ("model", "verdict") else "left")
    for r in reports:
        tps = f"{r.predicted_tps:.1f}" if r.predicted_tps else "?"
        table.add_row(
            r.model, _gib(r.memory.total_bytes), _gib(r.budget.budget_bytes), r.verdict, str(r.max_ctx), tps
        )
    Console().print(table)
