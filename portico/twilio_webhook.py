"""POST /webhooks/twilio: texts people send to our number, for their opt-out keywords.

Twilio signs each request: X-Twilio-Signature is base64(HMAC-SHA1(auth token, the full
URL it called + every form parameter's name and value, sorted by name)). The URL is the
one configured at Twilio, which is PUBLIC_URL + /webhooks/twilio (plus any query string):
behind a proxy the address this process sees differs, so PUBLIC_URL must be the public
one. A missing or wrong signature gets 403 and changes nothing. The answer is empty TwiML:
Twilio itself replies to STOP and START with its standard confirmation texts.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
from collections.abc import Awaitable, Callable, Mapping

from starlette.requests import Request
from starlette.responses import Response

from core.db_faults import database_unavailable
from core.phones import to_e164
from core.settings import Settings
from domain.messaging.opt_outs import answer_keyword
from models.db import Database

log = logging.getLogger("portico.webhooks")

MAX_BODY = 64_000  # an inbound text's form is a few hundred bytes
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def twilio_signature(auth_token: str, url: str, params: Mapping[str, str]) -> str:
    """What Twilio puts in X-Twilio-Signature for a form POST of `params` to `url`."""
    signed = url + "".join(name + params[name] for name in sorted(params))
    digest = hmac.new(auth_token.encode(), signed.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def twilio_webhook(db: Database, settings: Settings) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        token = settings.twilio_auth_token
        if not token:
            return Response("texts are not configured", status_code=503)
        body = await request.body()
        if len(body) > MAX_BODY:
            return Response("too large", status_code=413)
        form = await request.form()
        params = {name: value for name, value in form.items() if isinstance(value, str)}
        url = f"{settings.public_url}{request.url.path}"
        if request.url.query:
            url += f"?{request.url.query}"
        given = request.headers.get("x-twilio-signature", "")
        if not given or not hmac.compare_digest(given, twilio_signature(token, url, params)):
            log.warning("refused a Twilio webhook: bad or missing signature")
            return Response("bad signature", status_code=403)
        sender = to_e164(params.get("From", ""), settings.phone_region)
        if sender is None:
            return _twiml()  # not from a phone number: nothing to do
        try:
            await answer_keyword(db, sender, params.get("Body", ""))
        except Exception as exc:
            if database_unavailable(exc):  # Twilio retries a failed webhook
                db.outage.failed("Twilio inbound text refused", exc)
                return Response("unavailable", status_code=503)
            raise
        return _twiml()

    return endpoint


def _twiml() -> Response:
    return Response(EMPTY_TWIML, media_type="text/xml")
