"""Hypothesis strategies that build random *valid* documents of every phase from the models' rules:
unique names, references to things that exist, variables declared before use. Used by
tests/test_schemas_property.py."""

from __future__ import annotations

from typing import Any, get_args

from hypothesis import strategies as st

from runner.schemas.analyze import ActorKind
from runner.schemas.database import ColumnType, Stance
from runner.schemas.interface import HttpMethod, StringFormat
from runner.schemas.testlogic import GLOBALS

Draw = Any
LOWER = "abcdefghijklmnopqrstuvwxyz"

words = st.text(LOWER, min_size=1, max_size=6)
text = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=30)
snake = st.lists(words, min_size=1, max_size=3).map("_".join)
camel = st.lists(words, min_size=1, max_size=3).map(lambda ws: ws[0] + "".join(w.title() for w in ws[1:]))
pascal = st.lists(words, min_size=1, max_size=2).map(lambda ws: "I" + "".join(w.title() for w in ws))


def choice(draw: Draw, options: Any) -> Any:
    return draw(st.sampled_from(list(options)))


@st.composite
def analyze_documents(draw: Draw) -> dict[str, Any]:
    actors = draw(st.lists(camel, min_size=1, max_size=4, unique=True))
    entities = draw(st.lists(snake, min_size=1, max_size=5, unique=True))
    features = draw(st.lists(st.sampled_from(actors), min_size=1, max_size=6))
    rules = draw(st.integers(0, 4))
    return {
        "actors": [
            {"name": a, "kind": choice(draw, get_args(ActorKind)), "description": draw(text)} for a in actors
        ],
        "entities": [{"name": e, "description": draw(text)} for e in entities],
        "features": [
            {"id": f"F{i + 1}", "actor": a, "description": draw(text)} for i, a in enumerate(features)
        ],
        "rules": [{"id": f"R{i + 1}", "description": draw(text)} for i in range(rules)],
    }


def _table(draw: Draw, name: str, tables: list[str]) -> dict[str, Any]:
    names = draw(st.lists(snake.filter(lambda n: n != "id"), max_size=6, unique=True))
    split = draw(st.integers(0, len(names)))
    fks = [
        {
            "name": n,
            "targetTable": choice(draw, tables),
            "unique": draw(st.booleans()),
            "nullable": draw(st.booleans()),
            "description": draw(text),
        }
        for n in names[:split]
    ]
    columns = [
        {
            "name": n,
            "type": choice(draw, get_args(ColumnType)),
            "nullable": draw(st.booleans()),
            "description": draw(text),
        }
        for n in names[split:]
    ]
    every = ["id", *names]
    index_lists = st.lists(st.lists(st.sampled_from(every), min_size=1, max_size=3, unique=True), max_size=3)
    unique_lists = draw(index_lists.map(lambda ls: list({tuple(x): x for x in ls}.values())))
    plain_lists = draw(index_lists.map(lambda ls: list({tuple(x): x for x in ls}.values())))
    return {
        "name": name,
        "description": draw(text),
        "stance": choice(draw, get_args(Stance)),
        "primaryKey": "id",
        "foreignKeys": fks,
        "columns": columns,
        "uniqueIndexes": [{"columns": c} for c in unique_lists],
        "plainIndexes": [{"columns": c} for c in plain_lists],
    }


@st.composite
def database_documents(draw: Draw) -> dict[str, Any]:
    tables = draw(st.lists(snake, min_size=1, max_size=6, unique=True))
    nfiles = draw(st.integers(1, len(tables)))
    files = []
    for f in range(nfiles):
        mine = tables[f::nfiles]
        files.append(
            {
                "filename": f"schema-{f:02d}.prisma",
                "namespace": f"Group{f}",
                "tables": [_table(draw, t, tables) for t in mine],
            }
        )
    return {"files": files}


