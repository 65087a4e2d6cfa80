"""`lapbench schema PHASE` and `lapbench validate PHASE FILE`: the tool schema a model fills, and the
feedback it would get for a document."""

from __future__ import annotations

import json
from pathlib import Path

import typer

_NAMES = "analyze, database, interface, test, or a part: database.file, database.table, "
_NAMES += "interface.operation, interface.component, test.function"


def register(app: typer.Typer) -> None:
    @app.command()
    def schema(
        phase: str = typer.Argument(..., help=f"Phase or part: {_NAMES}."),
        compact: bool = typer.Option(False, "--compact", help="One line, no indentation."),
        digest: bool = typer.Option(
            False, "--digest", help="TypeScript-like declarations instead (what a small model reads)."
        ),
    ) -> None:
        """Print the JSON Schema of a phase's tool arguments (what the model must produce)."""
        from runner.schemas.files import phase_digest, phase_schema

        if digest:
            typer.echo(phase_digest(phase))
            return
        typer.echo(json.dumps(phase_schema(phase), indent=None if compact else 2))

    @app.command()
    def validate(
        phase: str = typer.Argument(..., help=f"Phase or part: {_NAMES}."),
        file: Path = typer.Argument(..., help="JSON document to check."),
        lenient: bool = typer.Option(
            False, "--lenient", help="Accept free-mode output: code fences, chatter, trailing commas."
        ),
        as_json: bool = typer.Option(
            False, "--json", help="Print {valid, errors: [{path, expected, value, message, kind}]}."
        ),
    ) -> None:
        """Validate a document (types and semantic rules) and print the feedback a model would get.
        Exit code 0 when valid, 1 when invalid, 2 when the file cannot be read."""
        from runner.schemas.files import check_file

        report = check_file(phase, file, lenient=lenient)
        if as_json:
            typer.echo(json.dumps(report.as_json(), indent=2, ensure_ascii=False))
        else:
            typer.echo(report.feedback_text())
        raise typer.Exit(0 if report.valid else 1)
