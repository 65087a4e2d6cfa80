"""One walk over a test function with the scopes of its variables, shared by the validator
(`runner.schemas.checks.testlogic`) and the rubric (`runner.rubric.testlogic`), so that both agree on what
"declared before use" means.

Scoping is JavaScript's `let`: a block (if branch, arrow function body) opens a scope that sees the
enclosing ones; a variable exists from the statement after its declaration (a `variableDeclaration`, or an
`apiCall` with a `variable`); arrow function parameters are mutable variables of the body's scope.
Expression depth counts nested expressions (statements in between do not count; a property assignment is
a container, not a level); block depth counts nested blocks. Subclasses override the hooks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from runner.schemas.base import AstModel, child_nodes
from runner.schemas.feedback import Segment
from runner.schemas.testlogic import (
    GLOBALS,
    ApiCall,
    ArrowFunction,
    Identifier,
    IfStatement,
    PropertyAssignment,
    TestFunction,
    VariableDeclaration,
)

Segs = tuple[Segment, ...]


@dataclass
class Scope:
    parent: Scope | None = None
    names: dict[str, bool] = field(default_factory=dict)  # name -> mutable

    def lookup(self, name: str) -> bool | None:
        """Whether the variable is mutable; None when no enclosing scope declares it."""
        scope: Scope | None = self
        while scope is not None:
            if name in scope.names:
                return scope.names[name]
            scope = scope.parent
        return None

    def declared(self, name: str) -> bool:
        return name in GLOBALS or self.lookup(name) is not None

    def visible(self) -> set[str]:
        scope: Scope | None = self
        out = set(GLOBALS)
        while scope is not None:
            out |= set(scope.names)
            scope = scope.parent
        return out


class TestWalker:
    """Visits every statement and expression of a test function in evaluation order."""

    __test__ = False  # not a pytest test class

    def function(self, fn: TestFunction, segs: Segs = ()) -> None:
        self.statements(fn.statements, (*segs, "statements"), Scope(), 0, 0)

    def statements(
        self, stmts: Sequence[AstModel], segs: Segs, scope: Scope, depth: int, blocks: int
    ) -> None:
        if not self.enter_block(stmts, segs, blocks):
            return
        for i, stmt in enumerate(stmts):
            self.statement(stmt, (*segs, i), scope, depth, blocks)

    def statement(self, stmt: AstModel, segs: Segs, scope: Scope, depth: int, blocks: int) -> None:
        if isinstance(stmt, IfStatement):
            self.expression(stmt.condition, (*segs, "condition"), scope, depth + 1, blocks)
            self.statements(stmt.then_statements, (*segs, "then"), Scope(scope), depth, blocks + 1)
            self.statements(stmt.else_statements, (*segs, "else"), Scope(scope), depth, blocks + 1)
            return
        for suffix, child in child_nodes(stmt):
            self.expression(child, (*segs, *suffix), scope, depth + 1, blocks)
        if isinstance(stmt, ApiCall):
            self.api_call(stmt, segs)
            if stmt.variable is not None:
                self.declare(scope, stmt.variable, False, (*segs, "variable"))
        elif isinstance(stmt, VariableDeclaration):
            self.declare(scope, stmt.name, stmt.mutable, (*segs, "name"))

    def expression(self, expr: AstModel, segs: Segs, scope: Scope, depth: int, blocks: int) -> None:
        if isinstance(expr, PropertyAssignment):
            self.expression(expr.value, (*segs, "value"), scope, depth, blocks)
            return
        if not self.enter_expression(expr, segs, scope, depth):
            return
        if isinstance(expr, Identifier):
            self.identifier(expr, segs, scope)
            return
        if isinstance(expr, ArrowFunction):
            inner = Scope(scope)
            for p, name in enumerate(expr.parameters):
                self.declare(inner, name, True, (*segs, "parameters", p))
            self.statements(expr.statements, (*segs, "statements"), inner, depth, blocks + 1)
            return
        for suffix, child in child_nodes(expr):
            self.expression(child, (*segs, *suffix), scope, depth + 1, blocks)

    # hooks ------------------------------------------------------------------------------------------
    def declare(self, scope: Scope, name: str, mutable: bool, segs: Segs) -> None:
        scope.names[name] = mutable

    def enter_block(self, stmts: Sequence[AstModel], segs: Segs, blocks: int) -> bool:
        """Called for every statement list; False skips it."""
        return True

    def enter_expression(self, expr: AstModel, segs: Segs, scope: Scope, depth: int) -> bool:
        """Called for every expression before its children; False skips them."""
        return True

    def identifier(self, expr: Identifier, segs: Segs, scope: Scope) -> None:
        """A use of a variable (or a global)."""

    def api_call(self, call: ApiCall, segs: Segs) -> None:
        """An API call, after its arguments and before its variable is declared."""
