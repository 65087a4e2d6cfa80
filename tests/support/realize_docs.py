"""A small shop (customers, admins, suppliers, products, orders, order lines) whose realize document uses
every step kind, select mode, filter operator and expression kind of the realize language, so that
the interpreter's tests can call each of them through a real `Server`; and builders for realize JSON."""

from __future__ import annotations

from typing import Any

from runner.schemas.checks.realize import RealizeContext
from runner.schemas.database import DatabaseDocument
from runner.schemas.interface import InterfaceDocument
from runner.schemas.realize import RealizeDocument


def lit(value: Any) -> dict[str, Any]:
    return {"kind": "literal", "value": value}


def ref(name: str, *path: str) -> dict[str, Any]:
    return {"kind": "ref", "name": name, "path": list(path)}


def call(function: str, *args: Any) -> dict[str, Any]:
    return {"kind": "call", "function": function, "arguments": list(args)}


def obj(**props: Any) -> dict[str, Any]:
    return {"kind": "object", "properties": [{"name": k, "value": v} for k, v in props.items()]}


def each_map(array: Any, element: str, value: Any) -> dict[str, Any]:
    return {"kind": "map", "array": array, "as": element, "value": value}


def flt(column: str, op: str, value: Any = None, **extra: Any) -> dict[str, Any]:
    out = {"column": column, "op": op, **extra}
    if value is not None:
        out["value"] = value
    return out


def _col(name: str, type_: str, nullable: bool = False) -> dict[str, Any]:
    return {"name": name, "type": type_, "nullable": nullable, "description": name}


def _fk(name: str, target: str, nullable: bool = False) -> dict[str, Any]:
    return {"name": name, "targetTable": target, "unique": False, "nullable": nullable, "description": name}


def _table(name: str, fks: list[Any], cols: list[Any], unique: tuple[list[str], ...] = ()) -> dict[str, Any]:
    return {
        "name": name,
        "description": name,
        "stance": "primary",
        "foreignKeys": fks,
        "columns": cols,
        "uniqueIndexes": [{"columns": c} for c in unique],
        "plainIndexes": [],
    }


DATABASE = {
    "files": [
        {
            "filename": "schema-shop.prisma",
            "namespace": "Shop",
            "tables": [
                _table(
                    "customers", [], [_col("email", "string"), _col("password_hash", "string")], (["email"],)
                ),
                _table("admins", [], [_col("email", "string")]),
                _table("suppliers", [], [_col("name", "string")]),
                _table(
                    "products",
                    [_fk("supplier_id", "suppliers", nullable=True)],
                    [
                        _col("name", "string"),
                        _col("price", "double"),
                        _col("stock", "int"),
                        _col("active", "boolean"),
                        _col("note", "string", True),
                        _col("created_at", "datetime"),
                    ],
                ),
                _table(
                    "orders",
                    [_fk("customer_id", "customers")],
                    [_col("total", "double"), _col("created_at", "datetime")],
                ),
                _table(
                    "order_lines",
                    [_fk("order_id", "orders"), _fk("product_id", "products")],
                    [_col("quantity", "int")],
                ),
            ],
        }
    ]
}

S = {"type": "string"}
UUID = {"type": "string", "format": "uuid"}
NUM = {"type": "number"}
INT = {"type": "integer"}
BOOL = {"type": "boolean"}
NULL = {"type": "null"}


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def _component(component: str, required: list[str], **props: Any) -> dict[str, Any]:
    schema = {"type": "object", "properties": props, "required": required, "description": component}
    return {"name": component, "description": component, "schema": schema}


def _op(
    method: str, path: str, request: str | None, response: str | None, actor: str | None
) -> dict[str, Any]:
    params = [
        {"name": seg[1:-1], "description": "id", "schema": UUID}
        for seg in path.split("/")
        if seg.startswith("{")
    ]
    return {"path": path, "method": method, "name": method, "description": f"{method} {path}", "pathParameters": params, "requestBody": request, "responseBody": response, "authorizationActor": actor}  # fmt: skip


