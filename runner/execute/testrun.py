"""Runs one test function of the test phase against a `Server`, as the TypeScript e2e test it stands for.

Statements and expressions are evaluated with JavaScript's semantics (`runner.execute.jsvalues`). An
`apiCall` calls the server with the connection's current token; a failed call throws an `HttpError`;
a call that issues a token (join, login) makes the connection act as that account for the calls that
follow. Predicates throw `AssertionFailure`; `errorPredicate` passes when its function throws anything,
`httpErrorPredicate` when it fails with its status.

Every statement and expression costs a step; `Budget` caps the steps, the seconds, the depth of nested
function calls and the size of what a test builds (array elements, string characters). A test that
runs past its budget is stopped with `Stopped` and a reason that says which limit and where."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from typing import Any

from runner.execute.functions import Clock
from runner.execute.jsglobals import make_globals
from runner.execute.jsvalues import (
    UNDEFINED,
    AssertionFailure,
    HttpError,
    JsError,
    JsFunction,
    JsThrow,
    NativeFunction,
    describe,
    throw_type,
    to_json,
    truthy,
)
from runner.execute.server import Server
from runner.execute.testexpr import EVAL
from runner.schemas.base import iter_nodes
from runner.schemas.testlogic import TestFunction

Segs = tuple[str | int, ...]


@dataclass(frozen=True)
class Budget:
    steps: int = 200_000
    seconds: float = 5.0
    depth: int = 32
    """Nested function calls."""
    items: int = 100_000
    """Longest array or string a test may build."""
    total: int = 2_000_000
    """Array elements and string characters a test may build in all (bounds its memory)."""


API_CALL_STEPS = 50
"""What an API call costs in steps (a step budget then also bounds the calls to the server)."""


class Stopped(Exception):
    """The test ran past its budget (not a JavaScript error: nothing in the test can catch it)."""

    def __init__(self, kind: str, reason: str) -> None:
        super().__init__(reason)
        self.kind = kind
        self.path: Segs | None = None


class _Return(Exception):
    def __init__(self, value: Any) -> None:
        self.value = value


class Scope:
    __slots__ = ("parent", "values")

    def __init__(self, parent: Scope | None = None) -> None:
        self.parent = parent
        self.values: dict[str, list[Any]] = {}  # name -> [value, mutable]

    def lookup(self, name: str) -> list[Any] | None:
        scope: Scope | None = self
        while scope is not None:
            if name in scope.values:
                return scope.values[name]
            scope = scope.parent
        return None


class TestRun:
    """The state of one test function's run: its server, token, random source, budget and scopes."""

    __test__ = False

    def __init__(self, fn: TestFunction, server: Server, budget: Budget, rng: random.Random) -> None:
        self.fn = fn
        self.server = server
        self.budget = budget
        self.rng = rng
        self.clock: Clock = server.clock
        self.token: str | None = None
        self.steps = 0
        self.next_clock_check = 512
        self.built = 0
        self.depth = 0
        self.deadline = time.perf_counter() + budget.seconds
        self.paths = {id(node): segs for segs, node in iter_nodes(fn)}
        self.globals = make_globals(self)

    # Runtime protocol (jsbuiltins) ------------------------------------------------------------------
    def call(self, fn: Any, args: list[Any]) -> Any:
        if isinstance(fn, NativeFunction):
            try:
                return fn.fn(*args)
            except (ValueError, OverflowError, TypeError, IndexError, KeyError, AttributeError) as err:
                # a library call JavaScript would answer with NaN or a TypeError; never a runner crash
                raise throw_type(f"{fn.name}: {err}") from None
        if not isinstance(fn, JsFunction):
            raise throw_type(f"{describe(fn)} is not a function")
        self.depth += 1
        if self.depth > self.budget.depth:
            raise Stopped(
                "recursion", f"function calls nested deeper than {self.budget.depth} (endless recursion?)"
            )
        scope = Scope(fn.scope)
        for i, name in enumerate(fn.node.parameters):
            scope.values[name] = [args[i] if i < len(args) else UNDEFINED, True]
        try:
            self.statements(fn.node.statements, scope)
        except _Return as ret:
            return ret.value
        finally:
            self.depth -= 1
        return UNDEFINED

    def size(self, count: int) -> int:
        if count > self.budget.items:
            raise Stopped(
                "data", f"the test builds {count} elements or characters (limit {self.budget.items})"
            )
        self.built += count
        if self.built > self.budget.total:
            raise Stopped(
                "data", f"the test built more than {self.budget.total} elements or characters in all"
            )
        return count

    # statements -------------------------------------------------------------------------------------
    def run(self) -> None:
        try:
            self.statements(self.fn.statements, Scope())
        except _Return:
            pass
        except RecursionError:
            raise Stopped("recursion", "nesting too deep for the interpreter (endless recursion?)") from None

    def tick(self, cost: int = 1) -> None:
        self.steps += cost
        if self.steps > self.budget.steps:
            raise Stopped("steps", f"step budget of {self.budget.steps} exhausted (an endless or huge loop?)")
        if self.steps >= self.next_clock_check:
            self.next_clock_check = self.steps + 512
            if time.perf_counter() > self.deadline:
                raise Stopped("timeout", f"time limit of {self.budget.seconds:g} s exceeded")

    def statements(self, stmts: list[Any], scope: Scope) -> None:
        for stmt in stmts:
            try:
                self.statement(stmt, scope)
            except (JsThrow, Stopped) as err:
                if err.path is None:
                    err.path = self.paths.get(id(stmt))
                raise
            except (ArithmeticError, ValueError, TypeError, LookupError, AttributeError) as err:
                # a value JavaScript would turn into NaN or a TypeError: the test's error, not a crash
                thrown = JsThrow(JsError(f"{type(err).__name__}: {err}", "TypeError"))
                thrown.path = self.paths.get(id(stmt))
                raise thrown from None

    def statement(self, stmt: Any, scope: Scope) -> None:
        self.tick()
        kind = stmt.kind
        if kind == "expression":
            self.eval(stmt.expression, scope)
        elif kind == "variableDeclaration":
            scope.values[stmt.name] = [self.eval(stmt.value, scope), stmt.mutable]
        elif kind == "apiCall":
            value = self.api_call(stmt, scope)
            if stmt.variable is not None:
                scope.values[stmt.variable] = [value, False]
        elif kind == "if":
            branch = (
                stmt.then_statements if truthy(self.eval(stmt.condition, scope)) else stmt.else_statements
            )
            self.statements(branch, Scope(scope))
        elif kind == "return":
            raise _Return(UNDEFINED if stmt.value is None else self.eval(stmt.value, scope))
        elif kind == "throw":
            raise JsThrow(self.eval(stmt.value, scope))

    def api_call(self, stmt: Any, scope: Scope) -> Any:
        params = {p.name: to_json(self.eval(p.value, scope)) for p in stmt.parameters}
        body = None if stmt.body is None else to_json(self.eval(stmt.body, scope))
        self.tick(API_CALL_STEPS)
        response = self.server.call(stmt.method, stmt.path, params, body, self.token)
        if response.token is not None:
            self.token = response.token
        if not response.ok:
            message = response.body.get("message", "") if isinstance(response.body, dict) else ""
            where = f"{stmt.method.upper()} {stmt.path}"
            raise JsThrow(
                HttpError(
                    f"{where} answered {response.status}: {message}",
                    status=response.status,
                    body=response.body,
                )
            )
        return response.body

    # expressions ------------------------------------------------------------------------------------
    def eval(self, expr: Any, scope: Scope) -> Any:
        self.tick()
        return EVAL[expr.kind](self, expr, scope)

    def closure(self, node: Any, scope: Scope) -> JsFunction:
        return JsFunction(node, scope)

    def assertion(self, expr: Any, message: str) -> JsThrow:
        err = JsThrow(AssertionFailure(f"{expr.title}: {message}"))
        err.path = self.paths.get(id(expr))
        return err

    def expect_error(self, expr: Any, scope: Scope, status: int | None) -> Any:
        try:
            self.call(self.closure(expr.function, scope), [])
        except JsThrow as err:
            got = err.value
            if status is None or (isinstance(got, HttpError) and got.status == status):
                return UNDEFINED
            raise self.assertion(expr, f"expected HTTP {status}, got {describe(got)}") from None
        raise self.assertion(expr, "expected an error, but the call succeeded")
