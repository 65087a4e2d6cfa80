"""Test phase rules: unique function names, variables declared before use (block scoping like `let`),
`++`/`--` only on mutable variables, depth caps, and — when the interface is known — API calls that hit
an existing operation with the right path parameters, body and result."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from runner.schemas.base import AstModel
from runner.schemas.checks import duplicates, suggest
from runner.schemas.context import ValidationContext
from runner.schemas.feedback import PlacedError, Segment, placed
from runner.schemas.testlogic import (
    GLOBALS,
    ApiCall,
    Identifier,
    PostfixUnary,
    PrefixUnary,
    TestDocument,
    TestFunction,
)
from runner.schemas.testwalk import Scope, Segs, TestWalker


class _Checker(TestWalker):
    def __init__(self, data: Any, context: ValidationContext) -> None:
        self.data = data
        self.context = context
        self.errors: list[PlacedError] = []

    def error(self, segs: Sequence[Segment], kind: str, expected: str, message: str) -> None:
        self.errors.append(placed(self.data, segs, kind, expected, message))

    def enter_block(self, stmts: Sequence[AstModel], segs: Segs, blocks: int) -> bool:
        if stmts and blocks > TestDocument.MAX_BLOCK_DEPTH:
            limit = TestDocument.MAX_BLOCK_DEPTH
            self.error(segs, "too_deep", f"blocks nested at most {limit} levels", "Flatten the nesting.")
            return False
        return True

    def declare(self, scope: Scope, name: str, mutable: bool, segs: Segs) -> None:
        if name in scope.names or name in GLOBALS:
            self.error(
                segs, "redeclared", "a new variable name", f"{name!r} already exists here; pick another name."
            )
        super().declare(scope, name, mutable, segs)

    def enter_expression(self, expr: AstModel, segs: Segs, scope: Scope, depth: int) -> bool:
        limit = TestDocument.MAX_EXPRESSION_DEPTH
        if depth > limit:
            self.error(segs, "too_deep", f"expressions nested at most {limit} levels", "Use a variable.")
            return False
        if isinstance(expr, PrefixUnary | PostfixUnary) and expr.operator in ("++", "--"):
            operand = expr.operand
            if not isinstance(operand, Identifier) or scope.lookup(operand.name) is False:
                self.error(
                    (*segs, "operand"),
                    "not_mutable",
                    "a variable declared with mutable: true",
                    "Only let variables can change; declare it mutable or compute a new value.",
                )
        return True

    def identifier(self, expr: Identifier, segs: Segs, scope: Scope) -> None:
        if not scope.declared(expr.name):
            self.error(
                (*segs, "name"),
                "undeclared",
                f"a variable declared earlier ({suggest(expr.name, scope.visible())})",
                "Declare it with a variableDeclaration or an apiCall variable before using it.",
            )

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
    checker.function(fn)
    return checker.errors