def _schema(draw: Draw, components: list[str], depth: int, one_of: bool = True) -> dict[str, Any]:
    kinds = ["const", "boolean", "integer", "number", "string", "null", "reference"]
    if depth > 1:
        kinds += ["array", "oneOf"] if one_of else ["array"]
    kind = choice(draw, kinds)
    node: dict[str, Any]
    if kind == "const":
        node = {"const": draw(st.one_of(words, st.integers(-5, 5), st.booleans()))}
    elif kind == "reference":
        node = {"$ref": "#/components/schemas/" + choice(draw, components)}
    elif kind == "array":
        node = {"type": "array", "items": _schema(draw, components, depth - 1)}
    elif kind == "oneOf":
        count = draw(st.integers(2, 3))
        node = {"oneOf": [_schema(draw, components, depth - 1, one_of=False) for _ in range(count)]}
    elif kind == "string":
        node = {"type": "string", "format": draw(st.none() | st.sampled_from(get_args(StringFormat)))}
    elif kind in ("integer", "number"):
        low = draw(st.integers(-10, 10))
        node = {"type": kind, "minimum": low, "maximum": low + draw(st.integers(0, 10))}
    else:
        node = {"type": kind}
    if draw(st.booleans()):
        node["description"] = draw(text)
    return node


def _path(draw: Draw) -> tuple[str, list[str]]:
    segments, params = [], []
    for i in range(draw(st.integers(1, 3))):
        if i > 0 and draw(st.booleans()):
            params.append(f"{draw(words)}Id{i}")
            segments.append("{" + params[-1] + "}")
        else:
            segments.append(draw(words))
    return "/" + "/".join(segments), params


@st.composite
def interface_documents(draw: Draw) -> dict[str, Any]:
    names = draw(st.lists(pascal, min_size=1, max_size=4, unique=True))
    components = []
    for name in names:
        props = draw(st.lists(camel, max_size=4, unique=True))
        required = [p for p in props if draw(st.booleans())]
        schema = {
            "type": "object",
            "description": draw(text),
            "properties": {p: _schema(draw, names, 3) for p in props},
            "required": required,
        }
        components.append({"name": name, "description": draw(text), "schema": schema})
    operations, routes = [], set()
    for _ in range(draw(st.integers(1, 5))):
        path, params = _path(draw)
        method = choice(draw, get_args(HttpMethod))
        if (method, path) in routes:
            continue
        routes.add((method, path))
        schema_of = st.sampled_from([{"type": "string", "format": "uuid"}, {"type": "integer"}])
        body = None if method == "get" else draw(st.none() | st.sampled_from(names))
        operations.append(
            {
                "path": path,
                "method": method,
                "name": f"op{len(operations)}",
                "description": draw(text),
                "pathParameters": [
                    {"name": p, "description": draw(text), "schema": draw(schema_of)} for p in params
                ],
                "requestBody": body,
                "responseBody": draw(st.none() | st.sampled_from(names)),
                "authorizationActor": draw(st.none() | camel),
            }
        )
    return {"operations": operations, "components": components}


class _Scope:
    """Variables visible at a point of a generated test function: name -> mutable."""

    def __init__(self, parent: _Scope | None, counter: list[int], blocks: int = 3) -> None:
        self.names: dict[str, bool] = dict(parent.names) if parent else {}
        self.counter = counter
        self.blocks = parent.blocks - 1 if parent else blocks  # nested blocks still allowed

    def child(self) -> _Scope:
        return _Scope(self, self.counter)

    def fresh(self) -> str:
        self.counter[0] += 1
        return f"v{self.counter[0]}"


LEAF_KINDS = [
    "booleanLiteral", "numericLiteral", "stringLiteral", "nullLiteral", "undefinedKeyword", "identifier",
    "booleanRandom", "integerRandom", "numberRandom", "stringRandom", "patternRandom", "formatRandom",
    "keywordRandom",
]  # fmt: skip
INNER_KINDS = [
    "arrayLiteral", "objectLiteral", "propertyAccess", "elementAccess", "typeOf", "prefixUnary", "postfixUnary",
    "binary", "conditional", "arrowFunction", "call", "new", "arrayFilter", "arrayForEach", "arrayMap",
    "arrayRepeat", "pickRandom", "sampleRandom", "equalPredicate", "notEqualPredicate", "conditionalPredicate",
    "errorPredicate", "httpErrorPredicate",
]  # fmt: skip


