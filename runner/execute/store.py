"""The only place SQL is written: realize reads and writes become parameterised statements over the
tables of the database document (names come from the validated AST and are always quoted; values are
always parameters), executed on the in-memory SQLite database of one server.

Rows come back as dicts keyed by column name with booleans as true/false; a join's row is nested under
its `as` in the row that holds the foreign key (null when the key is null)."""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from runner.execute.functions import RealizeError, plain
from runner.render.ddl import quote
from runner.schemas.database import DatabaseDocument, Table
from runner.schemas.realize import Filter, Join, OrderBy, SelectStep


@dataclass(frozen=True)
class Condition:
    """One filter with its evaluated value (`join` None: the step's table)."""

    join: str | None
    column: str
    op: str
    value: Any


def _sql_value(value: Any, column: str) -> Any:
    value = plain(value)
    if isinstance(value, dict | list):
        raise RealizeError(f"column {column} cannot hold an object or array ({str(value)[:60]})")
    return value


def _where(conditions: Sequence[Condition], alias_of: dict[str | None, str]) -> tuple[str, list[Any]]:
    parts: list[str] = []
    params: list[Any] = []
    for c in conditions:
        col = f"{alias_of[c.join]}.{quote(c.column)}" if alias_of else quote(c.column)
        if c.op in ("isNull", "notNull"):
            parts.append(f"{col} IS {'NOT ' if c.op == 'notNull' else ''}NULL")
        elif c.op == "in":
            values = plain(c.value)
            if not isinstance(values, list):
                raise RealizeError(f"filter in on {c.column} needs an array, got {values!r}")
            parts.append(f"{col} IN ({', '.join('?' * len(values))})" if values else "0")
            params += [_sql_value(v, c.column) for v in values]
        elif c.op == "contains":
            text = plain(c.value)
            if not isinstance(text, str):
                raise RealizeError(f"filter contains on {c.column} needs a text, got {text!r}")
            escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            parts.append(f"{col} LIKE ? ESCAPE '\\'")
            params.append(f"%{escaped}%")
        else:
            # eq and ne are null-safe (IS / IS NOT), as the realize language promises
            sql = {"eq": "IS", "ne": "IS NOT", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}[c.op]
            parts.append(f"{col} {sql} ?")
            params.append(_sql_value(c.value, c.column))
    return (" WHERE " + " AND ".join(parts) if parts else ""), params


