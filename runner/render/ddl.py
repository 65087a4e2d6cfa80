"""Render a `DatabaseDocument` to SQLite DDL.

Every table becomes a STRICT table so that SQLite enforces the declared column types: uuid, string, uri and
datetime are TEXT (datetime as ISO-8601 text), int is INTEGER, double is REAL, boolean is INTEGER limited
to 0/1 by a CHECK. The primary key is a TEXT uuid, every foreign key column carries
`REFERENCES target(id)` (and UNIQUE for a 1:1 key), unique indexes become `CREATE UNIQUE INDEX` and plain ones `CREATE INDEX`.
Identifiers are always double-quoted so that a column called `order` or `group` still works.
"""

from __future__ import annotations

from dataclasses import dataclass

from runner.schemas.database import DatabaseDocument, Table

SQLITE_TYPES: dict[str, str] = {
    "boolean": "INTEGER",
    "int": "INTEGER",
    "double": "REAL",
    "string": "TEXT",
    "uri": "TEXT",
    "uuid": "TEXT",
    "datetime": "TEXT",
}


@dataclass(frozen=True)
class DdlStatement:
    """One DDL statement and what it creates (`table` it belongs to, `kind` "table" or "index")."""

    table: str
    kind: str
    sql: str


def quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def index_name(table: str, position: int, unique: bool) -> str:
    # Positional names stay unique even when a design declares the same index twice (the rubric's
    # index dimension judges duplicates; the DDL should still execute).
    return f"{'ux' if unique else 'ix'}_{table}_{position}"


def create_table(table: Table) -> str:
    lines = [f"  {quote(table.primary_key)} TEXT NOT NULL PRIMARY KEY"]
    for fk in table.foreign_keys:
        null = "" if fk.nullable else " NOT NULL"
        unique = " UNIQUE" if fk.unique else ""  # a 1:1 relation
        lines.append(
            f"  {quote(fk.name)} TEXT{null}{unique} REFERENCES {quote(fk.target_table)}({quote('id')})"
        )
    for column in table.columns:
        null = "" if column.nullable else " NOT NULL"
        check = f" CHECK ({quote(column.name)} IN (0, 1))" if column.type == "boolean" else ""
        lines.append(f"  {quote(column.name)} {SQLITE_TYPES[column.type]}{null}{check}")
    body = ",\n".join(lines)
    return f"CREATE TABLE {quote(table.name)} (\n{body}\n) STRICT;"


def create_indexes(table: Table) -> list[str]:
    out = []
    for unique, indexes in ((True, table.unique_indexes), (False, table.plain_indexes)):
        for position, index in enumerate(indexes, start=1):
            cols = ", ".join(quote(c) for c in index.columns)
            name = quote(index_name(table.name, position, unique))
            out.append(f"CREATE {'UNIQUE ' if unique else ''}INDEX {name} ON {quote(table.name)} ({cols});")
    return out


def render_statements(doc: DatabaseDocument) -> list[DdlStatement]:
    """All statements, tables first (SQLite resolves REFERENCES lazily, so table order does not matter)."""
    tables = doc.tables()
    statements = [DdlStatement(t.name, "table", create_table(t)) for t in tables]
    for table in tables:
        statements.extend(DdlStatement(table.name, "index", sql) for sql in create_indexes(table))
    return statements


def render_ddl(doc: DatabaseDocument) -> str:
    """The whole schema as one SQL script, with a comment heading each namespace."""
    parts = []
    for file in doc.files:
        parts.append(f"-- {file.namespace} ({file.filename})")
        for table in file.tables:
            parts.append(create_table(table))
            parts.extend(create_indexes(table))
        parts.append("")
    return "\n".join(parts)
