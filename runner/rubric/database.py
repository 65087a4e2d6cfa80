"""Database axis of the rubric (30 points): is the schema real, connected, well named, indexed, typed and
complete?

Gate: the document exists and validates (pydantic + semantic rules of `runner.schemas`). Then:
- ddl_executes: the rendered DDL runs in in-memory SQLite with `PRAGMA foreign_keys=ON`, a row graph
  (one row per table, all foreign keys set) commits, and a dangling reference is refused.
- relations: the tables form one connected design: foreign keys resolve, no isolated table, subsidiary
  and snapshot tables point at their owner, and no uuid / `*_id` plain column that should be a foreign key.
- naming: snake_case, plural table names, foreign keys `*_id` named after their target (or a role).
- indexes: every foreign key column leads an index (or is a UNIQUE 1:1 key), natural keys of account
  and catalogue tables (email, username, slug...) are unique,
  no duplicate or prefix-redundant index.
- column_types: names and types agree (`*_at` datetime, `is_*` boolean, `*_count` int, `*_url` uri, money
  double) and primary tables record `created_at`.
- entity_coverage: each required entity of the project has a table (normalised names and synonyms);
  left out, with the other weights rescaled, when no entities are required.
"""

from __future__ import annotations

from collections.abc import Sequence

from runner.render import names
from runner.render.sqlite_probe import probe
from runner.rubric.types import Checklist, Dimension, gate_dimensions, scaled_dimensions
from runner.schemas.checks.database import check_database
from runner.schemas.context import ValidationContext
from runner.schemas.database import DatabaseDocument, Table

AXIS = "database"
WEIGHTS: dict[str, float] = {
    "ddl_executes": 4.0,
    "relations": 5.0,
    "naming": 4.0,
    "indexes": 6.0,
    "column_types": 5.0,
    "entity_coverage": 6.0,
}
ROLE_WORDS = frozenset(
    [
        "author",
        "owner",
        "creator",
        "parent",
        "reporter",
        "assignee",
        "assigner",
        "sender",
        "recipient",
        "receiver",
        "reviewer",
        "approver",
        "manager",
        "buyer",
        "seller",
        "editor",
        "moderator",
        "requester",
        "actor",
        "target",
        "source",
        "follower",
        "followee",
        "blocker",
        "blocked",
        "inviter",
        "invitee",
        "host",
        "guest",
        "updater",
        "deleter",
        "resolver",
        "handler",
        "uploader",
        "submitter",
        "last",
        "first",
        "root",
        "replied",
    ]
)
ACCOUNT_KEYS = frozenset({"email", "username", "login", "handle", "nickname"})
CATALOG_KEYS = frozenset({"slug", "sku", "isbn", "code"})


def score_database(doc: DatabaseDocument | None, required_entities: Sequence[str] = ()) -> list[Dimension]:
    """Score a database design; deterministic (SQLite in memory, no time, no randomness)."""
    weights = (
        dict(WEIGHTS) if required_entities else {k: v for k, v in WEIGHTS.items() if k != "entity_coverage"}
    )
    reason = gate_reason(doc)
    if reason is not None or doc is None:
        return gate_dimensions(AXIS, weights, reason or "no database document")
    tables = doc.tables()
    results = {
        "ddl_executes": _ddl_executes(doc),
        "relations": _relations(tables),
        "naming": _naming(tables),
        "indexes": _indexes(tables),
        "column_types": _column_types(tables),
    }
    if required_entities:
        results["entity_coverage"] = entity_coverage([t.name for t in tables], required_entities)
    return scaled_dimensions(AXIS, weights, results)


def gate_reason(doc: DatabaseDocument | None) -> str | None:
    """None when the document passes the gate, else the first validation error in one line."""
    if doc is None:
        return "no database document"
    # The document object exists, so it parsed; the gate adds the semantic rules (references resolve,
    # names unique). Calling them directly keeps imported documents larger than lapbench's generation
    # caps (AutoBe's) scorable.
    errors = check_database(doc, doc.model_dump(by_alias=True), ValidationContext())
    if not errors:
        return None
    return f"{len(errors)} validation error(s), first: {errors[0].one_line()}"


