"""Uploads onto storage the operating system refuses to write (a full disk, a read-only
one, a file where the directory should be): the user error STORAGE_UNAVAILABLE, one
warning in the log, nothing stored or recorded, and `/readyz` saying why (503, `storage`).

The full and read-only disks are a tiny tmpfs mounted for the test (filled up; remounted
read-only): the kernel's own ENOSPC and EROFS. Mounting needs root (the suite runs as root).
"""

from __future__ import annotations

import errno
import logging
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from models import Document
from models.db import Database
from tests.test_files import PDF_BYTES, UPLOAD_DOCUMENT, World, app_with, upload, world

__all__ = ["world"]  # the fixture, shared with tests/test_files.py


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 256 KB file system of its own."""
    mountpoint = tmp_path / "disk"
    mountpoint.mkdir()
    subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=256k,mode=0755", "tmpfs", str(mountpoint)],
        check=True,
    )
    try:
        yield mountpoint
    finally:
        subprocess.run(["umount", str(mountpoint)], check=True)


def _fill(disk: Path) -> Path:
    """Write until the kernel says the disk is full."""
    filler = disk / "filler"
    with open(filler, "wb", buffering=0) as handle:
        try:
            while True:
                handle.write(b"\0" * 65536)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
    return filler


def _files_in(disk: Path) -> list[str]:
    return sorted(p.name for p in disk.rglob("*") if p.is_file())


def _remount_read_only(disk: Path) -> None:
    subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)


async def _documents(db: Database, world: World) -> int:
    async with db.connect() as conn:
        return await conn.scalar(
            sa.select(sa.func.count())
            .select_from(Document)
            .where(Document.organization_id == world.tenant.organization_id)
        )


async def _refused_upload(
    client: httpx.AsyncClient, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        response = await upload(
            client, world.tenant.staff_token, UPLOAD_DOCUMENT, {"customerId": world.alex}, PDF_BYTES
        )
    assert response.status_code == 200, response.text
    payload = response.json()["data"]["uploadDocument"]
    assert payload["document"] is None
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [
        (["input", "file"], "STORAGE_UNAVAILABLE")
    ]
    # One warning, no traceback, nothing at ERROR.
    assert [(r.levelname, r.name) for r in caplog.records] == [("WARNING", "portico.storage")], [
        (r.levelname, r.name, r.getMessage()) for r in caplog.records
    ]
    assert caplog.records[0].exc_info is None


async def _not_ready(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")
    assert (response.status_code, response.json()) == (
        503,
        {"status": "unavailable", "reason": "storage"},
    )


async def test_a_full_disk_refuses_uploads_cleanly_and_readiness_says_so(
    world: World, db: Database, small_disk: Path, caplog: pytest.LogCaptureFixture
):
    filler = _fill(small_disk)
    before = await _documents(db, world)
    async with app_with(db, storage_dir=small_disk) as client:
        await _refused_upload(client, world, caplog)
        assert "No space left on device" in caplog.records[0].getMessage()
        await _not_ready(client)
        assert _files_in(small_disk) == ["filler"]
        assert await _documents(db, world) == before
        filler.unlink()  # space again: ready, and the same upload goes through
        assert (await client.get("/readyz")).json() == {"status": "ok"}
        stored = await upload(
            client, world.tenant.staff_token, UPLOAD_DOCUMENT, {"customerId": world.alex}, PDF_BYTES
        )
        assert stored.json()["data"]["uploadDocument"]["userErrors"] == []
    assert await _documents(db, world) == before + 1


async def test_a_read_only_disk_refuses_uploads_cleanly_and_readiness_says_so(
    world: World, db: Database, small_disk: Path, caplog: pytest.LogCaptureFixture
):
    _remount_read_only(small_disk)
    before = await _documents(db, world)
    async with app_with(db, storage_dir=small_disk) as client:
        await _refused_upload(client, world, caplog)
        assert "Read-only file system" in caplog.records[0].getMessage()
        await _not_ready(client)
    assert await _documents(db, world) == before
    assert _files_in(small_disk) == []


async def test_a_file_where_the_storage_directory_should_be(
    world: World, db: Database, tmp_path: Path, caplog: pytest.LogCaptureFixture
):
    """Needs no privilege: a regular file in the storage directory's place."""
    in_the_way = tmp_path / "storage"
    in_the_way.write_bytes(b"not a directory")
    before = await _documents(db, world)
    async with app_with(db, storage_dir=in_the_way) as client:
        await _refused_upload(client, world, caplog)
        await _not_ready(client)
    assert await _documents(db, world) == before
    assert in_the_way.read_bytes() == b"not a directory"


async def test_a_storage_outage_logs_one_warning_and_one_line_when_it_ends(
    world: World, db: Database, small_disk: Path, caplog: pytest.LogCaptureFixture
):
    """Under load every upload is refused and /readyz is polled every few seconds: one
    warning when the storage stops taking writes, one line when it takes them again, and
    a warning again for the next outage (the database outage's rule, core/outage_watch.py)."""
    filler = _fill(small_disk)
    async with app_with(db, storage_dir=small_disk) as client:
        caplog.clear()
        with caplog.at_level(logging.INFO):
            for _ in range(3):
                await _refused_upload_quietly(client, world)
                await _not_ready(client)
            filler.unlink()
            assert (await client.get("/readyz")).json() == {"status": "ok"}
            stored = await upload(
                client,
                world.tenant.staff_token,
                UPLOAD_DOCUMENT,
                {"customerId": world.alex},
                PDF_BYTES,
            )
            assert stored.json()["data"]["uploadDocument"]["userErrors"] == []
            _fill(small_disk)
            await _refused_upload_quietly(client, world)
        lines = [
            (r.levelname, r.getMessage())
            for r in caplog.records
            if r.name.startswith(("portico.storage", "portico.uploads", "portico.http"))
        ]
    assert [level for level, _ in lines] == ["WARNING", "INFO", "WARNING"], lines
    assert "No space left on device" in lines[0][1]
    assert "3 uploads refused" in lines[1][1]


async def _refused_upload_quietly(client: httpx.AsyncClient, world: World) -> None:
    response = await upload(
        client, world.tenant.staff_token, UPLOAD_DOCUMENT, {"customerId": world.alex}, PDF_BYTES
    )
    payload = response.json()["data"]["uploadDocument"]
    assert [e["code"] for e in payload["userErrors"]] == ["STORAGE_UNAVAILABLE"]
