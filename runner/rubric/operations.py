"""What an API operation does, and to which table: the role of an operation (create, read, list, update,
delete) from its method and path shape, its table from its body types or its path resource, and whether
it serves a required capability ("<verb> <table>", e.g. "list todos", "approve timesheets").

Conventions recognised: REST (`GET /todos`, `GET /todos/{todoId}`), AutoBe's search by
`PATCH /todos` with a request body, nested collections (`POST /posts/{postId}/comments`), account
actions (`POST /auth/member/join` creates a member) and state-changing actions (`POST /orders/{orderId}/cancel`,
`POST /tickets/scan`: a POST to a singular word is an action, not a create; an action changes a row, so it
serves an "update" capability).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Literal

from runner.rubric import names
from runner.schemas.inflection import is_plural, singular
from runner.schemas.interface import Operation

OperationRole = Literal["create", "read", "list", "update", "delete"]
_PARAM = re.compile(r"^\{[^}]*\}$")
CREATE_ACTIONS = frozenset({"join", "register", "signup", "sign", "create"})
ACTION_WORDS = frozenset(
    {
        "login",
        "logout",
        "refresh",
        "signin",
        "authenticate",
        "verify",
        "reset",
        "password",
        "search",
        "me",
        "approve",
        "reject",
        "cancel",
        "restore",
        "publish",
        "archive",
        "complete",
        "toggle",
        "vote",
        "follow",
    }
)
AUTH_WORDS = frozenset(
    {"login", "logout", "refresh", "signin", "authenticate", "verify", "reset", "password", "me"}
)
VERB_ROLES: dict[str, OperationRole] = {
    "create": "create",
    "add": "create",
    "post": "create",
    "register": "create",
    "submit": "create",
    "list": "list",
    "browse": "list",
    "search": "list",
    "index": "list",
    "get": "read",
    "read": "read",
    "view": "read",
    "show": "read",
    "update": "update",
    "edit": "update",
    "modify": "update",
    "change": "update",
    "delete": "delete",
    "remove": "delete",
    "erase": "delete",
}


def _segments(op: Operation) -> list[str]:
    return [s for s in op.path.split("/") if s]


def resource(op: Operation) -> str | None:
    """The last static path segment (the collection the operation works on)."""
    statics = [s for s in _segments(op) if not _PARAM.match(s)]
    return statics[-1] if statics else None


def operation_role(op: Operation) -> OperationRole | None:
    segments = _segments(op)
    if not segments:
        return None
    is_item = bool(_PARAM.match(segments[-1]))
    last_words = names.words(segments[-1]) if not is_item else []
    if last_words and last_words[0] in CREATE_ACTIONS and op.method == "post":
        return "create"
    if last_words and (last_words[0] in ACTION_WORDS or last_words[-1] in ACTION_WORDS):
        return "list" if last_words[0] == "search" else None
    if op.method == "post":
        # a create posts to a (plural) collection; a POST to a singular word is an action
        return "create" if not is_item and is_plural(last_words[-1]) else None
    if op.method == "get":
        return "read" if is_item else "list"
    if op.method == "patch":
        return "update" if is_item else "list"
    if op.method == "put":
        return "update" if is_item else None
    return "delete" if is_item else None


def is_action(op: Operation) -> bool:
    """A state-changing action on a resource (`POST /orders/{orderId}/cancel`), not a sign-in or a search."""
    segments = _segments(op)
    if op.method in ("get", "delete") or not segments or _PARAM.match(segments[-1]):
        return False
    if operation_role(op) is not None:
        return False
    return not set(names.words(segments[-1])) & AUTH_WORDS


def operation_table(op: Operation, table_names: Sequence[str]) -> str | None:
    """The table an operation works on: from its body types first (they name the entity precisely), else
    from the path resource."""
    for body in (op.response_body, op.request_body):
        if body is not None:
            table = names.best_match(names.key(names.dto_base(body)), table_names)
            if table is not None:
                return table
    res = resource(op)
    return names.best_match(names.key(res), table_names) if res else None


def capability_served(capability: str, op: Operation) -> bool:
    """Whether `op` serves "<verb> <object>": standard verbs need the matching role on the object; other
    verbs (approve, cancel...) need the verb in the path or the operation name and the object in the path
    or the body types."""
    words = capability.strip().lower().split(None, 1)
    if len(words) < 2:
        return False
    verb, obj = words
    obj_key = names.key(obj.replace(" ", "_"))
    role = VERB_ROLES.get(verb)
    if role is not None:
        actual = operation_role(op)
        if actual != role and not (role == "update" and actual is None and is_action(op)):
            return False
    else:
        op_words = {singular(w) for w in names.words(op.path) + names.words(op.name)}
        if singular(verb) not in op_words and verb not in op_words:
            return False
    return _mentions(op, obj_key)


def _mentions(op: Operation, obj_key: tuple[str, ...]) -> bool:
    keys = [names.key(names.dto_base(b)) for b in (op.response_body, op.request_body) if b]
    res = resource(op)
    if res:
        keys.append(names.key(res))
    return any(names.suffix_overlap(obj_key, k) >= 1 for k in keys)
