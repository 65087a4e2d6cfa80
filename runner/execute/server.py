"""The backend a project's documents make, served in-process: the database document's DDL in a private
in-memory SQLite database (foreign keys enforced), the interface's operations as routes, and the realize
operations as their handlers. No network: `Server.handle(method, path, params, body, token)`.

Around every handler the server does what a typed backend framework does: it checks the path
parameters and the request body against the interface (400), the token against the operation's actors
(401 without a valid token, 403 for another actor), runs the handler in a transaction (rolled back on
any error; a write that breaks a unique index answers 409, any other database error 500), and checks
the response against its component (a mismatch is the operation's bug: 500). A `signIn` step's token
is returned in `Response.token`: the caller (the test runner) acts as that account from then on."""

from __future__ import annotations

import random
import sqlite3
import uuid
from dataclasses import dataclass
from typing import Any

from runner.execute.conform import Conformer
from runner.execute.functions import MISSING, Clock, RealizeError
from runner.execute.handler import Handler, HttpStop
from runner.execute.store import Store
from runner.render.ddl import render_ddl
from runner.render.openapi import SUCCESS_STATUS
from runner.schemas.database import DatabaseDocument
from runner.schemas.interface import IntegerSchema, InterfaceDocument, Operation
from runner.schemas.realize import RealizeDocument, RealizeOperation


@dataclass(frozen=True)
class Response:
    status: int
    body: Any
    token: str | None = None
    """A token issued by this call (join, login): the caller acts as its account from now on."""

    @property
    def ok(self) -> bool:
        return self.status < 400


def _error(status: int, message: str) -> Response:
    return Response(status, {"status": status, "message": message})


class Server:
    def __init__(
        self,
        database: DatabaseDocument,
        interface: InterfaceDocument,
        realize: RealizeDocument,
        *,
        seed: int = 0,
        clock: Clock | None = None,
    ) -> None:
        self.conn = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
        self.conn.execute("PRAGMA foreign_keys = ON")
        self.conn.executescript(render_ddl(database))
        self.operations: dict[tuple[str, str], Operation] = {
            (o.method, o.path): o for o in interface.operations
        }
        self.logic: dict[tuple[str, str], RealizeOperation] = {
            (o.method, o.path): o for o in realize.operations
        }
        self.conformer = Conformer(interface)
        self.clock = clock or Clock()
        self.handler = Handler(Store(self.conn, database), random.Random(seed), self.clock)
        self.tokens: dict[str, tuple[str, str]] = {}
        self.calls = 0

    def close(self) -> None:
        self.conn.close()

    def handle(
        self, method: str, path: str, params: dict[str, Any], body: Any = None, token: str | None = None
    ) -> tuple[int, Any]:
        """(status, JSON body) of one call; `path` is the operation's path template."""
        response = self.call(method, path, params, body, token)
        return response.status, response.body

    def call(
        self, method: str, path: str, params: dict[str, Any], body: Any = None, token: str | None = None
    ) -> Response:
        self.calls += 1
        op = self.operations.get((method.lower(), path))
        if op is None:
            return _error(404, f"no operation {method.upper()} {path}")
        logic = self.logic.get((op.method, op.path))
        if logic is None:
            return _error(501, f"{method.upper()} {path} has no realize logic")
        session = self.tokens.get(token or "")
        if logic.actors and session is None:
            return _error(401, "sign in first: this operation needs a token")
        if logic.actors and session is not None and session[0] not in logic.actors:
            return _error(403, f"a {session[0]} may not call this operation")
        problem = self._request_problem(op, params, body)
        if problem:
            return _error(400, problem)
        actor = {"id": session[1], "role": session[0]} if session else None
        return self._run(op, logic, self._params(op, params), body if op.request_body else MISSING, actor)

    def _request_problem(self, op: Operation, params: dict[str, Any], body: Any) -> str | None:
        for p in op.path_parameters:
            value = params.get(p.name)
            if isinstance(p.schema, IntegerSchema):
                if (
                    isinstance(value, bool)
                    or not isinstance(value, int | float | str)
                    or not str(value).lstrip("-").isdigit()
                ):
                    return f"path parameter {p.name}: expected an integer, got {value!r}"
            elif not _is_uuid(value):
                return f"path parameter {p.name}: expected a uuid, got {value!r}"
        if op.request_body is None:
            return None
        if body is None:
            return f"a {op.request_body} body is required"
        return self.conformer.component(body, op.request_body, "body")

    def _params(self, op: Operation, params: dict[str, Any]) -> dict[str, Any]:
        out = {}
        for p in op.path_parameters:
            value = params[p.name]
            out[p.name] = int(value) if isinstance(p.schema, IntegerSchema) else value
        return out

    def _run(
        self, op: Operation, logic: RealizeOperation, params: dict[str, Any], body: Any, actor: Any
    ) -> Response:
        self.conn.execute("BEGIN")
        try:
            outcome = self.handler.run(logic, params, body, actor)
        except HttpStop as stop:
            self.conn.execute("ROLLBACK")
            return _error(stop.status, stop.message)
        except sqlite3.IntegrityError as err:
            self.conn.execute("ROLLBACK")
            if "UNIQUE" in str(err):
                return _error(409, f"conflict: {err}")
            return _error(500, f"database error: {err}")
        except (RealizeError, sqlite3.Error, ArithmeticError, ValueError) as err:
            # the logic is the model's: whatever it cannot compute is its 500, never the runner's crash
            self.conn.execute("ROLLBACK")
            return _error(500, f"{type(err).__name__}: {err}")
        value = outcome.value
        if op.response_body is not None:
            value = self.conformer.prune(value, op.response_body)
            problem = self.conformer.component(value, op.response_body, "response", strict=True)
            if problem:
                self.conn.execute("ROLLBACK")
                return _error(500, f"the response is not a {op.response_body}: {problem}")
        self.conn.execute("COMMIT")
        token = None
        for actor_name, account, token in outcome.tokens:
            self.tokens[token] = (actor_name, account)
        if op.response_body is None:
            return Response(204, None, token)
        return Response(int(SUCCESS_STATUS[op.method]), value, token)


def _is_uuid(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True
