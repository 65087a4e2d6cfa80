"""Database phase AST: files (namespaces) of tables. No recursion; tables refer to each other by name.

A table always has a uuid primary key column (`primaryKey`, usually "id"). A foreign key is itself a
uuid column named `name` (e.g. `author_id`) that references `targetTable`.id; `unique` makes the
relation 1:1. Plain columns use a closed type set. Index column lists may name plain columns, foreign
key columns and the primary key. Semantic rules (checked in `runner.schemas.checks.database`): table
names unique across the document, column names unique within a table, every foreign key target
exists, every index column exists."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field

from runner.schemas.base import DESCRIPTION_MAX, NAME_MAX, SNAKE_CASE, AstModel

ColumnType = Literal["boolean", "int", "double", "string", "uri", "uuid", "datetime"]
Stance = Literal["primary", "subsidiary", "snapshot"]

MAX_FILES = 16
MAX_TABLES_PER_FILE = 32
MAX_COLUMNS = 48
MAX_FOREIGN_KEYS = 16
MAX_INDEXES = 16
MAX_INDEX_COLUMNS = 6


def _snake(description: str) -> Any:
    return Field(pattern=SNAKE_CASE, max_length=NAME_MAX, description=description)


def _description(what: str) -> Any:
    return Field(max_length=DESCRIPTION_MAX, description=what)


class ForeignKey(AstModel):
    """A uuid column referencing another table's primary key."""

    name: str = _snake("Column name, snake_case ending in _id: the role of the referenced row.")
    target_table: str = _snake("Name of the referenced table (its id column).")
    unique: bool = Field(description="true for a 1:1 relation (at most one row per target).")
    nullable: bool = Field(description="true if the reference is optional.")
    description: str = _description("What the relation means.")


class Column(AstModel):
    """A plain (non-key) column."""

    name: str = _snake("Column name, snake_case, e.g. created_at.")
    type: ColumnType = Field(description="Column type.")
    nullable: bool = Field(description="true if the value may be missing.")
    description: str = _description("What the column stores.")


class Index(AstModel):
    """An index over one or more columns of the same table."""

    columns: list[str] = Field(
        min_length=1,
        max_length=MAX_INDEX_COLUMNS,
        description="Column names of this table, in index order.",
    )


class Table(AstModel):
    """One table. Names are snake_case plural."""

    name: str = _snake("Table name, snake_case plural, unique in the whole schema.")
    description: str = _description("What one row represents.")
    stance: Stance = Field(
        description="primary: managed on its own; subsidiary: owned by a parent row; snapshot: history/audit copy."
    )
    primary_key: str = Field(
        default="id",
        pattern=SNAKE_CASE,
        max_length=NAME_MAX,
        description="uuid primary key column, usually id.",
    )
    foreign_keys: list[ForeignKey] = Field(
        max_length=MAX_FOREIGN_KEYS, description="References to other tables."
    )
    columns: list[Column] = Field(max_length=MAX_COLUMNS, description="Plain columns (not keys).")
    unique_indexes: list[Index] = Field(max_length=MAX_INDEXES, description="Column sets unique per row.")
    plain_indexes: list[Index] = Field(max_length=MAX_INDEXES, description="Column sets indexed for lookups.")

    def column_types(self) -> dict[str, str]:
        """Every column of the table, in row order (primary key, foreign keys, columns) -> its type
        ("uuid" for the keys)."""
        types = {self.primary_key: "uuid", **{fk.name: "uuid" for fk in self.foreign_keys}}
        types.update({c.name: c.type for c in self.columns})
        return types


class DatabaseFile(AstModel):
    """One schema file: a namespace grouping related tables."""

    filename: str = Field(
        pattern=r"^[a-z0-9][a-z0-9_.-]*$",
        max_length=NAME_MAX,
        description="File name: lowercase, ending in .prisma.",
    )
    namespace: str = Field(
        pattern=r"^[A-Z][A-Za-z0-9]*$",
        max_length=NAME_MAX,
        description="PascalCase group name.",
    )
    tables: list[Table] = Field(
        min_length=1, max_length=MAX_TABLES_PER_FILE, description="Tables of this namespace."
    )


class DatabaseDocument(AstModel):
    """The whole relational schema."""

    MAX_FILES: ClassVar[int] = MAX_FILES

    files: list[DatabaseFile] = Field(
        min_length=1, max_length=MAX_FILES, description="Schema files (namespaces)."
    )

    def tables(self) -> list[Table]:
        """All tables of all files, in document order."""
        return [table for file in self.files for table in file.tables]

    def table(self, name: str) -> Table | None:
        return next((t for t in self.tables() if t.name == name), None)
