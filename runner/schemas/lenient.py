"""Lenient parsing for free (ungrammared) mode: recover the JSON arguments from what a model wrote.

Repairs, each recorded by name so the harness can count them: a Markdown code fence, chatter before or
after the JSON, trailing commas, a tool-call envelope (`{"name": ..., "arguments": {...}}`), the whole
document double-encoded as a JSON string, and — given the phase — a JSON object or array encoded as a
string inside a field where the schema expects an object or array. Truncated JSON is not completed:
that would accept output the model never finished."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from runner.schemas.context import ValidationContext
from runner.schemas.feedback import ValidationReport, unplaced
from runner.schemas.pydantic_errors import place_loc
from runner.schemas.validate import model_for, validate_document, validate_part

_FENCE = re.compile(r"```[A-Za-z0-9_-]*[ \t]*\n?(.*?)(?:```|\Z)", re.DOTALL)
_OBJECT_ERRORS = {"model_type", "model_attributes_type", "dict_type", "list_type", "union_tag_not_found"}
_MAX_NESTED_FIXES = 64


class LenientParseError(ValueError):
    """No JSON value could be recovered; `excerpt` shows the text around `position`."""

    def __init__(self, message: str, position: int, excerpt: str) -> None:
        super().__init__(message)
        self.position = position
        self.excerpt = excerpt


@dataclass(frozen=True)
class LenientResult:
    data: Any
    repairs: tuple[str, ...]


def parse_lenient(text: str, name: str | None = None) -> LenientResult:
    """The JSON value in `text` and the repairs it needed. With a phase/part `name`, strings holding
    JSON where the schema wants an object are decoded too."""
    repairs: list[str] = []
    body = text.strip()
    fence = _FENCE.search(body)
    if fence:
        body = fence.group(1).strip()
        repairs.append("code_fence")
    try:
        data = json.loads(body)
    except json.JSONDecodeError:
        data = _extract(body, repairs)
    if isinstance(data, str):
        decoded = _json_container(data)
        if decoded is not None:
            data = decoded
            repairs.append("double_encoded")
    if name is not None:
        data = _unwrap_envelope(data, repairs)
        data = _decode_nested(data, name, repairs)
    return LenientResult(data, tuple(repairs))


def _extract(body: str, repairs: list[str]) -> Any:
    start = min((i for i in (body.find("{"), body.find("[")) if i >= 0), default=-1)
    if start < 0:
        raise LenientParseError("no JSON object in the output", 0, body[:40])
    if start > 0:
        repairs.append("leading_text")
    end = _matching_close(body, start)
    if end is None:
        raise LenientParseError("the JSON is not closed (output truncated?)", len(body), body[-40:])
    if body[end + 1 :].strip():
        repairs.append("trailing_text")
    chunk = body[start : end + 1]
    cleaned = _drop_trailing_commas(chunk)
    if cleaned != chunk:
        repairs.append("trailing_commas")
    try:
        return json.loads(cleaned)
    except json.JSONDecodeError as exc:
        where = start + exc.pos
        raise LenientParseError(
            f"invalid JSON: {exc.msg}", where, body[max(0, where - 20) : where + 20]
        ) from None


def _matching_close(text: str, start: int) -> int | None:
    """Index of the bracket closing the one at `start`, skipping brackets inside strings."""
    depth, in_string, escaped = 0, False, False
    for i in range(start, len(text)):
        ch = text[i]
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "{[":
            depth += 1
        elif ch in "}]":
            depth -= 1
            if depth == 0:
                return i
    return None


def _drop_trailing_commas(text: str) -> str:
    out: list[str] = []
    in_string, escaped = False, False
    for i, ch in enumerate(text):
        if in_string:
            escaped = ch == "\\" and not escaped
            if ch == '"' and not escaped:
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch == ",":
            rest = text[i + 1 :].lstrip()
            if rest[:1] in ("}", "]"):
                continue
        out.append(ch)
    return "".join(out)


def _json_container(text: str) -> Any:
    stripped = text.strip()
    if not stripped or stripped[0] not in "{[":
        return None
    try:
        value = json.loads(stripped)
    except json.JSONDecodeError:
        try:
            value = json.loads(_drop_trailing_commas(stripped))
        except json.JSONDecodeError:
            return None
    return value if isinstance(value, dict | list) else None


def _unwrap_envelope(data: Any, repairs: list[str]) -> Any:
    if isinstance(data, dict) and set(data) <= {"name", "arguments", "parameters"} and len(data) >= 1:
        inner = data.get("arguments", data.get("parameters"))
        if isinstance(inner, str):
            inner = _json_container(inner)
        if isinstance(inner, dict):
            repairs.append("tool_call_envelope")
            return inner
    return data


def _decode_nested(data: Any, name: str, repairs: list[str]) -> Any:
    model = model_for(name)
    for _ in range(_MAX_NESTED_FIXES):
        try:
            model.model_validate(data)
            return data
        except ValidationError as exc:
            fixed = False
            for err in exc.errors(include_url=False):
                if err["type"] not in _OBJECT_ERRORS or not isinstance(err.get("input"), str):
                    continue
                decoded = _json_container(err["input"])
                segs, ok = place_loc(data, err["loc"])
                if decoded is None or not ok or not segs:
                    continue
                parent = data
                for seg in segs[:-1]:
                    parent = parent[seg]
                parent[segs[-1]] = decoded
                repairs.append("nested_double_encoded")
                fixed = True
                break
            if not fixed:
                return data
    return data


def validate_text(
    name: str, text: str, context: ValidationContext | None = None
) -> tuple[ValidationReport, LenientResult | None]:
    """Free mode in one call: lenient parse, then validation. An unrecoverable parse is an unplaced error."""
    try:
        result = parse_lenient(text, name)
    except LenientParseError as exc:
        error = unplaced(
            "json_invalid", "a JSON object", exc.excerpt, f"{exc}. Output only the JSON arguments."
        )
        return ValidationReport(name, None, (error,)), None
    validate = validate_part if "." in name else validate_document
    return validate(name, result.data, context), result
