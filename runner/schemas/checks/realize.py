"""Realize phase rules: the operation exists in the interface; actors are actors of the analysis; every
table, column, join, bound name, path parameter and body field resolves; names are bound once; inserts
give every required column; update and delete filters use no joins; function arities; and `returns` is
built like the response component (`runner.schemas.checks.realize_shape`)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from runner.schemas.analyze import AnalyzeDocument
from runner.schemas.checks import duplicates
from runner.schemas.checks.realize_rows import RowChecker
from runner.schemas.checks.realize_types import (
    ACTOR,
    ANY,
    SCALAR,
    TOKEN,
    CompT,
    ListT,
    ObjT,
)
from runner.schemas.context import ValidationContext
from runner.schemas.database import DatabaseDocument
from runner.schemas.feedback import PlacedError, Segment, ValidationReport
from runner.schemas.interface import InterfaceDocument, Operation
from runner.schemas.pydantic_errors import from_validation_error
from runner.schemas.realize import (
    RESERVED,
    CheckStep,
    DeleteStep,
    InsertStep,
    LetStep,
    RealizeDocument,
    RealizeOperation,
    SelectStep,
    SignInStep,
    UpdateStep,
)

Segs = tuple[Segment, ...]


@dataclass(frozen=True)
class RealizeContext(ValidationContext):
    """A validation context that also holds the database and interface documents: the realize checks
    need columns, foreign keys and component properties, not only names."""

    database: DatabaseDocument | None = None
    interface: InterfaceDocument | None = None

    @classmethod
    def of(
        cls,
        analyze: AnalyzeDocument | None,
        database: DatabaseDocument | None,
        interface: InterfaceDocument | None,
    ) -> RealizeContext:
        base = ValidationContext.from_documents(analyze, database, interface)
        names = {f.name: getattr(base, f.name) for f in dataclasses.fields(base)}
        return cls(**names, database=database, interface=interface)


class _Checker(RowChecker):
    def __init__(self, data: Any, context: ValidationContext) -> None:
        self.database: DatabaseDocument | None = getattr(context, "database", None)
        super().__init__(data, getattr(context, "interface", None))
        self.actors = context.actor_names

    def operation(self, op: RealizeOperation, segs: Segs) -> None:
        iop = self._interface_op(op, segs)
        params = [p.name for p in iop.path_parameters] if iop else _path_params(op.path)
        scope: dict[str, Any] = {"params": ObjT(tuple((p, SCALAR) for p in params)), "actor": ACTOR}
        if iop is None or iop.request_body is not None:
            scope["body"] = CompT(iop.request_body) if iop and iop.request_body else ANY
        for i, actor in enumerate(op.actors):
            self._actor(actor, (*segs, "actors", i))
        if iop is not None and iop.authorization_actor is not None and not op.actors:
            fix = f"The interface requires a signed-in {iop.authorization_actor}; list who may call it."
            self.error((*segs, "actors"), "public", "at least one actor", fix)
        for i, step in enumerate(op.steps):
            self.step(step, (*segs, "steps", i), scope)
        self._returns(op, iop, scope, (*segs, "returns"))

    def _actor(self, actor: str, segs: Segs) -> None:
        if self.actors and actor not in self.actors:
            self.unknown(
                segs, "an actor of the analysis", actor, self.actors, "Use an actor of the analysis."
            )

    def _interface_op(self, op: RealizeOperation, segs: Segs) -> Operation | None:
        if self.interface is None:
            return None
        ops = {(o.method, o.path): o for o in self.interface.operations}
        found = ops.get((op.method, op.path))
        if found is None:
            names = [f"{m} {p}" for m, p in ops]
            self.unknown(
                (*segs, "path"),
                "an operation of the interface",
                f"{op.method} {op.path}",
                names,
                "Use its method and path.",
            )
        return found

    def _returns(
        self, op: RealizeOperation, iop: Operation | None, scope: dict[str, Any], segs: Segs
    ) -> None:
        if op.returns is not None:
            self.type_of(op.returns, scope, segs, 1)
        if iop is None:
            return
        if iop.response_body is None and op.returns is not None:
            self.error(segs, "unexpected_body", "null", "This operation returns nothing.")
        elif iop.response_body is not None and op.returns is None:
            self.error(segs, "missing_body", f"a {iop.response_body}", "Build the response body.")
        elif iop.response_body is not None:
            self.shape_component(op.returns, iop.response_body, scope, segs)

    def step(self, step: Any, segs: Segs, scope: dict[str, Any]) -> None:
        if step.when is not None:
            self.type_of(step.when, scope, (*segs, "when"), 1)
        inner = scope
        each = getattr(step, "each", None)
        if each is not None:
            array = self.type_of(each.array, scope, (*segs, "each", "array"), 1)
            inner = {**scope, each.element: array.item if isinstance(array, ListT) else ANY}
        bound: Any = SCALAR
        if isinstance(step, SelectStep):
            bound = self._select(step, segs, inner)
        elif isinstance(step, InsertStep | UpdateStep | DeleteStep):
            bound = self._write(step, segs, inner)
        elif isinstance(step, CheckStep):
            self.type_of(step.condition, inner, (*segs, "condition"), 1)
        elif isinstance(step, LetStep):
            bound = self.type_of(step.value, inner, (*segs, "value"), 1)
        elif isinstance(step, SignInStep):
            self.type_of(step.account, inner, (*segs, "account"), 1)
            self._actor(step.actor, (*segs, "actor"))
            bound = TOKEN
        target = getattr(step, "target", None)
        if target is not None:
            if target in scope or target in RESERVED:
                self.error(
                    (*segs, "as"), "redeclared", "a new name", f"{target!r} is taken; pick another name."
                )
            scope[target] = ListT(bound) if each is not None else bound


def _path_params(path: str) -> list[str]:
    return [seg[1:-1] for seg in path.split("/") if seg.startswith("{")]


def check_realize_operation(op: RealizeOperation, data: Any, context: ValidationContext) -> list[PlacedError]:
    """One operation (the `realize.operation` part)."""
    checker = _Checker(data, context)
    checker.operation(op, ())
    return checker.errors


def check_realize(doc: RealizeDocument, data: Any, context: ValidationContext) -> list[PlacedError]:
    """The whole realize document: every operation once, and every interface operation realized."""
    checker = _Checker(data, context)
    key = lambda o: (o.method, o.path)  # noqa: E731
    checker.errors += duplicates(data, ("operations",), doc.operations, key, "path", "operation")
    for i, op in enumerate(doc.operations):
        checker.operation(op, ("operations", i))
    if checker.interface is not None:
        done = {key(o) for o in doc.operations}
        missing = [f"{o.method} {o.path}" for o in checker.interface.operations if key(o) not in done]
        if missing:
            checker.error(
                ("operations",),
                "missing_operation",
                "one entry per operation",
                f"Realize {', '.join(missing)}.",
            )
    return checker.errors


def validate_realize(data: Any, context: ValidationContext | None = None) -> ValidationReport:
    """A whole realize document (a JSON value): pydantic, then `check_realize`. The realize phase is not a
    pipeline phase yet, so it has no entry in `PHASES`; its part `realize.operation` does in `PARTS`."""
    try:
        document = RealizeDocument.model_validate(data)
    except ValidationError as exc:
        return ValidationReport("realize", data, tuple(from_validation_error(exc, data, RealizeDocument)))
    errors = check_realize(document, data, context or ValidationContext())
    return ValidationReport("realize", data, tuple(errors), document)
