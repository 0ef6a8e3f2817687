"""Search conditions for staff lists: every word must match one of the searched columns."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

MAX_WORDS = 8


def _escape(word: str) -> str:
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def words_match(
    text: str | None,
    columns: Sequence[sa.ColumnElement[str]],
    numeric: sa.ColumnElement[int] | None = None,
) -> list[sa.ColumnElement[bool]]:
    """AND over words, OR over columns; a number also matches `numeric` exactly (years)."""
    conditions: list[sa.ColumnElement[bool]] = []
    for word in (text or "").replace("\x00", " ").split()[:MAX_WORDS]:
        pattern = f"%{_escape(word)}%"
        alternatives: list[sa.ColumnElement[bool]] = [
            col.ilike(pattern, escape="\\") for col in columns
        ]
        # isascii: "²" and other Unicode digits pass isdigit() but not int().
        if numeric is not None and word.isascii() and word.isdigit() and len(word) <= 4:
            alternatives.append(numeric == int(word))
        conditions.append(sa.or_(*alternatives))
    return conditions


def customer_search(table: sa.Table, text: str | None) -> list[sa.ColumnElement[bool]]:
    return words_match(text, [table.c.name, table.c.email, table.c.phone, table.c.company])


def car_search(table: sa.Table, text: str | None) -> list[sa.ColumnElement[bool]]:
    columns = [table.c.make, table.c.model, table.c.vin, table.c.license_plate]
    return words_match(text, columns, numeric=table.c.year)
