"""The test runner: JavaScript semantics of the test AST, API calls with the connection acting as the
last signed-in account, predicates, seeded random data, failures with their statement path and reason,
and the budgets that stop a test that loops, recurses without end or builds huge data."""

from __future__ import annotations

import random
import re
import uuid
from typing import Any

import pytest
from pydantic import TypeAdapter

from runner.execute import Budget, Server, run_function, run_tests
from runner.execute.functions import Clock
from runner.execute.jsvalues import UNDEFINED, JsThrow
from runner.execute.randomdata import pattern
from runner.execute.testrun import Scope, TestRun
from runner.gold import load_gold
from runner.schemas.testlogic import Expression, TestDocument, TestFunction
from tests.support.realize_docs import shop

EXPRESSION: TypeAdapter[Any] = TypeAdapter(Expression)


def s(value: str) -> dict[str, Any]:
    return {"kind": "stringLiteral", "value": value}


def n(value: float) -> dict[str, Any]:
    return {"kind": "numericLiteral", "value": value}


def ident(name: str) -> dict[str, Any]:
    return {"kind": "identifier", "name": name}


def get(expr: dict[str, Any], name: str, optional: bool = False) -> dict[str, Any]:
    return {"kind": "propertyAccess", "expression": expr, "name": name, "optional": optional}


def invoke(expr: dict[str, Any], *args: Any) -> dict[str, Any]:
    return {"kind": "call", "expression": expr, "arguments": list(args)}


def binary(left: Any, op: str, right: Any) -> dict[str, Any]:
    return {"kind": "binary", "left": left, "operator": op, "right": right}


def arrow(params: list[str], *statements: Any) -> dict[str, Any]:
    return {"kind": "arrowFunction", "parameters": params, "statements": list(statements)}


def ret(value: Any) -> dict[str, Any]:
    return {"kind": "return", "value": value}


def obj(**props: Any) -> dict[str, Any]:
    return {"kind": "objectLiteral", "properties": [{"name": k, "value": v} for k, v in props.items()]}


def let(name: str, value: Any, mutable: bool = False) -> dict[str, Any]:
    return {"kind": "variableDeclaration", "name": name, "mutable": mutable, "value": value}


def do(expr: Any) -> dict[str, Any]:
    return {"kind": "expression", "expression": expr}


def api(
    method: str, path: str, body: Any = None, variable: str | None = None, **params: Any
) -> dict[str, Any]:
    parameters = [{"name": k, "value": v} for k, v in params.items()]
    return {
        "kind": "apiCall",
        "method": method,
        "path": path,
        "parameters": parameters,
        "body": body,
        "variable": variable,
    }


def equal(title: str, expected: Any, actual: Any) -> dict[str, Any]:
    return do({"kind": "equalPredicate", "title": title, "expected": expected, "actual": actual})


def http_error(title: str, status: int, *statements: Any) -> dict[str, Any]:
    return do(
        {"kind": "httpErrorPredicate", "title": title, "status": status, "function": arrow([], *statements)}
    )


def function(*statements: Any, name: str = "test_case") -> TestFunction:
    return TestFunction.model_validate({"name": name, "scenario": "unit", "statements": list(statements)})


def backend() -> tuple[Any, Any, Any]:
    database, interface, realize, _ = shop()
    return database, interface, realize


@pytest.fixture
def run() -> TestRun:
    return TestRun(function(do(n(0))), Server(*backend()), Budget(), random.Random(1))


