"""Why an action on documents or contracts refused (with `domain.problems.Common`; the
GraphQL enums DocumentErrorCode and ContractErrorCode)."""

from enum import StrEnum


class DocumentCode(StrEnum):
    UPLOADS_DISABLED = "UPLOADS_DISABLED"
    NOT_EDITABLE = "NOT_EDITABLE"
    ALREADY_SIGNED = "ALREADY_SIGNED"
