"""A PostgreSQL server of the test's own, in a temporary directory on a free loopback port,
that the test may stop and start at will (the shared one on 5432 is never touched)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.smtp import free_port

BIN = Path(os.environ.get("TEST_POSTGRES_BIN", "/usr/lib/postgresql/15/bin"))
TIMEOUT = 30  # seconds for initdb, start and stop


def available() -> bool:
    return (BIN / "initdb").exists() and (BIN / "pg_ctl").exists()


class PrivatePostgres:
    """initdb + pg_ctl, trust authentication, loopback only."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.data = directory / "data"
        self.log = directory / "server.log"
        self.port = free_port()
        # PostgreSQL refuses to run as root; there it runs as the `postgres` account.
        self._user = "postgres" if os.geteuid() == 0 else None

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        command = [str(BIN / args[0]), *args[1:]]
        if self._user:
            command = ["runuser", "-u", self._user, "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT)
        if done.returncode != 0:
            raise RuntimeError(f"{args[0]} failed: {done.stderr or done.stdout}")

    def init(self) -> None:
        if self._user:
            entry = pwd.getpwnam(self._user)
            shutil.chown(self.directory, entry.pw_uid, entry.pw_gid)
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "--no-sync")

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.directory} -c fsync=off"
        self._run("pg_ctl", "start", "-D", str(self.data), "-l", str(self.log), "-w", "-o", options)

    def stop(self, mode: str = "immediate") -> None:
        self._run("pg_ctl", "stop", "-D", str(self.data), "-m", mode, "-w")

    def server_log(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


@contextlib.asynccontextmanager
async def running(prefix: str) -> AsyncIterator[PrivatePostgres]:
    """A private server for one test, stopped after it. Without the server binaries the
    test is skipped, and under CI=true it fails instead."""
    if not available():
        message = f"no PostgreSQL server binaries at {BIN} (set TEST_POSTGRES_BIN)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{message}; CI=true requires them", pytrace=False)
        pytest.skip(message)
    # Directly under /tmp: the server's account must reach it (pytest's tmp_path is private).
    with tempfile.TemporaryDirectory(prefix=prefix) as directory:
        server = PrivatePostgres(Path(directory))
        await asyncio.to_thread(server.init)
        await asyncio.to_thread(server.start)
        try:
            yield server
        finally:
            with contextlib.suppress(RuntimeError):  # already stopped
                await asyncio.to_thread(server.stop)
