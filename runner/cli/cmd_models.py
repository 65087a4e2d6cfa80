"""`lapbench models`: the catalog and which of its files are on this machine."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from runner.catalog import load_catalog
from runner.local_models import catalog_rows


def register(app: typer.Typer) -> None:
    @app.command()
    def models(
        models_dir: list[Path] = typer.Option(
            [], "--models-dir", help="Another folder to look for model files in (repeatable)."
        ),
        catalog: Path | None = typer.Option(None, "--catalog", help="A models.toml other than the default."),
        as_json: bool = typer.Option(False, "--json", help="Print every entry with its sources as JSON."),
    ) -> None:
        """List the catalog (models.toml) and mark the quant files present locally (`--json` gives their paths)."""
        rows = catalog_rows(load_catalog(catalog), extra_dirs=models_dir)
        if as_json:
            typer.echo(json.dumps(rows, indent=2))
            return
        from rich.console import Console
        from rich.table import Table

        table = Table(title="lapbench catalog")
        table.add_column("id", no_wrap=True)
        for column in ("family", "params", "arch", "quant", "size", "local"):
            table.add_column(column)
        for row in rows:
            params = row["params"]["total"]
            for quant in row["quant"] or [None]:
                table.add_row(
                    row["id"],
                    row["family"],
                    _human(params["value"], "", billions="B") if params else "?",
                    row["arch"].get("gguf_arch") or "?",
                    quant["name"] if quant else "-",
                    _human(quant["size_bytes"]["value"], "B") if quant and quant["size_bytes"] else "?",
                    "yes" if quant and quant["local_path"] else "",
                )
        Console().print(table)


def _human(value: float | None, unit: str, billions: str = "G") -> str:
    """Bytes read 98.4MB / 16.7GB; parameter counts 134.5M / 27.0B."""
    if value is None:
        return "?"
    for scale, suffix in ((1e12, "T"), (1e9, billions), (1e6, "M"), (1e3, "k")):
        if value >= scale:
            return f"{value / scale:.1f}{suffix}{unit}"
    return f"{value:.0f}{unit}"
