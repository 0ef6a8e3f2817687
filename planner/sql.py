"""SQL expressions that render values exactly as the GraphQL layer serializes them.

Each one has a Python twin in the schema (global IDs in core/ids.py, cursors in
models/pagination.py, timestamps as `datetime.isoformat()`, decimals in schema/billing.py);
tests/test_planner.py checks that both give the same bytes.

The module-level functions are PostgreSQL's. `Dialect` is the one seam through which the
planner builds anything that differs between databases: `POSTGRESQL` calls these
functions, `SQLITE` (sqlite_sql.py) writes the same values with SQLite's JSON functions.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from models.types import UTCDateTime

Expr = sa.ColumnElement[Any]


def text(value: str) -> Expr:
    """A string constant inlined in the SQL (GraphQL names and type names only)."""
    if not value.replace("_", "").isalnum():
        raise ValueError(value)
    return sa.literal_column(f"'{value}'", sa.Text())


def const(value: str | int) -> Expr:
    """A constant written into the SQL: fewer bound parameters to process per execution."""
    if isinstance(value, int):
        return sa.literal_column(str(int(value)), sa.Integer())
    if "'" in value or "\\" in value:
        raise ValueError(value)
    return sa.literal_column(f"'{value}'", sa.Text())


def base64url(value: Expr) -> Expr:
    """base64url without padding; PostgreSQL's base64 also wraps lines, which go too."""
    encoded = sa.func.encode(sa.func.convert_to(value, const("UTF8")), const("base64"))
    translated = sa.func.translate(encoded, sa.literal_column("E'+/\\n'"), const("-_"))
    return sa.func.rtrim(translated, const("="))


def uuid_hex(column: Expr) -> Expr:
    return sa.func.replace(sa.cast(column, sa.Text()), const("-"), const(""))


def global_id(type_name: str, column: Expr) -> Expr:
    return base64url(sa.literal_column(f"'{type_name}:'", sa.Text()).op("||")(uuid_hex(column)))


def iso_datetime(column: Expr) -> Expr:
    """`datetime.isoformat()` of a UTC value: microseconds only when there are some."""
    utc = column.op("AT TIME ZONE")(sa.literal_column("'UTC'"))
    micros = sa.cast(sa.extract("microseconds", column), sa.BigInteger()).op("%")(const(1_000_000))
    fraction = sa.case((micros == const(0), const("")), else_=sa.func.to_char(utc, const(".US")))
    whole = sa.func.to_char(utc, sa.literal_column("'YYYY-MM-DD\"T\"HH24:MI:SS'"))
    return sa.case(
        (column.is_(None), sa.null()),
        else_=whole.op("||")(fraction).op("||")(sa.literal_column("'+00:00'")),
    )


def iso_date(column: Expr) -> Expr:
    return sa.func.to_char(column, const("YYYY-MM-DD"))


def plain_decimal(column: Expr, scale: int) -> Expr:
    """column / scale as text without trailing zeros (schema.billing.plain_decimal)."""
    divided = sa.cast(column, sa.Numeric()).op("/")(const(scale))
    return sa.cast(sa.func.trim_scale(divided), sa.Text())


def scalar(column: sa.Column[Any] | Expr, column_type: Any) -> Expr:
    """A column as the GraphQL layer serializes it."""
    if isinstance(column_type, UTCDateTime):
        return iso_datetime(column)
    if isinstance(column_type, sa.Date):
        return iso_date(column)
    if isinstance(column_type, sa.Uuid):
        return sa.cast(column, sa.Text())
    return column


def json_object(pairs: list[tuple[str, Expr]]) -> Expr:
    """A JSON object with keys in selection order (json, not jsonb, keeps the order)."""
    if len(pairs) > 50:  # PostgreSQL functions take at most 100 arguments
        raise ValueError("too many fields for one json_build_object")
    args: list[Any] = []
    for key, value in pairs:
        args += [text(key), value]
    return sa.func.json_build_object(*args)


