"""The AST schemas of the benchmark phases, their semantic validators and the model-facing feedback.

Phases (`PHASES`, one forced tool call each): analyze, database, interface, test — see the docstrings of
`runner.schemas.analyze`, `.database`, `.interface`, `.testlogic` for each AST and its rules.

Parts (`PARTS`), for splitting a big phase into small calls:
- "database.file": `DatabaseFile` — one namespace with its tables;
- "database.table": `Table`;
- "interface.operation": `OperationPart` — one operation plus the new components it uses;
- "test.function": `TestFunction`.
Validate a part with `validate_part(name, data, context)`, where `ValidationContext` carries the names
already accepted (tables, components, actors) and the operations a test may call
(`ValidationContext.from_documents(analyze=..., database=..., interface=...)`, or built by hand).

Every failure is a `PlacedError(path, expected, value, message, kind)` in a `ValidationReport`
(`.valid`, `.errors`, `.document`, `.feedback_text()`, `.as_json()`); `summarize_failures(reports)`
condenses repeated failures; `iter_nodes(model)` walks any AST with the JSON path of each node.

Tools: `tool_schema(name)`, `tool_description(name)` and `tool_name(name)` describe the tool of a phase
or part; `recursion_limits(name)` gives the nesting caps of its recursive `$defs` (for grammars);
`schema_digest(name)` the same types as TypeScript-like declarations for small-context prompts.
Free mode: `parse_lenient(text, name)` recovers the JSON arguments from unconstrained output
(`runner.schemas.lenient.validate_text` parses and validates in one call)."""

from __future__ import annotations

from runner.schemas.analyze import AnalyzeDocument
from runner.schemas.base import AstModel, iter_nodes
from runner.schemas.context import OperationSignature, ValidationContext
from runner.schemas.database import DatabaseDocument, DatabaseFile, Table
from runner.schemas.digest import schema_digest
from runner.schemas.feedback import PlacedError, ValidationReport, summarize_failures
from runner.schemas.interface import Component, InterfaceDocument, Operation
from runner.schemas.lenient import LenientParseError, LenientResult, parse_lenient
from runner.schemas.parts import OperationPart
from runner.schemas.testlogic import TestDocument, TestFunction
from runner.schemas.tools import recursion_limits, tool_description, tool_name, tool_schema
from runner.schemas.validate import PARTS, PHASES, model_for, validate_document, validate_part

__all__ = [
    "PARTS",
    "PHASES",
    "AnalyzeDocument",
    "AstModel",
    "Component",
    "DatabaseDocument",
    "DatabaseFile",
    "InterfaceDocument",
    "LenientParseError",
    "LenientResult",
    "Operation",
    "OperationPart",
    "OperationSignature",
    "PlacedError",
    "Table",
    "TestDocument",
    "TestFunction",
    "ValidationContext",
    "ValidationReport",
    "iter_nodes",
    "model_for",
    "parse_lenient",
    "recursion_limits",
    "schema_digest",
    "summarize_failures",
    "tool_description",
    "tool_name",
    "tool_schema",
    "validate_document",
    "validate_part",
]
