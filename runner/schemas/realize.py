"""Realize phase AST: the logic of one API operation, which lapbench executes over SQLite.

An operation (`RealizeOperation`) is named by the `method` and `path` of an interface operation. It
lists the `actors` whose token may call it, a flat list of `steps` run in order, and `returns`, the
response body built from what the steps bound. Steps (`kind`):
- `select`: read rows of a database table (filters, joins along foreign keys, ordering, pagination); the
  `mode` says what is bound: one row (else an HTTP error, 404 by default), the first row or null, all
  rows, a page `{pagination, data}`, a count, a sum, or nothing (an HTTP error, 409 by default, when a
  row matches: a uniqueness check);
- `insert`, `update`, `delete`: write rows of a table; the primary key of a new row is generated;
- `check`: stop with an HTTP error (400, 401, 403, 404, 409) unless a condition holds;
- `let`: bind a computed value; `signIn`: issue a token for an account of an actor (join and login), so
  that the caller acts as that account afterwards.
`insert`, `update`, `delete` and `check` may run once per element of an array (`each`); every step may
run only `when` a condition holds. There are no nested blocks and no raw SQL: tables and columns are
names resolved against the database document, so a step cannot write outside its tables.
Expressions (`kind`, the only recursion): literal, ref (`body`, `params`, `actor` or a bound name, then
a path of property/column names), call (a closed set of functions, `FUNCTIONS`), object, array, map.
Semantic rules (every table, column, join, name, path parameter, body field and response property
resolves; arities; the response shape) live in `runner.schemas.checks.realize`."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal, get_args

from pydantic import Field

from runner.schemas.base import CAMEL_CASE, NAME_MAX, SNAKE_CASE, TITLE_MAX, AstModel
from runner.schemas.database import MAX_COLUMNS
from runner.schemas.interface import PATH_PATTERN, HttpMethod
from runner.schemas.realize_expressions import RealizeExpression, bound_field, kind_field

MAX_STEPS = 24
MAX_FILTERS = 8
MAX_JOINS = 4
MAX_ORDER = 3
MAX_ACTORS = 4
ErrorStatus = Literal[400, 401, 403, 404, 409]
RESERVED = frozenset({"body", "params", "actor"})

FilterOp = Literal["eq", "ne", "lt", "le", "gt", "ge", "contains", "in", "isNull", "notNull"]
SelectMode = Literal["one", "first", "many", "page", "count", "sum", "none"]


def _table() -> Any:
    return Field(pattern=SNAKE_CASE, max_length=NAME_MAX, description="A table of the database schema.")


def _column(what: str) -> Any:
    return Field(pattern=SNAKE_CASE, max_length=NAME_MAX, description=what)


def _join_ref() -> Any:
    return Field(
        default=None,
        pattern=CAMEL_CASE,
        max_length=NAME_MAX,
        description="`as` of a join of this step, or null for the step's table.",
    )


def _when() -> Any:
    return Field(default=None, description="Run only if true (null: always).")


def _status(what: str) -> Any:
    return Field(default=None, description=what)


# --- parts of steps ------------------------------------------------------------------------------------


class Filter(AstModel):
    """`column op value`; several filters of one step must all hold."""

    join: str | None = _join_ref()
    column: str = _column("Column compared (primary key, foreign key or column).")
    op: FilterOp = Field(
        description="eq ne lt le gt ge compare (eq null: IS NULL); contains: text, ignoring case; in: "
        "value is an array of allowed values; isNull, notNull: no value."
    )
    value: RealizeExpression | None = Field(
        default=None, description="Compared value; null for isNull/notNull."
    )
    optional: bool = Field(
        default=False,
        description="true: skip this filter when the value is null or absent (optional search).",
    )


class Join(AstModel):
    """Follow a foreign key to the row it references; the joined row appears under `as` in each row."""

    source: str | None = Field(
        default=None,
        pattern=CAMEL_CASE,
        max_length=NAME_MAX,
        description="`as` of an earlier join that holds the foreign key, or null for the step's table.",
    )
    foreign_key: str = _column("Foreign key column of the table read.")
    target: str = bound_field("Name of the joined row (null if the key is null).")


class OrderBy(AstModel):
    join: str | None = _join_ref()
    column: str = _column("Column to sort by.")
    direction: Literal["asc", "desc"] = Field(description="asc: smallest/oldest first; desc: newest first.")


class PageSpec(AstModel):
    page: RealizeExpression = Field(description="Page number from 1, e.g. coalesce(body.page, 1).")
    limit: RealizeExpression = Field(description="Rows per page, e.g. coalesce(body.limit, 20).")


class Each(AstModel):
    array: RealizeExpression = Field(description="Run the step once per element of this array.")
    element: str = bound_field("Name of the current element inside the step.")


class ColumnValue(AstModel):
    column: str = _column("Column to write (the primary key is generated).")
    value: RealizeExpression = Field(description="The value.")


class SetValue(AstModel):
    column: str = _column("Column to change (not the primary key).")
    value: RealizeExpression = Field(description="The new value (or the amount to add).")
    increment: bool = Field(
        default=False, description="true: add value to the stored number (counters) instead of replacing it."
    )


# --- steps ---------------------------------------------------------------------------------------------


class SelectStep(AstModel):
    """Read rows of `table` (plus joined rows) that match every filter."""

    kind: Literal["select"] = kind_field()
    table: str = _table()
    target: str = bound_field("Name bound to the result.")
    mode: SelectMode = Field(
        description="one: the first matching row, else stop with status (default 404); first: the first "
        "row or null; many: all rows; page: {pagination: {current, limit, records, pages}, data: rows}; "
        "count: number of rows; sum: total of `column`; none: stop with status (default 409) if a row "
        "matches, e.g. a taken email."
    )
    joins: list[Join] = Field(default=[], max_length=MAX_JOINS, description="Foreign keys to follow.")
    where: list[Filter] = Field(default=[], max_length=MAX_FILTERS, description="Filters, all must hold.")
    order_by: list[OrderBy] = Field(default=[], max_length=MAX_ORDER, description="Sort keys, in order.")
    page: PageSpec | None = Field(default=None, description="Required for mode page; null otherwise.")
    column: str | None = Field(
        default=None, pattern=SNAKE_CASE, max_length=NAME_MAX, description="Column summed (mode sum only)."
    )
    status: ErrorStatus | None = _status("Status for mode one (no row) or none (a row); null: default.")
    when: RealizeExpression | None = _when()


class InsertStep(AstModel):
    """Add a row (one per element with `each`); binds the stored row (an array of them with `each`)."""

    kind: Literal["insert"] = kind_field()
    table: str = _table()
    target: str | None = Field(
        default=None,
        alias="as",
        pattern=CAMEL_CASE,
        max_length=NAME_MAX,
        description="Name bound to the new row.",
    )
    values: list[ColumnValue] = Field(max_length=MAX_COLUMNS, description="Every required column's value.")
    each: Each | None = Field(default=None, description="Repeat per element; null: once.")
    when: RealizeExpression | None = _when()


class UpdateStep(AstModel):
    """Change the rows that match every filter; binds the first changed row, read back."""

    kind: Literal["update"] = kind_field()
    table: str = _table()
    where: list[Filter] = Field(min_length=1, max_length=MAX_FILTERS, description="Which rows (no joins).")
    set: list[SetValue] = Field(min_length=1, max_length=MAX_COLUMNS, description="Columns to change.")
    target: str | None = Field(
        default=None,
        alias="as",
        pattern=CAMEL_CASE,
        max_length=NAME_MAX,
        description="Name bound to the row.",
    )
    each: Each | None = Field(default=None, description="Repeat per element; null: once.")
    when: RealizeExpression | None = _when()


class DeleteStep(AstModel):
    """Delete the rows of `table` that match every filter (delete rows that reference them first)."""

    kind: Literal["delete"] = kind_field()
    table: str = _table()
    where: list[Filter] = Field(min_length=1, max_length=MAX_FILTERS, description="Which rows (no joins).")
    each: Each | None = Field(default=None, description="Repeat per element; null: once.")
    when: RealizeExpression | None = _when()


class CheckStep(AstModel):
    """Stop with an HTTP error unless `condition` is true."""

    kind: Literal["check"] = kind_field()
    condition: RealizeExpression = Field(description="Must be true to go on.")
    status: ErrorStatus = Field(
        description="400 invalid input, 401 bad credentials, 403 not allowed, 404 not found, 409 conflict."
    )
    message: str = Field(min_length=1, max_length=TITLE_MAX, description="Why, shown to the caller.")
    each: Each | None = Field(default=None, description="Repeat per element; null: once.")
    when: RealizeExpression | None = _when()


class LetStep(AstModel):
    kind: Literal["let"] = kind_field()
    target: str = bound_field("Name bound to the value.")
    value: RealizeExpression = Field(description="The value.")
    when: RealizeExpression | None = _when()


class SignInStep(AstModel):
    """Issue a token for an account: the caller acts as it from now on (join and login operations)."""

    kind: Literal["signIn"] = kind_field()
    actor: str = Field(
        pattern=CAMEL_CASE, max_length=NAME_MAX, description="Actor of the account, e.g. member."
    )
    account: RealizeExpression = Field(description="The account's id, e.g. ref member.id.")
    target: str = bound_field("Name bound to the token {access, expiredAt}, e.g. token.")
    when: RealizeExpression | None = _when()


RealizeStep = Annotated[
    SelectStep | InsertStep | UpdateStep | DeleteStep | CheckStep | LetStep | SignInStep,
    Field(discriminator="kind"),
]


class RealizeOperation(AstModel):
    """The logic of one operation of the interface."""

    MAX_EXPRESSION_DEPTH: ClassVar[int] = 8

    method: HttpMethod = Field(description="Method of the interface operation.")
    path: str = Field(pattern=PATH_PATTERN, max_length=200, description="Path of the interface operation.")
    actors: list[Annotated[str, Field(pattern=CAMEL_CASE, max_length=NAME_MAX)]] = Field(
        max_length=MAX_ACTORS,
        description="Actors whose token may call it ([] for public): no token answers 401, another "
        "actor's token 403.",
    )
    steps: list[RealizeStep] = Field(max_length=MAX_STEPS, description="Run in order.")
    returns: RealizeExpression | None = Field(
        description="The response body, shaped like the response component; null if none."
    )


class RealizeDocument(AstModel):
    """The logic of every operation."""

    operations: list[RealizeOperation] = Field(
        min_length=1, max_length=128, description="One entry per interface operation."
    )

    def operation(self, method: str, path: str) -> RealizeOperation | None:
        return next((o for o in self.operations if o.method == method and o.path == path), None)


EXPRESSION_TYPES: tuple[type[AstModel], ...] = get_args(get_args(RealizeExpression)[0])
STEP_TYPES: tuple[type[AstModel], ...] = get_args(get_args(RealizeStep)[0])

for _model in [*AstModel.__subclasses__()]:
    if _model.__module__ == __name__:
        _model.model_rebuild()
