"""Load drivers: `wrk` with a generated Lua script, or a Python asyncio fallback.

Both send POST requests with a JSON body and a bearer token, rotating through a list of
(token, body) items, over a fixed number of connections for a fixed time (closed loop), and
report throughput and latency percentiles. The Python driver also sends at a fixed rate
(`rate`, open loop), which the write mix uses for its mutations.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

REQUEST_TIMEOUT_S = 10
Item = tuple[str, str]  # (bearer token, JSON body)
WRK_INSTALL_HINT = "wrk is not installed: `apt-get install -y wrk` (falling back to Python)"


@dataclass
class LoadResult:
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p90_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    errors: dict[str, int] = field(default_factory=dict)
    driver: str = "wrk"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Load:
    """What to send: a URL, the items to rotate through, and how hard."""

    url: str
    items: list[Item]
    connections: int
    seconds: float
    rate: float | None = None  # requests/s, open loop (Python driver); None: closed loop
    offset: int = 0  # the item to start from (open loop: successive runs go on through the list)


def wrk_available() -> bool:
    return shutil.which("wrk") is not None


def run(load: Load, driver: str) -> LoadResult:
    if driver == "wrk" and load.rate is None:
        return run_wrk(load)
    return asyncio.run(run_python(load))


# --- wrk ------------------------------------------------------------------------------


def _lua_string(text: str) -> str:
    level = 0
    while f"]{'=' * level}]" in text:
        level += 1
    return f"[{'=' * level}[{text}]{'=' * level}]"


def lua_script(load: Load, path: str) -> str:
    items = ",\n".join(
        f"  {{{_lua_string('Bearer ' + token)}, {_lua_string(body)}}}" for token, body in load.items
    )
    return f"""
local items = {{
{items}
}}
local path = {_lua_string(path)}
local counter = 0
local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
end

function init(args)
  -- Threads start at different items so that they do not send the same ones in step.
  counter = ((id or 0) * 7919) % #items
end

function request()
  counter = counter % #items + 1
  local item = items[counter]
  return wrk.format("POST", path,
    {{["Content-Type"] = "application/json", ["Authorization"] = item[1]}}, item[2])
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_RESULT {{"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,'
    .. '"status":%d,"timeout":%d,"p50":%d,"p90":%d,"p95":%d,"p99":%d,"max":%d}}\\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(95),
    latency:percentile(99), latency.max))
end
"""


def run_wrk(load: Load) -> LoadResult:
    base, _, path = load.url.partition("://")
    host, _, rest = path.partition("/")
    url, path = f"{base}://{host}", "/" + rest
    threads = max(1, min(load.connections, (os.cpu_count() or 2) // 2))
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(lua_script(load, path))
    try:
        command = [
            "wrk",
            f"-t{threads}",
            f"-c{load.connections}",
            f"-d{max(1, round(load.seconds))}s",
            f"--timeout={REQUEST_TIMEOUT_S}s",
            "-s",
            script.name,
            url,
        ]
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=load.seconds + 60, check=False
        )
    finally:
        Path(script.name).unlink(missing_ok=True)
    line = next((x for x in done.stdout.splitlines() if x.startswith("WRK_RESULT ")), None)
    if line is None:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stdout}\n{done.stderr}")
    raw = json.loads(line.removeprefix("WRK_RESULT "))
    seconds = raw["duration_us"] / 1e6
    errors = {k: raw[k] for k in ("connect", "read", "write", "status", "timeout") if raw[k]}
    return LoadResult(
        requests=raw["requests"],
        seconds=seconds,
        rps=raw["requests"] / seconds if seconds else 0.0,
        p50_ms=raw["p50"] / 1000,
        p90_ms=raw["p90"] / 1000,
        p95_ms=raw["p95"] / 1000,
        p99_ms=raw["p99"] / 1000,
        max_ms=raw["max"] / 1000,
        errors=errors,
        driver="wrk",
    )


# --- Python fallback ------------------------------------------------------------------


def percentile(sorted_values: list[float], pct: float) -> float:
    if not sorted_values:
        return 0.0
    index = min(len(sorted_values) - 1, max(0, round(pct / 100 * len(sorted_values)) - 1))
    return sorted_values[index]


async def run_python(load: Load) -> LoadResult:
    """Load from this process (slower than wrk, and sharing the CPU with it): closed loop over
    `connections`, or open loop at `rate` requests per second (each request sent on schedule
    whether or not earlier ones have been answered, over at most `connections`)."""
    latencies: list[float] = []
    errors: dict[str, int] = {}
    limits = httpx.Limits(max_connections=load.connections, max_keepalive_connections=None)
    timeout = httpx.Timeout(REQUEST_TIMEOUT_S, pool=REQUEST_TIMEOUT_S)
    started = time.monotonic()
    deadline = started + load.seconds

    async def send(client: httpx.AsyncClient, counter: int) -> None:
        token, body = load.items[counter % len(load.items)]
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
        sent = time.perf_counter()
        try:
            response = await client.post(load.url, content=body, headers=headers)
            if response.status_code >= 400:
                errors["status"] = errors.get("status", 0) + 1
        except httpx.TimeoutException:
            errors["timeout"] = errors.get("timeout", 0) + 1
        except httpx.HTTPError:
            errors["read"] = errors.get("read", 0) + 1
        latencies.append((time.perf_counter() - sent) * 1000)

    async def closed_loop(client: httpx.AsyncClient, offset: int) -> None:
        counter = offset
        while time.monotonic() < deadline:
            await send(client, counter)
            counter += 1

    async def open_loop(client: httpx.AsyncClient, rate: float) -> None:
        pending = []
        for counter in range(int(load.seconds * rate)):
            await asyncio.sleep(max(0.0, started + counter / rate - time.monotonic()))
            pending.append(asyncio.create_task(send(client, load.offset + counter)))
        await asyncio.gather(*pending)

    async with httpx.AsyncClient(limits=limits, timeout=timeout) as client:
        if load.rate:
            await open_loop(client, load.rate)
        else:
            await asyncio.gather(*(closed_loop(client, i * 7919) for i in range(load.connections)))
    seconds = time.monotonic() - started
    if load.rate:  # the schedule's length, not when the last answer came
        seconds = max(seconds, load.seconds)
    latencies.sort()
    return LoadResult(
        requests=len(latencies),
        seconds=seconds,
        rps=len(latencies) / seconds if seconds else 0.0,
        p50_ms=percentile(latencies, 50),
        p90_ms=percentile(latencies, 90),
        p95_ms=percentile(latencies, 95),
        p99_ms=percentile(latencies, 99),
        max_ms=latencies[-1] if latencies else 0.0,
        errors=errors,
        driver="python",
    )