ARROW_KINDS = {
    "arrowFunction",
    "arrayFilter",
    "arrayForEach",
    "arrayMap",
    "arrayRepeat",
    "errorPredicate",
    "httpErrorPredicate",
}


def _arrow(
    draw: Draw, scope: _Scope, depth: int, ops: list[dict[str, Any]], params: int = 1
) -> dict[str, Any]:
    inner = scope.child()
    names = [inner.fresh() for _ in range(params)]
    inner.names.update(dict.fromkeys(names, True))
    body = _statements(draw, inner, depth - 1, ops, 1)
    return {"kind": "arrowFunction", "parameters": names, "statements": body}


def _expression(draw: Draw, scope: _Scope, depth: int, ops: list[dict[str, Any]]) -> dict[str, Any]:
    inner = [k for k in INNER_KINDS if scope.blocks > 0 or k not in ARROW_KINDS]
    kind = choice(draw, LEAF_KINDS + (inner if depth > 1 else []))
    sub = lambda: _expression(draw, scope, depth - 1, ops)  # noqa: E731
    title = draw(words)
    simple: dict[str, Any] = {
        "booleanLiteral": lambda: {"value": draw(st.booleans())},
        "numericLiteral": lambda: {"value": draw(st.floats(-1e6, 1e6, allow_nan=False))},
        "stringLiteral": lambda: {"value": draw(text)},
        "nullLiteral": dict,
        "undefinedKeyword": dict,
        "identifier": lambda: {"name": choice(draw, [*scope.names, *sorted(GLOBALS)])},
        "booleanRandom": lambda: {"probability": draw(st.none() | st.floats(0, 1))},
        "integerRandom": lambda: {"minimum": draw(st.none() | st.integers(0, 9)), "maximum": 10},
        "numberRandom": lambda: {"minimum": 0.0, "maximum": draw(st.floats(0, 10))},
        "stringRandom": lambda: {"minLength": draw(st.integers(0, 3)), "maxLength": 8},
        "patternRandom": lambda: {"pattern": "[a-z]{" + str(draw(st.integers(1, 5))) + "}"},
        "formatRandom": lambda: {"format": choice(draw, get_args(StringFormat))},
        "keywordRandom": lambda: {
            "keyword": choice(draw, ["alphabets", "alphaNumeric", "name", "paragraph"])
        },
        "arrayLiteral": lambda: {"elements": [sub() for _ in range(draw(st.integers(0, 2)))]},
        "objectLiteral": lambda: {
            "properties": [
                {"name": n, "value": sub()} for n in draw(st.lists(camel, max_size=2, unique=True))
            ]
        },
        "propertyAccess": lambda: {"expression": sub(), "name": draw(camel), "optional": draw(st.booleans())},
        "elementAccess": lambda: {"expression": sub(), "index": sub()},
        "typeOf": lambda: {"expression": sub()},
        "binary": lambda: {
            "left": sub(),
            "operator": choice(draw, ["===", "+", "<", "&&", "??"]),
            "right": sub(),
        },
        "conditional": lambda: {"condition": sub(), "whenTrue": sub(), "whenFalse": sub()},
        "call": lambda: {"expression": sub(), "arguments": [sub()]},
        "new": lambda: {"expression": {"kind": "identifier", "name": "Date"}, "arguments": []},
        "pickRandom": lambda: {"array": sub()},
        "sampleRandom": lambda: {"array": sub(), "count": sub()},
        "equalPredicate": lambda: {"title": title, "expected": sub(), "actual": sub()},
        "notEqualPredicate": lambda: {"title": title, "expected": sub(), "actual": sub()},
        "conditionalPredicate": lambda: {"title": title, "condition": sub()},
    }
    if kind in simple:
        return {"kind": kind, **simple[kind]()}
    if kind in ("prefixUnary", "postfixUnary"):
        mutable = [n for n, m in scope.names.items() if m]
        if mutable and draw(st.booleans()):
            return {
                "kind": kind,
                "operator": "++",
                "operand": {"kind": "identifier", "name": choice(draw, mutable)},
            }
        return {"kind": "prefixUnary", "operator": choice(draw, ["!", "-", "+"]), "operand": sub()}
    if kind == "arrowFunction":
        return _arrow(draw, scope, depth, ops, draw(st.integers(0, 2)))
    if kind in ("arrayFilter", "arrayForEach", "arrayMap"):
        return {"kind": kind, "array": sub(), "function": _arrow(draw, scope, depth, ops)}
    if kind == "arrayRepeat":
        return {"kind": kind, "count": sub(), "function": _arrow(draw, scope, depth, ops)}
    if kind == "errorPredicate":
        return {"kind": kind, "title": title, "function": _arrow(draw, scope, depth, ops, 0)}
    assert kind == "httpErrorPredicate"
    status = draw(st.integers(400, 599))
    return {"kind": kind, "title": title, "status": status, "function": _arrow(draw, scope, depth, ops, 0)}


