"""A real `portico serve` process on a free loopback port, for tests that need the whole
server (uvicorn, its lifespan, signals, its own memory), and the `portico` commands that
prepare its database."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from typing import IO

import httpx

from tests.helpers import SIGN_IN
from tests.smtp import free_port

START_SECONDS = 30.0  # for a command, or for the server to answer /healthz


def portico(env: dict[str, str], *args: str) -> None:
    """Run one `portico` command to completion (migrate, create-staff ...)."""
    command = [sys.executable, "-m", "portico.cli", *args]
    subprocess.run(command, env=env, check=True, capture_output=True, timeout=START_SECONDS)


async def start_server(
    env: dict[str, str],
    *,
    stderr: int | IO[bytes] = subprocess.PIPE,
    stdout: int | IO[bytes] = subprocess.DEVNULL,
    args: tuple[str, ...] = (),
) -> tuple[asyncio.subprocess.Process, str]:
    """`portico serve` (one uvicorn process, so its pid is the server's) and its base URL,
    once it answers /healthz. A server that logs for long should write `stderr` to a file:
    a pipe nobody reads fills up and stops it. `args` go to `portico serve`; its access log
    goes to `stdout`."""
    port = free_port()
    server = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "portico.cli",
        "serve",
        "--port",
        str(port),
        *args,
        env=env,
        stdout=stdout,
        stderr=stderr,
    )
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + START_SECONDS
    async with httpx.AsyncClient(base_url=base_url, timeout=5) as http:
        while True:
            try:
                if (await http.get("/healthz")).status_code == 200:
                    return server, base_url
            except httpx.TransportError:
                pass
            if server.returncode is not None or time.monotonic() > deadline:
                await stop_server(server)
                raise AssertionError("the server did not start")
            await asyncio.sleep(0.1)


async def stop_server(server: asyncio.subprocess.Process) -> None:
    """Kill a server the test did not stop itself (a failed test must not leave one)."""
    if server.returncode is None:
        server.kill()
        await server.wait()


async def sign_in(http: httpx.AsyncClient, email: str, password: str) -> str:
    """A staff session token, signed in over HTTP."""
    body = {"query": SIGN_IN, "variables": {"input": {"email": email, "password": password}}}
    return (await http.post("/graphql", json=body)).json()["data"]["signIn"]["token"]
