"""Test phase rules: unique function names, variables declared before use (block scoping like `let`),
`++`/`--` only on mutable variables, depth caps, and — when the interface is known — API calls that hit
an existing operation with the right path parameters, body and result."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from runner.schemas.base import AstModel, child_nodes
from runner.schemas.checks import duplicates, suggest
from runner.schemas.context import ValidationContext
from runner.schemas.report import PlacedError, Segment, placed
from runner.schemas.testlogic import (
    GLOBALS,
    ApiCall,
    ArrowFunction,
    ExpressionStatement,
    Identifier,
    IfStatement,
    PostfixUnary,
    PrefixUnary,
    PropertyAssignment,
    Return,
    TestDocument,
    TestFunction,
    Throw,
    VariableDeclaration,
)

Segs = tuple[Segment, ...]


@dataclass
class _Scope:
    parent: _Scope | None = None
    names: dict[str, bool] = field(default_factory=dict)  # name -> mutable

    def lookup(self, name: str) -> bool | None:
        scope: _Scope | None = self
        while scope is not None:
            if name in scope.names:
                return scope.names[name]
            scope = scope.parent
        return None

    def visible(self) -> set[str]:
        scope, out = self, set(GLOBALS)
        while scope is not None:
            out |= set(scope.names)
            scope = scope.parent  # type: ignore[assignment]
        return out


@dataclass
class _Checker:
    data: Any
    context: ValidationContext
    errors: list[PlacedError] = field(default_factory=list)

    def error(self, segs: Sequence[Segment], kind: str, expected: str, message: str) -> None:
        self.errors.append(placed(self.data, segs, kind, expected, message))

    def function(self, fn: TestFunction, segs: Segs) -> None:
        self.statements(fn.statements, (*segs, "statements"), _Scope(), 0, 0)

    def statements(
        self, stmts: Sequence[AstModel], segs: Segs, scope: _Scope, depth: int, blocks: int
    ) -> None:
        if stmts and blocks > TestDocument.MAX_BLOCK_DEPTH:
            limit = TestDocument.MAX_BLOCK_DEPTH
            self.error(segs, "too_deep", f"blocks nested at most {limit} levels", "Flatten the nesting.")
            return
        for i, stmt in enumerate(stmts):
            self.statement(stmt, (*segs, i), scope, depth, blocks)

    def statement(self, stmt: AstModel, segs: Segs, scope: _Scope, depth: int, blocks: int) -> None:
        if isinstance(stmt, IfStatement):
            self.expression(stmt.condition, (*segs, "condition"), scope, depth + 1, blocks)
            self.statements(stmt.then_statements, (*segs, "then"), _Scope(scope), depth, blocks + 1)
            self.statements(stmt.else_statements, (*segs, "else"), _Scope(scope), depth, blocks + 1)
            return
        for suffix, child in child_nodes(stmt):
            self.expression(child, (*segs, *suffix), scope, depth + 1, blocks)
        if isinstance(stmt, ApiCall):
            self.api_call(stmt, segs)
            if stmt.variable is not None:
                self.declare(scope, stmt.variable, False, (*segs, "variable"))
        elif isinstance(stmt, VariableDeclaration):
            self.declare(scope, stmt.name, stmt.mutable, (*segs, "name"))
        else:
            assert isinstance(stmt, ExpressionStatement | Return | Throw)

    def declare(self, scope: _Scope, name: str, mutable: bool, segs: Segs) -> None:
        if name in scope.names or name in GLOBALS:
            self.error(
                segs, "redeclared", "a new variable name", f"{name!r} already exists here; pick another name."
            )
        scope.names[name] = mutable

    def expression(self, expr: AstModel, segs: Segs, scope: _Scope, depth: int, blocks: int) -> None:
        if isinstance(expr, PropertyAssignment):  # a container, not an expression of its own
            self.expression(expr.value, (*segs, "value"), scope, depth, blocks)
            return
        limit = TestDocument.MAX_EXPRESSION_DEPTH
        if depth > limit:
            self.error(segs, "too_deep", f"expressions nested at most {limit} levels", "Use a variable.")
            return
        if isinstance(expr, Identifier):
            if expr.name not in GLOBALS and scope.lookup(expr.name) is None:
                self.error(
                    (*segs, "name"),
                    "undeclared",
                    f"a variable declared earlier ({suggest(expr.name, scope.visible())})",
                    "Declare it with a variableDeclaration or an apiCall variable before using it.",
                )
            return
        if isinstance(expr, PrefixUnary | PostfixUnary) and expr.operator in ("++", "--"):
            operand = expr.operand
            if not isinstance(operand, Identifier) or scope.lookup(operand.name) is False:
                self.error(
                    (*segs, "operand"),
                    "not_mutable",
                    "a variable declared with mutable: true",
                    "Only let variables can change; declare it mutable or compute a new value.",
                )
        if isinstance(expr, ArrowFunction):
            inner = _Scope(scope)
            for p, name in enumerate(expr.parameters):
                self.declare(inner, name, True, (*segs, "parameters", p))
            self.statements(expr.statements, (*segs, "statements"), inner, depth, blocks + 1)
            return
        for suffix, child in child_nodes(expr):
            self.expression(child, (*segs, *suffix), scope, depth + 1, blocks)

    def api_call(self, call: ApiCall, segs: Segs) -> None:
        operations = self.context.operations
        if operations is None:
            return
        signature = operations.get((call.method, call.path))
        if signature is None:
            names = [f"{m} {p}" for m, p in operations]
            self.error(
                (*segs, "path"),
                "unknown_operation",
                f"an operation of the interface ({suggest(f'{call.method} {call.path}', names, 4)})",
                "Call an operation that exists: same method and path as in the interface.",
            )
            return
        given = sorted(p.name for p in call.parameters)
        if given != sorted(signature.path_parameters):
            self.error(
                (*segs, "parameters"),
                "path_parameters",
                f"exactly the path parameters {list(signature.path_parameters)}",
                "Give one value for each {name} in the path, nothing else.",
            )
        if signature.request_body is not None and call.body is None:
            self.error(
                (*segs, "body"), "missing_body", f"a {signature.request_body} body", "Pass the request body."
            )
        if signature.request_body is None and call.body is not None:
            self.error(
                (*segs, "body"), "unexpected_body", "null", "This operation takes no body; set body to null."
            )
        if signature.response_body is None and call.variable is not None:
            self.error(
                (*segs, "variable"),
                "no_response",
                "null",
                "This operation returns nothing; set variable to null.",
            )


def check_test(doc: TestDocument, data: Any, context: ValidationContext) -> list[PlacedError]:
    checker = _Checker(data, context)
    checker.errors += duplicates(
        data, ("functions",), doc.functions, lambda f: f.name, "name", "function name"
    )
    for i, fn in enumerate(doc.functions):
        checker.function(fn, ("functions", i))
    return checker.errors


def check_test_function(fn: TestFunction, data: Any, context: ValidationContext) -> list[PlacedError]:
    checker = _Checker(data, context)
    checker.function(fn, ())
    return checker.errors
