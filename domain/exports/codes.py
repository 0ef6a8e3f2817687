"""Why an export was refused: the `code` of the JSON error `GET /exports/...` answers."""

from enum import StrEnum


class ExportCode(StrEnum):
    UNAUTHENTICATED = "UNAUTHENTICATED"  # no session, or it has ended (401)
    FORBIDDEN = "FORBIDDEN"  # a portal viewer, or staff below ADMIN (403)
    UNKNOWN_KIND = "UNKNOWN_KIND"  # not customers, cars, invoices or payments (404)
    BAD_DATE = "BAD_DATE"  # `from`/`to` not YYYY-MM-DD, or `from` after `to` (400)
    LINK_INVALID = "LINK_INVALID"  # an export link tampered with or expired (404)
