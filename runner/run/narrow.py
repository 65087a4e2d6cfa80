"""Context-narrowed grammars: a tool's engine schema (`runner.run.grammar.grammar_schema`) narrowed by what
the run already knows, so that llguidance refuses a dangling name while decoding instead of validation
catching it afterwards at the price of a retry.

`narrow_schema(tool, schema, known)` is pure: it returns a new schema and never mutates the shared one.
What it narrows, per tool (a field the run knows nothing about yet stays as the plain schema has it):
- database.table: the table's `name` is the planned one, `primaryKey` is `id` (the task asks for both),
  every foreign key's `targetTable` is one of the planned tables;
- interface.plan: every path starts with a written table's resource (`todo_lists` -> `/todo-lists`),
  optionally under one namespace segment (`/auth`, `/admin`: login and moderation routes);
- interface.operation: `method` and `path` are the planned endpoint's, `pathParameters` names its
  `{parameters}` (one each), `authorizationActor` is an actor of the analysis or null;
- test.function: its `name` is the planned one, and every API call names an operation that exists: one
  variant per path, with that path's methods and exactly its path parameters;
- realize.operation: `method` and `path` are the operation's, every step's `table` is a written table, every
  column a step names (filter, sort, value, sum, join key) is a column of some written table, and every
  actor (allowed callers, sign-in) is an actor of the analysis. Which table a column belongs to depends on
  the step and its joins, written in the same call; validation checks that.

Component names (an operation's request/response body, a `$ref`) are not narrowed: a call may define new
components in the same arguments, and a JSON schema cannot refer to names written earlier in the same
document; validation checks them.

Every narrowing keeps the gold answer's part admissible (tests/test_narrow_gold.py), since the gold is what
a perfect model writes with the same knowledge.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from runner.run.normalize import DEFS_PREFIX
from runner.schemas.interface import PATH_PATTERN

GrammarMode = Literal["narrowed", "schema"]
GRAMMAR_MODES: tuple[GrammarMode, ...] = ("narrowed", "schema")
NAMESPACE_SEGMENTS = ("auth", "admin")
"""Path segments allowed before a table's resource: login/join routes and administrator routes."""
_PARAMETER = re.compile(r"\{([a-z][A-Za-z0-9]*)\}")
# PATH_PATTERN without its anchors and `+`: one path segment, a literal or a {parameter}
_SEGMENT = PATH_PATTERN.removeprefix("^(").removesuffix(")+$")


@dataclass(frozen=True)
class RunKnowledge:
    """What the run knows when it makes one call. Empty fields narrow nothing."""

    tables: tuple[str, ...] = ()
    """Table names planned or written (foreign key targets, resources of endpoint paths)."""
    table: str | None = None
    """The table this call writes."""
    actors: tuple[str, ...] = ()
    endpoint: tuple[str, str] | None = None
    """(method, path) of the operation this call writes."""
    operations: tuple[tuple[str, str], ...] = ()
    """(method, path) of every operation written so far (what a test may call)."""
    function: str | None = None
    """The name of the test function this call writes."""
    columns: tuple[str, ...] = ()
    """Every column name of the written tables (primary keys, foreign keys, columns)."""


def path_parameters(path: str) -> list[str]:
    """The `{name}` parameters of a path, in order."""
    return _PARAMETER.findall(path)


def table_resource(table: str) -> str:
    """The path segment of a table's resource: snake_case table name -> kebab-case (`todo_lists` ->
    `todo-lists`), as the interface's paths write it."""
    return table.replace("_", "-")


def narrow_schema(tool: str, schema: Mapping[str, Any], known: RunKnowledge) -> dict[str, Any]:
    """`schema` (the tool's engine schema) narrowed by `known`; a tool with nothing to narrow comes back
    as an equal copy."""
    out = copy.deepcopy(dict(schema))
    narrowers = {
        "database.table": _table,
        "interface.plan": _plan,
        "interface.operation": _operation,
        "test.function": _test_function,
        "realize.operation": _realize,
    }
    narrower = narrowers.get(tool)
    if narrower is not None:
        narrower(out, known)
    return out


def _enum(node: Mapping[str, Any], values: Sequence[str]) -> dict[str, Any]:
    """A string node replaced by an enum of `values` (its description kept)."""
    described = {"description": node["description"]} if "description" in node else {}
    if len(values) == 1:
        return {**described, "type": "string", "const": values[0]}
    return {**described, "type": "string", "enum": list(dict.fromkeys(values))}


def _defs(schema: dict[str, Any], base: str) -> list[dict[str, Any]]:
    """Every unrolled copy of `$defs` entry `base` (`Name`, `Name-d1`, ...)."""
    return [body for key, body in schema.get("$defs", {}).items() if key.split("-d")[0] == base]


def _table(schema: dict[str, Any], known: RunKnowledge) -> None:
    props = schema["properties"]
    if known.table is not None:
        props["name"] = _enum(props["name"], [known.table])
        props["primaryKey"] = _enum(props["primaryKey"], ["id"])
    if known.tables:
        for key in _defs(schema, "ForeignKey"):
            key["properties"]["targetTable"] = _enum(key["properties"]["targetTable"], known.tables)


