"""Why an action on billing plans or subscriptions refused (with `domain.problems.Common`;
the GraphQL enum SubscriptionErrorCode)."""

from enum import StrEnum


class SubscriptionCode(StrEnum):
    NOT_POSITIVE = "NOT_POSITIVE"  # a quantity or interval below one
    NEGATIVE_AMOUNT = "NEGATIVE_AMOUNT"
    ENDS_BEFORE_START = "ENDS_BEFORE_START"
    IN_THE_PAST = "IN_THE_PAST"
    INTERVAL_MISMATCH = "INTERVAL_MISMATCH"  # a named interval and a month count disagree
    NOT_THEIR_CAR = "NOT_THEIR_CAR"
    PLAN_ARCHIVED = "PLAN_ARCHIVED"
    ALREADY_PAUSED = "ALREADY_PAUSED"
    NOT_PAUSED = "NOT_PAUSED"
    ALREADY_ENDED = "ALREADY_ENDED"
