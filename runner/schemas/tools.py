"""The tool (function) each phase or part is called through: name, description, parameter schema.

The schema is pydantic's `model_json_schema(by_alias=True)` made compact for small contexts: no
per-field titles, and every repeated union (the 36-way Expression, Statement, JsonSchema) hoisted into
one named `$defs` entry as `anyOf` instead of being inlined at each use as `oneOf` (which made the test
schema ~120 kB). `propertyNames` is dropped (grammar engines lack it; the models still check names)."""

from __future__ import annotations

from typing import Any, get_args

from pydantic.json_schema import GenerateJsonSchema

from runner.schemas import interface, realize, realize_expressions, testlogic
from runner.schemas.validate import model_for

DESCRIPTIONS = {
    "analyze": "Write the requirements analysis: actors, entities, features (id, actor) and business rules.",
    "database": "Write the database schema: files of tables with a uuid primary key, foreign keys to other "
    "tables, typed columns and indexes.",
    "interface": "Write the API: operations (path, method, path parameters, body and response type names) and "
    "the named object types (components) they use.",
    "test": "Write end-to-end tests: functions whose statements call API operations and assert on the results.",
    "database.file": "Write one schema file: a namespace and its tables.",
    "database.table": "Write one table.",
    "interface.operation": "Write one API operation and the new components it needs.",
    "test.function": "Write one end-to-end test function.",
    "realize.operation": "Write the logic of one API operation: steps over the database tables, checks that "
    "end in HTTP errors, and the response built from rows.",
}


def _union_refs(union: Any) -> frozenset[str]:
    members = get_args(get_args(union)[0])
    classes = [get_args(m)[0] if get_args(m) else m for m in members]
    return frozenset(f"#/$defs/{cls.__name__}" for cls in classes)


UNION_NAMES: dict[frozenset[str], str] = {
    _union_refs(testlogic.Expression): "Expression",
    _union_refs(testlogic.Statement): "Statement",
    _union_refs(interface.JsonSchema): "JsonSchema",
    _union_refs(interface.OneOfVariant): "OneOfVariant",
    frozenset({"#/$defs/UuidParameterSchema", "#/$defs/IntegerSchema"}): "PathParameterSchema",
    _union_refs(realize_expressions.RealizeExpression): "RealizeExpression",
    _union_refs(realize.RealizeStep): "RealizeStep",
}


class _NoFieldTitles(GenerateJsonSchema):
    def field_title_should_be_set(self, schema: Any) -> bool:
        return False


def tool_name(name: str) -> str:
    """The tool name: `database` -> `write_database`, `database.file` -> `write_database_file`."""
    model_for(name)
    return "write_" + name.replace(".", "_")


def tool_description(name: str) -> str:
    model_for(name)
    return DESCRIPTIONS[name]


def tool_schema(name: str) -> dict[str, Any]:
    """JSON Schema of the tool arguments of a phase or part (camelCase keys, compact)."""
    schema = model_for(name).model_json_schema(by_alias=True, schema_generator=_NoFieldTitles)
    defs: dict[str, Any] = schema.get("$defs", {})
    for entry in defs.values():
        entry.pop("title", None)
    hoisted: dict[str, Any] = {}
    schema = _hoist(schema, hoisted)
    if hoisted or defs:
        schema["$defs"] = {**schema.get("$defs", {}), **hoisted}
    return schema


def _hoist(node: Any, hoisted: dict[str, Any]) -> Any:
    if isinstance(node, list):
        return [_hoist(item, hoisted) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _hoist(value, hoisted) for key, value in node.items()}
    if isinstance(out.get("propertyNames"), dict) and out.get("type") == "object":
        # grammar engines do not implement propertyNames; the pydantic model still checks the names
        out.pop("propertyNames")
    variants = out.get("oneOf")
    if isinstance(variants, list) and variants and all(set(v) == {"$ref"} for v in variants):
        refs = frozenset(v["$ref"] for v in variants)
        name = UNION_NAMES.get(refs) or f"Union{len(hoisted) + 1}"
        # the variants are disjoint (distinct `kind`/`type` consts, no extra keys), so anyOf means the
        # same as oneOf and grammar engines implement it exactly
        hoisted.setdefault(name, {"anyOf": variants})
        out.pop("oneOf")
        out.pop("discriminator", None)
        out["$ref"] = f"#/$defs/{name}"
    return out


def recursion_limits(name: str) -> dict[str, int]:
    """How deep each recursive `$defs` union of the tool schema may nest, for a grammar that unrolls
    recursion: `{"Expression": 10, "Statement": 3}` for the test phase (Statement counts nested blocks),
    `{"JsonSchema": 4, "OneOfVariant": 4}` for the interface. Empty when the schema is not recursive."""
    defs = tool_schema(name).get("$defs", {})
    limits = {
        "Expression": testlogic.TestDocument.MAX_EXPRESSION_DEPTH,
        "Statement": testlogic.TestDocument.MAX_BLOCK_DEPTH + 1,
        "JsonSchema": interface.InterfaceDocument.MAX_SCHEMA_DEPTH,
        "OneOfVariant": interface.InterfaceDocument.MAX_SCHEMA_DEPTH,
        "RealizeExpression": realize.RealizeOperation.MAX_EXPRESSION_DEPTH,
    }
    return {key: value for key, value in limits.items() if key in defs}
