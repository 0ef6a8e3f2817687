"""Every process of `portico serve --workers 2` logs in Portico's format, INFO included:
`LEVEL logger [request id]: message`, the request id on lines made inside a request."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.served import START_SECONDS, portico
from tests.smtp import free_port

LINE = re.compile(r"^(DEBUG|INFO|WARNING|ERROR|CRITICAL) [\w.]+ \[[^\]\s]+\]: ")
REDEEM = """
mutation R($input: LinkTokenInput!) { redeemMagicLink(input: $input) { outcome } }
"""


async def _answering(base_url: str, server: asyncio.subprocess.Process) -> None:
    deadline = time.monotonic() + START_SECONDS
    async with httpx.AsyncClient(base_url=base_url, timeout=5) as http:
        while True:
            try:
                if (await http.get("/healthz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            assert server.returncode is None and time.monotonic() < deadline, "no server"
            await asyncio.sleep(0.1)


async def test_every_worker_process_logs_in_one_format_with_info_and_request_ids(
    tmp_path: Path,
):
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'portico.db'}",
        "STORAGE_DIR": str(tmp_path / "storage"),
        "MAIL_DIR": str(tmp_path / "mail"),
        "RUN_WORKER_IN_SERVER": "false",
        "REQUESTS_PER_MINUTE_PER_CLIENT": "0",
    }
    portico(env, "migrate")
    port = free_port()
    log_path = tmp_path / "server.log"
    with log_path.open("wb") as log_file:
        server = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "portico.cli",
            "serve",
            "--port",
            str(port),
            "--workers",
            "2",
            "--access-log",
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log_file,
        )
        try:
            base_url = f"http://127.0.0.1:{port}"
            await _answering(base_url, server)
            ids = [f"logtest-{n}" for n in range(30)]
            for rid in ids:  # fresh connections, so both workers take some
                async with httpx.AsyncClient(base_url=base_url, timeout=10) as http:
                    body = {"query": REDEEM, "variables": {"input": {"token": "no-such-link"}}}
                    answer = await http.post("/graphql", json=body, headers={"X-Request-Id": rid})
                    assert answer.status_code == 200, answer.text
            server.send_signal(signal.SIGTERM)
            async with asyncio.timeout(START_SECONDS):
                await server.wait()
        finally:
            if server.returncode is None:
                server.kill()
                await server.wait()
    lines = [line for line in log_path.read_text().splitlines() if line.strip()]
    assert lines
    assert [line for line in lines if not LINE.match(line)] == []
    workers = {
        m.group(1) for line in lines if (m := re.search(r"Started server process \[(\d+)\]", line))
    }
    assert len(workers) == 2, lines
    # A portico INFO line written inside a request, with that request's id, and uvicorn's
    # access lines with theirs.
    refused = [line for line in lines if "portal sign-in refused: unknown link" in line]
    assert {re.search(r"\[(logtest-\d+)\]", line).group(1) for line in refused} == set(ids)
    assert all(line.startswith("INFO portico.") for line in refused)
    access = [line for line in lines if line.startswith("INFO uvicorn.access [logtest-")]
    assert len(access) == len(ids), lines
