"""What invoice and estimate PDFs (fpdf2) draw alike: the font, the letterhead, the
customer and car, the line items, the totals and notes.

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

from models.bill_documents import CarLine, DocumentLine, Parties
from models.currency import format_money

FONT_DIR = Path(__file__).parent / "fonts"
FONTS = {"": FONT_DIR / "DejaVuSans.ttf", "B": FONT_DIR / "DejaVuSans-Bold.ttf"}
FAMILY = "DejaVu"
INK = (33, 37, 41)
MUTED = (108, 117, 125)
RULE = (222, 226, 230)
DEFAULT_BRAND = (33, 37, 41)
HEX_COLOUR = re.compile(r"#?([0-9a-fA-F]{6}|[0-9a-fA-F]{3})")
REPLACEMENT = "?"
Colour = tuple[int, int, int]


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


def brand(colour: str | None) -> Colour:
    match = HEX_COLOUR.fullmatch((colour or "").strip())
    if match is None:
        return DEFAULT_BRAND
    digits = match.group(1)
    if len(digits) == 3:
        digits = "".join(d * 2 for d in digits)
    red, green, blue = (int(digits[i : i + 2], 16) for i in (0, 2, 4))
    return red, green, blue


def too_light(colour: Colour) -> bool:
    """White text on it, or it as text on white paper, would be hard to read."""
    red, green, blue = colour
    return 299 * red + 587 * green + 114 * blue > 180_000


def scaled(value: int, scale: int) -> str:
    """value / scale without trailing zeros: 1500/1000 is "1.5", 2000/1000 is "2"."""
    return f"{(Decimal(value) / scale).normalize():f}"


class _Bill(FPDF):
    footer_text = ""

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(FAMILY, "", 8)
        self.set_text_color(*MUTED)
        self.cell(0, 5, f"{self.footer_text} · page {self.page_no()} of {{nb}}", align="C")


def new_bill(title: str, issuer_name: str, kind: str, *, compress: bool = True) -> FPDF:
    """An A4 document with the fonts loaded, its metadata and footer set, on its first page
    (`kind`, "Invoice" or "Estimate", stands for an issuer without a printable name)."""
    pdf = _Bill(format="A4", unit="mm")
    pdf.compress = compress
    pdf.set_margins(15, 15, 15)
    pdf.set_auto_page_break(auto=True, margin=18)
    for style, path in FONTS.items():
        pdf.add_font(FAMILY, style, str(path))
    issuer = clean(issuer_name) or kind
    pdf.footer_text = f"{issuer} · {title}"
    pdf.set_title(title)
    pdf.set_author(issuer)
    pdf.set_creator("Portico")
    pdf.add_page()
    return pdf


def text(pdf: FPDF, words: str, size: float = 9, *, bold: bool = False, colour=INK) -> None:
    """One paragraph across the page, wrapped."""
    pdf.set_font(FAMILY, "B" if bold else "", size)
    pdf.set_text_color(*colour)
    pdf.multi_cell(0, size * 0.5, words, new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def heading(pdf: FPDF, words: str) -> None:
    pdf.ln(4)
    text(pdf, words.upper(), 8, bold=True, colour=MUTED)
    pdf.ln(1)


def letterhead(
    pdf: FPDF, parties: Parties, colour: Colour, title: str, facts: Sequence[str]
) -> None:
    """The issuer's name and contact, then the document's title and its facts on a line."""
    issuer = parties.issuer
    text(pdf, clean(issuer.name), 18, bold=True, colour=INK if too_light(colour) else colour)
    for part in (clean(issuer.address, multiline=True), clean(issuer.email), clean(issuer.phone)):
        if part:
            text(pdf, part, 9, colour=MUTED)
    pdf.ln(6)
    text(pdf, title, 16, bold=True)
    text(pdf, "    ".join(facts), 9)


def customer_and_car(pdf: FPDF, parties: Parties, label: str) -> None:
    bill_to = parties.bill_to
    heading(pdf, label)
    text(pdf, clean(bill_to.name), 10, bold=True)
    for part in (bill_to.company, *bill_to.address_lines, bill_to.email):
        if clean(part):
            text(pdf, clean(part), 9)
    if parties.car is not None:
        heading(pdf, "Vehicle")
        text(pdf, _car(parties.car), 9)


def _car(car: CarLine) -> str:
    words = clean(car.description)
    if clean(car.license_plate):
        words += f" · plate {clean(car.license_plate)}"
    return words


def table(
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
    ) as drawn:
        for values in rows:
            row = drawn.row()
            for value in values:
                row.cell(value)


def line_items(
    pdf: FPDF, lines: Sequence[DocumentLine], currency: str, *, marked: str = ""
) -> None:
    """The lines; a line marked optional gets `marked` after its description."""
    heading(pdf, "Items")
    rows = [("Description", "Qty", "Unit price", "Tax", "Amount")]
    for line in lines:
        description = clean(line.description, multiline=True) or "-"
        if line.optional and marked:
            description += f" {marked}"
        rows.append(
            (
                description,
                scaled(line.quantity_milli, 1000),
                format_money(line.unit_price, currency),
                f"{scaled(line.tax_rate_bp, 100)} %",
                format_money(line.total, currency),
            )
        )
    if not lines:
        rows.append(("No items", "", "", "", ""))
    table(pdf, (86, 14, 32, 16, 32), ("LEFT", "RIGHT", "RIGHT", "RIGHT", "RIGHT"), rows)


def amount_row(pdf: FPDF, label: str, amount: int, currency: str, *, bold: bool = False) -> None:
    pdf.set_font(FAMILY, "B" if bold else "", 10 if bold else 9)
    pdf.set_text_color(*INK)
    pdf.set_x(pdf.l_margin + 90)
    pdf.cell(50, 6, label, align=Align.L)
    pdf.cell(40, 6, format_money(amount, currency), align=Align.R)
    pdf.ln(6)


def totals(pdf: FPDF, subtotal: int, tax_total: int, total: int, currency: str) -> None:
    pdf.ln(2)
    amount_row(pdf, "Subtotal", subtotal, currency)
    amount_row(pdf, "Tax", tax_total, currency)
    amount_row(pdf, "Total", total, currency, bold=True)


def banner(pdf: FPDF, colour: Colour, label: str, amount: int, currency: str) -> None:
    """The figure the reader is after (amount due, estimate total), on the brand colour."""
    if pdf.will_page_break(12):
        pdf.add_page()
    pdf.set_x(pdf.l_margin + 90)
    pdf.set_fill_color(*colour)
    pdf.set_text_color(*(INK if too_light(colour) else (255, 255, 255)))
    pdf.set_font(FAMILY, "B", 13)
    pdf.cell(50, 10, f" {label}", align=Align.L, fill=True)
    pdf.cell(40, 10, format_money(amount, currency) + " ", align=Align.R, fill=True)
    pdf.ln(10)


def notes(pdf: FPDF, words: str | None, label: str = "Notes") -> None:
    cleaned = clean(words, multiline=True)
    if cleaned:
        heading(pdf, label)
        text(pdf, cleaned, 9)
