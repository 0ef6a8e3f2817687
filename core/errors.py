"""Errors that clients may see. Anything else is masked as "Unexpected error." and logged."""

from __future__ import annotations

import uuid

from core import request_id
from core.db_faults import commit_uncertain, database_unavailable

# Stable codes of refusals made outside a resolver (the others live on their classes).
QUERY_TOO_COMPLEX = "QUERY_TOO_COMPLEX"
INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"
# The process has more work than it takes on (portico/shedding.py): refused unrun, HTTP 503.
OVERLOADED = "OVERLOADED"
OVERLOADED_MESSAGE = "The server is busy. Nothing was done; try again in a moment."
OVERLOADED_RETRY_AFTER = "1"  # seconds
UNEXPECTED = "Unexpected error."


class ClientError(Exception):
    """A deliberate, coded error whose message is safe to show."""

    code = "BAD_REQUEST"
    message = "Bad request."

    def __init__(self, message: str | None = None, **extensions: object) -> None:
        # graphql-core shows an exception's `message` attribute when it has one.
        self.message = message or self.message
        super().__init__(self.message)
        self.extensions: dict[str, object] = {"code": self.code, **extensions}


class NotFound(ClientError):
    """Missing, or not visible to this viewer: the two are indistinguishable on purpose.

    It may say which ID was not found (`global_id`, or the `row` as a type name and row
    id), so that a mutation can answer it as a user error on the input field that held it
    (resolvers/outcome.py); clients see nothing of it."""

    code = "NOT_FOUND"
    message = "Not found."

    def __init__(
        self,
        message: str | None = None,
        *,
        global_id: str | None = None,
        row: tuple[str, uuid.UUID] | None = None,
    ) -> None:
        super().__init__(message)
        self.global_id = global_id
        self.row = row


class Unauthenticated(ClientError):
    code = "UNAUTHENTICATED"
    message = "Sign in to continue."


class Forbidden(ClientError):
    code = "FORBIDDEN"
    message = "You do not have permission to do this."


class SectionClosed(ClientError):
    """A portal section the viewer's access does not open: switched off by the business, or
    outside the contact's scope. The same code as a read of it (auth/permissions.py)."""

    code = "SECTION_DISABLED"
    message = "This part of the portal is not open to you."


class ServiceUnavailable(ClientError):
    """The database could not be reached before the request's work was saved: nothing was
    changed, and the same request may be sent again."""

    code = "SERVICE_UNAVAILABLE"
    message = "The service is briefly unavailable; nothing was changed. Try again shortly."


class OutcomeUnknown(ClientError):
    """The database failed while saving (during COMMIT, or after an earlier part of the
    request was saved): the change may have been made. Only a retry with the same
    Idempotency-Key tells safely (portico/idempotency.py)."""

    code = "OUTCOME_UNKNOWN"
    message = (
        "The database stopped while saving this change, so it may or may not have been "
        "made. Send the request again with the same Idempotency-Key to find out safely."
    )
    status = 503


class IdempotencyKeyReused(ClientError):
    """An Idempotency-Key sent again with a different request: never run, never replayed."""

    code = "IDEMPOTENCY_KEY_REUSED"
    message = "This Idempotency-Key was used with a different request. Use a new key."
    status = 422


class IdempotencyKeyInvalid(ClientError):
    code = "IDEMPOTENCY_KEY_INVALID"
    message = "An Idempotency-Key is 1 to 255 printable ASCII characters."
    status = 400


class RequestTimedOut(ClientError):
    """The request ran out of time: its budget (REQUEST_TIMEOUT_SECONDS), or a statement
    stopped by the database's statement or lock timeout. Sending it again is safe and will
    likely succeed once the data is free."""

    code = "REQUEST_TIMEOUT"
    message = "The request took too long. Try again shortly."
    status = 504


class InvalidInput(ClientError):
    code = "INVALID_INPUT"
    message = "Invalid input."


def may_have_happened(exc: BaseException, context: object) -> bool:
    """A database failure after which the request's change may exist: lost during COMMIT,
    or lost after an earlier transaction of the same request committed."""
    if commit_uncertain(exc):
        return True
    extras = getattr(context, "extras", None) or {}
    return database_unavailable(exc) and bool(extras.get("committed"))


def unexpected_extensions() -> dict[str, object]:
    extensions: dict[str, object] = {"code": INTERNAL_SERVER_ERROR}
    if rid := request_id.current.get():
        extensions["requestId"] = rid
    return extensions
