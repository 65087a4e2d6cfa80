"""Defects of the tests (see `runner.gold.defects`), and the cut of the tests to what is left when an
operation goes: statements that call a missing operation or use a variable no longer declared are
dropped, so that the tests stay valid."""

from __future__ import annotations

import copy
import random
from typing import Any

from runner.gold.defect_kinds import Data, pick, required, walk
from runner.rubric.required import serving
from runner.rubric.testlogic import NEGATIVE_KINDS, PREDICATE_KINDS, slug
from runner.run.plan import resource_of
from runner.schemas.context import ValidationContext
from runner.schemas.interface import InterfaceDocument
from runner.schemas.validate import validate_document


def interface_of(data: Data) -> InterfaceDocument:
    return InterfaceDocument.model_validate(data["interface"])


def calls_operation(node: Any, method: str, path: str) -> bool:
    """Whether the JSON node calls the operation (`"*"`, `"*"`: any operation)."""
    return any(
        isinstance(n, dict)
        and n.get("kind") == "apiCall"
        and method in ("*", n["method"])
        and path in ("*", n["path"])
        for n in walk(node)
    )


def prune_tests(data: Data) -> bool:
    """Drop top-level test statements until the tests validate against the interface again (a removed
    operation, a variable no longer declared); False when no test function is left."""
    context = ValidationContext.from_documents(interface=interface_of(data))
    for _ in range(200):
        functions = data["test"]["functions"]
        report = validate_document("test", data["test"], context)
        if report.valid:
            return True
        spots = {
            (e.segments[1], e.segments[3])
            for e in report.errors
            if e.segments[:1] == ("functions",) and len(e.segments) > 3
        }
        if not spots:
            return False
        for i, j in sorted(spots, reverse=True):
            del functions[i]["statements"][j]
        data["test"]["functions"] = [f for f in functions if f["statements"]]
        if not data["test"]["functions"]:
            return False
    return False


def _drop_statements(statements: list[dict[str, Any]], kinds: frozenset[str]) -> list[dict[str, Any]]:
    """The statements without the predicates of `kinds`: expression statements that are one go, and so do
    those inside if branches and arrow function bodies (`arrayForEach(attempts, a => httpErrorPredicate(...))`);
    a statement whose branch or function is left empty goes with them."""
    out = []
    for stmt in statements:
        if stmt["kind"] == "expression" and stmt["expression"].get("kind") in kinds:
            continue
        if stmt["kind"] == "if":
            stmt["then"] = _drop_statements(stmt["then"], kinds)
            stmt["else"] = _drop_statements(stmt["else"], kinds)
            if not stmt["then"]:
                continue
        if not _strip_functions(stmt, kinds):
            continue
        out.append(stmt)
    return out


def _strip_functions(node: Any, kinds: frozenset[str]) -> bool:
    """Drop the predicates of `kinds` from every arrow function inside `node` (not in nested if branches,
    which `_drop_statements` handles); False when one is left with no statement."""
    if isinstance(node, list):
        return all(_strip_functions(item, kinds) for item in node)
    if not isinstance(node, dict):
        return True
    if node.get("kind") == "arrowFunction":
        node["statements"] = _drop_statements(node["statements"], kinds)
        return bool(node["statements"])
    return all(_strip_functions(v, kinds) for k, v in node.items() if k not in ("then", "else"))


def assertions_removed(data: Data, rng: random.Random) -> Data | None:
    """One test function checks nothing: its predicates are gone."""
    functions = [
        f
        for f in data["test"]["functions"]
        if _drop_statements(copy.deepcopy(f["statements"]), PREDICATE_KINDS) != f["statements"]
    ]
    function = pick(rng, functions)
    if function is None:
        return None
    kept = _drop_statements(function["statements"], PREDICATE_KINDS)
    if not kept:
        return None
    function["statements"] = kept
    return data if prune_tests(data) else None


def no_negative_checks(data: Data, rng: random.Random) -> Data | None:
    """No test checks that a bad call fails."""
    before = str(data["test"])
    for function in data["test"]["functions"]:
        function["statements"] = _drop_statements(function["statements"], NEGATIVE_KINDS)
    data["test"]["functions"] = [f for f in data["test"]["functions"] if f["statements"]]
    if str(data["test"]) == before or not data["test"]["functions"]:
        return None
    return data if prune_tests(data) else None


