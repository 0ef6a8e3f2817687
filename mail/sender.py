"""Transports behind one small interface, and which of their failures are worth retrying.

`SmtpMailer` talks to a real server; `FileMailer` writes `.eml` files and, in development
only, logs the link in them, so a development server signs people in with no mail server
at all. A link is a live credential: nothing else ever logs one (production refuses to
start without SMTP_URL).
"""

from __future__ import annotations

import asyncio
import email.message
import logging
import re
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol
from urllib.parse import parse_qs, unquote, urlsplit

import aiosmtplib

from core.settings import Settings

logger = logging.getLogger("portico.mail")

_LINK = re.compile(r"https?://[^\s<>\"']+")
_TRUE = {"1", "true", "yes", "on"}


class Mailer(Protocol):
    async def send(self, message: email.message.EmailMessage) -> None: ...


class MailError(Exception):
    """A transport failure that says itself whether a retry can help."""


class TemporaryMailError(MailError):
    """Try again later: the server or the network may recover."""


class PermanentMailError(MailError):
    """Never try again: the same message would be refused the same way."""


class ServerUnreachable(TemporaryMailError):
    """The server (a text provider's API) could not be reached at all: an outage."""


def is_permanent(exc: BaseException) -> bool:
    """Whether retrying `exc` is pointless.

    Only refusals of this message or recipient are permanent (5xx to RCPT or DATA).
    Connection errors, timeouts and 4xx are temporary, and so are 5xx answers about our own
    credentials or sender address: those are configuration, fixed once for every email.
    """
    if isinstance(exc, MailError):
        return isinstance(exc, PermanentMailError)
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        return bool(exc.recipients) and all(_is_5xx(r.code) for r in exc.recipients)
    if isinstance(exc, aiosmtplib.SMTPRecipientRefused | aiosmtplib.SMTPDataError):
        return _is_5xx(exc.code)
    return False


def server_unreachable(exc: BaseException) -> bool:
    """Whether `exc` says the mail server is down or cut off (refused or dropped the
    connection, or answered 421: closing), not that it refused this message: a fault of no
    email in particular, so no email's attempts should count it."""
    if isinstance(exc, aiosmtplib.SMTPResponseException) and exc.code == 421:
        return True
    if isinstance(exc, ServerUnreachable):
        return True
    # aiosmtplib's connect errors (timeouts included) and lost connections are these too.
    return isinstance(exc, ConnectionError)


def _is_5xx(code: int) -> bool:
    return 500 <= code < 600


class SmtpMailer:
    """Sends through `smtp://user:pass@host:port` or `smtps://...` (`?starttls=1` upgrades)."""

    def __init__(self, url: str, *, timeout: float = 10) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError("SMTP_URL must look like smtp://user:pass@host:port or smtps://...")
        self.use_tls = parts.scheme == "smtps"
        self.hostname = parts.hostname
        self.port = parts.port or (465 if self.use_tls else 25)
        self.username = unquote(parts.username) if parts.username else None
        self._password = unquote(parts.password) if parts.password else None
        flag = parse_qs(parts.query).get("starttls", [""])[-1]
        self.start_tls = flag.strip().lower() in _TRUE
        self.timeout = timeout

    def __repr__(self) -> str:  # never the password
        return f"SmtpMailer({self.hostname}:{self.port}, tls={self.use_tls or self.start_tls})"

    async def send(self, message: email.message.EmailMessage) -> None:
        await aiosmtplib.send(
            message,
            hostname=self.hostname,
            port=self.port,
            username=self.username,
            password=self._password,
            use_tls=self.use_tls,
            start_tls=self.start_tls,
            timeout=self.timeout,
        )


class FileMailer:
    """Writes each message to `<directory>/<UTC time>-<outbox id>.eml`; logs its link only
    when `log_links` (development)."""

    def __init__(self, directory: Path | str, *, log_links: bool = False) -> None:
        self.directory = Path(directory)
        self.log_links = log_links

    async def send(self, message: email.message.EmailMessage) -> None:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
        path = self.directory / f"{stamp}-{_outbox_id(message)}.eml"
        await asyncio.to_thread(self._write, path, message.as_bytes())
        link = first_link(message) if self.log_links else None
        logger.info(
            "mail to %s: %s%s (%s)",
            message["To"],
            message["Subject"],
            f" {link}" if link else "",
            path,
        )

    def _write(self, path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def _outbox_id(message: email.message.EmailMessage) -> str:
    local = str(message.get("Message-ID", "")).strip().strip("<>").split("@", 1)[0]
    return re.sub(r"[^A-Za-z0-9._-]", "", local) or uuid.uuid4().hex


def first_link(message: email.message.EmailMessage) -> str | None:
    """The first http(s) link of the plain-text body, if any."""
    part = message.get_body(preferencelist=("plain",))
    if part is None:
        return None
    found = _LINK.search(part.get_content())
    return found.group(0) if found else None


def mailer_from_settings(settings: Settings) -> Mailer:
    """SMTP when SMTP_URL is set, otherwise files under MAIL_DIR (development logs links)."""
    if settings.smtp_url:
        return SmtpMailer(settings.smtp_url)
    return FileMailer(settings.mail_dir, log_links=settings.env == "development")
