"""One branded layout for every email: the organization's name, logo, colours and contacts.

Everything an organization or a customer typed is escaped; colours are accepted only as hex
values because they end up inside a style attribute, where escaping does not help.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from html import escape
from typing import Any

DEFAULT_NAME = "Portico"
DEFAULT_COLOR = "#374151"
_PAGE_STYLE = (
    "margin:0;padding:0;background:#f3f4f6;font-family:Arial,Helvetica,sans-serif;color:#111827"
)
_FOOTER_STYLE = "padding:16px 24px;font-size:12px;color:#6b7280;border-top:1px solid #e5e7eb"
_HEX_COLOR = re.compile(r"#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})")


def _color(value: Any) -> str:
    return value if isinstance(value, str) and _HEX_COLOR.fullmatch(value) else DEFAULT_COLOR


def _field(org: Mapping[str, Any] | None, name: str) -> str | None:
    value = org.get(name) if org is not None else None
    if value is None:
        return None
    return str(value).strip() or None


def _contacts(org: Mapping[str, Any] | None) -> list[str]:
    return [v for v in (_field(org, "address"), _field(org, "phone"), _field(org, "email")) if v]


def _paragraph_html(text: str) -> str:
    return escape(text).replace("\n", "<br>\n")


def branded(
    org: Mapping[str, Any] | None,
    *,
    subject: str,
    heading: str,
    paragraphs: list[str],
    button: tuple[str, str] | None = None,
    footer: str | None = None,
) -> tuple[str, str]:
    """The (plain text, HTML) bodies of one email in the organization's colours."""
    name = _field(org, "name") or DEFAULT_NAME
    color = _color(org.get("brand_color") if org is not None else None)
    contacts = _contacts(org)
    return (
        _text(name, heading, paragraphs, button, footer, contacts),
        _html(org, name, color, subject, heading, paragraphs, button, footer, contacts),
    )


def _text(
    name: str,
    heading: str,
    paragraphs: list[str],
    button: tuple[str, str] | None,
    footer: str | None,
    contacts: list[str],
) -> str:
    blocks = [name, heading, *paragraphs]
    if button is not None:
        blocks.append(f"{button[0]}: {button[1]}")
    if footer:
        blocks.append(footer)
    blocks.append("\n".join(["--", name, *contacts]))
    return "\n\n".join(blocks) + "\n"


def _html(
    org: Mapping[str, Any] | None,
    name: str,
    color: str,
    subject: str,
    heading: str,
    paragraphs: list[str],
    button: tuple[str, str] | None,
    footer: str | None,
    contacts: list[str],
) -> str:
    logo_url = _field(org, "logo_url")
    if logo_url and logo_url.lower().startswith(("https://", "http://")):
        brand = (
            f'<img src="{escape(logo_url)}" alt="{escape(name)}" height="40" '
            'style="display:block;border:0;max-height:40px">'
        )
    else:
        brand = f'<span style="font-size:20px;font-weight:bold;color:#ffffff">{escape(name)}</span>'
    body = "\n".join(
        f'<p style="margin:0 0 16px;line-height:1.5">{_paragraph_html(p)}</p>' for p in paragraphs
    )
    if button is not None:
        label, url = button
        body += (
            f'\n<p style="margin:24px 0"><a href="{escape(url)}" '
            f'style="background:{color};color:#ffffff;padding:12px 20px;border-radius:4px;'
            f'text-decoration:none;display:inline-block;font-weight:bold">{escape(label)}</a></p>'
        )
    footer_lines = [escape(footer)] if footer else []
    footer_lines.append(" &middot; ".join(escape(part) for part in [name, *contacts]))
    footer_html = "<br>\n".join(footer_lines)
    table = 'role="presentation" cellpadding="0" cellspacing="0"'
    return "\n".join(
        [
            "<!DOCTYPE html>",
            "<html>",
            f'<head><meta charset="utf-8"><title>{escape(subject)}</title></head>',
            f'<body style="{_PAGE_STYLE}">',
            f'<table {table} width="100%"><tr><td align="center" style="padding:24px">',
            f'<table {table} width="600" style="max-width:600px;background:#ffffff">',
            f'<tr><td style="background:{color};padding:16px 24px">{brand}</td></tr>',
            '<tr><td style="padding:24px">',
            f'<h1 style="margin:0 0 16px;font-size:22px">{escape(heading)}</h1>',
            body,
            "</td></tr>",
            f'<tr><td style="{_FOOTER_STYLE}">{footer_html}</td></tr>',
            "</table>",
            "</td></tr></table>",
            "</body>",
            "</html>",
            "",
        ]
    )
