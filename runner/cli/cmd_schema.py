"""`lapbench schema PHASE` and `lapbench validate PHASE FILE`: the tool schema a model fills, and the
feedback it would get for a document."""

from __future__ import annotations

import json
from pathlib import Path

import typer

_NAMES = "analyze, database, interface, test, or a part: database.file, database.table, "
_NAMES += "interface.operation, test.function"


def register(app: typer.Typer) -> None:
    @app.command()
    def schema(
        phase: str = typer.Argument(..., help=f"Phase or part: {_NAMES}; or interface.plan."),
        compact: bool = typer.Option(False, "--compact", help="One line, no indentation."),
        digest: bool = typer.Option(
            False, "--digest", help="TypeScript declarations instead: the text the model reads in its prompt."
        ),
        grammar: bool = typer.Option(
            False,
            "--grammar",
            help="The schema the grammar engine compiles in `lapbench run` (caps applied, recursion unrolled).",
        ),
    ) -> None:
        """Print the JSON Schema of a phase's tool arguments (what the model must produce)."""
        from runner.run.grammar import grammar_schema
        from runner.run.tools import tool_doc, tool_json_schema

        if digest:
            typer.echo(tool_doc(phase))
            return
        schema = grammar_schema(phase) if grammar else tool_json_schema(phase)
        typer.echo(json.dumps(schema, indent=None if compact else 2))

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
