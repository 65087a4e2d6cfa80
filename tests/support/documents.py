"""Hand-made good documents for the rubric tests: a discussion-board database, and the todo project's
interface and tests as the scripted designer writes them."""

from __future__ import annotations

import copy
from typing import Any

from runner.schemas.database import DatabaseDocument
from runner.schemas.interface import InterfaceDocument
from tests.support.designer import ENDPOINTS, make_test_function, operation


def _fk(name: str, target: str, *, unique: bool = False, nullable: bool = False) -> dict[str, Any]:
    return {
        "name": name,
        "targetTable": target,
        "unique": unique,
        "nullable": nullable,
        "description": "Owner.",
    }


def _col(name: str, type_: str, nullable: bool = False) -> dict[str, Any]:
    return {"name": name, "type": type_, "nullable": nullable, "description": f"The {name}."}


def _table(
    name: str, stance: str, fks: list[dict[str, Any]], cols: list[dict[str, Any]], unique=(), plain=()
):
    return {
        "name": name,
        "description": f"One row of {name}.",
        "stance": stance,
        "primaryKey": "id",
        "foreignKeys": fks,
        "columns": cols,
        "uniqueIndexes": [{"columns": list(c)} for c in unique],
        "plainIndexes": [{"columns": list(c)} for c in plain],
    }


GOOD_DB: dict[str, Any] = {
    "files": [
        {
            "filename": "schema-01-members.prisma",
            "namespace": "Members",
            "tables": [
                _table(
                    "members",
                    "primary",
                    [],
                    [
                        _col("email", "string"),
                        _col("display_name", "string"),
                        _col("password_hash", "string"),
                        _col("created_at", "datetime"),
                        _col("deleted_at", "datetime", True),
                    ],
                    unique=[("email",)],
                    plain=[("created_at",)],
                ),
                _table(
                    "member_profiles",
                    "subsidiary",
                    [_fk("member_id", "members", unique=True)],
                    [_col("bio", "string", True), _col("avatar_url", "uri", True)],
                    unique=[("member_id",)],
                ),
            ],
        },
        {
            "filename": "schema-02-boards.prisma",
            "namespace": "Boards",
            "tables": [
                _table(
                    "boards",
                    "primary",
                    [_fk("parent_id", "boards", nullable=True)],
                    [_col("slug", "string"), _col("title", "string"), _col("created_at", "datetime")],
                    unique=[("slug",)],
                    plain=[("parent_id",)],
                ),
                _table(
                    "posts",
                    "primary",
                    [_fk("board_id", "boards"), _fk("author_id", "members")],
                    [
                        _col("title", "string"),
                        _col("body", "string"),
                        _col("view_count", "int"),
                        _col("is_pinned", "boolean"),
                        _col("created_at", "datetime"),
                        _col("updated_at", "datetime"),
                    ],
                    plain=[("board_id", "created_at"), ("author_id",)],
                ),
                _table(
                    "post_snapshots",
                    "snapshot",
                    [_fk("post_id", "posts")],
                    [_col("title", "string"), _col("body", "string"), _col("created_at", "datetime")],
                    plain=[("post_id", "created_at")],
                ),
                _table(
                    "comments",
                    "primary",
                    [
                        _fk("post_id", "posts"),
                        _fk("author_id", "members"),
                        _fk("parent_id", "comments", nullable=True),
                    ],
                    [_col("body", "string"), _col("created_at", "datetime")],
                    plain=[("post_id", "created_at"), ("author_id",), ("parent_id",)],
                ),
                _table(
                    "post_votes",
                    "subsidiary",
                    [_fk("post_id", "posts"), _fk("member_id", "members")],
                    [_col("value", "int"), _col("created_at", "datetime")],
                    unique=[("post_id", "member_id")],
                    plain=[("member_id",)],
                ),
            ],
        },
    ]
}


def good_db() -> DatabaseDocument:
    return DatabaseDocument.model_validate(copy.deepcopy(GOOD_DB))


def interface_doc() -> InterfaceDocument:
    operations: list[dict[str, Any]] = []
    components: list[dict[str, Any]] = []
    for method, path, _ in ENDPOINTS:
        part = operation(method, path, {c["name"] for c in components})
        operations.append(part["operation"])
        components += part["components"]
    return InterfaceDocument.model_validate({"operations": operations, "components": components})


def good_tests() -> dict[str, Any]:
    lines = [f"{m} {p}" for m, p, _ in ENDPOINTS]
    functions = [make_test_function(f"test_{r}", lines) for r in ("todo_lists", "todos")]
    # a third function that reads, updates and deletes what it created, so every endpoint is covered
    crud = make_test_function("test_todo_lifecycle", lines)
    for method, path, _ in ENDPOINTS:
        if method == "post":
            continue
        params = [p.strip("{}") for p in path.split("/") if p.startswith("{")]
        body = None
        if method == "put":
            fields = [{"name": "title", "value": {"kind": "stringLiteral", "value": "x"}}]
            if path.startswith("/todos"):
                fields.append({"name": "done", "value": {"kind": "booleanLiteral", "value": True}})
            body = {"kind": "objectLiteral", "properties": fields}
        crud["statements"].append({
            "kind": "apiCall", "method": method, "path": path, "body": body, "variable": None,
            "parameters": [{"name": p, "value": {"kind": "propertyAccess", "expression": {"kind": "identifier", "name": "created"}, "name": "id"}} for p in params],
        })  # fmt: skip
    functions.append(crud)
    return {"functions": functions}
