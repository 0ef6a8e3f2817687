"""Texts (SMS): the transport beside the email one, and who gets which text.

A text is an outbox row of channel SMS (`mail/outbox.py` `enqueue_text`), delivered by the
same worker as email (`mail/worker.py`) through a `TextSender`: `TwilioTexter` speaks
Twilio's Messages API over HTTP; `FileTexter` writes each text to a file under
MAIL_DIR/texts (and, in development only, logs it with its link), as mail does without
SMTP. Without Twilio settings in production no text is queued at all
(`Settings.texts_enabled`).

Who gets a text: a customer or contact who turned that kind on in the portal (all are off
by default), whose `phone` is still the number they chose it for (`sms_number`), and whose
number has not answered STOP to this organization (`sms_opt_outs`). Texts come in addition
to the emails of the same news, which preferences for email decide as before.
"""

from __future__ import annotations

import asyncio
import logging
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import httpx
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession

from core.settings import Settings
from mail.outbox import enqueue_text
from mail.recipients import scope_allows
from mail.sender import PermanentMailError, ServerUnreachable, TemporaryMailError
from models.base import dialect_of
from models.enums import MailKind, TextKind
from models.tables import contacts, customers, sms_opt_outs
from models.types import utcnow

logger = logging.getLogger("portico.mail")

# The preference column (on customers and contacts) that says a person wants each text.
TEXT_PREFERENCE: dict[TextKind, str] = {
    TextKind.SIGN_IN: "sms_sign_in",
    TextKind.PAY_LINKS: "sms_pay_links",
    TextKind.APPOINTMENT_REMINDERS: "sms_reminders",
    TextKind.CAR_READY: "sms_car_ready",
}
# A text is at most this long; longer ones are cut (Twilio takes 1600 characters).
MAX_TEXT = 1600
_LINK = re.compile(r"https?://\S+")


@dataclass(frozen=True, slots=True)
class Text:
    """One text to send: `to` an E.164 number; `reference` the outbox row's id."""

    to: str
    body: str
    reference: str


class TextSender(Protocol):
    async def send(self, text: Text) -> str | None:
        """Send `text`; the provider's id for it, if it gives one. Raises
        `TemporaryTextError`, `PermanentTextError` or `TextProviderUnreachable`."""
        ...


class TemporaryTextError(TemporaryMailError):
    """The provider failed (5xx, 429, our own credentials): try again later."""


class PermanentTextError(PermanentMailError):
    """The provider refused this text (an invalid or unsubscribed number): never again."""


class RecipientOptedOut(PermanentTextError):
    """The provider refused because the number answered STOP to our sender (Twilio's error
    21610): Portico records the opt-out too, so nothing more is queued for it."""


UNSUBSCRIBED_RECIPIENT = 21610  # Twilio: "Attempt to send to unsubscribed recipient"


async def opt_out(session: AsyncSession, orgs: list[uuid.UUID], phone: str) -> list[uuid.UUID]:
    """Record that `phone` wants no texts from each of `orgs`; those that had not yet."""
    insert = postgresql.insert if dialect_of(session) == "postgresql" else sqlite.insert
    added = await session.execute(
        insert(sms_opt_outs)
        .values(
            [{"organization_id": org, "phone": phone, "opted_out_at": utcnow()} for org in orgs]
        )
        .on_conflict_do_nothing(
            index_elements=[sms_opt_outs.c.organization_id, sms_opt_outs.c.phone]
        )
        .returning(sms_opt_outs.c.organization_id)
    )
    return list(added.scalars())


class TextProviderUnreachable(ServerUnreachable):
    """The provider could not be reached at all: an outage, no text's fault."""


class TwilioTexter:
    """POST {base}/2010-04-01/Accounts/{sid}/Messages.json, form-encoded, basic auth."""

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        *,
        from_number: str | None = None,
        messaging_service_sid: str | None = None,
        base_url: str = "https://api.twilio.com",
        timeout: float = 10.0,
    ) -> None:
        if not (from_number or messaging_service_sid):
            raise ValueError("a Twilio sender needs TWILIO_FROM or TWILIO_MESSAGING_SERVICE_SID")
        self.account_sid = account_sid
        self._auth_token = auth_token
        self.from_number = from_number
        self.messaging_service_sid = messaging_service_sid
        self.url = f"{base_url.rstrip('/')}/2010-04-01/Accounts/{account_sid}/Messages.json"
        self.timeout = timeout

    def __repr__(self) -> str:  # never the token
        return f"TwilioTexter({self.url})"

    async def send(self, text: Text) -> str | None:
        form = {"To": text.to, "Body": text.body[:MAX_TEXT]}
        if self.messaging_service_sid:
            form["MessagingServiceSid"] = self.messaging_service_sid
        else:
            form["From"] = self.from_number or ""
        try:
            async with httpx.AsyncClient(timeout=self.timeout, follow_redirects=False) as client:
                answer = await client.post(
                    self.url, data=form, auth=(self.account_sid, self._auth_token)
                )
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise TextProviderUnreachable(f"Twilio cannot be reached: {exc}") from None
        except httpx.HTTPError as exc:  # the connection broke or timed out mid-request
            raise TemporaryTextError(f"Twilio did not answer: {type(exc).__name__}") from None
        return _outcome(answer)


