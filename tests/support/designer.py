"""A scripted "competent model" for the fake backend: it reads the tool and the task from the prompt and
answers with a valid part for the todo project. Pipeline and resume tests use it (it is a reply callable
for `backends.fake.FakeBackend`); tests/test_pipeline_designer.py checks that its answers validate."""

from __future__ import annotations

import json
import re
from typing import Any

from backends.base import GenerationRequest

TABLES: dict[str, tuple[list[tuple[str, str]], list[tuple[str, str]]]] = {
    # table -> (foreign keys (name, target), columns (name, type))
    "members": ([], [("email", "string"), ("password_hash", "string"), ("created_at", "datetime")]),
    "todo_lists": ([("member_id", "members")], [("title", "string"), ("created_at", "datetime")]),
    "todos": (
        [("todo_list_id", "todo_lists")],
        [("title", "string"), ("due_at", "datetime"), ("done", "boolean"), ("created_at", "datetime")],
    ),
}
ENDPOINTS = [
    ("post", "/todo-lists", "create a todo list"),
    ("get", "/todo-lists", "list my todo lists"),
    ("get", "/todo-lists/{todoListId}", "read a todo list"),
    ("put", "/todo-lists/{todoListId}", "rename a todo list"),
    ("delete", "/todo-lists/{todoListId}", "delete a todo list"),
    ("post", "/todo-lists/{todoListId}/todos", "add a todo"),
    ("get", "/todo-lists/{todoListId}/todos", "list the todos of a list"),
    ("put", "/todos/{todoId}", "edit a todo"),
    ("delete", "/todos/{todoId}", "delete a todo"),
]
COMPONENT_FIELDS = {
    "ITodoList": {"id": {"type": "string", "format": "uuid"}, "title": {"type": "string"}},
    "ITodoList.ICreate": {"title": {"type": "string"}},
    "ITodoList.IUpdate": {"title": {"type": "string"}},
    "ITodo": {
        "id": {"type": "string", "format": "uuid"},
        "title": {"type": "string"},
        "done": {"type": "boolean"},
    },
    "ITodo.ICreate": {"title": {"type": "string"}},
    "ITodo.IUpdate": {"title": {"type": "string"}, "done": {"type": "boolean"}},
}


def _task(request: GenerationRequest) -> str:
    """The original request (a retry appends feedback after RETRY_HEADER)."""
    from runner.run.harness import RETRY_HEADER

    return request.messages[1].content.split(RETRY_HEADER, 1)[0]


def _block(prompt: str, title: str) -> list[str]:
    match = re.search(rf"^{re.escape(title)}[^\n]*:\n(.*?)(?:\n\n|\Z)", prompt, re.M | re.S)
    return match.group(1).splitlines() if match else []


def analyze() -> dict[str, Any]:
    return {
        "actors": [
            {"name": "guest", "kind": "guest", "description": "Anyone who has not signed in."},
            {"name": "member", "kind": "member", "description": "A signed-in user with todo lists."},
        ],
        "entities": [
            {"name": "member", "description": "A registered user."},
            {"name": "todo_list", "description": "A titled list owned by a member."},
            {"name": "todo", "description": "A todo item of a list."},
        ],
        "features": [
            {"id": "F1", "actor": "guest", "description": "register a member"},
            {"id": "F2", "actor": "member", "description": "create a todo list"},
            {"id": "F3", "actor": "member", "description": "add todos to a list"},
            {"id": "F4", "actor": "member", "description": "list todos of a list"},
            {"id": "F5", "actor": "member", "description": "update a todo"},
            {"id": "F6", "actor": "member", "description": "delete a todo"},
        ],
        "rules": [{"id": "R1", "description": "Only the owner sees a list."}],
    }


def table(name: str) -> dict[str, Any]:
    keys, columns = TABLES[name]
    return {
        "name": name,
        "description": f"One row of {name}.",
        "stance": "primary",
        "primaryKey": "id",
        "foreignKeys": [
            {"name": k, "targetTable": t, "unique": False, "nullable": False, "description": "owner"}
            for k, t in keys
        ],
        "columns": [{"name": c, "type": t, "nullable": c == "due_at", "description": c} for c, t in columns],
        "uniqueIndexes": [{"columns": ["email"]}] if name == "members" else [],
        "plainIndexes": [{"columns": [keys[0][0]]}] if keys else [],
    }


def component(name: str) -> dict[str, Any]:
    fields = COMPONENT_FIELDS[name]
    schema = {"type": "object", "properties": fields, "required": list(fields), "description": name}
    return {"name": name, "description": f"The {name} type.", "schema": schema}


def operation(method: str, path: str, defined: set[str]) -> dict[str, Any]:
    base = "ITodo" if path.endswith(("/todos", "{todoId}")) else "ITodoList"
    params = re.findall(r"\{(\w+)\}", path)
    body = {"post": f"{base}.ICreate", "put": f"{base}.IUpdate"}.get(method)
    response = None if method == "delete" else base
    used = [c for c in (body, response) if c]
    op = {
        "path": path,
        "method": method,
        "name": {"post": "create", "get": "at" if path.endswith("}") else "index", "put": "update"}.get(
            method, "erase"
        ),
        "description": f"{method} {path}",
        "pathParameters": [
            {"name": p, "description": p, "schema": {"type": "string", "format": "uuid"}} for p in params
        ],
        "requestBody": body,
        "responseBody": response,
        "authorizationActor": "member",
    }
    return {"operation": op, "components": [component(c) for c in used if c not in defined]}


