"""Why an import refused a file or a row, or a bulk invite an action (with
`domain.problems.Common`: REQUIRED, INVALID and TOO_LONG on cells as the create mutations
answer them; the GraphQL enum ImportErrorCode)."""

from enum import StrEnum


class ImportCode(StrEnum):
    TOO_LARGE = "TOO_LARGE"  # the file is over MAX_IMPORT_BYTES
    EMPTY = "EMPTY"  # no header, or a header and no rows
    ENCODING = "ENCODING"  # not UTF-8
    BAD_CSV = "BAD_CSV"  # not parseable as CSV (a quote left open, a NUL byte)
    UNKNOWN_FIELD = "UNKNOWN_FIELD"  # the mapping names a field Portico does not have
    UNKNOWN_COLUMN = "UNKNOWN_COLUMN"  # the mapping names a column the file does not have
    DUPLICATE_COLUMN = "DUPLICATE_COLUMN"  # two columns with one header, or for one field
    MISSING_COLUMN = "MISSING_COLUMN"  # a required field no column maps to
    DUPLICATE = "DUPLICATE"  # an email or VIN taken, in the file or in the organization
    UNKNOWN_CUSTOMER = "UNKNOWN_CUSTOMER"  # customerEmail names no customer
    NOT_FOR_KIND = "NOT_FOR_KIND"  # a value in a field the row's kind does not have
    EXTRA_CELLS = "EXTRA_CELLS"  # a row with more cells than the header
    ROWS_INVALID = "ROWS_INVALID"  # a commit refused for its row errors: nothing written
    NOT_RUNNING = "NOT_RUNNING"  # cancelling a bulk invite that has ended