PRODUCT = ["id", "name", "price", "stock", "active", "note", "supplier"]
INTERFACE = {
    "operations": [
        _op("post", "/auth/customers/join", "ICustomer.IJoin", "ICustomer.IAuthorized", None),
        _op("post", "/auth/admins/join", "IAdmin.IJoin", "IAdmin.IAuthorized", None),
        _op("post", "/products", "IProduct.ICreate", "IProduct", "admin"),
        _op("patch", "/products", "IProduct.IRequest", "IPageIProduct", None),
        _op("get", "/products/{productId}", None, "IProduct", None),
        _op("put", "/products/{productId}", "IProduct.IUpdate", "IProduct", "admin"),
        _op("delete", "/products/{productId}", None, None, "admin"),
        _op("post", "/orders", "IOrder.ICreate", "IOrder", "customer"),
        _op("get", "/orders/stats", None, "IOrder.IStats", "customer"),
        _op("get", "/orders/{orderId}", None, "IOrder", "customer"),
        _op("post", "/auth/customers/login", "ICustomer.ILogin", "ICustomer.ISession", None),
        _op("post", "/products/prune", "IProduct.IPrune", "IProduct.IPruned", "admin"),
    ],
    "components": [
        _component(
            "ICustomer.IJoin",
            ["email", "password"],
            email={"type": "string", "format": "email"},
            password={"type": "string", "minLength": 8},
        ),
        _component("ICustomer.IAuthorized", ["id", "token"], id=UUID, token=_ref("IToken")),
        _component(
            "IToken", ["access", "expiredAt"], access=S, expiredAt={"type": "string", "format": "date-time"}
        ),
        _component("IAdmin.IJoin", ["email"], email=S),
        _component("IAdmin.IAuthorized", ["id", "token"], id=UUID, token=_ref("IToken")),
        _component(
            "IProduct.ICreate",
            ["name", "price", "stock"],
            name=S,
            price=NUM,
            stock=INT,
            note={"oneOf": [S, {"type": "null"}]},
            supplierName={"oneOf": [S, {"type": "null"}]},
        ),
        _component(
            "IProduct",
            ["id", "name", "price", "stock", "active", "supplier"],
            id=UUID,
            name=S,
            price=NUM,
            stock=INT,
            active=BOOL,
            note=S,
            supplier={"oneOf": [_ref("ISupplier"), {"type": "null"}]},
        ),
        _component("ISupplier", ["id", "name"], id=UUID, name=S),
        _component(
            "IProduct.IRequest",
            [],
            page=INT,
            limit=INT,
            search={"oneOf": [S, {"type": "null"}]},
            maxPrice={"oneOf": [NUM, {"type": "null"}]},
            minStock={"oneOf": [INT, {"type": "null"}]},
            ids={"oneOf": [{"type": "array", "items": UUID}, {"type": "null"}]},
            withSupplier={"oneOf": [BOOL, {"type": "null"}]},
            cheapFirst={"oneOf": [BOOL, {"type": "null"}]},
        ),
        _component(
            "IPageIProduct",
            ["pagination", "data"],
            pagination=_ref("IPagination"),
            data={"type": "array", "items": _ref("IProduct")},
        ),
        _component(
            "IPagination",
            ["current", "limit", "records", "pages"],
            current=INT,
            limit=INT,
            records=INT,
            pages=INT,
        ),
        _component("IProduct.IUpdate", [], name=S, restock=INT, active=BOOL),
        _component("IOrder.ICreate", ["lines"], lines={"type": "array", "items": _ref("IOrderLine")}),
        _component("IOrderLine", ["productId", "quantity"], productId=UUID, quantity=INT),
        _component(
            "IOrder",
            ["id", "customerId", "total", "lines", "tags"],
            id=UUID,
            customerId=UUID,
            total=NUM,
            lines={"type": "array", "items": _ref("IOrderLine")},
            tags={"type": "array", "items": S},
        ),
        _component(
            "IOrder.IStats",
            ["count", "spent", "largest", "weekday", "later"],
            count=INT,
            spent=NUM,
            largest={"oneOf": [NUM, {"type": "null"}]},
            weekday=INT,
            later=S,
        ),
        _component("ICustomer.ILogin", ["email", "password"], email=S, password=S, verifyOnly=BOOL),
        _component("ICustomer.ISession", ["id", "token"], id=UUID, token={"oneOf": [_ref("IToken"), NULL]}),
        _component(
            "IProduct.IPrune",
            ["ids"],
            ids={"type": "array", "items": UUID},
            below={"oneOf": [NUM, {"type": "null"}]},
            keep={"oneOf": [S, {"type": "null"}]},
            dryRun=BOOL,
        ),
        _component("IProduct.IPruned", ["removed", "left"], removed=INT, left=INT),
    ],
}


