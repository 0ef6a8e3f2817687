"""The signed copy of a contract: its terms, then the signature record."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from pdf.bill import FAMILY, FONTS, clean


@dataclass(frozen=True)
class SignedContract:
    organization: str
    customer: str
    title: str
    terms: str
    signer_name: str
    signed_at: datetime
    signer_ip: str | None
    signed_sha256: str


def render_signed_contract(doc: SignedContract) -> bytes:
    pdf = FPDF(format="A4", unit="mm")
    pdf.set_margins(18, 18, 18)
    pdf.set_auto_page_break(auto=True, margin=18)
    for style, path in FONTS.items():
        pdf.add_font(FAMILY, style, str(path))
    pdf.set_title(clean(doc.title))
    pdf.set_author(clean(doc.organization))
    pdf.set_creator("Portico")
    pdf.add_page()

    def paragraph(text: str, size: float = 10, *, bold: bool = False) -> None:
        pdf.set_font(FAMILY, "B" if bold else "", size)
        pdf.multi_cell(0, size * 0.5, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    paragraph(clean(doc.organization), 9)
    pdf.ln(2)
    paragraph(clean(doc.title), 16, bold=True)
    paragraph(f"For {clean(doc.customer)}", 9)
    pdf.ln(4)
    paragraph(clean(doc.terms, multiline=True))
    pdf.ln(8)
    paragraph("Signature", 11, bold=True)
    signed = doc.signed_at.strftime("%Y-%m-%d %H:%M:%S UTC")
    paragraph(f"Signed electronically by {clean(doc.signer_name)} on {signed}", 9)
    if doc.signer_ip:
        paragraph(f"From {clean(doc.signer_ip)}", 9)
    paragraph(f"SHA-256 of what was signed: {doc.signed_sha256}", 8)
    return bytes(pdf.output())
