"""The planner's SQL for SQLite: the same values as PostgreSQL's, with SQLite's JSON functions.

SQLite keeps what its JSON functions return as JSON only until it leaves the expression:
a value read back from a subquery is text again, so every nested object or array is
wrapped in `json(...)` where it is embedded. Booleans are 0/1, so they are embedded as
`true`/`false`; timestamps are stored as naive UTC text ("YYYY-MM-DD HH:MM:SS.ffffff"),
UUIDs as 32 hex digits. Base64 comes from `portico_base64url`, registered on every
connection (models/db.py). SQLite has no LATERAL: a page is a FROM-clause subquery that
refers to the enclosing row (SQLite evaluates it per row), and JSON arrays keep the order
of the subquery they aggregate over, which sorts.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import Case, FunctionFilter, Null
from sqlalchemy.sql.functions import Function
from sqlalchemy.sql.selectable import ScalarSelect

from models.types import UTCDateTime
from planner.sql import Dialect, Expr, Page, Unplannable, const, text


class JSONText(sa.types.TypeDecorator[str]):
    """Text that holds JSON: embedded with `json(...)`, never as a quoted string."""

    impl = sa.Text
    cache_ok = True


JSON_TEXT = JSONText()
# Functions whose value SQLite still knows to be JSON where it is used directly.
JSON_FUNCTIONS = frozenset({"json", "json_object", "json_group_array", "json_array", "json_remove"})


def _is_json(value: Expr) -> bool:
    return isinstance(value.type, JSONText | sa.JSON)


def _is_bool(value: Expr) -> bool:
    return isinstance(value.type, sa.Boolean)


def _is_json_function(value: Any) -> bool:
    return isinstance(value, Null) or (isinstance(value, Function) and value.name in JSON_FUNCTIONS)


def _json_branches(case: Case[Any]) -> bool:
    branches = [then for _, then in case.whens] + [case.else_]
    return all(b is None or _is_json_function(b) for b in branches)


def embed(value: Expr) -> Expr:
    """A value as json_object and json_group_array take it: JSON as JSON, booleans as
    true/false."""
    if isinstance(value, Function) and value.name in JSON_FUNCTIONS:
        return value
    if isinstance(value, FunctionFilter) and value.func.name in JSON_FUNCTIONS:
        return value
    if isinstance(value, Case) and _json_branches(value):
        return value  # CASE keeps the JSON of its branches
    if isinstance(value, ScalarSelect) and _is_json(value):
        # `-> '$'` rather than json(...): one nesting less for SQLite's parser, whose stack
        # deep answers reach.
        return value.op("->", return_type=JSON_TEXT)(const("$"))
    if _is_json(value):
        return sa.func.json(value, type_=JSON_TEXT)
    if _is_bool(value):
        spelled = sa.case((value, const("true")), (sa.not_(value), const("false")))
        return sa.func.json(spelled, type_=JSON_TEXT)
    return value


def iso_datetime(column: Expr) -> Expr:
    """`datetime.isoformat()` of the stored naive UTC text: microseconds only when there
    are some (the text may carry fewer than six digits, or none)."""
    micros = sa.func.substr(
        sa.func.substr(column, const(21)).op("||")(const("000000")), const(1), const(6)
    )
    fraction = sa.case((micros == const("000000"), const("")), else_=const(".").op("||")(micros))
    written = sa.func.printf(
        const("%sT%s%s+00:00"),
        sa.func.substr(column, const(1), const(10)),
        sa.func.substr(column, const(12), const(8)),
        fraction,
        type_=sa.Text(),
    )
    return sa.case((column.is_(None), sa.null()), else_=written)


def uuid_text(column: Expr) -> Expr:
    """str(UUID) of 32 stored hex digits."""
    parts = [sa.func.substr(column, const(start), const(size)) for start, size in UUID_PARTS]
    written = sa.func.printf(const("%s-%s-%s-%s-%s"), *parts, type_=sa.Text())
    return sa.case((column.is_(None), sa.null()), else_=written)


UUID_PARTS = ((1, 8), (9, 4), (13, 4), (17, 4), (21, 12))


class SQLite(Dialect):
    name = "sqlite"

    def json_object(self, pairs: list[tuple[str, Expr]]) -> Expr:
        args: list[Any] = []
        for key, value in pairs:
            args += [text(key), embed(value)]
        return sa.func.json_object(*args, type_=JSON_TEXT)

    def json_pairs(self, args: list[Expr]) -> Expr:
        embedded = [embed(arg) if n % 2 else arg for n, arg in enumerate(args)]
        return sa.func.json_object(*embedded, type_=JSON_TEXT)

    def as_text(self, value: Expr) -> Expr:
        return value

    def scalar(self, column: sa.Column[Any] | Expr, column_type: Any) -> Expr:
        if isinstance(column_type, UTCDateTime):
            return iso_datetime(column)
        if isinstance(column_type, sa.Uuid):
            return uuid_text(column)
        if isinstance(column_type, sa.Date):
            return column  # stored as "YYYY-MM-DD"
        if isinstance(column_type, sa.DateTime | sa.Time | sa.Numeric | sa.Float):
            raise Unplannable(f"{column_type} on SQLite")
        return column

    def uuid_hex(self, column: Expr) -> Expr:
        return column  # stored as hex already

    def base64url(self, value: Expr) -> Expr:
        return sa.func.portico_base64url(value, type_=sa.Text())

    def global_id(self, type_name: str, column: Expr) -> Expr:
        return self.base64url(sa.literal_column(f"'{type_name}:'", sa.Text()).op("||")(column))

    def plain_decimal(self, column: Expr, scale: int) -> Expr:
        """column / scale as schema.billing.plain_decimal writes it: no trailing zeros."""
        digits = len(str(scale)) - 1
        if scale != 10**digits:
            raise Unplannable(f"scale {scale}")
        size = sa.func.abs(column)
        sign = sa.case((column < const(0), const("-")), else_=const(""))
        whole = sa.cast(size.op("/")(const(scale)), sa.Text())
        rest = size.op("%")(const(scale))
        padded = sa.func.printf(const(f"%0{digits}d"), rest)
        fraction = sa.case(
            (rest == const(0), const("")),
            else_=const(".").op("||")(sa.func.rtrim(padded, const("0"))),
        )
        return sa.case(
            (column.is_(None), sa.null()),
            else_=sign.op("||")(whole).op("||")(fraction),
        )

    def cursor(self, values: list[Expr]) -> Expr:
        return self.base64url(sa.func.json_array(*[embed(v) for v in values]))

    def cursor_value(self, column: sa.Column[Any] | Expr, column_type: Any) -> Expr:
        if isinstance(column_type, sa.Uuid):
            return column
        return self.scalar(column, column_type)

    def boolean(self, value: bool) -> Expr:
        return sa.literal_column("1" if value else "0", sa.Boolean())

    def paged(
        self, limited: sa.Select[Any], order: list[Expr], first: int, names: tuple[str, str]
    ) -> Page:
        return SQLitePage(limited, first, names[0])

    def ordered_array(
        self,
        rows: sa.Select[Any],
        name: str,
        body: Callable[[sa.FromClause], Expr],
        order: list[Expr],
    ) -> Expr:
        selected = rows.subquery(name)
        ordered = sa.select(selected).order_by(*_adapt(order, selected)).subquery(f"{name}o")
        aggregated = sa.func.json_group_array(embed(body(ordered)), type_=JSON_TEXT)
        return sa.select(aggregated).select_from(ordered).scalar_subquery()

    def json_elements(self, column: Expr, name: str) -> sa.FromClause:
        return sa.func.json_each(column).table_valued("value").alias(name)

    def array_over(self, body: Expr, source: sa.FromClause) -> Expr:
        aggregated = sa.func.json_group_array(embed(body), type_=JSON_TEXT)
        return sa.select(aggregated).select_from(source).scalar_subquery()

    def listed_array(
        self,
        rows: sa.FromClause,
        body: Callable[[sa.FromClause], Expr],
        where: list[Expr],
        order: list[Expr],
        parent: sa.FromClause,
        name: Callable[[], str],
    ) -> Expr:
        inner = sa.select(rows).where(*where).order_by(*order).correlate(parent)
        ordered = inner.subquery(name())
        aggregated = sa.func.json_group_array(embed(body(ordered)), type_=JSON_TEXT)
        return sa.select(aggregated).select_from(ordered).scalar_subquery()

    def without_keys(self, column: Expr, keys: tuple[str, ...]) -> Expr:
        paths = [const(f"$.{key}") for key in keys if key.replace("_", "").isalnum()]
        if len(paths) != len(keys):
            raise Unplannable("a key that is not a plain name")
        return sa.func.json_remove(column, *paths, type_=JSON_TEXT)

    def chosen_positions(self, snapshot: Expr, ids: Expr, name: str) -> Expr:
        # json_each gives an array's elements in order.
        line = sa.func.json_each(snapshot, const("$.lines")).table_valued("value").alias(name)
        listed_ids = sa.func.json_each(ids).table_valued("value").alias(f"{name}i")
        line_id = line.c.value.op("->>")(const("id"))
        chosen = sa.exists().select_from(listed_ids).where(listed_ids.c.value == line_id)
        position = sa.cast(line.c.value.op("->>")(const("position")), sa.Integer())
        aggregated = sa.func.json_group_array(position, type_=JSON_TEXT)
        return sa.select(aggregated).select_from(line).where(chosen).scalar_subquery()

    def require(self, feature: str) -> None:
        raise Unplannable(f"{feature} on SQLite")


class SQLitePage(Page):
    """A page without window functions (and one subquery less for SQLite's parser): the
    rows come sorted from the LIMIT's subquery, the arrays drop the row past the page."""

    def __init__(self, limited: sa.Select[Any], first: int, name: str) -> None:
        self.rows = limited.subquery(name)
        self.first = first

    def array(self, body: Expr) -> Expr:
        aggregated = sa.func.json_group_array(embed(body), type_=JSON_TEXT)
        past = sa.case((sa.func.count() > const(self.first), const("$[#-1]")), else_=const("$[#]"))
        return sa.func.json_remove(aggregated, past, type_=JSON_TEXT)

    def has_next(self) -> Expr:
        return sa.func.count() > const(self.first)

    def _cursor_at(self, index: Expr) -> Expr:
        cursors = sa.func.json_group_array(self.rows.c._cursor)
        return cursors.op("->>")(index)

    def start_cursor(self) -> Expr:
        return sa.null() if self.first == 0 else self._cursor_at(const(0))

    def end_cursor(self) -> Expr:
        if self.first == 0:
            return sa.null()
        last = sa.func.min(sa.func.count(), const(self.first)).op("-")(const(1))
        return self._cursor_at(last)


def _adapt(clauses: list[Expr], source: sa.FromClause) -> list[Expr]:
    adapter = sa.sql.util.ClauseAdapter(source)
    return [adapter.traverse(c) for c in clauses]


SQLITE = SQLite()
