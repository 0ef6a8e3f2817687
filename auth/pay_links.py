"""Pay links: the link in an invoice email that opens that invoice's payment, without a
portal sign-in.

A token names the organization and the invoice, nothing else; it is signed with the
rotating SECRET_KEYS (newest signs, all verify) under a salt of its own, so no other token
(download links, cookies) passes for it, and it expires after PAY_LINK_DAYS. It grants
one thing: reading what is due on that invoice and paying it (domain/payments/
pay_links.py), and only while the invoice is still payable.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from itsdangerous import BadData, URLSafeTimedSerializer

from core.settings import Settings

SALT = "portico-pay-link"
DAY = 86_400


@dataclass(frozen=True, slots=True)
class PayGrant:
    organization_id: uuid.UUID
    invoice_id: uuid.UUID


def _serializer(settings: Settings) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(list(reversed(settings.secret_keys)), salt=SALT)


def pay_link_token(settings: Settings, organization_id: uuid.UUID, invoice_id: uuid.UUID) -> str:
    return _serializer(settings).dumps([organization_id.hex, invoice_id.hex])


def pay_link_url(settings: Settings, organization_id: uuid.UUID, invoice_id: uuid.UUID) -> str:
    """The portal's page for the link (it sends the token to `payLink`)."""
    return f"{settings.portal_base}/pay/{pay_link_token(settings, organization_id, invoice_id)}"


def read_pay_link(settings: Settings, token: str) -> PayGrant | None:
    """What a token grants, or None when it is malformed, tampered with or expired."""
    try:
        payload = _serializer(settings).loads(token, max_age=settings.pay_link_days * DAY)
    except BadData:
        return None
    if not (isinstance(payload, list) and len(payload) == 2):
        return None
    try:
        organization_id, invoice_id = (uuid.UUID(hex=str(part)) for part in payload)
    except ValueError:
        return None
    return PayGrant(organization_id, invoice_id)
