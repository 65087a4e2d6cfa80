"""Realize rules about rows: tables and columns exist, joins follow foreign keys, filters compare with a
value (or not, for isNull/notNull), selects bind the type their mode says, writes do not set the primary
key and an insert gives every required column."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from runner.schemas.checks import duplicates
from runner.schemas.checks.realize_shape import ShapeChecker
from runner.schemas.checks.realize_types import ANY, PAGINATION, SCALAR, ListT, ObjT, RowT
from runner.schemas.database import DatabaseDocument, Table
from runner.schemas.feedback import Segment
from runner.schemas.realize import (
    ColumnValue,
    DeleteStep,
    Filter,
    InsertStep,
    SelectStep,
    SetValue,
    UpdateStep,
)

Segs = tuple[Segment, ...]
NUMERIC = ("int", "double")


@dataclass
class _Rows:
    """The row sources of one step: the step's table (key None) and its joins, each with its parent."""

    tables: dict[str | None, Table]
    parents: dict[str, str | None]

    def row(self, name: str | None = None) -> RowT:
        children = [(alias, self.row(alias)) for alias, parent in self.parents.items() if parent == name]
        return RowT(self.tables[name], tuple(children))


class RowChecker(ShapeChecker):
    database: DatabaseDocument | None

    def _table(self, name: str, segs: Segs) -> Table | None:
        if self.database is None:
            return None
        table = self.database.table(name)
        if table is None:
            names = [t.name for t in self.database.tables()]
            self.unknown(segs, "a table of the schema", name, names, "Use a table of the database schema.")
        return table

    def _select(self, step: SelectStep, segs: Segs, scope: dict[str, Any]) -> Any:
        table = self._table(step.table, (*segs, "table"))
        rows = _Rows({None: table}, {}) if table is not None else None
        if rows is not None:
            self._joins(step, rows, segs)
        for i, f in enumerate(step.where):
            self._filter(f, rows, scope, (*segs, "where", i))
        for i, order in enumerate(step.order_by):
            self._column(rows, order.join, order.column, (*segs, "orderBy", i))
        if (step.mode == "page") != (step.page is not None):
            self.error(
                (*segs, "page"), "page", "{page, limit} for mode page, null otherwise", "Fix page or mode."
            )
        if step.page is not None:
            self.type_of(step.page.page, scope, (*segs, "page", "page"), 1)
            self.type_of(step.page.limit, scope, (*segs, "page", "limit"), 1)
        if (step.mode == "sum") != (step.column is not None):
            self.error(
                (*segs, "column"), "sum", "a column for mode sum, null otherwise", "Fix column or mode."
            )
        elif (
            table is not None
            and step.column is not None
            and table.column_types().get(step.column) not in NUMERIC
        ):
            self.error(
                (*segs, "column"),
                "not_numeric",
                f"an int or double column of {table.name}",
                "Sum a number column.",
            )
        if step.status is not None and step.mode not in ("one", "none"):
            self.error((*segs, "status"), "status", "null", "Only modes one and none stop with a status.")
        if rows is None:
            return ANY
        row = rows.row()
        page = ObjT((("pagination", PAGINATION), ("data", ListT(row))))
        return {"one": row, "first": row, "many": ListT(row), "page": page}.get(step.mode, SCALAR)

    def _joins(self, step: SelectStep, rows: _Rows, segs: Segs) -> None:
        for i, join in enumerate(step.joins):
            where = (*segs, "joins", i)
            source = rows.tables.get(join.source)
            if source is None:
                known = [str(a) for a in rows.tables if a]
                self.unknown(
                    (*where, "source"),
                    "null or an earlier join",
                    str(join.source),
                    known,
                    "Join from the step's table or an earlier join.",
                )
                continue
            fk = next((k for k in source.foreign_keys if k.name == join.foreign_key), None)
            target = self.database.table(fk.target_table) if fk and self.database else None
            if fk is None or target is None:
                keys = [k.name for k in source.foreign_keys]
                self.unknown(
                    (*where, "foreignKey"),
                    f"a foreign key of {source.name}",
                    join.foreign_key,
                    keys,
                    "Follow a foreign key of that table.",
                )
            elif join.target in rows.tables or join.target in source.column_types():
                self.error(
                    (*where, "as"), "redeclared", "a name that is not a column or join", "Rename the join."
                )
            else:
                rows.tables[join.target] = target
                rows.parents[join.target] = join.source

    def _filter(self, f: Filter, rows: _Rows | None, scope: dict[str, Any], segs: Segs) -> None:
        self._column(rows, f.join, f.column, segs)
        takes_value = f.op not in ("isNull", "notNull")
        if takes_value and f.value is None:
            self.error(
                (*segs, "value"), "missing_value", "a value", f"{f.op} compares the column with a value."
            )
        elif not takes_value and f.value is not None:
            self.error((*segs, "value"), "unexpected_value", "null", f"{f.op} takes no value.")
        elif f.value is not None:
            self.type_of(f.value, scope, (*segs, "value"), 1)

    def _column(self, rows: _Rows | None, join: str | None, column: str, segs: Segs) -> None:
        if rows is None:
            return
        table = rows.tables.get(join)
        if table is None:
            self.unknown(
                (*segs, "join"),
                "null or a join of this step",
                str(join),
                [str(a) for a in rows.tables if a],
                "Name a join's `as`.",
            )
        elif column not in table.column_types():
            self.unknown(
                (*segs, "column"),
                f"a column of {table.name}",
                column,
                table.column_types(),
                "Use a column of that table.",
            )

    def _write(self, step: InsertStep | UpdateStep | DeleteStep, segs: Segs, scope: dict[str, Any]) -> Any:
        table = self._table(step.table, (*segs, "table"))
        rows = _Rows({None: table}, {}) if table is not None else None
        for i, f in enumerate([] if isinstance(step, InsertStep) else step.where):
            if f.join is not None:
                self.error(
                    (*segs, "where", i, "join"),
                    "join",
                    "null",
                    "Writes filter on their own columns; select first.",
                )
            else:
                self._filter(f, rows, scope, (*segs, "where", i))
        if isinstance(step, DeleteStep):
            return SCALAR
        field = "values" if isinstance(step, InsertStep) else "set"
        items: Sequence[ColumnValue | SetValue] = step.values if isinstance(step, InsertStep) else step.set
        self.errors += duplicates(self.data, (*segs, field), items, lambda v: v.column, "column", "column")
        cols = table.column_types() if table is not None else {}
        for i, item in enumerate(items):
            self.type_of(item.value, scope, (*segs, field, i, "value"), 1)
            if table is None:
                continue
            if item.column == table.primary_key or item.column not in cols:
                writable = [c for c in cols if c != table.primary_key]
                self.unknown(
                    (*segs, field, i, "column"),
                    f"a column of {table.name} (the primary key is generated)",
                    item.column,
                    writable,
                    "Write a column of the table.",
                )
            elif getattr(item, "increment", False) and cols[item.column] not in NUMERIC:
                self.error(
                    (*segs, field, i, "increment"),
                    "not_numeric",
                    "false",
                    "Only int and double columns count up.",
                )
        if isinstance(step, InsertStep) and table is not None:
            given = {v.column for v in step.values}
            required = [k.name for k in table.foreign_keys if not k.nullable]
            required += [c.name for c in table.columns if not c.nullable]
            missing = [c for c in required if c not in given]
            if missing:
                self.error(
                    (*segs, "values"),
                    "missing_column",
                    f"a value for every required column of {table.name}",
                    f"Add {', '.join(missing)}.",
                )
        return RowT(table) if table is not None else ANY
