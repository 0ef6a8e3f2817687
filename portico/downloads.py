"""`GET /downloads/{token}`: a file behind a signed, short-lived link.

The token only says which session asked for which row of which kind. The viewer is decided
again from that session (an ended or revoked session answers 401) and the row is read under
the viewer's scope as it is now (a row they may no longer see answers the same 404 as a
token that was never valid), so a leaked link is worth nothing once access ends.

Every kind of file is one entry of DOWNLOADS: a stored file (a table with the file columns:
storage_key, content_type, size_bytes) or a document drawn on demand (invoice and estimate
PDFs). Adding
a kind is a name in auth/downloads.py and one entry here.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol
from urllib.parse import quote

import sqlalchemy as sa
from sqlalchemy.engine import RowMapping
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from auth.access import portal_opens, row_scope
from auth.downloads import (
    CAR_PHOTO,
    DOCUMENT,
    ESTIMATE_PDF,
    INVOICE_PDF,
    JOB_PHOTO,
    KINDS,
    LOGGED_AS,
    MESSAGE_ATTACHMENT,
    STATEMENT_PDF,
    read_download_token,
)
from auth.sessions import viewer_for_session
from auth.viewer import Viewer, ViewerKind
from core.settings import Settings
from domain.access_log import record_access
from domain.billing.statements import (
    check_range,
    describe,
    ledger_queries,
    movements_of,
    statement_of,
    statement_parties,
)
from domain.problems import Rejected
from models import tables
from models.clock import Clock
from models.db import Database, ReadScope
from models.enums import AccessAction
from models.estimate_documents import load_estimate_document
from models.invoice_documents import load_invoice_document
from models.loaders import Loaders
from pdf.estimate import render_estimate
from pdf.invoice import render_invoice
from pdf.statement import StatementDocument, StatementLine, render_statement
from storage import FileMissing, storage_from_settings

log = logging.getLogger("portico.downloads")

# The link is a credential: keep it out of caches, referrers and content sniffing.
PRIVATE = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
EXTENSIONS = {
    "application/pdf": "pdf",
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/heic": "heic",
    "image/webp": "webp",
}


@dataclass(frozen=True)
class Served:
    """A file ready to send."""

    body: bytes | AsyncIterator[bytes]
    content_type: str
    filename: str
    size: int | None = None


class Downloadable(Protocol):
    @property
    def inline(self) -> bool:
        """Shown in the browser (images) rather than saved."""

    async def serve(
        self,
        reads: ReadScope,
        viewer: Viewer,
        row_id: uuid.UUID,
        settings: Settings,
        detail: str | None = None,
    ) -> Served | None: ...


@dataclass(frozen=True)
class StoredFile:
    """Rows of `table` that name a file in storage."""

    table: sa.Table
    filename: Callable[[RowMapping], str]
    inline: bool = False

    async def serve(
        self,
        reads: ReadScope,
        viewer: Viewer,
        row_id: uuid.UUID,
        settings: Settings,
        detail: str | None = None,
    ) -> Served | None:
        row = await Loaders(reads, row_scope(viewer)).get(self.table, row_id)
        if row is None or not row["storage_key"]:
            return None
        stream = storage_from_settings(settings).open(row["storage_key"])
        try:
            first = await anext(stream, b"")
        except FileMissing:
            log.error("%s %s names a file that is not in storage", self.table.name, row_id)
            return None
        body = _chain(first, stream)
        return Served(body, row["content_type"], self.filename(row), row["size_bytes"])


@dataclass(frozen=True)
class Rendered:
    """A document drawn from rows when it is asked for."""

    render: Callable[[ReadScope, Viewer, uuid.UUID], Awaitable[Served | None]]
    inline: bool = False

    async def serve(
        self,
        reads: ReadScope,
        viewer: Viewer,
        row_id: uuid.UUID,
        settings: Settings,
        detail: str | None = None,
    ) -> Served | None:
        return await self.render(reads, viewer, row_id)


@dataclass(frozen=True)
class RenderedPart:
    """A document drawn from a row and the part of it the link names (`detail`)."""

    render: Callable[[ReadScope, Viewer, uuid.UUID, str], Awaitable[Served | None]]
    inline: bool = False

    async def serve(
        self,
        reads: ReadScope,
        viewer: Viewer,
        row_id: uuid.UUID,
        settings: Settings,
        detail: str | None = None,
    ) -> Served | None:
        if detail is None:
            return None
        return await self.render(reads, viewer, row_id, detail)


async def _chain(first: bytes, rest: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    if first:
        yield first
    async for chunk in rest:
        yield chunk


async def invoice_pdf(reads: ReadScope, viewer: Viewer, row_id: uuid.UUID) -> Served | None:
    assert viewer.organization_id is not None
    doc = await load_invoice_document(reads, viewer.organization_id, row_id, row_scope(viewer))
    if doc is None:
        return None
    # Laying out a long invoice takes a while: keep the event loop free meanwhile.
    body = await run_in_threadpool(render_invoice, doc)
    name = f"invoice-{doc.number}.pdf" if doc.number is not None else "invoice-draft.pdf"
    return Served(body, "application/pdf", name)


async def estimate_pdf(reads: ReadScope, viewer: Viewer, row_id: uuid.UUID) -> Served | None:
    assert viewer.organization_id is not None
    scope = row_scope(viewer)
    doc = await load_estimate_document(reads, viewer.organization_id, row_id, scope, Clock.start())
    if doc is None:
        return None
    body = await run_in_threadpool(render_estimate, doc)
    name = f"estimate-{doc.number}.pdf" if doc.number is not None else "estimate-draft.pdf"
    return Served(body, "application/pdf", name)


async def statement_pdf(
    reads: ReadScope, viewer: Viewer, customer_id: uuid.UUID, detail: str
) -> Served | None:
    """The customer's statement for the range the link names, read under the viewer's
    scope as Customer.statement is (a contact whose scope does not open invoices: none)."""
    assert viewer.organization_id is not None
    if viewer.is_portal and not portal_opens(viewer, "invoices"):
        return None
    try:
        start, end = (date.fromisoformat(part) for part in detail.split("/"))
        check_range(start, end)
    except (ValueError, Rejected):
        return None
    scope = row_scope(viewer)
    loaders = Loaders(reads, scope)
    customer = await loaders.get(tables.customers, customer_id)
    org = await loaders.get(tables.organizations, viewer.organization_id)
    if customer is None or org is None:
        return None
    queries = ledger_queries(
        viewer.organization_id,
        customer_id,
        org["currency"],
        end,
        scope.conditions(tables.invoices),
    )
    params = {**scope.params, **loaders.clock.params}
    rows = {name: await reads.rows(query, params) for name, query in queries.items()}
    statement = statement_of(movements_of(rows, org["timezone"]), start, end, org["currency"])
    doc = StatementDocument(
        parties=statement_parties(org, customer),
        start=start,
        end=end,
        currency=statement.currency,
        opening=statement.opening,
        closing=statement.closing,
        lines=[
            StatementLine(e.movement.day, describe(e.movement), e.movement.amount, e.balance)
            for e in statement.entries
        ],
    )
    body = await run_in_threadpool(render_statement, doc)
    return Served(body, "application/pdf", f"statement-{start}-{end}.pdf")


def titled(column: str) -> Callable[[RowMapping], str]:
    """A download name from a title column, with the extension of the stored type."""

    def name(row: RowMapping) -> str:
        extension = EXTENSIONS.get(row["content_type"], "bin")
        title = row[column] or "file"
        return title if title.lower().endswith(f".{extension}") else f"{title}.{extension}"

    return name


DOWNLOADS: dict[str, Downloadable] = {
    INVOICE_PDF: Rendered(invoice_pdf),
    ESTIMATE_PDF: Rendered(estimate_pdf),
    STATEMENT_PDF: RenderedPart(statement_pdf),
    DOCUMENT: StoredFile(tables.documents, titled("name")),
    CAR_PHOTO: StoredFile(tables.car_photos, titled("filename"), inline=True),
    JOB_PHOTO: StoredFile(tables.job_photos, titled("filename"), inline=True),
    MESSAGE_ATTACHMENT: StoredFile(tables.message_attachments, titled("filename")),
}
assert set(DOWNLOADS) == KINDS, "every download kind needs an entry in DOWNLOADS"


def content_disposition(filename: str, *, inline: bool = False) -> str:
    """`attachment; filename="..."`, with an RFC 6266 UTF-8 form when the name needs it."""
    kind = "inline" if inline else "attachment"
    plain = re.sub(r"[^A-Za-z0-9 ._()+-]", "_", filename)[:150] or "file"
    if plain == filename:
        return f'{kind}; filename="{plain}"'
    return f"{kind}; filename=\"{plain}\"; filename*=UTF-8''{quote(filename, safe='')}"


def not_found() -> Response:
    body = {"error": {"code": "NOT_FOUND", "message": "This link is not valid."}}
    return JSONResponse(body, status_code=404, headers=PRIVATE)


def unauthenticated() -> Response:
    body = {
        "error": {"code": "UNAUTHENTICATED", "message": "Your session has ended. Sign in again."}
    }
    return JSONResponse(body, status_code=401, headers=PRIVATE)


async def download(request: Request) -> Response:
    settings: Settings = request.app.state.settings
    db: Database = request.app.state.db
    grant = read_download_token(settings, request.path_params["token"])
    kind = DOWNLOADS.get(grant.kind) if grant is not None else None
    if grant is None or kind is None:
        return not_found()
    reads = db.reader()
    try:
        viewer = await viewer_for_session(reads, grant.session_id)
        if viewer.kind is ViewerKind.ANONYMOUS or viewer.organization_id is None:
            return unauthenticated()
        served = await kind.serve(reads, viewer, grant.row_id, settings, grant.detail)
    finally:
        await reads.close()
    if served is None:
        return not_found()
    logged_as = LOGGED_AS.get(grant.kind)
    if logged_as is not None:
        client = request.client.host if request.client else None
        subjects = [(logged_as, grant.row_id)]
        user_agent = request.headers.get("user-agent")
        await record_access(
            db, viewer, AccessAction.DOWNLOAD, subjects, ip=client, user_agent=user_agent
        )
    headers: dict[str, Any] = {
        **PRIVATE,
        "Content-Disposition": content_disposition(served.filename, inline=kind.inline),
    }
    if isinstance(served.body, bytes):
        return Response(served.body, media_type=served.content_type, headers=headers)
    if served.size is not None:
        headers["Content-Length"] = str(served.size)
    return StreamingResponse(served.body, media_type=served.content_type, headers=headers)