def cursor(values: list[Expr]) -> Expr:
    """models.pagination.Ordering.cursor_of in SQL: base64url of a compact JSON array."""
    parts: list[Expr] = []
    for value in values:
        parts.append(sa.cast(sa.func.to_json(value), sa.Text()))
    joined = parts[0]
    for part in parts[1:]:
        joined = joined.op("||")(sa.literal_column("','")).op("||")(part)
    return base64url(sa.literal_column("'['").op("||")(joined).op("||")(sa.literal_column("']'")))


def cursor_value(column: sa.Column[Any] | Expr, column_type: Any) -> Expr:
    """A sort key as models.pagination._dump writes it into a cursor."""
    if isinstance(column_type, sa.Uuid):
        return uuid_hex(column)
    return scalar(column, column_type)


class Unplannable(Exception):
    """The executor answers this query instead."""


class Dialect:
    """What the planner writes differently per database; PostgreSQL's by default."""

    name = "postgresql"

    def json_object(self, pairs: list[tuple[str, Expr]]) -> Expr:
        return json_object(pairs)

    def json_pairs(self, args: list[Expr]) -> Expr:
        """A JSON object from alternating constant keys and values (planner/filled.py)."""
        return sa.func.json_build_object(*args)

    def as_text(self, value: Expr) -> Expr:
        """The whole answer as text: the driver would otherwise decode it only for us to
        encode it again."""
        return sa.cast(value, sa.Text())

    def scalar(self, column: sa.Column[Any] | Expr, column_type: Any) -> Expr:
        return scalar(column, column_type)

    def uuid_hex(self, column: Expr) -> Expr:
        return uuid_hex(column)

    def base64url(self, value: Expr) -> Expr:
        return base64url(value)

    def global_id(self, type_name: str, column: Expr) -> Expr:
        return global_id(type_name, column)

    def plain_decimal(self, column: Expr, scale: int) -> Expr:
        return plain_decimal(column, scale)

    def cursor(self, values: list[Expr]) -> Expr:
        return cursor(values)

    def cursor_value(self, column: sa.Column[Any] | Expr, column_type: Any) -> Expr:
        return cursor_value(column, column_type)

    def boolean(self, value: bool) -> Expr:
        return sa.literal_column("true" if value else "false")

    def paged(
        self, limited: sa.Select[Any], order: list[Expr], first: int, names: tuple[str, str]
    ) -> Page:
        """The page of a connection over `limited` (its rows in `order`, first + 1 of them)."""
        return Page(limited, order, first, names)

    def ordered_array(
        self,
        rows: sa.Select[Any],
        name: str,
        body: Callable[[sa.FromClause], Expr],
        order: list[Expr],
    ) -> Expr:
        """A JSON array of `body` of each row `rows` selects, in `order` (over the rows'
        table); [] for none."""
        from sqlalchemy.dialects.postgresql import aggregate_order_by

        source = rows.lateral(name)
        adapter = sa.sql.util.ClauseAdapter(source)
        adapted = [adapter.traverse(c) for c in order]
        aggregated = sa.func.json_agg(aggregate_order_by(body(source), *adapted))
        return sa.func.coalesce(
            sa.select(aggregated).select_from(source).scalar_subquery(),
            sa.literal_column("'[]'::json"),
        )

    def json_elements(self, column: Expr, name: str) -> sa.FromClause:
        """The elements of a stored JSON array, in order, as rows of one column `value`."""
        return sa.func.jsonb_array_elements(column).table_valued("value").alias(name)

    def array_over(self, body: Expr, source: sa.FromClause) -> Expr:
        """A JSON array of `body` over the rows of `source`, in their order; [] for none."""
        aggregated = sa.select(sa.func.json_agg(body)).select_from(source)
        return sa.func.coalesce(aggregated.scalar_subquery(), sa.literal_column("'[]'::json"))

    def listed_array(
        self,
        rows: sa.FromClause,
        body: Callable[[sa.FromClause], Expr],
        where: list[Expr],
        order: list[Expr],
        parent: sa.FromClause,
        name: Callable[[], str],
    ) -> Expr:
        """A JSON array of `body` of each row of `rows` that `where` picks (other tables
        joined there), in `order`; [] for none."""
        from sqlalchemy.dialects.postgresql import aggregate_order_by

        aggregated = sa.func.json_agg(aggregate_order_by(body(rows), *order))
        listed = sa.select(aggregated).where(*where)
        return sa.func.coalesce(
            listed.correlate(parent).scalar_subquery(), sa.literal_column("'[]'::json")
        )

    def without_keys(self, column: Expr, keys: tuple[str, ...]) -> Expr:
        """A stored JSON object less the top-level `keys`."""
        assert all(key.replace("_", "").isalnum() for key in keys)  # inlined
        listed = ",".join(f"'{key}'" for key in keys)
        return column.op("-")(sa.literal_column(f"ARRAY[{listed}]::text[]"))

    def chosen_positions(self, snapshot: Expr, ids: Expr, name: str) -> Expr:
        """The `position` of each line of the snapshot's `lines` whose `id` the JSON array
        `ids` lists, in the lines' order; [] for none."""
        from sqlalchemy.dialects.postgresql import aggregate_order_by

        lines = snapshot.op("->")(const("lines"))
        line = (
            sa.func.jsonb_array_elements(lines)
            .table_valued("value", with_ordinality="ord")
            .render_derived(name=name)
        )
        position = sa.cast(line.c.value.op("->>")(const("position")), sa.Integer())
        chosen = ids.op("@>")(sa.func.jsonb_build_array(line.c.value.op("->")(const("id"))))
        aggregated = sa.func.json_agg(aggregate_order_by(position, line.c.ord))
        listed = sa.select(aggregated).select_from(line).where(chosen)
        return sa.func.coalesce(listed.scalar_subquery(), sa.literal_column("'[]'::json"))

    def require(self, feature: str) -> None:
        """Refuse what this database's SQL is not written for (the executor answers)."""


