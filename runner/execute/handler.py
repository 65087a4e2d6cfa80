"""One realize operation, executed: its steps in order over the server's `Store`, then its `returns`.

A request sees `params`, `body` (a property that was not sent reads as MISSING, which `provided` tells
from null) and `actor` ({id, role}, or null). A failed `check`, a `one` select without a row or a
`none` select with one raise `HttpStop`; anything that cannot run raises `RealizeError` (500). Work is
bounded per request (`WORK_BUDGET` evaluations), so that no operation can spin, whatever the AST says."""

from __future__ import annotations

import functools
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from runner.execute.functions import LAZY, MISSING, Clock, RealizeError, eager, iso, lazy, plain, truth
from runner.execute.store import Condition, Store
from runner.schemas.realize import (
    CheckStep,
    DeleteStep,
    Filter,
    InsertStep,
    LetStep,
    RealizeOperation,
    SelectStep,
    SignInStep,
    UpdateStep,
)
from runner.schemas.realize_expressions import ArrayExpr, CallExpr, LiteralExpr, MapExpr, ObjectExpr, RefExpr

WORK_BUDGET = 50_000
TOKEN_TTL_MS = 3_600_000


class HttpStop(Exception):
    """The operation ends with an HTTP error status (a check, a missing row, a conflict)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class Outcome:
    value: Any
    tokens: list[tuple[str, str, str]] = field(default_factory=list)
    """(actor, account id, token) issued by signIn steps."""


class Handler:
    def __init__(self, store: Store, rng: random.Random, clock: Clock) -> None:
        self.store = store
        self.rng = rng
        self.clock = clock

    def run(
        self, op: RealizeOperation, params: dict[str, Any], body: Any, actor: dict[str, str] | None
    ) -> Outcome:
        self.work = 0
        self.now_ms = self.clock.now_ms()
        self.functions = eager(self.rng, iso(self.now_ms))
        self.outcome = Outcome(None)
        env: dict[str, Any] = {"params": params, "body": body, "actor": actor}
        for step in op.steps:
            self.step(step, env)
        self.outcome.value = None if op.returns is None else _strip(self.eval(op.returns, env))
        return self.outcome

    def step(self, step: Any, env: dict[str, Any]) -> None:
        target = getattr(step, "target", None)
        if step.when is not None and not truth(self.eval(step.when, env)):
            if target is not None:
                env[target] = None
            return
        each = getattr(step, "each", None)
        if each is None:
            result = self.execute(step, env)
        else:
            elements = plain(self.eval(each.array, env))
            if not isinstance(elements, list):
                raise RealizeError(f"each needs an array, got {elements!r}")
            result = [self.execute(step, {**env, each.element: e}) for e in elements]
        if target is not None:
            env[target] = result

    def execute(self, step: Any, env: dict[str, Any]) -> Any:
        self.spend(1)
        if isinstance(step, SelectStep):
            return self.select(step, env)
        if isinstance(step, InsertStep):
            values = {v.column: self.eval(v.value, env) for v in step.values}
            new_id = self.functions["uuid"]()
            return self.store.insert(step.table, values, new_id)
        if isinstance(step, UpdateStep):
            changes = [(s.column, self.eval(s.value, env), s.increment) for s in step.set]
            return self.store.update(step.table, self.conditions(step.where, env), changes)
        if isinstance(step, DeleteStep):
            return self.store.delete(step.table, self.conditions(step.where, env))
        if isinstance(step, CheckStep):
            if not truth(self.eval(step.condition, env)):
                raise HttpStop(step.status, step.message)
            return None
        if isinstance(step, LetStep):
            return self.eval(step.value, env)
        if isinstance(step, SignInStep):
            return self.sign_in(step, env)
        raise RealizeError(f"unknown step {type(step).__name__}")

    def select(self, step: SelectStep, env: dict[str, Any]) -> Any:
        page = None
        if (step.mode == "page") != (step.page is not None):
            raise RealizeError("a page needs mode page and page {page, limit}")
        if step.page is not None:
            number, limit = plain(self.eval(step.page.page, env)), plain(self.eval(step.page.limit, env))
            if not all(
                isinstance(v, int | float) and not isinstance(v, bool) and float(v).is_integer()
                for v in (number, limit)
            ):
                raise RealizeError(f"page and limit must be whole numbers, got {number!r} and {limit!r}")
            if number < 1 or limit < 1:
                raise HttpStop(400, "page and limit start at 1")
            page = (int(number), int(limit))
        result = self.store.select(step, self.conditions(step.where, env), page)
        if isinstance(result, list):
            self.spend(len(result))
        if step.mode == "one" and result is None:
            raise HttpStop(step.status or 404, f"no {step.table} row matches")
        if step.mode == "none":
            if result is not None:
                raise HttpStop(step.status or 409, f"a {step.table} row already matches")
            return None
        return result

    def conditions(self, filters: list[Filter], env: dict[str, Any]) -> list[Condition]:
        out = []
        for f in filters:
            value = None if f.value is None else self.eval(f.value, env)
            if f.optional and plain(value) is None:
                continue
            out.append(Condition(f.join, f.column, f.op, value))
        return out

    def sign_in(self, step: SignInStep, env: dict[str, Any]) -> dict[str, str]:
        account = plain(self.eval(step.account, env))
        if not isinstance(account, str):
            raise RealizeError(f"signIn needs an account id, got {account!r}")
        token = "tok_" + f"{self.rng.getrandbits(128):032x}"
        self.outcome.tokens.append((step.actor, account, token))
        return {"access": token, "expiredAt": iso(self.now_ms + TOKEN_TTL_MS)}

    def spend(self, amount: int) -> None:
        self.work += amount
        if self.work > WORK_BUDGET:
            raise RealizeError(f"the operation exceeded its work budget of {WORK_BUDGET} evaluations")

    def eval(self, expr: Any, env: dict[str, Any]) -> Any:
        self.spend(1)
        if isinstance(expr, LiteralExpr):
            return expr.value
        if isinstance(expr, RefExpr):
            if expr.name not in env:
                raise RealizeError(f"{expr.name} is not bound")
            value = env[expr.name]
            for name in expr.path:
                value = _member(value, name, expr)
            return value
        if isinstance(expr, CallExpr):
            return self.call(expr, env)
        if isinstance(expr, ObjectExpr):
            pairs = ((p.name, self.eval(p.value, env)) for p in expr.properties)
            return {name: value for name, value in pairs if value is not MISSING}
        if isinstance(expr, ArrayExpr):
            return [plain(self.eval(e, env)) for e in expr.elements]
        if isinstance(expr, MapExpr):
            array = plain(self.eval(expr.array, env))
            if not isinstance(array, list):
                raise RealizeError(f"map needs an array, got {array!r}")
            self.spend(len(array))
            return [plain(self.eval(expr.value, {**env, expr.element: item})) for item in array]
        raise RealizeError(f"unknown expression {type(expr).__name__}")

    def call(self, expr: CallExpr, env: dict[str, Any]) -> Any:
        if expr.function in LAZY:
            thunks: list[Callable[[], Any]] = [functools.partial(self.eval, a, env) for a in expr.arguments]
            return lazy(expr.function, thunks)
        args = [self.eval(a, env) for a in expr.arguments]
        if (
            expr.function in ("range", "code")
            and isinstance(plain(args[0]), int | float)
            and plain(args[0]) > 10_000
        ):
            raise RealizeError(f"{expr.function}({args[0]}) is too large (at most 10000)")
        try:
            return self.functions[expr.function](*args)
        except TypeError as err:
            raise RealizeError(f"{expr.function}: {err}") from None


def _member(value: Any, name: str, expr: RefExpr) -> Any:
    if value is None or value is MISSING:
        return value
    if isinstance(value, dict):
        return value.get(name, MISSING)
    raise RealizeError(f"{expr.name}.{'.'.join(expr.path)}: cannot read {name} of {value!r}")


def _strip(value: Any) -> Any:
    """MISSING anywhere becomes absent (in objects) or null."""
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if v is not MISSING}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return plain(value)
