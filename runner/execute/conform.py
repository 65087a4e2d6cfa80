"""Does a JSON value match a schema of the interface AST? Used for request bodies (a mismatch answers
400, as a typed backend framework would) and for responses (a mismatch is the operation's bug: 500).

Objects are the named components: every required property present, every present property valid; a
response may not carry a property its component does not declare (`strict`), a request may. A
property that is null but neither required nor nullable is dropped from a response first, as
JavaScript drops `undefined` when it serialises (`prune`)."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Any

from runner.schemas.interface import (
    ArraySchema,
    BooleanSchema,
    ConstSchema,
    IntegerSchema,
    InterfaceDocument,
    NullSchema,
    NumberSchema,
    OneOfSchema,
    ReferenceSchema,
    StringSchema,
)

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _format_ok(value: str, fmt: str | None) -> bool:
    try:
        if fmt == "uuid":
            uuid.UUID(value)
        elif fmt == "date-time":
            datetime.fromisoformat(value.replace("Z", "+00:00"))
        elif fmt == "email":
            return bool(_EMAIL.match(value))
    except ValueError:
        return False
    return True


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


class Conformer:
    def __init__(self, interface: InterfaceDocument) -> None:
        self.components = {c.name: c for c in interface.components}

    def component(self, value: Any, name: str, path: str = "$", strict: bool = False) -> str | None:
        """The first mismatch as `path: problem`, or None when `value` is a valid `name`."""
        component = self.components.get(name)
        if component is None:
            return f"{path}: unknown component {name}"
        if not isinstance(value, dict):
            return f"{path}: expected an object ({name}), got {_show(value)}"
        props = component.schema.properties
        for key in component.schema.required:
            if key not in value:
                return f"{path}.{key}: required property of {name} is missing"
        for key, item in value.items():
            if key not in props:
                if strict:
                    return f"{path}.{key}: {name} has no property {key}"
                continue
            problem = self.check(item, props[key], f"{path}.{key}", strict)
            if problem:
                return problem
        return None

    def check(self, value: Any, schema: Any, path: str, strict: bool = False) -> str | None:
        if isinstance(schema, ReferenceSchema):
            return self.component(value, schema.component_name, path, strict)
        if isinstance(schema, OneOfSchema):
            problems = [self.check(value, v, path, strict) for v in schema.one_of]
            return None if None in problems else problems[-1]
        if isinstance(schema, ArraySchema):
            if not isinstance(value, list):
                return f"{path}: expected an array, got {_show(value)}"
            for i, item in enumerate(value):
                problem = self.check(item, schema.items, f"{path}[{i}]", strict)
                if problem:
                    return problem
            return None
        return _scalar(value, schema, path)

    def prune(self, value: Any, name: str) -> Any:
        """A response with null optional properties (not nullable) removed, recursively."""
        component = self.components.get(name)
        if component is None or not isinstance(value, dict):
            return value
        props, required = component.schema.properties, set(component.schema.required)
        out = {}
        for key, item in value.items():
            schema = props.get(key)
            if item is None and key not in required and schema is not None and not _nullable(schema):
                continue
            out[key] = self._prune_schema(item, schema)
        return out

    def _prune_schema(self, value: Any, schema: Any) -> Any:
        if isinstance(schema, ReferenceSchema):
            return self.prune(value, schema.component_name)
        if isinstance(schema, ArraySchema) and isinstance(value, list):
            return [self._prune_schema(v, schema.items) for v in value]
        if isinstance(schema, OneOfSchema) and value is not None:
            refs = [v for v in schema.one_of if isinstance(v, ReferenceSchema)]
            return self.prune(value, refs[0].component_name) if len(refs) == 1 else value
        return value


def _nullable(schema: Any) -> bool:
    if isinstance(schema, NullSchema):
        return True
    return isinstance(schema, OneOfSchema) and any(isinstance(v, NullSchema) for v in schema.one_of)


def _scalar(value: Any, schema: Any, path: str) -> str | None:
    if isinstance(schema, ConstSchema):
        ok = value == schema.const and isinstance(value, bool) == isinstance(schema.const, bool)
        return None if ok else f"{path}: expected {schema.const!r}, got {_show(value)}"
    if isinstance(schema, NullSchema):
        return None if value is None else f"{path}: expected null, got {_show(value)}"
    if isinstance(schema, BooleanSchema):
        return None if isinstance(value, bool) else f"{path}: expected true or false, got {_show(value)}"
    if isinstance(schema, IntegerSchema | NumberSchema):
        whole = isinstance(schema, IntegerSchema)
        if not _number(value) or (whole and not float(value).is_integer()):
            return f"{path}: expected {'an integer' if whole else 'a number'}, got {_show(value)}"
        if schema.minimum is not None and value < schema.minimum:
            return f"{path}: {value} is below the minimum {schema.minimum}"
        if schema.maximum is not None and value > schema.maximum:
            return f"{path}: {value} is above the maximum {schema.maximum}"
        return None
    if isinstance(schema, StringSchema):
        if not isinstance(value, str):
            return f"{path}: expected a string, got {_show(value)}"
        if schema.min_length is not None and len(value) < schema.min_length:
            return f"{path}: shorter than {schema.min_length} characters"
        if schema.max_length is not None and len(value) > schema.max_length:
            return f"{path}: longer than {schema.max_length} characters"
        if not _format_ok(value, schema.format):
            return f"{path}: {_show(value)} is not a valid {schema.format}"
    return None


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:59] + "…"
