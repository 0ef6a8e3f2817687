"""Why a portal action refused (with `domain.problems.Common`): `PortalCode` for portal
access, sign-in and settings (the GraphQL enum PortalErrorCode), `ProfileCode` for a
viewer's changes to their own record (ProfileErrorCode)."""

from enum import StrEnum


class PortalCode(StrEnum):
    EMAIL_MISSING = "EMAIL_MISSING"
    PORTAL_ACCESS_OFF = "PORTAL_ACCESS_OFF"
    ACCESS_REVOKED = "ACCESS_REVOKED"
    ARCHIVED = "ARCHIVED"
    PORTAL_DISABLED = "PORTAL_DISABLED"
    INVALID_CREDENTIALS = "INVALID_CREDENTIALS"
    PASSWORDS_OFF = "PASSWORDS_OFF"


class ProfileCode(StrEnum):
    DUPLICATE = "DUPLICATE"
    NOT_ALLOWED = "NOT_ALLOWED"
    NO_PHONE = "NO_PHONE"  # texts chosen without a valid phone number on the record
    TEXTS_UNAVAILABLE = "TEXTS_UNAVAILABLE"  # this Portico sends no texts (no provider)
