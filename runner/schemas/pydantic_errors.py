"""Pydantic `ValidationError` -> `PlacedError`, in the same format as the semantic errors.

Pydantic's `loc` mixes JSON keys, list indices and union tags (`("statements", 0, "binary", "left")`); the
tags are dropped by walking the input data alongside, so the path names only what the model wrote."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ValidationError

from runner.schemas.base import CAMEL_CASE, COMPONENT_NAME, IDENTIFIER, SNAKE_CASE
from runner.schemas.feedback import PlacedError, Segment, render_path, step, value_at
from runner.schemas.fieldinfo import allowed_keys, field_at
from runner.schemas.interface import schema_tag

# Patterns explained in words: a small model fixes "use snake_case" better than a regex.
PATTERN_WORDS = {
    SNAKE_CASE: "snake_case (lowercase words joined by underscores)",
    CAMEL_CASE: "camelCase (a lowercase word, then capitalised words, no separators)",
    IDENTIFIER: "an identifier (letters, digits, _ or $, not starting with a digit)",
    COMPONENT_NAME: "PascalCase type name (capitalised words; parts joined by dots)",
}

_TYPE_WORDS = {
    "string_type": "a string",
    "int_type": "an integer",
    "int_from_float": "an integer",
    "int_parsing": "an integer",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "list_type": "an array",
    "dict_type": "an object",
    "model_type": "an object",
    "model_attributes_type": "an object",
    "none_required": "null",
}


def _is_tag(node: Any, seg: int | str) -> bool:
    """Whether `seg` is the discriminator tag pydantic put in `loc` for this union member."""
    return isinstance(node, dict) and isinstance(seg, str) and seg in (node.get("kind"), schema_tag(node))


def place_loc(data: Any, loc: Sequence[int | str], missing: bool = False) -> tuple[tuple[Segment, ...], bool]:
    """Segments of `loc` that exist in `data`, union tags skipped (a tag may equal a key, e.g. the
    statement kind "expression"; pydantic puts the tag first). With `missing`, the last key may be
    absent from an existing object (a required property). Returns the segments and whether they resolved."""
    node: Any = data
    segs: list[Segment] = []
    tag_seen = False  # at most one tag per node
    for i, seg in enumerate(loc):
        if not tag_seen and _is_tag(node, seg):
            tag_seen = True
            continue
        found, child = step(node, seg)
        if found:
            node, tag_seen = child, False
            segs.append(seg)
        elif missing and isinstance(seg, str) and isinstance(node, dict) and i == len(loc) - 1:
            segs.append(seg)
            node = None
        elif isinstance(seg, str):
            continue  # a smart-union tag such as "str" or "list[...]"
        else:
            return tuple(segs), False
    return tuple(segs), True


def _expected_and_fix(err: Any, key: Segment | None, model: type[BaseModel] | None) -> tuple[str, str]:
    kind: str = err["type"]
    ctx: dict[str, Any] = err.get("ctx") or {}
    if kind == "missing":
        info = field_at(model, err["loc"]) if model else None
        hint = f" ({info.description.rstrip('.')})" if info and info.description else ""
        return "a required property", f"Add the property {json_key(key)}{hint}."
    if kind == "extra_forbidden":
        keys = allowed_keys(model, err["loc"][:-1]) if model else None
        known = f" Allowed here: {', '.join(keys)}." if keys else ""
        return "no such property", f"Remove {json_key(key)}; it is not part of the schema.{known}"
    if kind == "literal_error":
        return f"one of {ctx.get('expected')}", f"{json.dumps(err.get('input'))} is not allowed here."
    if kind == "union_tag_invalid" and ctx.get("discriminator") == "schema_tag()":
        tag = ctx.get("tag")
        expected = "a schema: type boolean, integer, number, string, array or null; or $ref, oneOf, const"
        if tag == "object":
            return (
                expected,
                'Objects are only named components: add a component and use {"$ref": "#/components/schemas/Name"}.',
            )
        return expected, f"{tag!r} is not a schema type."
    if kind == "union_tag_invalid":
        tag, tags = ctx.get("tag"), ctx.get("expected_tags")
        return f"a node kind among {tags}", f"{tag!r} is not a known kind; pick one of {tags}."
    if kind == "union_tag_not_found":
        which = "kind" if ctx.get("discriminator") == "'kind'" else "type, $ref, oneOf or const"
        return f"an object with {which}", f"Write an object that has {which}."
    if kind == "string_pattern_mismatch":
        pattern = str(ctx.get("pattern"))
        words = PATTERN_WORDS.get(pattern, f"text matching {pattern}")
        return words, f"Rewrite the value as {words}."
    if kind in ("too_long", "string_too_long", "too_short", "string_too_short"):
        longest = kind.endswith("too_long")
        limit = ctx.get("max_length" if longest else "min_length")
        unit = "character" if kind.startswith("string") else "item"
        units = unit if limit == 1 else unit + "s"
        return (
            f"{'at most' if longest else 'at least'} {limit} {units}",
            "Make it shorter." if longest else "Add more.",
        )
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        bound = next(iter(ctx.values()), None)
        sign = {"greater_than_equal": ">=", "less_than_equal": "<=", "greater_than": ">", "less_than": "<"}[
            kind
        ]
        return f"a number {sign} {bound}", f"Use a number {sign} {bound}."
    if kind in _TYPE_WORDS:
        return _TYPE_WORDS[kind], f"Write {_TYPE_WORDS[kind]} here."
    return str(err["msg"]), str(err["msg"]) + "."


def json_key(key: Segment | None) -> str:
    return f'"{key}"' if isinstance(key, str) else "it"


def from_validation_error(
    exc: ValidationError, data: Any, model: type[BaseModel] | None = None
) -> list[PlacedError]:
    """Every pydantic error as a PlacedError; several type errors at one path (a union) become one.
    With the `model`, a missing property's message repeats its field description."""
    merged: dict[tuple[tuple[Segment, ...], bool], PlacedError] = {}
    for err in exc.errors(include_url=False):
        segs, ok = place_loc(data, err["loc"], missing=err["type"] == "missing")
        key = segs[-1] if segs else None
        expected, fix = _expected_and_fix(err, key, model)
        value = value_at(data, segs) if ok else err.get("input")
        new = PlacedError(render_path(segs), expected, value, fix, err["type"], segs, ok)
        previous = merged.get((segs, ok))
        if previous is None:
            merged[(segs, ok)] = new
        elif expected not in previous.expected:
            merged[(segs, ok)] = PlacedError(
                previous.path,
                f"{previous.expected} or {expected}",
                previous.value,
                previous.message,
                previous.kind,
                segs,
                ok,
            )
    return list(merged.values())
