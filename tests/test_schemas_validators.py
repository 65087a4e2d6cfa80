"""Hand-written documents in tests/data/schemas: the valid ones pass, each invalid one fails with the
error placed at the path of the mistake (one file per validator rule)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from runner.schemas import (
    AnalyzeDocument,
    InterfaceDocument,
    ValidationContext,
    validate_document,
    validate_part,
)
from runner.schemas.testlogic import EXPRESSION_KINDS, STATEMENT_KINDS

DATA = Path(__file__).parent / "data" / "schemas"


def load(name: str) -> dict:
    return json.loads((DATA / name).read_text())


@pytest.fixture(scope="module")
def context() -> ValidationContext:
    return ValidationContext.from_documents(
        analyze=AnalyzeDocument.model_validate(load("analyze.valid.json")),
        interface=InterfaceDocument.model_validate(load("interface.valid.json")),
    )


@pytest.mark.parametrize("phase", ["analyze", "database", "interface", "test"])
def test_valid_documents_pass_with_and_without_context(phase: str, context: ValidationContext) -> None:
    data = load(f"{phase}.valid.json")
    for ctx in (None, context):
        report = validate_document(phase, data, ctx)
        assert report.valid, report.feedback_text()
        assert report.document is not None
        # the document keeps everything the model wrote, under the same (camelCase) keys
        assert report.document.model_dump(by_alias=True, exclude_unset=True) == data


def test_valid_test_document_uses_every_expression_kind() -> None:
    text = (DATA / "test.valid.json").read_text()
    assert len(EXPRESSION_KINDS) >= 28
    assert len(STATEMENT_KINDS) == 6
    missing = [kind for kind in (*EXPRESSION_KINDS, *STATEMENT_KINDS) if f'"kind": "{kind}"' not in text]
    assert missing == []


# file -> the (path, kind) errors it must produce, exactly
CASES: dict[str, list[tuple[str, str]]] = {
    "analyze.bad_actor_kind": [("$input.actors[0].kind", "literal_error")],
    "analyze.duplicate_actor": [
        ("$input.actors[2].name", "duplicate"),
        ("$input.features[3].actor", "unknown_reference"),
    ],
    "analyze.duplicate_rule": [("$input.rules[1].id", "duplicate")],
    "analyze.unknown_feature_actor": [("$input.features[3].actor", "unknown_reference")],
    "database.column_type": [("$input.files[0].tables[0].columns[2].type", "literal_error")],
    "database.duplicate_column": [("$input.files[0].tables[0].columns[1].name", "duplicate")],
    "database.duplicate_table": [
        ("$input.files[1].tables[1].name", "duplicate"),
        ("$input.files[1].tables[1].foreignKeys[2].targetTable", "unknown_reference"),
    ],
    "database.extra_field": [("$input.files[0].tables[0].comment", "extra_forbidden")],
    "database.fk_target": [("$input.files[1].tables[0].foreignKeys[0].targetTable", "unknown_reference")],
    "database.index_column": [("$input.files[1].tables[0].plainIndexes[0].columns[1]", "unknown_column")],
    "database.missing_stance": [("$input.files[1].tables[1].stance", "missing")],
    "database.table_name_case": [("$input.files[0].tables[0].name", "string_pattern_mismatch")],
    "interface.duplicate_component": [("$input.components[5].name", "duplicate")],
    "interface.duplicate_route": [("$input.operations[3].method", "duplicate")],
    "interface.get_with_body": [("$input.operations[1].requestBody", "get_with_body")],
    "interface.nested_one_of": [
        ("$input.components[0].schema.properties.status.oneOf[0]", "union_tag_invalid")
    ],
    "interface.path_params": [("$input.operations[1].pathParameters", "path_parameters")],
    "interface.required_unknown": [("$input.components[1].schema.required[1]", "unknown_property")],
    "interface.string_format": [("$input.components[0].schema.properties.createdAt.format", "literal_error")],
    "interface.too_deep": [
        ("$input.components[3].schema.properties.body.items.items.items.items", "too_deep")
    ],
    "interface.unknown_body": [("$input.operations[0].requestBody", "unknown_reference")],
    "interface.unknown_ref": [('$input.components[0].schema.properties.author["$ref"]', "unknown_reference")],
    "test.arrow_body_operator": [
        ("$input.functions[1].statements[1].value.function.statements[0].value.operator", "literal_error")
    ],
    "test.arrow_scope": [("$input.functions[1].statements[9].expression.elements[0].name", "undeclared")],
    "test.bad_expression_kind": [("$input.functions[0].statements[3].expression", "union_tag_invalid")],
    "test.const_increment": [
        (
            "$input.functions[1].statements[3].expression.function.statements[0].expression.operand",
            "not_mutable",
        )
    ],
    "test.duplicate_function": [("$input.functions[1].name", "duplicate")],
    "test.else_branch": [
        ("$input.functions[0].statements[5].else[0].then[0].value.expression.name", "undeclared")
    ],
    "test.missing_body": [("$input.functions[0].statements[1].body", "missing_body")],
    "test.redeclared": [
        ("$input.functions[1].statements[4].name", "redeclared"),
        ("$input.functions[1].statements[9].expression.elements[0].name", "undeclared"),
    ],
    "test.undeclared": [
        ("$input.functions[0].statements[3].expression.actual.expression.name", "undeclared")
    ],
    "test.unknown_operation": [("$input.functions[0].statements[1].path", "unknown_operation")],
    "test.use_before_declare": [("$input.functions[1].statements[1].value.count.name", "undeclared")],
    "test.wrong_path_parameter": [("$input.functions[0].statements[2].parameters", "path_parameters")],
}


def test_every_invalid_file_has_a_case() -> None:
    files = {p.name.removesuffix(".json") for p in (DATA / "invalid").glob("*.json")}
    assert files == set(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_invalid_document_error_is_placed(name: str, context: ValidationContext) -> None:
    data = load(f"invalid/{name}.json")
    report = validate_document(name.split(".")[0], data, context)
    assert not report.valid
    assert [(e.path, e.kind) for e in report.errors] == CASES[name]
    feedback = report.feedback_text()
    for error in report.errors:
        assert error.placed
        assert f"// ❌ {error.path}:" in feedback or f"| {error.path}:" in feedback
        assert error.expected and error.message
    first = report.errors[0]
    if first.kind != "missing":
        # the value reported is the one found at that path in the document
        node: object = data
        for seg in first.segments:
            node = node[seg]  # type: ignore[index]
        assert first.value == node


def test_api_calls_are_not_checked_without_an_interface() -> None:
    report = validate_document("test", load("invalid/test.unknown_operation.json"))
    assert report.valid


def test_database_file_part_checks_against_known_tables() -> None:
    board = load("database.valid.json")["files"][1]
    alone = validate_part("database.file", board)
    assert [(e.path, e.kind) for e in alone.errors] == [
        ("$input.tables[0].foreignKeys[0].targetTable", "unknown_reference"),
        ("$input.tables[1].foreignKeys[1].targetTable", "unknown_reference"),
    ]
    known = ValidationContext(table_names=frozenset({"members"}))
    assert validate_part("database.file", board, known).valid
    clash = ValidationContext(table_names=frozenset({"members", "topics"}))
    report = validate_part("database.file", board, clash)
    assert [(e.path, e.kind) for e in report.errors] == [("$input.tables[0].name", "duplicate")]


def test_table_part_allows_self_reference() -> None:
    posts = load("database.valid.json")["files"][1]["tables"][1]
    report = validate_part("database.table", posts, ValidationContext(table_names=frozenset({"topics"})))
    assert [e.path for e in report.errors] == ["$input.foreignKeys[1].targetTable"]


def test_operation_part_resolves_new_and_known_components() -> None:
    interface = load("interface.valid.json")
    part = {"operation": interface["operations"][0], "components": [interface["components"][1]]}
    report = validate_part("interface.operation", part)
    assert [(e.path, e.kind) for e in report.errors] == [
        ("$input.operation.responseBody", "unknown_reference")
    ]
    known = ValidationContext(component_names=frozenset({"ITopic"}), actor_names=frozenset({"member"}))
    assert validate_part("interface.operation", part, known).valid
    twice = {"operation": part["operation"], "components": [interface["components"][1]] * 2}
    report = validate_part("interface.operation", twice, known)
    assert [(e.path, e.kind) for e in report.errors] == [("$input.components[1].name", "duplicate")]
    stranger = ValidationContext(component_names=frozenset({"ITopic"}), actor_names=frozenset({"guest"}))
    report = validate_part("interface.operation", part, stranger)
    assert [e.path for e in report.errors] == ["$input.operation.authorizationActor"]


def test_new_component_refs_and_test_function_part(context: ValidationContext) -> None:
    interface = load("interface.valid.json")
    part = {"operation": interface["operations"][1], "components": [interface["components"][0]]}
    report = validate_part("interface.operation", part)
    assert [e.path for e in report.errors] == ['$input.components[0].schema.properties.author["$ref"]']
    assert validate_part("interface.operation", part, context).valid
    function = load("invalid/test.unknown_operation.json")["functions"][0]
    report = validate_part("test.function", function, context)
    assert [(e.path, e.kind) for e in report.errors] == [("$input.statements[1].path", "unknown_operation")]


def test_unknown_names_are_key_errors() -> None:
    with pytest.raises(KeyError):
        validate_document("realize", {})
    with pytest.raises(KeyError):
        validate_part("database", {})


def test_iter_nodes_walks_every_node_with_its_path() -> None:
    from runner.schemas import TestDocument, iter_nodes
    from runner.schemas.feedback import render_path, value_at
    from runner.schemas.testlogic import ApiCall, Identifier

    data = load("test.valid.json")
    doc = TestDocument.model_validate(data)
    calls = [(render_path(segs), node) for segs, node in iter_nodes(doc) if isinstance(node, ApiCall)]
    assert [path for path, _ in calls] == [
        "$input.functions[0].statements[1]",
        "$input.functions[0].statements[2]",
        "$input.functions[1].statements[2]",
        "$input.functions[1].statements[8].expression.function.statements[0]",
    ]
    for segs, node in iter_nodes(doc):
        if isinstance(node, Identifier):
            assert value_at(data, segs) == {"kind": "identifier", "name": node.name}
