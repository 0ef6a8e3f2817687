"""An invoice as a PDF (fpdf2): letterhead, bill-to, line items, totals, payments, notes.

What it draws like an estimate (font, letterhead, customer, lines, totals) is pdf/bill.py.
"""

from __future__ import annotations

from fpdf import FPDF

from models.bill_documents import Parties
from models.currency import format_money
from models.enums import InvoiceStatus, PaymentMethod
from models.invoice_documents import InvoiceDocument
from pdf.bill import (
    FAMILY,
    FONTS,
    amount_row,
    banner,
    brand,
    clean,
    customer_and_car,
    heading,
    letterhead,
    line_items,
    new_bill,
    notes,
    table,
    totals,
)

__all__ = ["FAMILY", "FONTS", "clean", "render_invoice"]

STATUS_TEXT = {
    InvoiceStatus.DRAFT: "Draft",
    InvoiceStatus.OPEN: "Open",
    InvoiceStatus.PARTIALLY_PAID: "Partially paid",
    InvoiceStatus.PAID: "Paid",
    InvoiceStatus.VOID: "Void",
    InvoiceStatus.CREDITED: "Credited",
}
METHOD_TEXT = {
    PaymentMethod.CARD_ONLINE: "Card (online)",
    PaymentMethod.CASH: "Cash",
    PaymentMethod.CHEQUE: "Cheque",
    PaymentMethod.BANK_TRANSFER: "Bank transfer",
}


def _title(doc: InvoiceDocument) -> str:
    return f"Invoice #{doc.number}" if doc.number is not None else "Invoice (draft)"


def render_invoice(doc: InvoiceDocument, *, compress: bool = True) -> bytes:
    """The invoice as PDF bytes; `compress=False` leaves the page streams readable."""
    pdf = new_bill(_title(doc), doc.issuer.name, "Invoice", compress=compress)
    parties = Parties(doc.issuer, doc.bill_to, doc.car)
    colour = brand(doc.issuer.brand_color)
    facts = [f"Status: {STATUS_TEXT.get(doc.status, str(doc.status))}"]
    if doc.issue_date is not None:
        facts.append(f"Issued: {doc.issue_date.isoformat()}")
    if doc.due_date is not None:
        facts.append(f"Due: {doc.due_date.isoformat()}")
    letterhead(pdf, parties, colour, _title(doc), facts)
    customer_and_car(pdf, parties, "Bill to")
    line_items(pdf, doc.lines, doc.currency)
    totals(pdf, doc.subtotal, doc.tax_total, doc.total, doc.currency)
    _payments(pdf, doc)
    pdf.ln(3)
    amount_row(pdf, "Amount paid", doc.amount_paid, doc.currency)
    if doc.credited_amount:
        amount_row(pdf, "Credit notes", doc.credited_amount, doc.currency)
    if doc.credit_applied:
        amount_row(pdf, "Credit used", doc.credit_applied, doc.currency)
    banner(pdf, colour, "Amount due", doc.amount_due, doc.currency)
    notes(pdf, doc.notes)
    return bytes(pdf.output())


def _payments(pdf: FPDF, doc: InvoiceDocument) -> None:
    if not doc.payments:
        return
    heading(pdf, "Payments received")
    rows = [("Date", "Method", "Amount", "Refunded")]
    for payment in doc.payments:
        rows.append(
            (
                payment.received_on.isoformat() if payment.received_on else "-",
                METHOD_TEXT.get(payment.method, str(payment.method)),
                format_money(payment.amount, doc.currency),
                format_money(payment.refunded_amount, doc.currency)
                if payment.refunded_amount
                else "-",
            )
        )
    table(pdf, (40, 60, 40, 40), ("LEFT", "LEFT", "RIGHT", "RIGHT"), rows)
