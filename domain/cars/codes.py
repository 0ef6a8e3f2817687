"""Why an action on cars or their work refused (with `domain.problems.Common`; the GraphQL
enums CarErrorCode and WorkErrorCode)."""

from enum import StrEnum


class CarCode(StrEnum):
    DUPLICATE = "DUPLICATE"
    OWNED_BY_ANOTHER_CUSTOMER = "OWNED_BY_ANOTHER_CUSTOMER"
    NOT_EDITABLE = "NOT_EDITABLE"
