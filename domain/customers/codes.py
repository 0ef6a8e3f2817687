"""Why a customer or contact action refused (with `domain.problems.Common`, the GraphQL enum
CustomerErrorCode)."""

from enum import StrEnum


class CustomerCode(StrEnum):
    DUPLICATE = "DUPLICATE"
    NOT_ALLOWED = "NOT_ALLOWED"  # a portal viewer who may not manage that contact
    BEYOND_ACCESS = "BEYOND_ACCESS"  # more than the viewer's own access or the business's
