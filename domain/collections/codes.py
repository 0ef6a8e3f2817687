"""Why an action on collections refused (with `domain.problems.Common`; the GraphQL enum
CollectionErrorCode)."""

from enum import StrEnum


class CollectionCode(StrEnum):
    BAD_SCHEDULE = "BAD_SCHEDULE"  # reminder steps out of range, repeated or too many
    BAD_LATE_FEE = "BAD_LATE_FEE"  # a late-fee setting out of range or missing its amount
    ALREADY_PAUSED = "ALREADY_PAUSED"
    NOT_PAUSED = "NOT_PAUSED"
    BAD_STATEMENT_DAY = "BAD_STATEMENT_DAY"  # the monthly statement day out of 1-28
