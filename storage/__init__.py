"""Where uploaded and generated files live. The database rows only name them (a key).

`storage_from_settings(settings)` is the process's backend; today a directory
(`STORAGE_DIR`), and anything implementing `Storage` (an S3-compatible bucket) can stand in.
"""

from __future__ import annotations

from functools import lru_cache

from core.settings import Settings
from storage.backend import (
    CHUNK_SIZE,
    BadKey,
    FileMissing,
    Storage,
    StorageError,
    StorageUnavailable,
    StoredFile,
    TooLarge,
    new_key,
    read_bytes,
    store_bytes,
)
from storage.local import LocalStorage

__all__ = [
    "CHUNK_SIZE",
    "BadKey",
    "FileMissing",
    "LocalStorage",
    "Storage",
    "StorageError",
    "StorageUnavailable",
    "StoredFile",
    "TooLarge",
    "new_key",
    "read_bytes",
    "storage_from_settings",
    "store_bytes",
]


@lru_cache(maxsize=8)
def storage_from_settings(settings: Settings) -> Storage:
    return LocalStorage(settings.storage_dir)
