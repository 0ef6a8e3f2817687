"""CSV encoding of export rows: typed values as text, and formula cells neutralised."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from enum import Enum

# A spreadsheet runs a cell starting with one of these as a formula (OWASP "CSV
# injection"): such a cell gets a leading quote, which shows it as text.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralised(text: str) -> str:
    return f"'{text}" if text.startswith(FORMULA_START) else text


def cell(value: object) -> str:
    """A value as export text: times in UTC ISO 8601, dates ISO, booleans true/false."""
    match value:
        case None:
            return ""
        case bool():
            return "true" if value else "false"
        case int():
            return str(value)  # money in minor units: never neutralised, may be negative
        case datetime():
            return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
        case date():
            return value.isoformat()
        case Enum():
            return str(value.value)
        case _:
            return neutralised(str(value))


def encode(rows: Iterable[Sequence[object]]) -> bytes:
    """Rows as CSV lines (RFC 4180: CRLF line ends, quotes where needed), UTF-8."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerows([cell(value) for value in row] for row in rows)
    return buffer.getvalue().encode()