def _outcome(answer: httpx.Response) -> str | None:
    body = _json(answer)
    if answer.is_success:
        sid = body.get("sid")
        return str(sid)[:64] if sid else None
    why = f"Twilio {answer.status_code}"
    if body.get("code") is not None:
        why += f" (error {body['code']})"
    if body.get("message"):
        why += f": {body['message']}"
    status = answer.status_code
    # 401/403 are our own credentials and 429 our own pace, fixed once for every text.
    if status >= 500 or status in (401, 403, 408, 429):
        raise TemporaryTextError(why)
    if body.get("code") == UNSUBSCRIBED_RECIPIENT:
        raise RecipientOptedOut(why)
    raise PermanentTextError(why)


def _json(answer: httpx.Response) -> dict[str, Any]:
    try:
        body = answer.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


class FileTexter:
    """Writes each text to `<directory>/<UTC time>-<reference>.txt`; logs it (with its
    link) only when `log_links` (development)."""

    def __init__(self, directory: Path | str, *, log_links: bool = False) -> None:
        self.directory = Path(directory)
        self.log_links = log_links

    async def send(self, text: Text) -> str | None:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
        reference = re.sub(r"[^A-Za-z0-9._-]", "", text.reference) or uuid.uuid4().hex
        path = self.directory / f"{stamp}-{reference}.txt"
        await asyncio.to_thread(self._write, path, f"To: {text.to}\n\n{text.body}\n")
        link = _LINK.search(text.body) if self.log_links else None
        logger.info("text to %s%s (%s)", text.to, f" {link.group(0)}" if link else "", path)
        return None

    def _write(self, path: Path, data: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(data, encoding="utf-8")


def texter_from_settings(settings: Settings) -> TextSender:
    """Twilio when TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN are set, else files under
    MAIL_DIR/texts (development logs their links)."""
    if settings.twilio_account_sid and settings.twilio_auth_token:
        return TwilioTexter(
            settings.twilio_account_sid,
            settings.twilio_auth_token,
            from_number=settings.twilio_from,
            messaging_service_sid=settings.twilio_messaging_service_sid,
            base_url=settings.twilio_base_url,
            timeout=settings.twilio_timeout_seconds,
        )
    return FileTexter(settings.mail_dir / "texts", log_links=settings.env == "development")


@dataclass(frozen=True, slots=True)
class TextRecipient:
    name: str
    phone: str


def _wanting(table: sa.Table, kind: TextKind) -> sa.ColumnElement[bool]:
    """Rows of `table` (customers or contacts) that get a text of `kind` now."""
    stopped = sa.exists().where(
        sms_opt_outs.c.organization_id == table.c.organization_id,
        sms_opt_outs.c.phone == table.c.sms_number,
    )
    return sa.and_(
        table.c[TEXT_PREFERENCE[kind]].is_(True),
        table.c.archived_at.is_(None),
        table.c.sms_number.is_not(None),
        table.c.sms_number == table.c.phone,
        ~stopped,
    )


async def text_recipients(
    session: AsyncSession,
    customer_id: uuid.UUID,
    kind: TextKind,
    about: MailKind,
    *,
    car_id: uuid.UUID | None = None,
) -> list[TextRecipient]:
    """The customer and its contacts who get a text of `kind` about news of kind `about`
    (whose portal scope decides which contacts may hear of it, as for email: a driver hears
    of their own car, not of the bills), each number once."""
    own = sa.select(customers.c.name, customers.c.sms_number, sa.literal(0).label("rank")).where(
        customers.c.id == customer_id, _wanting(customers, kind)
    )
    others = sa.select(contacts.c.name, contacts.c.sms_number, sa.literal(1).label("rank")).where(
        contacts.c.customer_id == customer_id,
        _wanting(contacts, kind),
        scope_allows(about, car_id),
    )
    both = sa.union_all(own, others).subquery()
    found = await session.execute(
        sa.select(both.c.name, both.c.sms_number).order_by(both.c.rank, both.c.name)
    )
    return _once(found.all())


async def text_addressee(
    session: AsyncSession, customer_id: uuid.UUID, contact_id: uuid.UUID | None, kind: TextKind
) -> TextRecipient | None:
    """The one person a text of `kind` answers (a sign-in link), if they get it."""
    table = customers if contact_id is None else contacts
    found = await session.execute(
        sa.select(table.c.name, table.c.sms_number).where(
            table.c.id == (customer_id if contact_id is None else contact_id),
            _wanting(table, kind),
        )
    )
    people = _once(found.all())
    return people[0] if people else None


def _once(rows: Sequence[Row[Any, Any]]) -> list[TextRecipient]:
    people: list[TextRecipient] = []
    seen: set[str] = set()
    for name, number in rows:
        if number not in seen:
            seen.add(number)
            people.append(TextRecipient(name=name, phone=number))
    return people


async def text_people(
    session: AsyncSession,
    settings: Settings,
    organization_id: uuid.UUID,
    people: Sequence[TextRecipient],
    about: MailKind,
    label: str,
    body: str,
    *,
    magic_link_id: uuid.UUID | None = None,
) -> int:
    """Queue `body` to each of `people` (chosen with `text_recipients` or
    `text_addressee`), in the caller's transaction; how many. None without a way to send
    texts (production without Twilio)."""
    if not settings.texts_enabled:
        return 0
    for person in people:
        await enqueue_text(
            session,
            kind=about,
            to=person.phone,
            label=label,
            text=f"{body}\nReply STOP to stop these texts.",
            organization_id=organization_id,
            magic_link_id=magic_link_id,
        )
    return len(people)
