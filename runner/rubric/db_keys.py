"""Per-table checks of the database axis about keys and values: indexes (every key a query follows leads an
index, natural keys are unique, link tables cannot store a pair twice, no redundant index) and column
types (a column's name and type agree).

Keys are those the design needs, not only those it declared: a plain uuid or `*_id` column named after a
table is a foreign key the design forgot, and it needs an index all the same, so turning a foreign key
into a plain column never raises the index score.
"""

from __future__ import annotations

from runner.rubric import names
from runner.rubric.types import Checklist
from runner.schemas.database import Table

ACCOUNT_KEYS = frozenset({"email", "username", "login", "handle", "nickname"})
CATALOG_KEYS = frozenset({"slug", "sku", "isbn", "code"})
_BOOKKEEPING = frozenset({"created_at", "updated_at", "deleted_at"})


def is_account(table: Table) -> bool:
    return any("password" in c.name for c in table.columns)


def looks_like_key(column: str, type_: str, table_keys: list[tuple[str, ...]]) -> bool:
    """A plain uuid column, or a `*_id` column named after a table: a foreign key the design forgot.
    (`external_id`, `stripe_customer_id` stay plain: they name no table of this schema.)"""
    if type_ == "uuid":
        return True
    if not column.endswith("_id"):
        return False
    stem = names.key(column.removesuffix("_id"))
    return bool(stem) and any(k and names.same_word(stem[-1], k[-1]) for k in table_keys)


def _is_junction(table: Table) -> bool:
    """A link between two rows (a vote, a tag on a post, a follow): keys to two or more other tables and
    at most two columns of its own besides timestamps, none of them text. Storing the same pair twice is
    then a bug."""
    targets = {fk.target_table for fk in table.foreign_keys if fk.target_table != table.name}
    own = [c for c in table.columns if c.name not in _BOOKKEEPING]
    has_content = any(c.type in ("string", "uri") for c in own)  # a comment or a report carries text
    return len(targets) >= 2 and len(own) <= 2 and not has_content and table.stance != "snapshot"


def _natural_keys(table: Table) -> list[str]:
    """Columns that identify a row to people: login names of account tables (those storing a password)
    and slugs/codes of primary tables. Elsewhere (password resets, logs) an email is just data."""
    columns = {c.name: c for c in table.columns if not c.nullable}
    keys = [n for n in columns if n in ACCOUNT_KEYS] if is_account(table) else []
    if table.stance == "primary":
        keys += [n for n in columns if n in CATALOG_KEYS]
    return keys


def indexes(table: Table, tables: list[Table]) -> Checklist:
    checks = Checklist("index checks")
    table_keys = [names.key(t.name) for t in tables]
    declared = [("unique", tuple(i.columns)) for i in table.unique_indexes]
    declared += [("plain", tuple(i.columns)) for i in table.plain_indexes]
    leading = {cols[0] for _, cols in declared}
    unique_sets = {cols for kind, cols in declared if kind == "unique"}
    for fk in table.foreign_keys:
        # A 1:1 key is UNIQUE in the DDL, and SQLite backs that with an index.
        checks.check(fk.unique or fk.name in leading, f"{table.name}.{fk.name} has no index")
    for column in table.columns:
        if looks_like_key(column.name, column.type, table_keys):
            checks.check(column.name in leading, f"{table.name}.{column.name} (a key) has no index")
    for key in _natural_keys(table):
        unique = any(key in cols for cols in unique_sets)
        checks.check(unique, f"natural key {table.name}.{key} is not unique")
    if _is_junction(table):
        fk_names = {fk.name for fk in table.foreign_keys}
        paired = any(len(fk_names & set(cols)) >= 2 for cols in unique_sets)
        checks.check(paired, f"link table {table.name} lets the same pair be stored twice")
    seen: set[tuple[str, ...]] = set()
    for kind, cols in declared:
        duplicate = cols in seen
        seen.add(cols)
        redundant = kind == "plain" and any(
            other[: len(cols)] == cols and len(other) > len(cols) for _, other in declared
        )
        on_pk = cols == (table.primary_key,)
        ok = not (duplicate or redundant or on_pk)
        checks.check(ok, f"{kind} index {table.name}({', '.join(cols)}) is redundant")
    return checks


MONEY = frozenset(
    {"price", "amount", "total", "balance", "cost", "fee", "rate", "latitude", "longitude", "salary"}
)
COUNTS = frozenset({"count", "quantity", "qty", "age", "year", "stock"})


def expected_type(column: str) -> tuple[set[str], set[str]] | None:
    """(ideal types, acceptable types) suggested by a column name, or None when the name says nothing.
    A time of day (`start_time`) has no type of its own in the closed type set: a string is as good as a
    datetime for it."""
    words = names.words(column)
    last, first = words[-1], words[0]
    if last == "time":
        return {"datetime", "string"}, set()
    if last in {"at", "date", "datetime", "timestamp"} or column.endswith("_on"):
        return {"datetime"}, set()
    if first in {"is", "has", "can", "should", "allow"} or last in {"enabled", "flag"}:
        return {"boolean"}, set()
    if last in COUNTS or column == "position":
        return {"int"}, {"double"}
    if last in MONEY:
        return {"double", "int"}, set()
    if last in {"url", "uri", "link", "website", "homepage"}:
        return {"uri"}, {"string"}
    if column in {"email", "title", "name", "slug", "username"} or last == "hash":
        return {"string"}, set()
    return None


def column_types(table: Table) -> Checklist:
    checks = Checklist("typed columns")
    for column in table.columns:
        expected = expected_type(column.name)
        if expected is None:
            continue
        ideal, acceptable = expected
        credit = 1.0 if column.type in ideal else 0.5 if column.type in acceptable else 0.0
        checks.check(
            credit, f"{table.name}.{column.name} is {column.type}, expected {'/'.join(sorted(ideal))}"
        )
    return checks
