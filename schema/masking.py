"""How errors reach a GraphQL client: coded ones as they are, database faults and a full
process as their stable codes, anything else as "Unexpected error." with the request id."""

from __future__ import annotations

from graphql import GraphQLError
from strawberry.extensions import MaskErrors

from core.admission import Overloaded
from core.db_faults import database_busy, database_unavailable
from core.errors import (
    OVERLOADED,
    OVERLOADED_MESSAGE,
    OVERLOADED_RETRY_AFTER,
    UNEXPECTED,
    ClientError,
    OutcomeUnknown,
    RequestTimedOut,
    ServiceUnavailable,
    may_have_happened,
    unexpected_extensions,
)


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
    that carries the same request id (core/request_id.py).
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
