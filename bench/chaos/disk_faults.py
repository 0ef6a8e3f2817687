"""full_disk: staff upload documents and car photos (real multipart requests, as the README's
curl example does) to a `portico serve` whose STORAGE_DIR is a small tmpfs of its own, while
the disk fills up, stays full (something else keeps writing), is remounted read-only, and
is then remounted read-write with its space freed.

Every acknowledged upload must have its row and its file (same bytes); no row may name a
missing file; no file may be left without a row; every refusal is the user error
STORAGE_UNAVAILABLE (never INTERNAL_SERVER_ERROR); `/readyz` is 503 `storage` while the
disk is full or read-only and ready again once space returns; the log has no traceback.
Needs root (mount); skipped, not passed, without it.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import hashlib
import json
import os
import random
import subprocess
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx

from bench.chaos import server_log
from bench.chaos.scenarios import Report, _site
from core.ids import encode_id
from tests.private_postgres import PrivatePostgres
from tests.served import start_server, stop_server

UPLOAD_DOCUMENT = """
mutation U($input: UploadDocumentInput!) {
  uploadDocument(input: $input) { document { id sha256 } userErrors { field code } }
}
"""
UPLOAD_PHOTO = """
mutation U($input: UploadCarPhotoInput!) {
  uploadCarPhoto(input: $input) { photo { id sha256 } userErrors { field code } }
}
"""
CREATE_CUSTOMER = """
mutation C($input: CreateCustomerInput!) {
  createCustomer(input: $input) { customer { id } userErrors { code } }
}
"""
CREATE_CAR = """
mutation C($input: CreateCarInput!) { createCar(input: $input) { car { id } userErrors { code } } }
"""
FILLER = ".chaos-filler"  # what else fills the disk (a runaway log, say): not an upload
PHASES = ("filling", "full", "remounting", "read-only", "freeing", "freed")


def _file(kind: str, size: int) -> bytes:
    """A file whose first bytes say what it is, as Portico reads it."""
    head = {
        "pdf": b"%PDF-1.4\n",
        "jpeg": b"\xff\xd8\xff\xe0\x00\x10JFIF\x00",
        "png": b"\x89PNG\r\n\x1a\n",
    }[kind]
    return head + os.urandom(size)


@dataclass
class Uploads:
    phase: str = "filling"
    acknowledged: dict[str, str] = field(default_factory=dict)  # Global ID: sha256 sent
    ack_phase: Counter[str] = field(default_factory=Counter)
    refused: Counter[str] = field(default_factory=Counter)  # "phase CODE"
    shed: int = 0
    failures: list[str] = field(default_factory=list)
    first_refusal: asyncio.Event = field(default_factory=asyncio.Event)
    first_ack_after_free: float | None = None
    freed_at: float | None = None


async def uploader(
    base_url: str, token: str, customer: str, car: str, k: int, out: Uploads, stop: asyncio.Event
) -> None:
    rng = random.Random(k)
    headers = {"Authorization": f"Bearer {token}", "X-Portico-Upload": "1"}
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        n = 0
        while not stop.is_set():
            n += 1
            photo = n % 3 == 0
            kind = rng.choice(["jpeg", "png"]) if photo else rng.choice(["pdf", "jpeg"])
            content = _file(kind, rng.randint(8_000, 32_000))
            if photo:
                query, variables = UPLOAD_PHOTO, {"carId": car, "caption": f"Disk {k}-{n}"}
            else:
                query, variables = (
                    UPLOAD_DOCUMENT,
                    {"customerId": customer, "name": f"Disk {k}-{n}"},
                )
            operations = {"query": query, "variables": {"input": {**variables, "file": None}}}
            try:
                answer = await http.post(
                    "/graphql",
                    data={
                        "operations": json.dumps(operations),
                        "map": json.dumps({"0": ["variables.input.file"]}),
                    },
                    files={"0": (f"disk-{k}-{n}.{kind}", content, f"application/{kind}")},
                    headers=headers,
                )
            except httpx.TransportError as exc:
                out.failures.append(f"{out.phase}: {exc!r}")
                await asyncio.sleep(0.2)
                continue
            _tally(answer, content, out.phase, out)  # the phase it was answered in
            if answer.status_code == 503:  # shed: come back when told, as a client should
                retry_after = float(answer.headers.get("retry-after") or 1)
                await asyncio.sleep(retry_after * rng.uniform(0.5, 1.0))
            else:
                await asyncio.sleep(0.02)


def _tally(answer: httpx.Response, content: bytes, phase: str, out: Uploads) -> None:
    try:
        body = answer.json()
    except ValueError:
        out.failures.append(f"{phase}: {answer.status_code} not JSON")
        return
    errors = body.get("errors") or []
    code = errors[0].get("extensions", {}).get("code") if errors else body.get("code")
    if answer.status_code == 503 and code == "OVERLOADED":
        out.shed += 1
        return
    if answer.status_code != 200 or errors:
        out.failures.append(f"{phase}: {answer.status_code} {code}")
        return
    payload = next(iter(body["data"].values()))
    made = payload.get("document") or payload.get("photo")
    if made is not None:
        if made["sha256"] != hashlib.sha256(content).hexdigest():
            out.failures.append(f"{phase}: stored other bytes than were sent")
        out.acknowledged[made["id"]] = made["sha256"]
        out.ack_phase[phase] += 1
        if out.freed_at is not None and out.first_ack_after_free is None:
            out.first_ack_after_free = time.monotonic()
        return
    codes = [e["code"] for e in payload["userErrors"]]
    out.refused[f"{phase} {','.join(codes)}"] += 1
    if codes != ["STORAGE_UNAVAILABLE"]:
        out.failures.append(f"{phase}: refused with {codes}")
    out.first_refusal.set()


@dataclass
class Readiness:
    seen: Counter[str] = field(default_factory=Counter)  # "phase status reason"
    ready_again_at: float | None = None


async def watch_readiness(
    base_url: str, out: Uploads, ready: Readiness, stop: asyncio.Event
) -> None:
    """`/readyz` every 0.2 s, as a load balancer would."""
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as http:
        while not stop.is_set():
            phase = out.phase
            try:
                answer = await http.get("/readyz")
                if out.phase != phase:  # the disk changed while it was asked
                    phase = "changing"
                reason = answer.json().get("reason", answer.json().get("status"))
                ready.seen[f"{phase} {answer.status_code} {reason}"] += 1
                if phase == "freed" and answer.status_code == 200 and not ready.ready_again_at:
                    ready.ready_again_at = time.monotonic()
            except (httpx.TransportError, ValueError) as exc:
                ready.seen[f"{phase} {type(exc).__name__}"] += 1
            await asyncio.sleep(0.2)


# -- The disk --------------------------------------------------------------------------------


def _mount(disk: Path, size: str) -> str | None:
    """A tmpfs of `size` at `disk`; why not, when it cannot be mounted."""
    if os.geteuid() != 0:
        return "mounting a file system needs root"
    disk.mkdir(parents=True, exist_ok=True)  # the workdir too
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(disk)],
        capture_output=True,
        text=True,
    )
    return None if done.returncode == 0 else f"mount failed: {done.stderr.strip()}"


def _remount(disk: Path, mode: str, seconds: float = 10.0) -> None:
    """Remount `ro` or `rw`. A read-only remount is refused (EBUSY) while a file is open for
    writing: an upload in flight. Try again until it is not."""
    deadline = time.monotonic() + seconds
    while True:
        done = subprocess.run(
            ["mount", "-o", f"remount,{mode}", str(disk)], capture_output=True, text=True
        )
        if done.returncode == 0:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"remount {mode} failed: {done.stderr.strip()}")
        time.sleep(0.01)


def _unmount(disk: Path) -> None:
    with contextlib.suppress(RuntimeError):
        _remount(disk, "rw", 2)
    subprocess.run(["umount", "-l", str(disk)], capture_output=True)


def _free(disk: Path, *fillers: Path) -> None:
    """Read-write again with the space freed, at once."""
    _remount(disk, "rw")
    for filler in fillers:
        filler.unlink()


def _fill(path: Path) -> int:
    """Append to `path` until the disk is full; bytes written."""
    written = 0
    try:
        with open(path, "ab", buffering=0) as handle:
            while True:
                written += handle.write(b"\0" * 4096)
    except OSError as exc:
        if exc.errno not in (errno.ENOSPC, errno.EROFS):
            raise
    return written


def _fill_leaving(path: Path, disk: Path, free_bytes: int) -> None:
    stat = os.statvfs(disk)
    size = stat.f_bavail * stat.f_frsize - free_bytes
    with open(path, "wb") as handle:
        handle.write(b"\0" * max(0, size))


async def keep_full(path: Path, stop: asyncio.Event) -> None:
    """Something else keeps writing: whatever a refused upload gives back is taken again."""
    while not stop.is_set():
        await asyncio.to_thread(_fill, path)
        await asyncio.sleep(0.02)


def _files(root: Path) -> dict[str, Path]:
    """Every file under the storage root by key, fillers left out."""
    return {
        str(p.relative_to(root)): p
        for p in root.rglob("*")
        if p.is_file() and not p.name.startswith(FILLER)
    }


async def _rows(database_url: str) -> dict[str, tuple[str, str]]:
    """Global ID: (storage key, sha256) of every document and car photo."""
    conn = await asyncpg.connect(database_url.replace("+asyncpg", ""), timeout=10)
    try:
        documents = await conn.fetch("SELECT id, storage_key, sha256 FROM documents")
        photos = await conn.fetch("SELECT id, storage_key, sha256 FROM car_photos")
    finally:
        await conn.close()
    rows = {encode_id("Document", r["id"]): (r["storage_key"], r["sha256"]) for r in documents}
    rows.update({encode_id("CarPhoto", r["id"]): (r["storage_key"], r["sha256"]) for r in photos})
    return rows


# -- The scenario ------------------------------------------------------------------------------


async def full_disk(
    postgres: PrivatePostgres,
    workdir: Path,
    *,
    clients: int = 8,
    seconds: float = 4.0,
    disk_size: str = "16m",
    free_at_start: int = 800_000,
) -> Report:
    """`clients` staff uploading without pause; each phase (full, read-only, freed) held
    for `seconds`."""
    report = Report(f"full and read-only disk: {clients} clients uploading")
    disk = workdir / "disk"
    why_not = await asyncio.to_thread(_mount, disk, disk_size)
    if why_not:
        report.skipped = why_not
        return report
    try:
        return await _full_disk(
            report,
            postgres,
            workdir,
            disk,
            clients=clients,
            seconds=seconds,
            free_at_start=free_at_start,
        )
    finally:
        await asyncio.to_thread(_unmount, disk)


async def _full_disk(
    report: Report,
    postgres: PrivatePostgres,
    workdir: Path,
    disk: Path,
    *,
    clients: int,
    seconds: float,
    free_at_start: int,
) -> Report:
    site = await _site(postgres, workdir, "disk", STORAGE_DIR=str(disk))
    with (workdir / "server.log").open("wb") as log_file:
        server, base_url = await start_server(site.env, stderr=log_file)
    out, ready = Uploads(), Readiness()
    stop, stop_filling = asyncio.Event(), asyncio.Event()
    filler, topping = disk / FILLER, disk / f"{FILLER}-more"
    try:
        token = await site.sign_in(base_url, "disk")
        async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
            headers = {"Authorization": f"Bearer {token}"}
            made = await http.post(
                "/graphql",
                json={"query": CREATE_CUSTOMER, "variables": {"input": {"name": "Disk"}}},
                headers=headers,
            )
            customer = made.json()["data"]["createCustomer"]["customer"]["id"]
            car_input = {"make": "Porsche", "model": "911", "ownerId": customer}
            made = await http.post(
                "/graphql",
                json={"query": CREATE_CAR, "variables": {"input": car_input}},
                headers=headers,
            )
            car = made.json()["data"]["createCar"]["car"]["id"]
        await asyncio.to_thread(_fill_leaving, filler, disk, free_at_start)
        tasks = [
            asyncio.create_task(uploader(base_url, token, customer, car, k, out, stop))
            for k in range(clients)
        ]
        watcher = asyncio.create_task(watch_readiness(base_url, out, ready, stop))
        began = time.monotonic()
        # Filling: the uploads themselves fill what is left, until they are refused.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(out.first_refusal.wait(), 60)
        filled_in = time.monotonic() - began
        # Full: something else takes every byte given back.
        keeper = asyncio.create_task(keep_full(topping, stop_filling))
        await asyncio.sleep(0.1)
        out.phase = "full"
        await asyncio.sleep(seconds)
        # Read-only, and still full (answers while it is remounted belong to neither).
        out.phase = "remounting"
        await asyncio.to_thread(_remount, disk, "ro")
        out.phase = "read-only"
        stop_filling.set()
        await keeper
        await asyncio.sleep(seconds)
        # Space returns: read-write again, the fillers removed.
        out.phase = "freeing"
        await asyncio.to_thread(_free, disk, filler, topping)
        out.freed_at = time.monotonic()
        out.phase = "freed"
        await asyncio.sleep(seconds)
        stop.set()
        await asyncio.gather(*tasks, watcher)
        rows = await _rows(site.database_url)
    finally:
        stop.set()
        stop_filling.set()
        await stop_server(server)
    _check(report, out, ready, rows, disk, filled_in)
    server_log.check(report, workdir / "server.log")
    _check_storage_log(report, workdir / "server.log", out, ready)
    return report


def _check_storage_log(report: Report, log: Path, out: Uploads, ready: Readiness) -> None:
    """One warning when the storage stops taking writes and one line when it takes them
    again (storage/outage.py), not one per refused upload or readiness probe."""
    _, counts = server_log.read(log)
    warnings, back = counts["WARNING portico.storage"], counts["INFO portico.storage"]
    refused = sum(out.refused.values())
    unready = sum(n for k, n in ready.seen.items() if " 503 " in k)
    report.figures["storage log"] = (
        f"{warnings} warnings and {back} lines on its return, for {refused} refused uploads "
        f"and {unready} unready answers"
    )
    if not warnings or warnings != back:
        report.problems.append(
            f"{warnings} storage warnings for {back} returns: not one warning per outage"
        )


def _check(
    report: Report,
    out: Uploads,
    ready: Readiness,
    rows: dict[str, tuple[str, str]],
    disk: Path,
    filled_in: float,
) -> None:
    files = _files(disk)
    temporary = sorted(k for k in files if Path(k).name.startswith(".upload-"))
    keys = {key for key, _ in rows.values()}
    lost = [gid for gid in out.acknowledged if gid not in rows]
    missing = sorted(gid for gid, (key, _) in rows.items() if key not in files)
    changed = sorted(
        gid
        for gid, (key, sha) in rows.items()
        if key in files and hashlib.sha256(files[key].read_bytes()).hexdigest() != sha
    )
    orphans = sorted(k for k in files if k not in keys)
    strays = sorted(gid for gid in rows if gid not in out.acknowledged)
    report.acknowledged = len(out.acknowledged)
    report.stored = len(rows)
    report.lost = lost
    if out.freed_at is not None:
        back = [t for t in (out.first_ack_after_free, ready.ready_again_at) if t is not None]
        report.recovery_seconds = max(back) - out.freed_at if len(back) == 2 else float("inf")
    report.figures.update(
        {
            "uploads": f"acknowledged {len(out.acknowledged)} "
            f"{dict(out.ack_phase)}, refused {dict(out.refused)}, shed {out.shed}",
            "disk": f"filled by uploads in {filled_in:.1f} s; {len(files)} files, "
            f"{len(rows)} rows, {len(orphans)} files without a row ({len(temporary)} "
            f"half-written), {len(missing)} rows without their file",
            "readyz": dict(sorted(ready.seen.items())),
        }
    )
    for label, items in (
        ("acknowledged uploads without their row", lost),
        ("rows naming a missing file", missing),
        ("files whose bytes differ from their row", changed),
        ("files without a row", orphans),
        ("rows of uploads never acknowledged", strays),
    ):
        if items:
            report.problems.append(f"{len(items)} {label}: {items[:3]}")
    if out.failures:
        report.problems.append(f"{len(out.failures)} unexpected answers: {out.failures[:3]}")
    for phase in ("full", "read-only"):
        if not any(k.startswith(f"{phase} STORAGE") for k in out.refused):
            report.problems.append(f"no upload was refused while the disk was {phase}")
        ok = sum(n for k, n in ready.seen.items() if k.startswith(f"{phase} ") and " 200 " in k)
        if ok:
            report.problems.append(f"/readyz said ready {ok} times while the disk was {phase}")
    if not out.ack_phase["freed"]:
        report.problems.append("no upload stored after the space returned")
    if report.recovery_seconds is None or report.recovery_seconds > 5:
        report.problems.append("not back within 5 s of the space returning")
