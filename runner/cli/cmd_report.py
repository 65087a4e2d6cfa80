"""`lapbench report` (HTML + Markdown with plots), `lapbench compare RUN_A RUN_B` (differences with
bootstrap significance) and `lapbench export RUN` (jsonl / csv)."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from runner.errors import ConfigError


def _results(path: Path | None) -> Path:
    from runner import paths

    return path.expanduser() if path else paths.results_db()


RESULTS_HELP = "Results database (default: the user data dir)."


def register(app: typer.Typer) -> None:
    @app.command()
    def report(
        runs: list[str] = typer.Argument(
            None, help="Run ids, id prefixes or model names (default: every finished run)."
        ),
        output: Path = typer.Option(
            Path("lapbench-report.html"),
            "--output",
            "-o",
            help="HTML file; the Markdown summary goes beside it.",
        ),
        results: Path = typer.Option(None, "--results", help=RESULTS_HELP),
        as_json: bool = typer.Option(False, "--json", help="Print the written paths as JSON."),
    ) -> None:
        """Write a self-contained HTML report (leaderboard with 95% CIs, Pareto plots of score against
        memory and time, per-phase breakdown, speed and memory, machines) and a Markdown summary."""
        from runner.report.build import build_report

        files = build_report(_results(results), runs or [], output.expanduser())
        if as_json:
            typer.echo(
                json.dumps({"html": str(files.html), "markdown": str(files.markdown), "runs": files.runs})
            )
        else:
            typer.echo(f"report of {files.runs} run(s): {files.html} (Markdown: {files.markdown})")

    @app.command()
    def compare(
        run_a: str = typer.Argument(..., help="First run: id, id prefix, or model name (its newest run)."),
        run_b: str = typer.Argument(..., help="Second run: id, id prefix, or model name."),
        samples: int = typer.Option(2000, "--samples", min=100, help="Bootstrap resamples."),
        seed: int = typer.Option(
            0, "--seed", help="Bootstrap seed (fixed: the same runs give the same verdict)."
        ),
        results: Path = typer.Option(None, "--results", help=RESULTS_HELP),
        as_json: bool = typer.Option(False, "--json", help="Print the comparison as JSON."),
    ) -> None:
        """Two runs side by side: score, axes and dimensions with the bootstrap 95% interval of each
        difference (over repeats and projects); inversions against the overall winner are flagged
        significant or not."""
        from runner.report.compare import compare_runs, format_comparison

        comparison = compare_runs(_results(results), run_a, run_b, samples, seed)
        typer.echo(json.dumps(comparison.as_json(), indent=2) if as_json else format_comparison(comparison))

    @app.command()
    def export(
        run: str = typer.Argument(..., help="Run id."),
        fmt: str = typer.Option("jsonl", "--format", help="jsonl or csv."),
        table: str = typer.Option("results", "--table", help="results (per project × repeat) or calls."),
        full: bool = typer.Option(False, "--full", help="calls: include prompts and raw outputs."),
        output: Path = typer.Option(None, "--output", "-o", help="File to write (default: stdout)."),
        results: Path = typer.Option(None, "--results", help=RESULTS_HELP),
    ) -> None:
        """Export one run for other tools: scores per project and repeat, or every call with its
        timings, tokens and memory."""
        from runner.report.export import export_rows, format_rows

        if fmt not in ("jsonl", "csv"):
            raise ConfigError(f"unknown --format {fmt!r}", hint="use jsonl or csv")
        if table not in ("results", "calls"):
            raise ConfigError(f"unknown --table {table!r}", hint="use results or calls")
        from runner.outputs import check_target, write_outputs

        store = _results(results)
        if output is not None:
            check_target(output.expanduser(), store)
        rows = export_rows(store, run, "calls" if table == "calls" else "results", full)
        text = format_rows(rows, "csv" if fmt == "csv" else "jsonl")
        if output is None:
            typer.echo(text, nl=False)
        else:
            write_outputs({output.expanduser(): text}, store)
            typer.echo(f"wrote {output}")
