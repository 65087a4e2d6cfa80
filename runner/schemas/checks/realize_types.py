"""Static types of realize values, so that every path of a `ref` and every response property is checked
before anything runs: a row of a table (with its joins), a component of the interface, a plain object,
an array, a plain value, or unknown (`ANY`, never an error: what cannot be known is not guessed)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from runner.schemas.checks import suggest
from runner.schemas.database import Table
from runner.schemas.feedback import PlacedError, Segment, placed
from runner.schemas.interface import (
    ArraySchema,
    InterfaceDocument,
    NullSchema,
    OneOfSchema,
    ReferenceSchema,
)
from runner.schemas.realize import RealizeOperation
from runner.schemas.realize_expressions import (
    FUNCTIONS,
    ArrayExpr,
    CallExpr,
    LiteralExpr,
    MapExpr,
    ObjectExpr,
    RefExpr,
)


@dataclass(frozen=True)
class RowT:
    table: Table
    joins: tuple[tuple[str, RowT], ...] = ()


@dataclass(frozen=True)
class ListT:
    item: Any


@dataclass(frozen=True)
class ObjT:
    fields: tuple[tuple[str, Any], ...]


@dataclass(frozen=True)
class CompT:
    name: str


@dataclass(frozen=True)
class _Plain:
    label: str


SCALAR = _Plain("a plain value")
ANY = _Plain("any")
PAGINATION = ObjT(tuple((k, SCALAR) for k in ("current", "limit", "records", "pages")))
TOKEN = ObjT((("access", SCALAR), ("expiredAt", SCALAR)))
ACTOR = ObjT((("id", SCALAR), ("role", SCALAR)))


def schema_type(node: Any) -> Any:
    if isinstance(node, ReferenceSchema):
        return CompT(node.component_name)
    if isinstance(node, ArraySchema):
        return ListT(schema_type(node.items))
    if isinstance(node, OneOfSchema):
        real = [v for v in node.one_of if not isinstance(v, NullSchema)]
        return schema_type(real[0]) if len(real) == 1 else ANY
    return SCALAR


def describe(t: Any) -> str:
    if isinstance(t, RowT):
        return f"a row of {t.table.name}"
    if isinstance(t, ListT):
        return "an array"
    if isinstance(t, CompT):
        return f"a {t.name}"
    if isinstance(t, ObjT):
        return "an object {" + ", ".join(k for k, _ in t.fields) + "}"
    return str(t.label)


class ExpressionTyper:
    """Types expressions in a scope (name -> type) and records placed errors."""

    def __init__(self, data: Any, interface: InterfaceDocument | None) -> None:
        self.data = data
        self.interface = interface
        self.errors: list[PlacedError] = []

    def error(self, segs: Sequence[Segment], kind: str, expected: str, message: str) -> None:
        self.errors.append(placed(self.data, segs, kind, expected, message))

    def unknown(self, segs: Sequence[Segment], what: str, name: str, known: Iterable[str], fix: str) -> None:
        """A name that does not resolve, with the closest known names."""
        self.error(segs, "unknown_reference", f"{what} ({suggest(name, known)})", fix)

    def member(self, t: Any, name: str) -> tuple[Any, list[str] | None]:
        """The type of `t.name`, or (ANY, the names that exist) when there is no such member."""
        if isinstance(t, RowT):
            joined = dict(t.joins)
            if name in joined:
                return joined[name], None
            cols = t.table.column_types()
            return (SCALAR, None) if name in cols else (ANY, [*cols, *joined])
        if isinstance(t, CompT):
            component = self.interface.component(t.name) if self.interface else None
            if component is None:
                return ANY, None
            props = component.schema.properties
            return (schema_type(props[name]), None) if name in props else (ANY, list(props))
        if isinstance(t, ObjT):
            fields = dict(t.fields)
            return (fields[name], None) if name in fields else (ANY, list(fields))
        if t is ANY:
            return ANY, None
        return ANY, []

    def type_of(self, expr: Any, scope: dict[str, Any], segs: tuple[Segment, ...], depth: int) -> Any:
        limit = RealizeOperation.MAX_EXPRESSION_DEPTH
        if depth > limit:
            self.error(segs, "too_deep", f"expressions nested at most {limit} levels", "Use a let step.")
            return ANY
        if isinstance(expr, LiteralExpr):
            return SCALAR
        if isinstance(expr, RefExpr):
            return self._ref(expr, scope, segs)
        if isinstance(expr, CallExpr):
            return self._call(expr, scope, segs, depth)
        if isinstance(expr, ObjectExpr):
            seen: set[str] = set()
            fields = []
            for i, prop in enumerate(expr.properties):
                if prop.name in seen:
                    self.error(
                        (*segs, "properties", i, "name"), "duplicate", "a new name", "Remove the repeat."
                    )
                seen.add(prop.name)
                fields.append(
                    (prop.name, self.type_of(prop.value, scope, (*segs, "properties", i, "value"), depth + 1))
                )
            return ObjT(tuple(fields))
        if isinstance(expr, ArrayExpr):
            items = [
                self.type_of(e, scope, (*segs, "elements", i), depth + 1) for i, e in enumerate(expr.elements)
            ]
            return ListT(items[0] if items else ANY)
        if isinstance(expr, MapExpr):
            array = self.type_of(expr.array, scope, (*segs, "array"), depth + 1)
            if not isinstance(array, ListT) and array is not ANY:
                self.error(
                    (*segs, "array"), "not_array", "an array", f"map needs an array, not {describe(array)}."
                )
            inner = {**scope, expr.element: array.item if isinstance(array, ListT) else ANY}
            return ListT(self.type_of(expr.value, inner, (*segs, "value"), depth + 1))
        return ANY

    def _ref(self, expr: RefExpr, scope: dict[str, Any], segs: tuple[Segment, ...]) -> Any:
        if expr.name not in scope:
            self.error(
                (*segs, "name"),
                "undeclared",
                f"body, params, actor or a name bound earlier ({suggest(expr.name, scope)})",
                "Bind the name with an earlier step's `as` first.",
            )
            return ANY
        t = scope[expr.name]
        for i, name in enumerate(expr.path):
            t, known = self.member(t, name)
            if known is not None:
                what = f"a member of {expr.name}{''.join('.' + p for p in expr.path[:i])}"
                self.error(
                    (*segs, "path", i),
                    "unknown_member",
                    f"{what} ({suggest(name, known)})" if known else what,
                    "Read only columns and joins of rows, and properties of components and objects.",
                )
                return ANY
        return t

    def _call(self, expr: CallExpr, scope: dict[str, Any], segs: tuple[Segment, ...], depth: int) -> Any:
        low, high, _ = FUNCTIONS[expr.function]
        count = len(expr.arguments)
        if count < low or (high is not None and count > high):
            wanted = f"{low}" if low == high else f"{low} or more" if high is None else f"{low} to {high}"
            self.error(
                (*segs, "arguments"),
                "arity",
                f"{wanted} arguments for {expr.function}",
                f"{expr.function}: {FUNCTIONS[expr.function][2]}.",
            )
        args = [
            self.type_of(a, scope, (*segs, "arguments", i), depth + 1) for i, a in enumerate(expr.arguments)
        ]
        if expr.function in ("coalesce", "if") and args:
            # the value is one of the branches; a literal null branch says nothing about the type
            start = 1 if expr.function == "if" else 0
            typed = [t for a, t in zip(expr.arguments[start:], args[start:], strict=False) if not _null(a)]
            return typed[0] if typed else ANY
        if expr.function in ("first", "find") and args:
            return args[0].item if isinstance(args[0], ListT) else ANY
        if expr.function in ("range", "flatten"):
            return ListT(ANY)
        return SCALAR


def _null(expr: Any) -> bool:
    return isinstance(expr, LiteralExpr) and expr.value is None
