"""Defects of the analysis and the database (see `runner.gold.defects`), and the helpers every kind uses.

`data` is the gold JSON (`phase -> document`), optionally with `requirements` = the project's
`{"entities": [...], "capabilities": [...]}` so that a defect can aim at what the project asks for (the
validators ignore that key). Kinds change `data` in place and return it, or return None.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

from runner.rubric import names as naming
from runner.rubric.analyze import covers_capability, covers_entity
from runner.rubric.db_keys import ACCOUNT_KEYS, CATALOG_KEYS, expected_type, looks_like_key
from runner.rubric.required import entity_match
from runner.schemas.inflection import is_plural, singular

Data = dict[str, Any]


def required(data: Data, key: str) -> list[str]:
    value = data.get("requirements", {}).get(key, [])
    return list(value) if isinstance(value, list) else []


def tables(data: Data) -> list[dict[str, Any]]:
    return [t for f in data["database"]["files"] for t in f["tables"]]


def pick(rng: random.Random, items: list[Any]) -> Any | None:
    return rng.choice(items) if items else None


def walk(node: Any) -> Iterator[Any]:
    """Every dict and list inside a JSON value, the value itself first."""
    yield node
    children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else []
    for child in children:
        yield from walk(child)


def _drop_from_indexes(table: dict[str, Any], column: str) -> None:
    for field in ("uniqueIndexes", "plainIndexes"):
        kept, seen = [], set()
        for index in table[field]:
            columns = [c for c in index["columns"] if c != column]
            if columns and tuple(columns) not in seen:
                seen.add(tuple(columns))
                kept.append({**index, "columns": columns})
        table[field] = kept


# analysis ------------------------------------------------------------------------------------------------
def analysis_missing_feature(data: Data, rng: random.Random) -> Data | None:
    """Every feature describing one required capability is left out of the analysis."""
    features = data["analyze"]["features"]
    texts = [f["description"] for f in features]
    capabilities = [c for c in required(data, "capabilities") if covers_capability(texts, c)]
    capability = pick(rng, capabilities)
    if capability is None:
        return None
    kept = [f for f in features if not covers_capability([f["description"]], capability)]
    if not kept:
        return None
    data["analyze"]["features"] = kept
    return data


def analysis_missing_entity(data: Data, rng: random.Random) -> Data | None:
    """A required entity is left out of the analysis's entity list."""
    entities = data["analyze"]["entities"]
    wanted = [e for e in required(data, "entities") if covers_entity([x["name"] for x in entities], e)]
    entity = pick(rng, wanted)
    if entity is None or len(entities) < 2:
        return None
    kept = [x for x in entities if not covers_entity([x["name"]], entity)]
    data["analyze"]["entities"] = kept or entities[1:]
    return data


# database ------------------------------------------------------------------------------------------------
def table_missing(data: Data, rng: random.Random) -> Data | None:
    """A required table is left out, with the foreign keys that pointed at it."""
    names = [t["name"] for t in tables(data)]
    wanted = {entity_match(e, names)[0] for e in required(data, "entities")} - {None} or set(names)
    name = pick(rng, sorted(n for n in wanted if n is not None))
    if name is None or len(names) < 2:
        return None
    for file in data["database"]["files"]:
        file["tables"] = [t for t in file["tables"] if t["name"] != name]
    data["database"]["files"] = [f for f in data["database"]["files"] if f["tables"]]
    for table in tables(data):
        for fk in [fk for fk in table["foreignKeys"] if fk["targetTable"] == name]:
            table["foreignKeys"].remove(fk)
            _drop_from_indexes(table, fk["name"])
    return data


def fk_dropped(data: Data, rng: random.Random) -> Data | None:
    """A foreign key becomes a plain uuid column: the relation is no longer enforced."""
    candidates = [(t, fk) for t in tables(data) for fk in t["foreignKeys"]]
    choice = pick(rng, candidates)
    if choice is None:
        return None
    table, fk = choice
    table["foreignKeys"].remove(fk)
    table["columns"].append(
        {"name": fk["name"], "type": "uuid", "nullable": fk["nullable"], "description": fk["description"]}
    )
    return data


def column_type_wrong(data: Data, rng: random.Random) -> Data | None:
    """A column whose name says its type (`*_at` datetime, `is_*` boolean, `*_count` int) becomes a string."""
    candidates = []
    for table in tables(data):
        for column in table["columns"]:
            expected = expected_type(column["name"])
            if expected and column["type"] in expected[0] and "string" not in expected[0] | expected[1]:
                candidates.append(column)
    column = pick(rng, candidates)
    if column is None:
        return None
    column["type"] = "string"
    return data


def fk_unindexed(data: Data, rng: random.Random) -> Data | None:
    """The plain indexes that let a query follow a foreign key are dropped."""
    candidates = []
    for table in tables(data):
        unique_lead = {i["columns"][0] for i in table["uniqueIndexes"]}
        for fk in table["foreignKeys"]:
            led = [i for i in table["plainIndexes"] if i["columns"][0] == fk["name"]]
            if led and not fk["unique"] and fk["name"] not in unique_lead:
                candidates.append((table, fk["name"]))
    choice = pick(rng, candidates)
    if choice is None:
        return None
    table, name = choice
    table["plainIndexes"] = [i for i in table["plainIndexes"] if i["columns"][0] != name]
    return data


