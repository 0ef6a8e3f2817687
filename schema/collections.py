"""Collections for staff: an invoice's collection state, the organization's reminder
schedule and late-fee settings, and pausing a customer's collection. Portal viewers see
none of it (every field is staff only)."""

from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Annotated

import strawberry
from strawberry import UNSET, Info

from auth.permissions import staff_managers_only, staff_only
from core.ids import encode_id
from domain.collections.codes import CollectionCode
from domain.collections.rules import parse_offsets
from models import CollectionSettings as SettingsRow
from resolvers import collections as actions
from resolvers.collections import CollectionState
from resolvers.outcome import Outcome
from schema.common import INPUT, Money, UserError
from schema.customers import Customer
from schema.enums import LateFeeKind, LateFeeTarget
from schema.error_codes import code_field, error_codes, user_errors
from schema.payloads import payload

CollectionErrorCode = error_codes(
    "CollectionErrorCode", CollectionCode, "Why a collections mutation was refused."
)


@strawberry.type(description="A problem with a collections mutation's input.")
class CollectionError(UserError):
    code: Enum = code_field(CollectionErrorCode)


@strawberry.type(description="A payment reminder sent for an invoice.")
class SentReminder:
    step: int = strawberry.field(
        description="The schedule's step: days from the due date (negative: before it)."
    )
    step_date: date = strawberry.field(description="The day the step fell on (local).")
    sent_at: datetime = strawberry.field(description="When its emails were queued (UTC).")
    recipients: int = strawberry.field(
        description="Emails queued: the people who get invoice emails (0: nobody wants them)."
    )


@strawberry.type(description="A late fee charged on an overdue invoice.")
class ChargedLateFee:
    period: int = strawberry.field(description="1 for the first fee, 2 for the next period...")
    amount: Money = strawberry.field(description="The fee.")
    base: Money = strawberry.field(description="The overdue amount it was worked out on.")
    charged_on: date = strawberry.field(description="The day it was charged (local).")
    fee_invoice_id: strawberry.ID | None = strawberry.field(
        description="The invoice that bills it (its own, or the customer's next); null while "
        "it waits for the next invoice."
    )
    fee_line_id: strawberry.ID | None = strawberry.field(
        description="The line of that invoice that bills it."
    )


@strawberry.type(description="Where an invoice stands in collection (staff only).")
class InvoiceCollection:
    reminders_sent: list[SentReminder] = strawberry.field(description="Reminders sent, by step.")
    next_step: int | None = strawberry.field(
        description="The next reminder's step (days from the due date); null when none will "
        "be sent (nothing due, paused, schedule done)."
    )
    next_step_date: date | None = strawberry.field(
        description="The day the next reminder goes (local), or today if it is due now."
    )
    late_fees: list[ChargedLateFee] = strawberry.field(description="Late fees charged, by period.")
    paused: bool = strawberry.field(description="The customer's collection is paused.")

    @classmethod
    def of(cls, state: CollectionState) -> "InvoiceCollection":
        def gid(type_name: str, value: object) -> strawberry.ID | None:
            return strawberry.ID(encode_id(type_name, value)) if value else None  # type: ignore[arg-type]  # a UUID when set

        return cls(
            reminders_sent=[
                SentReminder(
                    step=r["step"],
                    step_date=r["step_date"],
                    sent_at=r["sent_at"],
                    recipients=r["recipients"],
                )
                for r in state.reminders
            ],
            next_step=state.next_step,
            next_step_date=state.next_date,
            late_fees=[
                ChargedLateFee(
                    period=f["period"],
                    amount=Money(amount=f["amount"], currency=f["currency"]),
                    base=Money(amount=f["base"], currency=f["currency"]),
                    charged_on=f["charged_on"],
                    fee_invoice_id=gid("Invoice", f["fee_invoice_id"]),
                    fee_line_id=gid("InvoiceLine", f["fee_line_id"]),
                )
                for f in state.late_fees
            ],
            paused=state.paused,
        )


@strawberry.type(
    description="How the organization chases unpaid invoices, and its monthly statements."
)
class CollectionSettings:
    reminders_enabled: bool = strawberry.field(description="Payment reminders are sent.")
    reminder_offsets: list[int] = strawberry.field(
        description="The reminder schedule: days from the due date, ascending (-3: three "
        "days before it; 0: on it; 7: a week after)."
    )
    late_fee_kind: LateFeeKind = strawberry.field(description="No fee, fixed, or percentage.")
    late_fee_amount: int = strawberry.field(description="A FIXED fee, in minor units.")
    late_fee_percent: Decimal = strawberry.field(
        description="A PERCENT fee, of the overdue amount."
    )
    late_fee_after_days: int = strawberry.field(description="Days overdue before the first fee.")
    late_fee_every_days: int | None = strawberry.field(
        description="A further fee every this many days; null: once per invoice."
    )
    late_fee_compounds: bool = strawberry.field(
        description="Earlier late fees count in the overdue amount (off: never compounding)."
    )
    late_fee_target: LateFeeTarget = strawberry.field(
        description="On an invoice of its own, or on the customer's next invoice."
    )
    monthly_statements: bool = strawberry.field(
        description="Each customer with activity or a balance is emailed the statement of the "
        "previous calendar month, on the statement day."
    )
    statement_day: int = strawberry.field(
        description="The day of the month (1 to 28, in the organization's time zone) monthly "
        "statements go."
    )

    @classmethod
    def of(cls, row: SettingsRow) -> "CollectionSettings":
        return cls(
            reminders_enabled=row.reminders_enabled,
            reminder_offsets=parse_offsets(row.reminder_offsets),
            late_fee_kind=row.late_fee_kind,
            late_fee_amount=row.late_fee_amount,
            late_fee_percent=Decimal(row.late_fee_bp) / 100,
            late_fee_after_days=row.late_fee_after_days,
            late_fee_every_days=row.late_fee_every_days,
            late_fee_compounds=row.late_fee_compounds,
            late_fee_target=row.late_fee_target,
            monthly_statements=row.monthly_statements,
            statement_day=row.statement_day,
        )


