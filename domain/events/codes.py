"""Why an action on community events refused (with `domain.problems.Common`; the GraphQL
enum EventErrorCode)."""

from enum import StrEnum


class EventCode(StrEnum):
    NOT_EDITABLE = "NOT_EDITABLE"
    EVENT_OVER = "EVENT_OVER"
    FULL = "FULL"
