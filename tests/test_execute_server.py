"""The realize interpreter behind a real `Server` over SQLite: every step kind, select mode, filter
operator and expression kind (the shop fixture uses them all), the checks a framework does around a
handler (tokens and actors, request and response validation), transactions, and the work budget."""

from __future__ import annotations

import copy
import random
from collections.abc import Iterator
from typing import Any

import pytest

from runner.execute import Server
from runner.execute.functions import LAZY, Clock, RealizeError, eager, hash_password, lazy
from runner.execute.handler import WORK_BUDGET
from runner.schemas.realize import RealizeDocument
from runner.schemas.realize_expressions import FUNCTIONS
from tests.support.realize_docs import REALIZE, call, lit, ref, shop


@pytest.fixture
def server() -> Iterator[Server]:
    database, interface, realize, _ = shop()
    srv = Server(database, interface, realize, seed=7)
    yield srv
    srv.close()


def _admin(server: Server) -> str:
    response = server.call("post", "/auth/admins/join", {}, {"email": "admin@shop.io"})
    assert response.status == 201 and response.token
    return response.token


def _customer(server: Server, email: str = "c@shop.io") -> tuple[str, str]:
    response = server.call("post", "/auth/customers/join", {}, {"email": email, "password": "long enough"})
    assert response.status == 201 and response.token
    return response.token, response.body["id"]


def _product(server: Server, token: str, **body: Any) -> dict[str, Any]:
    response = server.call("post", "/products", {}, {"price": 10, "stock": 5, **body}, token)
    assert response.status == 201, response
    return response.body


def test_sign_in_issues_a_token_that_authorizes_only_its_actor(server: Server) -> None:
    admin = _admin(server)
    customer, _ = _customer(server)
    assert server.call("post", "/products", {}, {"name": "x", "price": 1, "stock": 1}).status == 401
    assert (
        server.call("post", "/products", {}, {"name": "x", "price": 1, "stock": 1}, "tok_forged").status
        == 401
    )
    assert server.call("post", "/products", {}, {"name": "x", "price": 1, "stock": 1}, customer).status == 403
    assert server.handle("post", "/products", {}, {"name": "x", "price": 1, "stock": 1}, admin)[0] == 201


def test_insert_with_when_and_select_one_with_a_nullable_join(server: Server) -> None:
    admin = _admin(server)
    plain = _product(server, admin, name="Desk")
    supplied = _product(server, admin, name="Lamp", supplierName="Acme", note="bright")
    assert plain["supplier"] is None and "note" not in plain  # null optional property is left out
    assert supplied["supplier"]["name"] == "Acme" and supplied["note"] == "bright"
    status, body = server.handle("get", "/products/{productId}", {"productId": supplied["id"]})
    assert status == 200 and body == supplied
    missing = server.handle(
        "get", "/products/{productId}", {"productId": "00000000-0000-4000-8000-000000000000"}
    )
    assert missing == (404, {"status": 404, "message": "no products row matches"})


def test_check_stops_with_its_status_and_message(server: Server) -> None:
    admin = _admin(server)
    status, body = server.handle("post", "/products", {}, {"name": "x", "price": -1, "stock": 1}, admin)
    assert (status, body["message"]) == (400, "the price is negative")


def test_page_with_every_filter_operator_and_ordering(server: Server) -> None:
    admin = _admin(server)
    cheap = _product(server, admin, name="Pen 100%", price=2, stock=1)
    mid = _product(server, admin, name="Pad", price=5, stock=9)
    _product(server, admin, name="Pan", price=5, stock=3, supplierName="Zed")
    _product(server, admin, name="Pot", price=50, stock=9, supplierName="Acme")

    def names(body: dict[str, Any]) -> list[str]:
        return [p["name"] for p in server.handle("patch", "/products", {}, body)[1]["data"]]

    assert names({}) == ["Pen 100%", "Pan", "Pad", "Pot"]  # price asc, then name desc
    assert names({"search": "100%"}) == ["Pen 100%"]  # contains: % is a character, not a wildcard
    assert names({"search": "p"}) == ["Pen 100%", "Pan", "Pad", "Pot"]  # ignoring case
    assert names({"maxPrice": 5}) == ["Pen 100%", "Pan", "Pad"]  # le
    assert names({"minStock": 9}) == ["Pad", "Pot"]  # ge
    assert names({"ids": [cheap["id"], mid["id"]]}) == ["Pen 100%", "Pad"]  # in
    assert names({"ids": []}) == []
    assert names({"withSupplier": True}) == ["Pot", "Pan"]  # notNull, ordered by a joined column
    page = server.handle("patch", "/products", {}, {"page": 2, "limit": 3})[1]
    assert page["pagination"] == {"current": 2, "limit": 3, "records": 4, "pages": 2}
    assert [p["name"] for p in page["data"]] == ["Pot"]
    assert server.handle("patch", "/products", {}, {"page": 0})[0] == 400