class Page:
    """A connection's page: the rows `limited` selects (the page and one row more), read
    as aggregates, so that an empty page still gives one row. PostgreSQL numbers the rows
    (after the LIMIT, so only the page is sorted) and aggregates in that order."""

    def __init__(
        self, limited: sa.Select[Any], order: list[Expr], first: int, names: tuple[str, str]
    ) -> None:
        # LATERAL: the page may refer to the parent row of the enclosing query.
        page = limited.lateral(names[0])
        adapter = sa.sql.util.ClauseAdapter(page)
        self.rows: sa.FromClause = sa.select(
            page,
            sa.func.row_number().over(order_by=[adapter.traverse(c) for c in order]).label("_rank"),
            sa.func.count().over().label("_found"),  # at most first + 1
        ).lateral(names[1])
        self.first = first
        self.in_page = self.rows.c._rank <= const(first)

    def array(self, body: Expr) -> Expr:
        """The JSON array of `body` over the page's rows, in order; [] for none."""
        from sqlalchemy.dialects.postgresql import aggregate_order_by

        rank = self.rows.c._rank
        aggregated = sa.func.json_agg(aggregate_order_by(body, rank)).filter(self.in_page)
        return sa.func.coalesce(aggregated, sa.literal_column("'[]'::json"))

    def has_next(self) -> Expr:
        found = sa.func.coalesce(sa.func.max(self.rows.c._found), const(0))
        return found > const(self.first)

    def start_cursor(self) -> Expr:
        return sa.func.min(self.rows.c._cursor).filter(self.rows.c._rank == const(1))

    def end_cursor(self) -> Expr:
        last_rank = sa.func.least(self.rows.c._found, const(self.first))
        return sa.func.min(self.rows.c._cursor).filter(self.rows.c._rank == last_rank)


POSTGRESQL = Dialect()


def dialect_named(name: str) -> Dialect:
    if name == "postgresql":
        return POSTGRESQL
    if name == "sqlite":
        from planner.sqlite_sql import SQLITE

        return SQLITE
    raise Unplannable(f"no planner for {name}")
