"""The dto_columns dimension of the interface axis: do the DTOs of a table say what its columns say?

A DTO belongs to the table its base name names (`ITodo.ICreate` -> `todos`; AutoBe's naming). Its views
that carry a row (the entity, its create/update bodies, summaries, and the sign-up body and sign-in
response of an account) are checked field by field: a scalar field is a column (camelCase or snake_case) of a compatible
type. Not a defect: a secret typed by the client (`password`) or handed to it at sign-in (`token`), a
natural key of another table typed by the client (`discountCode` -> `discount_codes.code`), and in a
response a computed aggregate (`commentCount`, `averageRating`). The main DTO (`ITodo`) must expose the table's columns (secrets and soft-delete marks
excepted): a response type that loses fields fails here.

Checks are grouped per table and averaged over the tables that the required capabilities act on (0 for
one that no DTO shows); the DTOs of other tables count only when they have a fault.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from runner.rubric import names
from runner.rubric.required import entity_match, required_objects
from runner.rubric.types import Checklist, Result, over_required
from runner.schemas.database import Table
from runner.schemas.interface import Component, InterfaceDocument, JsonSchema, OneOfSchema

# A sign-in body (ILogin) carries credentials and options (a 2FA code, "remember me"), not a row.
REQUEST_VIEWS = frozenset({"ICreate", "IUpdate", "IJoin"})
RESPONSE_VIEWS = frozenset({"", "ISummary", "IAbridge", "IInvert", "ISnapshot", "IDetail", "IAuthorized"})
SECRET = re.compile(r"(password|secret|token|salt|hash)", re.IGNORECASE)
AGGREGATES = frozenset({"count", "total", "sum", "average", "avg", "min", "max", "remaining", "number"})
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
    """(type, format) of a property, looking through `oneOf [X, null]` and enums (`oneOf` of constants of
    one type); None for refs, arrays and mixed unions."""
    if isinstance(schema, OneOfSchema):
        kinds = {_scalar_kind(v) for v in schema.one_of if getattr(v, "type", None) != "null"}
        return kinds.pop() if len(kinds) == 1 else None
    type_ = getattr(schema, "type", None)
    if type_ in ("string", "integer", "number", "boolean"):
        return type_, getattr(schema, "format", None)
    if hasattr(schema, "const"):
        return {str: "string", bool: "boolean", int: "integer", float: "number"}[type(schema.const)], None
    return None


def _key_of_other_table(column: str, tables: dict[str, Table]) -> bool:
    """`discount_code` is `discount_codes.code`, `product_sku` is `products.sku`: a natural key the client
    types to point at a row of another table (named by the leading words)."""
    words = column.split("_")
    for cut in range(1, len(words) + 1):
        lead = tuple(names.key("_".join(words[:cut])))
        for table in tables.values():
            if tuple(names.key(table.name)) != lead:
                continue
            columns = table.column_types()
            if "_".join(words[cut:]) in columns or "_".join(words[cut - 1 :]) in columns:
                return True
    return False


def _view(component: Component) -> str | None:
    """The view suffix of a table-backed DTO ("" for the entity itself), None for other components."""
    suffix = component.name.split(".")[-1] if "." in component.name else ""
    if component.name.startswith(("IPageI", "IPage.")):
        return None  # pages wrap entities
    return suffix if suffix in REQUEST_VIEWS | RESPONSE_VIEWS else None


def _check_component(
    component: Component, view: str, table: Table, tables: dict[str, Table], checks: Checklist
) -> None:
    types = table.column_types()
    for prop, schema in component.schema.properties.items():
        kind = _scalar_kind(schema)
        if kind is None:
            continue  # nested objects and lists are relations, not columns
        column = names.snake(prop)
        if column in types:
            ok = kind in _COMPATIBLE[types[column]] or (kind[0] == "string" and types[column] == "string")
            checks.check(
                ok, f"{component.name}.{prop} is {kind[0]} but {table.name}.{column} is {types[column]}"
            )
            continue
        excused = (
            (view in REQUEST_VIEWS | {"IAuthorized"} and SECRET.search(prop) is not None)
            or (view in REQUEST_VIEWS and _key_of_other_table(column, tables))
            or (view in RESPONSE_VIEWS and bool(set(names.words(prop)) & AGGREGATES))
        )
        checks.check(excused, f"{component.name}.{prop} is no column of {table.name}")
    if view == "":  # the main DTO of the table shows its columns (a soft-delete mark has nothing to show)
        exposed = {names.snake(p) for p in component.schema.properties}
        for column in types:
            if not SECRET.search(column) and not column.endswith("deleted_at"):
                checks.check(column in exposed, f"{component.name} does not expose {table.name}.{column}")


def dto_columns(doc: InterfaceDocument, tables: Sequence[Table], capabilities: Sequence[str]) -> Result:
    by_name = {t.name: t for t in tables}
    parts: dict[str, Checklist] = {}
    for component in doc.components:
        view = _view(component)
        if view is None:
            continue
        table_name = names.best_match(names.key(names.dto_base(component.name)), by_name)
        if table_name is None:
            continue
        checks = parts.setdefault(table_name, Checklist("DTO fields"))
        _check_component(component, view, by_name[table_name], by_name, checks)
    wanted: set[str] = set()
    missing = []
    for obj in required_objects(capabilities):
        table = entity_match(obj, list(by_name))[0]
        wanted.add(table or obj)
        if table is None or table not in parts:
            missing.append(obj)
    required = [c for t, c in parts.items() if t in wanted or not capabilities]
    extra = [c for t, c in parts.items() if t not in wanted and capabilities]
    return over_required(required, missing, "tables' DTOs", extra)
