"""Webhook posts over https (core/outbound.py) against a real TLS receiver on loopback: the
certificate is verified against the trusted roots and the name it was called by, so a
receiver whose certificate nobody vouches for, or one issued for another name, gets
nothing; one that is trusted gets the body, byte for byte."""

from __future__ import annotations

import asyncio
import ssl
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from core.outbound import post

BODY = b'{"type":"customer.created"}'


@dataclass
class TlsReceiver:
    port: int
    certificate: Path
    bodies: list[bytes] = field(default_factory=list)


def _certificate(directory: Path, name: str) -> tuple[Path, Path]:
    """A self-signed certificate for `name` (an IP address or a DNS name), and its key."""
    cert, key = directory / f"{name}.pem", directory / f"{name}.key"
    alt = f"IP:{name}" if name[0].isdigit() else f"DNS:{name}"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-subj", f"/CN={name}", "-addext", f"subjectAltName={alt}",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


async def _serve(cert: Path, key: Path) -> tuple[asyncio.Server, TlsReceiver]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    receiver = TlsReceiver(port=0, certificate=cert)

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            length = next(
                int(line.split(b":", 1)[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            )
            receiver.bodies.append(await reader.readexactly(length))
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
            await writer.drain()
        except (ssl.SSLError, ConnectionError, asyncio.IncompleteReadError):
            pass  # a client that refused our certificate hangs up during the handshake
        finally:
            writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0, ssl=context)
    receiver.port = server.sockets[0].getsockname()[1]
    return server, receiver


@pytest.fixture
async def receiver(tmp_path: Path) -> AsyncIterator[TlsReceiver]:
    server, found = await _serve(*_certificate(tmp_path, "127.0.0.1"))
    async with server:
        yield found


async def _post(url: str) -> int:
    answer = await post(url, BODY, {}, seconds=5, max_bytes=1024, allow_loopback=True)
    return answer.status


async def test_a_trusted_certificate_gets_the_body(
    receiver: TlsReceiver, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("SSL_CERT_FILE", str(receiver.certificate))  # trusted, as a CA would be
    assert await _post(f"https://127.0.0.1:{receiver.port}/hook") == 200
    assert receiver.bodies == [BODY]


async def test_a_certificate_nobody_vouches_for_gets_nothing(receiver: TlsReceiver):
    with pytest.raises(ssl.SSLCertVerificationError):
        await _post(f"https://127.0.0.1:{receiver.port}/hook")
    assert receiver.bodies == []


async def test_a_certificate_for_another_name_gets_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """Trusted, but issued for another name than the one called: refused."""
    cert, key = _certificate(tmp_path, "hooks.example.com")
    server, receiver = await _serve(cert, key)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    async with server:
        with pytest.raises(ssl.SSLCertVerificationError):
            await _post(f"https://127.0.0.1:{receiver.port}/hook")
    assert receiver.bodies == []
