"""Why an organization action refused (with `domain.problems.Common`): staff sign-in (the
GraphQL enum AuthErrorCode)."""

from enum import StrEnum


class OrganizationCode(StrEnum):
    INVALID_CREDENTIALS = "INVALID_CREDENTIALS"
