"""Expressions of the realize phase (the only recursion of its AST): literal, ref, call, object, array,
map; and `FUNCTIONS`, the closed set a `call` may name, with their arities and what they do (the
interpreter, `runner.execute.functions`, implements exactly these)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from runner.schemas.base import CAMEL_CASE, NAME_MAX, AstModel
from runner.schemas.interface import MAX_PROPERTIES

MAX_ARGUMENTS = 6
MAX_ELEMENTS = 16
MAX_PATH = 4
NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"

# name -> (fewest arguments, most arguments or None for any number, what it does)
FUNCTIONS: dict[str, tuple[int, int | None, str]] = {
    "eq": (2, 2, "a equals b (null equals null)"),
    "ne": (2, 2, "a differs from b"),
    "lt": (2, 2, "a < b (numbers, or texts such as times)"),
    "le": (2, 2, "a <= b"),
    "gt": (2, 2, "a > b"),
    "ge": (2, 2, "a >= b"),
    "and": (2, None, "all true"),
    "or": (2, None, "any true"),
    "not": (1, 1, "negation"),
    "if": (3, 3, "if(condition, then, else)"),
    "isNull": (1, 1, "null or absent"),
    "provided": (1, 1, "the body (or object) has this property, even if null: tells 'omitted' from null"),
    "coalesce": (2, None, "the first argument that is not null"),
    "add": (2, 2, "a + b"),
    "sub": (2, 2, "a - b"),
    "mul": (2, 2, "a * b"),
    "div": (2, 2, "a / b"),
    "mod": (2, 2, "a modulo b"),
    "min": (2, None, "smallest"),
    "max": (2, None, "largest"),
    "round": (1, 1, "nearest whole number"),
    "concat": (2, None, "texts joined"),
    "lower": (1, 1, "lower case"),
    "upper": (1, 1, "upper case"),
    "trim": (1, 1, "without surrounding spaces"),
    "length": (1, 1, "characters of a text or elements of an array"),
    "contains": (2, 2, "text a contains text b ignoring case, or array a has element b"),
    "sum": (1, 1, "total of an array of numbers"),
    "first": (1, 1, "first element of an array, or null"),
    "find": (3, 3, "find(array, property, value): the first element whose property equals value, or null"),
    "range": (1, 1, "[0, 1, ..., n-1]"),
    "flatten": (1, 1, "an array of arrays as one array"),
    "uuid": (0, 0, "a new random uuid"),
    "code": (1, 1, "a random code of n characters A-Z and 0-9"),
    "now": (0, 0, "the time of the request (ISO 8601 text)"),
    "addDays": (2, 2, "time + n days"),
    "addHours": (2, 2, "time + n hours"),
    "addMinutes": (2, 2, "time + n minutes"),
    "daysBetween": (2, 2, "whole days from time a to time b"),
    "weekday": (1, 1, "day of the week of a time, 0 = Sunday ... 6 = Saturday (UTC)"),
    "hashPassword": (1, 1, "the hash to store for a password"),
    "verifyPassword": (2, 2, "verifyPassword(password, storedHash): the password matches the hash"),
}
# What the model reads (the `function` field's description): every name of FUNCTIONS, grouped.
FUNCTION_GUIDE = (
    "compare: eq ne lt le gt ge (null equals null); logic: and or, not, "
    "if(condition, then, else); null: isNull, coalesce (first not null), provided(x) (x was sent, even as "
    "null: 'omitted' vs null); numbers: add sub mul div mod, min max, round; text: concat, lower upper "
    "trim, length (of a text or array), contains(a, b) (text, ignoring case, or array element); arrays: "
    "sum, first, find(array, property, value), range(n), flatten; new values: uuid(), code(n) (A-Z0-9); "
    "time (ISO text): now() (the request's time), addDays addHours addMinutes(time, n), daysBetween(a, b), "
    "weekday(time) (0 = Sunday); passwords: hashPassword(password), verifyPassword(password, hash)."
)
FunctionName = Literal[
    "eq", "ne", "lt", "le", "gt", "ge", "and", "or", "not", "if", "isNull", "provided", "coalesce", "add",
    "sub", "mul", "div", "mod", "min", "max", "round", "concat", "lower", "upper", "trim", "length",
    "contains", "sum", "first", "find", "range", "flatten", "uuid", "code", "now", "addDays", "addHours",
    "addMinutes", "daysBetween", "weekday", "hashPassword", "verifyPassword",
]  # fmt: skip


def kind_field() -> Any:
    return Field(description="Node kind.")


def bound_field(what: str) -> Any:
    return Field(alias="as", pattern=CAMEL_CASE, max_length=NAME_MAX, description=what)


# ---------------------------------------------------------------------------------------


class LiteralExpr(AstModel):
    kind: Literal["literal"] = kind_field()
    value: str | int | float | bool | None = Field(
        description="A constant: text, number, true/false or null."
    )


class RefExpr(AstModel):
    """A value in scope, then a path into it: `{"name": "body", "path": ["title"]}` is the body's title."""

    kind: Literal["ref"] = kind_field()
    name: str = Field(
        pattern=CAMEL_CASE,
        max_length=NAME_MAX,
        description="body (request body), params (path parameters), actor ({id, role} of the signed-in "
        "account, or null), or the `as` of an earlier step, an `each` or a `map`.",
    )
    path: list[Annotated[str, Field(pattern=NAME, max_length=NAME_MAX)]] = Field(
        default=[],
        max_length=MAX_PATH,
        description="Properties, columns or joins read in turn, outermost first; [] for the value itself; "
        "reading into null gives null.",
    )


class CallExpr(AstModel):
    kind: Literal["call"] = kind_field()
    function: FunctionName = Field(description=FUNCTION_GUIDE)
    arguments: list[RealizeExpression] = Field(max_length=MAX_ARGUMENTS, description="Arguments in order.")


class PropertyValue(AstModel):
    name: str = Field(pattern=NAME, max_length=NAME_MAX, description="Property name, as in the component.")
    value: RealizeExpression = Field(description="Its value.")


class ObjectExpr(AstModel):
    """An object, e.g. a component built from a row (property names are the component's)."""

    kind: Literal["object"] = kind_field()
    properties: list[PropertyValue] = Field(max_length=MAX_PROPERTIES, description="Properties in order.")


class ArrayExpr(AstModel):
    kind: Literal["array"] = kind_field()
    elements: list[RealizeExpression] = Field(max_length=MAX_ELEMENTS, description="Element values.")


class MapExpr(AstModel):
    """`value` for every element of `array`, e.g. the rows of a page as components."""

    kind: Literal["map"] = kind_field()
    array: RealizeExpression = Field(description="The array, e.g. ref page.data.")
    element: str = bound_field("Name of the current element inside `value`.")
    value: RealizeExpression = Field(description="The new element.")


RealizeExpression = Annotated[
    LiteralExpr | RefExpr | CallExpr | ObjectExpr | ArrayExpr | MapExpr, Field(discriminator="kind")
]

for _model in [*AstModel.__subclasses__()]:
    if _model.__module__ == __name__:
        _model.model_rebuild()
