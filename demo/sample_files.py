"""The demo's files: small PNG pictures of cars and one-page PDF papers.

Every photo and document of the demo organization has real bytes behind it, so downloads,
galleries and checksums work as they do for uploads. The pictures are drawn row by row with
the standard library (zlib, struct) and the papers with fpdf2's built-in Helvetica, which
needs no font file and keeps a few dozen PDFs well under a second.
"""

from __future__ import annotations

import struct
import textwrap
import zlib
from collections.abc import Iterable
from datetime import datetime
from typing import NamedTuple

from fpdf import FPDF

RGB = tuple[int, int, int]

WIDTH, HEIGHT = 240, 160
HORIZON = 104  # the first row of the floor
FLOOR = (118, 118, 122)
TYRE = (28, 28, 30)
HUB = (190, 190, 196)
GLASS = (64, 84, 104)
DUST = (136, 116, 90)
WHITE = (255, 255, 255)
SKIES: list[tuple[RGB, RGB]] = [
    ((120, 160, 210), (215, 228, 240)),  # daylight
    ((232, 160, 110), (250, 214, 170)),  # golden hour
    ((70, 74, 86), (150, 154, 164)),  # studio
    ((150, 170, 190), (225, 228, 232)),  # overcast
]
PAINT: dict[str, RGB] = {
    "Guards Red": (204, 20, 30),
    "Rosso Corsa": (212, 0, 0),
    "British Racing Green": (0, 66, 37),
    "Silver Metallic": (170, 174, 178),
    "Black": (22, 22, 24),
    "Ivory": (236, 228, 204),
    "Marina Blue": (30, 90, 170),
    "Grand Prix White": (244, 244, 240),
    "Opalescent Silver Blue": (150, 170, 190),
    "Signal Yellow": (245, 200, 0),
    "Midnight Blue": (25, 35, 75),
    "Carmine Red": (150, 0, 24),
    "Pastel Blue": (150, 190, 220),
    "Sable Brown": (100, 70, 50),
}
GREY: RGB = (128, 128, 128)
MARGIN = 20  # mm


class DemoFile(NamedTuple):
    """A file for the storage backend: its key, its bytes and their type."""

    key: str
    data: bytes
    content_type: str


def paint(colour_name: str | None) -> RGB:
    return PAINT.get(colour_name or "", GREY)


def hex_colour(value: str | None) -> RGB:
    """`#1f3a5f` as (31, 58, 95); grey when unset."""
    digits = (value or "").lstrip("#")
    if len(digits) != 6:
        return GREY
    return (int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16))


def mix(a: RGB, b: RGB, share_of_b: float) -> RGB:
    r, g, bl = (round(x + (y - x) * share_of_b) for x, y in zip(a, b, strict=True))
    return (r, g, bl)


# PNG


def _chunk(tag: bytes, body: bytes) -> bytes:
    crc = zlib.crc32(tag + body) & 0xFFFFFFFF
    return struct.pack(">I", len(body)) + tag + body + struct.pack(">I", crc)


