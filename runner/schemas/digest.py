"""A tool's JSON Schema as TypeScript declarations: the text the model reads in every prompt of
`lapbench run`, and what `lapbench schema PHASE --digest` prints. Small models read
`name: string; // snake_case plural` far better than a JSON Schema, in less than half the characters
(the test phase: ~8k against ~18k of compact JSON). The schema's own descriptions are the documentation;
titles and regexes are left out (the descriptions say them in words and the grammar enforces them)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from runner.schemas.tools import tool_schema
from runner.schemas.validate import model_for

_DEFS = "#/$defs/"


def _type(node: Mapping[str, Any]) -> str:
    if "$ref" in node:
        return str(node["$ref"]).removeprefix(_DEFS)
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
    if kind == "object" and "properties" not in node:
        # a map: its values are typed by additionalProperties, or by its single name pattern
        values = node.get("additionalProperties")
        if not isinstance(values, Mapping):
            values = next(iter(node.get("patternProperties", {}).values()), None)
        return f"Record<string, {_type(values)}>" if isinstance(values, Mapping) else "object"
    if isinstance(kind, list):
        return " | ".join(str(k) for k in kind)
    return str(kind) if kind else "any"


def _constraints(node: Mapping[str, Any]) -> str:
    labels = (("minItems", "min"), ("maxItems", "max"), ("minimum", ">="), ("maximum", "<="))
    parts = [f"{label} {node[key]}" for key, label in labels if key in node]
    return f" [{', '.join(parts)}]" if parts else ""


def _declaration(name: str, node: Mapping[str, Any], descriptions: bool) -> list[str]:
    head = [f"// {node['description']}"] if descriptions and node.get("description") else []
    if "properties" not in node:
        return [*head, f"type {name} = {_type(node)};"]
    required = set(node.get("required", ()))
    lines = [*head, f"interface {name} {{"]
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


def describe_schema(schema: Mapping[str, Any], root: str | None = None, descriptions: bool = True) -> str:
    """The root type first (named `root`, else the schema's title), then every `$defs` entry: objects as
    `interface`, unions as `type`. Field descriptions and list/number bounds become `//` comments."""
    lines = _declaration(root or str(schema.get("title", "Arguments")), schema, descriptions)
    for name, node in schema.get("$defs", {}).items():
        lines += _declaration(name, node, descriptions)
    return "\n".join(lines)


def schema_digest(name: str, descriptions: bool = True) -> str:
    """The tool arguments of phase or part `name` as TypeScript declarations, root type first."""
    return describe_schema(tool_schema(name), model_for(name).__name__, descriptions)