JS_CASES = [
    (binary(n(1), "+", s("a")), "1a"),
    (binary(binary(n(0.5), "+", n(0.25)), "*", n(4)), 3),
    (binary(n(1), "===", n(1.0)), True),
    (binary(s("1"), "===", n(1)), False),
    (binary(s("b"), ">", s("a")), True),
    (binary({"kind": "undefinedKeyword"}, "??", n(3)), 3),
    (binary({"kind": "nullLiteral"}, "||", s("x")), "x"),
    (binary(n(0), "&&", s("x")), 0),
    (binary(n(7), "%", n(4)), 3),
    ({"kind": "typeOf", "expression": {"kind": "nullLiteral"}}, "object"),
    ({"kind": "prefixUnary", "operator": "!", "operand": s("")}, True),
    ({"kind": "conditional", "condition": n(0), "whenTrue": s("t"), "whenFalse": s("f")}, "f"),
    (get({"kind": "arrayLiteral", "elements": [n(1), n(2)]}, "length"), 2),
    (invoke(get(s("abc"), "toUpperCase")), "ABC"),
    (invoke(get(ident("Math"), "max"), n(1), n(3)), 3),
    (invoke(get({"kind": "new", "expression": ident("Date"), "arguments": [s("2026-01-01T00:00:00Z")]}, "getTime")), 1767225600000),
    (invoke(get(ident("Date"), "parse"), s("2026-01-01T00:00:01.000Z")), 1767225601000),
    (invoke(get(ident("JSON"), "stringify"), obj(a={"kind": "undefinedKeyword"}, b=n(1))), '{"b":1}'),
    (get(get({"kind": "nullLiteral"}, "x", optional=True), "y", optional=True), UNDEFINED),
    ({"kind": "elementAccess", "expression": {"kind": "arrayLiteral", "elements": [n(1)]}, "index": n(5)}, UNDEFINED),
    ({"kind": "arrayFilter", "array": {"kind": "arrayLiteral", "elements": [n(1), n(2), n(3)]}, "function": arrow(["x"], ret(binary(ident("x"), ">", n(1))))}, [2, 3]),
    ({"kind": "arrayMap", "array": {"kind": "arrayLiteral", "elements": [n(1), n(2)]}, "function": arrow(["x"], ret(binary(ident("x"), "*", n(10))))}, [10, 20]),
    ({"kind": "arrayRepeat", "count": n(3), "function": arrow(["i"], ret(ident("i")))}, [0, 1, 2]),
    (invoke(get({"kind": "arrayLiteral", "elements": [n(3), n(1), n(2)]}, "sort"), arrow(["a", "b"], ret(binary(ident("a"), "-", ident("b"))))), [1, 2, 3]),
    (invoke(get({"kind": "arrayLiteral", "elements": [n(1), n(2)]}, "some"), arrow(["x"], ret(binary(ident("x"), "===", n(2))))), True),
    (binary({"kind": "new", "expression": ident("Date"), "arguments": []}, "instanceof", ident("Date")), True),
]  # fmt: skip


@pytest.mark.parametrize(("expr", "expected"), JS_CASES)
def test_javascript_semantics(run: TestRun, expr: dict[str, Any], expected: Any) -> None:
    assert run.eval(EXPRESSION.validate_python(expr), Scope()) == expected


def test_javascript_errors_are_thrown_values(run: TestRun) -> None:
    with pytest.raises(JsThrow, match="Cannot read properties of undefined"):
        run.eval(EXPRESSION.validate_python(get(get(obj(), "missing"), "deeper")), Scope())
    with pytest.raises(JsThrow, match="nowhere is not defined"):
        run.eval(EXPRESSION.validate_python(ident("nowhere")), Scope())
    with pytest.raises(JsThrow, match="not supported"):
        run.eval(
            EXPRESSION.validate_python(
                {"kind": "new", "expression": ident("RegExp"), "arguments": [s("a+")]}
            ),
            Scope(),
        )
    with pytest.raises(JsThrow, match=r"floor"):
        run.eval(
            EXPRESSION.validate_python(
                invoke(get(ident("Math"), "floor"), invoke(get(ident("Math"), "sqrt"), n(-1)))
            ),
            Scope(),
        )


