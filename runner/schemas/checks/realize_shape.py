"""The response of a realize operation against its component: every property of an `object` exists in
the component, every required one is given, nested objects and `map` elements match their schemas, a
literal has the schema's type, and a row is never returned as it is (its keys are column names)."""

from __future__ import annotations

from typing import Any

from runner.schemas.checks.realize_types import (
    ANY,
    SCALAR,
    CompT,
    ExpressionTyper,
    ListT,
    ObjT,
    RowT,
    describe,
)
from runner.schemas.feedback import Segment
from runner.schemas.interface import (
    ArraySchema,
    BooleanSchema,
    ConstSchema,
    IntegerSchema,
    NullSchema,
    NumberSchema,
    OneOfSchema,
    ReferenceSchema,
    StringSchema,
)
from runner.schemas.realize_expressions import ArrayExpr, CallExpr, LiteralExpr, MapExpr, ObjectExpr

Segs = tuple[Segment, ...]
_LITERAL_TYPES: dict[type, tuple[type, ...]] = {
    StringSchema: (str,),
    IntegerSchema: (int,),
    NumberSchema: (int, float),
    BooleanSchema: (bool,),
    NullSchema: (type(None),),
}


def branches(expr: Any) -> list[tuple[int, Any]] | None:
    """The arguments of an `if` or `coalesce` that can become its value, with their indices."""
    if isinstance(expr, CallExpr) and expr.function in ("if", "coalesce"):
        start = 1 if expr.function == "if" else 0
        return list(enumerate(expr.arguments))[start:]
    return None


class ShapeChecker(ExpressionTyper):
    def shape_component(self, expr: Any, name: str, scope: dict[str, Any], segs: Segs) -> None:
        component = self.interface.component(name) if self.interface else None
        if component is None:
            return
        split = branches(expr)
        if split is not None:
            for i, branch in split:
                if not (isinstance(branch, LiteralExpr) and branch.value is None):
                    self.shape_component(branch, name, scope, (*segs, "arguments", i))
            return
        props = component.schema.properties
        required = component.schema.required
        if isinstance(expr, ObjectExpr):
            given = {p.name for p in expr.properties}
            for i, prop in enumerate(expr.properties):
                where = (*segs, "properties", i)
                if prop.name not in props:
                    self.unknown((*where, "name"), f"a property of {name}", prop.name, props, "Remove it.")
                else:
                    self.shape(prop.value, props[prop.name], scope, (*where, "value"))
            missing = [r for r in required if r not in given]
            if missing:
                self.error(
                    (*segs, "properties"),
                    "missing_property",
                    f"every required property of {name}",
                    f"Add {', '.join(missing)}.",
                )
            return
        t = self.type_of(expr, scope, segs, 1)
        if isinstance(t, ObjT):
            keys = [k for k, _ in t.fields]
            extra = [k for k in keys if k not in props]
            missing = [r for r in required if r not in keys]
            if extra or missing:
                self.error(
                    segs,
                    "shape",
                    f"a {name}",
                    f"Its keys differ: missing {missing}, unknown {extra}; build it with kind object.",
                )
        elif isinstance(t, RowT):
            self.error(
                segs,
                "row_as_component",
                f"a {name}",
                f"{describe(t)} has column names; build the {name} with kind object.",
            )
        elif (isinstance(t, CompT) and t.name != name) or isinstance(t, ListT) or t is SCALAR:
            self.error(
                segs, "shape", f"a {name}", f"This is {describe(t)}; build the {name} with kind object."
            )

    def shape(self, expr: Any, schema: Any, scope: dict[str, Any], segs: Segs) -> None:
        """Errors where `expr` cannot produce a value of `schema` (its expressions are typed already)."""
        split = branches(expr)
        if split is not None:
            for i, branch in split:
                self.shape(branch, schema, scope, (*segs, "arguments", i))
            return
        if isinstance(schema, ReferenceSchema):
            self.shape_component(expr, schema.component_name, scope, segs)
        elif isinstance(schema, OneOfSchema):
            self._one_of(expr, schema, scope, segs)
        elif isinstance(schema, ArraySchema):
            if isinstance(expr, MapExpr):
                array = self.type_of(expr.array, scope, (*segs, "array"), 1)
                inner = {**scope, expr.element: array.item if isinstance(array, ListT) else ANY}
                self.shape(expr.value, schema.items, inner, (*segs, "value"))
            elif isinstance(expr, ArrayExpr):
                for i, element in enumerate(expr.elements):
                    self.shape(element, schema.items, scope, (*segs, "elements", i))
            else:
                t = self.type_of(expr, scope, segs, 1)
                item = t.item if isinstance(t, ListT) else None
                if (not isinstance(t, ListT) and t is not ANY) or isinstance(item, RowT):
                    self.error(
                        segs,
                        "shape",
                        "an array of the schema's items",
                        f"This is {describe(item or t)}; use map to build each element.",
                    )
        elif isinstance(expr, LiteralExpr):
            self._literal(expr, schema, segs)
        elif isinstance(expr, ObjectExpr | ArrayExpr | MapExpr):
            self.error(segs, "shape", "a plain value", "The schema wants a single value here.")
        else:
            t = self.type_of(expr, scope, segs, 1)
            if isinstance(t, RowT | ListT | ObjT | CompT):
                self.error(
                    segs,
                    "shape",
                    "a plain value",
                    f"This is {describe(t)}; read one of its columns or properties.",
                )

    def _one_of(self, expr: Any, schema: OneOfSchema, scope: dict[str, Any], segs: Segs) -> None:
        if isinstance(expr, LiteralExpr) and expr.value is None:
            if not any(isinstance(v, NullSchema) for v in schema.one_of):
                self.error(segs, "shape", "a value (null is not allowed)", "Give a value.")
            return
        before = len(self.errors)
        attempts = []
        for variant in (v for v in schema.one_of if not isinstance(v, NullSchema)):
            self.shape(expr, variant, scope, segs)
            attempts.append(self.errors[before:])
            del self.errors[before:]
            if not attempts[-1]:
                return
        if attempts:
            self.errors.extend(attempts[0])

    def _literal(self, expr: LiteralExpr, schema: Any, segs: Segs) -> None:
        value = expr.value
        if isinstance(schema, ConstSchema):
            ok = value == schema.const and type(value) is type(schema.const)
            expected = repr(schema.const)
        else:
            types = _LITERAL_TYPES.get(type(schema))
            ok = types is None or (
                isinstance(value, types) and not (isinstance(value, bool) and bool not in types)
            )
            expected = f"a {type(schema).__name__.removesuffix('Schema').lower()}"
        if not ok:
            self.error((*segs, "value"), "shape", expected, "Give a value of the schema's type.")
