"""Interface axis of the rubric (25 points): does the API serve what the project asks for, and is it well
designed?

Gate: the document exists and its rendered OpenAPI 3.1 is usable. A document that passes lapbench's
semantic rules renders a valid OpenAPI document by construction (the rules are what OpenAPI needs: path
parameters, resolvable references; tests/test_defects.py validates gold answers and their mutants), so the
slow OpenAPI validator runs only on documents that break a rule (imported AutoBe documents): the
operations that break one are left out of the rendering, the rest must validate, and each broken rule
costs points in its dimension instead of failing the gate.

Dimensions (WEIGHTS, relative):
- capability_coverage: each required capability ("create posts", "list comments") is served by an
  operation; left out, with the other weights rescaled, when the project gives none.
- dto_columns, rest_conventions, pagination, authorization: see `runner.rubric.dto` and
  `runner.rubric.api_checks`; each averages its parts together with the required parts that are missing.
- type_references: per component, its `$ref`s resolve and an operation uses it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from runner.render.openapi import render_openapi, validate_openapi
from runner.rubric.api_checks import authorization, pagination, required_ops, rest_conventions
from runner.rubric.dto import dto_columns
from runner.rubric.operations import capability_served
from runner.rubric.types import (
    Checklist,
    Dimension,
    Result,
    gate_dimensions,
    over_required,
    scaled_dimensions,
)
from runner.schemas.checks.interface import check_interface
from runner.schemas.context import ValidationContext
from runner.schemas.database import DatabaseDocument
from runner.schemas.feedback import PlacedError
from runner.schemas.interface import (
    ArraySchema,
    Component,
    InterfaceDocument,
    JsonSchema,
    OneOfSchema,
    Operation,
    ReferenceSchema,
)

AXIS = "interface"
WEIGHTS: dict[str, float] = {
    "capability_coverage": 7.0,
    "dto_columns": 5.0,
    "rest_conventions": 4.0,
    "pagination": 3.0,
    "authorization": 3.0,
    "type_references": 3.0,
}


def weights_for(capabilities: Sequence[str], dto_reference: bool = True) -> dict[str, float]:
    """The dimensions scored: capability_coverage needs the project's capabilities, dto_columns a
    database design to compare with (`dto_reference=False` when none was given at all)."""
    return {
        name: w
        for name, w in WEIGHTS.items()
        if not (name == "capability_coverage" and not capabilities)
        and not (name == "dto_columns" and not dto_reference)
    }


def score_interface(
    doc: InterfaceDocument | None,
    database: DatabaseDocument | None = None,
    required_capabilities: Sequence[str] = (),
    *,
    dto_reference: bool = True,
) -> list[Dimension]:
    """Score an API design against the project's capabilities and the database design; deterministic.
    In a run a missing database (its phase failed) leaves nothing to compare DTOs with: 0. Scoring a lone
    file without any database, pass `dto_reference=False` to leave dto_columns out."""
    weights = weights_for(required_capabilities, dto_reference)
    errors = semantic_errors(doc) if doc is not None else []
    reason = gate_reason(doc, errors)
    if reason is not None or doc is None:
        return gate_dimensions(AXIS, weights, reason or "no interface document")
    broken = _errors_by_dimension(errors)
    results: dict[str, Result | None] = {
        "rest_conventions": rest_conventions(doc, required_capabilities, broken["rest_conventions"]),
        "pagination": pagination(doc, required_capabilities),
        "authorization": authorization(doc, required_capabilities),
        "type_references": _type_references(doc, required_capabilities, broken["type_references"]),
    }
    if "dto_columns" in weights:
        results["dto_columns"] = (
            dto_columns(doc, database.tables(), required_capabilities)
            if database is not None
            else (0.0, "no valid database design to check the DTOs against")
        )
    if required_capabilities:
        results["capability_coverage"] = _capability_coverage(doc, required_capabilities)
    # pagination and authorization do not apply to a project that asks for no list or no write
    scored = {name: r for name, r in results.items() if r is not None}
    return scaled_dimensions(AXIS, {k: w for k, w in weights.items() if k in scored}, scored)


def semantic_errors(doc: InterfaceDocument) -> list[PlacedError]:
    return check_interface(doc, doc.model_dump(by_alias=True), ValidationContext())


def gate_reason(doc: InterfaceDocument | None, errors: Sequence[PlacedError] = ()) -> str | None:
    """None when the rendered OpenAPI is usable, else why not in one line."""
    if doc is None:
        return "no interface document"
    if not errors:
        return None  # valid by construction, see the module docstring
    bad = {e.segments[1] for e in errors if len(e.segments) > 1 and e.segments[0] == "operations"}
    usable = [op for i, op in enumerate(doc.operations) if i not in bad]
    if not usable:
        return f"no usable operation ({len(errors)} validation errors, first: {errors[0].one_line()})"
    rendered = InterfaceDocument.model_construct(operations=usable, components=doc.components)
    problems = validate_openapi(render_openapi(rendered))
    return f"the OpenAPI document does not validate: {problems[0]}" if problems else None


def _errors_by_dimension(errors: Sequence[PlacedError]) -> dict[str, list[str]]:
    """Rule breaks of a usable document: path and method rules are REST conventions, the rest are about
    type references."""
    out: dict[str, list[str]] = {"rest_conventions": [], "type_references": []}
    for error in errors:
        rest = error.kind in ("path_parameters", "get_with_body", "duplicate") and error.segments[:1] == (
            "operations",
        )
        out["rest_conventions" if rest else "type_references"].append(
            f"{error.path}: expected {error.expected}"
        )
    return out


def _refs(schema: JsonSchema) -> list[str]:
    if isinstance(schema, ReferenceSchema):
        return [schema.component_name]
    if isinstance(schema, ArraySchema):
        return _refs(schema.items)
    if isinstance(schema, OneOfSchema):
        return [r for variant in schema.one_of for r in _refs(variant)]
    return []


def component_refs(component: Component) -> list[str]:
    return [r for prop in component.schema.properties.values() for r in _refs(prop)]


def _type_references(doc: InterfaceDocument, capabilities: Sequence[str], broken: Sequence[str]) -> Result:
    """Per component: its `$ref`s resolve and some operation uses it (directly or through other
    components). Components that the required operations use are required parts; the others count only
    when they have a fault (unused: dead design noise)."""
    known = {c.name: c for c in doc.components}
    extra: list[Checklist] = []
    for failure in broken:
        extra.append(_failed("type references", failure))
    for op in doc.operations:
        for body in (op.request_body, op.response_body):
            if body is not None and body not in known:
                extra.append(_failed("type references", f"{op.method} {op.path} uses unknown {body}"))
    wanted = required_ops(doc, capabilities)
    used_by_required = _reachable(doc, [op for op in doc.operations if id(op) in wanted])
    used = _reachable(doc, doc.operations)
    parts: list[Checklist] = []
    for component in doc.components:
        checks = Checklist("type references")
        for ref in component_refs(component):
            checks.check(ref in known, f"{component.name} refers to unknown {ref}")
        checks.check(component.name in used, f"{component.name} is never used")
        (parts if component.name in used_by_required else extra).append(checks)
    missing = [c for c in capabilities if not any(capability_served(c, op) for op in doc.operations)]
    return over_required(parts, missing, "components", extra)


def _failed(label: str, failure: str) -> Checklist:
    checks = Checklist(label)
    checks.check(False, failure)
    return checks


def _reachable(doc: InterfaceDocument, operations: Sequence[Operation]) -> set[str]:
    return needed_components([b for op in operations for b in (op.request_body, op.response_body) if b], doc)


def needed_components(names: Iterable[str], doc: InterfaceDocument) -> set[str]:
    """The named components that exist and every component they reference, transitively."""
    seen: set[str] = set()
    todo = list(names)
    while todo:
        name = todo.pop()
        component = doc.component(name)
        if name in seen or component is None:
            continue
        seen.add(name)
        todo += component_refs(component)
    return seen


def _capability_coverage(doc: InterfaceDocument, capabilities: Sequence[str]) -> Result:
    checks = Checklist("required capabilities")
    for capability in capabilities:
        served = any(capability_served(capability, op) for op in doc.operations)
        checks.check(served, f"no operation to {capability}")
    return checks.result()
