"""`GET /downloads/{token}`: a file behind a signed, short-lived link.

The token only says which session asked for which row. The viewer is decided again from
that session (an ended or revoked session answers 401) and the row is read under the
viewer's scope as it is now (a row they may no longer see answers the same 404 as a token
that was never valid), so a leaked link is worth nothing once access ends.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from auth.access import row_scope
from auth.downloads import INVOICE_PDF, read_download_token
from auth.sessions import viewer_for_session
from auth.viewer import ViewerKind
from models.db import Database
from models.invoice_documents import load_invoice_document
from pdf.invoice import render_invoice
from portico.settings import Settings

# The link is a credential: keep it out of caches, referrers and content sniffing.
PRIVATE = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


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
    if grant is None or grant.kind != INVOICE_PDF:
        return not_found()
    reads = db.reader()
    try:
        viewer = await viewer_for_session(reads, grant.session_id)
        if viewer.kind is ViewerKind.ANONYMOUS or viewer.organization_id is None:
            return unauthenticated()
        doc = await load_invoice_document(
            reads, viewer.organization_id, grant.row_id, row_scope(viewer)
        )
    finally:
        await reads.close()
    if doc is None:
        return not_found()
    # Laying out a long invoice takes a while: keep the event loop free meanwhile.
    body = await run_in_threadpool(render_invoice, doc)
    name = f"invoice-{doc.number}.pdf" if doc.number is not None else "invoice-draft.pdf"
    headers = {**PRIVATE, "Content-Disposition": f'attachment; filename="{name}"'}
    return Response(body, media_type="application/pdf", headers=headers)
