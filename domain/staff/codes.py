"""Why a staff-account action refused (with `domain.problems.Common`): the GraphQL enum
StaffErrorCode."""

from enum import StrEnum


class StaffCode(StrEnum):
    EMAIL_TAKEN = "EMAIL_TAKEN"  # the organization already has staff with this address
    OWNER_REQUIRED = "OWNER_REQUIRED"  # only an OWNER makes, changes or deactivates an OWNER
    LAST_OWNER = "LAST_OWNER"  # the last active OWNER keeps the role and the account
    NOT_INVITED = "NOT_INVITED"  # resending or cancelling an invite someone already accepted
    NOT_ACTIVE = "NOT_ACTIVE"  # deactivating someone who is not active
    NOT_DEACTIVATED = "NOT_DEACTIVATED"  # reactivating someone who is not deactivated
    LINK_EXPIRED = "LINK_EXPIRED"  # an invite or reset link past its time
    LINK_INVALID = "LINK_INVALID"  # used, replaced, cancelled, or never issued
    WRONG_PASSWORD = "WRONG_PASSWORD"  # the current password given does not match
