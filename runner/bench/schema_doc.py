"""A tool's JSON Schema as short TypeScript-like text for the prompt.

Small models read `name: string  // snake_case plural` far better than a JSON Schema, and it costs a
fraction of the tokens. The schema's own descriptions are the documentation (the prompt lives in the
schema); titles and regexes are left out.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

_REF = "#/$defs/"
# Pydantic inlines a recursive union at every use; naming it once keeps the test schema readable.
UNION_NAMES = {"Identifier": "Expression", "ApiCall": "Statement", "ConstSchema": "JsonSchema"}


def _type_text(schema: Mapping[str, Any], aliases: dict[str, str] | None = None) -> str:
    text = _raw_type_text(schema, aliases)
    if aliases is not None and text.count(" | ") >= 4:
        parts = [p for p in text.split(" | ") if p != "null"]
        name = next((UNION_NAMES[p] for p in parts if p in UNION_NAMES), None)
        if name is not None:
            aliases.setdefault(name, " | ".join(parts))
            return name + (" | null" if len(parts) < text.count(" | ") + 1 else "")
    return text


def _raw_type_text(schema: Mapping[str, Any], aliases: dict[str, str] | None) -> str:
    if "$ref" in schema:
        return str(schema["$ref"]).removeprefix(_REF)
    if "const" in schema:
        return json.dumps(schema["const"])
    if "enum" in schema:
        return " | ".join(json.dumps(v) for v in schema["enum"])
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return " | ".join(_type_text(s, aliases) for s in schema[key])
    kind = schema.get("type")
    if kind == "array":
        inner = _type_text(schema.get("items", {}), aliases)
        return f"({inner})[]" if "|" in inner else f"{inner}[]"
    if kind == "object" and "properties" not in schema:
        values = schema.get("additionalProperties") or next(
            iter(schema.get("patternProperties", {}).values()), None
        )
        return (
            f"{{[name: string]: {_type_text(values, aliases)}}}" if isinstance(values, Mapping) else "object"
        )
    if isinstance(kind, list):
        return " | ".join(str(k) for k in kind)
    if kind == "integer":
        return "integer"
    return str(kind) if kind else "any"


def _object_lines(name: str, schema: Mapping[str, Any], aliases: dict[str, str]) -> list[str]:
    required = set(schema.get("required", ()))
    head = f"{name} {{" + (f"  // {schema['description']}" if schema.get("description") else "")
    lines = [head]
    for prop, sub in schema.get("properties", {}).items():
        optional = "" if prop in required else "?"
        note = "" if prop == "kind" and "const" in sub else sub.get("description", "")
        lines.append(f"  {prop}{optional}: {_type_text(sub, aliases)}" + (f"  // {note}" if note else ""))
    lines.append("}")
    return lines


def describe_schema(schema: Mapping[str, Any], root_name: str = "Arguments") -> str:
    """The root object first, then every definition it uses (objects as blocks, unions as one line)."""
    aliases: dict[str, str] = {}
    if "properties" in schema:
        lines = _object_lines(root_name, schema, aliases)
    else:
        lines = [f"{root_name} = {_type_text(schema, aliases)}"]
    for name, sub in schema.get("$defs", {}).items():
        if "properties" in sub:
            lines += _object_lines(name, sub, aliases)
        else:
            lines.append(f"{name} = {_type_text(sub, aliases)}")
    lines += [f"{name} = {members}" for name, members in aliases.items()]
    return "\n".join(lines)
