"""An invoice as a PDF (fpdf2): letterhead, bill-to, line items, totals, payments, notes.

Text is drawn in DejaVu Sans, shipped beside this module (fonts/, with its licence), so
names in most European scripts print as written. A character the font has no glyph for
(CJK, emoji) is printed as "?", and control characters are dropped, so no customer text
can make rendering fail.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from decimal import Decimal
from functools import cache
from pathlib import Path

from fontTools.ttLib import TTFont
from fpdf import FPDF, FontFace
from fpdf.enums import Align, TableBordersLayout, XPos, YPos

from models.currency import format_money
from models.enums import InvoiceStatus, PaymentMethod
from models.invoice_documents import InvoiceDocument

FONT_DIR = Path(__file__).parent / "fonts"
FONTS = {"": FONT_DIR / "DejaVuSans.ttf", "B": FONT_DIR / "DejaVuSans-Bold.ttf"}
FAMILY = "DejaVu"
INK = (33, 37, 41)
MUTED = (108, 117, 125)
RULE = (222, 226, 230)
DEFAULT_BRAND = (33, 37, 41)
HEX_COLOUR = re.compile(r"#?([0-9a-fA-F]{6}|[0-9a-fA-F]{3})")
REPLACEMENT = "?"
STATUS_TEXT = {
    InvoiceStatus.DRAFT: "Draft",
    InvoiceStatus.OPEN: "Open",
    InvoiceStatus.PARTIALLY_PAID: "Partially paid",
    InvoiceStatus.PAID: "Paid",
    InvoiceStatus.VOID: "Void",
}
METHOD_TEXT = {
    PaymentMethod.CARD_ONLINE: "Card (online)",
    PaymentMethod.CASH: "Cash",
    PaymentMethod.CHEQUE: "Cheque",
    PaymentMethod.BANK_TRANSFER: "Bank transfer",
}


@cache
def _drawable() -> frozenset[int]:
    """Code points both the regular and the bold face have glyphs for."""
    faces = []
    for path in FONTS.values():
        with TTFont(path) as font:
            faces.append(set(font.getBestCmap()))
    return frozenset(set.intersection(*faces))


def clean(text: str | None, *, multiline: bool = False) -> str:
    """`text` as the font can draw it: unknown glyphs become "?", controls disappear."""
    if not text:
        return ""
    drawable = _drawable()
    out: list[str] = []
    for char in unicodedata.normalize("NFC", text.replace("\r\n", "\n")):
        category = unicodedata.category(char)
        if char == "\n" or category in ("Zl", "Zp"):
            out.append("\n" if multiline else " ")
        elif char == "\t" or category == "Zs":
            out.append(" ")
        elif category in ("Cc", "Cf", "Cs", "Co", "Cn"):
            continue  # controls, invisible format marks, surrogates, private and unassigned
        elif ord(char) in drawable:
            out.append(char)
        else:
            out.append(REPLACEMENT)
    return "".join(out).strip()


def _brand(colour: str | None) -> tuple[int, int, int]:
    match = HEX_COLOUR.fullmatch((colour or "").strip())
    if match is None:
        return DEFAULT_BRAND
    digits = match.group(1)
    if len(digits) == 3:
        digits = "".join(d * 2 for d in digits)
    red, green, blue = (int(digits[i : i + 2], 16) for i in (0, 2, 4))
    return red, green, blue


def _too_light(colour: tuple[int, int, int]) -> bool:
    """White text on it, or it as text on white paper, would be hard to read."""
    red, green, blue = colour
    return 299 * red + 587 * green + 114 * blue > 180_000


def _scaled(value: int, scale: int) -> str:
    """value / scale without trailing zeros: 1500/1000 is "1.5", 2000/1000 is "2"."""
    return f"{(Decimal(value) / scale).normalize():f}"


def _title(doc: InvoiceDocument) -> str:
    return f"Invoice #{doc.number}" if doc.number is not None else "Invoice (draft)"


class _Invoice(FPDF):
    footer_text = ""

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(FAMILY, "", 8)
        self.set_text_color(*MUTED)
        self.cell(0, 5, f"{self.footer_text} · page {self.page_no()} of {{nb}}", align="C")


def render_invoice(doc: InvoiceDocument, *, compress: bool = True) -> bytes:
    """The invoice as PDF bytes; `compress=False` leaves the page streams readable."""
    pdf = _Invoice(format="A4", unit="mm")
    pdf.compress = compress
    pdf.set_margins(15, 15, 15)
    pdf.set_auto_page_break(auto=True, margin=18)
    for style, path in FONTS.items():
        pdf.add_font(FAMILY, style, str(path))
    issuer = clean(doc.issuer.name) or "Invoice"
    pdf.footer_text = f"{clean(issuer)} · {_title(doc)}"
    pdf.set_title(_title(doc))
    pdf.set_author(issuer)
    pdf.set_creator("Portico")
    pdf.add_page()
    brand = _brand(doc.issuer.brand_color)
    _letterhead(pdf, doc, brand)
    _parties(pdf, doc)
    _line_items(pdf, doc)
    _totals(pdf, doc)
    _payments(pdf, doc)
    _balance(pdf, doc, brand)
    _notes(pdf, doc)
    return bytes(pdf.output())


def _text(pdf: FPDF, text: str, size: float = 9, *, bold: bool = False, colour=INK) -> None:
    """One paragraph across the page, wrapped."""
    pdf.set_font(FAMILY, "B" if bold else "", size)
    pdf.set_text_color(*colour)
    pdf.multi_cell(0, size * 0.5, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _heading(pdf: FPDF, text: str) -> None:
    pdf.ln(4)
    _text(pdf, text.upper(), 8, bold=True, colour=MUTED)
    pdf.ln(1)


def _letterhead(pdf: FPDF, doc: InvoiceDocument, brand: tuple[int, int, int]) -> None:
    name_colour = INK if _too_light(brand) else brand
    _text(pdf, clean(doc.issuer.name), 18, bold=True, colour=name_colour)
    contact = [clean(doc.issuer.address, multiline=True), clean(doc.issuer.email)]
    contact.append(clean(doc.issuer.phone))
    for part in contact:
        if part:
            _text(pdf, part, 9, colour=MUTED)
    pdf.ln(6)
    _text(pdf, _title(doc), 16, bold=True)
    dates = [f"Status: {STATUS_TEXT.get(doc.status, str(doc.status))}"]
    if doc.issue_date is not None:
        dates.append(f"Issued: {doc.issue_date.isoformat()}")
    if doc.due_date is not None:
        dates.append(f"Due: {doc.due_date.isoformat()}")
    _text(pdf, "    ".join(dates), 9)


def _parties(pdf: FPDF, doc: InvoiceDocument) -> None:
    _heading(pdf, "Bill to")
    _text(pdf, clean(doc.bill_to.name), 10, bold=True)
    for part in (doc.bill_to.company, *doc.bill_to.address_lines, doc.bill_to.email):
        if clean(part):
            _text(pdf, clean(part), 9)
    if doc.car is not None:
        _heading(pdf, "Vehicle")
        car = clean(doc.car.description)
        if clean(doc.car.license_plate):
            car += f" · plate {clean(doc.car.license_plate)}"
        _text(pdf, car, 9)


def _table(
    pdf: FPDF, widths: tuple[int, ...], aligns: tuple[str, ...], rows: Sequence[tuple[str, ...]]
) -> None:
    """A table across the page; rows wrap, and the headings repeat on every new page."""
    pdf.set_font(FAMILY, "", 9)
    pdf.set_text_color(*INK)
    pdf.set_draw_color(*RULE)
    with pdf.table(
        col_widths=widths,
        text_align=aligns,
        borders_layout=TableBordersLayout.HORIZONTAL_LINES,
        headings_style=FontFace(emphasis="BOLD", color=MUTED),
        line_height=5,
        padding=(1.2, 1.5),
        repeat_headings=1,
    ) as table:
        for values in rows:
            row = table.row()
            for value in values:
                row.cell(value)


def _line_items(pdf: FPDF, doc: InvoiceDocument) -> None:
    _heading(pdf, "Items")
    rows = [("Description", "Qty", "Unit price", "Tax", "Amount")]
    for line in doc.lines:
        rows.append(
            (
                clean(line.description, multiline=True) or "-",
                _scaled(line.quantity_milli, 1000),
                format_money(line.unit_price, doc.currency),
                f"{_scaled(line.tax_rate_bp, 100)} %",
                format_money(line.total, doc.currency),
            )
        )
    if not doc.lines:
        rows.append(("No items", "", "", "", ""))
    _table(pdf, (86, 14, 32, 16, 32), ("LEFT", "RIGHT", "RIGHT", "RIGHT", "RIGHT"), rows)


def _amount_row(pdf: FPDF, label: str, amount: int, currency: str, *, bold: bool = False) -> None:
    pdf.set_font(FAMILY, "B" if bold else "", 10 if bold else 9)
    pdf.set_text_color(*INK)
    pdf.set_x(pdf.l_margin + 90)
    pdf.cell(50, 6, label, align=Align.L)
    pdf.cell(40, 6, format_money(amount, currency), align=Align.R)
    pdf.ln(6)


def _totals(pdf: FPDF, doc: InvoiceDocument) -> None:
    pdf.ln(2)
    _amount_row(pdf, "Subtotal", doc.subtotal, doc.currency)
    _amount_row(pdf, "Tax", doc.tax_total, doc.currency)
    _amount_row(pdf, "Total", doc.total, doc.currency, bold=True)


def _payments(pdf: FPDF, doc: InvoiceDocument) -> None:
    if not doc.payments:
        return
    _heading(pdf, "Payments received")
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
    _table(pdf, (40, 60, 40, 40), ("LEFT", "LEFT", "RIGHT", "RIGHT"), rows)


def _balance(pdf: FPDF, doc: InvoiceDocument, brand: tuple[int, int, int]) -> None:
    pdf.ln(3)
    _amount_row(pdf, "Amount paid", doc.amount_paid, doc.currency)
    if pdf.will_page_break(12):
        pdf.add_page()
    pdf.set_x(pdf.l_margin + 90)
    pdf.set_fill_color(*brand)
    pdf.set_text_color(*(INK if _too_light(brand) else (255, 255, 255)))
    pdf.set_font(FAMILY, "B", 13)
    pdf.cell(50, 10, " Amount due", align=Align.L, fill=True)
    pdf.cell(40, 10, format_money(doc.amount_due, doc.currency) + " ", align=Align.R, fill=True)
    pdf.ln(10)


def _notes(pdf: FPDF, doc: InvoiceDocument) -> None:
    notes = clean(doc.notes, multiline=True)
    if notes:
        _heading(pdf, "Notes")
        _text(pdf, notes, 9)