@strawberry.input(description="Collection settings to change; omitted ones keep their value.")
class CollectionSettingsInput:
    reminders_enabled: bool | None = strawberry.field(
        default=UNSET, description="Send payment reminders."
    )
    reminder_offsets: list[int] | None = strawberry.field(
        default=UNSET,
        description="The schedule: up to 10 distinct days from the due date, -365 to 365.",
    )
    late_fee_kind: LateFeeKind | None = strawberry.field(
        default=UNSET, description="No fee, fixed, or percentage."
    )
    late_fee_amount: int | None = strawberry.field(
        default=UNSET, description="A FIXED fee, in minor units (0 to 1 000 000 000)."
    )
    late_fee_percent: Decimal | None = strawberry.field(
        default=UNSET, description="A PERCENT fee: 0 to 100 with up to 2 decimals."
    )
    late_fee_after_days: int | None = strawberry.field(
        default=UNSET, description="Days overdue before the first fee, 1 to 365."
    )
    late_fee_every_days: int | None = strawberry.field(
        default=UNSET,
        description="A further fee every this many days (1 to 365); null for once per invoice.",
    )
    late_fee_compounds: bool | None = strawberry.field(
        default=UNSET, description="Earlier late fees count in the overdue amount."
    )
    late_fee_target: LateFeeTarget | None = strawberry.field(
        default=UNSET, description="On an invoice of its own, or on the customer's next one."
    )
    monthly_statements: bool | None = strawberry.field(
        default=UNSET,
        description="Email each customer with activity or a balance last month's statement.",
    )
    statement_day: int | None = strawberry.field(
        default=UNSET,
        description="The day of the month monthly statements go, 1 to 28 (organization's zone).",
    )


@strawberry.type(description="The collection settings after the change.")
class CollectionSettingsPayload:
    collection_settings: CollectionSettings | None = strawberry.field(
        description="The settings; null when refused."
    )
    user_errors: list[CollectionError] = strawberry.field(description="Why nothing changed.")


@strawberry.input(description="Pause or resume collection for a customer.")
class CustomerCollectionInput:
    customer_id: strawberry.ID = strawberry.field(description="The customer's global ID.")
    reason: str | None = strawberry.field(
        default=None, description="Why (kept in the audit log), up to 500 characters."
    )


@strawberry.type(description="The customer after collection was paused or resumed.")
class CustomerCollectionPayload:
    customer: Customer | None = strawberry.field(description="The customer; null when refused.")
    user_errors: list[CollectionError] = strawberry.field(description="Why nothing changed.")


async def _customer_payload(info: Info, outcome: Outcome) -> CustomerCollectionPayload:
    return await payload(
        info,
        CustomerCollectionPayload,
        outcome,
        type_name="Customer",
        object_field="customer",
        error_cls=CollectionError,
        codes=CollectionErrorCode,
    )


async def current_settings(info: Info) -> CollectionSettings:
    org_id = info.context.viewer.organization_id
    return CollectionSettings.of(await actions.organization_settings(info, org_id))


@strawberry.type
class CollectionMutations:
    @strawberry.mutation(
        description="Change the reminder schedule, late-fee and monthly statement settings "
        "(OWNER or ADMIN; audited).",
        extensions=staff_managers_only(),
    )
    async def update_collection_settings(
        self, info: Info, input: Annotated[CollectionSettingsInput, INPUT]
    ) -> CollectionSettingsPayload:
        outcome = await actions.update_settings(info, input)
        if outcome.problems:
            errors = user_errors(outcome.problems, CollectionError, CollectionErrorCode)
            return CollectionSettingsPayload(collection_settings=None, user_errors=errors)
        info.context.loaders.clear()
        return CollectionSettingsPayload(
            collection_settings=await current_settings(info), user_errors=[]
        )

    @strawberry.mutation(
        description="Pause collection for a customer: no reminders and no late fees until it "
        "is resumed (audited).",
        extensions=staff_only(),
    )
    async def pause_collection(
        self, info: Info, input: Annotated[CustomerCollectionInput, INPUT]
    ) -> CustomerCollectionPayload:
        return await _customer_payload(info, await actions.set_paused(info, input, True))

    @strawberry.mutation(
        description="Resume collection for a customer: the reminder and late fee due today "
        "follow, never the ones missed while paused (audited).",
        extensions=staff_only(),
    )
    async def resume_collection(
        self, info: Info, input: Annotated[CustomerCollectionInput, INPUT]
    ) -> CustomerCollectionPayload:
        return await _customer_payload(info, await actions.set_paused(info, input, False))
