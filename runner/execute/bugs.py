"""Logic bugs injected into a realize document (mutants, as in mutation testing): each is one small
change at one place, of a kind a developer makes. They measure how much a test suite catches — the gold
tests against the gold realize (`scripts/bench_runtime.py`), and a model's tests in the test track.

Operators: `drop_check` (a missing ownership, state or password check), `drop_filter` (a select that
forgets a filter, e.g. the owner), `wrong_filter` (a comparison reversed), `missing_404` (a `one`
select that no longer stops when the row is missing), `drop_conflict` (a uniqueness check forgotten
where no unique index backs it), `page_off_by_one`, `limit_off_by_one`, `lost_update` (an update that
overwrites a field the caller did not send, or sets a counter instead of adding to it), `drop_set` (a
change not stored), `drop_value` (an optional value not stored), `drop_delete` (a dependent row
left behind or a row not deleted), `flip_order` (the wrong sort direction) and `any_actor` (an
operation open to every actor that can sign in: a missing role check). Mutants that do not validate,
or that are equivalent by construction (an operation whose ownership check already refuses every other
actor; a dropped value that was a literal null), are not produced."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from runner.schemas.checks.realize import validate_realize
from runner.schemas.context import ValidationContext
from runner.schemas.database import DatabaseDocument
from runner.schemas.feedback import render_path
from runner.schemas.realize import RealizeDocument

_NEGATED = {"eq": "ne", "ne": "eq", "lt": "ge", "ge": "lt", "gt": "le", "le": "gt", "isNull": "notNull", "notNull": "isNull", "contains": "eq", "in": "eq"}  # fmt: skip


@dataclass(frozen=True)
class Bug:
    id: str
    operator: str
    operation: str
    """"METHOD /path" of the mutated operation."""
    where: str
    """JSON path of the change in the realize document."""
    document: RealizeDocument


Edit = Callable[[dict[str, Any]], None]


def _lit(value: Any) -> dict[str, Any]:
    return {"kind": "literal", "value": value}


def _call(function: str, *args: Any) -> dict[str, Any]:
    return {"kind": "call", "function": function, "arguments": list(args)}


def _unique_columns(database: DatabaseDocument | None, table: str) -> list[set[str]]:
    found = database.table(table) if database else None
    if found is None:
        return []
    sets = [set(ix.columns) for ix in found.unique_indexes]
    return sets + [{fk.name} for fk in found.foreign_keys if fk.unique]


def _at(op: dict[str, Any], path: tuple[Any, ...]) -> Any:
    node: Any = op
    for key in path:
        node = node[key]
    return node


def _pop(*path: Any) -> Edit:
    return lambda op: _at(op, path[:-1]).pop(path[-1])


def _put(path: tuple[Any, ...], key: Any, value: Any) -> Edit:
    return lambda op: _at(op, path).__setitem__(key, value)


def _apply(path: tuple[Any, ...], change: Callable[[dict[str, Any]], None]) -> Edit:
    return lambda op: change(_at(op, path))


def _sites(
    op: dict[str, Any], database: DatabaseDocument | None, signed_in: set[str]
) -> Iterator[tuple[str, tuple[Any, ...], Edit]]:
    """(operator, path inside the operation, edit of the operation) for every place a bug fits;
    `signed_in` are the actors the document issues tokens for."""
    if op.get("actors") and not signed_in <= set(op["actors"]) and not _owner_check(op):
        yield "any_actor", ("actors",), _put((), "actors", sorted(signed_in | set(op["actors"])))
    for s, step in enumerate(op["steps"]):
        at = ("steps", s)
        kind = step["kind"]
        if kind == "check":
            yield "drop_check", at, _pop(*at)
        if kind == "delete":
            yield "drop_delete", at, _pop(*at)
        if kind == "select" and step["mode"] == "one":
            yield "missing_404", (*at, "mode"), _apply(at, lambda st: st.update(mode="first", status=None))
        if kind == "select" and step["mode"] == "none":
            columns = {f["column"] for f in step.get("where", [])}
            if columns not in _unique_columns(database, step["table"]):  # else the index answers 409 anyway
                yield "drop_conflict", at, _pop(*at)
        where = step.get("where", [])
        for w in range(len(where)):
            if kind == "select" or len(where) > 1:
                yield "drop_filter", (*at, "where", w), _pop(*at, "where", w)
            yield "wrong_filter", (*at, "where", w, "op"), _apply((*at, "where", w), _negate)
        if step.get("page"):
            page, limit = step["page"]["page"], step["page"]["limit"]
            yield (
                "page_off_by_one",
                (*at, "page", "page"),
                _put((*at, "page"), "page", _call("add", page, _lit(1))),
            )
            yield (
                "limit_off_by_one",
                (*at, "page", "limit"),
                _put((*at, "page"), "limit", _call("sub", limit, _lit(1))),
            )
        if step.get("orderBy"):
            yield "flip_order", (*at, "orderBy", 0), _apply((*at, "orderBy", 0), _flip)
        for v, value in enumerate(step.get("set", [])):
            lost = _lost_update(value)
            if lost is not None:
                yield "lost_update", (*at, "set", v), _put((*at, "set"), v, lost)
            if len(step["set"]) > 1:
                yield "drop_set", (*at, "set", v), _pop(*at, "set", v)
        for v, value in enumerate(step.get("values", [])):
            # storing a literal null and storing nothing are the same row
            if _nullable(database, step["table"], value["column"]) and value["value"] != _lit(None):
                yield "drop_value", (*at, "values", v), _pop(*at, "values", v)


def _owner_check(op: dict[str, Any]) -> bool:
    """The operation always checks `eq(..., actor.id)` with 403: another actor's id (a row of another
    table) never passes it, so opening the operation to every actor answers the same 403."""
    actor_id = {"kind": "ref", "name": "actor", "path": ["id"]}
    return any(
        st["kind"] == "check"
        and st["status"] == 403
        and "when" not in st
        and "each" not in st
        and st["condition"].get("function") == "eq"
        and actor_id in st["condition"]["arguments"]
        for st in op["steps"]
    )


def _negate(flt: dict[str, Any]) -> None:
    flt["op"] = _NEGATED[flt["op"]]
    if flt["op"] in ("isNull", "notNull"):
        flt.pop("value", None)


def _flip(order: dict[str, Any]) -> None:
    order["direction"] = "asc" if order["direction"] == "desc" else "desc"


def _lost_update(value: dict[str, Any]) -> dict[str, Any] | None:
    """The same change written carelessly: the sent value even when it was omitted, or a counter set."""
    if value.get("increment"):
        return {"column": value["column"], "value": value["value"]}
    expr = value["value"]
    if expr.get("kind") == "call" and expr.get("function") in ("coalesce", "if"):
        sent = expr["arguments"][0] if expr["function"] == "coalesce" else expr["arguments"][1]
        return {"column": value["column"], "value": sent}
    return None


def _nullable(database: DatabaseDocument | None, table: str, column: str) -> bool:
    found = database.table(table) if database else None
    if found is None:
        return False
    nullable = {c.name for c in found.columns if c.nullable} | {
        k.name for k in found.foreign_keys if k.nullable
    }
    return column in nullable


def mutants(realize: RealizeDocument, context: ValidationContext | None = None) -> list[Bug]:
    """Every single-change bug of the operators above that still validates (against `context`, a
    `RealizeContext` with the database and interface, so that the mutant is a realize a model could
    have sent)."""
    data = realize.model_dump(by_alias=True, exclude_defaults=True)
    database = getattr(context, "database", None)
    bugs: list[Bug] = []
    signed_in = {st["actor"] for op in data["operations"] for st in op["steps"] if st["kind"] == "signIn"}
    for i, op in enumerate(data["operations"]):
        name = f"{op['method'].upper()} {op['path']}"
        for operator, segs, edit in _sites(op, database, signed_in):
            mutated = copy.deepcopy(data)
            edit(mutated["operations"][i])
            report = validate_realize(mutated, context)
            if report.valid and isinstance(report.document, RealizeDocument):
                where = render_path(("operations", i, *segs))
                bugs.append(Bug(f"{operator} {name} {where}", operator, name, where, report.document))
    return bugs
