"""Short-lived signed download links: `/downloads/<token>`.

A token names the session that asked for the link, what kind of file it is and the row it
is made from; nothing else (no email, no customer), since links end up in browser
histories and logs. It is signed with the rotating SECRET_KEYS (newest signs, all verify)
and expires after DOWNLOAD_URL_SECONDS. A valid token is not a permission: the download
endpoint checks the session and the row's visibility again when the link is opened.

Each kind names one table; portico/downloads.py says how a kind is served (DOWNLOADS).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from itsdangerous import BadData, URLSafeTimedSerializer

from auth.viewer import Viewer
from core.settings import Settings

SALT = "portico-download-link"
INVOICE_PDF = "invoice-pdf"
ESTIMATE_PDF = "estimate-pdf"
DOCUMENT = "document"
CAR_PHOTO = "car-photo"
JOB_PHOTO = "job-photo"
MESSAGE_ATTACHMENT = "message-attachment"
# A customer's statement: the row is the customer, the token's detail its range.
STATEMENT_PDF = "statement-pdf"
KINDS = frozenset(
    {INVOICE_PDF, ESTIMATE_PDF, DOCUMENT, CAR_PHOTO, JOB_PHOTO, MESSAGE_ATTACHMENT, STATEMENT_PDF}
)
# The kinds a portal viewer's access log records (given a link: VIEW; opening it:
# DOWNLOAD), with the subject type the log names.
LOGGED_AS: dict[str, str] = {
    INVOICE_PDF: "Invoice",
    ESTIMATE_PDF: "Estimate",
    DOCUMENT: "Document",
    STATEMENT_PDF: "Customer",
}


@dataclass(frozen=True, slots=True)
class DownloadGrant:
    session_id: uuid.UUID
    kind: str
    row_id: uuid.UUID
    detail: str | None = None  # what of the row (a statement's range), for some kinds


def _serializer(settings: Settings) -> URLSafeTimedSerializer:
    # itsdangerous signs with the last key and verifies with all: newest goes last.
    return URLSafeTimedSerializer(list(reversed(settings.secret_keys)), salt=SALT)


def download_token(
    settings: Settings, viewer: Viewer, kind: str, row_id: uuid.UUID, detail: str | None = None
) -> str:
    if viewer.session_id is None:
        raise ValueError("download links are made for a signed-in session")
    if kind not in KINDS:
        raise ValueError(f"unknown download kind {kind!r}")
    payload = [viewer.session_id.hex, kind, row_id.hex]
    return _serializer(settings).dumps(payload if detail is None else [*payload, detail])


def download_url(
    settings: Settings, viewer: Viewer, kind: str, row_id: uuid.UUID, detail: str | None = None
) -> str:
    """The absolute link, on PUBLIC_URL."""
    token = download_token(settings, viewer, kind, row_id, detail)
    return f"{settings.public_url}/downloads/{token}"


def read_download_token(settings: Settings, token: str) -> DownloadGrant | None:
    """What a token grants, or None when it is malformed, tampered with or expired."""
    try:
        payload = _serializer(settings).loads(token, max_age=settings.download_url_seconds)
    except BadData:  # bad signature, expired, undecodable
        return None
    if not isinstance(payload, list) or len(payload) not in (3, 4):
        return None
    if not all(isinstance(part, str) for part in payload):
        return None
    session, kind, row = payload[:3]
    detail = payload[3] if len(payload) == 4 else None
    if kind not in KINDS:
        return None
    try:
        return DownloadGrant(
            session_id=uuid.UUID(hex=session), kind=kind, row_id=uuid.UUID(hex=row), detail=detail
        )
    except ValueError:
        return None
