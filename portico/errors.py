"""Errors that clients may see. Anything else is masked as "Unexpected error." and logged."""

from __future__ import annotations

import uuid

from graphql import GraphQLError
from strawberry.extensions import MaskErrors

from portico import request_id
from portico.admission import Overloaded
from portico.db_faults import commit_uncertain, database_busy, database_unavailable

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


def is_client_error(error: GraphQLError) -> bool:
    """True for errors whose text the client should see (validation, coded errors)."""
    original = error.original_error
    if original is None:  # parse and validation errors
        return True
    if isinstance(original, GraphQLError):
        return is_client_error(original)
    return isinstance(original, ClientError)


def should_mask(error: GraphQLError) -> bool:
    return not is_client_error(error)


class MaskUnexpected(MaskErrors):
    """Unexpected errors reach the client as "Unexpected error." with the request id.

    The full error, with its stack, is logged by Strawberry before this runs, on a record
    that carries the same request id (portico/request_id.py).
    """

    def __init__(self) -> None:
        super().__init__(should_mask_error=should_mask, error_message=UNEXPECTED)

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        if isinstance(error.original_error, Overloaded):  # no turn at the pool: nothing ran
            response = getattr(self.execution_context.context, "response", None)
            if response is not None:
                response.status_code = 503
                response.headers["Retry-After"] = OVERLOADED_RETRY_AFTER
            return GraphQLError(
                OVERLOADED_MESSAGE,
                nodes=error.nodes,
                path=error.path,
                original_error=None,
                extensions={"code": OVERLOADED},
            )
        if error.original_error is not None and may_have_happened(
            error.original_error, self.execution_context.context
        ):
            return GraphQLError(
                OutcomeUnknown.message,
                nodes=error.nodes,
                path=error.path,
                original_error=None,
                extensions={"code": OutcomeUnknown.code},
            )
        if error.original_error is not None and database_unavailable(error.original_error):
            return GraphQLError(
                ServiceUnavailable.message,
                nodes=error.nodes,
                path=error.path,
                original_error=None,
                extensions={"code": ServiceUnavailable.code},
            )
        if error.original_error is not None and database_busy(error.original_error):
            response = getattr(self.execution_context.context, "response", None)
            if response is not None:  # the same status as a request over its budget
                response.status_code = RequestTimedOut.status
            return GraphQLError(
                RequestTimedOut.message,
                nodes=error.nodes,
                path=error.path,
                original_error=None,
                extensions={"code": RequestTimedOut.code},
            )
        masked = super().anonymise_error(error)
        masked.extensions = unexpected_extensions()
        return masked


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
