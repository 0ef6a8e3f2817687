"""A customer's statement for a date range: what they were billed and what they paid, day
by day, with the balance carried along. The money rules of statements, in one place.

The ledger is the customer's billed invoices (not drafts, not void) in the organization's
currency, and what moved money on them:

  invoice issued   + its total                (on its issue date)
  credit note      - its total                (on its issue date)
  payment          - its amount, once received (on the day it was received)
  refund           + its amount, once it went through (on the day it was made)
  dispute lost     + the disputed amount      (on the day the payment last changed)

Dates are the organization's days. The opening balance is the sum of entries before
`start`, the closing balance the opening plus the entries from `start` to `end`. Credit the
customer used on an invoice moves money between their own invoices and is no entry. So the
closing balance on today is what the balance says they owe less their credit
(models/derived.py `customer_balance`: `owed - credit`), except that a payment beyond an
invoice's total, which the balance counts as no credit, lowers the statement's balance.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from domain.billing.codes import BillingCode
from domain.problems import Problem, Rejected
from models.bill_documents import BillTo, Issuer, Parties
from models.derived import NOT_BILLED
from models.enums import DisputeStatus, RefundStatus
from models.ledger import RECEIVED
from models.tables import credit_notes, invoices, payments, refunds

# The longest range a statement covers: about five years.
MAX_DAYS = 5 * 366


class EntryKind(StrEnum):
    INVOICE = "INVOICE"
    CREDIT_NOTE = "CREDIT_NOTE"
    PAYMENT = "PAYMENT"
    REFUND = "REFUND"
    DISPUTE_LOST = "DISPUTE_LOST"


# Within one day: what was billed first, then what took it off, then money back.
_ORDER = {kind: position for position, kind in enumerate(EntryKind)}


@dataclass(frozen=True, slots=True)
class Movement:
    """One movement of the ledger: positive adds to what the customer owes."""

    day: date
    kind: EntryKind
    amount: int
    number: int | None = None  # the invoice's or credit note's number
    invoice_number: int | None = None  # the invoice a payment, refund or credit note is on
    at: datetime | None = None  # for a stable order within a day


@dataclass(frozen=True, slots=True)
class Entry:
    movement: Movement
    balance: int  # after this entry


@dataclass(frozen=True, slots=True)
class Statement:
    start: date
    end: date
    currency: str
    opening: int
    closing: int
    entries: list[Entry]


def check_range(start: date, end: date) -> None:
    if start > end:
        raise Rejected(
            Problem("from", "The start comes after the end.", BillingCode.STATEMENT_RANGE)
        )
    if (end - start).days > MAX_DAYS:
        raise Rejected(
            Problem("to", "A statement covers at most five years.", BillingCode.STATEMENT_RANGE)
        )


def statement_of(movements: Iterable[Movement], start: date, end: date, currency: str) -> Statement:
    """The statement from `start` to `end` (both included); movements after `end` are left
    out."""
    check_range(start, end)
    ordered = sorted(
        movements, key=lambda m: (m.day, _ORDER[m.kind], m.at or datetime.min, m.number or 0)
    )
    opening = sum(m.amount for m in ordered if m.day < start)
    balance = opening
    entries = []
    for movement in ordered:
        if start <= movement.day <= end:
            balance += movement.amount
            entries.append(Entry(movement, balance))
    return Statement(start, end, currency, opening, balance, entries)


def ledger_queries(
    organization_id: uuid.UUID,
    customer_id: uuid.UUID,
    currency: str,
    end: date,
    visible: Sequence[sa.ColumnElement[bool]] = (),
) -> dict[str, sa.Select[Any]]:
    """The statements that load a customer's ledger up to `end` (a fixed number, whatever
    the rows): invoices, credit notes, payments, refunds. `visible` narrows the invoices to
    those the viewer may see (their scope's conditions on the invoices table)."""
    billed = (
        invoices.c.organization_id == organization_id,
        invoices.c.customer_id == customer_id,
        invoices.c.currency == currency,
        invoices.c.status.not_in(NOT_BILLED),
        invoices.c.issue_date.is_not(None),
        *visible,
    )
    on_invoice = sa.select(invoices.c.id).where(*billed)
    received = (payments.c.invoice_id.in_(on_invoice), payments.c.status.in_(RECEIVED))
    return {
        "invoices": sa.select(
            invoices.c.id,
            invoices.c.number,
            invoices.c.issue_date,
            invoices.c.total,
            invoices.c.created_at,
        ).where(*billed, invoices.c.issue_date <= end),
        "credit_notes": sa.select(
            credit_notes.c.number,
            credit_notes.c.issue_date,
            credit_notes.c.total,
            credit_notes.c.invoice_id,
            credit_notes.c.created_at,
        ).where(
            credit_notes.c.organization_id == organization_id,
            credit_notes.c.invoice_id.in_(on_invoice),
            credit_notes.c.issue_date <= end,
        ),
        "payments": sa.select(
            payments.c.id,
            payments.c.invoice_id,
            payments.c.amount,
            payments.c.received_at,
            payments.c.created_at,
            payments.c.updated_at,
            payments.c.disputed_amount,
            payments.c.dispute_status,
        ).where(payments.c.organization_id == organization_id, *received),
        "refunds": sa.select(
            refunds.c.amount,
            refunds.c.created_at,
            payments.c.invoice_id,
            refunds.c.id,
        )
        .join(payments, payments.c.id == refunds.c.payment_id)
        .where(
            refunds.c.organization_id == organization_id,
            refunds.c.status == RefundStatus.SUCCEEDED,
            *received,
        ),
    }


def describe(m: Movement) -> str:
    """A movement for people, with its number and the invoice it is on."""
    on = f" on invoice {m.invoice_number}" if m.invoice_number is not None else ""
    return {
        EntryKind.INVOICE: f"Invoice {m.number}",
        EntryKind.CREDIT_NOTE: f"Credit note {m.number}{on}",
        EntryKind.PAYMENT: f"Payment{on}",
        EntryKind.REFUND: f"Refund{on}",
        EntryKind.DISPUTE_LOST: f"Card dispute lost{on}",
    }[m.kind]


def statement_parties(org: Any, customer: Any) -> Parties:
    """Who issues the statement and whom it is for, from their rows."""
    town = " ".join(p for p in (customer["postal_code"], customer["city"]) if p)
    address = (
        customer["address_line1"],
        customer["address_line2"],
        town,
        customer["region"],
        customer["country"],
    )
    return Parties(
        issuer=Issuer(
            name=org["name"],
            address=org["address"],
            email=org["email"],
            phone=org["phone"],
            brand_color=org["brand_color"],
        ),
        bill_to=BillTo(
            name=customer["name"],
            company=customer["company"],
            email=customer["email"],
            address_lines=tuple(p for p in address if p),
        ),
        car=None,
    )


def range_detail(start: date, end: date) -> str:
    """The range as a statement link names it."""
    return f"{start.isoformat()}/{end.isoformat()}"


def movements_of(rows: dict[str, Sequence[Any]], timezone: str) -> list[Movement]:
    """The ledger's movements from the rows `ledger_queries` loaded, on the organization's
    days (`timezone`)."""
    zone = ZoneInfo(timezone)

    def day(at: datetime) -> date:
        return at.astimezone(zone).date()

    numbers = {row["id"]: row["number"] for row in rows["invoices"]}
    found = [
        Movement(
            r["issue_date"],
            EntryKind.INVOICE,
            r["total"],
            r["number"],
            r["number"],
            r["created_at"],
        )
        for r in rows["invoices"]
    ]
    found += [
        Movement(
            r["issue_date"],
            EntryKind.CREDIT_NOTE,
            -r["total"],
            r["number"],
            numbers.get(r["invoice_id"]),
            r["created_at"],
        )
        for r in rows["credit_notes"]
    ]
    for r in rows["payments"]:
        received = r["received_at"] or r["created_at"]
        found.append(
            Movement(
                day(received),
                EntryKind.PAYMENT,
                -r["amount"],
                None,
                numbers.get(r["invoice_id"]),
                received,
            )
        )
        if r["dispute_status"] == DisputeStatus.LOST and r["disputed_amount"] > 0:
            found.append(
                Movement(
                    day(r["updated_at"]),
                    EntryKind.DISPUTE_LOST,
                    r["disputed_amount"],
                    None,
                    numbers.get(r["invoice_id"]),
                    r["updated_at"],
                )
            )
    found += [
        Movement(
            day(r["created_at"]),
            EntryKind.REFUND,
            r["amount"],
            None,
            numbers.get(r["invoice_id"]),
            r["created_at"],
        )
        for r in rows["refunds"]
    ]
    return found
