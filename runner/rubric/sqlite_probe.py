"""Execute rendered DDL in a real in-memory SQLite database with foreign keys on, and prove the keys work.

Three steps, each recorded: (1) every CREATE statement runs on its own, so one bad table does not hide
the rest; (2) a row graph — one row per table, every foreign key pointing at the target's row — is
inserted in one transaction with deferred foreign-key checks (cycles and self references need no insert
order) and must commit; (3) a row whose foreign key points nowhere must be rejected. Values are derived
from names only, so the probe is deterministic.
"""

from __future__ import annotations

import sqlite3
import uuid
from dataclasses import dataclass, field

from runner.render.ddl import quote, render_statements
from runner.schemas.database import Column, DatabaseDocument, Table

_NAMESPACE = uuid.UUID("6f1c4f9e-2b1d-4c1a-9a53-6c0d5e1f7a10")


@dataclass(frozen=True)
class ProbeResult:
    statements: int
    statements_ok: int
    errors: list[str] = field(default_factory=list)
    row_graph_ok: bool = False
    fk_enforced: bool = False
    fk_checked: bool = False  # False when the schema has no foreign key to test

    @property
    def statement_fraction(self) -> float:
        return self.statements_ok / self.statements if self.statements else 0.0


def row_id(table: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, table))


def _value(table: Table, column: Column) -> object:
    if column.type in ("int", "boolean"):
        return 1
    if column.type == "double":
        return 1.5
    if column.type == "uuid":
        return str(uuid.uuid5(_NAMESPACE, f"{table.name}.{column.name}"))
    if column.type == "datetime":
        return "2026-01-01T00:00:00Z"
    if column.type == "uri":
        return f"https://example.com/{table.name}/{column.name}"
    return f"{table.name}.{column.name}"


def _row(table: Table, broken_fk: str | None = None) -> tuple[str, list[object]]:
    names = [table.primary_key]
    values: list[object] = [row_id(table.name)]
    for fk in table.foreign_keys:
        names.append(fk.name)
        values.append(row_id("#missing") if fk.name == broken_fk else row_id(fk.target_table))
    for column in table.columns:
        names.append(column.name)
        values.append(_value(table, column))
    cols = ", ".join(quote(n) for n in names)
    marks = ", ".join("?" for _ in names)
    return f"INSERT INTO {quote(table.name)} ({cols}) VALUES ({marks})", values


def probe(doc: DatabaseDocument) -> ProbeResult:
    statements = render_statements(doc)
    errors: list[str] = []
    ok = 0
    con = sqlite3.connect(":memory:", isolation_level=None)
    try:
        con.execute("PRAGMA foreign_keys = ON")
        for statement in statements:
            try:
                con.execute(statement.sql)
                ok += 1
            except sqlite3.Error as exc:
                errors.append(f"{statement.kind} of {statement.table}: {exc}")
        tables = doc.tables()
        fk_checked, fk_enforced = _dangling_reference_rejected(con, tables)
        row_graph_ok = _insert_row_graph(con, tables, errors)
    finally:
        con.close()
    return ProbeResult(len(statements), ok, errors, row_graph_ok, fk_enforced, fk_checked)


def _insert_row_graph(con: sqlite3.Connection, tables: list[Table], errors: list[str]) -> bool:
    try:
        con.execute("BEGIN")
        con.execute("PRAGMA defer_foreign_keys = ON")
        for table in tables:
            sql, values = _row(table)
            con.execute(sql, values)
        con.execute("COMMIT")
        return True
    except sqlite3.Error as exc:
        errors.append(f"row graph: {exc}")
        if con.in_transaction:
            con.execute("ROLLBACK")
        return False


def _dangling_reference_rejected(con: sqlite3.Connection, tables: list[Table]) -> tuple[bool, bool]:
    """(checked, enforced). Runs on the still empty database so that only a foreign key can fail:
    a row whose first foreign key points at a missing row must be refused."""
    table = next((t for t in tables if t.foreign_keys), None)
    if table is None:
        return False, False
    sql, values = _row(table, broken_fk=table.foreign_keys[0].name)
    try:
        con.execute(sql, values)
    except sqlite3.IntegrityError as exc:
        return True, "FOREIGN KEY" in str(exc)
    except sqlite3.Error:
        return True, False
    con.execute(f"DELETE FROM {quote(table.name)}")
    return True, False
