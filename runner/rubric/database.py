"""Database axis of the rubric (30 points): is the schema real, connected, well named, indexed, typed and
complete?

Gate: the document exists and passes the semantic rules of `runner.schemas` (it parsed, so pydantic
passed). Weights: see WEIGHTS (sum 30). Then:
- ddl_executes: the rendered DDL runs in in-memory SQLite with `PRAGMA foreign_keys=ON`, a row graph
  (one row per table, all foreign keys set) commits, and a dangling reference is refused.
- relations: the tables form one connected design: foreign keys resolve, no isolated table (account
  tables may stand alone), subsidiary and snapshot tables point at their owner, and no uuid / `*_id`
  plain column that should be a foreign key.
- naming: snake_case, plural table names, foreign keys `*_id` named after their target (or a role).
- indexes: every foreign key column leads an index (or is a UNIQUE 1:1 key), natural keys of account
  and catalogue tables (email, username, slug...) are unique, link tables (votes, tags) cannot store
  the same pair twice, and no index is a duplicate, a prefix of another, or the primary key alone.
- column_types: names and types agree (`*_at` datetime, `is_*` boolean, `*_count` int, `*_url` uri, money
  double) and primary tables record `created_at`.
- entity_coverage: each required entity of the project has a table (normalised names, synonyms, app
  prefixes; half credit when only the last word matches); left out, with the other weights rescaled,
  when no entities are required.
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
# Weights favour what tells designs apart; DDL execution mostly confirms the gate, so it weighs little.
WEIGHTS: dict[str, float] = {
    "ddl_executes": 3.0,
    "relations": 6.0,
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
        # An account table (an administrator, say) may stand alone; data that belongs to no one may not.
        if len(tables) > 1 and not _is_account(table):
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
        if _is_junction(table):
            fk_names = {fk.name for fk in table.foreign_keys}
            paired = any(len(fk_names & set(cols)) >= 2 for cols in unique_sets)
            checks.check(paired, f"link table {table.name} lets the same pair be stored twice")
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


_BOOKKEEPING = frozenset({"created_at", "updated_at", "deleted_at"})


def _is_junction(table: Table) -> bool:
    """A link between two rows (a vote, a tag on a post, a follow): keys to two or more other tables and
    at most two columns of its own besides timestamps, none of them text. Storing the same pair twice is
    then a bug."""
    targets = {fk.target_table for fk in table.foreign_keys if fk.target_table != table.name}
    own = [c for c in table.columns if c.name not in _BOOKKEEPING]
    has_content = any(c.type in ("string", "uri") for c in own)  # a comment or a report carries text
    return len(targets) >= 2 and len(own) <= 2 and not has_content and table.stance != "snapshot"


def _is_account(table: Table) -> bool:
    return any("password" in c.name for c in table.columns)


def _natural_keys(table: Table) -> list[str]:
    """Columns that identify a row to people: login names of account tables (those storing a password)
    and slugs/codes of primary tables. Elsewhere (password resets, logs) an email is just data."""
    columns = {c.name: c for c in table.columns if not c.nullable}
    keys = [n for n in columns if n in ACCOUNT_KEYS] if _is_account(table) else []
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
    """Share of required entities that some table stands for. A table whose name ends with all the
    entity's words (synonyms and app prefixes allowed: `todo_app_members` for "users") counts fully; one
    that shares only the last word (`doctor_slots` for "availability_slots") counts half."""
    keys = [names.key(name) for name in table_names]
    checks = Checklist("required entities")
    for entity in required_entities:
        entity_key = names.key(entity)
        if not entity_key:
            continue
        best = max((names.suffix_overlap(entity_key, k) for k in keys), default=0)
        credit = 1.0 if best >= len(entity_key) else 0.5 if best >= 1 else 0.0
        checks.check(credit, f"{'no' if credit == 0 else 'only a partial'} table for {entity}")
    return checks.result(empty_fraction=1.0)
