"""The storage backend on its own: whole files or nothing, keys that stay inside the root."""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from core.settings import settings_from_env
from domain.uploads.received import HEIC, JPEG, PDF, PNG, WEBP, label, sniff
from storage import (
    BadKey,
    FileMissing,
    LocalStorage,
    TooLarge,
    new_key,
    read_bytes,
    storage_from_settings,
    store_bytes,
)


def files_under(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


async def chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


async def test_put_open_delete_round_trip(tmp_path: Path):
    storage = LocalStorage(tmp_path)
    key = new_key(uuid.uuid4(), "documents")
    data = [os.urandom(70_000), os.urandom(5), os.urandom(100_000)]
    stored = await storage.put(key, chunks(*data), max_bytes=200_000)
    whole = b"".join(data)
    assert stored.size_bytes == len(whole)
    assert stored.sha256 == hashlib.sha256(whole).hexdigest()
    assert await read_bytes(storage, key) == whole
    assert [len(c) for c in [c async for c in storage.open(key, chunk_size=65536)]] == [
        65536,
        65536,
        len(whole) - 131072,
    ]
    assert await storage.exists(key)
    assert files_under(tmp_path) == [tmp_path / key]
    await storage.delete(key)
    await storage.delete(key)  # already gone: not an error
    assert not await storage.exists(key)
    with pytest.raises(FileMissing):
        await read_bytes(storage, key)


async def test_a_stream_over_its_limit_leaves_nothing(tmp_path: Path):
    storage = LocalStorage(tmp_path)
    key = new_key("org", "photos")
    with pytest.raises(TooLarge) as refused:
        await storage.put(key, chunks(b"a" * 600, b"b" * 600), max_bytes=1000)
    assert refused.value.limit == 1000
    assert files_under(tmp_path) == []
    exact = await storage.put(key, chunks(b"a" * 1000), max_bytes=1000)
    assert exact.size_bytes == 1000


async def test_a_failing_stream_leaves_nothing_and_keeps_the_old_file(tmp_path: Path):
    storage = LocalStorage(tmp_path)
    key = new_key("org", "documents")
    await store_bytes(storage, key, b"first version")

    async def broken() -> AsyncIterator[bytes]:
        yield b"half a file"
        raise ConnectionResetError("client went away")

    with pytest.raises(ConnectionResetError):
        await storage.put(key, broken())
    assert await read_bytes(storage, key) == b"first version"
    assert files_under(tmp_path) == [tmp_path / key]


@pytest.mark.parametrize(
    "key",
    [
        "../outside",
        "a/../../outside",
        "/etc/passwd",
        "a/./b",
        ".hidden",
        "a/.upload-x",
        "Upper/case",
        "a//b",
        "a/b/",
        "",
        "report.pdf",
        "a\\b",
        "x" * 501,
    ],
)
async def test_keys_portico_would_never_make_are_refused(tmp_path: Path, key: str):
    storage = LocalStorage(tmp_path / "root")
    with pytest.raises(BadKey):
        await storage.put(key, chunks(b"x"))
    with pytest.raises(BadKey):
        await storage.delete(key)
    assert files_under(tmp_path) == []


def test_new_keys_are_fresh_and_carry_no_client_text():
    org = uuid.uuid4()
    first, second = new_key(org, "documents"), new_key(org, "documents")
    assert first != second
    assert first.startswith(f"{org}/documents/")
    with pytest.raises(BadKey):
        new_key(org, "../documents")


def test_storage_from_settings_is_a_directory_backend(tmp_path: Path):
    settings = settings_from_env({"STORAGE_DIR": str(tmp_path)})
    storage = storage_from_settings(settings)
    assert isinstance(storage, LocalStorage) and storage.root == tmp_path.resolve()
    assert settings_from_env({}).max_upload_bytes == 20 * 1024 * 1024
    assert settings_from_env({"MAX_UPLOAD_BYTES": "1000"}).max_upload_bytes == 1000


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"%PDF-1.7\n", PDF),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", JPEG),
        (b"\x89PNG\r\n\x1a\n\x00\x00", PNG),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", WEBP),
        (b"\x00\x00\x00\x18ftypheic\x00\x00", HEIC),
        (b"\x00\x00\x00\x18ftypmif1\x00\x00", HEIC),
        (b"MZ\x90\x00\x03\x00\x00\x00", None),  # a Windows executable
        (b"\x7fELF\x02\x01\x01", None),
        (b"<html><script>", None),
        (b"\x00\x00\x00\x18ftypisom", None),  # an MP4 video
        (b"", None),
    ],
)
def test_types_are_read_from_the_bytes(head: bytes, expected: str | None):
    assert sniff(head) == expected


def test_client_filenames_are_only_labels():
    assert label("C:\\Users\\alex\\insurance.pdf") == "insurance.pdf"
    assert label("../../etc/passwd") == "passwd"
    assert label("bad\x00name\n.pdf") == "badname.pdf"
    assert label(None) == "upload"
    assert len(label("a" * 1000)) == 255
