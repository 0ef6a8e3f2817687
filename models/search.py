"""Search conditions for staff lists: every word must match one of the searched columns.

With `names`, the words are named bind parameters (`<names>_<i>`, and `<names>_<i>_year`
for a number), so a statement built for one search serves another of the same shape (the
same count of words, numbers at the same places) given `search_params(names, text)`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

MAX_WORDS = 8


def _escape(word: str) -> str:
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search_words(text: str | None) -> list[str]:
    return (text or "").replace("\x00", " ").split()[:MAX_WORDS]


def _is_year(word: str) -> bool:
    # isascii: "²" and other Unicode digits pass isdigit() but not int().
    return word.isascii() and word.isdigit() and len(word) <= 4


def search_shape(text: str | None) -> tuple[bool, ...]:
    """What the statement's form depends on: a word each, and whether it is a number."""
    return tuple(_is_year(word) for word in search_words(text))


def search_params(names: str, text: str | None) -> dict[str, Any]:
    """The values of the named parameters `words_match(..., names=names)` binds."""
    params: dict[str, Any] = {}
    for i, word in enumerate(search_words(text)):
        params[f"{names}_{i}"] = f"%{_escape(word)}%"
        if _is_year(word):
            params[f"{names}_{i}_year"] = int(word)
    return params


def words_match(
    text: str | None,
    columns: Sequence[sa.ColumnElement[str]],
    numeric: sa.ColumnElement[int] | None = None,
    *,
    names: str | None = None,
) -> list[sa.ColumnElement[bool]]:
    """AND over words, OR over columns; a number also matches `numeric` exactly (years)."""
    conditions: list[sa.ColumnElement[bool]] = []
    values = search_params(names or "search", text)
    for i, word in enumerate(search_words(text)):
        pattern = _bound(names and f"{names}_{i}", values[f"{names or 'search'}_{i}"])
        alternatives: list[sa.ColumnElement[bool]] = [
            col.ilike(pattern, escape="\\") for col in columns
        ]
        if numeric is not None and _is_year(word):
            year = _bound(names and f"{names}_{i}_year", int(word))
            alternatives.append(numeric == year)
        conditions.append(sa.or_(*alternatives))
    return conditions


def _bound(name: str | None, value: Any) -> Any:
    """A named bind parameter holding `value`, or the plain value (an anonymous one)."""
    return value if name is None else sa.bindparam(name, value)


def customer_search(
    table: sa.Table, text: str | None, *, names: str | None = None
) -> list[sa.ColumnElement[bool]]:
    columns = [table.c.name, table.c.email, table.c.phone, table.c.company]
    return words_match(text, columns, names=names)


def car_search(
    table: sa.Table, text: str | None, *, names: str | None = None
) -> list[sa.ColumnElement[bool]]:
    columns = [table.c.make, table.c.model, table.c.vin, table.c.license_plate]
    return words_match(text, columns, numeric=table.c.year, names=names)
