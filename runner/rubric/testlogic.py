"""The test axis (25 points): do the tests exercise what the project asks for, and do they check it?

Gate: the test phase's final document validated (`doc` is not None). Validation already makes every API
call hit an existing operation with the right path parameters and every variable declared before use, so
no dimension measures those. Required parts: the operations serving the project's capabilities (without
capabilities: every operation of the interface), and the resources they live under, which each get a test
function named after them (`test_todo_lists` for `/todo-lists/...`, as the pipeline asks).
- endpoint_coverage: required capabilities whose operation some test calls;
- arguments_match: required capabilities called with a body that fits the request schema (an object
  literal names only properties of the request component, and every required one);
- assertions: per test function, the share of its API calls that a check (a predicate) follows or wraps;
- negative_checks: per test function, a check that a bad call fails (errorPredicate/httpErrorPredicate);
- focused_tests: per test function named after a path segment of the API, it calls that segment.
The last three average the functions of the required resources (0 for one that has none, or whose function
never calls it); other functions count only when they have a fault.
Without an interface every dimension scores 0: nothing can be checked against.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from runner.rubric import names
from runner.rubric.required import serving
from runner.rubric.types import Checklist, Dimension, Result, over_required, scaled_dimensions
from runner.run.plan import resource_of
from runner.schemas.base import AstModel
from runner.schemas.interface import InterfaceDocument, Operation
from runner.schemas.testlogic import ApiCall, ObjectLiteral, TestDocument, TestFunction
from runner.schemas.testwalk import Scope, Segs, TestWalker

WEIGHTS = {
    "endpoint_coverage": 7.0,
    "assertions": 6.0,
    "negative_checks": 5.0,
    "arguments_match": 3.0,
    "focused_tests": 4.0,
}
NEGATIVE_KINDS = frozenset({"errorPredicate", "httpErrorPredicate"})
PREDICATE_KINDS = NEGATIVE_KINDS | {"equalPredicate", "notEqualPredicate", "conditionalPredicate"}
_PARAM = re.compile(r"\{[^}]*\}")


@dataclass
class CallSeen:
    call: ApiCall
    wrapped: bool
    """Inside a predicate (its subject)."""
    negative: bool
    """Inside an error predicate."""


@dataclass
class _Walk(TestWalker):
    """What one walk over a test function found, in evaluation order."""

    calls: list[CallSeen] = field(default_factory=list)
    checked_before: int = 0
    """Calls made before the last predicate: a later check covers them."""
    negatives: int = 0
    """Error predicates that make a call: an API call, or a function that makes one (a table of attempts
    run by `arrayForEach(attempts, attempt => httpErrorPredicate(() => attempt()))`)."""
    _inside: list[str] = field(default_factory=list)
    _invoked: int = 0

    def expression(self, expr: AstModel, segs: Segs, scope: Scope, depth: int, blocks: int) -> None:
        kind = getattr(expr, "kind", None)
        if kind == "call" and any(k in NEGATIVE_KINDS for k in self._inside):
            self._invoked += 1
        if kind not in PREDICATE_KINDS:
            super().expression(expr, segs, scope, depth, blocks)
            return
        self.checked_before = len(self.calls)
        before, invoked = len(self.calls), self._invoked
        self._inside.append(kind)
        super().expression(expr, segs, scope, depth, blocks)
        self._inside.pop()
        makes_a_call = any(c.negative for c in self.calls[before:]) or self._invoked > invoked
        if kind in NEGATIVE_KINDS and makes_a_call:
            self.negatives += 1

    def api_call(self, call: ApiCall, segs: Segs) -> None:
        negative = any(k in NEGATIVE_KINDS for k in self._inside)
        self.calls.append(CallSeen(call, bool(self._inside), negative))

    def checked(self, index: int) -> bool:
        return self.calls[index].wrapped or index < self.checked_before


def path_shape(path: str) -> str:
    """`/articles/{articleId}` -> `/articles/{}`: parameter names do not decide which endpoint is hit."""
    return _PARAM.sub("{}", path.rstrip("/") or "/")


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


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


def _walk(function: TestFunction) -> _Walk:
    walk = _Walk()
    walk.function(function)
    return walk


def score_tests(
    doc: TestDocument | None, interface: InterfaceDocument | None, capabilities: Sequence[str] = ()
) -> list[Dimension]:
    if doc is None or interface is None:
        why = "the test phase produced no valid document" if doc is None else "no valid interface to test"
        return scaled_dimensions("test", WEIGHTS, dict.fromkeys(WEIGHTS, (0.0, f"gate: {why}")))
    walks = {f.name: _walk(f) for f in doc.functions}
    by_shape = {(op.method, path_shape(op.path)): op for op in interface.operations}
    calls = [
        (seen, by_shape.get((seen.call.method, path_shape(seen.call.path))))
        for w in walks.values()
        for seen in w.calls
    ]
    # what is required: the operations of each capability (or every operation when none is given)
    required = {c: serving(c, interface.operations) for c in capabilities} or {
        f"{op.method} {op.path}": [op] for op in interface.operations
    }
    subjects = {slug(resource_of(op.path)) for ops in required.values() for op in ops}
    subjects |= {slug(c.partition(" ")[2]) for c, ops in required.items() if not ops and capabilities}
    # a function covers a resource named alike (`test_todo_lists` covers `/todo-list/...` too)
    named = {names.key(name.removeprefix("test_")): name for name in walks}
    missing_functions = sorted(s for s in subjects if names.key(s) not in named)
    wanted = {named[k] for k in {names.key(s) for s in subjects} if k in named}
    segments = {names.key(s) for op in interface.operations for s in _static_segments(op.path)}

    def per_function(check: Callable[[str, _Walk], Checklist]) -> Result:
        # A function named after a required resource that never calls it stands for nothing: its checks
        # are about other resources, so the resource counts as untested (0), as if the function were missing.
        focus = {name: _focused(name, walks[name], segments) for name in wanted}
        parts = [check(name, walks[name]) if focus[name].fraction else focus[name] for name in sorted(wanted)]
        extra = [check(name, w) for name, w in walks.items() if name not in wanted]
        return over_required(parts, missing_functions, "test functions", extra)

    return scaled_dimensions(
        "test",
        WEIGHTS,
        {
            "endpoint_coverage": _coverage(required, calls, interface, with_arguments=False),
            "arguments_match": _coverage(required, calls, interface, with_arguments=True),
            "assertions": per_function(_assertions),
            "negative_checks": per_function(_negative),
            "focused_tests": per_function(lambda name, walk: _focused(name, walk, segments)),
        },
    )


def _coverage(
    required: dict[str, list[Operation]],
    calls: list[tuple[CallSeen, Operation | None]],
    interface: InterfaceDocument,
    with_arguments: bool,
) -> Result:
    checks = Checklist("required operations called" + (" with fitting arguments" if with_arguments else ""))
    for capability, ops in required.items():
        hit = [
            (seen, op)
            for seen, op in calls
            if op is not None and any(op is o for o in ops) and not seen.negative
        ]
        if with_arguments:
            ok = any(arguments_match(seen.call, op, interface) for seen, op in hit)
            checks.check(ok, f"no call to {capability} with the body it expects")
        else:
            checks.check(bool(hit), f"no test calls {capability}")
    return checks.result()


def _assertions(name: str, walk: _Walk) -> Checklist:
    checks = Checklist("checked API calls")
    if not walk.calls:
        checks.check(False, f"{name} calls no operation")
    for i, seen in enumerate(walk.calls):
        checks.check(walk.checked(i), f"{name}: {seen.call.method} {seen.call.path} is never checked")
    return checks


def _negative(name: str, walk: _Walk) -> Checklist:
    checks = Checklist("negative checks")
    checks.check(walk.negatives > 0, f"{name} never checks that a bad call fails")
    return checks


def _static_segments(path: str) -> list[str]:
    return [s for s in path.split("/") if s and s[0] != "{"]


def _focused(name: str, walk: _Walk, segments: set[tuple[str, ...]]) -> Checklist:
    """A function named after a path segment of the API (`test_todo_lists`) calls it. A scenario named
    after no segment (`test_checkout_rules`) promises no resource: nothing to check (the required
    functions are named after their resources, so they are always checked)."""
    checks = Checklist("focused test functions")
    subject = names.key(name.removeprefix("test_"))
    if subject not in segments:
        return checks
    called = {names.key(s) for seen in walk.calls for s in _static_segments(seen.call.path)}
    checks.check(subject in called, f"{name} never calls /{name.removeprefix('test_').replace('_', '-')}")
    return checks