def natural_key_not_unique(data: Data, rng: random.Random) -> Data | None:
    """The unique index of a login email (or a slug, a code) is dropped: two rows may share it."""
    candidates = []
    for table in tables(data):
        for index in table["uniqueIndexes"]:
            if len(index["columns"]) == 1 and index["columns"][0] in ACCOUNT_KEYS | CATALOG_KEYS:
                candidates.append((table, index))
    choice = pick(rng, candidates)
    if choice is None:
        return None
    table, index = choice
    table["uniqueIndexes"].remove(index)
    return data


def table_not_plural(data: Data, rng: random.Random) -> Data | None:
    """A table is named in the singular (its references follow)."""
    names = {t["name"] for t in tables(data)}
    candidates = [t for t in tables(data) if is_plural(t["name"]) and _singular_name(t["name"]) not in names]
    table = pick(rng, candidates)
    if table is None:
        return None
    old, new = table["name"], _singular_name(table["name"])
    if new == old or is_plural(new):
        return None
    table["name"] = new
    for other in tables(data):
        for fk in other["foreignKeys"]:
            if fk["targetTable"] == old:
                fk["targetTable"] = new
    return data


def _singular_name(name: str) -> str:
    head, sep, last = name.rpartition("_")
    return f"{head}{sep}{singular(last)}"


def redundant_index(data: Data, rng: random.Random) -> Data | None:
    """A plain index on the primary key alone (which is already indexed)."""
    table = pick(
        rng,
        [
            t
            for t in tables(data)
            if [t.get("primaryKey", "id")] not in [i["columns"] for i in t["plainIndexes"]]
        ],
    )
    if table is None:
        return None
    table["plainIndexes"].append({"columns": [table.get("primaryKey", "id")]})
    return data


def _well_typed(column: dict[str, Any]) -> bool:
    expected = expected_type(column["name"])
    return expected is None or column["type"] in expected[0]


def column_missing(data: Data, rng: random.Random) -> Data | None:
    """A column that the main DTO of its table shows is left out of the table."""
    by_name = {t["name"]: t for t in tables(data)}
    candidates = []
    for component in data["interface"]["components"]:
        if "." in component["name"]:
            continue  # only the main DTO (`ITodo`) stands for the row
        table = by_name.get(naming.best_match(naming.key(component["name"]), by_name) or "")
        if table is None:
            continue
        fields = {naming.snake(p) for p in component["schema"]["properties"]}
        # a column that is already wrong (a mistyped one, a key kept as a plain uuid) would take its
        # fault with it: that repairs the design as much as it damages it
        keys = [naming.key(t) for t in by_name]
        candidates += [
            (table, c)
            for c in table["columns"]
            if c["name"] in fields and _well_typed(c) and not looks_like_key(c["name"], c["type"], keys)
        ]
    choice = pick(rng, candidates)
    if choice is None:
        return None
    table, column = choice
    table["columns"].remove(column)
    _drop_from_indexes(table, column["name"])
    return data


DATA_DEFECTS = (
    (
        "analysis_missing_feature",
        "analysis",
        "no feature describes a required capability",
        analysis_missing_feature,
    ),
    (
        "analysis_missing_entity",
        "analysis",
        "a required entity is missing from the analysis",
        analysis_missing_entity,
    ),
    ("table_missing", "database", "a required table is missing (with the foreign keys to it)", table_missing),
    ("fk_dropped", "database", "a foreign key kept as a plain uuid column", fk_dropped),
    ("column_type_wrong", "database", "a *_at / is_* / *_count column typed string", column_type_wrong),
    ("fk_unindexed", "database", "a foreign key without an index", fk_unindexed),
    ("natural_key_not_unique", "database", "a login email or a code is not unique", natural_key_not_unique),
    ("table_not_plural", "database", "a table name in the singular", table_not_plural),
    ("redundant_index", "database", "an index on the primary key alone", redundant_index),
    ("column_missing", "interface", "a column that a DTO shows is missing from its table", column_missing),
)


def keep_table(data: Data) -> None:
    """Cut the database to the one table the kept operation works on (without foreign keys), and the
    analysis to its entity (for `runner.gold.defects.minimal_answer`)."""
    from runner.rubric.operations import operation_table
    from runner.schemas.interface import Operation

    names = [t["name"] for t in tables(data)]
    op = Operation.model_validate(data["interface"]["operations"][0])
    name = operation_table(op, names) or names[0]
    table = next(t for t in tables(data) if t["name"] == name)
    for fk in list(table["foreignKeys"]):
        table["foreignKeys"].remove(fk)
        _drop_from_indexes(table, fk["name"])
    file = data["database"]["files"][0]
    data["database"]["files"] = [{**file, "tables": [table]}]
    entities = data["analyze"]["entities"]
    data["analyze"]["entities"] = [
        next((e for e in entities if covers_entity([e["name"]], name)), entities[0])
    ]
