"""How each expression kind of the test AST evaluates (`EVAL`: kind -> evaluator), for `TestRun`."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from runner.execute.jsbuiltins import get_property
from runner.execute.jsglobals import instance_of
from runner.execute.jsvalues import (
    UNDEFINED,
    JsError,
    JsThrow,
    NativeFunction,
    compare,
    deep_equal,
    describe,
    is_number,
    strict_equal,
    throw_type,
    to_number,
    to_text,
    truthy,
    type_of,
)
from runner.execute.randomdata import PatternError, fmt, keyword, pattern, text

if TYPE_CHECKING:
    from runner.execute.testrun import Scope, TestRun


def _binary(run: TestRun, e: Any, scope: Scope) -> Any:
    op = e.operator
    left = run.eval(e.left, scope)
    if op == "&&":
        return run.eval(e.right, scope) if truthy(left) else left
    if op == "||":
        return left if truthy(left) else run.eval(e.right, scope)
    if op == "??":
        return run.eval(e.right, scope) if left is None or left is UNDEFINED else left
    right = run.eval(e.right, scope)
    if op in ("===", "!=="):
        return strict_equal(left, right) == (op == "===")
    if op in ("<", "<=", ">", ">="):
        return compare(left, right, op)
    if op == "instanceof":
        return instance_of(left, right)
    if op == "+" and (
        isinstance(left, str) or isinstance(right, str) or not _primitive(left) or not _primitive(right)
    ):
        joined = to_text(left) + to_text(right)
        run.size(len(joined))
        return joined
    a, b = to_number(left), to_number(right)
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if op == "/":
        return (
            a / b
            if b
            else (math.nan if a == 0 or math.isnan(a) else math.copysign(math.inf, a) * math.copysign(1, b))
        )
    if not b or math.isinf(a) or math.isnan(a) or math.isnan(b):
        return math.nan
    return a if math.isinf(b) else math.fmod(a, b)


def _primitive(value: Any) -> bool:
    return value is None or value is UNDEFINED or isinstance(value, bool) or is_number(value)


def _unary(run: TestRun, e: Any, scope: Scope) -> Any:
    op = e.operator
    if op in ("++", "--"):
        if e.operand.kind != "identifier":
            raise JsThrow(JsError("Invalid left-hand side in prefix operation", "SyntaxError"))
        slot = scope.lookup(e.operand.name)
        if slot is None:
            raise JsThrow(JsError(f"{e.operand.name} is not defined", "ReferenceError"))
        if not slot[1]:
            raise throw_type(f"Assignment to constant variable {e.operand.name}")
        old = to_number(slot[0])
        slot[0] = old + (1 if op == "++" else -1)
        return slot[0] if e.kind == "prefixUnary" else old
    value = run.eval(e.operand, scope)
    return not truthy(value) if op == "!" else -to_number(value) if op == "-" else to_number(value)


def _access(run: TestRun, e: Any, scope: Scope) -> Any:
    target = run.eval(e.expression, scope)
    if e.optional and (target is None or target is UNDEFINED):
        return UNDEFINED
    if e.kind == "propertyAccess":
        return get_property(target, e.name, run)
    index = run.eval(e.index, scope)
    if isinstance(target, list | str) and is_number(index):
        i = int(index) if math.isfinite(index) else -1
        return target[i] if 0 <= i < len(target) and i == index else UNDEFINED
    return get_property(target, to_text(index), run)


def _call(run: TestRun, e: Any, scope: Scope) -> Any:
    fn = run.eval(e.expression, scope)
    return run.call(fn, [run.eval(a, scope) for a in e.arguments])


def _new(run: TestRun, e: Any, scope: Scope) -> Any:
    ctor = run.eval(e.expression, scope)
    if not isinstance(ctor, NativeFunction) or ctor.construct is None:
        raise throw_type(f"{describe(ctor)} is not a constructor")
    args = [run.eval(a, scope) for a in e.arguments]
    try:
        return ctor.construct(*args)
    except (ValueError, OverflowError, TypeError) as err:
        raise throw_type(f"new {ctor.name}: {err}") from None


def _array_helper(run: TestRun, e: Any, scope: Scope) -> Any:
    fn = run.closure(e.function, scope)
    if e.kind == "arrayRepeat":
        count = to_number(run.eval(e.count, scope))
        n = int(count) if math.isfinite(count) and count > 0 else 0
        return [run.call(fn, [i]) for i in range(run.size(n))]
    array = run.eval(e.array, scope)
    if not isinstance(array, list):
        raise throw_type(f"{describe(array)} is not an array")
    results = [run.call(fn, [x, i]) for i, x in enumerate(array)]
    if e.kind == "arrayMap":
        return results
    if e.kind == "arrayFilter":
        return [x for x, keep in zip(array, results, strict=True) if truthy(keep)]
    return UNDEFINED


def _random(run: TestRun, e: Any, scope: Scope) -> Any:
    rng = run.rng
    kind = e.kind
    if kind == "pickRandom":
        array = run.eval(e.array, scope)
        return rng.choice(array) if isinstance(array, list) and array else UNDEFINED
    if kind == "sampleRandom":
        array, count = run.eval(e.array, scope), to_number(run.eval(e.count, scope))
        items = array if isinstance(array, list) else []
        return rng.sample(items, max(0, min(len(items), int(count) if math.isfinite(count) else 0)))
    if kind == "booleanRandom":
        return rng.random() < (0.5 if e.probability is None else e.probability)
    if kind == "integerRandom":
        low = 0 if e.minimum is None else e.minimum
        return rng.randint(low, max(low, 100 if e.maximum is None else e.maximum))
    if kind == "numberRandom":
        low = 0.0 if e.minimum is None else e.minimum
        return rng.uniform(low, max(low, 100.0 if e.maximum is None else e.maximum))
    if kind == "stringRandom":
        run.size(max(e.min_length or 0, e.max_length or 0))
        return text(rng, e.min_length, e.max_length)
    if kind == "patternRandom":
        try:
            return pattern(rng, e.pattern)
        except PatternError as err:
            raise JsThrow(JsError(f"patternRandom {e.pattern!r}: {err}", "SyntaxError")) from None
    if kind == "formatRandom":
        return fmt(rng, e.format, run.clock.ms)
    return keyword(rng, e.keyword)


def _predicate(run: TestRun, e: Any, scope: Scope) -> Any:
    if e.kind == "errorPredicate":
        return run.expect_error(e, scope, None)
    if e.kind == "httpErrorPredicate":
        return run.expect_error(e, scope, e.status)
    if e.kind == "conditionalPredicate":
        if not truthy(run.eval(e.condition, scope)):
            raise run.assertion(e, "the condition is false")
        return UNDEFINED
    expected, actual = run.eval(e.expected, scope), run.eval(e.actual, scope)
    same = deep_equal(expected, actual)
    if e.kind == "equalPredicate" and not same:
        raise run.assertion(e, f"expected {describe(expected)}, got {describe(actual)}")
    if e.kind == "notEqualPredicate" and same:
        raise run.assertion(e, f"expected a value other than {describe(expected)}")
    return UNDEFINED


def _identifier(run: TestRun, e: Any, scope: Scope) -> Any:
    slot = scope.lookup(e.name)
    if slot is not None:
        return slot[0]
    if e.name in run.globals:
        return run.globals[e.name]
    raise JsThrow(JsError(f"{e.name} is not defined", "ReferenceError"))


EVAL: dict[str, Any] = {
    "booleanLiteral": lambda run, e, s: e.value,
    "numericLiteral": lambda run, e, s: e.value,
    "stringLiteral": lambda run, e, s: e.value,
    "nullLiteral": lambda run, e, s: None,
    "undefinedKeyword": lambda run, e, s: UNDEFINED,
    "arrayLiteral": lambda run, e, s: [run.eval(x, s) for x in e.elements],
    "objectLiteral": lambda run, e, s: {p.name: run.eval(p.value, s) for p in e.properties},
    "identifier": _identifier,
    "propertyAccess": _access,
    "elementAccess": _access,
    "typeOf": lambda run, e, s: type_of(run.eval(e.expression, s)),
    "prefixUnary": _unary,
    "postfixUnary": _unary,
    "binary": _binary,
    "conditional": lambda run, e, s: run.eval(
        e.when_true if truthy(run.eval(e.condition, s)) else e.when_false, s
    ),
    "arrowFunction": lambda run, e, s: run.closure(e, s),
    "call": _call,
    "new": _new,
    **dict.fromkeys(("arrayFilter", "arrayForEach", "arrayMap", "arrayRepeat"), _array_helper),
    **dict.fromkeys(
        (
            "pickRandom",
            "sampleRandom",
            "booleanRandom",
            "integerRandom",
            "numberRandom",
            "stringRandom",
            "patternRandom",
            "formatRandom",
            "keywordRandom",
        ),
        _random,
    ),
    **dict.fromkeys(
        (
            "equalPredicate",
            "notEqualPredicate",
            "conditionalPredicate",
            "errorPredicate",
            "httpErrorPredicate",
        ),
        _predicate,
    ),
}
