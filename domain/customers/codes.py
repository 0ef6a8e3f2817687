"""Why a customer or contact action refused (with `domain.problems.Common`, the GraphQL enum
CustomerErrorCode)."""

from enum import StrEnum


class CustomerCode(StrEnum):
    DUPLICATE = "DUPLICATE"
