"""The organization's collection settings: its reminder schedule, late-fee rule and monthly
statements (domain/billing/monthly_statements.py). Staff
with the OWNER or ADMIN role change them; every change is audited, and bad input changes
nothing."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, fields
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from core.errors import Forbidden
from domain.audit import audit
from domain.collections.codes import CollectionCode
from domain.collections.rules import FeeRule, format_offsets, parse_offsets, schedule_problem
from domain.edits import KEEP, Edit
from domain.problems import Problem, Rejected
from domain.rows import organization_of
from domain.work import Work
from models import CollectionSettings
from models.enums import LateFeeKind, LateFeeTarget, StaffRole
from models.tables import collection_settings
from models.writes import apply

MAX_FEE_AMOUNT = 10**9  # minor units: far above any real late fee
MAX_FEE_DAYS = 365
MAX_STATEMENT_DAY = 28  # every month has it


def fee_rule(settings: CollectionSettings) -> FeeRule:
    return FeeRule(
        kind=settings.late_fee_kind,
        amount=settings.late_fee_amount,
        bp=settings.late_fee_bp,
        after_days=settings.late_fee_after_days,
        every_days=settings.late_fee_every_days,
        compounds=settings.late_fee_compounds,
    )


async def settings_of(session: AsyncSession, org_id: uuid.UUID) -> CollectionSettings:
    """The organization's settings, or the defaults where it has set none (not added)."""
    found = await session.get(CollectionSettings, org_id)
    return found or CollectionSettings(organization_id=org_id)


async def read_settings(conn: AsyncConnection, org_id: uuid.UUID) -> CollectionSettings:
    """`settings_of` over a connection, for reads outside a write."""
    found = await conn.execute(
        sa.select(collection_settings).where(collection_settings.c.organization_id == org_id)
    )
    row = found.mappings().first()
    if row is None:
        return CollectionSettings(organization_id=org_id)
    return CollectionSettings.model_validate(dict(row))


@dataclass(frozen=True)
class CollectionOptions:
    """Settings to change; KEEP leaves one as it is."""

    reminders_enabled: Edit[bool] = KEEP
    reminder_offsets: Edit[list[int]] = KEEP  # days from the due date
    late_fee_kind: Edit[LateFeeKind] = KEEP
    late_fee_amount: Edit[int] = KEEP
    late_fee_bp: Edit[int] = KEEP
    late_fee_after_days: Edit[int] = KEEP
    late_fee_every_days: Edit[int | None] = KEEP
    late_fee_compounds: Edit[bool] = KEEP
    late_fee_target: Edit[LateFeeTarget] = KEEP
    monthly_statements: Edit[bool] = KEEP
    statement_day: Edit[int] = KEEP  # of the month, 1-28

    def values(self) -> dict[str, Any]:
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        chosen = {name: value for name, value in values.items() if value is not KEEP}
        if "reminder_offsets" in chosen:
            chosen["reminder_offsets"] = format_offsets(chosen["reminder_offsets"])
        return chosen


def _problems(options: CollectionOptions) -> list[Problem]:
    bad_fee = CollectionCode.BAD_LATE_FEE
    found: list[Problem] = []
    offsets = options.reminder_offsets
    if offsets is not KEEP:
        why = schedule_problem(offsets)
        if why:
            found.append(Problem("reminderOffsets", why, CollectionCode.BAD_SCHEDULE))
    amount = options.late_fee_amount
    if amount is not KEEP and not 0 <= amount <= MAX_FEE_AMOUNT:
        message = f"Use 0 to {MAX_FEE_AMOUNT} in minor units."
        found.append(Problem("lateFeeAmount", message, bad_fee))
    bp = options.late_fee_bp
    if bp is not KEEP and not 0 <= bp <= 10_000:
        found.append(Problem("lateFeePercent", "Use 0 to 100 percent.", bad_fee))
    after = options.late_fee_after_days
    if after is not KEEP and not 1 <= after <= MAX_FEE_DAYS:
        found.append(Problem("lateFeeAfterDays", f"Use 1 to {MAX_FEE_DAYS} days.", bad_fee))
    every = options.late_fee_every_days
    if every is not KEEP and every is not None and not 1 <= every <= MAX_FEE_DAYS:
        message = f"Use 1 to {MAX_FEE_DAYS} days, or none for once per invoice."
        found.append(Problem("lateFeeEveryDays", message, bad_fee))
    day = options.statement_day
    if day is not KEEP and not 1 <= day <= MAX_STATEMENT_DAY:
        message = f"Use a day of the month from 1 to {MAX_STATEMENT_DAY}."
        found.append(Problem("statementDay", message, CollectionCode.BAD_STATEMENT_DAY))
    return found


def _complete(settings: CollectionSettings) -> list[Problem]:
    """A fee that is on must charge something."""
    bad_fee = CollectionCode.BAD_LATE_FEE
    if settings.late_fee_kind is LateFeeKind.FIXED and settings.late_fee_amount <= 0:
        return [Problem("lateFeeAmount", "Give the fixed fee's amount.", bad_fee)]
    if settings.late_fee_kind is LateFeeKind.PERCENT and settings.late_fee_bp <= 0:
        return [Problem("lateFeePercent", "Give the fee's percentage.", bad_fee)]
    return []


async def update_collection_settings(work: Work, options: CollectionOptions) -> uuid.UUID:
    """Change the settings (OWNER or ADMIN); the organization's id."""
    if not work.viewer.is_staff or work.viewer.role not in (StaffRole.OWNER, StaffRole.ADMIN):
        raise Forbidden()
    org_id = organization_of(work)
    problems = _problems(options)
    if problems:
        raise Rejected(*problems)
    values = options.values()
    async with work.write() as session:
        settings = await session.get(CollectionSettings, org_id, with_for_update=True)
        if settings is None:
            settings = CollectionSettings(organization_id=org_id)
            session.add(settings)
        before = {name: getattr(settings, name) for name in values}
        apply(settings, values)
        problems = _complete(settings)
        if problems:
            raise Rejected(*problems)  # rolls back, the new row too
        changed = {k: [str(before[k]), str(v)] for k, v in values.items() if before[k] != v}
        if changed:
            session.add(audit(work, "settings.collections_updated", data={"changed": changed}))
    return org_id


def offsets_of(settings: CollectionSettings) -> list[int]:
    return parse_offsets(settings.reminder_offsets) if settings.reminders_enabled else []
