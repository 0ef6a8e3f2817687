"""A portal viewer's own choice of texts (SMS): which kinds they also get by text.

Every kind is off until the person turns it on here; staff cannot (a text needs the
person's own consent). Turning one on needs a valid phone number on their record (E.164,
as `core/phones.py` stores it) and a Portico that sends texts. The choice is bound to the
number they have now (`sms_number`): texts stop if the number changes, until they choose
again. A STOP from that number (domain/messaging/opt_outs.py) stops them whatever is chosen
here; START lifts it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from auth.viewer import Viewer
from core.errors import Forbidden
from core.phones import to_e164
from domain.audit import audit
from domain.edits import KEEP, Edit
from domain.portal.codes import ProfileCode
from domain.problems import Problem, Rejected
from domain.work import Actor, Work
from mail.texts import TEXT_PREFERENCE
from models import Contact, Customer
from models.enums import TextKind
from models.tables import contacts, customers, sms_opt_outs
from models.types import utcnow

NO_PHONE = Problem(
    "phone",
    "Add a valid mobile number to your profile before choosing texts.",
    ProfileCode.NO_PHONE,
)
UNAVAILABLE = Problem(None, "This business does not send texts.", ProfileCode.TEXTS_UNAVAILABLE)


@dataclass(frozen=True)
class TextChoices:
    """Kinds of text to turn on or off; KEEP leaves one as it is."""

    sign_in: Edit[bool] = KEEP
    pay_links: Edit[bool] = KEEP
    appointment_reminders: Edit[bool] = KEEP
    car_ready: Edit[bool] = KEEP

    def columns(self) -> dict[str, bool]:
        kinds = {
            "sign_in": TextKind.SIGN_IN,
            "pay_links": TextKind.PAY_LINKS,
            "appointment_reminders": TextKind.APPOINTMENT_REMINDERS,
            "car_ready": TextKind.CAR_READY,
        }
        chosen = {f.name: getattr(self, f.name) for f in fields(self)}
        return {TEXT_PREFERENCE[kinds[k]]: v for k, v in chosen.items() if v is not KEEP}


@dataclass(frozen=True, slots=True)
class TextSettings:
    """Where a person stands with texts."""

    sign_in: bool
    pay_links: bool
    appointment_reminders: bool
    car_ready: bool
    number: str | None  # where they go: the number chosen, while it is still the person's
    opted_out: bool  # that number answered STOP to this business


def my_text_settings_query(viewer: Viewer) -> sa.Select[Any]:
    """One row: the portal viewer's text settings (`text_settings_of` reads it)."""
    table = contacts if viewer.contact_id else customers
    row_id = viewer.contact_id or viewer.customer_id
    stopped = sa.exists().where(
        sms_opt_outs.c.organization_id == table.c.organization_id,
        sms_opt_outs.c.phone == table.c.sms_number,
    )
    return sa.select(
        table.c.sms_sign_in,
        table.c.sms_pay_links,
        table.c.sms_reminders,
        table.c.sms_car_ready,
        table.c.sms_number,
        table.c.phone,
        stopped.label("sms_opted_out"),
    ).where(table.c.id == row_id, table.c.organization_id == viewer.organization_id)


def text_settings_of(row: Mapping[str, Any]) -> TextSettings:
    number = row["sms_number"] if row["sms_number"] and row["sms_number"] == row["phone"] else None
    return TextSettings(
        sign_in=bool(row["sms_sign_in"]),
        pay_links=bool(row["sms_pay_links"]),
        appointment_reminders=bool(row["sms_reminders"]),
        car_ready=bool(row["sms_car_ready"]),
        number=number,
        opted_out=number is not None and bool(row["sms_opted_out"]),
    )


async def update_text_preferences(work: Work, choices: TextChoices) -> TextSettings:
    """Turn kinds of text on or off for the signed-in portal viewer; their settings."""
    wanted = choices.columns()
    turning_on = any(wanted.values())
    if turning_on and not work.settings.texts_enabled:
        raise Rejected(UNAVAILABLE)
    async with work.write() as session:
        row = await _own_row(session, work)
        if turning_on and (not row.phone or to_e164(row.phone) != row.phone):
            raise Rejected(NO_PHONE)
        changed = {}
        for column, value in wanted.items():
            if getattr(row, column) != value:
                changed[column] = value
                setattr(row, column, value)
        any_on = any(getattr(row, column) for column in TEXT_PREFERENCE.values())
        number = row.phone if any_on and turning_on else (row.sms_number if any_on else None)
        if number != row.sms_number:
            changed["sms_number"] = number is not None
            row.sms_number = number
        if changed:
            row.updated_at = utcnow()
            session.add(audit(work, "portal.text_preferences_updated", data={"changed": changed}))
        await session.flush()
        found = await session.execute(my_text_settings_query(work.viewer))
        return text_settings_of(found.mappings().one())


async def _own_row(session: AsyncSession, actor: Actor) -> Customer | Contact:
    """The signed-in viewer's own record, locked for this transaction."""
    viewer = actor.viewer
    row: Customer | Contact | None
    if viewer.contact_id:
        row = await session.scalar(
            sa.select(Contact)
            .where(
                contacts.c.id == viewer.contact_id,
                contacts.c.organization_id == viewer.organization_id,
            )
            .with_for_update()
        )
    else:
        row = await session.scalar(
            sa.select(Customer)
            .where(
                customers.c.id == viewer.customer_id,
                customers.c.organization_id == viewer.organization_id,
            )
            .with_for_update()
        )
    if row is None:
        raise Forbidden()
    return row
