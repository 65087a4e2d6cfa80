"""Database axis of the rubric (25 points): is the schema complete, connected, well named, indexed and
typed?

Gate: the document exists and its rendered DDL is usable: every statement runs in in-memory SQLite with
`PRAGMA foreign_keys=ON`, a row graph (one row per table, every foreign key set) commits and a dangling
reference is refused. Semantic errors that leave the DDL usable (an imported AutoBe schema may have them;
a lapbench document that passed validation has none) cost points in the dimension they belong to.

Dimensions (WEIGHTS, relative):
- entity_coverage: each required entity of the project has a table (synonyms and app prefixes allowed;
  half credit when only the last word matches); left out, with the other weights rescaled, when the
  project requires none.
- relations, naming, indexes, column_types: checks per table (see below and `runner.rubric.db_keys`),
  averaged over the tables of required entities and the required entities without a table (each counts
  0); other tables count only when they have a fault (`runner.rubric.types.over_required`).
  relations: foreign keys resolve, no isolated table (account tables may stand alone), subsidiary and
  snapshot tables point at their owner, no uuid / `*_id` plain column that should be a foreign key.
  naming: plural table names, foreign keys `*_id` named after their target (or a role).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from runner.rubric import names
from runner.rubric.db_keys import column_types, indexes, is_account, looks_like_key
from runner.rubric.required import entity_match, missing_entities
from runner.rubric.sqlite_probe import probe
from runner.rubric.types import (
    Checklist,
    Dimension,
    Result,
    gate_dimensions,
    over_required,
    scaled_dimensions,
)
from runner.schemas.checks.database import check_database
from runner.schemas.context import ValidationContext
from runner.schemas.database import DatabaseDocument, Table
from runner.schemas.inflection import is_plural

AXIS = "database"
WEIGHTS: dict[str, float] = {
    "entity_coverage": 6.0,
    "relations": 6.0,
    "indexes": 5.0,
    "column_types": 4.0,
    "naming": 4.0,
}
# A semantic error of a usable document, by kind, costs points in this dimension.
ERROR_DIMENSION = {"duplicate": "naming", "unknown_reference": "relations", "unknown_column": "indexes"}
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
        "issuer",
        "recorder",
    ]
)


def score_database(doc: DatabaseDocument | None, required_entities: Sequence[str] = ()) -> list[Dimension]:
    """Score a database design; deterministic (SQLite in memory, no time, no randomness)."""
    weights = {k: v for k, v in WEIGHTS.items() if required_entities or k != "entity_coverage"}
    reason = gate_reason(doc)
    if reason is not None or doc is None:
        return gate_dimensions(AXIS, weights, reason or "no database document")
    tables = doc.tables()
    table_names = [t.name for t in tables]
    missing = missing_entities(required_entities, table_names)
    wanted = {entity_match(e, table_names)[0] for e in required_entities}
    required = [t for t in tables if t.name in wanted or not required_entities]
    extra = [t for t in tables if t not in required]
    errors = _semantic_errors(doc)

    def per_table(check: Callable[[Table], Checklist], dimension: str = "") -> Result:
        parts = [check(t) for t in required]
        return over_required(
            parts, missing, "tables", [*errors.get(dimension, []), *(check(t) for t in extra)]
        )

    results: dict[str, Result] = {
        "relations": per_table(lambda t: _relations(t, tables), "relations"),
        "naming": per_table(_naming, "naming"),
        "indexes": per_table(lambda t: indexes(t, tables), "indexes"),
        "column_types": per_table(column_types),
    }
    if required_entities:
        results["entity_coverage"] = entity_coverage(table_names, required_entities)
    return scaled_dimensions(AXIS, weights, results)


def gate_reason(doc: DatabaseDocument | None) -> str | None:
    """None when the rendered DDL is usable, else why not in one line."""
    if doc is None:
        return "no database document"
    result = probe(doc)
    if result.statements_ok < result.statements or not result.row_graph_ok:
        first = result.errors[0] if result.errors else "unknown error"
        return f"the DDL does not run in SQLite ({result.statements_ok}/{result.statements} statements ran): {first}"
    if result.fk_checked and not result.fk_enforced:
        return "the DDL stores a reference to a missing row (foreign keys not enforced)"
    return None


def _semantic_errors(doc: DatabaseDocument) -> dict[str, list[Checklist]]:
    """Validation errors of a usable document, one failed part each, in the dimension of their kind."""
    out: dict[str, list[Checklist]] = {name: [] for name in ("relations", "naming", "indexes")}
    for error in check_database(doc, doc.model_dump(by_alias=True), ValidationContext()):
        part = Checklist("validation rules")
        part.check(False, error.one_line())
        out[ERROR_DIMENSION.get(error.kind, "naming")].append(part)
    return out


def _relations(table: Table, tables: list[Table]) -> Checklist:
    by_name = {t.name for t in tables}
    referenced = {fk.target_table for t in tables for fk in t.foreign_keys}
    table_keys = [names.key(t.name) for t in tables]
    checks = Checklist("relation checks")
    for fk in table.foreign_keys:
        checks.check(fk.target_table in by_name, f"{table.name}.{fk.name} -> missing {fk.target_table}")
    # An account table (an administrator, say) may stand alone; data that belongs to no one may not.
    if len(tables) > 1 and not is_account(table):
        linked = bool(table.foreign_keys) or table.name in referenced
        checks.check(linked, f"{table.name} is isolated")
    if table.stance in ("subsidiary", "snapshot"):
        owner = [fk for fk in table.foreign_keys if fk.target_table != table.name]
        checks.check(bool(owner), f"{table.stance} {table.name} has no owner key")
    for column in table.columns:
        if looks_like_key(column.name, column.type, table_keys):
            checks.check(False, f"{table.name}.{column.name} looks like a key but is a plain {column.type}")
    return checks


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


def _naming(table: Table) -> Checklist:
    checks = Checklist("naming checks")
    checks.check(is_plural(table.name), f"table {table.name} is not plural")
    for fk in table.foreign_keys:
        checks.check(fk.name.endswith("_id"), f"{table.name}.{fk.name} does not end in _id")
        checks.check(
            _fk_named_after_target(fk.name, fk.target_table, table.name),
            f"{table.name}.{fk.name} does not name its target {fk.target_table}",
        )
    return checks


def entity_coverage(table_names: Sequence[str], required_entities: Sequence[str]) -> Result:
    """Share of required entities that some table stands for (see `runner.rubric.required.entity_match`)."""
    checks = Checklist("required entities")
    for entity in required_entities:
        credit = entity_match(entity, table_names)[1]
        checks.check(credit, f"{'no' if credit == 0 else 'only a partial'} table for {entity}")
    return checks.result()
