"""Invoice mutations from the API: the input checked and its IDs decoded, the domain's
action called (domain/billing/invoices.py), its answer or refusal handed to the payload."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from strawberry import Info

from core.ids import decode_id_of
from domain.billing import invoices
from resolvers.bills import currency_of, discount_of, lines_of, with_car
from resolvers.inputs import kept
from resolvers.outcome import mutation_outcome
from resolvers.validation import Checks

if TYPE_CHECKING:  # annotations only: resolvers do not import the schema
    from schema.mutations.billing import (
        CreateInvoiceInput,
        InvoiceFields,
        UpdateInvoiceInput,
    )


def _details(checks: Checks, data: InvoiceFields) -> invoices.InvoiceDetails:
    notes = checks.text("notes", data.notes, 5000)
    internal_notes = checks.text("internalNotes", data.internal_notes, 10000)
    discount = discount_of(checks, data)
    lines = lines_of(checks, data, optional_allowed=False)
    checks.done()
    return invoices.InvoiceDetails(
        due_date=kept(data.due_date),
        notes=kept(notes),
        internal_notes=kept(internal_notes),
        lines=lines,
        discount=discount,
    )


@mutation_outcome
async def create_invoice(info: Info, data: CreateInvoiceInput) -> uuid.UUID:
    details = _details(Checks(creating=True), data)
    currency = currency_of(data)
    customer_id = decode_id_of("Customer", data.customer_id)
    details = with_car(details, data)
    return await invoices.create_invoice(info.context, customer_id, details, currency)


@mutation_outcome
async def update_invoice(info: Info, data: UpdateInvoiceInput) -> uuid.UUID:
    details = _details(Checks(creating=False), data)
    invoice_id = decode_id_of("Invoice", data.id)
    details = with_car(details, data)
    return await invoices.update_invoice(info.context, invoice_id, details)


@mutation_outcome
async def send_invoice(info: Info, gid: str) -> uuid.UUID:
    invoice_id = decode_id_of("Invoice", gid)
    return await invoices.send_invoice(info.context, invoice_id)


@mutation_outcome
async def void_invoice(info: Info, gid: str, reason: str | None) -> uuid.UUID:
    checks = Checks()
    cleaned = checks.text("reason", reason, 500)
    checks.done()
    invoice_id = decode_id_of("Invoice", gid)
    return await invoices.void_invoice(info.context, invoice_id, cleaned)
