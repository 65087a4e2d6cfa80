"""Runtime correctness: the backend a project's documents make, served in-process, and its tests run.

# The realize language (what a model writes; AST in `runner.schemas.realize`)

One `RealizeOperation` per interface operation, named by its `method` and `path`:

    {"method": "get", "path": "/todos/{todoId}", "actors": ["member"],
     "steps": [
       {"kind": "select", "table": "todos", "as": "todo", "mode": "one",
        "joins": [{"foreignKey": "todo_list_id", "as": "list"}],
        "where": [{"column": "id", "op": "eq", "value": {"kind": "ref", "name": "params", "path": ["todoId"]}},
                  {"join": "list", "column": "member_id", "op": "eq",
                   "value": {"kind": "ref", "name": "actor", "path": ["id"]}}]}],
     "returns": {"kind": "object", "properties": [
       {"name": "id", "value": {"kind": "ref", "name": "todo", "path": ["id"]}}, ...]}}

- `actors`: who may call (no token: 401; another actor's token: 403); `[]` is public (`actor` is then
  null unless a token was sent).
- In scope: `params` (path parameters), `body` (the request body, already validated against its
  component: a mismatch answered 400), `actor` ({id, role}), and every earlier step's `as`.
- Steps run in order, flat (no blocks): `select` (modes one/first/many/page/count/sum/none, filters,
  joins along foreign keys, ordering, pagination), `insert` (the primary key is generated), `update`
  (`increment` for counters), `delete` (children first: foreign keys are enforced), `check` (else
  400/401/403/404/409 with a message), `let`, and `signIn`, which issues a token for an account of an
  actor: that is how a join or login operation is written, and the caller acts as that account for the
  calls that follow. `when` makes any step conditional; `each` repeats a write or check per element.
- Expressions: literal, ref (a name then a path of columns, joins or properties; reading into null
  gives null), call (a closed set of functions: comparisons, logic, arithmetic, text, arrays, time,
  passwords, ids), object, array, map. No raw SQL anywhere: tables and columns are names checked
  against the database document, so a realize AST cannot touch anything but its own tables.
- `returns` is the response body; it must have the response component's shape (checked statically,
  and again at run time: a response that does not match its component is answered 500).
- Every request runs in a transaction (rolled back on any error); a write that breaks a unique index
  answers 409, any other database error 500. Times are ISO 8601 text; `now()` is the request's time.

# Modules

`server` (the `Server`: DDL, routes, auth, validation, transactions), `handler` (steps and
expressions), `store` (the only SQL), `functions` (the `call` functions, the clock), `conform` (JSON vs
interface schemas); `testrun`/`testexpr` (the test AST interpreter with its `Budget`), `jsvalues`,
`jsbuiltins`, `jsglobals` (JavaScript values, methods and globals), `randomdata` (seeded generators),
`suite` (`run_tests`: a fresh server per test function, failures with paths), `bugs` (injected logic
bugs for mutation scores)."""

from __future__ import annotations

from runner.execute.bugs import Bug, mutants
from runner.execute.server import Response, Server
from runner.execute.suite import Failure, FunctionResult, SuiteResult, run_function, run_tests
from runner.execute.testrun import Budget

__all__ = [
    "Budget",
    "Bug",
    "Failure",
    "FunctionResult",
    "Response",
    "Server",
    "SuiteResult",
    "mutants",
    "run_function",
    "run_tests",
]
