"""`GET /exports/{kind}.csv?from=YYYY-MM-DD&to=YYYY-MM-DD`: an organization's customers,
cars, invoices or payments as CSV, for OWNER and ADMIN staff (bearer token).

The range is of days in the organization's zone, both ends included, either end optional:
customers and cars by when they were created, invoices by their issue date (drafts have
none, so a range leaves them out), payments by when they were received. The body streams
in batches (domain/exports/export.py); an audit row is written before it starts and
another, with the row count, once it has all been sent.
Refusals are JSON `{"error": {"code", "message"}}` with codes of `ExportCode`.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from auth.exports import may_export, read_export_token
from auth.sessions import viewer_for_session, viewer_for_token
from auth.viewer import Viewer, ViewerKind
from domain.exports.codes import ExportCode
from domain.exports.export import (
    KINDS,
    DateRange,
    Tally,
    csv_chunks,
    organization_zone,
    record_export,
)
from models.clock import Clock
from models.db import Database
from portico.downloads import PRIVATE, content_disposition

DAY = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
STATUS = {
    ExportCode.UNAUTHENTICATED: 401,
    ExportCode.FORBIDDEN: 403,
    ExportCode.UNKNOWN_KIND: 404,
    ExportCode.BAD_DATE: 400,
    ExportCode.LINK_INVALID: 404,
}


@dataclass(frozen=True)
class ExportActor:
    viewer: Viewer
    client_ip: str | None
    user_agent: str | None


def refused(code: ExportCode, message: str, *, status: int | None = None) -> Response:
    headers = {**PRIVATE}
    if code is ExportCode.UNAUTHENTICATED:
        headers["WWW-Authenticate"] = "Bearer"
    body = {"error": {"code": code.value, "message": message}}
    return JSONResponse(body, status_code=status or STATUS[code], headers=headers)


def _day(request: Request, name: str) -> date | None:
    text = request.query_params.get(name)
    if not text:
        return None
    if not DAY.fullmatch(text):  # fromisoformat also takes 20240101 and week dates
        raise ValueError(name)
    return date.fromisoformat(text)


async def export_csv(request: Request) -> Response:
    """An export asked for with the bearer token."""
    db: Database = request.app.state.db
    reads = db.reader()
    try:
        viewer = await viewer_for_token(reads, _bearer(request))
    finally:
        await reads.close()
    refusal = _refusal(viewer)
    if refusal is not None:
        return refusal
    kind_name = request.path_params["kind"]
    if kind_name not in KINDS:
        return refused(ExportCode.UNKNOWN_KIND, f"Exports are of {', '.join(KINDS)}.")
    try:
        dates = DateRange(_day(request, "from"), _day(request, "to"))
    except ValueError:
        return refused(ExportCode.BAD_DATE, "`from` and `to` are dates as YYYY-MM-DD.")
    if dates.first and dates.last and dates.first > dates.last:
        return refused(ExportCode.BAD_DATE, "`from` is after `to`.")
    return await _streamed(request, viewer, kind_name, dates)


async def export_link(request: Request) -> Response:
    """An export through a signed link (`createExportLink`): its session and role are
    checked again now, so a link is worth nothing once access ends."""
    db: Database = request.app.state.db
    grant = read_export_token(db.settings, request.path_params["token"])
    if grant is None:
        return refused(ExportCode.LINK_INVALID, "This link is not valid.")
    reads = db.reader()
    try:
        viewer = await viewer_for_session(reads, grant.session_id)
    finally:
        await reads.close()
    refusal = _refusal(viewer)
    if refusal is not None:
        return refusal
    return await _streamed(request, viewer, grant.kind, DateRange(grant.first, grant.last))


def _refusal(viewer: Viewer) -> Response | None:
    if viewer.kind is ViewerKind.ANONYMOUS or viewer.organization_id is None:
        return refused(ExportCode.UNAUTHENTICATED, "Sign in as staff to export.")
    if not may_export(viewer):
        return refused(ExportCode.FORBIDDEN, "Only an OWNER or ADMIN may export.")
    return None


async def _streamed(request: Request, viewer: Viewer, kind_name: str, dates: DateRange) -> Response:
    db: Database = request.app.state.db
    assert viewer.organization_id is not None
    client = request.client.host if request.client else None
    actor = ExportActor(viewer, client, request.headers.get("user-agent"))
    await record_export(db, actor, kind_name, dates)
    timezone = await organization_zone(db, viewer.organization_id)
    tally = Tally()
    rows = csv_chunks(db, viewer, KINDS[kind_name], dates, timezone, Clock.start(), tally)
    body = _then_recorded(rows, db, actor, kind_name, dates, tally)
    range_name = "-".join(d.isoformat() for d in (dates.first, dates.last) if d)
    filename = f"{kind_name}-{range_name}.csv" if range_name else f"{kind_name}.csv"
    headers = {**PRIVATE, "Content-Disposition": content_disposition(filename)}
    return StreamingResponse(body, media_type="text/csv; charset=utf-8", headers=headers)


async def _then_recorded(
    chunks: AsyncIterator[bytes],
    db: Database,
    actor: ExportActor,
    kind_name: str,
    dates: DateRange,
    tally: Tally,
) -> AsyncIterator[bytes]:
    async for chunk in chunks:
        yield chunk
    await record_export(db, actor, kind_name, dates, rows=tally.rows)


def _bearer(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None
