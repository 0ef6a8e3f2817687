"""A customer's statement as a PDF (fpdf2): letterhead, the customer, the opening balance,
each entry with the balance after it, and the closing balance, drawn with the pieces of
invoices and estimates (pdf/bill.py)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from models.bill_documents import Parties
from models.currency import format_money
from pdf.bill import (
    amount_row,
    banner,
    brand,
    clean,
    customer_and_car,
    heading,
    letterhead,
    new_bill,
    table,
)


@dataclass(frozen=True, slots=True)
class StatementLine:
    day: date
    description: str
    amount: int
    balance: int


@dataclass(frozen=True, slots=True)
class StatementDocument:
    parties: Parties
    start: date
    end: date
    currency: str
    opening: int
    closing: int
    lines: Sequence[StatementLine]


def title(doc: StatementDocument) -> str:
    return f"Statement {doc.start.isoformat()} to {doc.end.isoformat()}"


def render_statement(doc: StatementDocument, *, compress: bool = True) -> bytes:
    """The statement as PDF bytes; `compress=False` leaves the page streams readable."""
    pdf = new_bill(title(doc), doc.parties.issuer.name, "Statement", compress=compress)
    colour = brand(doc.parties.issuer.brand_color)
    letterhead(pdf, doc.parties, colour, "Statement", [f"From {doc.start}", f"To {doc.end}"])
    customer_and_car(pdf, doc.parties, "Statement for")
    pdf.ln(2)
    amount_row(pdf, "Opening balance", doc.opening, doc.currency)
    heading(pdf, "Entries")
    rows = [("Date", "Description", "Amount", "Balance")]
    for line in doc.lines:
        rows.append(
            (
                line.day.isoformat(),
                clean(line.description),
                format_money(line.amount, doc.currency),
                format_money(line.balance, doc.currency),
            )
        )
    if not doc.lines:
        rows.append(("", "Nothing in this period", "", ""))
    table(pdf, (26, 88, 33, 33), ("LEFT", "LEFT", "RIGHT", "RIGHT"), rows)
    pdf.ln(3)
    banner(pdf, colour, "Closing balance", doc.closing, doc.currency)
    return bytes(pdf.output())
