"""Interface phase rules: unique component names, unique (method, path), path parameters matching the
`{name}` segments, every type name and `$ref` resolving, required properties existing, nesting depth."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from runner.schemas.checks import duplicates, suggest
from runner.schemas.context import ValidationContext
from runner.schemas.feedback import PlacedError, Segment, placed
from runner.schemas.interface import (
    ArraySchema,
    Component,
    IntegerSchema,
    InterfaceDocument,
    NumberSchema,
    OneOfSchema,
    Operation,
    ReferenceSchema,
    StringSchema,
)

_PARAM = re.compile(r"\{([^}]*)\}")


def check_interface(doc: InterfaceDocument, data: Any, context: ValidationContext) -> list[PlacedError]:
    known = context.component_names | {c.name for c in doc.components}
    errors = duplicates(data, ("components",), doc.components, lambda c: c.name, "name", "component name")
    errors += duplicates(
        data, ("operations",), doc.operations, lambda o: (o.method, o.path), "method", "(method, path) pair"
    )
    errors += duplicates(
        data, ("operations",), doc.operations, lambda o: (o.path, o.name), "name", "name per path"
    )
    for i, op in enumerate(doc.operations):
        errors += check_operation(op, data, ("operations", i), known, context)
    for i, component in enumerate(doc.components):
        errors += check_component(component, data, ("components", i), known)
    return errors


def check_operation(
    op: Operation,
    data: Any,
    segs: Sequence[Segment],
    known: set[str] | frozenset[str],
    context: ValidationContext,
) -> list[PlacedError]:
    errors: list[PlacedError] = []
    in_path = _PARAM.findall(op.path)
    declared = [p.name for p in op.path_parameters]
    if declared != in_path:
        errors.append(
            placed(
                data,
                (*segs, "pathParameters"),
                "path_parameters",
                f"one parameter per path segment, in order: {in_path}",
                f"The path {op.path!r} has {in_path}; declare exactly those names (you declared {declared}).",
            )
        )
    for field, type_name in (("requestBody", op.request_body), ("responseBody", op.response_body)):
        if type_name is not None and type_name not in known:
            errors.append(
                placed(
                    data,
                    (*segs, field),
                    "unknown_reference",
                    f"a component name ({suggest(type_name, known)})",
                    "Use the name of a component, or add a component with this name.",
                )
            )
    if op.method == "get" and op.request_body is not None:
        errors.append(
            placed(
                data,
                (*segs, "requestBody"),
                "get_with_body",
                "null for a get operation",
                "A get has no body: set requestBody to null, or use patch for a search with a body.",
            )
        )
    actors = context.actor_names
    if actors and op.authorization_actor is not None and op.authorization_actor not in actors:
        errors.append(
            placed(
                data,
                (*segs, "authorizationActor"),
                "unknown_reference",
                f"an actor ({', '.join(sorted(actors))}) or null",
                "Use an actor from the requirements analysis, or null for a public operation.",
            )
        )
    return errors


def check_component(
    component: Component, data: Any, segs: Sequence[Segment], known: set[str] | frozenset[str]
) -> list[PlacedError]:
    schema = component.schema
    errors = duplicates(
        data, (*segs, "schema", "required"), schema.required, lambda r: r, None, "required name"
    )
    for r, name in enumerate(schema.required):
        if name not in schema.properties:
            errors.append(
                placed(
                    data,
                    (*segs, "schema", "required", r),
                    "unknown_property",
                    f"a property of {component.name} ({suggest(name, schema.properties)})",
                    "List only property names that exist in `properties`.",
                )
            )
    for name, prop in schema.properties.items():
        errors += _check_schema(prop, data, (*segs, "schema", "properties", name), known, 1)
    return errors


def _check_schema(
    node: Any, data: Any, segs: tuple[Segment, ...], known: set[str] | frozenset[str], depth: int
) -> list[PlacedError]:
    limit = InterfaceDocument.MAX_SCHEMA_DEPTH
    if depth > limit:
        return [
            placed(
                data,
                segs,
                "too_deep",
                f"schemas nested at most {limit} levels",
                "Flatten it: move the inner part into its own component and use a $ref.",
            )
        ]
    if isinstance(node, ReferenceSchema) and node.component_name not in known:
        return [
            placed(
                data,
                (*segs, "$ref"),
                "unknown_reference",
                f"#/components/schemas/ + a component name ({suggest(node.component_name, known)})",
                "Reference an existing component, or add one with this name.",
            )
        ]
    if isinstance(node, ArraySchema):
        return _check_schema(node.items, data, (*segs, "items"), known, depth + 1)
    if isinstance(node, OneOfSchema):
        errors: list[PlacedError] = []
        for v, variant in enumerate(node.one_of):
            errors += _check_schema(variant, data, (*segs, "oneOf", v), known, depth + 1)
        return errors
    if isinstance(node, IntegerSchema | NumberSchema) and _reversed(node.minimum, node.maximum):
        return [placed(data, (*segs, "maximum"), "bounds", "maximum >= minimum", "Swap or fix the bounds.")]
    if isinstance(node, StringSchema) and _reversed(node.min_length, node.max_length):
        return [
            placed(data, (*segs, "maxLength"), "bounds", "maxLength >= minLength", "Swap or fix the bounds.")
        ]
    return []


def _reversed(low: float | None, high: float | None) -> bool:
    return low is not None and high is not None and low > high
