"""A lean HTTP/1.1 client for many concurrent connections from one process.

httpx spends several times the server's own CPU per request; with hundreds of clients on
the same two cores the load generator, not the server, would set the figures. This one
keeps one connection per client, writes the request in one piece and reads the answer by
its Content-Length.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from typing import Any

import orjson


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return orjson.loads(self.body)


class Connection:
    """One keep-alive connection; reopened after the server closes it or it breaks."""

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def post(
        self, path: str, payload: object, headers: dict[str, str] | None = None
    ) -> Answer:
        body = orjson.dumps(payload)
        lines = [
            f"POST {path} HTTP/1.1",
            f"Host: {self.host}:{self.port}",
            "Content-Type: application/json",
            f"Content-Length: {len(body)}",
            *(f"{name}: {value}" for name, value in (headers or {}).items()),
        ]
        request = ("\r\n".join(lines) + "\r\n\r\n").encode() + body
        try:
            return await self._exchange(request)
        except (ConnectionError, asyncio.IncompleteReadError):
            await self.close()
            raise

    async def _exchange(self, request: bytes) -> Answer:
        if self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
        assert self._reader is not None
        self._writer.write(request)
        head = await self._reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        headers: dict[str, str] = {}
        for line in header_lines:
            if line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        body = await self._reader.readexactly(int(headers.get("content-length", "0")))
        if headers.get("connection", "").lower() == "close":
            await self.close()
        return Answer(int(status_line.split()[1]), headers, body)

    async def close(self) -> None:
        if self._writer is not None:
            writer, self._writer, self._reader = self._writer, None, None
            writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await writer.wait_closed()


def split_url(base_url: str) -> tuple[str, int]:
    """("127.0.0.1", 8000) from "http://127.0.0.1:8000"."""
    host, _, port = base_url.removeprefix("http://").rstrip("/").partition(":")
    return host, int(port or 80)