def function_off_target(data: Data, rng: random.Random) -> Data | None:
    """Two test functions swap names, one of them now named after a resource it never calls. A swap, never
    a rename into a free name: renaming into the name of a missing function would fill its place as much
    as it damages the renamed one."""
    functions = data["test"]["functions"]
    resources = {f"test_{slug(resource_of(op['path']))}" for op in data["interface"]["operations"]}
    called = {
        f["name"]: {
            f"test_{slug(s)}"
            for n in walk(f)
            if isinstance(n, dict) and n.get("kind") == "apiCall"
            for s in n["path"].split("/")
            if s and not s.startswith("{")
        }
        for f in functions
    }
    candidates = [
        (f, g)
        for f in functions
        for g in functions
        if g["name"] in resources and g["name"] not in called[f["name"]] and f is not g
    ]
    choice = pick(rng, candidates)
    if choice is None:
        return None
    f, g = choice
    f["name"], g["name"] = g["name"], f["name"]
    return data


def function_missing(data: Data, rng: random.Random) -> Data | None:
    """The test function of a resource that a required capability lives under is left out."""
    functions = data["test"]["functions"]
    doc = interface_of(data)
    subjects = {
        f"test_{slug(resource_of(op.path))}"
        for c in required(data, "capabilities")
        for op in serving(c, doc.operations)
    }
    function = pick(rng, [f for f in functions if f["name"] in subjects] or functions)
    if function is None or len(functions) < 2:
        return None
    functions.remove(function)
    return data


def wrong_test_arguments(data: Data, rng: random.Random) -> Data | None:
    """Every call of the one operation of a required capability sends a body property its request type
    does not have."""
    doc = interface_of(data)
    ops = [s[0] for c in required(data, "capabilities") if len(s := serving(c, doc.operations)) == 1]
    ops = [op for op in ops or doc.operations if op.request_body and _all_literal(data, op.method, op.path)]
    op = pick(rng, sorted({(o.method, o.path) for o in ops}))
    if op is None:
        return None
    for call in _literal_calls(data, *op):
        call["body"]["properties"].append(
            {"name": "unexpectedField", "value": {"kind": "stringLiteral", "value": "x"}}
        )
    return data


def _all_literal(data: Data, method: str, path: str) -> bool:
    calls = [
        n
        for n in walk(data["test"])
        if isinstance(n, dict) and n.get("kind") == "apiCall" and (n["method"], n["path"]) == (method, path)
    ]
    return bool(calls) and len(_literal_calls(data, method, path)) == len(calls)


def _literal_calls(data: Data, method: str, path: str) -> list[dict[str, Any]]:
    return [
        n
        for n in walk(data["test"])
        if isinstance(n, dict) and n.get("kind") == "apiCall" and (n["method"], n["path"]) == (method, path)
        and isinstance(n.get("body"), dict) and n["body"].get("kind") == "objectLiteral"
        and all(p["name"] != "unexpectedField" for p in n["body"]["properties"])
    ]  # fmt: skip


def keep_operation(data: Data, index: int) -> None:
    """Cut the interface to one operation (with the components it needs) and the tests to one function
    that calls only it (for `runner.gold.defects.minimal_answer`)."""
    from runner.oracle.answers import needed_components

    doc = interface_of(data)
    op = doc.operations[index]
    raw = data["interface"]["operations"][index]
    actors = {a["name"] for a in data["analyze"]["actors"]}
    if raw["authorizationActor"] is not None and raw["authorizationActor"] not in actors:
        raw["authorizationActor"] = sorted(actors)[0]
    needed = needed_components([n for n in (op.request_body, op.response_body) if n], doc)
    data["interface"] = {
        "operations": [raw],
        "components": [c for c in data["interface"]["components"] if c["name"] in needed],
    }
    functions = sorted(
        data["test"]["functions"],
        key=lambda f: -sum(calls_operation(s, op.method, op.path) for s in f["statements"]),
    )
    function = functions[0]
    function["name"] = f"test_{slug(resource_of(op.path))}"
    function["statements"] = [
        s
        for s in function["statements"]
        if not calls_operation(s, "*", "*") or _only_calls(s, op.method, op.path)
    ]
    data["test"]["functions"] = [function]
    if not prune_tests(data):
        raise ValueError(f"no test statement of {op.method} {op.path} survives alone")


def _only_calls(node: Any, method: str, path: str) -> bool:
    calls = [n for n in walk(node) if isinstance(n, dict) and n.get("kind") == "apiCall"]
    return all((n["method"], n["path"]) == (method, path) for n in calls)


TEST_DEFECTS = (
    ("test_without_assertions", "test", "a test function without assertions", assertions_removed),
    ("no_negative_checks", "test", "no negative (error) checks", no_negative_checks),
    ("test_off_target", "test", "a test never calls the resource it is named after", function_off_target),
    ("test_function_missing", "test", "a test function is missing", function_missing),
    (
        "wrong_test_arguments",
        "test",
        "a test call sends a body its operation does not take",
        wrong_test_arguments,
    ),
)
