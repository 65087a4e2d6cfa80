"""The error format: pydantic and semantic errors look the same, the feedback shows the model's own
JSON with each error on its line, and repeated failures are summarised by path pattern and kind."""

from __future__ import annotations

import json
from pathlib import Path

from runner.schemas import summarize_failures, validate_document, validate_part
from runner.schemas.feedback import PlacedError, ValidationReport, annotate_json, render_path

DATA = Path(__file__).parent / "data" / "schemas"


def load(name: str) -> dict:
    return json.loads((DATA / name).read_text())


def test_render_path_quotes_odd_keys() -> None:
    assert render_path(("files", 0, "tables", 2, "name")) == "$input.files[0].tables[2].name"
    assert render_path(("properties", "$ref", "x-y")) == '$input.properties["$ref"]["x-y"]'
    assert render_path(()) == "$input"


def test_union_tags_are_not_part_of_paths() -> None:
    data = load("test.valid.json")
    data["functions"][0]["statements"][3]["expression"]["actual"]["expression"] = {"kind": "identifier"}
    report = validate_document("test", data)
    assert [(e.path, e.kind) for e in report.errors] == [
        ("$input.functions[0].statements[3].expression.actual.expression.name", "missing")
    ]
    assert report.errors[0].message == 'Add the property "name" (Variable name).'


def test_missing_property_message_repeats_its_description() -> None:
    data = load("interface.valid.json")
    data["components"][0]["schema"]["properties"]["status"]["oneOf"][1] = {"type": "array"}
    del data["operations"][1]["pathParameters"][0]["schema"]["format"]
    report = validate_document("interface", data)
    messages = {e.path: e.message for e in report.errors}
    assert messages == {
        "$input.operations[1].pathParameters[0].schema.format": 'Add the property "format" (Always uuid).',
        "$input.components[0].schema.properties.status.oneOf[1].items": 'Add the property "items" (Schema of every element).',
    }


def test_missing_discriminator_and_unknown_schema_variant() -> None:
    data = load("interface.valid.json")
    data["components"][0]["schema"]["properties"]["title"] = {"format": "uuid"}
    data["components"][0]["schema"]["properties"]["locked"] = {"type": "bool"}
    report = validate_document("interface", data)
    found = {(e.path, e.kind) for e in report.errors}
    assert found == {
        ("$input.components[0].schema.properties.title", "union_tag_not_found"),
        ("$input.components[0].schema.properties.locked", "union_tag_invalid"),
    }
    by_kind = {e.kind: e for e in report.errors}
    assert "type, $ref, oneOf or const" in by_kind["union_tag_not_found"].expected
    assert "type boolean, integer" in by_kind["union_tag_invalid"].expected
    assert by_kind["union_tag_invalid"].message == "'bool' is not a schema type."


def test_union_type_errors_at_one_path_are_merged() -> None:
    data = load("interface.valid.json")
    data["components"][0]["schema"]["properties"]["status"]["oneOf"][0]["const"] = [1]
    report = validate_document("interface", data)
    assert len(report.errors) == 1
    error = report.errors[0]
    assert error.path == "$input.components[0].schema.properties.status.oneOf[0].const"
    assert error.value == [1]
    assert (
        "a string" in error.expected and "an integer" in error.expected and "true or false" in error.expected
    )


def test_pattern_errors_are_explained_in_words() -> None:
    data = load("database.valid.json")
    data["files"][0]["tables"][0]["columns"][0]["name"] = "emailAddress"
    report = validate_document("database", data)
    assert report.errors[0].expected == "snake_case (lowercase words joined by underscores)"
    assert report.errors[0].value == "emailAddress"


def test_feedback_places_each_error_on_its_line() -> None:
    report = validate_document("database", load("invalid/database.fk_target.json"))
    lines = report.feedback_text().splitlines()
    marked = [line for line in lines if "  // ❌ " in line]
    assert len(marked) == 1
    assert marked[0].strip().startswith('"targetTable": "member",')
    assert "$input.files[1].tables[0].foreignKeys[0].targetTable" in marked[0]
    assert "members" in marked[0]  # the suggestion of the closest real table