def _plan(schema: dict[str, Any], known: RunKnowledge) -> None:
    if not known.tables:
        return
    resources = "|".join(re.escape(table_resource(t)) for t in dict.fromkeys(known.tables))
    namespaces = "|".join(NAMESPACE_SEGMENTS)
    for endpoint in _defs(schema, "PlannedEndpoint"):
        path = endpoint["properties"]["path"]
        path["pattern"] = f"^(/({namespaces}))?/({resources})({_SEGMENT})*$"
        path["description"] = "Starts with a table's resource, e.g. /" + table_resource(known.tables[0])


def _operation(schema: dict[str, Any], known: RunKnowledge) -> None:
    for operation in _defs(schema, "Operation"):
        props = operation["properties"]
        if known.endpoint is not None:
            method, path = known.endpoint
            props["method"] = _enum(props["method"], [method])
            props["path"] = _enum(props["path"], [path])
            props["pathParameters"] = _parameters(props["pathParameters"], schema, path)
        if known.actors:
            actor = props["authorizationActor"]
            actor["anyOf"] = [_enum({}, known.actors), {"type": "null"}]


def _parameters(node: dict[str, Any], schema: dict[str, Any], path: str) -> dict[str, Any]:
    """An array of path parameters with exactly the path's `{names}`, each once by count."""
    names = path_parameters(path)
    described = {"description": node["description"]} if "description" in node else {}
    if not names:
        return {**described, "const": []}
    if "items" not in node:  # cut by the depth cap: only an empty list is left
        return dict(node)
    item = _resolve(schema, node["items"])
    item["properties"]["name"] = _enum(item["properties"]["name"], names)
    return {**described, "type": "array", "items": item, "minItems": len(names), "maxItems": len(names)}


def _resolve(schema: Mapping[str, Any], node: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of the `$defs` entry a `{"$ref"}` node points at (or of the node itself)."""
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith(DEFS_PREFIX):
        return copy.deepcopy(dict(schema["$defs"][ref[len(DEFS_PREFIX) :]]))
    return copy.deepcopy(dict(node))


def _test_function(schema: dict[str, Any], known: RunKnowledge) -> None:
    if known.function is not None:
        schema["properties"]["name"] = _enum(schema["properties"]["name"], [known.function])
    if not known.operations:
        return
    methods: dict[str, list[str]] = {}
    for method, path in known.operations:
        methods.setdefault(path, []).append(method)
    for call in _defs(schema, "ApiCall"):
        props = call.pop("properties")
        required, extra = call.pop("required"), call.pop("additionalProperties", False)
        variants = []
        for path, verbs in methods.items():
            variant = dict(props)
            variant["method"] = _enum(props["method"], verbs)
            variant["path"] = _enum(props["path"], [path])
            variant["parameters"] = _parameters(props["parameters"], schema, path)
            variants.append(
                {"type": "object", "properties": variant, "required": required, "additionalProperties": extra}
            )
        call.pop("type", None)
        call["anyOf"] = variants


_REALIZE_COLUMNS = {
    "Filter": ("column",), "OrderBy": ("column",), "ColumnValue": ("column",), "SetValue": ("column",),
    "Join": ("foreignKey",), "SelectStep": ("column",),
}  # fmt: skip
"""Per `$defs` entry of the realize schema, the properties that name a column (nullable ones keep null)."""
_REALIZE_TABLES = ("SelectStep", "InsertStep", "UpdateStep", "DeleteStep")


def _realize(schema: dict[str, Any], known: RunKnowledge) -> None:
    props = schema["properties"]
    if known.endpoint is not None:
        method, path = known.endpoint
        props["method"] = _enum(props["method"], [method])
        props["path"] = _enum(props["path"], [path])
    if known.actors:
        props["actors"]["items"] = _enum(props["actors"]["items"], known.actors)
        for step in _defs(schema, "SignInStep"):
            step["properties"]["actor"] = _enum(step["properties"]["actor"], known.actors)
    for base in _REALIZE_TABLES if known.tables else ():
        for step in _defs(schema, base):
            step["properties"]["table"] = _enum(step["properties"]["table"], known.tables)
    for base, names in _REALIZE_COLUMNS.items() if known.columns else ():
        for body in _defs(schema, base):
            for name in names:
                body["properties"][name] = _nullable_enum(body["properties"][name], known.columns)


def _nullable_enum(node: Mapping[str, Any], values: Sequence[str]) -> dict[str, Any]:
    """`_enum` of a string node, or of the string branch of a string-or-null node."""
    if "anyOf" not in node:
        return _enum(node, values)
    branches = [b if b.get("type") == "null" else _enum(b, values) for b in node["anyOf"]]
    return {**{k: v for k, v in node.items() if k != "anyOf"}, "anyOf": branches}
