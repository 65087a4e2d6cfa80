"""Interface axis: a hand-made good API over the good database of test_rubric_db against deliberately
broken variants, the rendered OpenAPI document and the gate, operation roles, and determinism."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from runner.render.openapi import render_openapi, validate_openapi
from runner.rubric.interface import score_interface
from runner.rubric.names import best_match, dto_base, key
from runner.rubric.operations import operation_role
from runner.rubric.types import AXIS_POINTS, Dimension
from runner.schemas.interface import InterfaceDocument
from tests.support.documents import good_db

CAPABILITIES = (
    "create posts",
    "list posts",
    "get posts",
    "update posts",
    "delete posts",
    "create comments",
    "list comments",
    "create post_votes",
    "join members",
)
UUID = {"type": "string", "format": "uuid"}
TIME = {"type": "string", "format": "date-time"}
TEXT = {"type": "string"}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"oneOf": [schema, {"type": "null"}]}


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def _component(name: str, props: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": name,
        "description": f"{name}.",
        "schema": {"type": "object", "properties": props, "required": list(props), "description": name},
    }


def _param(name: str) -> dict[str, Any]:
    return {"name": name, "description": f"The {name}.", "schema": UUID}


def _op(method: str, path: str, name: str, req: str | None, res: str | None, actor: str | None = "member"):
    params = [_param(seg[1:-1]) for seg in path.split("/") if seg.startswith("{")]
    return {
        "path": path,
        "method": method,
        "name": name,
        "description": f"{name} at {path}.",
        "pathParameters": params,
        "requestBody": req,
        "responseBody": res,
        "authorizationActor": actor,
    }


def _resource(dto: str, collection: str, item: str, roles: str) -> list[dict[str, Any]]:
    """Operations for one resource; `collection` may be nested, `item` is the item path."""
    ops = []
    if "c" in roles:
        ops.append(_op("post", collection, "create", f"{dto}.ICreate", dto))
    if "l" in roles:
        ops.append(_op("get", collection, "index", None, f"IPage{dto}"))
    if "r" in roles:
        ops.append(_op("get", item, "at", None, dto))
    if "u" in roles:
        ops.append(_op("put", item, "update", f"{dto}.IUpdate", dto))
    if "d" in roles:
        ops.append(_op("delete", item, "erase", None, None))
    return ops


def _page(dto: str) -> dict[str, Any]:
    return _component(
        f"IPage{dto}",
        {"pagination": _ref("IPage.IPagination"), "data": {"type": "array", "items": _ref(dto)}},
    )


MEMBER = {
    "id": UUID,
    "email": {"type": "string", "format": "email"},
    "displayName": TEXT,
    "createdAt": TIME,
    "deletedAt": _nullable(TIME),
}
PROFILE = {
    "id": UUID,
    "memberId": UUID,
    "bio": _nullable(TEXT),
    "avatarUrl": _nullable({"type": "string", "format": "uri"}),
}
BOARD = {"id": UUID, "parentId": _nullable(UUID), "slug": TEXT, "title": TEXT, "createdAt": TIME}
POST = {
    "id": UUID,
    "boardId": UUID,
    "authorId": UUID,
    "title": TEXT,
    "body": TEXT,
    "viewCount": {"type": "integer", "minimum": 0},
    "isPinned": {"type": "boolean"},
    "createdAt": TIME,
    "updatedAt": TIME,
}
SNAPSHOT = {"id": UUID, "postId": UUID, "title": TEXT, "body": TEXT, "createdAt": TIME}
COMMENT = {
    "id": UUID,
    "postId": UUID,
    "authorId": UUID,
    "parentId": _nullable(UUID),
    "body": TEXT,
    "createdAt": TIME,
}
VOTE = {"id": UUID, "postId": UUID, "memberId": UUID, "value": {"type": "integer"}, "createdAt": TIME}

GOOD_API: dict[str, Any] = {
    "operations": [
        _op("post", "/auth/members/join", "join", "IMember.IJoin", "IMember.IAuthorized", None),
        _op("post", "/auth/members/login", "login", "IMember.ILogin", "IMember.IAuthorized", None),
        *_resource("IMember", "/members", "/members/{memberId}", "lrud"),
        *_resource("IMemberProfile", "/members/{memberId}/profiles", "", "cl"),
        *_resource("IBoard", "/boards", "/boards/{boardId}", "clrud"),
        *_resource("IPost", "/boards/{boardId}/posts", "/posts/{postId}", "clrud"),
        *_resource(
            "IPostSnapshot", "/posts/{postId}/snapshots", "/posts/{postId}/snapshots/{snapshotId}", "lr"
        ),
        *_resource("IComment", "/posts/{postId}/comments", "/comments/{commentId}", "clrud"),
        *_resource("IPostVote", "/posts/{postId}/votes", "", "cl"),
    ],
    "components": [
        _component(
            "IPage.IPagination",
            {
                "current": {"type": "integer"},
                "limit": {"type": "integer"},
                "records": {"type": "integer"},
                "pages": {"type": "integer"},
            },
        ),
        _component("IMember", MEMBER),
        _component(
            "IMember.IJoin",
            {"email": {"type": "string", "format": "email"}, "password": TEXT, "displayName": TEXT},
        ),
        _component("IMember.ILogin", {"email": {"type": "string", "format": "email"}, "password": TEXT}),
        _component("IMember.IAuthorized", {"id": UUID, "token": TEXT}),
        _component("IMember.IUpdate", {"displayName": TEXT}),
        _page("IMember"),
        _component("IMemberProfile", PROFILE),
        _component("IMemberProfile.ICreate", {"bio": _nullable(TEXT)}),
        _page("IMemberProfile"),
        _component("IBoard", BOARD),
        _component("IBoard.ICreate", {"slug": TEXT, "title": TEXT, "parentId": _nullable(UUID)}),
        _component("IBoard.IUpdate", {"title": TEXT}),
        _page("IBoard"),
        _component("IPost", POST),
        _component("IPost.ICreate", {"title": TEXT, "body": TEXT}),
        _component("IPost.IUpdate", {"title": TEXT, "body": TEXT, "isPinned": {"type": "boolean"}}),
        _page("IPost"),
        _component("IPostSnapshot", SNAPSHOT),
        _page("IPostSnapshot"),
        _component("IComment", COMMENT),
        _component("IComment.ICreate", {"body": TEXT, "parentId": _nullable(UUID)}),
        _component("IComment.IUpdate", {"body": TEXT}),
        _page("IComment"),
        _component("IPostVote", VOTE),
        _component("IPostVote.ICreate", {"value": {"type": "integer", "minimum": -1, "maximum": 1}}),
        _page("IPostVote"),
    ],
}


def good_api() -> InterfaceDocument:
    return InterfaceDocument.model_validate(copy.deepcopy(GOOD_API))


def _variant(change: Callable[[dict[str, Any]], None]) -> InterfaceDocument:
    data = copy.deepcopy(GOOD_API)
    change(data)
    return InterfaceDocument.model_validate(data)


def _points(dims: list[Dimension]) -> dict[str, float]:
    return {d.name: d.points for d in dims}


def test_good_api_scores_full_marks() -> None:
    dims = score_interface(good_api(), good_db(), CAPABILITIES)
    assert sum(d.max_points for d in dims) == pytest.approx(AXIS_POINTS["interface"])
    assert len(dims) == 6
    for dim in dims:
        assert dim.fraction == pytest.approx(1.0), (dim.name, dim.detail)


def test_rendered_openapi_validates_and_has_every_operation() -> None:
    spec = render_openapi(good_api())
    assert spec["openapi"].startswith("3.1")
    assert validate_openapi(spec) == []
    assert sum(len(methods) for methods in spec["paths"].values()) == len(GOOD_API["operations"])
    assert spec["paths"]["/posts/{postId}"]["get"]["parameters"][0]["schema"] == UUID


def _invent_fields(data: dict[str, Any]) -> None:
    for comp in data["components"]:
        if comp["name"] == "IPost":
            props = comp["schema"]["properties"]
            props["viewCount"] = TEXT  # wrong type
            props["rating"] = {"type": "number"}  # no such column
            del props["updatedAt"]
            comp["schema"]["required"] = list(props)


def _unused_components(data: dict[str, Any]) -> None:
    data["components"].append(_component("IPost.IAdvancedFilter", {"q": TEXT}))
    data["components"].append(_component("IOrphan", {"x": TEXT}))


def _bad_paths(data: dict[str, Any]) -> None:
    for op in data["operations"]:
        op["path"] = op["path"].replace("/posts/{postId}", "/post/{p}")
        for p in op["pathParameters"]:
            if p["name"] == "postId":
                p["name"] = "p"
        if op["method"] == "get" and op["responseBody"] == "IPost":
            op["responseBody"] = None


def _no_comments(data: dict[str, Any]) -> None:
    data["operations"] = [o for o in data["operations"] if "comment" not in o["path"]]


def _unpaged_lists(data: dict[str, Any]) -> None:
    for comp in data["components"]:
        if comp["name"].startswith("IPageI"):
            del comp["schema"]["properties"]["pagination"]
            comp["schema"]["required"] = ["data"]


def _anonymous_writes(data: dict[str, Any]) -> None:
    for op in data["operations"]:
        if op["method"] in ("post", "delete") and not op["path"].startswith("/auth"):
            op["authorizationActor"] = None


BROKEN = {
    "pagination": _unpaged_lists,
    "authorization": _anonymous_writes,
    "dto_columns": _invent_fields,
    "type_references": _unused_components,
    "rest_conventions": _bad_paths,
    "capability_coverage": _no_comments,
}


@pytest.mark.parametrize("dimension", sorted(BROKEN))
def test_each_broken_variant_loses_on_its_dimension(dimension: str) -> None:
    good = _points(score_interface(good_api(), good_db(), CAPABILITIES))
    broken = _points(score_interface(_variant(BROKEN[dimension]), good_db(), CAPABILITIES))
    assert broken[dimension] < good[dimension]
    assert sum(broken.values()) < sum(good.values())


def test_a_broken_operation_costs_points_and_the_rest_stays_usable() -> None:
    """AutoBe's compilers accept an unresolved body type or an undeclared path parameter; lapbench's
    gate fails only when the rendered OpenAPI is unusable."""

    def change(data: dict[str, Any]) -> None:
        data["operations"][0]["responseBody"] = "IMissing"
        data["operations"][5]["pathParameters"] = []

    dims = {d.name: d for d in score_interface(_variant(change), good_db(), CAPABILITIES)}
    assert not any("gate failed" in d.detail for d in dims.values())
    assert dims["type_references"].fraction < 1.0 and "IMissing" in dims["type_references"].detail
    assert dims["rest_conventions"].fraction < 1.0 and "pathParameters" in dims["rest_conventions"].detail


def test_an_unusable_openapi_document_fails_the_gate() -> None:
    def change(data: dict[str, Any]) -> None:
        data["components"][1]["schema"]["properties"]["twin"] = _ref("IGhost")  # dangling $ref

    dims = score_interface(_variant(change), good_db(), CAPABILITIES)
    assert sum(d.points for d in dims) == 0
    assert all("gate failed: the OpenAPI document does not validate" in d.detail for d in dims)
    assert sum(d.points for d in score_interface(None)) == 0


def test_without_database_and_capabilities_the_axis_still_sums_to_25() -> None:
    lone = score_interface(good_api(), dto_reference=False)
    assert {d.name for d in lone} == {"type_references", "rest_conventions", "pagination", "authorization"}
    assert sum(d.max_points for d in lone) == pytest.approx(AXIS_POINTS["interface"])
    in_a_run = {
        d.name: d for d in score_interface(good_api())
    }  # the database phase failed: nothing to compare
    assert in_a_run["dto_columns"].fraction == 0.0


def test_deterministic() -> None:
    doc = _variant(_invent_fields)
    assert score_interface(doc, good_db(), CAPABILITIES) == score_interface(doc, good_db(), CAPABILITIES)


@pytest.mark.parametrize(
    ("method", "path", "role"),
    [
        ("post", "/boards/{boardId}/posts", "create"),
        ("get", "/posts/{postId}", "read"),
        ("get", "/posts", "list"),
        ("patch", "/todoList/user/todos", "list"),  # AutoBe's search with a body
        ("patch", "/todos/{todoId}", "update"),
        ("delete", "/todos/{todoId}", "delete"),
        ("post", "/auth/member/join", "create"),
        ("post", "/auth/member/login", None),
        ("post", "/todos/{todoId}/complete", None),
        ("post", "/topics/{topicId}/lock", None),  # an action, not a create
        ("post", "/tickets/scan", None),
        ("get", "/employees/{employeeId}/leave-balances/{year}", "read"),
    ],
)
def test_operation_roles(method: str, path: str, role: str | None) -> None:
    op = InterfaceDocument.model_validate(
        {"operations": [_op(method, path, "x", None, None)], "components": []}
    )
    assert operation_role(op.operations[0]) == role


def test_names_match_across_styles() -> None:
    tables = [
        "todo_app_authenticateduser",
        "todo_app_todos",
        "discussion_board_post_votes",
        "discussion_board_posts",
    ]
    assert best_match(key(dto_base("ITodoAppAuthenticatedUser.IAuthorized")), tables) == tables[0]
    assert best_match(key(dto_base("IPageITodoAppTodo.ISummary")), tables) == "todo_app_todos"
    assert best_match(key("postVotes"), tables) == "discussion_board_post_votes"
    assert best_match(key("IDiscussionBoardPost"), tables) == "discussion_board_posts"
    assert best_match(key("IInvoice"), tables) is None


def test_actions_serve_update_capabilities_and_integer_parameters_need_no_id_name() -> None:
    year = {"name": "year", "description": "Year.", "schema": {"type": "integer"}}
    ops = [
        _op("post", "/tickets/scan", "scan", "ITicket.IScan", "ITicket"),
        {**_op("get", "/employees/{employeeId}/leave-balances/{year}", "at", None, "ILeaveBalance"),
         "pathParameters": [_param("employeeId"), year]},
    ]  # fmt: skip
    components = [_component("ITicket", {"id": UUID}), _component("ITicket.IScan", {"code": TEXT})]
    components.append(_component("ILeaveBalance", {"id": UUID}))
    doc = InterfaceDocument.model_validate({"operations": ops, "components": components})
    dims = {d.name: d for d in score_interface(doc, None, ("update tickets", "get leave_balances"))}
    assert dims["capability_coverage"].fraction == 1.0, dims["capability_coverage"].detail
    assert dims["rest_conventions"].fraction == 1.0, dims["rest_conventions"].detail