def test_missing_property_shown_as_undefined_and_collapsed_feedback_is_shorter() -> None:
    report = validate_document("database", load("invalid/database.missing_stance.json"))
    full = report.feedback_text()
    short = report.feedback_text(collapse_valid=True)
    assert '"stance": undefined,' not in full  # the last key gets no comma
    assert '"stance": undefined  // ❌' in full
    assert len(short) < len(full) / 2
    assert '"stance": undefined  // ❌' in short
    assert "[… 1 item]" in short or "{…}" in short


def test_json_and_unplaced_errors() -> None:
    report = validate_document("analyze", '{"actors": [}')
    assert not report.valid
    error = report.errors[0]
    assert (error.kind, error.placed, error.path) == ("json_invalid", False, "$input")
    assert "line 1 column 13" in error.message
    assert report.as_json()["errors"][0].keys() >= {"path", "expected", "value", "message"}
    assert "Errors without a place" in report.feedback_text()


def test_report_as_json_shape() -> None:
    report = validate_part("database.table", {"name": "x"})
    out = report.as_json()
    assert out["valid"] is False
    assert all(set(e) == {"path", "expected", "value", "message", "kind"} for e in out["errors"])
    json.dumps(out)


def test_annotate_json_multiple_errors_on_one_line() -> None:
    errors = [
        PlacedError("$input.a", "x", 1, "fix one", "k1", ("a",)),
        PlacedError("$input.a", "y", 1, "fix two", "k2", ("a",)),
    ]
    lines = annotate_json({"a": 1, "b": [1, 2]}, errors)
    assert lines[1] == '  "a": 1,  // ❌ $input.a: expected x. fix one | $input.a: expected y. fix two'
    assert lines[-1] == "}"


def test_summarize_failures_groups_by_pattern_and_kind() -> None:
    first = validate_document("database", load("invalid/database.fk_target.json"))
    second = validate_document("database", load("invalid/database.index_column.json"))
    data = load("database.valid.json")
    data["files"][1]["tables"][1]["foreignKeys"][0]["targetTable"] = "topic"
    third = validate_document("database", data)
    text = summarize_failures(
        [first, second, third, validate_document("database", load("database.valid.json"))]
    )
    lines = text.splitlines()
    assert lines[0] == "Earlier failed attempts: 3. Repeated problems:"
    assert lines[1].startswith(
        "- $input.files[*].tables[*].foreignKeys[*].targetTable (unknown_reference) x2"
    )
    assert lines[2].startswith("- $input.files[*].tables[*].plainIndexes[*].columns[*] (unknown_column) x1")
    assert summarize_failures([]) == "No earlier failures."


def test_valid_report_feedback() -> None:
    report = ValidationReport("analyze", {}, ())
    assert report.valid
    assert report.feedback_text() == "The analyze arguments are valid."


def test_unknown_key_message_lists_allowed_keys() -> None:
    data = load("interface.valid.json")
    data["components"][0]["schema"]["properties"]["title"]["maxLen"] = 3
    report = validate_document("interface", data)
    (error,) = report.errors
    assert error.path == "$input.components[0].schema.properties.title.maxLen"
    assert error.message.endswith("Allowed here: type, format, minLength, maxLength, description.")


def test_inline_object_schema_is_told_to_use_a_component() -> None:
    data = load("interface.valid.json")
    data["components"][0]["schema"]["properties"]["author"] = {"type": "object", "properties": {}}
    (error,) = validate_document("interface", data).errors
    assert error.path == "$input.components[0].schema.properties.author"
    assert "#/components/schemas/Name" in error.message


def test_non_object_arguments_are_reported_without_a_json_listing() -> None:
    report = validate_document("analyze", "null")
    (error,) = report.errors
    assert (error.path, error.expected, error.value) == ("$input", "an object", None)
    assert "- $input: expected an object, got null." in report.feedback_text()
    listed = validate_document("analyze", [])
    assert "[]  // ❌ $input: expected an object" in listed.feedback_text()


def test_length_limits_are_worded() -> None:
    data = load("analyze.valid.json")
    data["actors"] = []
    data["rules"][0]["description"] = "x" * 900
    messages = {e.path: e.expected for e in validate_document("analyze", data).errors}
    assert messages == {
        "$input.actors": "at least 1 item",
        "$input.rules[0].description": "at most 800 characters",
    }
