"""`lapbench schema` and `lapbench validate` through the real CLI app."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from runner.cli import app
from runner.run.tools import make_tool

DATA = Path(__file__).parent / "data" / "schemas"
runner = CliRunner()


def test_schema_prints_tool_schema() -> None:
    result = runner.invoke(app, ["schema", "database"])
    assert result.exit_code == 0, result.output
    schema = json.loads(result.output)
    assert schema["properties"]["files"]["type"] == "array"
    compact = runner.invoke(app, ["schema", "test.function", "--compact"])
    assert compact.exit_code == 0
    assert len(compact.output.strip().splitlines()) == 1


def test_schema_digest() -> None:
    result = runner.invoke(app, ["schema", "database.table", "--digest"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[1] == "interface Table {"


def test_schema_prints_what_the_run_uses() -> None:
    """`--digest` is the prompt text and `--grammar` the engine schema of the tool `lapbench run` calls."""
    tool = make_tool("interface.plan")
    digest = runner.invoke(app, ["schema", "interface.plan", "--digest"])
    assert digest.exit_code == 0, digest.output
    assert digest.output == tool.doc + "\n"
    grammar = runner.invoke(app, ["schema", "test.function", "--grammar", "--compact"])
    assert grammar.exit_code == 0, grammar.output
    assert json.loads(grammar.output) == make_tool("test.function").json_schema


def test_schema_unknown_phase_is_one_line_error() -> None:
    result = runner.invoke(app, ["schema", "realize"])
    assert result.exit_code == 2
    assert "unknown phase or part 'realize'" in result.output
    assert "Traceback" not in result.output


def test_validate_valid_document() -> None:
    result = runner.invoke(app, ["validate", "interface", str(DATA / "interface.valid.json")])
    assert result.exit_code == 0, result.output
    assert "valid" in result.output


def test_validate_invalid_document_prints_feedback() -> None:
    result = runner.invoke(app, ["validate", "database", str(DATA / "invalid" / "database.fk_target.json")])
    assert result.exit_code == 1
    assert "// ❌ $input.files[1].tables[0].foreignKeys[0].targetTable" in result.output


def test_validate_json_output() -> None:
    path = DATA / "invalid" / "test.undeclared.json"
    result = runner.invoke(app, ["validate", "test", str(path), "--json"])
    assert result.exit_code == 1
    out = json.loads(result.output)
    assert out["valid"] is False
    assert out["errors"] == [
        {
            "path": "$input.functions[0].statements[3].expression.actual.expression.name",
            "expected": out["errors"][0]["expected"],
            "value": "reed",
            "message": out["errors"][0]["message"],
            "kind": "undeclared",
        }
    ]
    assert "read" in out["errors"][0]["expected"]


def test_validate_part_and_lenient(tmp_path: Path) -> None:
    table = json.loads((DATA / "database.valid.json").read_text())["files"][0]["tables"][0]
    path = tmp_path / "table.txt"
    path.write_text("Here is the table:\n```json\n" + json.dumps(table) + "\n```\n")
    strict = runner.invoke(app, ["validate", "database.table", str(path), "--json"])
    assert strict.exit_code == 1
    assert json.loads(strict.output)["errors"][0]["kind"] == "json_invalid"
    lenient = runner.invoke(app, ["validate", "database.table", str(path), "--lenient"])
    assert lenient.exit_code == 0, lenient.output


def test_validate_unreadable_file_exits_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["validate", "analyze", str(tmp_path / "missing.json")])
    assert result.exit_code == 2
    assert "cannot read" in result.output
    binary = tmp_path / "binary.json"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    result = runner.invoke(app, ["validate", "analyze", str(binary)])
    assert result.exit_code == 2
