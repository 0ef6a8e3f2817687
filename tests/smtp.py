"""A real SMTP server for tests: aiosmtpd on loopback, capturing what it accepts.

The server can refuse recipients with 451 (try later) or 550 (never), and can be stopped
and started again on the same port to play an outage.
"""

from __future__ import annotations

import email
import email.message
import email.policy
import socket
import threading
from typing import Any

from aiosmtpd.controller import Controller


def free_port() -> int:
    """A port nobody listens on now (aiosmtpd's Controller cannot take port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class CapturingHandler:
    """Keeps every accepted message; `refuse` set to 451 or 550 answers RCPT with it."""

    def __init__(self) -> None:
        self.refuse: int | None = None
        self._lock = threading.Lock()
        self._messages: list[email.message.EmailMessage] = []

    @property
    def messages(self) -> list[email.message.EmailMessage]:
        with self._lock:
            return list(self._messages)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        if self.refuse == 451:
            return "451 4.3.0 Mailbox temporarily unavailable, try again later"
        if self.refuse == 550:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, email.message.EmailMessage)
        with self._lock:
            self._messages.append(message)
        return "250 Message accepted for delivery"


class _Controller(Controller):
    """aiosmtpd's controller, knowing its open connections: stopping drops them as a server
    that dies does (its clients' sockets are reset), instead of leaving them open and silent
    with the stopped loop, which no real outage does."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.transports: set[Any] = set()

    def factory(self) -> Any:
        smtp = super().factory()
        connection_made = smtp.connection_made

        def tracked(transport: Any) -> None:
            self.transports.add(transport)
            connection_made(transport)

        smtp.connection_made = tracked  # type: ignore[method-assign]
        return smtp

    def drop_connections(self) -> None:
        dropped = threading.Event()

        def abort() -> None:
            for transport in list(self.transports):
                transport.abort()
            dropped.set()

        self.loop.call_soon_threadsafe(abort)
        dropped.wait(2)


class SmtpServer:
    """One aiosmtpd server in its own thread, on a port that stays the same across restarts."""

    def __init__(self) -> None:
        self.host = "127.0.0.1"
        self.port = free_port()
        self.handler = CapturingHandler()
        self._controller: _Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp://{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._controller is not None

    @property
    def messages(self) -> list[email.message.EmailMessage]:
        return self.handler.messages

    def start(self) -> None:
        if self._controller is None:
            controller = _Controller(
                self.handler, hostname=self.host, port=self.port, ready_timeout=5
            )
            controller.start()
            self._controller = controller

    def stop(self) -> None:
        if self._controller is not None:
            controller, self._controller = self._controller, None
            controller.drop_connections()
            controller.stop()
