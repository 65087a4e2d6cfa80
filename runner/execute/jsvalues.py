"""The values a test AST computes with, modelled on JavaScript: JSON values as Python ones (null is None,
numbers are int/float, objects dicts, arrays lists), plus `UNDEFINED`, dates (`JsDate`), errors
(`JsError`, `HttpError` for a failed API call), functions, and JavaScript's rules for equality,
truthiness, `+`, comparison and string conversion. A thrown value travels as `JsThrow`."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from runner.execute.functions import RealizeError, iso, parse_time


class _Undefined:
    def __repr__(self) -> str:
        return "undefined"


UNDEFINED: Any = _Undefined()


class JsThrow(Exception):
    """A thrown JavaScript value (an error, a failed assertion, a failed API call)."""

    def __init__(self, value: Any) -> None:
        super().__init__(describe(value))
        self.value = value
        self.path: tuple[str | int, ...] | None = None


@dataclass
class JsError:
    message: str
    name: str = "Error"


@dataclass
class AssertionFailure(JsError):
    name: str = "AssertionError"


@dataclass
class HttpError(JsError):
    status: int = 500
    body: Any = None
    name: str = "HttpError"


@dataclass
class JsDate:
    ms: float

    def iso(self) -> str:
        if not math.isfinite(self.ms):
            raise JsThrow(JsError("Invalid time value", "RangeError"))
        return iso(self.ms)


@dataclass
class JsFunction:
    """An arrow function of the test AST with the scope it was created in."""

    node: Any
    scope: Any


@dataclass
class NativeFunction:
    fn: Callable[..., Any]
    name: str = "native"
    construct: Callable[..., Any] | None = None
    members: dict[str, Any] = field(default_factory=dict)


def throw_type(message: str) -> JsThrow:
    return JsThrow(JsError(message, "TypeError"))


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def truthy(value: Any) -> bool:
    if value is None or value is UNDEFINED or value is False:
        return False
    if is_number(value):
        return value != 0 and not math.isnan(value)
    return not (isinstance(value, str) and value == "")


def to_number(value: Any) -> float:
    if is_number(value):
        return value
    if isinstance(value, bool):
        return int(value)
    if value is None:
        return 0
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return 0
        try:
            return float(text)
        except ValueError:
            return math.nan
    if isinstance(value, JsDate):
        return value.ms
    return math.nan


def number_text(value: float) -> str:
    if isinstance(value, int):
        return str(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    return repr(value)


def to_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if value is None:
        return "null"
    if value is UNDEFINED:
        return "undefined"
    if isinstance(value, bool):
        return "true" if value else "false"
    if is_number(value):
        return number_text(value)
    if isinstance(value, list):
        return ",".join("" if v is None or v is UNDEFINED else to_text(v) for v in value)
    if isinstance(value, JsDate):
        return value.iso()
    if isinstance(value, JsError):
        return f"{value.name}: {value.message}"
    return "[object Object]"


def type_of(value: Any) -> str:
    if value is UNDEFINED:
        return "undefined"
    if isinstance(value, bool):
        return "boolean"
    if is_number(value):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, JsFunction | NativeFunction):
        return "function"
    return "object"


def strict_equal(a: Any, b: Any) -> bool:
    if is_number(a) and is_number(b):
        return bool(a == b)
    if isinstance(a, str | bool) or isinstance(b, str | bool):
        return type(a) is type(b) and a == b
    return a is b


def deep_equal(a: Any, b: Any) -> bool:
    """Structural equality of JSON-like values (dates by time), as TestValidator.equals compares."""
    if isinstance(a, dict) and isinstance(b, dict):
        ka = {k for k, v in a.items() if v is not UNDEFINED}
        kb = {k for k, v in b.items() if v is not UNDEFINED}
        return ka == kb and all(deep_equal(a[k], b[k]) for k in ka)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(deep_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, JsDate) and isinstance(b, JsDate):
        return a.ms == b.ms
    return strict_equal(a, b)


def compare(a: Any, b: Any, op: str) -> bool:
    if isinstance(a, str) and isinstance(b, str):
        x: Any = a
        y: Any = b
    else:
        x, y = to_number(a), to_number(b)
        if math.isnan(x) or math.isnan(y):
            return False
    return {"<": x < y, "<=": x <= y, ">": x > y, ">=": x >= y}[op]


def to_json(value: Any) -> Any:
    """What JSON.stringify then JSON.parse would give: undefined and functions dropped from objects
    (null in arrays), dates as ISO text, whole floats as integers, NaN and Infinity as null."""
    if isinstance(value, dict):
        return {k: to_json(v) for k, v in value.items() if _serialisable(v)}
    if isinstance(value, list):
        return [to_json(v) if _serialisable(v) else None for v in value]
    if isinstance(value, JsDate):
        return value.iso()
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        return int(value) if value.is_integer() else value
    if isinstance(value, JsError | set):
        return {}
    return value


def _serialisable(value: Any) -> bool:
    return value is not UNDEFINED and type_of(value) != "function"


def describe(value: Any) -> str:
    """A short text of a value for failure reasons."""
    if isinstance(value, JsError):
        return f"{value.name}: {value.message}"
    if isinstance(value, NativeFunction):
        return f"function {value.name}"
    if isinstance(value, JsFunction):
        return "an arrow function"
    try:
        text = json.dumps(to_json(value), ensure_ascii=False, default=str)
    except (TypeError, ValueError, JsThrow):
        text = to_text(value)
    if value is UNDEFINED:
        text = "undefined"
    return text if len(text) <= 120 else text[:119] + "…"


def parse_date(text: str) -> float:
    try:
        return parse_time(text).timestamp() * 1000
    except RealizeError:
        return math.nan