def test_many_in_let_find_map_each_and_increment(server: Server) -> None:
    admin = _admin(server)
    customer, customer_id = _customer(server)
    lamp = _product(server, admin, name="Lamp", price=10.5, stock=3)
    desk = _product(server, admin, name="Desk", price=99, stock=1)
    lines = [{"productId": lamp["id"], "quantity": 2}, {"productId": desk["id"], "quantity": 1}]
    status, order = server.handle("post", "/orders", {}, {"lines": lines}, customer)
    assert status == 201
    assert order == {
        "id": order["id"],
        "customerId": customer_id,
        "total": 120.0,
        "lines": lines,
        "tags": ["new", "lines:2"],
    }
    assert server.handle("get", "/products/{productId}", {"productId": lamp["id"]})[1]["stock"] == 1
    again = server.handle("post", "/orders", {}, {"lines": lines}, customer)
    assert again[0] == 409 and again[1]["message"] == "out of stock"  # check with each
    unknown = [{"productId": "00000000-0000-4000-8000-000000000000", "quantity": 1}]
    assert server.handle("post", "/orders", {}, {"lines": unknown}, customer)[0] == 404


def test_count_sum_first_and_time_functions(server: Server) -> None:
    admin = _admin(server)
    customer, _ = _customer(server)
    empty = server.handle("get", "/orders/stats", {}, None, customer)[1]
    assert empty == {
        "count": 0,
        "spent": 0,
        "largest": None,
        "weekday": 0,
        "later": "2026-02-01T10:00:00.000Z",
    }
    product = _product(server, admin, name="Cup", price=3, stock=10)
    for quantity in (1, 4):
        server.call(
            "post", "/orders", {}, {"lines": [{"productId": product["id"], "quantity": quantity}]}, customer
        )
    stats = server.handle("get", "/orders/stats", {}, None, customer)[1]
    assert (stats["count"], stats["spent"], stats["largest"]) == (2, 15.0, 12.0)


def test_update_when_provided_and_select_none_then_delete(server: Server) -> None:
    admin = _admin(server)
    customer, _ = _customer(server)
    product = _product(server, admin, name="Mug", stock=2)
    path = {"productId": product["id"]}
    renamed = server.handle("put", "/products/{productId}", path, {"name": "Big mug", "restock": 3}, admin)[1]
    assert (renamed["name"], renamed["stock"], renamed["active"]) == ("Big mug", 5, True)
    kept = server.handle("put", "/products/{productId}", path, {"active": False}, admin)[1]
    assert (kept["name"], kept["stock"], kept["active"]) == ("Big mug", 5, False)
    other = _product(server, admin, name="Bowl")
    server.call("post", "/orders", {}, {"lines": [{"productId": other["id"], "quantity": 1}]}, customer)
    assert server.handle("delete", "/products/{productId}", {"productId": other["id"]}, None, admin)[0] == 409
    assert server.handle("delete", "/products/{productId}", path, None, admin) == (204, None)
    assert server.handle("get", "/products/{productId}", path)[0] == 404


