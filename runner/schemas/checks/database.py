"""Database phase rules: unique table names, unique columns per table, foreign keys to existing tables,
index columns that exist and are not repeated."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from runner.schemas.checks import duplicates, suggest
from runner.schemas.context import ValidationContext
from runner.schemas.database import DatabaseDocument, DatabaseFile, Index, Table
from runner.schemas.feedback import PlacedError, Segment, placed


def check_database(doc: DatabaseDocument, data: Any, context: ValidationContext) -> list[PlacedError]:
    errors = [
        *duplicates(data, ("files",), doc.files, lambda f: f.filename, "filename", "file name"),
        *duplicates(data, ("files",), doc.files, lambda f: f.namespace, "namespace", "namespace"),
    ]
    known = context.table_names | {t.name for t in doc.tables()}
    seen: dict[str, str] = {}
    for i, file in enumerate(doc.files):
        for j, table in enumerate(file.tables):
            if table.name in seen:
                errors.append(_duplicate_table(data, ("files", i, "tables", j), table.name, seen[table.name]))
            else:
                seen[table.name] = f"files[{i}].tables[{j}]"
        errors += _check_tables(file.tables, data, ("files", i), known)
    return errors


def check_database_file(file: DatabaseFile, data: Any, context: ValidationContext) -> list[PlacedError]:
    """A single file (namespace) call: its tables may reference tables already known from other files,
    and must not reuse their names."""
    errors = duplicates(data, ("tables",), file.tables, lambda t: t.name, "name", "table name")
    for j, table in enumerate(file.tables):
        if table.name in context.table_names:
            errors.append(_duplicate_table(data, ("tables", j), table.name, "an earlier file"))
    known = context.table_names | {t.name for t in file.tables}
    return errors + _check_tables(file.tables, data, (), known)


def check_table(table: Table, data: Any, context: ValidationContext) -> list[PlacedError]:
    return check_table_at(table, data, (), context.table_names | {table.name})


def _duplicate_table(data: Any, segs: Sequence[Segment], name: str, where: str) -> PlacedError:
    return placed(
        data,
        (*segs, "name"),
        "duplicate",
        "a table name unique in the whole schema",
        f"{name!r} is already a table ({where}); rename this one or merge them.",
    )


def _check_tables(
    tables: Sequence[Table], data: Any, prefix: Sequence[Segment], known: set[str] | frozenset[str]
) -> list[PlacedError]:
    errors: list[PlacedError] = []
    for j, table in enumerate(tables):
        errors += check_table_at(table, data, (*prefix, "tables", j), known)
    return errors


def check_table_at(
    table: Table, data: Any, segs: Sequence[Segment], known: set[str] | frozenset[str]
) -> list[PlacedError]:
    errors: list[PlacedError] = []
    owner: dict[str, tuple[Segment, ...]] = {table.primary_key: (*segs, "primaryKey")}
    named = [(fk.name, (*segs, "foreignKeys", k, "name")) for k, fk in enumerate(table.foreign_keys)]
    named += [(col.name, (*segs, "columns", k, "name")) for k, col in enumerate(table.columns)]
    for name, where in named:
        if name in owner:
            errors.append(
                placed(
                    data,
                    where,
                    "duplicate",
                    "a column name unique in its table",
                    f"{name!r} is already a column of {table.name!r}; rename or remove this one.",
                )
            )
        else:
            owner[name] = where
    for k, fk in enumerate(table.foreign_keys):
        if fk.target_table not in known:
            errors.append(
                placed(
                    data,
                    (*segs, "foreignKeys", k, "targetTable"),
                    "unknown_reference",
                    f"the name of a table ({suggest(fk.target_table, known)})",
                    "Point the foreign key at an existing table, or add that table.",
                )
            )
    for field, indexes in (("uniqueIndexes", table.unique_indexes), ("plainIndexes", table.plain_indexes)):
        errors += _check_indexes(table, indexes, data, (*segs, field), set(owner))
    return errors


def _check_indexes(
    table: Table, indexes: Sequence[Index], data: Any, segs: Sequence[Segment], columns: set[str]
) -> list[PlacedError]:
    errors = duplicates(data, segs, indexes, lambda ix: tuple(ix.columns), None, "index (column list)")
    for n, index in enumerate(indexes):
        seen: set[str] = set()
        for c, column in enumerate(index.columns):
            where = (*segs, n, "columns", c)
            if column not in columns:
                errors.append(
                    placed(
                        data,
                        where,
                        "unknown_column",
                        f"a column of {table.name} ({suggest(column, columns)})",
                        "Index only columns this table has (primary key, foreign keys, columns).",
                    )
                )
            elif column in seen:
                errors.append(
                    placed(data, where, "duplicate", "each column once per index", "Remove the repeat.")
                )
            seen.add(column)
    return errors
