"""A TypeScript-like digest of a tool schema: the same types and field descriptions in a fraction of
the tokens (the test-phase JSON Schema is ~5k tokens, too much for an 8k-context model; its digest is
about a third of that). For the prompt; the JSON Schema stays what the grammar enforces."""

from __future__ import annotations

import json
from typing import Any

from runner.schemas.tools import tool_schema


def _type(node: dict[str, Any]) -> str:
    if "$ref" in node:
        return str(node["$ref"]).rsplit("/", 1)[-1]
    if "const" in node:
        return json.dumps(node["const"])
    if "enum" in node:
        return " | ".join(json.dumps(v) for v in node["enum"])
    for key in ("anyOf", "oneOf"):
        if key in node:
            return " | ".join(_type(v) for v in node[key])
    kind = node.get("type")
    if kind == "array":
        inner = _type(node.get("items", {}))
        return f"({inner})[]" if " | " in inner else f"{inner}[]"
    if kind == "object" and isinstance(node.get("additionalProperties"), dict):
        return f"Record<string, {_type(node['additionalProperties'])}>"
    if isinstance(kind, str):
        return kind
    return "any"


def _constraints(node: dict[str, Any]) -> str:
    parts = []
    # patterns are left out: the descriptions say them in words and the grammar enforces them
    for key, label in (
        ("minItems", "min"),
        ("maxItems", "max"),
        ("minimum", ">="),
        ("maximum", "<="),
    ):
        if key in node:
            parts.append(f"{label} {node[key]}")
    return f" [{', '.join(parts)}]" if parts else ""


def _interface(name: str, node: dict[str, Any], descriptions: bool) -> list[str]:
    head = f"// {node['description']}\n" if descriptions and node.get("description") else ""
    if "properties" not in node:
        return [f"{head}type {name} = {_type(node)};"]
    required = set(node.get("required", []))
    lines = [f"{head}interface {name} {{"]
    for key, sub in node["properties"].items():
        optional = "" if key in required else "?"
        comment = ""
        if descriptions:
            said = sub.get("description") or ""
            text = ("" if said == "Node kind." else said) + _constraints(sub)
            comment = f" // {text}" if text else ""
        lines.append(f"  {key}{optional}: {_type(sub)};{comment}")
    lines.append("}")
    return lines


def schema_digest(name: str, descriptions: bool = True) -> str:
    """The tool arguments of phase or part `name` as TypeScript-like declarations, root type first."""
    schema = tool_schema(name)
    defs = schema.get("$defs", {})
    root = str(schema.get("title", "Arguments"))
    lines = _interface(root, schema, descriptions)
    for def_name, node in defs.items():
        lines += _interface(def_name, node, descriptions)
    return "\n".join(lines)