def test_ownership_check_answers_403(server: Server) -> None:
    admin = _admin(server)
    alice, _ = _customer(server, "alice@shop.io")
    bob, _ = _customer(server, "bob@shop.io")
    product = _product(server, admin, name="Key")
    order = server.handle(
        "post", "/orders", {}, {"lines": [{"productId": product["id"], "quantity": 1}]}, alice
    )[1]
    assert server.handle("get", "/orders/{orderId}", {"orderId": order["id"]}, None, alice)[0] == 200
    assert (
        server.handle("get", "/orders/{orderId}", {"orderId": order["id"]}, None, bob)[1]["message"]
        == "not your order"
    )


def test_request_validation_answers_400(server: Server) -> None:
    short = server.handle("post", "/auth/customers/join", {}, {"email": "a@b.io", "password": "short"})
    assert short == (400, {"status": 400, "message": "body.password: shorter than 8 characters"})
    assert (
        server.handle(
            "post", "/auth/customers/join", {}, {"email": "not-an-email", "password": "long enough"}
        )[0]
        == 400
    )
    assert server.handle("post", "/auth/customers/join", {}, None)[0] == 400
    assert server.handle("get", "/products/{productId}", {"productId": "42"})[0] == 400
    assert server.handle("get", "/nowhere", {})[0] == 404


def test_unique_index_answers_409_and_the_transaction_rolls_back(server: Server) -> None:
    _customer(server, "same@shop.io")
    status, body = server.handle(
        "post", "/auth/customers/join", {}, {"email": "same@shop.io", "password": "long enough"}
    )
    assert status == 409 and "UNIQUE" in body["message"]
    assert server.conn.execute("SELECT COUNT(*) FROM customers").fetchone()[0] == 1


def _with(edit: Any) -> Server:
    database, interface, _, _ = shop()
    data = copy.deepcopy(REALIZE)
    edit(data["operations"])
    return Server(database, interface, RealizeDocument.model_validate(data))


def test_a_response_that_does_not_match_its_component_is_the_operations_bug() -> None:
    server = _with(lambda ops: ops[4]["returns"]["properties"][1].update(value=lit(7)))
    product = _product(server, _admin(server), name="Ok")
    status, body = server.handle("get", "/products/{productId}", {"productId": product["id"]})
    assert status == 500 and body["message"].startswith("the response is not a IProduct: response.name")


def test_a_failing_step_rolls_back_the_writes_before_it() -> None:
    # the customer is inserted, then signIn fails on a wrong account expression: nothing stays
    server = _with(lambda ops: ops[0]["steps"][1].update(account=ref("customer")))
    status, body = server.handle(
        "post", "/auth/customers/join", {}, {"email": "a@b.io", "password": "long enough"}
    )
    assert status == 500 and "signIn needs an account id" in body["message"]
    assert server.conn.execute("SELECT COUNT(*) FROM customers").fetchone()[0] == 0


def test_a_foreign_key_violation_is_a_database_error() -> None:
    server = _with(lambda ops: ops[6]["steps"].pop(1))  # delete a product that order lines still reference
    admin, (customer, _) = _admin(server), _customer(server)
    product = _product(server, admin, name="Held")
    server.call("post", "/orders", {}, {"lines": [{"productId": product["id"], "quantity": 1}]}, customer)
    status, body = server.handle("delete", "/products/{productId}", {"productId": product["id"]}, None, admin)
    assert status == 500 and "FOREIGN KEY" in body["message"]


def test_work_is_bounded_per_request() -> None:
    endless = call("range", lit(10_000))
    server = _with(
        lambda ops: ops[8]["steps"].insert(
            0,
            {
                "kind": "let",
                "as": "spin",
                "value": {
                    "kind": "map",
                    "array": endless,
                    "as": "i",
                    "value": {"kind": "map", "array": endless, "as": "j", "value": ref("j")},
                },
            },
        )
    )
    customer, _ = _customer(server)
    status, body = server.handle("get", "/orders/stats", {}, None, customer)
    assert status == 500 and f"work budget of {WORK_BUDGET}" in body["message"]


def test_an_operation_without_logic_answers_501() -> None:
    server = _with(lambda ops: ops.pop(8))
    customer, _ = _customer(server)
    assert server.handle("get", "/orders/stats", {}, None, customer)[0] == 501


