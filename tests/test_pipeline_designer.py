"""The scripted designer of tests/support/designer.py answers every pipeline part with a valid document, so
a change of the schemas shows up here first rather than as a puzzling pipeline failure."""

from __future__ import annotations

from tests.support.designer import ENDPOINTS, TABLES, analyze, operation, table


def test_designer_parts_validate() -> None:
    from runner.run.parts import validate_endpoint_plan
    from runner.schemas.context import ValidationContext
    from runner.schemas.validate import validate_document, validate_part

    assert validate_document("analyze", analyze()).valid
    tables = ValidationContext(table_names=frozenset(TABLES))
    for name in TABLES:
        assert validate_part("database.table", table(name), tables).valid, name
    plan = {"endpoints": [{"method": m, "path": p, "purpose": w} for m, p, w in ENDPOINTS]}
    assert validate_endpoint_plan(plan).valid
    defined: set[str] = set()
    for method, path, _ in ENDPOINTS:
        part = operation(method, path, defined)
        report = validate_part(
            "interface.operation", part, ValidationContext(component_names=frozenset(defined))
        )
        assert report.valid, (method, path, [e.one_line() for e in report.errors])
        defined |= {c["name"] for c in part["components"]}
