"""Files in a directory (STORAGE_DIR): the default backend.

Each key is a path below the root. A file is written to a temporary name in its final
directory, flushed to disk, then renamed over the key, so readers never see half a file
and a refused or failed write leaves nothing. Blocking file calls run in worker threads.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import uuid
from collections.abc import AsyncIterable, AsyncIterator, Callable
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

from storage.backend import (
    CHUNK_SIZE,
    BadKey,
    FileMissing,
    StorageUnavailable,
    StoredFile,
    TooLarge,
    check_key,
)

TEMP_PREFIX = ".upload-"
_T = TypeVar("_T")


class LocalStorage:
    def __init__(self, root: Path) -> None:
        self.root = Path(root).resolve()

    def path_of(self, key: str) -> Path:
        path = (self.root / check_key(key)).resolve()
        if not path.is_relative_to(self.root) or path == self.root:
            raise BadKey(f"not a storage key: {key!r}")  # belt and braces: check_key has no dots
        return path

    async def put(
        self,
        key: str,
        chunks: AsyncIterable[bytes],
        *,
        max_bytes: int | None = None,
        content_type: str | None = None,
    ) -> StoredFile:
        path = self.path_of(key)
        fs = self._file_system
        await fs(path.parent.mkdir, parents=True, exist_ok=True)
        temp = path.parent / f"{TEMP_PREFIX}{uuid.uuid4().hex}"
        handle: BinaryIO = await fs(open, temp, "xb")
        digest, size = hashlib.sha256(), 0
        try:
            try:
                async for chunk in chunks:  # the stream's own errors pass through as they are
                    size += len(chunk)
                    if max_bytes is not None and size > max_bytes:
                        raise TooLarge(max_bytes)
                    digest.update(chunk)
                    await fs(handle.write, chunk)
                await fs(_flush, handle)
            finally:
                await fs(handle.close)
            await fs(os.replace, temp, path)
        except BaseException:
            await asyncio.to_thread(temp.unlink, missing_ok=True)
            raise
        return StoredFile(key=key, size_bytes=size, sha256=digest.hexdigest())

    async def _file_system(self, call: Callable[..., _T], *args: Any, **kwargs: Any) -> _T:
        """A blocking file call in a worker thread; the OS refusing it (disk full,
        read-only, not a directory) is StorageUnavailable."""
        try:
            return await asyncio.to_thread(call, *args, **kwargs)
        except OSError as exc:
            raise StorageUnavailable(f"{self.root}: {exc.strerror or exc}") from exc

    async def open(self, key: str, *, chunk_size: int = CHUNK_SIZE) -> AsyncIterator[bytes]:
        path = self.path_of(key)
        try:
            handle: BinaryIO = await asyncio.to_thread(open, path, "rb")
        except (FileNotFoundError, IsADirectoryError) as exc:
            raise FileMissing(key) from exc
        try:
            while chunk := await asyncio.to_thread(handle.read, chunk_size):
                yield chunk
        finally:
            await asyncio.to_thread(handle.close)

    async def exists(self, key: str) -> bool:
        return await asyncio.to_thread(self.path_of(key).is_file)

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self.path_of(key).unlink, missing_ok=True)

    async def check_writable(self) -> None:
        try:
            await asyncio.to_thread(_probe, self.root)
        except OSError as exc:
            raise StorageUnavailable(f"{self.root}: {exc.strerror or exc}") from exc


def _probe(root: Path) -> None:
    """A small file written to disk and removed again, as an upload would be."""
    root.mkdir(parents=True, exist_ok=True)
    probe = root / f"{TEMP_PREFIX}ready-{uuid.uuid4().hex}"
    try:
        with open(probe, "xb") as handle:
            handle.write(b"ready")
            _flush(handle)
    finally:
        probe.unlink(missing_ok=True)


def _flush(handle: BinaryIO) -> None:
    handle.flush()
    os.fsync(handle.fileno())