def test_each_server_has_its_own_database() -> None:
    first = _with(lambda ops: None)
    _customer(first, "one@shop.io")
    second = _with(lambda ops: None)
    assert second.conn.execute("SELECT COUNT(*) FROM customers").fetchone()[0] == 0


FUNCTION_CASES: list[tuple[str, list[Any], Any]] = [
    ("eq", [None, None], True), ("eq", [1, True], False), ("ne", ["a", "b"], True),
    ("lt", ["2026-01-01", "2026-02-01"], True), ("le", [2, 2], True), ("gt", [3, 2.5], True), ("ge", [1, 2], False),
    ("and", [True, False], False), ("or", [False, True], True), ("not", [False], True),
    ("if", [False, "a", "b"], "b"), ("isNull", [None], True), ("coalesce", [None, None, 3], 3),
    ("add", [1, 2], 3), ("sub", [1, 2], -1), ("mul", [2, 2.5], 5.0), ("div", [7, 2], 3.5), ("mod", [7, 3], 1.0),
    ("min", [3, 1, 2], 1), ("max", [3, 1, 2], 3), ("round", [2.5], 3),
    ("concat", ["a", 1, "b"], "a1b"), ("lower", ["AbC"], "abc"), ("upper", ["abc"], "ABC"), ("trim", [" x "], "x"),
    ("length", [[1, 2]], 2), ("contains", ["Hello", "ELL"], True), ("contains", [[1, 2], 3], False),
    ("sum", [[1, 2, 3.5]], 6.5), ("first", [[]], None), ("find", [[{"id": 1}, {"id": 2}], "id", 2], {"id": 2}),
    ("range", [3], [0, 1, 2]), ("flatten", [[[1], [2, 3]]], [1, 2, 3]),
    ("now", [], "2026-03-04T05:06:07.089Z"), ("addDays", ["2026-02-28T00:00:00.000Z", 1], "2026-03-01T00:00:00.000Z"),
    ("addHours", ["2026-01-01T23:00:00Z", 2], "2026-01-02T01:00:00.000Z"), ("addMinutes", ["2026-01-01T00:00:00.000Z", -1], "2025-12-31T23:59:00.000Z"),
    ("daysBetween", ["2026-01-01T00:00:00Z", "2026-01-11T12:00:00Z"], 10), ("weekday", ["2026-01-05T00:00:00Z"], 1),
    ("verifyPassword", ["secret", hash_password("secret")], True), ("verifyPassword", ["secret", None], False),
]  # fmt: skip


@pytest.mark.parametrize(("name", "args", "expected"), FUNCTION_CASES)
def test_every_function(name: str, args: list[Any], expected: Any) -> None:
    if name in LAZY:
        assert lazy(name, [lambda a=a: a for a in args]) == expected
    else:
        assert eager(random.Random(0), "2026-03-04T05:06:07.089Z")[name](*args) == expected


def test_the_function_table_is_complete_and_errors_are_realize_errors() -> None:
    implemented = set(eager(random.Random(0), "")) | LAZY
    assert implemented == set(FUNCTIONS)
    assert {name for name, _, _ in FUNCTION_CASES} | {"provided", "uuid", "code", "hashPassword"} == set(
        FUNCTIONS
    )
    functions = eager(random.Random(0), "")
    assert len(functions["code"](8)) == 8 and functions["uuid"]() != functions["uuid"]()
    with pytest.raises(RealizeError, match="expected a number"):
        functions["add"]("1", 2)
    with pytest.raises(RealizeError, match="division by zero"):
        functions["div"](1, 0)


def test_the_clock_only_moves_forward() -> None:
    clock = Clock(1000)
    assert [clock.now_ms() for _ in range(3)] == [1001, 1002, 1003]


def test_a_value_the_database_cannot_hold_is_a_500_not_a_crash() -> None:
    huge = call("mul", ref("body", "stock"), lit(10**19))
    server = _with(lambda ops: ops[2]["steps"][2]["values"][3].update(value=huge))
    status, body = server.handle(
        "post", "/products", {}, {"name": "x", "price": 1, "stock": 1}, _admin(server)
    )
    assert status == 500 and body["message"].startswith("OverflowError")
