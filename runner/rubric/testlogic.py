"""The test axis (25 points): do the test ASTs type-check against the API, and do they test it?

Gate: the test phase's final document validated (`doc` is not None). Dimensions:
- endpoints_exist: API calls whose (method, path) is an operation of the interface;
- arguments_match: of those, calls whose path parameters are exactly the operation's and whose body
  matches the request body (none when the operation takes none; an object literal names only properties of
  the request component and every required one);
- variables_declared: identifier uses that refer to a variable declared earlier in an enclosing scope
  (or a global such as Date);
- endpoint_coverage: operations of the interface called by at least one test;
- assertions: test functions that assert something (any predicate node).
Without an interface the three API dimensions score 0: nothing can be checked against.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from pydantic import BaseModel

from runner.rubric.types import Dimension, scaled_dimensions
from runner.schemas.interface import InterfaceDocument, Operation
from runner.schemas.testlogic import (
    GLOBALS,
    ApiCall,
    ArrowFunction,
    ExpressionStatement,
    Identifier,
    IfStatement,
    ObjectLiteral,
    Return,
    Statement,
    TestDocument,
    Throw,
    VariableDeclaration,
)

WEIGHTS = {
    "endpoints_exist": 5.0,
    "arguments_match": 5.0,
    "variables_declared": 4.0,
    "endpoint_coverage": 6.0,
    "assertions": 5.0,
}
PREDICATE_KINDS = frozenset(
    {"equalPredicate", "notEqualPredicate", "conditionalPredicate", "errorPredicate", "httpErrorPredicate"}
)
_PARAM = re.compile(r"\{[^}]*\}")


@dataclass
class _Walk:
    """What one walk over a test function found."""

    api_calls: list[ApiCall] = field(default_factory=list)
    identifier_uses: int = 0
    declared_uses: int = 0
    predicates: int = 0


def _visit_statements(statements: Sequence[Statement], scope: frozenset[str], walk: _Walk) -> None:
    local = set(scope)
    for statement in statements:
        if isinstance(statement, VariableDeclaration):
            _visit(statement.value, frozenset(local), walk)
            local.add(statement.name)
        elif isinstance(statement, ApiCall):
            for parameter in statement.parameters:
                _visit(parameter.value, frozenset(local), walk)
            if statement.body is not None:
                _visit(statement.body, frozenset(local), walk)
            walk.api_calls.append(statement)
            if statement.variable:
                local.add(statement.variable)
        elif isinstance(statement, IfStatement):
            _visit(statement.condition, frozenset(local), walk)
            _visit_statements(statement.then_statements, frozenset(local), walk)
            _visit_statements(statement.else_statements, frozenset(local), walk)
        elif isinstance(statement, ExpressionStatement):
            _visit(statement.expression, frozenset(local), walk)
        elif isinstance(statement, Return | Throw) and statement.value is not None:
            _visit(statement.value, frozenset(local), walk)


def _visit(node: BaseModel, scope: frozenset[str], walk: _Walk) -> None:
    if isinstance(node, Identifier):
        walk.identifier_uses += 1
        walk.declared_uses += node.name in scope or node.name in GLOBALS
        return
    if isinstance(node, ArrowFunction):
        _visit_statements(node.statements, scope | frozenset(node.parameters), walk)
        return
    if getattr(node, "kind", None) in PREDICATE_KINDS:
        walk.predicates += 1
    for name in type(node).model_fields:
        for child in _children(getattr(node, name)):
            _visit(child, scope, walk)


def _children(value: object) -> Iterable[BaseModel]:
    if isinstance(value, BaseModel):
        yield value
    elif isinstance(value, list):
        yield from (item for item in value if isinstance(item, BaseModel))


def path_shape(path: str) -> str:
    """`/articles/{articleId}` -> `/articles/{}`: parameter names do not decide which endpoint is hit."""
    return _PARAM.sub("{}", path.rstrip("/") or "/")


def _find_operation(call: ApiCall, interface: InterfaceDocument) -> Operation | None:
    shape = path_shape(call.path)
    return next(
        (op for op in interface.operations if op.method == call.method and path_shape(op.path) == shape), None
    )


def arguments_match(call: ApiCall, operation: Operation, interface: InterfaceDocument) -> bool:
    if sorted(p.name for p in call.parameters) != sorted(p.name for p in operation.path_parameters):
        return False
    if operation.request_body is None:
        return call.body is None
    if call.body is None:
        return False
    if not isinstance(call.body, ObjectLiteral):
        return True  # a variable or call: its type is not known statically here
    component = interface.component(operation.request_body)
    if component is None:
        return False
    given = {p.name for p in call.body.properties}
    allowed = set(component.schema.properties)
    return given <= allowed and set(component.schema.required) <= given


def score_tests(doc: TestDocument | None, interface: InterfaceDocument | None) -> list[Dimension]:
    if doc is None:
        gate = (0.0, "gate: the test phase produced no valid document")
        return scaled_dimensions("test", WEIGHTS, dict.fromkeys(WEIGHTS, gate))
    walks = []
    for function in doc.functions:
        walk = _Walk()
        _visit_statements(function.statements, frozenset(), walk)
        walks.append(walk)
    calls = [c for w in walks for c in w.api_calls]
    uses = sum(w.identifier_uses for w in walks)
    declared = sum(w.declared_uses for w in walks)
    asserting = sum(1 for w in walks if w.predicates)
    fractions: dict[str, tuple[float, str]] = {
        "variables_declared": (
            declared / uses if uses else 1.0,
            f"{declared}/{uses} identifier uses declared before use",
        ),
        "assertions": (asserting / len(walks), f"{asserting}/{len(walks)} test functions assert something"),
    }
    if interface is None:
        none = (0.0, "no valid interface to check the tests against")
        fractions |= {"endpoints_exist": none, "arguments_match": none, "endpoint_coverage": none}
        return scaled_dimensions("test", WEIGHTS, fractions)
    hits = [(call, _find_operation(call, interface)) for call in calls]
    found = [(call, op) for call, op in hits if op is not None]
    matching = sum(1 for call, op in found if arguments_match(call, op, interface))
    covered = {(op.method, path_shape(op.path)) for _, op in found}
    n_ops = len(interface.operations)
    fractions |= {
        "endpoints_exist": (
            len(found) / len(calls) if calls else 0.0,
            f"{len(found)}/{len(calls)} API calls hit an existing operation",
        ),
        "arguments_match": (
            matching / len(found) if found else 0.0,
            f"{matching}/{len(found)} API calls pass the parameters and body the operation expects",
        ),
        "endpoint_coverage": (
            len(covered) / n_ops if n_ops else 0.0,
            f"{len(covered)}/{n_ops} operations called by a test",
        ),
    }
    return scaled_dimensions("test", WEIGHTS, fractions)
