"""`messageAdded`: new messages, as they are posted, to the viewers who may read them.

A subscription lives on a WebSocket for as long as the client keeps it, so it does not
trust the viewer decided when the connection opened: the session is checked again when the
subscription starts, before every event it delivers and at least every `RECHECK_SECONDS`
while it is idle; an ended session ends the subscription with UNAUTHENTICATED. Each event
names a message; the message is then read through the viewer's own scope (auth/access.py),
so a subscriber never receives a row it could not query.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from sqlalchemy.engine import RowMapping
from strawberry import Info

from auth.access import portal_opens
from auth.sessions import viewer_for_session
from auth.viewer import Viewer
from core.errors import ClientError, Forbidden, NotFound, Unauthenticated
from core.ids import decode_id_of
from domain.messaging.conversations import messages_topic
from models import tables

if TYPE_CHECKING:  # annotations only: resolvers do not import the schema
    from schema.context import Context

RECHECK_SECONDS = 60.0


class LiveUnavailable(ClientError):
    code = "UNAVAILABLE"
    message = "Live updates are not available on this server."


async def current_viewer(ctx: Context) -> Viewer:
    """The connection's viewer as the session stands now, with fresh loaders (rows and
    permission decisions cached for an earlier event must not serve this one)."""
    found = ctx.viewer
    if found.session_id is not None:
        found = await viewer_for_session(ctx.reader, found.session_id)
    if not (found.is_staff or found.is_portal):
        raise Unauthenticated("Your session has ended. Sign in again.")
    ctx.as_viewer(found)
    ctx.extras.pop("permissions", None)
    return found


async def _customer_filter(ctx: Context, viewer: Viewer, gid: str | None) -> uuid.UUID | None:
    """Whose messages: a portal viewer's own customer; for staff, one customer or all."""
    wanted = decode_id_of("Customer", gid) if gid else None
    if viewer.is_portal:
        if not portal_opens(viewer, "messages"):
            raise Forbidden("Your portal access does not include messages.")
        if wanted is not None and wanted != viewer.customer_id:
            raise NotFound()
        return viewer.customer_id
    if wanted is not None and await ctx.loaders.get(tables.customers, wanted) is None:
        raise NotFound()
    return wanted


async def message_added(info: Info, customer_gid: str | None) -> AsyncIterator[RowMapping]:
    ctx: Context = info.context
    if ctx.broker is None:
        raise LiveUnavailable()
    try:
        viewer = await current_viewer(ctx)
        customer_id = await _customer_filter(ctx, viewer, customer_gid)
    finally:
        await ctx.reader.close()
    assert viewer.organization_id is not None
    async with ctx.broker.subscribe(messages_topic(viewer.organization_id)) as events:
        while True:
            try:
                payload = await asyncio.wait_for(anext(events), RECHECK_SECONDS)
            except TimeoutError:
                try:
                    await current_viewer(ctx)
                finally:
                    await ctx.reader.close()
                continue
            event = json.loads(payload)
            if customer_id is not None and event["customer"] != str(customer_id):
                continue
            try:
                await current_viewer(ctx)
                row = await ctx.loaders.get(tables.messages, uuid.UUID(event["id"]))
            finally:
                await ctx.reader.close()
            if row is not None:
                yield row
                # Resumed once the event has been resolved and sent: its fields may have
                # read more rows, and an idle subscription holds no pool connection.
                await ctx.reader.close()
