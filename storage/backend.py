"""What a storage backend does, whatever holds the bytes (a directory, an S3 bucket).

Keys are made by Portico (`new_key`), never from a client's filename, so a backend can
trust their shape. A backend writes a file whole or not at all: a write that fails or goes
over its byte limit leaves nothing behind under the key.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass
from typing import Protocol

CHUNK_SIZE = 64 * 1024
# Lowercase words joined by slashes: no dots, so no "..", no hidden files, no extensions.
KEY = re.compile(r"^[a-z0-9][a-z0-9_-]*(/[a-z0-9][a-z0-9_-]*)*$")
MAX_KEY_LENGTH = 500  # the storage_key columns


class StorageError(Exception):
    """A backend could not do what was asked."""


class StorageUnavailable(StorageError):
    """The store cannot take a write now (disk full, read-only, gone); nothing was stored."""


class TooLarge(StorageError):
    """The stream went over its byte limit; nothing was stored."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"more than {limit} bytes")
        self.limit = limit


class FileMissing(StorageError):
    """No file under this key."""


class BadKey(StorageError, ValueError):
    """A key that Portico would never make."""


@dataclass(frozen=True, slots=True)
class StoredFile:
    """What was written: where, how many bytes, and their SHA-256 (hex)."""

    key: str
    size_bytes: int
    sha256: str


def check_key(key: str) -> str:
    if len(key) > MAX_KEY_LENGTH or not KEY.match(key):
        raise BadKey(f"not a storage key: {key!r}")
    return key


def new_key(*parts: str | uuid.UUID) -> str:
    """A fresh key under the given prefix, e.g. new_key(org_id, "documents")."""
    words = [str(part).lower() for part in parts]
    return check_key("/".join([*words, uuid.uuid4().hex]))


class Storage(Protocol):
    """An async file store. `put` consumes a stream of chunks and returns what it wrote."""

    async def put(
        self,
        key: str,
        chunks: AsyncIterable[bytes],
        *,
        max_bytes: int | None = None,
        content_type: str | None = None,
    ) -> StoredFile:
        """Store the stream under `key`, counting and hashing it on the way; raise
        TooLarge (and store nothing) once it passes `max_bytes`."""
        ...

    def open(self, key: str, *, chunk_size: int = CHUNK_SIZE) -> AsyncIterator[bytes]:
        """The file's bytes as chunks; FileMissing when there is none."""
        ...

    async def exists(self, key: str) -> bool: ...

    async def check_writable(self) -> None:
        """Write and remove a small file; StorageUnavailable when the store refuses."""
        ...

    async def delete(self, key: str) -> None:
        """Remove the file; a missing one is not an error."""
        ...


async def _once(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def store_bytes(
    storage: Storage, key: str, data: bytes, *, content_type: str | None = None
) -> StoredFile:
    """Store bytes Portico made itself (a generated PDF such as a signed contract)."""
    return await storage.put(key, _once(data), content_type=content_type)


async def read_bytes(storage: Storage, key: str) -> bytes:
    """A whole stored file in memory (for small files only)."""
    return b"".join([chunk async for chunk in storage.open(key)])
