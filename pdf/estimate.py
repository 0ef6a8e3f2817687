"""An estimate as a PDF (fpdf2): letterhead, customer and car, line items (optional ones
marked), totals, recommendations and notes, drawn as invoices are (pdf/bill.py)."""

from __future__ import annotations

from models.bill_documents import Parties
from models.enums import EstimateStatus
from models.estimate_documents import EstimateDocument
from pdf.bill import (
    banner,
    brand,
    customer_and_car,
    letterhead,
    line_items,
    new_bill,
    notes,
    totals,
)

STATUS_TEXT = {
    EstimateStatus.DRAFT: "Draft",
    EstimateStatus.SENT: "Awaiting approval",
    EstimateStatus.APPROVED: "Approved",
    EstimateStatus.DECLINED: "Declined",
    EstimateStatus.EXPIRED: "Expired",
}
OPTIONAL = "(optional)"


def title(doc: EstimateDocument) -> str:
    return f"Estimate #{doc.number}" if doc.number is not None else "Estimate (draft)"


def render_estimate(doc: EstimateDocument, *, compress: bool = True) -> bytes:
    """The estimate as PDF bytes; `compress=False` leaves the page streams readable."""
    pdf = new_bill(title(doc), doc.issuer.name, "Estimate", compress=compress)
    parties = Parties(doc.issuer, doc.bill_to, doc.car)
    colour = brand(doc.issuer.brand_color)
    facts = [f"Status: {STATUS_TEXT.get(doc.status, str(doc.status))}", f"Version {doc.version}"]
    if doc.valid_until is not None:
        facts.append(f"Valid until: {doc.valid_until.isoformat()}")
    letterhead(pdf, parties, colour, title(doc), facts)
    customer_and_car(pdf, parties, "Prepared for")
    line_items(pdf, doc.lines, doc.currency, marked=OPTIONAL)
    totals(pdf, doc.subtotal, doc.tax_total, doc.total, doc.currency)
    pdf.ln(3)
    banner(pdf, colour, "Estimate total", doc.total, doc.currency)
    notes(pdf, doc.recommendations, "Recommended further work")
    notes(pdf, doc.notes)
    return bytes(pdf.output())
