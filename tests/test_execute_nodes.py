"""Every node kind of the realize language runs in the interpreter: the shop fixture uses each step kind,
select mode, filter operator and expression kind, `each` on every step that has it and `when` on every
step, and the operations that exercise the rarer ones (signIn under `when`; ne, lt, gt and isNull
filters; `each` and `when` on delete; `when` on let and check) are called here through a real Server."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, get_args

import pytest

from runner.execute import Server
from runner.gold.defect_kinds import walk
from runner.schemas.base import AstModel
from runner.schemas.realize import EXPRESSION_TYPES, STEP_TYPES, FilterOp, SelectMode
from tests.support.realize_docs import REALIZE, shop


def _kinds(types: tuple[type[AstModel], ...]) -> set[str]:
    return {get_args(t.model_fields["kind"].annotation)[0] for t in types}


def test_the_shop_uses_every_realize_node_kind() -> None:
    realize: dict[str, Any] = REALIZE
    steps = [st for op in realize["operations"] for st in op["steps"]]
    expressions = {n["kind"] for n in walk(realize) if isinstance(n, dict) and "kind" in n} - _kinds(
        STEP_TYPES
    )
    filters = [f for st in steps for f in st.get("where", [])]
    assert {st["kind"] for st in steps} == _kinds(STEP_TYPES)
    assert {st["mode"] for st in steps if st["kind"] == "select"} == set(get_args(SelectMode))
    assert {f["op"] for f in filters} == set(get_args(FilterOp))
    assert expressions == _kinds(EXPRESSION_TYPES)
    with_each = _kinds(tuple(c for c in STEP_TYPES if "each" in c.model_fields))
    assert (
        {st["kind"] for st in steps if "each" in st} == with_each == {"insert", "update", "delete", "check"}
    )
    assert {st["kind"] for st in steps if "when" in st} == _kinds(STEP_TYPES)


@pytest.fixture
def server() -> Iterator[Server]:
    database, interface, realize, _ = shop()
    srv = Server(database, interface, realize, seed=3)
    yield srv
    srv.close()


def test_sign_in_under_when_issues_no_token_when_skipped(server: Server) -> None:
    joined = server.call("post", "/auth/customers/join", {}, {"email": "c@x.io", "password": "long enough"})
    credentials = {"email": "c@x.io", "password": "long enough"}
    checked = server.call("post", "/auth/customers/login", {}, {**credentials, "verifyOnly": True})
    assert (checked.status, checked.body, checked.token) == (
        201,
        {"id": joined.body["id"], "token": None},
        None,
    )
    session = server.call("post", "/auth/customers/login", {}, credentials)
    assert session.token is not None and session.body["token"]["access"] == session.token
    assert session.body["id"] == joined.body["id"]
    wrong = server.call("post", "/auth/customers/login", {}, {**credentials, "password": "not it at all"})
    assert (wrong.status, wrong.body["message"]) == (401, "wrong password")
    unknown = server.call("post", "/auth/customers/login", {}, {**credentials, "email": "who@x.io"})
    assert unknown.status == 401 and unknown.token is None


def test_filters_ne_lt_gt_is_null_and_a_delete_per_element_under_when(server: Server) -> None:
    admin = server.call("post", "/auth/admins/join", {}, {"email": "a@x.io"}).token

    def product(name: str, price: float, note: str | None = None) -> str:
        body = {"name": name, "price": price, "stock": 1, "note": note}
        response = server.call("post", "/products", {}, body, admin)
        assert response.status == 201, response
        return str(response.body["id"])

    ids = [product("Ink", 2), product("Pad", 5), product("Pen", 8, note="signed"), product("Keep", 3)]
    ids.append(product("Desk", 20))

    def prune(**body: Any) -> tuple[int, Any]:
        return server.handle("post", "/products/prune", {}, {"ids": ids, **body}, admin)

    assert prune(below=-1) == (400, {"status": 400, "message": "below is negative"})  # check under when
    assert prune(below=10, dryRun=True) == (201, {"removed": 0, "left": 5})  # let and delete skipped
    # lt 10 drops Desk, ne keeps "Keep", isNull keeps the noted Pen: Ink and Pad go, one delete each
    assert prune(below=10, keep="Keep") == (201, {"removed": 2, "left": 3})
    left = server.handle("patch", "/products", {}, {"ids": ids})[1]["data"]
    assert sorted(p["name"] for p in left) == ["Desk", "Keep", "Pen"]
    assert prune() == (201, {"removed": 2, "left": 1})  # no bound, no name kept: Keep and Desk go
