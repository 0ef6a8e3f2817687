"""Collections from the API: an invoice's collection state for staff (batched: one
statement per relation for every invoice of a response), the organization's settings, and
pausing a customer's collection (domain/collections/)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import RowMapping
from strawberry import Info

from core.ids import decode_id_of
from domain.collections import pause, settings
from domain.collections.rules import chased_steps, next_step, step_date
from domain.collections.settings import CollectionOptions, offsets_of
from domain.payments.autopay import charged_by_autopay
from models import CollectionSettings
from models import relations as rel
from models.derived import NOT_BILLED
from models.tables import collection_settings, customers, invoices, organizations
from resolvers.inputs import kept
from resolvers.outcome import mutation_outcome
from resolvers.validation import Checks, given

if TYPE_CHECKING:  # annotations only: resolvers do not import the schema
    from schema.collections import CollectionSettingsInput, CustomerCollectionInput


@dataclass(frozen=True, slots=True)
class CollectionState:
    """What staff see of an invoice's collection."""

    reminders: list[RowMapping]
    late_fees: list[RowMapping]
    paused: bool
    next_step: int | None
    next_date: date | None


async def organization_settings(info: Info, org_id: uuid.UUID) -> CollectionSettings:
    """The organization's settings (the defaults where none are set), once per request."""

    async def batch(keys: list[uuid.UUID]) -> list[CollectionSettings]:
        rows = await info.context.reader.rows(
            sa.select(collection_settings).where(
                collection_settings.c.organization_id.in_(set(keys))
            )
        )
        found = {row["organization_id"]: row for row in rows}
        return [
            CollectionSettings.model_validate(dict(found[k]))
            if k in found
            else CollectionSettings(organization_id=k)
            for k in keys
        ]

    return await info.context.loaders.batched("collection_settings", batch).load(org_id)


async def charged_by_autopay_of(info: Info, invoice_id: uuid.UUID) -> bool:
    """Whether autopay charges the invoice on its due date, batched over a response."""

    async def batch(keys: list[uuid.UUID]) -> list[bool]:
        rows = await info.context.reader.rows(
            sa.select(invoices.c.id).where(invoices.c.id.in_(set(keys)), charged_by_autopay())
        )
        charged = {row["id"] for row in rows}
        return [key in charged for key in keys]

    return await info.context.loaders.batched("charged_by_autopay", batch).load(invoice_id)


async def invoice_collection(info: Info, invoice: Any) -> CollectionState:
    loaders = info.context.loaders
    reminders = await loaders.children(rel.INVOICE_REMINDERS).load(invoice["id"])
    fees = await loaders.children(rel.INVOICE_LATE_FEES).load(invoice["id"])
    customer = await loaders.get(customers, invoice["customer_id"])
    org = await loaders.get(organizations, invoice["organization_id"])
    paused = bool(customer and customer["collection_paused_at"] is not None)
    upcoming: int | None = None
    due = invoice["due_date"]
    chased = invoice["amount_due"] > 0 and invoice["status"] not in NOT_BILLED
    if org is not None and due is not None and chased and not paused:
        options = await organization_settings(info, invoice["organization_id"])
        today = info.context.clock.today(org["timezone"])
        sent = {row["step"] for row in reminders}
        steps = chased_steps(offsets_of(options), await charged_by_autopay_of(info, invoice["id"]))
        upcoming = next_step(steps, due, today, sent)
    return CollectionState(
        reminders=list(reminders),
        late_fees=list(fees),
        paused=paused,
        next_step=upcoming,
        next_date=step_date(due, upcoming) if upcoming is not None and due else None,
    )


@mutation_outcome
async def update_settings(info: Info, data: CollectionSettingsInput) -> uuid.UUID:
    checks = Checks(creating=False)
    every = data.late_fee_every_days
    options = CollectionOptions(
        reminders_enabled=kept(given(data.reminders_enabled)),
        reminder_offsets=kept(given(data.reminder_offsets)),
        late_fee_kind=kept(given(data.late_fee_kind)),
        late_fee_amount=kept(given(data.late_fee_amount)),
        late_fee_bp=kept(checks.percent("lateFeePercent", given(data.late_fee_percent))),
        late_fee_after_days=kept(given(data.late_fee_after_days)),
        late_fee_every_days=kept(every),  # null: once per invoice
        late_fee_compounds=kept(given(data.late_fee_compounds)),
        late_fee_target=kept(given(data.late_fee_target)),
        monthly_statements=kept(given(data.monthly_statements)),
        statement_day=kept(given(data.statement_day)),
    )
    checks.done()
    return await settings.update_collection_settings(info.context, options)


@mutation_outcome
async def set_paused(info: Info, data: CustomerCollectionInput, paused: bool) -> uuid.UUID:
    customer_id = decode_id_of("Customer", data.customer_id)
    checks = Checks(creating=False)
    reason = checks.text("reason", data.reason, 500)
    checks.done()
    return await pause.set_collection_paused(info.context, customer_id, paused, reason)