def test_random_generators_are_seeded_and_well_formed() -> None:
    def sample(seed: int) -> list[Any]:
        server = Server(*backend(), clock=Clock(1_767_225_600_000))  # random times are relative to now
        runner = TestRun(function(do(n(0))), server, Budget(), random.Random(seed))
        kinds = [
            {"kind": "formatRandom", "format": "email"},
            {"kind": "formatRandom", "format": "uuid"},
            {"kind": "formatRandom", "format": "date-time"},
            {"kind": "patternRandom", "pattern": "[A-Z]{3}-[0-9]{6}"},
            {"kind": "stringRandom", "minLength": 2, "maxLength": 4},
            {"kind": "integerRandom", "minimum": 5, "maximum": 6},
            {"kind": "keywordRandom", "keyword": "paragraph"},
            {"kind": "pickRandom", "array": {"kind": "arrayLiteral", "elements": [s("a"), s("b")]}},
            {
                "kind": "sampleRandom",
                "array": {"kind": "arrayLiteral", "elements": [s("a"), s("b"), s("c")]},
                "count": n(2),
            },
            {"kind": "booleanRandom", "probability": 1},
        ]
        return [runner.eval(EXPRESSION.validate_python(k), Scope()) for k in kinds]

    first = sample(3)
    assert first == sample(3) and first != sample(4)
    email, uid, moment, code, text, integer, paragraph, picked, sampled, flag = first
    assert re.fullmatch(r"[a-z0-9]+@[a-z]+\.com", email) and uuid.UUID(uid).version == 4
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", moment)
    assert re.fullmatch(r"[A-Z]{3}-[0-9]{6}", code) and 2 <= len(text) <= 4 and integer in (5, 6)
    assert paragraph.endswith(".") and picked in ("a", "b") and len(set(sampled)) == 2 and flag is True


