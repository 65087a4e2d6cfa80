"""Defects of the interface (see `runner.gold.defects`). An operation removed takes the test statements
that call it with it (`runner.gold.defect_tests.prune_tests`), so that the tests stay valid."""

from __future__ import annotations

import random
from typing import Any

from runner.gold.defect_kinds import Data, pick, required, walk
from runner.gold.defect_tests import calls_operation, interface_of, prune_tests
from runner.rubric import names as naming
from runner.rubric.api_checks import PAGING_WORDS, writes
from runner.rubric.operations import operation_role
from runner.rubric.required import serving
from runner.schemas.inflection import is_plural, singular


def crud_endpoint_missing(data: Data, rng: random.Random) -> Data | None:
    """The only operation serving a required capability is missing, with the test statements calling it."""
    doc = interface_of(data)
    ops = [s[0] for c in required(data, "capabilities") if len(s := serving(c, doc.operations)) == 1]
    ops = ops or [op for op in doc.operations if operation_role(op) in ("create", "update", "delete")]
    op = pick(rng, ops)
    if op is None or len(doc.operations) < 2:
        return None
    data["interface"]["operations"] = [
        o for o in data["interface"]["operations"] if (o["method"], o["path"]) != (op.method, op.path)
    ]
    for function in data["test"]["functions"]:
        function["statements"] = [
            s for s in function["statements"] if not calls_operation(s, op.method, op.path)
        ]
    data["test"]["functions"] = [f for f in data["test"]["functions"] if f["statements"]]
    return data if data["test"]["functions"] and prune_tests(data) else None


def _row_dtos(data: Data, suffixes: tuple[str, ...]) -> list[dict[str, Any]]:
    tables = [t["name"] for f in data["database"]["files"] for t in f["tables"]]
    out = []
    for component in data["interface"]["components"]:
        suffix = component["name"].split(".")[-1] if "." in component["name"] else ""
        if (
            suffix in suffixes
            and not component["name"].startswith("IPage")
            and naming.best_match(naming.key(naming.dto_base(component["name"])), tables)
        ):
            out.append(component)
    return out


def dto_field_without_column(data: Data, rng: random.Random) -> Data | None:
    """A DTO of a table gets a field that no column stores."""
    component = pick(rng, _row_dtos(data, ("", "ICreate", "IUpdate")))
    if component is None or "internalNote" in component["schema"]["properties"]:
        return None
    component["schema"]["properties"]["internalNote"] = {"type": "string", "description": "A note."}
    return data


def response_loses_fields(data: Data, rng: random.Random) -> Data | None:
    """The main response type of a table loses one of its columns (a field that a column of its table
    stores: dropping a field with no column behind it would repair a defect, not add one)."""
    by_name = {t["name"]: t for f in data["database"]["files"] for t in f["tables"]}
    candidates = []
    for component in _row_dtos(data, ("",)):
        table = by_name[naming.best_match(naming.key(naming.dto_base(component["name"])), by_name) or ""]
        stored = {c["name"] for c in table["columns"]} | {fk["name"] for fk in table["foreignKeys"]}
        candidates += [(component, p) for p in component["schema"]["properties"] if naming.snake(p) in stored]
    return _drop_property(data, rng, candidates)


def _drop_property(data: Data, rng: random.Random, candidates: list[tuple[Data, str]]) -> Data | None:
    """One (component, property) of `candidates` removed from the component's schema, else None."""
    choice = pick(rng, candidates)
    if choice is None:
        return None
    component, prop = choice
    del component["schema"]["properties"][prop]
    component["schema"]["required"] = [r for r in component["schema"]["required"] if r != prop]
    return data


def list_not_paginated(data: Data, rng: random.Random) -> Data | None:
    """A list returns its rows without paging information."""
    doc = interface_of(data)
    lists = [
        op
        for c in required(data, "capabilities")
        if c.startswith("list ")
        for op in serving(c, doc.operations)
    ]
    lists = lists or [op for op in doc.operations if operation_role(op) == "list"]
    pages = sorted({op.response_body for op in lists if op.response_body})
    by_name = {c["name"]: c for c in data["interface"]["components"]}
    candidates = [
        (by_name[n], p)
        for n in pages
        if n in by_name
        for p in by_name[n]["schema"]["properties"]
        if set(naming.words(p)) & PAGING_WORDS
    ]
    return _drop_property(data, rng, candidates)


def write_without_authorization(data: Data, rng: random.Random) -> Data | None:
    """An operation that changes data lets anyone call it."""
    doc = interface_of(data)
    index = pick(rng, [i for i, op in enumerate(doc.operations) if writes(op) and op.authorization_actor])
    if index is None:
        return None
    data["interface"]["operations"][index]["authorizationActor"] = None
    return data


def non_rest_path(data: Data, rng: random.Random) -> Data | None:
    """An operation's collection segment is singular (`/todo-list/{todoListId}`); its test calls follow."""
    ops = data["interface"]["operations"]
    taken = {(o["method"], o["path"]) for o in ops}
    candidates = []
    for op in ops:
        segments = op["path"].split("/")
        for i in range(1, len(segments) - 1):
            seg, nxt = segments[i], segments[i + 1]
            if not seg.startswith("{") and nxt.startswith("{") and is_plural(seg.replace("-", "_")):
                head, sep, last = seg.rpartition("-")
                new = "/".join([*segments[:i], f"{head}{sep}{singular(last)}", *segments[i + 1 :]])
                if (op["method"], new) not in taken and not is_plural(new.split("/")[i].replace("-", "_")):
                    candidates.append((op, new))
    choice = pick(rng, candidates)
    if choice is None:
        return None
    op, new = choice
    old = op["path"]
    for node in walk(data["test"]):
        if (
            isinstance(node, dict)
            and node.get("kind") == "apiCall"
            and (node["method"], node["path"]) == (op["method"], old)
        ):
            node["path"] = new
    op["path"] = new
    return data


API_DEFECTS = (
    (
        "crud_endpoint_missing",
        "interface",
        "the operation of a required capability is missing (and its test calls)",
        crud_endpoint_missing,
    ),
    (
        "dto_field_without_column",
        "interface",
        "a DTO field with no column behind it",
        dto_field_without_column,
    ),
    ("response_loses_fields", "interface", "a response type loses a column", response_loses_fields),
    ("list_not_paginated", "interface", "a list endpoint without pagination", list_not_paginated),
    (
        "write_without_authorization",
        "interface",
        "an operation that writes without authorization",
        write_without_authorization,
    ),
    ("non_rest_path", "interface", "a singular collection segment in a path", non_rest_path),
)
