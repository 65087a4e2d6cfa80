"""`lapbench models`: the catalog, where each of its files was found, and the other local models."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from runner.models.catalog import load_catalog
from runner.models.local import catalog_rows, other_local


def register(app: typer.Typer) -> None:
    @app.command()
    def models(
        models_dir: list[Path] = typer.Option(
            [], "--models-dir", help="Another folder to look for model files in (repeatable)."
        ),
        catalog: Path | None = typer.Option(None, "--catalog", help="A models.toml other than the default."),
        as_json: bool = typer.Option(
            False,
            "--json",
            help="Print {models: every entry with its sources, other_local: other files, sources: the "
            "source keys with their URLs}.",
        ),
    ) -> None:
        """List the catalog (models.toml) and where each quant's file was found: lapbench's models folder,
        --models-dir, the Hugging Face cache, LM Studio, Ollama or llama.cpp's cache; then the GGUF files of
        those tools that the catalog does not name."""
        loaded = load_catalog(catalog)
        rows = catalog_rows(loaded, extra_dirs=models_dir)
        others = other_local(q["local_path"] for row in rows for q in row["quant"] if q["local_path"])
        if as_json:
            listing = {"models": rows, "other_local": others, "sources": loaded.source}
            typer.echo(json.dumps(listing, indent=2))
            return
        from rich import box
        from rich.console import Console
        from rich.table import Table

        # Six columns fit an 80-column terminal (family, license and every source are in --json); a
        # narrower terminal folds a cell rather than cutting it.
        table = Table(title="lapbench catalog", box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
        table.collapse_padding = True
        for column in ("id", "params", "arch", "quant", "size", "found in"):
            table.add_column(
                column, overflow="fold", justify="right" if column in ("params", "size") else "left"
            )
        for row in rows:
            params = row["params"]["total"]
            for quant in row["quant"] or [None]:
                table.add_row(
                    row["id"],
                    _human(params["value"], "", billions="B") if params else "?",
                    row["arch"].get("gguf_arch") or row["family"],
                    quant["name"] if quant else "-",
                    _human(quant["size_bytes"]["value"], "B") if quant and quant["size_bytes"] else "?",
                    (quant and quant["found_in"]) or "",
                )
        console = Console()
        console.print(table)
        if others:
            extra = Table(title="other local models")
            for column in ("spec", "found in", "size"):
                extra.add_column(column, overflow="fold")
            for other in others:
                extra.add_row(other["spec"], other["found_in"], _human(other["size_bytes"], "B"))
            console.print(extra)


def _human(value: float | None, unit: str, billions: str = "G") -> str:
    """Bytes read 98.4MB / 16.7GB; parameter counts 134.5M / 27.0B."""
    if value is None:
        return "?"
    for scale, suffix in ((1e12, "T"), (1e9, billions), (1e6, "M"), (1e3, "k")):
        if value >= scale:
            return f"{value / scale:.1f}{suffix}{unit}"
    return f"{value:.0f}{unit}"
