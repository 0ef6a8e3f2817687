"""Why an action on appointments refused (with `domain.problems.Common`; the GraphQL enum
AppointmentErrorCode)."""

from enum import StrEnum


class ScheduleCode(StrEnum):
    ENDS_BEFORE_START = "ENDS_BEFORE_START"
    IN_THE_PAST = "IN_THE_PAST"
    INVALID_STATUS = "INVALID_STATUS"
    CANCELLED = "CANCELLED"
    NOT_ALLOWED = "NOT_ALLOWED"
    TOO_LATE = "TOO_LATE"  # within the business's cut-off before the appointment
