"""A test document run against the backend of a database, an interface and a realize document: every
test function gets a fresh server (its own in-memory database, clock and random source, seeded from
`seed` and the function's name), and its result records the first failure with the statement path
(`$input.functions[1].statements[12]`) and the reason."""

from __future__ import annotations

import random
import time
import zlib
from dataclasses import dataclass

from runner.execute.jsvalues import AssertionFailure, HttpError, JsThrow, describe
from runner.execute.server import Server
from runner.execute.testrun import Budget, Stopped, TestRun
from runner.schemas.database import DatabaseDocument
from runner.schemas.feedback import render_path
from runner.schemas.interface import InterfaceDocument
from runner.schemas.realize import RealizeDocument
from runner.schemas.testlogic import TestDocument, TestFunction

BUDGET_KINDS = frozenset({"steps", "timeout", "recursion", "data"})


@dataclass(frozen=True)
class Failure:
    function: str
    path: str
    kind: str
    """assertion (a predicate failed), http (an API call failed unexpectedly), error (a JavaScript error
    such as reading a property of undefined), or a budget: steps, timeout, recursion, data."""
    reason: str

    def one_line(self) -> str:
        return f"{self.function} at {self.path}: {self.reason}"


@dataclass(frozen=True)
class FunctionResult:
    name: str
    failure: Failure | None
    steps: int
    calls: int
    ms: float

    @property
    def passed(self) -> bool:
        return self.failure is None


@dataclass(frozen=True)
class SuiteResult:
    functions: tuple[FunctionResult, ...]

    @property
    def passed(self) -> int:
        return sum(f.passed for f in self.functions)

    @property
    def pass_rate(self) -> float:
        return self.passed / len(self.functions) if self.functions else 0.0

    @property
    def failures(self) -> list[Failure]:
        return [f.failure for f in self.functions if f.failure is not None]


def function_seed(seed: int, name: str) -> int:
    return seed * 1_000_003 + zlib.crc32(name.encode())


def run_function(
    fn: TestFunction,
    backend: tuple[DatabaseDocument, InterfaceDocument, RealizeDocument],
    *,
    index: int = 0,
    budget: Budget | None = None,
    seed: int = 0,
) -> FunctionResult:
    """One test function on a fresh server; `index` places failure paths in the test document."""
    start = time.perf_counter()
    own_seed = function_seed(seed, fn.name)
    server = Server(*backend, seed=own_seed)
    run = TestRun(fn, server, budget or Budget(), random.Random(own_seed))
    failure = None
    try:
        run.run()
    except JsThrow as err:
        failure = _failure(fn, index, err.path, _kind(err.value), describe(err.value))
    except Stopped as err:
        failure = _failure(fn, index, err.path, err.kind, f"stopped: {err}")
    finally:
        server.close()
    ms = (time.perf_counter() - start) * 1000
    return FunctionResult(fn.name, failure, run.steps, server.calls, ms)


def run_tests(
    tests: TestDocument,
    database: DatabaseDocument,
    interface: InterfaceDocument,
    realize: RealizeDocument,
    *,
    budget: Budget | None = None,
    seed: int = 0,
) -> SuiteResult:
    """Every test function of `tests`, each against its own fresh backend."""
    backend = (database, interface, realize)
    return SuiteResult(
        tuple(
            run_function(fn, backend, index=i, budget=budget, seed=seed)
            for i, fn in enumerate(tests.functions)
        )
    )


def _kind(value: object) -> str:
    if isinstance(value, AssertionFailure):
        return "assertion"
    if isinstance(value, HttpError):
        return "http"
    return "error"


def _failure(
    fn: TestFunction, index: int, segs: tuple[str | int, ...] | None, kind: str, reason: str
) -> Failure:
    return Failure(fn.name, render_path(("functions", index, *(segs or ()))), kind, reason)