def png(width: int, height: int, rows: Iterable[bytes]) -> bytes:
    """An 8-bit RGB PNG from `height` rows of `width * 3` bytes each."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    raw = b"".join(b"\x00" + row for row in rows)  # filter type 0 (none) on every row
    return b"".join(
        [
            b"\x89PNG\r\n\x1a\n",
            _chunk(b"IHDR", header),
            _chunk(b"IDAT", zlib.compress(raw, 9)),
            _chunk(b"IEND", b""),
        ]
    )


class Span(NamedTuple):
    start: int
    end: int
    colour: RGB


def _row(background: RGB, spans: Iterable[Span], width: int = WIDTH) -> bytes:
    """One row: the background, then each span painted over it in turn."""
    row = bytearray(bytes(background) * width)
    for start, end, colour in spans:
        start, end = max(start, 0), min(end, width)
        if end > start:
            row[start * 3 : end * 3] = bytes(colour) * (end - start)
    return bytes(row)


def _wheel_spans(y: int, centres: tuple[int, ...], hub_y: int) -> list[Span]:
    spans = []
    for centre in centres:
        for radius, colour in ((17, TYRE), (7, HUB)):
            reach = radius * radius - (y - hub_y) ** 2
            if reach >= 0:
                half = int(reach**0.5)
                spans.append(Span(centre - half, centre + half + 1, colour))
    return spans


def car_picture(colour: RGB, *, sky: int = 0, shift: int = 0, dirt: float = 0.0) -> bytes:
    """A coupé in profile on a workshop floor: `sky` picks the light, `shift` moves the car
    sideways, `dirt` (0 to 1) dulls the paint for "before" photos."""
    body = mix(colour, DUST, dirt * 0.6)
    shine = mix(body, WHITE, 0.35 * (1.0 - dirt))
    top, bottom = SKIES[sky % len(SKIES)]
    left, right = 36 + shift, 204 + shift
    wheels = (left + 40, right - 40)
    rows = []
    for y in range(HEIGHT):
        if y < HORIZON:
            background = mix(top, bottom, y / HORIZON)
        else:
            background = mix(FLOOR, (90, 90, 94), (y - HORIZON) / (HEIGHT - HORIZON))
        spans: list[Span] = []
        if 58 <= y < 82:  # the cabin narrows towards the roof
            inset = (82 - y) // 2
            spans.append(Span(left + 44 + inset, right - 50 - inset, body))
            if y >= 62:
                spans.append(Span(left + 50 + inset, right - 56 - inset, GLASS))
        elif 82 <= y < 112:
            spans.append(Span(left, right, shine if y < 86 else body))
        spans += _wheel_spans(y, wheels, 112)
        rows.append(_row(background, spans))
    return png(WIDTH, HEIGHT, rows)


def card_picture(brand: RGB) -> bytes:
    """An insurance card as a phone photo: a white card with a band and lines of text."""
    width, height = 240, 150
    rows = []
    for y in range(height):
        spans = [Span(12, 228, WHITE)] if 12 <= y < 138 else []
        if 12 <= y < 38:
            spans.append(Span(12, 228, brand))
        elif any(start <= y < start + 6 for start in (52, 70, 88, 106)):
            spans.append(Span(26, 26 + 40 * (1 + y // 20 % 4), (150, 154, 160)))
        rows.append(_row((58, 52, 48), spans, width))
    return png(width, height, rows)


# PDF


def latin(text: str) -> str:
    """What the core fonts can print (Latin-1); the demo's own text always is."""
    return text.encode("latin-1", "replace").decode("latin-1")


def paper(
    *, title: str, issuer: str, subject: str, body: str, when: datetime, signature: str = ""
) -> bytes:
    """A one-page PDF: the issuer, a title, who it concerns, the text and an optional
    signature record. Lines are placed, not flowed: the demo's texts are short and known,
    and flowing them through fpdf2's line breaker costs more than the rest of the demo. The
    fixed creation date makes the same paper the same bytes."""
    pdf = FPDF(format="Letter", unit="mm")
    pdf.set_creation_date(when)
    pdf.set_title(latin(title))
    pdf.set_author(latin(issuer))
    pdf.set_creator("Portico")
    pdf.add_page()
    top = 24.0

    def lines(text: str, size: float, style: str = "", width: int = 90) -> None:
        nonlocal top
        pdf.set_font("Helvetica", style, size)
        for paragraph in text.splitlines():
            for line in textwrap.wrap(paragraph, width) or [""]:
                pdf.text(MARGIN, top, latin(line))
                top += size * 0.5

    lines(issuer, 9)
    top += 4
    lines(title, 16, "B", width=50)
    lines(subject, 9)
    top += 5
    lines(body, 10)
    if signature:
        top += 8
        lines("Signature", 11, "B")
        lines(signature, 9)
    return bytes(pdf.output())
