"""SQL expressions that render values exactly as the GraphQL layer serializes them.

Each one has a Python twin in the schema (global IDs in core/ids.py, cursors in
models/pagination.py, timestamps as `datetime.isoformat()`, decimals in schema/billing.py);
tests/test_planner.py checks that both give the same bytes.
"""

from __future__ import annotations

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