def make_test_function(name: str, operations: list[str]) -> dict[str, Any]:
    posts = [line for line in operations if line.startswith("post ")]
    resource = name.removeprefix("test_").replace("_", "-")
    post = next((line for line in posts if line.split()[1].endswith(resource)), posts[0])
    path = post.split()[1]
    params = re.findall(r"\{(\w+)\}", path)
    statements: list[dict[str, Any]] = [
        {
            "kind": "variableDeclaration",
            "name": "title",
            "mutable": False,
            "value": {"kind": "stringLiteral", "value": "groceries"},
        },
        {
            "kind": "apiCall",
            "method": "post",
            "path": path,
            "parameters": [{"name": p, "value": {"kind": "formatRandom", "format": "uuid"}} for p in params],
            "body": {
                "kind": "objectLiteral",
                "properties": [{"name": "title", "value": {"kind": "identifier", "name": "title"}}],
            },
            "variable": "created",
        },
        {
            "kind": "expression",
            "expression": {
                "kind": "equalPredicate",
                "title": "title is kept",
                "expected": {"kind": "identifier", "name": "title"},
                "actual": {
                    "kind": "propertyAccess",
                    "expression": {"kind": "identifier", "name": "created"},
                    "name": "title",
                },
            },
        },
    ]
    return {"name": name, "scenario": "create and check", "statements": statements}


def _ref(name: str, *path: str) -> dict[str, Any]:
    return {"kind": "ref", "name": name, "path": list(path)}


def _now() -> dict[str, Any]:
    return {"kind": "call", "function": "now", "arguments": []}


def realize_operation(method: str, path: str) -> dict[str, Any]:
    """Plain logic for one of the designer's operations: the row by its id (or the caller's first list),
    written from the body, returned with the component's fields."""
    todo = path.endswith(("/todos", "{todoId}"))
    table, fields = ("todos", ["id", "title", "done"]) if todo else ("todo_lists", ["id", "title"])
    params = re.findall(r"\{(\w+)\}", path)
    key = "todo_list_id" if path.endswith("/todos") else "id"
    where = [{"column": key, "op": "eq", "value": _ref("params", params[-1])}] if params else []
    where = where or [{"column": "member_id", "op": "eq", "value": _ref("actor", "id")}]
    if method == "post":
        owner = ("todo_list_id", _ref("params", params[-1])) if todo else ("member_id", _ref("actor", "id"))
        values = [owner, ("title", _ref("body", "title")), ("created_at", _now())]
        values += [("done", {"kind": "literal", "value": False})] if todo else []
        step: dict[str, Any] = {"kind": "insert", "table": table, "as": "row", "values": [{"column": c, "value": v} for c, v in values]}  # fmt: skip
    elif method == "put":
        changed = ["title", "done"] if todo else ["title"]
        step = {"kind": "update", "table": table, "where": where, "as": "row",
                "set": [{"column": c, "value": _ref("body", c)} for c in changed]}  # fmt: skip
    elif method == "delete":
        step = {"kind": "delete", "table": table, "where": where}
    else:
        step = {"kind": "select", "table": table, "as": "row", "mode": "one", "where": where}
    returns = None
    if method != "delete":
        returns = {"kind": "object", "properties": [{"name": f, "value": _ref("row", f)} for f in fields]}
    return {"method": method, "path": path, "actors": ["member"], "steps": [step], "returns": returns}


def answer(request: GenerationRequest) -> str:
    """The reply of a competent model to any pipeline prompt for the todo project."""
    prompt = _task(request)
    task = prompt.rsplit("Task: ", 1)[-1]
    tool = re.match(r"Tool `(\w+)`", prompt)
    kind = tool.group(1) if tool else ""
    if kind == "write_analyze":
        data: Any = analyze()
    elif kind == "write_database_table":
        data = table(re.search(r"table `(\w+)`", task).group(1))  # type: ignore[union-attr]
    elif kind == "write_database_file":
        data = {"filename": "schema-todo.prisma", "namespace": "Todo", "tables": [table(t) for t in TABLES]}
    elif kind == "write_endpoint_plan":
        data = {"endpoints": [{"method": m, "path": p, "purpose": why} for m, p, why in ENDPOINTS]}
    elif kind == "write_interface_operation":
        method, path = re.search(r"operation `(\w+) (\S+)`", task).groups()  # type: ignore[union-attr]
        defined = {line.split(" ", 1)[0] for line in _block(prompt, "Components already defined")}
        data = operation(method, path, defined)
    elif kind == "write_test_function":
        name = re.search(r"function `(\w+)`", task).group(1)  # type: ignore[union-attr]
        data = make_test_function(name, _block(prompt, "Operations you may call"))
    elif kind == "write_realize_operation":
        method, path = re.search(r"logic of `(\w+) (\S+)`", task).groups()  # type: ignore[union-attr]
        data = realize_operation(method, path)
    else:
        raise AssertionError(f"designer got an unknown tool: {kind!r}")
    return json.dumps(data)
