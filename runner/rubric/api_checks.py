"""Per-operation checks of the interface axis: REST conventions, pagination of lists, authorization of
writes. Each check is made per operation and averaged together with the required capabilities that no
operation serves (they count 0, see `runner.rubric.types.over_required`), so an API that leaves required
operations out never gains.

- rest_conventions: collection segments plural, path parameters named `*Id` (or id/slug/code, or an
  integer such as `{year}`), delete without body, get returns a body, create and update send a body and
  create returns what it made. Path segments after the item are actions (`POST /topics/{topicId}/lock`).
- pagination: a list (an operation serving a required "list" capability, or any list operation that
  returns an array of an entity's rows) returns a page: the rows plus paging information (`pagination`,
  `page`, `cursor`, `total`... or a `$ref` to a component holding them).
- authorization: an operation that writes (create, update, delete, or an action such as cancel) names the
  actor who must be signed in; sign-up and sign-in are public by nature.
Either of the last two is None (not applicable) when the project asks for no such operation and the
document has none.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from runner.rubric import names
from runner.rubric.dto import RESPONSE_VIEWS
from runner.rubric.operations import AUTH_WORDS, VERB_ROLES, is_action, operation_role
from runner.rubric.required import serving
from runner.rubric.types import Checklist, Result, over_required
from runner.schemas.inflection import is_plural
from runner.schemas.interface import (
    ArraySchema,
    IntegerSchema,
    InterfaceDocument,
    JsonSchema,
    OneOfSchema,
    Operation,
    ReferenceSchema,
)

_PARAM = re.compile(r"^\{([^}]*)\}$")
PUBLIC_WORDS = frozenset({"auth", "join", "register", "signup", "sign"})
PAGING_WORDS = frozenset(
    {"pagination", "page", "pages", "cursor", "next", "offset", "limit", "total", "records", "more"}
)


def _missing(doc: InterfaceDocument, capabilities: Sequence[str]) -> list[str]:
    return [c for c in capabilities if not serving(c, doc.operations)]


def required_ops(doc: InterfaceDocument, capabilities: Sequence[str]) -> set[int]:
    """Ids of the operations that serve a required capability (every operation when none is given)."""
    if not capabilities:
        return {id(op) for op in doc.operations}
    return {id(op) for c in capabilities for op in serving(c, doc.operations)}


def _split(
    parts: list[tuple[Operation, Checklist]], wanted: set[int]
) -> tuple[list[Checklist], list[Checklist]]:
    """(parts of required operations, parts of the others)."""
    return [c for op, c in parts if id(op) in wanted], [c for op, c in parts if id(op) not in wanted]


def _op_conventions(op: Operation) -> Checklist:
    checks = Checklist("REST conventions")
    where = f"{op.method} {op.path}"
    segments = [s for s in op.path.split("/") if s]
    for i, seg in enumerate(segments):
        param = _PARAM.match(seg)
        if param is None and i + 1 < len(segments) and _PARAM.match(segments[i + 1]):
            checks.check(is_plural(names.words(seg)[-1]), f"{where}: collection {seg} is not plural")
    for p in op.path_parameters:
        named = (
            p.name.endswith("Id") or p.name in ("id", "slug", "code") or isinstance(p.schema, IntegerSchema)
        )
        checks.check(named, f"{where}: parameter {{{p.name}}} is not named *Id")
    if op.method == "delete":
        checks.check(op.request_body is None, f"{where} has a request body")
    if op.method == "get":
        checks.check(op.response_body is not None, f"{where} returns nothing")
    role = operation_role(op)
    if role in ("create", "update"):
        checks.check(op.request_body is not None, f"{where} {role}s from no body")
    if role == "create":
        checks.check(op.response_body is not None, f"{where} returns nothing it created")
    return checks


def rest_conventions(
    doc: InterfaceDocument, capabilities: Sequence[str], broken: Sequence[str] = ()
) -> Result:
    parts, extra = _split(
        [(op, _op_conventions(op)) for op in doc.operations], required_ops(doc, capabilities)
    )
    for failure in broken:  # a rule an imported document breaks (lapbench documents break none)
        part = Checklist("REST conventions")
        part.check(False, failure)
        extra.append(part)
    return over_required(parts, _missing(doc, capabilities), "operations", extra)


def _paging_names(doc: InterfaceDocument, props: dict[str, JsonSchema]) -> bool:
    if any(set(names.words(name)) & PAGING_WORDS for name in props):
        return True
    for schema in props.values():
        if isinstance(schema, ReferenceSchema):
            ref = doc.component(schema.component_name)
            if ref is not None and any(set(names.words(n)) & PAGING_WORDS for n in ref.schema.properties):
                return True
    return False


def _rows_of(schema: JsonSchema) -> str | None:
    """The component an array property lists, or None when it is no array of components."""
    variants = schema.one_of if isinstance(schema, OneOfSchema) else [schema]
    for variant in variants:
        if isinstance(variant, ArraySchema) and isinstance(variant.items, ReferenceSchema):
            return variant.items.component_name
    return None


def _page_shape(doc: InterfaceDocument, op: Operation) -> tuple[bool, bool]:
    """(returns an array of rows of an entity, with paging information). Rows of an entity are its own
    DTO or one of its response views (`ITodo`, `IOrder.ISummary`); rows of a report (`IApprovedHours.IRow`)
    are computed and bounded, and need no page."""
    component = doc.component(op.response_body) if op.response_body else None
    if component is None:
        return False, False
    props = component.schema.properties
    rows = [name for name in map(_rows_of, props.values()) if name is not None]
    entity = any("." not in n or n.rsplit(".", 1)[1] in RESPONSE_VIEWS for n in rows)
    return entity, _paging_names(doc, props)


def _verb_role(capability: str) -> str | None:
    return VERB_ROLES.get(capability.strip().split(" ", 1)[0])


def pagination(doc: InterfaceDocument, capabilities: Sequence[str]) -> Result | None:
    lists = [c for c in capabilities if _verb_role(c) == "list"]
    wanted = {id(op) for c in lists for op in serving(c, doc.operations)} if capabilities else None
    parts = []
    for op in doc.operations:
        if operation_role(op) != "list":
            continue
        rows, paging = _page_shape(doc, op)
        if (wanted is None or id(op) not in wanted) and not rows:
            continue  # a list-shaped call that returns no rows of an entity (an export, a report) is no list
        checks = Checklist("paginated lists")
        checks.check(rows and paging, f"{op.method} {op.path} returns {'no rows' if not rows else 'no page'}")
        parts.append((op, checks))
    missing = _missing(doc, lists)
    if not parts and not missing:
        return None
    required, extra = _split(parts, wanted if wanted is not None else {id(op) for op, _ in parts})
    return over_required(required, missing, "lists", extra)


def writes(op: Operation) -> bool:
    """Whether the operation changes data on behalf of someone. Sign-up, sign-in and the other steps of
    authentication (`/auth/...`, password resets) are public by nature."""
    role = operation_role(op)
    statics = [w for s in op.path.split("/") if s and not s.startswith("{") for w in names.words(s)]
    if set(statics) & (AUTH_WORDS | PUBLIC_WORDS):
        return False
    return role in ("create", "update", "delete") or is_action(op)


def authorization(doc: InterfaceDocument, capabilities: Sequence[str]) -> Result | None:
    write_caps = [c for c in capabilities if _verb_role(c) not in ("list", "read")]
    parts = []
    for op in doc.operations:
        if writes(op):
            checks = Checklist("authorized writes")
            checks.check(op.authorization_actor is not None, f"anyone may {op.method} {op.path}")
            parts.append((op, checks))
    missing = _missing(doc, write_caps)
    if not parts and not missing:
        return None
    wanted = {id(op) for c in write_caps for op in serving(c, doc.operations)}
    required, extra = _split(parts, wanted if capabilities else {id(op) for op, _ in parts})
    return over_required(required, missing, "writes", extra)
