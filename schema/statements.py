"""Customer statements: the ledger of a date range with its opening and closing balance."""

from __future__ import annotations

from datetime import date

import strawberry

from domain.billing.statements import Entry, EntryKind, Statement
from schema.common import Money

strawberry.enum(
    EntryKind,
    description="What moved the balance: an invoice issued or a refund adds to what is "
    "owed; a payment or a credit note takes off it; a lost card dispute adds back.",
)


@strawberry.type(description="One line of a statement.")
class StatementEntry:
    date: date = strawberry.field(description="The day, in the organization's time zone.")
    kind: EntryKind = strawberry.field(description="What it is.")
    description: str = strawberry.field(description="What it is, for people, with its number.")
    number: int | None = strawberry.field(
        description="The invoice's or credit note's number; null for payments and refunds."
    )
    invoice_number: int | None = strawberry.field(
        description="The invoice it is on (for an invoice, its own number)."
    )
    amount: Money = strawberry.field(
        description="Positive adds to what the customer owes, negative takes off it."
    )
    balance: Money = strawberry.field(description="The balance after this entry.")

    @classmethod
    def of(cls, entry: Entry, currency: str) -> StatementEntry:
        m = entry.movement
        return cls(
            date=m.day,
            kind=m.kind,
            description=describe(entry),
            number=m.number,
            invoice_number=m.invoice_number,
            amount=Money(amount=m.amount, currency=currency),
            balance=Money(amount=entry.balance, currency=currency),
        )


def describe(entry: Entry) -> str:
    m = entry.movement
    on = f" on invoice {m.invoice_number}" if m.invoice_number is not None else ""
    return {
        EntryKind.INVOICE: f"Invoice {m.number}",
        EntryKind.CREDIT_NOTE: f"Credit note {m.number}{on}",
        EntryKind.PAYMENT: f"Payment{on}",
        EntryKind.REFUND: f"Refund{on}",
        EntryKind.DISPUTE_LOST: f"Card dispute lost{on}",
    }[m.kind]


@strawberry.type(
    description="A customer's statement for a date range, in the organization's currency "
    "(invoices in another currency are left out, as in the balance): the balance before "
    "it, each invoice, credit note, payment and refund of the range in date order, and the "
    "balance after. Only issued invoices count (not drafts, not void)."
)
class CustomerStatement:
    start: date = strawberry.field(name="from", description="The first day covered.")
    end: date = strawberry.field(name="to", description="The last day covered.")
    currency: str = strawberry.field(description="ISO 4217 currency code of every amount.")
    opening_balance: Money = strawberry.field(
        description="What the customer owed before `from` (negative: held for them)."
    )
    closing_balance: Money = strawberry.field(
        description="What the customer owed at the end of `to`: the opening balance plus the "
        "entries. On today it is the balance's `owed` less its `credit`."
    )
    entries: list[StatementEntry] = strawberry.field(
        description="The movements of the range, in date order."
    )

    @classmethod
    def of(cls, statement: Statement) -> CustomerStatement:
        currency = statement.currency
        return cls(
            start=statement.start,
            end=statement.end,
            currency=currency,
            opening_balance=Money(amount=statement.opening, currency=currency),
            closing_balance=Money(amount=statement.closing, currency=currency),
            entries=[StatementEntry.of(e, currency) for e in statement.entries],
        )
