"""Who may export, and signed export links: `/exports/links/<token>`.

An export link lets a browser download an export without the bearer header. Like download
links (auth/downloads.py) it names the session that asked, never a person, is signed with
the rotating SECRET_KEYS and expires after DOWNLOAD_URL_SECONDS; it is no permission either:
the session and its role are checked again when it is opened.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from itsdangerous import BadData, URLSafeTimedSerializer

from auth.viewer import Viewer
from core.settings import Settings
from models.enums import StaffRole

SALT = "portico-export-link"
EXPORT_KINDS = ("customers", "cars", "invoices", "payments")
# Staff roles that may export: an export is every customer's details and money at once.
EXPORTING_ROLES = frozenset({StaffRole.OWNER, StaffRole.ADMIN})


def may_export(viewer: Viewer) -> bool:
    return viewer.is_staff and viewer.role in EXPORTING_ROLES


def may_import(viewer: Viewer) -> bool:
    """CSV imports and bulk portal invites (domain/imports/): the same roles as exports, an
    import writes as many customers at once as an export reads."""
    return may_export(viewer)


@dataclass(frozen=True, slots=True)
class ExportGrant:
    session_id: uuid.UUID
    kind: str
    first: date | None
    last: date | None


def _serializer(settings: Settings) -> URLSafeTimedSerializer:
    # itsdangerous signs with the last key and verifies with all: newest goes last.
    return URLSafeTimedSerializer(list(reversed(settings.secret_keys)), salt=SALT)


def export_url(
    settings: Settings, viewer: Viewer, kind: str, first: date | None, last: date | None
) -> str:
    """The absolute link, on PUBLIC_URL."""
    if viewer.session_id is None:
        raise ValueError("export links are made for a signed-in session")
    if kind not in EXPORT_KINDS:
        raise ValueError(f"unknown export kind {kind!r}")
    days = [d.isoformat() if d else "" for d in (first, last)]
    token = _serializer(settings).dumps([viewer.session_id.hex, kind, *days])
    return f"{settings.public_url}/exports/links/{token}"


def read_export_token(settings: Settings, token: str) -> ExportGrant | None:
    """What a token grants, or None when it is malformed, tampered with or expired."""
    try:
        payload = _serializer(settings).loads(token, max_age=settings.download_url_seconds)
    except BadData:
        return None
    if not isinstance(payload, list) or len(payload) != 4:
        return None
    if not all(isinstance(part, str) for part in payload):
        return None
    session, kind, first, last = payload
    if kind not in EXPORT_KINDS:
        return None
    try:
        return ExportGrant(
            uuid.UUID(hex=session),
            kind,
            date.fromisoformat(first) if first else None,
            date.fromisoformat(last) if last else None,
        )
    except ValueError:
        return None
