"""Interface axis of the rubric (30 points): does the API design hold together, and does it serve the data?

Gate: the document exists and its semantic rules pass (unique names, path parameters match the path,
every type name and `$ref` resolves). Weights: see WEIGHTS (sum 30). Then:
- openapi_valid: the rendered OpenAPI 3.1 document passes openapi-spec-validator.
- type_references: bodies and `$ref`s resolve, and every component is reachable from some operation
  (dead DTOs are design noise).
- crud_coverage: per table, the operations its stance calls for — primary (managed on its own):
  create, read, list, update, delete; subsidiary (owned by a parent row, written through it) and
  snapshot (history): list. Operations are tied to tables through their body types (`ITodo.ICreate`
  -> `todos`) or their path resource (`/todos/{todoId}`). Listing may be a GET or AutoBe's
  PATCH-with-search-body on the collection.
- dto_columns: properties of table-backed DTOs are columns of that table (camelCase or snake_case) with a
  compatible type, and the main DTO (`ITodo`) exposes the table's columns (secrets excepted).
- rest_conventions: collection segments plural, item paths end in a `{xxxId}` parameter typed uuid/integer,
  get/delete without body, get/create return a body, create posts to the collection.
- capability_coverage: each required capability of the project ("create post", "list comments") is served
  by an operation; left out, with the other weights rescaled, when none is given.
crud_coverage and dto_columns need the database design; without it they are left out likewise.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from runner.render import names
from runner.render.openapi import render_openapi, validate_openapi
from runner.render.operations import OperationRole, capability_served, operation_role, operation_table
from runner.rubric.types import Checklist, Dimension, gate_dimensions, scaled_dimensions
from runner.schemas.checks.interface import check_interface
from runner.schemas.context import ValidationContext
from runner.schemas.database import DatabaseDocument, Table
from runner.schemas.interface import (
    ArraySchema,
    Component,
    InterfaceDocument,
    JsonSchema,
    OneOfSchema,
    ReferenceSchema,
)

AXIS = "interface"
# Validity mostly confirms the gate; the weight sits on what tells designs apart.
WEIGHTS: dict[str, float] = {
    "openapi_valid": 3.0,
    "type_references": 3.0,
    "crud_coverage": 8.0,
    "dto_columns": 6.0,
    "rest_conventions": 4.0,
    "capability_coverage": 6.0,
}
NEEDS_DATABASE = ("crud_coverage", "dto_columns")
EXPECTED_ROLES: dict[str, tuple[OperationRole, ...]] = {
    "primary": ("create", "read", "list", "update", "delete"),
    "subsidiary": ("list",),
    "snapshot": ("list",),
}


def score_interface(
    doc: InterfaceDocument | None,
    database: DatabaseDocument | None = None,
    required_capabilities: Sequence[str] = (),
) -> list[Dimension]:
    """Score an API design, against the database design when given; deterministic."""
    weights = {
        name: w
        for name, w in WEIGHTS.items()
        if not (name in NEEDS_DATABASE and database is None)
        and not (name == "capability_coverage" and not required_capabilities)
    }
    reason = gate_reason(doc)
    if reason is not None or doc is None:
        return gate_dimensions(AXIS, weights, reason or "no interface document")
    results = {"openapi_valid": _openapi_valid(doc), "type_references": _type_references(doc)}
    if database is not None:
        tables = database.tables()
        results["crud_coverage"] = _crud_coverage(doc, tables)
        results["dto_columns"] = _dto_columns(doc, tables)
    results["rest_conventions"] = _rest_conventions(doc)
    if required_capabilities:
        results["capability_coverage"] = _capability_coverage(doc, required_capabilities)
    return scaled_dimensions(AXIS, weights, results)


def gate_reason(doc: InterfaceDocument | None) -> str | None:
    if doc is None:
        return "no interface document"
    errors = check_interface(doc, doc.model_dump(by_alias=True), ValidationContext())
    if not errors:
        return None
    return f"{len(errors)} validation error(s), first: {errors[0].one_line()}"


def _openapi_valid(doc: InterfaceDocument) -> tuple[float, str]:
    errors = validate_openapi(render_openapi(doc))
    if not errors:
        return 1.0, f"OpenAPI 3.1 document with {len(doc.operations)} operations validates"
    return 0.0, f"{len(errors)} OpenAPI error(s), first: {errors[0]}"


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


def _type_references(doc: InterfaceDocument) -> tuple[float, str]:
    known = {c.name: c for c in doc.components}
    checks = Checklist("type references")
    roots: list[str] = []
    for op in doc.operations:
        for body in (op.request_body, op.response_body):
            if body is not None:
                checks.check(body in known, f"{op.method} {op.path} uses unknown {body}")
                roots.append(body)
    for component in doc.components:
        for ref in component_refs(component):
            checks.check(ref in known, f"{component.name} refers to unknown {ref}")
    reachable: set[str] = set()
    stack = [r for r in roots if r in known]
    while stack:
        name = stack.pop()
        if name not in reachable:
            reachable.add(name)
            stack.extend(r for r in component_refs(known[name]) if r in known)
    for component in doc.components:
        checks.check(component.name in reachable, f"{component.name} is never used")
    return checks.result()


def _crud_coverage(doc: InterfaceDocument, tables: list[Table]) -> tuple[float, str]:
    table_names = [t.name for t in tables]
    served: dict[str, set[OperationRole]] = {name: set() for name in table_names}
    for op in doc.operations:
        role = operation_role(op)
        target = operation_table(op, table_names)
        if role is not None and target is not None:
            served[target].add(role)
    checks = Checklist("table operations")
    for table in tables:
        for role in EXPECTED_ROLES[table.stance]:
            checks.check(role in served[table.name], f"no {role} for {table.name}")
    return checks.result(empty_fraction=0.0)


# DTO suffixes that show a table's row (AutoBe's naming): the entity, its create/update bodies, its
# summaries. Others (IRequest, IJoin, IAuthorized...) legitimately carry non-column fields.
ENTITY_VIEWS = frozenset(
    {"", "ICreate", "IUpdate", "ISummary", "IAbridge", "IInvert", "ISnapshot", "IDetail"}
)
_SECRET = re.compile(r"(password|secret|token|salt|hash)", re.IGNORECASE)
_COMPATIBLE: dict[str, tuple[tuple[str, str | None], ...]] = {
    "uuid": (("string", "uuid"),),
    "datetime": (("string", "date-time"), ("string", "date")),
    "int": (("integer", None), ("number", None)),
    "double": (("number", None), ("integer", None)),
    "boolean": (("boolean", None),),
    "string": (("string", None), ("string", "email"), ("string", "uri"), ("string", "password")),
    "uri": (("string", "uri"), ("string", None)),
}


def _scalar_kind(schema: JsonSchema) -> tuple[str, str | None] | None:
    """(type, format) of a property, looking through `oneOf [X, null]`; None for refs, arrays, unions."""
    if isinstance(schema, OneOfSchema):
        kinds = [_scalar_kind(v) for v in schema.one_of if getattr(v, "type", None) != "null"]
        return kinds[0] if len(kinds) == 1 else None
    type_ = getattr(schema, "type", None)
    if type_ in ("string", "integer", "number", "boolean"):
        return type_, getattr(schema, "format", None)
    if hasattr(schema, "const"):
        return {str: "string", bool: "boolean", int: "integer", float: "number"}[type(schema.const)], None
    return None


def _dto_columns(doc: InterfaceDocument, tables: list[Table]) -> tuple[float, str]:
    by_name = {t.name: t for t in tables}
    checks = Checklist("DTO fields")
    for component in doc.components:
        suffix = component.name.split(".")[-1] if "." in component.name else ""
        if component.name.startswith(("IPageI", "IPage.")) or suffix not in ENTITY_VIEWS:
            continue  # pages wrap entities; requests, logins, tokens carry more than columns
        table_name = names.best_match(names.key(names.dto_base(component.name)), by_name)
        if table_name is None:
            continue
        table = by_name[table_name]
        types = {table.primary_key: "uuid", **{fk.name: "uuid" for fk in table.foreign_keys}}
        types.update({c.name: c.type for c in table.columns})
        for prop, schema in component.schema.properties.items():
            kind = _scalar_kind(schema)
            if kind is None:
                continue  # nested objects and lists are relations, not columns
            column = names.snake(prop)
            if column not in types:
                secret_input = suffix != "" and _SECRET.search(prop) is not None
                checks.check(secret_input, f"{component.name}.{prop} is no column of {table_name}")
                continue
            ok = kind in _COMPATIBLE[types[column]] or (kind[0] == "string" and types[column] == "string")
            checks.check(
                ok, f"{component.name}.{prop} is {kind[0]} but {table_name}.{column} is {types[column]}"
            )
        if not suffix:  # the main DTO of the table should show its columns
            exposed = {names.snake(p) for p in component.schema.properties}
            for column in types:
                if not _SECRET.search(column):
                    checks.check(column in exposed, f"{component.name} does not expose {table_name}.{column}")
    return checks.result(empty_fraction=0.0)


_PARAM = re.compile(r"^\{([^}]*)\}$")


def _rest_conventions(doc: InterfaceDocument) -> tuple[float, str]:
    checks = Checklist("REST conventions")
    for op in doc.operations:
        where = f"{op.method} {op.path}"
        segments = [s for s in op.path.split("/") if s]
        for i, seg in enumerate(segments):
            param = _PARAM.match(seg)
            if param is None and i + 1 < len(segments) and _PARAM.match(segments[i + 1]):
                checks.check(
                    names.is_plural(names.words(seg)[-1]), f"{where}: collection {seg} is not plural"
                )
            if param is not None:
                checks.check(
                    param.group(1).endswith("Id") or param.group(1) in ("id", "slug", "code"),
                    f"{where}: parameter {{{param.group(1)}}} is not named *Id",
                )
        for p in op.path_parameters:
            fmt = getattr(p.schema, "format", None)
            checks.check(
                fmt == "uuid" or p.schema.type == "integer", f"{where}: {p.name} is not uuid/integer"
            )
        if op.method in ("get", "delete"):
            checks.check(op.request_body is None, f"{where} has a request body")
        if op.method == "get":
            checks.check(op.response_body is not None, f"{where} returns nothing")
        role = operation_role(op)
        if role == "create":
            checks.check(op.request_body is not None, f"{where} creates from no body")
            checks.check(op.response_body is not None, f"{where} returns nothing it created")
    return checks.result()


def _capability_coverage(doc: InterfaceDocument, capabilities: Sequence[str]) -> tuple[float, str]:
    missing = [c for c in capabilities if not any(capability_served(c, op) for op in doc.operations)]
    total = len(capabilities)
    detail = f"{total - len(missing)}/{total} required capabilities served"
    if missing:
        detail += "; missing: " + ", ".join(missing[:5])
    return (total - len(missing)) / total, detail
