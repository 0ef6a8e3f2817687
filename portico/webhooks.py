"""POST /webhooks/stripe: Stripe's signed events about payments and connected accounts.

A bad signature, an altered body or a stale timestamp gets 400 and changes nothing; an
event that fails to apply gets 500 (503 while the database is down) so that Stripe delivers
it again; a refund or dispute of a payment not recorded yet is kept and answered 202, and
applied when the payment is; repeats are answered 200 without a second effect
(domain/payments/stripe_events.py records each event id once).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse

from core.db_faults import database_busy, database_unavailable
from core.settings import Settings
from domain.payments.stripe_events import Outcome, WrongAccount, handle_event
from models.db import Database
from payments.signature import BadSignature, verify_event

log = logging.getLogger("portico.webhooks")

MAX_BODY = 1_000_000  # Stripe's events are a few kilobytes


def _answer(status: int, code: str) -> JSONResponse:
    return JSONResponse({"received": status in (200, 202), "code": code}, status_code=status)


def stripe_webhook(
    db: Database, settings: Settings
) -> Callable[[Request], Awaitable[JSONResponse]]:
    async def endpoint(request: Request) -> JSONResponse:
        if not settings.stripe_webhook_secret:
            return _answer(503, "NOT_CONFIGURED")
        body = await request.body()
        if len(body) > MAX_BODY:
            return _answer(413, "TOO_LARGE")
        try:
            event = verify_event(
                body, request.headers.get("stripe-signature"), settings.stripe_webhook_secret
            )
        except BadSignature as error:
            log.warning("refused a Stripe webhook: %s", error)
            return _answer(400, "BAD_SIGNATURE")
        try:
            outcome = await handle_event(db, event, production=settings.production)
        except WrongAccount as error:
            log.warning("refused Stripe event %s: %s", event.get("id"), error)
            return _answer(400, "WRONG_ACCOUNT")
        except Exception as exc:
            if database_unavailable(exc):  # Stripe delivers it again once we are back
                db.outage.failed(f"Stripe event {event.get('id')} refused", exc)
                return _answer(503, "SERVICE_UNAVAILABLE")
            if database_busy(exc):  # a locked row or a slow statement: Stripe retries
                log.warning("database busy: Stripe event %s timed out (%s)", event.get("id"), exc)
                return _answer(504, "REQUEST_TIMEOUT")
            log.exception("could not apply Stripe event %s; Stripe will retry", event.get("id"))
            return _answer(500, "RETRY")
        # 202: kept, not applied yet; Stripe counts any 2xx as delivered, which it is.
        return _answer(202 if outcome == Outcome.PENDING else 200, outcome.value)

    return endpoint