def _ddl_executes(doc: DatabaseDocument) -> tuple[float, str]:
    result = probe(doc)
    parts = [f"{result.statements_ok}/{result.statements} DDL statements ran"]
    fraction = 0.6 * result.statement_fraction
    if result.row_graph_ok:
        fraction += 0.25
        parts.append("row graph committed")
    else:
        parts.append("row graph failed")
    if not result.fk_checked or result.fk_enforced:
        fraction += 0.15
        parts.append("dangling reference refused" if result.fk_checked else "no foreign key to test")
    else:
        parts.append("dangling reference NOT refused")
    if result.errors:
        parts.append("first error: " + result.errors[0])
    return fraction, "; ".join(parts)


def _relations(tables: list[Table]) -> tuple[float, str]:
    by_name = {t.name: t for t in tables}
    referenced = {fk.target_table for t in tables for fk in t.foreign_keys}
    table_keys = [names.key(t.name) for t in tables]
    checks = Checklist("relation checks")
    for table in tables:
        for fk in table.foreign_keys:
            checks.check(fk.target_table in by_name, f"{table.name}.{fk.name} -> missing {fk.target_table}")
        if len(tables) > 1:
            linked = bool(table.foreign_keys) or table.name in referenced
            checks.check(linked, f"{table.name} is isolated")
        if table.stance in ("subsidiary", "snapshot"):
            owner = [fk for fk in table.foreign_keys if fk.target_table != table.name]
            checks.check(bool(owner), f"{table.stance} {table.name} has no owner key")
        for column in table.columns:
            if _looks_like_key(column.name, column.type, table_keys):
                checks.check(
                    False, f"{table.name}.{column.name} looks like a key but is a plain {column.type}"
                )
    return checks.result()


def _looks_like_key(column: str, type_: str, table_keys: list[tuple[str, ...]]) -> bool:
    """A plain uuid column, or a `*_id` column named after a table: a foreign key the design forgot.
    (`external_id`, `stripe_customer_id` stay plain: they name no table of this schema.)"""
    if type_ == "uuid":
        return True
    if not column.endswith("_id"):
        return False
    stem = names.key(column.removesuffix("_id"))
    return bool(stem) and any(k and names.same_word(stem[-1], k[-1]) for k in table_keys)


def _fk_named_after_target(fk_name: str, target: str, owner: str) -> bool:
    stem = names.key(fk_name.removesuffix("_id"))
    target_key = names.key(target)
    if not stem:
        return False
    if any(names.same_word(w, t) for w in stem for t in target_key):
        return True
    return stem[-1] in ROLE_WORDS or (
        target == owner and stem[-1] in {"parent", "previous", "next", "original"}
    )


def _naming(tables: list[Table]) -> tuple[float, str]:
    checks = Checklist("naming checks")
    for table in tables:
        checks.check(bool(names.SNAKE_CASE.match(table.name)), f"table {table.name} is not snake_case")
        last = names.words(table.name)[-1:] or [""]
        checks.check(names.is_plural(last[0]), f"table {table.name} is not plural")
        for column in table.columns:
            checks.check(
                bool(names.SNAKE_CASE.match(column.name)), f"{table.name}.{column.name} is not snake_case"
            )
        for fk in table.foreign_keys:
            checks.check(fk.name.endswith("_id"), f"{table.name}.{fk.name} does not end in _id")
            checks.check(
                _fk_named_after_target(fk.name, fk.target_table, table.name),
                f"{table.name}.{fk.name} does not name its target {fk.target_table}",
            )
    return checks.result()


