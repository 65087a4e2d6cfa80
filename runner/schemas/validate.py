"""Validation of a phase document or a part: JSON parse, pydantic, then the semantic checks; every
failure becomes a PlacedError in a ValidationReport."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ValidationError

from runner.schemas.analyze import AnalyzeDocument
from runner.schemas.checks import duplicates
from runner.schemas.checks.analyze import check_analyze
from runner.schemas.checks.database import check_database, check_database_file, check_table
from runner.schemas.checks.interface import check_component, check_interface, check_operation
from runner.schemas.checks.realize import check_realize_operation
from runner.schemas.checks.testlogic import check_test, check_test_function
from runner.schemas.context import ValidationContext
from runner.schemas.database import DatabaseDocument, DatabaseFile, Table
from runner.schemas.feedback import PlacedError, ValidationReport, unplaced
from runner.schemas.interface import InterfaceDocument
from runner.schemas.parts import OperationPart
from runner.schemas.pydantic_errors import from_validation_error
from runner.schemas.realize import RealizeOperation
from runner.schemas.testlogic import TestDocument, TestFunction

Check = Callable[[Any, Any, ValidationContext], list[PlacedError]]

PHASES: dict[str, type[BaseModel]] = {
    "analyze": AnalyzeDocument,
    "database": DatabaseDocument,
    "interface": InterfaceDocument,
    "test": TestDocument,
}

PARTS: dict[str, type[BaseModel]] = {
    "database.file": DatabaseFile,
    "database.table": Table,
    "interface.operation": OperationPart,
    "test.function": TestFunction,
    "realize.operation": RealizeOperation,
}


def _check_operation_part(part: OperationPart, data: Any, context: ValidationContext) -> list[PlacedError]:
    known = context.component_names | {c.name for c in part.components}
    errors = duplicates(data, ("components",), part.components, lambda c: c.name, "name", "component name")
    errors += check_operation(part.operation, data, ("operation",), known, context)
    for i, component in enumerate(part.components):
        errors += check_component(component, data, ("components", i), known)
    return errors


CHECKS: dict[str, Check] = {
    "analyze": check_analyze,
    "database": check_database,
    "interface": check_interface,
    "test": check_test,
    "database.file": check_database_file,
    "database.table": check_table,
    "interface.operation": _check_operation_part,
    "test.function": check_test_function,
    "realize.operation": check_realize_operation,
}


def model_for(name: str) -> type[BaseModel]:
    """The model of a phase ("database") or a part ("database.file"); KeyError names the choices."""
    model = PHASES.get(name) or PARTS.get(name)
    if model is None:
        raise KeyError(f"unknown phase or part {name!r}; choose from {', '.join([*PHASES, *PARTS])}")
    return model


def validate_document(phase: str, data: Any, context: ValidationContext | None = None) -> ValidationReport:
    """Validate a phase document (dict, or JSON text) and run that phase's semantic checks."""
    return _validate(phase, data, context)


def validate_part(part: str, data: Any, context: ValidationContext | None = None) -> ValidationReport:
    """Validate one part (see PARTS) against what is already known (`context`)."""
    if part not in PARTS:
        raise KeyError(f"unknown part {part!r}; choose from {', '.join(PARTS)}")
    return _validate(part, data, context)


def _validate(name: str, data: Any, context: ValidationContext | None) -> ValidationReport:
    model = model_for(name)
    if isinstance(data, str | bytes):
        try:
            data = json.loads(data)
        except json.JSONDecodeError as exc:
            error = unplaced(
                "json_invalid",
                "a JSON object",
                exc.doc[max(0, exc.pos - 20) : exc.pos + 20],
                f"Invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}. Output only the JSON object.",
            )
            return ValidationReport(name, None, (error,))
    try:
        document = model.model_validate(data)
    except ValidationError as exc:
        return ValidationReport(name, data, tuple(from_validation_error(exc, data, model)))
    errors = CHECKS[name](document, data, context or ValidationContext())
    return ValidationReport(name, data, tuple(errors), document)