def _product(row: str, supplier: Any) -> dict[str, Any]:
    return obj(id=ref(row, "id"), name=ref(row, "name"), price=ref(row, "price"), stock=ref(row, "stock"), active=ref(row, "active"), note=ref(row, "note"), supplier=supplier)  # fmt: skip


def _supplier(row: str) -> dict[str, Any]:
    joined = call("if", call("isNull", ref(row, "supplier")), lit(None), obj(id=ref(row, "supplier", "id"), name=ref(row, "supplier", "name")))  # fmt: skip
    return joined


ONE_PRODUCT = {"kind": "select", "table": "products", "as": "product", "mode": "one", "joins": [{"foreignKey": "supplier_id", "as": "supplier"}], "where": [flt("id", "eq", ref("params", "productId"))]}  # fmt: skip
LINES = ref("body", "lines")
PAIRS = each_map(
    LINES, "l", obj(line=ref("l"), product=call("find", ref("products"), lit("id"), ref("l", "productId")))
)


def _step(kind: str, **fields: Any) -> dict[str, Any]:
    return {"kind": kind, **fields}


REALIZE = {
    "operations": [
        {"method": "post", "path": "/auth/customers/join", "actors": [], "steps": [
            _step("insert", table="customers", **{"as": "customer"}, values=[{"column": "email", "value": ref("body", "email")}, {"column": "password_hash", "value": call("hashPassword", ref("body", "password"))}]),
            _step("signIn", actor="customer", account=ref("customer", "id"), **{"as": "token"}),
        ], "returns": obj(id=ref("customer", "id"), token=ref("token"))},
        {"method": "post", "path": "/auth/admins/join", "actors": [], "steps": [
            _step("insert", table="admins", **{"as": "admin"}, values=[{"column": "email", "value": ref("body", "email")}]),
            _step("signIn", actor="admin", account=ref("admin", "id"), **{"as": "token"}),
        ], "returns": obj(id=ref("admin", "id"), token=ref("token"))},
        {"method": "post", "path": "/products", "actors": ["admin"], "steps": [
            _step("check", condition=call("ge", ref("body", "price"), lit(0)), status=400, message="the price is negative"),
            _step("insert", table="suppliers", **{"as": "supplier"}, values=[{"column": "name", "value": ref("body", "supplierName")}], when=call("not", call("isNull", ref("body", "supplierName")))),
            _step("insert", table="products", **{"as": "created"}, values=[
                {"column": "supplier_id", "value": ref("supplier", "id")}, {"column": "name", "value": ref("body", "name")},
                {"column": "price", "value": ref("body", "price")}, {"column": "stock", "value": ref("body", "stock")},
                {"column": "active", "value": lit(True)}, {"column": "note", "value": ref("body", "note")}, {"column": "created_at", "value": call("now")}]),
            _step("select", table="products", **{"as": "product"}, mode="one", joins=[{"foreignKey": "supplier_id", "as": "supplier"}], where=[flt("id", "eq", ref("created", "id"))]),
        ], "returns": _product("product", _supplier("product"))},
        {"method": "patch", "path": "/products", "actors": [], "steps": [
            _step("select", table="products", **{"as": "page"}, mode="page", joins=[{"foreignKey": "supplier_id", "as": "supplier"}], where=[
                flt("name", "contains", ref("body", "search"), optional=True), flt("price", "le", ref("body", "maxPrice"), optional=True),
                flt("stock", "ge", ref("body", "minStock"), optional=True), flt("id", "in", ref("body", "ids"), optional=True),
                flt("active", "eq", lit(True))],
                orderBy=[{"column": "price", "direction": "asc"}, {"column": "name", "direction": "desc"}],
                page={"page": call("coalesce", ref("body", "page"), lit(1)), "limit": call("coalesce", ref("body", "limit"), lit(20))},
                when=call("not", call("coalesce", ref("body", "withSupplier"), lit(False)))),
            _step("select", table="products", **{"as": "supplied"}, mode="page", joins=[{"foreignKey": "supplier_id", "as": "supplier"}],
                where=[flt("supplier_id", "notNull")], orderBy=[{"join": "supplier", "column": "name", "direction": "asc"}],
                page={"page": lit(1), "limit": lit(100)}, when=call("coalesce", ref("body", "withSupplier"), lit(False))),
            _step("let", **{"as": "result"}, value=call("coalesce", ref("page"), ref("supplied"))),
        ], "returns": obj(pagination=ref("result", "pagination"), data=each_map(ref("result", "data"), "p", _product("p", _supplier("p"))))},
        {"method": "get", "path": "/products/{productId}", "actors": [], "steps": [ONE_PRODUCT], "returns": _product("product", _supplier("product"))},
        {"method": "put", "path": "/products/{productId}", "actors": ["admin"], "steps": [
            ONE_PRODUCT,
            _step("update", table="products", where=[flt("id", "eq", ref("product", "id"))], set=[{"column": "name", "value": ref("body", "name")}], when=call("provided", ref("body", "name"))),
            _step("update", table="products", where=[flt("id", "eq", ref("product", "id"))], set=[{"column": "stock", "value": call("coalesce", ref("body", "restock"), lit(0)), "increment": True}, {"column": "active", "value": call("coalesce", ref("body", "active"), ref("product", "active"))}], **{"as": "updated"}),
        ], "returns": _product("updated", _supplier("product"))},
        {"method": "delete", "path": "/products/{productId}", "actors": ["admin"], "steps": [
            ONE_PRODUCT,
            _step("select", table="order_lines", **{"as": "sold"}, mode="none", where=[flt("product_id", "eq", ref("product", "id"))]),
            _step("delete", table="products", where=[flt("id", "eq", ref("product", "id"))]),
        ], "returns": None},
        {"method": "post", "path": "/orders", "actors": ["customer"], "steps": [
            _step("select", table="products", **{"as": "products"}, mode="many", where=[flt("id", "in", each_map(LINES, "l", ref("l", "productId")))]),
            _step("check", condition=call("eq", call("length", ref("products")), call("length", LINES)), status=404, message="unknown product"),
            _step("let", **{"as": "pairs"}, value=PAIRS),
            _step("check", condition=call("le", ref("pair", "line", "quantity"), ref("pair", "product", "stock")), status=409, message="out of stock", each={"array": ref("pairs"), "as": "pair"}),
            _step("insert", table="orders", **{"as": "order"}, values=[{"column": "customer_id", "value": ref("actor", "id")}, {"column": "created_at", "value": call("now")},
                {"column": "total", "value": call("sum", each_map(ref("pairs"), "p", call("mul", ref("p", "line", "quantity"), ref("p", "product", "price"))))}]),
            _step("insert", table="order_lines", **{"as": "lines"}, values=[{"column": "order_id", "value": ref("order", "id")}, {"column": "product_id", "value": ref("pair", "product", "id")}, {"column": "quantity", "value": ref("pair", "line", "quantity")}], each={"array": ref("pairs"), "as": "pair"}),
            _step("update", table="products", where=[flt("id", "eq", ref("pair", "product", "id"))], set=[{"column": "stock", "value": call("sub", lit(0), ref("pair", "line", "quantity")), "increment": True}], each={"array": ref("pairs"), "as": "pair"}),
        ], "returns": obj(id=ref("order", "id"), customerId=ref("order", "customer_id"), total=ref("order", "total"), lines=each_map(ref("lines"), "x", obj(productId=ref("x", "product_id"), quantity=ref("x", "quantity"))), tags={"kind": "array", "elements": [lit("new"), call("concat", lit("lines:"), call("length", ref("lines")))]})},
        {"method": "get", "path": "/orders/stats", "actors": ["customer"], "steps": [
            _step("select", table="orders", **{"as": "count"}, mode="count", where=[flt("customer_id", "eq", ref("actor", "id"))]),
            _step("select", table="orders", **{"as": "spent"}, mode="sum", column="total", where=[flt("customer_id", "eq", ref("actor", "id"))]),
            _step("select", table="orders", **{"as": "largest"}, mode="first", where=[flt("customer_id", "eq", ref("actor", "id"))], orderBy=[{"column": "total", "direction": "desc"}]),
        ], "returns": obj(count=ref("count"), spent=ref("spent"), largest=ref("largest", "total"), weekday=call("weekday", lit("2026-01-04T10:00:00.000Z")), later=call("addDays", lit("2026-01-31T10:00:00.000Z"), lit(1)))},
        {"method": "get", "path": "/orders/{orderId}", "actors": ["customer"], "steps": [
            _step("select", table="orders", **{"as": "order"}, mode="one", where=[flt("id", "eq", ref("params", "orderId"))]),
            _step("check", condition=call("eq", ref("order", "customer_id"), ref("actor", "id")), status=403, message="not your order"),
            _step("select", table="order_lines", **{"as": "lines"}, mode="many", where=[flt("order_id", "eq", ref("order", "id"))]),
        ], "returns": obj(id=ref("order", "id"), customerId=ref("order", "customer_id"), total=ref("order", "total"), lines=each_map(ref("lines"), "x", obj(productId=ref("x", "product_id"), quantity=ref("x", "quantity"))), tags={"kind": "array", "elements": []})},
        # the rest: filters ne lt gt isNull, `when` on check, let, delete and signIn, `each` on delete
        {"method": "post", "path": "/auth/customers/login", "actors": [], "steps": [
            _step("select", table="customers", **{"as": "customer"}, mode="one", status=401, where=[flt("email", "eq", ref("body", "email"))]),
            _step("check", condition=call("verifyPassword", ref("body", "password"), ref("customer", "password_hash")), status=401, message="wrong password"),
            _step("signIn", actor="customer", account=ref("customer", "id"), **{"as": "token"}, when=call("not", call("coalesce", ref("body", "verifyOnly"), lit(False)))),
        ], "returns": obj(id=ref("customer", "id"), token=ref("token"))},
        {"method": "post", "path": "/products/prune", "actors": ["admin"], "steps": [
            _step("check", condition=call("ge", ref("body", "below"), lit(0)), status=400, message="below is negative", when=call("not", call("isNull", ref("body", "below")))),
            _step("select", table="products", **{"as": "doomed"}, mode="many", where=[
                flt("id", "in", ref("body", "ids")), flt("price", "lt", call("coalesce", ref("body", "below"), lit(1e9))),
                flt("name", "ne", ref("body", "keep"), optional=True), flt("note", "isNull")]),
            _step("let", **{"as": "removed"}, value=call("length", ref("doomed")), when=call("not", call("coalesce", ref("body", "dryRun"), lit(False)))),
            _step("delete", table="products", where=[flt("id", "eq", ref("d", "id"))], each={"array": ref("doomed"), "as": "d"}, when=call("not", call("coalesce", ref("body", "dryRun"), lit(False)))),
            _step("select", table="products", **{"as": "left"}, mode="count", where=[flt("stock", "gt", lit(-1))]),
        ], "returns": obj(removed=call("coalesce", ref("removed"), lit(0)), left=ref("left"))},
    ]
}  # fmt: skip


def shop() -> tuple[DatabaseDocument, InterfaceDocument, RealizeDocument, RealizeContext]:
    database = DatabaseDocument.model_validate(DATABASE)
    interface = InterfaceDocument.model_validate(INTERFACE)
    context = RealizeContext(
        actor_names=frozenset({"customer", "admin"}), database=database, interface=interface
    )
    return database, interface, RealizeDocument.model_validate(REALIZE), context
