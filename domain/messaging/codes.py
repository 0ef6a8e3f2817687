"""Why an action on conversations refused (with `domain.problems.Common` and, for files,
`domain.uploads.codes.UploadCode`; the GraphQL enum MessageErrorCode)."""

from enum import StrEnum


class MessageCode(StrEnum):
    NOT_IN_CONVERSATION = "NOT_IN_CONVERSATION"
    TOO_MANY_FILES = "TOO_MANY_FILES"


class DeliveryCode(StrEnum):
    """Why an email of the delivery log cannot be sent again (GraphQL EmailErrorCode)."""

    NOT_RESENDABLE = "NOT_RESENDABLE"
    OPTED_OUT = "OPTED_OUT"  # a text to a number that answered STOP
