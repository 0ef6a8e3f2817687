"""Why a file was not received (with `domain.problems.Common`; part of the GraphQL enums of
the mutations that take files)."""

from enum import StrEnum


class UploadCode(StrEnum):
    TOO_LARGE = "TOO_LARGE"
    STORAGE_UNAVAILABLE = "STORAGE_UNAVAILABLE"
    UNSUPPORTED_TYPE = "UNSUPPORTED_TYPE"
