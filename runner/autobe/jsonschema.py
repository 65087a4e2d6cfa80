"""AutoBe's JSON-schema dialect -> lapbench's `JsonSchema` union (as JSON data, validated later).

Mapped one to one: const, boolean, integer, number, string, array, `$ref`, oneOf, null. Adapted, with a
note each: inline objects are hoisted into components named `<Parent>.I<Property>` (lapbench keeps objects
as named components); references to non-object components (enums, arrays) are inlined; nested oneOf is
flattened; oneOf variants that only say `required` (an "exactly one of" rule) are dropped; enums longer
than lapbench's oneOf cap become their base type; keywords lapbench does not model (pattern, examples,
int32 formats, ...) are dropped and counted.
"""

from __future__ import annotations

import re
from typing import Any

from runner.autobe.notes import ImportNotes
from runner.schemas.interface import MAX_ONE_OF, REF_PREFIX, StringFormat

STRING_FORMATS: frozenset[str] = frozenset(StringFormat.__args__)  # type: ignore[attr-defined]
_KEPT = {
    "integer": ("minimum", "maximum"),
    "number": ("minimum", "maximum"),
    "string": ("minLength", "maxLength"),
    "boolean": (),
    "null": (),
}
_IGNORED = {"description", "type", "x-autobe-prisma-schema", "required", "properties", "items", "format"}


def pascal(name: str) -> str:
    return "".join(w[:1].upper() + w[1:] for w in re.split(r"[^A-Za-z0-9]+", name) if w) or "Value"


class SchemaConverter:
    """Converts property schemas of one document; hoisted objects land in `extra_components`."""

    def __init__(self, schemas: dict[str, Any], inline: set[str], notes: ImportNotes) -> None:
        self.schemas = schemas
        self.inline = inline  # names of non-object components, inlined where referenced
        self.notes = notes
        self.extra_components: dict[str, dict[str, Any]] = {}

    def object_schema(self, name: str, schema: dict[str, Any]) -> dict[str, Any]:
        """The lapbench ObjectSchema of an AutoBe object schema named `name`."""
        properties: dict[str, Any] = {}
        for prop, sub in (schema.get("properties") or {}).items():
            if prop.startswith("x-") or not isinstance(sub, dict):
                self.notes.note("misplaced keys inside `properties` dropped")
                continue
            properties[prop] = self.convert(sub, f"{name}.I{pascal(prop)}")
        required = [r for r in schema.get("required") or [] if r in properties or not str(r).startswith("x-")]
        return {
            "type": "object",
            "properties": properties,
            "required": required,
            "description": self.notes.text(schema.get("description"), "schema"),
        }

    def convert(self, schema: Any, hoist_name: str, depth: int = 0) -> dict[str, Any]:
        if not isinstance(schema, dict):
            self.notes.note("non-object schema nodes read as null")
            return {"type": "null"}
        description = self.notes.text(schema.get("description"), "schema")
        if "$ref" in schema:
            return self._reference(schema, description, hoist_name, depth)
        if "oneOf" in schema:
            return self._one_of(schema, description, hoist_name, depth)
        if "const" in schema:
            return {"const": schema["const"], "description": description}
        type_ = schema.get("type")
        if isinstance(type_, list):
            self.notes.note("type lists mapped to oneOf")
            variants = [{**schema, "type": t} for t in type_]
            return self._one_of({"oneOf": variants}, description, hoist_name, depth)
        if type_ == "object" or (type_ is None and "properties" in schema):
            return self._hoist(schema, description, hoist_name)
        if type_ == "array":
            self._drop_extra(schema, ("items",))
            items = self.convert(schema.get("items", {}), hoist_name + "Item", depth + 1)
            return {"type": "array", "items": items, "description": description}
        if type_ not in _KEPT:
            self.notes.note("schemas without a known type read as string")
            type_ = "string"
        out: dict[str, Any] = {"type": type_, "description": description}
        for key in _KEPT[type_]:
            if isinstance(schema.get(key), int | float) and not isinstance(schema.get(key), bool):
                out[key] = int(schema[key]) if type_ != "number" else schema[key]
        fmt = schema.get("format")
        if type_ == "string" and fmt in STRING_FORMATS:
            out["format"] = fmt
        elif fmt is not None:
            self.notes.note(f"format {fmt} dropped ({type_})")
        self._drop_extra(schema, _KEPT[type_])
        return out

    def _drop_extra(self, schema: dict[str, Any], kept: tuple[str, ...]) -> None:
        for key in schema:
            if key not in _IGNORED and key not in kept:
                self.notes.note(f"keyword {key} dropped")

    def _reference(
        self, schema: dict[str, Any], description: str, hoist_name: str, depth: int
    ) -> dict[str, Any]:
        name = str(schema["$ref"]).removeprefix(REF_PREFIX)
        if name in self.inline and name in self.schemas and depth < 4:
            self.notes.note("references to non-object components inlined")
            inlined = self.convert(self.schemas[name], hoist_name, depth + 1)
            return {**inlined, "description": description or inlined.get("description", "")}
        return {"$ref": REF_PREFIX + name, "description": description}

    def _one_of(
        self, schema: dict[str, Any], description: str, hoist_name: str, depth: int
    ) -> dict[str, Any]:
        raw: list[Any] = []
        for variant in schema["oneOf"]:
            if isinstance(variant, dict) and "oneOf" in variant:
                self.notes.note("nested oneOf flattened")
                raw.extend(variant["oneOf"])
            else:
                raw.append(variant)
        kept = [v for v in raw if not (isinstance(v, dict) and set(v) <= {"required", "description"})]
        if len(kept) < len(raw):
            self.notes.note("oneOf variants that only list `required` dropped")
        variants = [self.convert(v, f"{hoist_name}{i}", depth + 1) for i, v in enumerate(kept)]
        flat: list[dict[str, Any]] = []
        for v in variants:  # an inlined enum may itself be a oneOf
            flat.extend(v.get("oneOf", [v]))
        if not flat:
            return {"type": "null", "description": description}
        if len(flat) == 1:
            return {**flat[0], "description": description or flat[0].get("description", "")}
        if len(flat) > MAX_ONE_OF:
            return self._collapse(flat, description)
        return {"oneOf": flat, "description": description}

    def _collapse(self, variants: list[dict[str, Any]], description: str) -> dict[str, Any]:
        """An enum longer than lapbench's oneOf cap becomes its base type (plus null when nullable)."""
        self.notes.note(f"oneOf with more than {MAX_ONE_OF} variants collapsed to its base type")
        nullable = any(v.get("type") == "null" for v in variants)
        consts = [v["const"] for v in variants if "const" in v]
        if consts and all(isinstance(c, str) for c in consts):
            base: dict[str, Any] = {"type": "string"}
        elif consts and all(isinstance(c, int) for c in consts):
            base = {"type": "integer"}
        else:
            base = next((v for v in variants if v.get("type") != "null"), {"type": "string"})
        if nullable:
            return {"oneOf": [base, {"type": "null"}], "description": description}
        return {**base, "description": description}

    def _hoist(self, schema: dict[str, Any], description: str, name: str) -> dict[str, Any]:
        unique = name
        n = 2
        while unique in self.extra_components or unique in self.schemas:
            unique, n = f"{name}{n}", n + 1
        self.notes.note("inline objects hoisted into components")
        self.extra_components[unique] = {
            "name": unique,
            "description": description,
            "schema": self.object_schema(unique, schema),
        }
        return {"$ref": REF_PREFIX + unique, "description": description}
