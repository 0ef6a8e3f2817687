"""Receiving an uploaded file: check what it is by its bytes, store it within the limit.

The client's claimed type and filename are not trusted: the type is read from the file's
first bytes (magic numbers) and must be on the purpose's allow-list; the filename is kept
only as a label. A refused file raises `Rejected` with nothing stored. A stored file whose
row is then not written (bad input found later, a rollback) is deleted again (`kept`).
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from enum import Enum
from typing import Any

from starlette.datastructures import UploadFile

from domain.problems import Common, Problem, Rejected
from domain.rows import organization_of
from domain.uploads.codes import UploadCode
from domain.work import Work
from storage import (
    CHUNK_SIZE,
    Storage,
    StorageUnavailable,
    StoredFile,
    TooLarge,
    new_key,
    storage_from_settings,
)
from storage.outage import outage_of

PDF, JPEG, PNG = "application/pdf", "image/jpeg", "image/png"
HEIC, WEBP = "image/heic", "image/webp"
HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"}


class Purpose(Enum):
    """What a file is uploaded for, and the types each purpose accepts."""

    DOCUMENT = frozenset({PDF, JPEG, PNG, HEIC, WEBP})
    PHOTO = frozenset({JPEG, PNG, HEIC, WEBP})


def sniff(head: bytes) -> str | None:
    """The type the first bytes of a file show, among those Portico accepts."""
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if head[4:8] == b"ftyp" and head[8:12] in HEIF_BRANDS:
        return HEIC
    return None


def label(filename: str | None) -> str:
    """A client's filename made safe to show: no folders, no control characters."""
    name = re.split(r"[\\/]", filename or "")[-1]
    name = "".join(c for c in unicodedata.normalize("NFC", name) if c.isprintable())
    return name.strip()[:255] or "upload"


@dataclass(frozen=True)
class Received:
    stored: StoredFile
    content_type: str
    filename: str

    def columns(self) -> dict[str, Any]:
        """The FileColumns values (models/files.py) for the row that names this file."""
        return {
            "filename": self.filename,
            "content_type": self.content_type,
            "size_bytes": self.stored.size_bytes,
            "sha256": self.stored.sha256,
            "storage_key": self.stored.key,
        }


async def _chunks(upload: UploadFile, first: bytes) -> AsyncIterator[bytes]:
    yield first
    while chunk := await upload.read(CHUNK_SIZE):
        yield chunk


async def receive(
    storage: Storage,
    upload: object,
    purpose: Purpose,
    *,
    field: str,
    max_bytes: int,
    organization_id: uuid.UUID,
    folder: str,
) -> Received:
    """Store an upload under a fresh key, or raise Rejected (and store nothing)."""
    if not isinstance(upload, UploadFile):  # a string sent where a file part belongs
        raise Rejected(Problem(field, "Send the file as a multipart upload.", Common.REQUIRED))
    await upload.seek(0)
    first = await upload.read(CHUNK_SIZE)
    if not first:
        raise Rejected(Problem(field, "The file is empty.", Common.REQUIRED))
    content_type = sniff(first)
    if content_type not in purpose.value:
        allowed = ", ".join(sorted(t.split("/")[1].upper() for t in purpose.value))
        raise Rejected(Problem(field, f"Upload a {allowed} file.", UploadCode.UNSUPPORTED_TYPE))
    key = new_key(organization_id, folder)
    try:
        stored = await storage.put(
            key, _chunks(upload, first), max_bytes=max_bytes, content_type=content_type
        )
    except TooLarge:
        message = f"The file is larger than {readable(max_bytes)}."
        raise Rejected(Problem(field, message, UploadCode.TOO_LARGE)) from None
    except StorageUnavailable as exc:  # full or read-only: the operator's, not the client's
        outage_of(storage).failed("upload", exc)  # one warning per outage, not per upload
        message = "Files cannot be stored just now. Try again later."
        raise Rejected(Problem(field, message, UploadCode.STORAGE_UNAVAILABLE)) from None
    outage_of(storage).writable()
    return Received(stored, content_type, label(upload.filename))


def readable(size: int) -> str:
    for unit, scale in (("MB", 1024 * 1024), ("KB", 1024)):
        if size >= scale:
            return f"{size / scale:.3g} {unit}"
    return f"{size} bytes"


@asynccontextmanager
async def kept(storage: Storage, received: Received) -> AsyncIterator[Received]:
    """Delete the stored file again unless the block (the row's transaction) succeeds."""
    try:
        yield received
    except BaseException:
        await storage.delete(received.stored.key)
        raise


@asynccontextmanager
async def kept_all(files: list[tuple[Storage, Received]]) -> AsyncIterator[None]:
    """`kept` for several files at once."""
    try:
        yield
    except BaseException:
        for storage, received in files:
            await storage.delete(received.stored.key)
        raise


async def receive_file(
    work: Work, upload: object, purpose: Purpose, folder: str, field: str = "file"
) -> tuple[Storage, Received]:
    """The request's `file` part stored for the actor's organization under the upload limit:
    the storage it went to (to drop it again with `kept` if the write fails) and what it is."""
    storage = storage_from_settings(work.settings)
    received = await receive(
        storage,
        upload,
        purpose,
        field=field,
        max_bytes=work.settings.max_upload_bytes,
        organization_id=organization_of(work),
        folder=folder,
    )
    return storage, received