def _indexes(tables: list[Table]) -> tuple[float, str]:
    checks = Checklist("index checks")
    for table in tables:
        indexes = [("unique", tuple(i.columns)) for i in table.unique_indexes]
        indexes += [("plain", tuple(i.columns)) for i in table.plain_indexes]
        leading = {cols[0] for _, cols in indexes}
        unique_sets = {cols for kind, cols in indexes if kind == "unique"}
        for fk in table.foreign_keys:
            # A 1:1 key is UNIQUE in the DDL, and SQLite backs that with an index.
            checks.check(fk.unique or fk.name in leading, f"{table.name}.{fk.name} has no index")
        for column in _natural_keys(table):
            unique = any(column in cols for cols in unique_sets)
            checks.check(unique, f"natural key {table.name}.{column} is not unique")
        seen: set[tuple[str, ...]] = set()
        for kind, cols in indexes:
            duplicate = cols in seen
            seen.add(cols)
            redundant = kind == "plain" and any(
                other[: len(cols)] == cols and len(other) > len(cols) for _, other in indexes
            )
            on_pk = cols == (table.primary_key,)
            ok = not (duplicate or redundant or on_pk)
            checks.check(ok, f"{kind} index {table.name}({', '.join(cols)}) is redundant")
    return checks.result()


def _natural_keys(table: Table) -> list[str]:
    """Columns that identify a row to people: login names of account tables (those storing a password)
    and slugs/codes of primary tables. Elsewhere (password resets, logs) an email is just data."""
    columns = {c.name: c for c in table.columns if not c.nullable}
    is_account = any("password" in c.name for c in table.columns)
    keys = [n for n in columns if n in ACCOUNT_KEYS] if is_account else []
    if table.stance == "primary":
        keys += [n for n in columns if n in CATALOG_KEYS]
    return keys


def _expected_type(column: str) -> tuple[set[str], set[str]] | None:
    """(ideal types, acceptable types) suggested by a column name, or None when the name says nothing."""
    words = names.words(column)
    last, first = words[-1], words[0]
    if last in {"at", "date", "time", "datetime", "timestamp"} or column.endswith("_on"):
        return {"datetime"}, set()
    if first in {"is", "has", "can", "should", "allow"} or last in {"enabled", "flag"}:
        return {"boolean"}, set()
    if last in {"count", "quantity", "qty", "age", "year", "stock"} or column == "position":
        return {"int"}, {"double"}
    if last in {
        "price",
        "amount",
        "total",
        "balance",
        "cost",
        "fee",
        "rate",
        "latitude",
        "longitude",
        "salary",
    }:
        return {"double", "int"}, set()
    if last in {"url", "uri", "link", "website", "homepage"}:
        return {"uri"}, {"string"}
    if column in {"email", "title", "name", "slug", "username"} or last == "hash":
        return {"string"}, set()
    return None


def _column_types(tables: list[Table]) -> tuple[float, str]:
    checks = Checklist("typed columns")
    for table in tables:
        for column in table.columns:
            expected = _expected_type(column.name)
            if expected is None:
                continue
            ideal, acceptable = expected
            credit = 1.0 if column.type in ideal else 0.5 if column.type in acceptable else 0.0
            checks.check(
                credit, f"{table.name}.{column.name} is {column.type}, expected {'/'.join(sorted(ideal))}"
            )
        if table.stance == "primary":
            has_created = any(c.name == "created_at" and c.type == "datetime" for c in table.columns)
            checks.check(has_created, f"primary table {table.name} has no created_at")
    return checks.result()


def entity_coverage(table_names: Sequence[str], required_entities: Sequence[str]) -> tuple[float, str]:
    """Share of required entities that some table stands for (last words match, synonyms allowed)."""
    keys = {name: names.key(name) for name in table_names}
    missing = []
    for entity in required_entities:
        entity_key = names.key(entity)
        if not entity_key:
            continue
        found = any(names.suffix_overlap(entity_key, k) >= 1 for k in keys.values())
        if not found:
            missing.append(entity)
    total = len([e for e in required_entities if names.key(e)])
    if total == 0:
        return 1.0, "no required entities"
    detail = f"{total - len(missing)}/{total} required entities have a table"
    if missing:
        detail += "; missing: " + ", ".join(missing[:5])
    return (total - len(missing)) / total, detail
