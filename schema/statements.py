"""Customer statements: the ledger of a date range with its opening and closing balance."""

from __future__ import annotations

import uuid
from datetime import date

import strawberry
from strawberry import Info

from auth.downloads import STATEMENT_PDF
from domain.billing.statements import Entry, EntryKind, Statement, describe, range_detail
from resolvers.access_log import link
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
            description=describe(m),
            number=m.number,
            invoice_number=m.invoice_number,
            amount=Money(amount=m.amount, currency=currency),
            balance=Money(amount=entry.balance, currency=currency),
        )


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
    customer_id: strawberry.Private[uuid.UUID]

    @strawberry.field(
        description="A link to this statement as a PDF, valid for a few minutes; it checks "
        "the viewer again when opened. Recorded in the access log (as a view of the "
        "customer) when a portal viewer asks for it or opens it."
    )
    async def pdf_url(self, info: Info) -> str:
        return await link(info, STATEMENT_PDF, self.customer_id, range_detail(self.start, self.end))

    @classmethod
    def of(cls, statement: Statement, customer_id: uuid.UUID) -> CustomerStatement:
        currency = statement.currency
        return cls(
            start=statement.start,
            end=statement.end,
            currency=currency,
            opening_balance=Money(amount=statement.opening, currency=currency),
            closing_balance=Money(amount=statement.closing, currency=currency),
            entries=[StatementEntry.of(e, currency) for e in statement.entries],
            customer_id=customer_id,
        )