class Store:
    def __init__(self, conn: sqlite3.Connection, database: DatabaseDocument) -> None:
        self.conn = conn
        self.tables: dict[str, Table] = {t.name: t for t in database.tables()}
        self.booleans = {
            t.name: {c.name for c in t.columns if c.type == "boolean"} for t in database.tables()
        }

    def table(self, name: str) -> Table:
        table = self.tables.get(name)
        if table is None:
            raise RealizeError(f"unknown table {name}")
        return table

    def columns(self, table: Table) -> list[str]:
        return list(table.column_types())

    def decode(self, table: Table, values: Sequence[Any]) -> dict[str, Any]:
        row = dict(zip(self.columns(table), values, strict=True))
        for name in self.booleans[table.name]:
            if row[name] is not None:
                row[name] = bool(row[name])
        return row

    def _from(
        self, step: SelectStep
    ) -> tuple[str, dict[str | None, str], list[tuple[str | None, Join | None]]]:
        """FROM clause with every join, the SQL alias of each source, and the sources in order."""
        base = self.table(step.table)
        alias_of: dict[str | None, str] = {None: "t0"}
        tables: dict[str | None, Table] = {None: base}
        sql = f" FROM {quote(base.name)} AS t0"
        order: list[tuple[str | None, Join | None]] = [(None, None)]
        for i, join in enumerate(step.joins, start=1):
            source = tables.get(join.source)
            fk = (
                next((k for k in source.foreign_keys if k.name == join.foreign_key), None) if source else None
            )
            if source is None or fk is None:
                raise RealizeError(f"join {join.target}: no foreign key {join.foreign_key}")
            target = self.table(fk.target_table)
            alias_of[join.target], tables[join.target] = f"t{i}", target
            sql += f" LEFT JOIN {quote(target.name)} AS t{i} ON t{i}.{quote(target.primary_key)}"
            sql += f" = {alias_of[join.source]}.{quote(fk.name)}"
            order.append((join.target, join))
        return sql, alias_of, order

    def select(
        self, step: SelectStep, conditions: Sequence[Condition], page: tuple[int, int] | None = None
    ) -> Any:
        """What `step.mode` binds (rows, a row, a page, a count, a sum); `one`/`none` return the first
        row (or None) and leave the HTTP error to the caller."""
        from_sql, alias_of, sources = self._from(step)
        where, params = _where(conditions, alias_of)
        if step.mode == "count" or step.mode == "page":
            count = self.conn.execute(f"SELECT COUNT(*){from_sql}{where}", params).fetchone()[0]
            if step.mode == "count":
                return count
        if step.mode == "sum":
            col = f"t0.{quote(step.column or '')}"
            return self.conn.execute(f"SELECT COALESCE(SUM({col}), 0){from_sql}{where}", params).fetchone()[0]
        tables = {name: self._join_table(step, name) for name, _ in sources}
        cols = [f"{alias_of[name]}.{quote(c)}" for name, _ in sources for c in self.columns(tables[name])]
        sql = f"SELECT {', '.join(cols)}{from_sql}{where}{self._order(step.order_by, alias_of)}"
        if step.mode in ("one", "first", "none"):
            sql += " LIMIT 1"
        elif page is not None:
            number, limit = page
            sql += f" LIMIT {limit} OFFSET {(number - 1) * limit}"
        rows = [self._nest(values, sources, tables) for values in self.conn.execute(sql, params)]
        if step.mode == "page" and page is not None:
            pagination = {
                "current": page[0],
                "limit": page[1],
                "records": count,
                "pages": math.ceil(count / page[1]),
            }
            return {"pagination": pagination, "data": rows}
        if step.mode in ("one", "first", "none"):
            return rows[0] if rows else None
        return rows

    def _join_table(self, step: SelectStep, name: str | None) -> Table:
        if name is None:
            return self.table(step.table)
        join = next(j for j in step.joins if j.target == name)
        source = self._join_table(step, join.source)
        fk = next(k for k in source.foreign_keys if k.name == join.foreign_key)
        return self.table(fk.target_table)

    def _order(self, order_by: Sequence[OrderBy], alias_of: dict[str | None, str]) -> str:
        keys = [f"{alias_of[o.join]}.{quote(o.column)} {o.direction.upper()}" for o in order_by]
        # rowid breaks ties in the first key's direction: rows written later count as later
        direction = order_by[0].direction.upper() if order_by else "ASC"
        return " ORDER BY " + ", ".join([*keys, f"t0.rowid {direction}"])

    def _nest(
        self,
        values: Sequence[Any],
        sources: list[tuple[str | None, Join | None]],
        tables: dict[str | None, Table],
    ) -> dict[str, Any]:
        rows: dict[str | None, dict[str, Any] | None] = {}
        offset = 0
        for name, join in sources:
            table = tables[name]
            width = len(self.columns(table))
            chunk = values[offset : offset + width]
            offset += width
            row = self.decode(table, chunk) if chunk[0] is not None else None
            rows[name] = row
            parent = rows.get(join.source) if join is not None else None
            if join is not None and parent is not None:
                parent[join.target] = row
        base = rows[None]
        assert base is not None
        return base

    def insert(self, table_name: str, values: dict[str, Any], new_id: str) -> dict[str, Any]:
        table = self.table(table_name)
        row = {table.primary_key: new_id, **{k: _sql_value(v, k) for k, v in values.items()}}
        names = ", ".join(quote(k) for k in row)
        self.conn.execute(
            f"INSERT INTO {quote(table.name)} ({names}) VALUES ({', '.join('?' * len(row))})",
            list(row.values()),
        )
        return self.read(table, new_id)

    def read(self, table: Table, key: Any) -> dict[str, Any]:
        cols = ", ".join(quote(c) for c in self.columns(table))
        sql = f"SELECT {cols} FROM {quote(table.name)} WHERE {quote(table.primary_key)} = ?"
        return self.decode(table, self.conn.execute(sql, [key]).fetchone())

    def update(
        self, table_name: str, conditions: Sequence[Condition], changes: Sequence[tuple[str, Any, bool]]
    ) -> dict[str, Any] | None:
        """Apply `changes` (column, value, increment) to the matching rows; the first one, read back."""
        table = self.table(table_name)
        where, params = _where(conditions, {})
        pk = quote(table.primary_key)
        keys = [
            r[0]
            for r in self.conn.execute(f"SELECT {pk} FROM {quote(table.name)}{where} ORDER BY rowid", params)
        ]
        if not keys:
            return None
        sets = [f"{quote(c)} = {quote(c)} + ?" if inc else f"{quote(c)} = ?" for c, _, inc in changes]
        values = [_sql_value(v, c) for c, v, _ in changes]
        marks = ", ".join("?" * len(keys))
        self.conn.execute(
            f"UPDATE {quote(table.name)} SET {', '.join(sets)} WHERE {pk} IN ({marks})", values + keys
        )
        return self.read(table, keys[0])

    def delete(self, table_name: str, conditions: Sequence[Condition]) -> int:
        table = self.table(table_name)
        where, params = _where(conditions, {})
        return self.conn.execute(f"DELETE FROM {quote(table.name)}{where}", params).rowcount


def condition(f: Filter, value: Any) -> Condition:
    return Condition(f.join, f.column, f.op, value)