def _statement(draw: Draw, scope: _Scope, depth: int, ops: list[dict[str, Any]]) -> dict[str, Any]:
    kinds = ["expression", "variableDeclaration", "return", "throw"] + (["apiCall"] if ops else [])
    kind = choice(draw, kinds + (["if"] if scope.blocks > 0 else []))
    expr = lambda: _expression(draw, scope, depth, ops)  # noqa: E731
    if kind == "expression":
        return {"kind": kind, "expression": expr()}
    if kind == "return":
        return {"kind": kind, "value": draw(st.none()) if draw(st.booleans()) else expr()}
    if kind == "throw":
        message = {"kind": "stringLiteral", "value": draw(text)}
        return {
            "kind": kind,
            "value": {
                "kind": "new",
                "expression": {"kind": "identifier", "name": "Error"},
                "arguments": [message],
            },
        }
    if kind == "variableDeclaration":
        value, name, mutable = expr(), scope.fresh(), draw(st.booleans())
        scope.names[name] = mutable
        return {"kind": kind, "name": name, "mutable": mutable, "value": value}
    if kind == "if":
        then = _statements(draw, scope.child(), depth, ops, 1)
        otherwise = _statements(draw, scope.child(), depth, ops, 0)
        return {"kind": "if", "condition": expr(), "then": then, "else": otherwise}
    op = choice(draw, ops)
    params = [{"name": p["name"], "value": expr()} for p in op["pathParameters"]]
    body = expr() if op["requestBody"] else None
    variable = None
    if op["responseBody"] and draw(st.booleans()):
        variable = scope.fresh()
        scope.names[variable] = False
    return {
        "kind": "apiCall",
        "method": op["method"],
        "path": op["path"],
        "parameters": params,
        "body": body,
        "variable": variable,
    }


def _statements(
    draw: Draw, scope: _Scope, depth: int, ops: list[dict[str, Any]], least: int
) -> list[dict[str, Any]]:
    count = draw(st.integers(least, least + 2))
    return [_statement(draw, scope, depth, ops) for _ in range(count)]


@st.composite
def testlogic_documents(draw: Draw, interface: dict[str, Any] | None = None) -> dict[str, Any]:
    ops = interface["operations"] if interface else []
    functions = []
    for i in range(draw(st.integers(1, 3))):
        scope = _Scope(None, [0])
        statements = _statements(draw, scope, 4, ops, 1)
        functions.append({"name": f"test_case_{i}", "scenario": draw(text), "statements": statements})
    return {"functions": functions}


@st.composite
def interface_and_tests(draw: Draw) -> tuple[dict[str, Any], dict[str, Any]]:
    interface = draw(interface_documents())
    return interface, draw(testlogic_documents(interface))
