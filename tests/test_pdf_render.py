"""Invoice and estimate PDFs: what they say, how long ones flow onto more pages, and any
text at all."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models.enums import EstimateStatus, InvoiceStatus, PaymentMethod
from models.estimate_documents import EstimateDocument
from models.invoice_documents import (
    BillTo,
    CarLine,
    DocumentLine,
    DocumentPayment,
    InvoiceDocument,
    Issuer,
)
from pdf.estimate import render_estimate
from pdf.invoice import clean, render_invoice
from tests.pdf_text import pdf_pages, pdf_text


def document(**changes: object) -> InvoiceDocument:
    doc = InvoiceDocument(
        invoice_id=uuid.uuid4(),
        number=1042,
        status=InvoiceStatus.PARTIALLY_PAID,
        issue_date=date(2025, 3, 1),
        due_date=date(2025, 3, 15),
        notes="Thank you for your business.",
        currency="EUR",
        subtotal=123450,
        tax_total=10185,
        total=133635,
        amount_paid=50000,
        amount_due=83635,
        credited_amount=0,
        credit_applied=0,
        issuer=Issuer(
            "Łódź Garage", "Main Street 1\n90-001 Łódź", "hi@garage.test", "+48 1", "#0a5"
        ),
        bill_to=BillTo("Zoë Müller", "Müller GmbH", "zoe@example.test", ("Hauptstr. 2", "Berlin")),
        car=CarLine("1973 Porsche 911", "B-ZM 911"),
        lines=(
            DocumentLine("Brake service", 1500, 8000, 825, 12990),
            DocumentLine("Pads", 2000, 4999, 0, 9998),
        ),
        payments=(DocumentPayment(date(2025, 3, 5), PaymentMethod.BANK_TRANSFER, 50000, 1000),),
    )
    return dataclasses.replace(doc, **changes)  # type: ignore[arg-type]


def test_credit_notes_and_credit_used_show_on_the_invoice():
    plain = pdf_text(render_invoice(document()))
    assert "Credit notes" not in plain and "Credit used" not in plain
    doc = document(
        status=InvoiceStatus.PAID, credited_amount=33635, credit_applied=50000, amount_due=0
    )
    text = pdf_text(render_invoice(doc))
    for expected in ("Paid", "Credit notes", "EUR 336.35", "Credit used", "EUR 500.00"):
        assert expected in text, expected
    credited = pdf_text(render_invoice(document(status=InvoiceStatus.CREDITED)))
    assert "Status: Credited" in credited


def test_an_invoice_says_what_it_should():
    text = pdf_text(render_invoice(document()))
    for expected in (
        "Łódź Garage",
        "hi@garage.test",
        "Invoice #1042",
        "Partially paid",
        "2025-03-01",
        "2025-03-15",
        "Zoë Müller",
        "Müller GmbH",
        "1973 Porsche 911",
        "B-ZM 911",
        "Brake service",
        "1.5",
        "8.25 %",
        "EUR 129.90",
        "EUR 1,234.50",  # subtotal
        "EUR 1,336.35",  # total
        "Bank transfer",
        "EUR 10.00",  # refunded
        "EUR 500.00",  # paid
        "Amount due",
        "EUR 836.35",
        "Thank you for your business.",
    ):
        assert expected in text, expected


def test_a_draft_without_car_payments_or_notes_still_renders():
    doc = document(number=None, status=InvoiceStatus.DRAFT, car=None, payments=(), notes=None)
    text = pdf_text(render_invoice(doc, compress=False))
    assert "Invoice (draft)" in text
    assert "Vehicle".upper() not in text and "PAYMENTS RECEIVED" not in text


def test_two_hundred_lines_flow_onto_further_pages():
    long = "A long description of the work that was done, " * 6
    lines = tuple(
        DocumentLine(f"Item {i:03d} {long if i % 10 == 0 else ''}", 1000, 100, 0, 100)
        for i in range(200)
    )
    pages = pdf_pages(render_invoice(document(lines=lines)))
    assert len(pages) >= 5
    assert "Item 000" in pages[0] and "Item 199" in "".join(pages[-2:])
    assert all("Description" in page for page in pages[:-1])  # headings repeat
    assert "Amount due" in pages[-1]
    assert f"page {len(pages)} of {len(pages)}" in pages[-1]


def test_text_the_font_cannot_draw_is_replaced_and_controls_are_dropped():
    assert clean("Zoë\x00 Łukasz\u200b 東京") == "Zoë Łukasz ??"
    assert clean("one\r\ntwo\u2028three", multiline=True) == "one\ntwo\nthree"
    assert clean("one\ntwo") == "one two"
    assert clean(None) == ""


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=st.text(max_size=200),
    description=st.text(max_size=500),
    notes=st.text(max_size=1000),
    brand=st.one_of(st.none(), st.text(max_size=7), st.from_regex(r"#[0-9a-f]{6}", fullmatch=True)),
    amount=st.integers(min_value=-(10**15), max_value=10**15),
    currency=st.sampled_from(["USD", "JPY", "KWD"]),
)
def test_any_text_renders(
    name: str, description: str, notes: str, brand: str | None, amount: int, currency: str
):
    doc = document(
        issuer=Issuer(name, name, name, name, brand),
        bill_to=BillTo(name, name, name, (name, description)),
        car=CarLine(name, name),
        lines=(DocumentLine(description, 1000, amount, 825, amount),) * 3,
        notes=notes,
        currency=currency,
        total=amount,
        amount_due=amount,
    )
    text = pdf_text(render_invoice(doc))
    assert "Amount due" in text
    if name.isascii():  # no right-to-left runs to reorder it: it reads back as written
        assert _letters(name)[:20] in _letters(text)


def _letters(text: str) -> str:
    """Letters and digits only: wrapping and spacing differ between PDF and source."""
    return "".join(c for c in text if c.isascii() and c.isalnum())


# --- estimates, drawn by the same pieces (pdf/bill.py) -------------------------------


def estimate(**changes: object) -> EstimateDocument:
    doc = EstimateDocument(
        estimate_id=uuid.uuid4(),
        number=77,
        version=3,
        status=EstimateStatus.EXPIRED,
        valid_until=date(2025, 4, 30),
        notes="Prices include fitting.",
        recommendations="Timing belt due at 90,000 km.",
        currency="EUR",
        subtotal=123450,
        tax_total=10185,
        total=133635,
        issuer=Issuer("Łódź Garage", None, "hi@garage.test", None, "#fff"),
        bill_to=BillTo("Zoë Müller", None, None, ()),
        car=None,
        lines=(
            DocumentLine("Brake service", 1500, 8000, 825, 12990),
            DocumentLine("Ceramic coating", 1000, 30000, 0, 30000, optional=True),
        ),
    )
    return dataclasses.replace(doc, **changes)  # type: ignore[arg-type]


def test_an_estimate_says_what_it_should():
    text = pdf_text(render_estimate(estimate()))
    for expected in (
        "Łódź Garage",
        "Estimate #77",
        "Status: Expired",
        "Version 3",
        "Valid until: 2025-04-30",
        "Zoë Müller",
        "Brake service",
        "Ceramic coating (optional)",
        "EUR 1,336.35",
        "Estimate total",
        "Timing belt due at 90,000 km.",
        "Prices include fitting.",
    ):
        assert expected in text, expected
    assert "VEHICLE" not in text and "Amount due" not in text
    draft = pdf_text(render_estimate(estimate(number=None, notes=None, recommendations=None)))
    assert "Estimate (draft)" in draft and "NOTES" not in draft


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=st.text(max_size=200),
    description=st.text(max_size=500),
    notes=st.text(max_size=1000),
    amount=st.integers(min_value=-(10**15), max_value=10**15),
    status=st.sampled_from(list(EstimateStatus)),
)
def test_any_text_renders_on_an_estimate(
    name: str, description: str, notes: str, amount: int, status: EstimateStatus
):
    doc = estimate(
        issuer=Issuer(name, name, name, name, name[:7]),
        bill_to=BillTo(name, name, name, (name, description)),
        car=CarLine(name, name),
        lines=(DocumentLine(description, 1000, amount, 825, amount, optional=True),) * 3,
        notes=notes,
        recommendations=notes,
        status=status,
        total=amount,
    )
    text = pdf_text(render_estimate(doc))
    assert "Estimate total" in text
    if name.isascii():
        assert _letters(name)[:20] in _letters(text)