def _patterns(node: Any) -> set[str]:
    if isinstance(node, dict):
        own = {node["pattern"]} if node.get("kind") == "patternRandom" else set()
        return own.union(*(_patterns(v) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(_patterns(v) for v in node))
    return set()


GOLD_PATTERNS = sorted(
    _patterns([load_gold(p).data["test"] for p in ("todo", "discussion_board", "event_tickets")])
)


@pytest.mark.parametrize("regex", [*GOLD_PATTERNS, "(ab|cd)?x+", "[^a-z]{4}", r"\d\w\s\.", "a{2,}"])
def test_pattern_random_matches_its_pattern(regex: str) -> None:
    rng = random.Random(regex)
    for _ in range(20):
        assert re.fullmatch(regex, pattern(rng, regex))


def test_the_connection_acts_as_the_last_signed_in_account() -> None:
    product = obj(name=s("Lamp"), price=n(1), stock=n(1))
    fn = function(
        api("post", "/auth/customers/join", obj(email=s("c@x.io"), password=s("long enough"))),
        http_error("a customer cannot add products", 403, api("post", "/products", product)),
        api("post", "/auth/admins/join", obj(email=s("a@x.io"))),
        api("post", "/products", product, "lamp"),
        equal("the admin added it", s("Lamp"), get(ident("lamp"), "name")),
    )
    result = run_function(fn, backend())
    assert result.passed and result.calls == 4 and result.steps > 10


def test_failures_carry_the_statement_path_and_the_reason() -> None:
    fn = function(
        api("post", "/auth/admins/join", obj(email=s("a@x.io")), "admin"),
        equal("the email is kept", s("b@x.io"), get(ident("admin"), "email")),
    )
    failure = run_function(fn, backend(), index=2).failure
    assert failure is not None and failure.kind == "assertion"
    assert failure.path == "$input.functions[2].statements[1].expression"
    assert failure.reason == 'AssertionError: the email is kept: expected "b@x.io", got undefined'


def test_an_unexpected_http_error_and_a_wrong_status() -> None:
    unexpected = run_function(
        function(do(n(1)), api("post", "/products", obj(name=s("x")))), backend()
    ).failure
    assert unexpected is not None and unexpected.kind == "http"
    assert unexpected.path == "$input.functions[0].statements[1]"
    assert "POST /products answered 401: sign in first" in unexpected.reason
    wrong = run_function(
        function(http_error("wrong status", 404, api("post", "/products", obj()))), backend()
    ).failure
    assert wrong is not None and wrong.reason.startswith(
        "AssertionError: wrong status: expected HTTP 404, got HttpError"
    )
    passed = run_function(
        function(
            do(
                {
                    "kind": "errorPredicate",
                    "title": "any error",
                    "function": arrow([], {"kind": "throw", "value": n(1)}),
                }
            )
        ),
        backend(),
    )
    assert passed.passed
    unmet = run_function(
        function(do({"kind": "errorPredicate", "title": "must fail", "function": arrow([], do(n(1)))})),
        backend(),
    ).failure
    assert (
        unmet is not None
        and unmet.reason == "AssertionError: must fail: expected an error, but the call succeeded"
    )
    thrown = run_function(
        function(
            {
                "kind": "throw",
                "value": {"kind": "new", "expression": ident("Error"), "arguments": [s("boom")]},
            }
        ),
        backend(),
    ).failure
    assert thrown is not None and (thrown.kind, thrown.reason) == ("error", "Error: boom")


def _repeat(count: float, *body: Any) -> dict[str, Any]:
    return {"kind": "arrayRepeat", "count": n(count), "function": arrow(["i"], *body)}


def test_a_loop_is_stopped_by_the_step_budget() -> None:
    fn = function(do(_repeat(1000, do(_repeat(1000, ret(ident("i")))))))
    failure = run_function(fn, backend(), budget=Budget(steps=20_000)).failure
    assert failure is not None and failure.kind == "steps"
    assert failure.reason == "stopped: step budget of 20000 exhausted (an endless or huge loop?)"
    # the innermost statement running when the budget ran out
    assert (
        failure.path
        == "$input.functions[0].statements[0].expression.function.statements[0].expression.function.statements[0]"
    )


def test_a_loop_is_stopped_by_the_time_limit() -> None:
    fn = function(do(_repeat(10_000, ret(ident("i")))))
    failure = run_function(fn, backend(), budget=Budget(seconds=0)).failure
    assert failure is not None and (failure.kind, failure.reason) == (
        "timeout",
        "stopped: time limit of 0 s exceeded",
    )


def test_endless_recursion_is_stopped() -> None:
    # validation would refuse `f` inside its own initializer; the runner must hold even for ASTs it never saw validated
    recursive = arrow(["x"], ret(invoke(ident("f"), ident("x"))))
    fn = function(let("f", recursive), do(invoke(ident("f"), n(1))))
    failure = run_function(fn, backend()).failure
    assert failure is not None and failure.kind == "recursion"
    assert "nested deeper than 32" in failure.reason
    assert failure.path == "$input.functions[0].statements[0].value.statements[0]"  # the recursive call


@pytest.mark.parametrize(
    "huge",
    [
        _repeat(1e9, ret(ident("i"))),
        invoke(get(s("x"), "repeat"), n(1e9)),
        {"kind": "stringRandom", "minLength": 1, "maxLength": 1_000_000_000},
        invoke(get(s("x"), "padStart"), n(1e9)),
    ],
)
def test_huge_data_is_stopped(huge: dict[str, Any]) -> None:
    failure = run_function(function(let("big", huge)), backend()).failure
    assert failure is not None and failure.kind == "data"
    assert failure.reason.startswith(
        "stopped: the test builds 1000000000 elements or characters (limit 100000)"
    )


def test_budget_errors_cannot_be_caught_by_an_error_predicate() -> None:
    fn = function(
        do({"kind": "errorPredicate", "title": "swallow", "function": arrow([], do(_repeat(1e9, ret(n(0)))))})
    )
    failure = run_function(fn, backend()).failure
    assert failure is not None and failure.kind == "data"


def test_every_test_function_gets_a_fresh_database() -> None:
    join = api("post", "/auth/customers/join", obj(email=s("same@x.io"), password=s("long enough")))
    tests = TestDocument(functions=[function(join, name="test_one"), function(join, name="test_two")])
    result = run_tests(tests, *backend())
    assert result.pass_rate == 1.0 and [f.name for f in result.functions] == ["test_one", "test_two"]


def test_the_data_a_test_builds_in_all_is_bounded() -> None:
    fn = function(let("pile", _repeat(50, ret(invoke(get(s("x"), "repeat"), n(99_999))))))
    failure = run_function(fn, backend()).failure
    assert failure is not None and failure.kind == "data"
    assert failure.reason == "stopped: the test built more than 2000000 elements or characters in all"


def test_api_calls_count_against_the_step_budget() -> None:
    join = api("post", "/auth/admins/join", obj(email=s("a@x.io")))
    result = run_function(function(do(_repeat(10_000, join))), backend(), budget=Budget(steps=2_000))
    assert result.failure is not None and result.failure.kind == "steps"
    assert 30 <= result.calls <= 40
