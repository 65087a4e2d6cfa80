"""AutoBe `document.json` (AutoBeOpenApi.IDocument) -> lapbench `InterfaceDocument`.

AutoBe: operations[{path, method, name, description, summary, specification, parameters[{name, in?,
schema, description}], requestBody{typeName}, responseBody{typeName}, authorizationRole(s),
authorizationType, prerequisites}], components{schemas{Name: schema}, authorization[...]}.

Operations map field by field (description falls back to summary; query parameters, prerequisites,
authorization types and the long `specification` texts are dropped with notes). Object components map
to components; non-object components (enums, arrays, unions) are inlined where referenced, and those
used as a request or response body become an object wrapping them as `value` — except a "oneOf of
`required` lists" body, which has no properties at all and becomes an empty object. Every item is
validated on its own so that AutoBe documents beyond lapbench's generation caps (141 operations) still
import; an item that does not validate is an import error and fails the gate.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import ValidationError

from runner.autobe.jsonschema import SchemaConverter
from runner.autobe.notes import ImportNotes, ImportResult
from runner.schemas.interface import MAX_COMPONENTS, MAX_OPERATIONS, Component, InterfaceDocument, Operation

_PARAM = re.compile(r"\{([^}]*)\}")


def _is_object(schema: Any) -> bool:
    return isinstance(schema, dict) and (
        schema.get("type") == "object" or ("properties" in schema and "type" not in schema)
    )


def import_document(data: Any) -> ImportResult[InterfaceDocument]:
    notes = ImportNotes()
    if not isinstance(data, dict) or not isinstance(data.get("operations"), list):
        return ImportResult(None, [], ["not an AutoBeOpenApi.IDocument: no `operations` list"])
    schemas: dict[str, Any] = (data.get("components") or {}).get("schemas") or {}
    bodies = {
        body["typeName"]
        for op in data["operations"]
        for body in (op.get("requestBody"), op.get("responseBody"))
        if isinstance(body, dict) and body.get("typeName")
    }
    non_objects = {name for name, schema in schemas.items() if not _is_object(schema)}
    converter = SchemaConverter(schemas, non_objects, notes)
    raw_components = []
    for name, schema in schemas.items():
        if name not in non_objects:
            raw_components.append(_component(name, schema, converter.object_schema(name, schema), notes))
        elif name in bodies:
            raw_components.append(
                _component(name, schema, _body_wrapper(name, schema, converter, notes), notes)
            )
    raw_components += list(converter.extra_components.values())
    components = _validated(Component, raw_components, "component", notes)
    operations = _validated(
        Operation, [_operation(op, notes) for op in data["operations"]], "operation", notes
    )
    if len(operations) > MAX_OPERATIONS or len(components) > MAX_COMPONENTS:
        notes.note(f"larger than lapbench's caps ({MAX_OPERATIONS} operations, {MAX_COMPONENTS} components)")
    if not operations:
        return ImportResult(None, notes.lines(), notes.errors or ["no operations"])
    document = InterfaceDocument.model_construct(operations=operations, components=components)
    return ImportResult(document, notes.lines(), notes.errors)


def _validated(model: Any, items: list[dict[str, Any]], what: str, notes: ImportNotes) -> list[Any]:
    out = []
    for i, item in enumerate(items):
        try:
            out.append(model.model_validate(item))
        except ValidationError as exc:
            notes.error(
                f"{what} {item.get('name') or i} ({item.get('method', '')} {item.get('path', '')})".strip(),
                exc,
            )
    return out


def _component(name: str, schema: dict[str, Any], body: dict[str, Any], notes: ImportNotes) -> dict[str, Any]:
    description = notes.text(schema.get("description"), "component") if isinstance(schema, dict) else ""
    return {
        "name": name,
        "description": description,
        "schema": {**body, "description": body.get("description") or description},
    }


def _body_wrapper(name: str, schema: Any, converter: SchemaConverter, notes: ImportNotes) -> dict[str, Any]:
    variants = schema.get("oneOf") if isinstance(schema, dict) else None
    if isinstance(variants, list) and all(
        isinstance(v, dict) and set(v) <= {"required", "description"} for v in variants
    ):
        notes.note("bodies that are only a oneOf of `required` lists read as empty objects")
        return {"type": "object", "properties": {}, "required": [], "description": ""}
    notes.note("non-object body types wrapped as an object with one `value` property")
    value = converter.convert(schema, f"{name}.IValue")
    return {"type": "object", "properties": {"value": value}, "required": ["value"], "description": ""}


def _operation(op: dict[str, Any], notes: ImportNotes) -> dict[str, Any]:
    path = str(op.get("path", ""))
    in_path = _PARAM.findall(path)
    params = {}
    for param in op.get("parameters") or []:
        if param.get("in") not in (None, "path") or param.get("name") not in in_path:
            notes.note("query and header parameters dropped")
            continue
        params[param["name"]] = {
            "name": param["name"],
            "description": notes.text(param.get("description"), "parameter"),
            "schema": _param_schema(param.get("schema") or {}, notes),
        }
    ordered = [params[name] for name in in_path if name in params]
    for key in ("specification", "prerequisites", "authorizationType"):
        if op.get(key):
            notes.note(f"operation {key} dropped")
    roles = op.get("authorizationRoles") or []
    actor = op.get("authorizationRole") or (roles[0] if roles else None)
    return {
        "path": path,
        "method": op.get("method"),
        "name": op.get("name"),
        "description": notes.text(op.get("description") or op.get("summary"), "operation"),
        "pathParameters": ordered,
        "requestBody": (op.get("requestBody") or {}).get("typeName"),
        "responseBody": (op.get("responseBody") or {}).get("typeName"),
        "authorizationActor": actor,
    }


def _param_schema(schema: dict[str, Any], notes: ImportNotes) -> dict[str, Any]:
    if schema.get("type") == "integer":
        return {"type": "integer"}
    if schema.get("format") != "uuid":
        notes.note("non-uuid string path parameters read as uuid")
    return {"type": "string", "format": "uuid"}
