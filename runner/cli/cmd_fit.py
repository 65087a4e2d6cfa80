"""`lapbench fit` (will it fit, how fast) and `lapbench pull` (download after the fit check)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from runner.fit.verdict import FitReport

MIB = 1 << 20


def _gib(n: int) -> str:
    return f"{n / (1 << 30):.2f} GiB" if n >= 1 << 30 else f"{n / MIB:.1f} MiB"


def _render(report: FitReport) -> None:
    from rich.console import Console
    from rich.table import Table

    m, b = report.memory, report.budget
    table = Table(title=f"{report.model} at ctx {m.ctx} ({report.source_kind})")
    table.add_column("term")
    table.add_column("size", justify="right")
    table.add_column("detail")
    a = report.arch
    table.add_row(
        "weights", _gib(m.weights_bytes), f"{a.n_params or '?'} params, {a.n_tensors or '?'} tensors"
    )
    table.add_row(
        "KV cache", _gib(m.kv_bytes),
        f"full {_gib(m.kv_full_bytes)} ({a.count('full')} layers), sliding {_gib(m.kv_swa_bytes)} "
        f"({a.count('swa')}), recurrent state {_gib(m.recurrent_bytes)} ({a.count('recurrent')}); "
        f"{report.runtime.type_k}",
    )  # fmt: skip
    table.add_row(
        "compute", _gib(m.compute_bytes), f"micro-batch {report.runtime.n_ubatch}, {report.runtime.device}"
    )
    table.add_row("overhead", _gib(m.overhead_bytes), "runtime, vocabulary, output buffer")
    table.add_row("total", _gib(m.total_bytes), f"budget {_gib(b.budget_bytes)}: {b.rule}")
    console = Console()
    console.print(table)
    color = {"fits": "green", "tight": "yellow"}.get(report.verdict, "red")
    tps = (
        f"{report.predicted_tps:.1f} tok/s"
        if report.predicted_tps
        else "? tok/s (give --chip or --bandwidth)"
    )
    console.print(
        f"[{color}]{report.verdict}[/{color}]; largest context that fits: {report.max_ctx}; decode ≈ {tps}"
    )
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
        ctx: int = typer.Option(8192, "--ctx", help="Context length to size the KV cache for."),
        memory: str | None = typer.Option(
            None, "--memory", help="Machine RAM instead of this one's, e.g. 64GB."
        ),
        chip: str | None = typer.Option(
            None, "--chip", help='An Apple chip, e.g. "M4 Max": bandwidth and RAM.'
        ),
        bandwidth: float | None = typer.Option(None, "--bandwidth", help="Memory bandwidth in GB/s."),
        kv_type: str = typer.Option("f16", "--kv-type", help="KV cache type: f16, q8_0, q4_0, ..."),
        swa_full: bool = typer.Option(
            True,
            "--swa-full/--swa-window",
            help="Sliding-window layers keep the whole context (llama-cpp-python's "
            "default) or only their window.",
        ),
        flash_attn: bool | None = typer.Option(
            None,
            "--flash-attn/--no-flash-attn",
            help="Flash attention: no n_ctx x n_ubatch score matrix "
            "(default off, as in llama-cpp-python; on when --kv-type is quantised).",
        ),
        models_dir: Path | None = typer.Option(
            None, "--models-dir", help="Another folder holding model files."
        ),
        all_models: bool = typer.Option(False, "--all", help="Rank every catalog model and quant."),
        as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
    ) -> None:
        """Will MODEL fit in memory, at what context, how fast? Reads only GGUF headers (Range requests for URLs)."""
        from runner.errors import ConfigError
        from runner.fit.api import FitOptions, fit_all, fit_model

        opts = FitOptions(
            ctx=ctx, memory=memory, chip=chip, bandwidth=bandwidth, kv_type=kv_type, swa_full=swa_full,
            flash_attn=flash_attn,
            models_dir=models_dir,
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
        if as_json:
            typer.echo(json.dumps(report.as_json(), indent=2))
        else:
            _render(report)

    @app.command()
    def pull(
        model: str = typer.Argument(
            ...,
            help="Catalog id or org/repo, optionally :QUANT (e.g. qwen3-8b:Q4_K_M), or hf://org/repo/file.gguf.",
        ),
        quant: str | None = typer.Option(None, "--quant", "-q", help="Quant to download."),
        ctx: int = typer.Option(8192, "--ctx", help="Context the fit check sizes for."),
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
            model, quant, force=force, opts=FitOptions(ctx=ctx, memory=memory), models_dir=models_dir
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
