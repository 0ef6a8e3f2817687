"""A stub Stripe API on loopback, for what localstripe does not do as Stripe does.

It is a real HTTP server (Starlette under uvicorn, in a thread of its own) speaking Stripe's
wire format: form-encoded bodies in bracket notation, JSON objects with `id` and `object`,
Stripe's error envelope. Unlike localstripe it honours `Idempotency-Key` (same key and same
parameters: the stored answer again; different parameters: 400 `idempotency_error`), keeps
each object to the connected account that created it (`Stripe-Account`; another account gets
404 `resource_missing`), and never refunds more than was received.

A `Stripe-Account` must be an account the stub knows: made through `POST /v1/accounts` or
`set_account()`; any other answers 403 `account_invalid`, as Stripe does for an account the
platform cannot reach.

Test controls: `requests`, `delay_seconds`, `during_call` (awaited with each request before
it is answered), `fail_next()`, `set_status()`, `set_account()`,
`complete_checkout()`, `complete_setup()`, `event()`, `get()`, `objects()`, `max_list_limit`,
`reset()`.
"""

from __future__ import annotations

import asyncio
import copy
import json
import re
import secrets
import socket
import threading
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import stripe
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

API_VERSION = stripe.api_version
# Cards that Stripe's test mode declines when charged.
DECLINING_PAYMENT_METHODS = frozenset(
    {"pm_card_chargeDeclined", "pm_card_chargeCustomerFail", "pm_card_visa_chargeDeclined"}
)


def _new_id(prefix: str) -> str:
    return prefix + secrets.token_hex(12)


def _unflatten(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """`a[b][0]=x` pairs as nested dicts, dicts keyed 0..n-1 turned into lists."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        head, _, tail = key.partition("[")
        parts = [head, *re.findall(r"([^\[\]]*)\]", "[" + tail)] if tail else [head]
        node = root
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        last = parts[-1] or str(len(node))  # `a[]=x` appends
        node[last] = value
    return _listify(root)


def _listify(value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    items = {k: _listify(v) for k, v in value.items()}
    if items and all(k.isdigit() for k in items):
        return [items[k] for k in sorted(items, key=int)]
    return items


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the stub received it; `form` is the body, or the query of a GET."""

    method: str
    path: str
    headers: dict[str, str]  # lower-case names
    form: dict[str, Any]

    @property
    def stripe_account(self) -> str | None:
        return self.headers.get("stripe-account")

    @property
    def idempotency_key(self) -> str | None:
        return self.headers.get("idempotency-key")


class StripeError(Exception):
    """An answer in Stripe's error envelope. `saved` errors are replayed under their key."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        saved: bool = False,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.saved = saved
        body: dict[str, Any] = {"type": type, "message": message}
        if code is not None:
            body["code"] = code
        if param is not None:
            body["param"] = param
        body.update(extra or {})
        self.body = {"error": body}


def _missing(kind: str, object_id: str, param: str = "id", status: int = 404) -> StripeError:
    return StripeError(
        status, f"No such {kind}: '{object_id}'", code="resource_missing", param=param
    )


@dataclass
class _Stored:
    owner: str | None  # the Stripe-Account that created it; None for the platform
    data: dict[str, Any]
    seq: int


@dataclass
class _Saved:
    fingerprint: tuple[str, str, str]
    status: int
    body: dict[str, Any]


@dataclass
class _Call:
    """What a handler gets: the acting account, the parameters, the id from the path."""

    account: str | None
    params: dict[str, Any]
    object_id: str | None = None
    query: dict[str, Any] = field(default_factory=dict)


Handler = Callable[["StripeStub", _Call], dict[str, Any]]


def _int(params: dict[str, Any], name: str, *, required: bool = True) -> int | None:
    raw = params.get(name)
    if raw is None:
        if required:
            raise StripeError(400, f"Missing required param: {name}.", code="parameter_missing")
        return None
    try:
        return int(raw)
    except (TypeError, ValueError):
        raise StripeError(
            400, f"Invalid integer: {raw}", code="parameter_invalid_integer", param=name
        ) from None


def _require(params: dict[str, Any], *names: str) -> None:
    for name in names:
        if params.get(name) in (None, ""):
            raise StripeError(
                400, f"Missing required param: {name}.", code="parameter_missing", param=name
            )


def _only(params: dict[str, Any], allowed: set[str]) -> None:
    for name in params:
        if name not in allowed:
            raise StripeError(
                400, f"Received unknown parameter: {name}", code="parameter_unknown", param=name
            )


def _metadata(params: dict[str, Any], name: str = "metadata") -> dict[str, str]:
    value = params.get(name) or {}
    if not isinstance(value, dict):
        raise StripeError(400, "Invalid object", code="parameter_invalid_empty", param=name)
    return {str(k): str(v) for k, v in value.items()}


class StripeStub:
    """The stub server and its state; `start()` it once, `reset()` it between tests."""

    def __init__(self) -> None:
        self.host = "127.0.0.1"
        self.port = 0
        self.requests: list[RecordedRequest] = []
        self.delay_seconds = 0.0
        self.during_call: Callable[[RecordedRequest], Awaitable[None]] | None = None
        self.max_list_limit = 100  # Stripe's; lower it to see pagination with few objects
        self._lock = threading.RLock()
        self._failures: list[int] = []
        self._objects: dict[str, _Stored] = {}
        self._saved: dict[tuple[str | None, str], _Saved] = {}
        self._refunded: dict[str, int] = {}
        self._seq = 0
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None

    # -- lifecycle -------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, 0))
        self.port = sock.getsockname()[1]
        app = Starlette(routes=[Route("/{path:path}", self._endpoint, methods=["GET", "POST"])])
        config = uvicorn.Config(
            app,
            log_level="warning",
            access_log=False,
            lifespan="off",
            ws="none",
            http="h11",
            timeout_graceful_shutdown=1,
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="stripe-stub", daemon=True
        )
        thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the stub Stripe server did not start")
            time.sleep(0.01)
        self._server, self._thread = server, thread
        self._socket = sock

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(10)
            self._server = self._thread = None
        if self._socket is not None:
            self._socket.close()
            self._socket = None

    def reset(self) -> None:
        """Forget every object, key, request and injected fault."""
        with self._lock:
            self.requests.clear()
            self.delay_seconds = 0.0
            self.during_call = None
            self.max_list_limit = 100
            self._failures.clear()
            self._objects.clear()
            self._saved.clear()
            self._refunded.clear()

    # -- test controls ---------------------------------------------------------------------

    def fail_next(self, status_code: int = 500) -> None:
        """Answer the next request with this error before it reaches the API: no effect."""
        with self._lock:
            self._failures.append(status_code)

    def set_status(self, payment_intent_id: str, status: str) -> dict[str, Any]:
        """Move a PaymentIntent on, as the customer's browser would; `succeeded` receives it."""
        with self._lock:
            data = self._objects[payment_intent_id].data
            data["status"] = status
            if status == "succeeded":
                data["amount_received"] = data["amount"]
                data["latest_charge"] = data["latest_charge"] or _new_id("ch_")
            return copy.deepcopy(data)

    def set_account(
        self,
        account_id: str,
        *,
        charges_enabled: bool | None = None,
        details_submitted: bool | None = None,
        payouts_enabled: bool | None = None,
    ) -> dict[str, Any]:
        """Create (when new) or change a connected account, as finishing onboarding would."""
        with self._lock:
            stored = self._objects.get(account_id)
            if stored is None:
                stored = self._store(None, self._account_object(account_id, {}))
            data = stored.data
            for name, value in (
                ("charges_enabled", charges_enabled),
                ("details_submitted", details_submitted),
                ("payouts_enabled", payouts_enabled),
            ):
                if value is not None:
                    data[name] = value
            return copy.deepcopy(data)

    def complete_checkout(self, session_id: str) -> dict[str, Any]:
        """The customer pays a Checkout Session: its PaymentIntent appears, succeeded."""
        with self._lock:
            stored = self._objects[session_id]
            session = stored.data
            intent = self._payment_intent_object(
                amount=session["amount_total"],
                currency=session["currency"],
                metadata=session.pop("_payment_intent_metadata", {}),
            )
            intent["status"] = "succeeded"
            intent["amount_received"] = intent["amount"]
            intent["latest_charge"] = _new_id("ch_")
            self._store(stored.owner, intent)
            session.update(status="complete", payment_status="paid", payment_intent=intent["id"])
            return self._public(session)

    def complete_setup(self, setup_intent_id: str, *, declines_charges: bool = False) -> str:
        """The customer enters a card in the browser: the SetupIntent succeeds with a new
        card attached to its customer. `declines_charges`: a card later charges decline on
        (as Stripe's 4000000000000341). Returns the payment method's id."""
        with self._lock:
            stored = self._objects[setup_intent_id]
            last4 = "0341" if declines_charges else "4242"
            method = {
                "id": _new_id("pm_"),
                "object": "payment_method",
                "type": "card",
                "customer": stored.data["customer"],
                "card": {"brand": "visa", "last4": last4, "exp_month": 12, "exp_year": 2030},
                "created": int(time.time()),
                "livemode": False,
                "_declines": declines_charges,
            }
            self._store(stored.owner, method)
            stored.data.update(status="succeeded", payment_method=method["id"])
            return method["id"]

    def refund_at_stripe(self, payment_intent_id: str, amount: int) -> dict[str, Any]:
        """The business refunds in Stripe's dashboard, not through Portico: the refund
        exists at Stripe and Portico hears of it only by webhook or by reconciliation."""
        with self._lock:
            stored = self._objects[payment_intent_id]
            call = _Call(stored.owner, {"payment_intent": payment_intent_id, "amount": str(amount)})
            return self._create_refund(call)

    def charge(self, payment_intent_id: str) -> dict[str, Any]:
        """The succeeded PaymentIntent's charge as `charge.*` events carry it; no metadata
        (Stripe does not copy the PaymentIntent's onto it for every integration)."""
        with self._lock:
            intent = self._objects[payment_intent_id].data
            refunded = self._refunded.get(payment_intent_id, 0)
            return {
                "id": intent["latest_charge"],
                "object": "charge",
                "amount": intent["amount_received"],
                "amount_refunded": refunded,
                "refunded": refunded >= intent["amount_received"],
                "currency": intent["currency"],
                "payment_intent": payment_intent_id,
                "metadata": {},
                "created": int(time.time()),
            }

    def dispute(
        self, payment_intent_id: str, amount: int, status: str = "needs_response"
    ) -> dict[str, Any]:
        """The cardholder disputes the charge (or the dispute moves on to `status`)."""
        with self._lock:
            stored = self._objects[payment_intent_id]
            found = [
                s
                for s in self._objects.values()
                if s.data["object"] == "dispute" and s.data["payment_intent"] == payment_intent_id
            ]
            if found:
                found[0].data.update(status=status)
                return self._public(found[0].data)
            data = {
                "id": _new_id("dp_"),
                "object": "dispute",
                "amount": amount,
                "currency": stored.data["currency"],
                "charge": stored.data["latest_charge"],
                "payment_intent": payment_intent_id,
                "status": status,
                "reason": "fraudulent",
                "metadata": {},
                "created": int(time.time()),
                "livemode": False,
            }
            self._store(stored.owner, data)
            return self._public(data)

    def get(self, object_id: str) -> dict[str, Any]:
        """A stored object as Stripe would return it."""
        with self._lock:
            return self._public(self._objects[object_id].data)

    def owner(self, object_id: str) -> str | None:
        """The connected account an object belongs to (None: the platform)."""
        with self._lock:
            return self._objects[object_id].owner

    def objects(self, object_type: str) -> list[dict[str, Any]]:
        """Every stored object of a type (`payment_intent`, `refund`, ...), oldest first."""
        with self._lock:
            found = sorted(self._objects.values(), key=lambda s: s.seq)
            return [self._public(s.data) for s in found if s.data["object"] == object_type]

    def event(
        self,
        type: str,
        data_object: dict[str, Any],
        account: str | None = None,
        *,
        previous_attributes: dict[str, Any] | None = None,
        created: int | None = None,
    ) -> bytes:
        """A webhook body exactly as Stripe sends it (sign it with `sign_payload`)."""
        data: dict[str, Any] = {"object": data_object}
        if previous_attributes is not None:
            data["previous_attributes"] = previous_attributes
        event: dict[str, Any] = {"id": _new_id("evt_"), "object": "event"}
        if account is not None:  # Stripe names the account only on Connect events
            event["account"] = account
        event.update(
            api_version=API_VERSION,
            created=int(time.time()) if created is None else created,
            data=data,
            livemode=False,
            pending_webhooks=1,
            request={"id": _new_id("req_"), "idempotency_key": None},
            type=type,
        )
        return json.dumps(event, indent=2).encode()

    # -- HTTP ------------------------------------------------------------------------------

    async def _endpoint(self, request: Request) -> Response:
        body = (await request.body()).decode()
        pairs = parse_qsl(body if request.method == "POST" else request.url.query, True)
        recorded = RecordedRequest(
            method=request.method,
            path=request.url.path,
            headers={k.lower(): v for k, v in request.headers.items()},
            form=_unflatten(pairs),
        )
        with self._lock:
            self.requests.append(recorded)
            status, payload, headers = self._answer(recorded, body)
            delay = self.delay_seconds
        if self.during_call is not None:
            await self.during_call(recorded)
        if delay:
            # The work is done and stored; only the answer is late, as with a slow Stripe.
            await asyncio.sleep(delay)
        headers["Request-Id"] = _new_id("req_")
        return Response(
            json.dumps(payload, indent=2),
            status_code=status,
            headers=headers,
            media_type="application/json",
        )

    def _answer(
        self, request: RecordedRequest, raw_body: str
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        headers: dict[str, str] = {}
        try:
            if self._failures:
                status = self._failures.pop(0)
                kind = "rate_limit_error" if status == 429 else "api_error"
                raise StripeError(status, "The stub was told to fail this request.", type=kind)
            if not request.headers.get("authorization", "").startswith("Bearer sk_"):
                raise StripeError(401, "Invalid API Key provided.")
            account = request.stripe_account
            if account is not None and self._account_data(account) is None:
                raise StripeError(
                    403,
                    f"The provided key does not have access to account '{account}' "
                    "(or that account does not exist).",
                    code="account_invalid",
                )
            handler, object_id = self._route(request.method, request.path)
            key = request.idempotency_key if request.method == "POST" else None
            if key is None:
                return 200, handler(self, _Call(account, request.form, object_id)), headers
            headers["Idempotency-Key"] = key
            fingerprint = (request.method, request.path, raw_body)
            saved = self._saved.get((account, key))
            if saved is not None:
                if saved.fingerprint[:2] != fingerprint[:2] or not _same_params(
                    saved.fingerprint[2], raw_body
                ):
                    raise StripeError(
                        400,
                        "Keys for idempotent requests can only be used with the same parameters "
                        f"they were first used with. Try using a key other than '{key}' if you "
                        "meant to execute a different request.",
                        type="idempotency_error",
                    )
                headers["Idempotent-Replayed"] = "true"
                return saved.status, copy.deepcopy(saved.body), headers
            try:
                result = handler(self, _Call(account, request.form, object_id))
            except StripeError as exc:
                if exc.saved:
                    self._saved[(account, key)] = _Saved(fingerprint, exc.status, exc.body)
                raise
            self._saved[(account, key)] = _Saved(fingerprint, 200, copy.deepcopy(result))
            return 200, result, headers
        except StripeError as exc:
            return exc.status, exc.body, headers

    def _route(self, method: str, path: str) -> tuple[Handler, str | None]:
        for route_method, pattern, handler in _ROUTES:
            match = pattern.fullmatch(path)
            if match and route_method == method:
                return handler, match.groupdict().get("id")
        raise StripeError(404, f"Unrecognized request URL ({method}: {path}).")

    # -- storage ---------------------------------------------------------------------------

    def _store(self, owner: str | None, data: dict[str, Any]) -> _Stored:
        self._seq += 1
        stored = _Stored(owner, data, self._seq)
        self._objects[data["id"]] = stored
        return stored

    def _visible(self, call: _Call, object_id: str, kind: str, **missing: Any) -> _Stored:
        stored = self._objects.get(object_id)
        if stored is None or stored.owner != call.account or stored.data["object"] != kind:
            raise _missing(kind, object_id, **missing)
        return stored

    def _account_data(self, account_id: str) -> dict[str, Any] | None:
        stored = self._objects.get(account_id)
        if stored is None or stored.data["object"] != "account":
            return None
        return stored.data

    @staticmethod
    def _public(data: dict[str, Any]) -> dict[str, Any]:
        return {k: copy.deepcopy(v) for k, v in data.items() if not k.startswith("_")}

    # -- resources -------------------------------------------------------------------------

    @staticmethod
    def _account_object(account_id: str, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": account_id,
            "object": "account",
            "type": params.get("type", "express"),
            "email": params.get("email"),
            "country": params.get("country", "US"),
            "default_currency": "usd",
            "charges_enabled": False,
            "payouts_enabled": False,
            "details_submitted": False,
            "created": int(time.time()),
            "metadata": _metadata(params),
        }

    def _create_account(self, call: _Call) -> dict[str, Any]:
        _only(call.params, {"type", "email", "country", "capabilities", "metadata"})
        if call.account is not None:
            raise StripeError(400, "Connected accounts cannot create accounts.")
        data = self._account_object(_new_id("acct_"), call.params)
        self._store(None, data)
        return self._public(data)

    def _retrieve_account(self, call: _Call) -> dict[str, Any]:
        assert call.object_id is not None
        data = self._account_data(call.object_id)
        if data is None or call.account not in (None, call.object_id):
            raise _missing("account", call.object_id)
        return self._public(data)

    def _create_account_link(self, call: _Call) -> dict[str, Any]:
        _only(call.params, {"account", "refresh_url", "return_url", "type", "collect"})
        _require(call.params, "account", "refresh_url", "return_url", "type")
        account = call.params["account"]
        if self._account_data(account) is None or call.account is not None:
            raise _missing("account", account, param="account", status=400)
        if call.params["type"] not in ("account_onboarding", "account_update"):
            raise StripeError(400, "Invalid type.", code="parameter_invalid", param="type")
        created = int(time.time())
        return {
            "object": "account_link",
            "created": created,
            "expires_at": created + 300,
            "url": f"https://connect.stripe.com/setup/e/{account}/{secrets.token_urlsafe(16)}",
        }

    def _payment_intent_object(
        self, *, amount: int, currency: str, metadata: dict[str, str]
    ) -> dict[str, Any]:
        intent_id = _new_id("pi_")
        return {
            "id": intent_id,
            "object": "payment_intent",
            "amount": amount,
            "amount_received": 0,
            "currency": currency,
            "status": "requires_payment_method",
            "client_secret": f"{intent_id}_secret_{secrets.token_hex(12)}",
            "metadata": metadata,
            "created": int(time.time()),
            "livemode": False,
            "payment_method": None,
            "payment_method_types": ["card"],
            "capture_method": "automatic",
            "confirmation_method": "automatic",
            "description": None,
            "receipt_email": None,
            "latest_charge": None,
            "last_payment_error": None,
        }

    def _create_payment_intent(self, call: _Call) -> dict[str, Any]:
        params = call.params
        _only(
            params,
            {
                "amount",
                "currency",
                "metadata",
                "payment_method_types",
                "automatic_payment_methods",
                "description",
                "receipt_email",
                "payment_method",
                "confirm",
                "customer",
                "off_session",
            },
        )
        amount = _int(params, "amount")
        _require(params, "currency")
        assert amount is not None
        if amount < 1:
            raise StripeError(
                400, "Amount must be at least 1.", code="amount_too_small", param="amount"
            )
        data = self._payment_intent_object(
            amount=amount, currency=str(params["currency"]).lower(), metadata=_metadata(params)
        )
        data["payment_method_types"] = params.get("payment_method_types") or ["card"]
        data["description"] = params.get("description")
        data["receipt_email"] = params.get("receipt_email")
        if params.get("payment_method"):
            data["payment_method"] = params["payment_method"]
            data["status"] = "requires_confirmation"
        if params.get("confirm") == "true":
            if not data["payment_method"]:
                raise StripeError(
                    400,
                    "You cannot confirm this PaymentIntent because it's missing a payment method.",
                    code="payment_intent_unexpected_state",
                )
            self._store(call.account, data)
            self._confirm(data)
        else:
            self._store(call.account, data)
        return self._public(data)

    def _confirm(self, data: dict[str, Any]) -> None:
        method = self._objects.get(data["payment_method"] or "")
        declines = method is not None and method.data.get("_declines", False)
        if data["payment_method"] in DECLINING_PAYMENT_METHODS or declines:
            error = {"code": "card_declined", "decline_code": "generic_decline"}
            data.update(
                status="requires_payment_method",
                last_payment_error={**error, "message": "Your card was declined."},
            )
            raise StripeError(
                402,
                "Your card was declined.",
                type="card_error",
                code="card_declined",
                saved=True,  # Stripe replays a decline under its idempotency key
                extra={"decline_code": "generic_decline", "payment_intent": self._public(data)},
            )
        data.update(
            status="succeeded", amount_received=data["amount"], latest_charge=_new_id("ch_")
        )

    def _retrieve_payment_intent(self, call: _Call) -> dict[str, Any]:
        assert call.object_id is not None
        return self._public(self._visible(call, call.object_id, "payment_intent").data)

    def _list_payment_intents(self, call: _Call) -> dict[str, Any]:
        params = call.params
        _only(params, {"created", "limit", "starting_after"})  # what the gateway sends
        limit = _int(params, "limit", required=False) or 10
        if not 1 <= limit <= 100:
            raise StripeError(400, "Invalid limit.", code="parameter_invalid_integer")
        limit = min(limit, self.max_list_limit)
        created = params.get("created")
        bounds = created if isinstance(created, dict) else {}
        if isinstance(created, str):
            bounds = {"eq": created}
        mine = [
            s
            for s in self._objects.values()
            if s.owner == call.account and s.data["object"] == "payment_intent"
        ]
        # Stripe lists newest first.
        mine.sort(key=lambda s: (s.data["created"], s.seq), reverse=True)
        rows = [s.data for s in mine if _in_bounds(s.data["created"], bounds)]
        after = params.get("starting_after")
        if after:
            ids = [row["id"] for row in rows]
            if after not in ids:
                raise _missing("payment_intent", after, param="starting_after", status=400)
            rows = rows[ids.index(after) + 1 :]
        return {
            "object": "list",
            "url": "/v1/payment_intents",
            "has_more": len(rows) > limit,
            "data": [self._public(row) for row in rows[:limit]],
        }

    def _create_checkout_session(self, call: _Call) -> dict[str, Any]:
        params = call.params
        _only(
            params,
            {
                "mode",
                "line_items",
                "metadata",
                "payment_intent_data",
                "success_url",
                "cancel_url",
                "customer_email",
                "client_reference_id",
                "payment_method_types",
            },
        )
        _require(params, "mode", "line_items", "success_url")
        if params["mode"] != "payment":
            raise StripeError(400, "Only mode=payment here.", code="parameter_invalid")
        lines = params["line_items"]
        if not isinstance(lines, list) or not lines:
            raise StripeError(400, "Invalid array", code="parameter_invalid", param="line_items")
        total, currencies = 0, set()
        for line in lines:
            price = line.get("price_data") or {}
            currencies.add(str(price.get("currency", "")).lower())
            total += int(price.get("unit_amount", 0)) * int(line.get("quantity", 1))
        if len(currencies) != 1 or "" in currencies or total < 1:
            raise StripeError(400, "Invalid line items.", param="line_items")
        intent_data = params.get("payment_intent_data") or {}
        session_id = _new_id("cs_test_")
        created = int(time.time())
        data = {
            "id": session_id,
            "object": "checkout.session",
            "mode": "payment",
            "status": "open",
            "payment_status": "unpaid",
            "amount_total": total,
            "currency": currencies.pop(),
            "metadata": _metadata(params),
            "payment_intent": None,  # Stripe creates it when the customer pays
            "success_url": params["success_url"],
            "cancel_url": params.get("cancel_url"),
            "url": f"https://checkout.stripe.com/c/pay/{session_id}",
            "created": created,
            "expires_at": created + 24 * 3600,
            "livemode": False,
            "_payment_intent_metadata": _metadata(intent_data),
        }
        self._store(call.account, data)
        return self._public(data)

    def _create_customer(self, call: _Call) -> dict[str, Any]:
        _only(call.params, {"email", "name", "metadata"})
        data = {
            "id": _new_id("cus_"),
            "object": "customer",
            "email": call.params.get("email"),
            "name": call.params.get("name"),
            "metadata": _metadata(call.params),
            "created": int(time.time()),
            "livemode": False,
        }
        self._store(call.account, data)
        return self._public(data)

    def _create_setup_intent(self, call: _Call) -> dict[str, Any]:
        params = call.params
        _only(params, {"customer", "metadata", "payment_method_types", "usage"})
        _require(params, "customer")
        self._visible(call, str(params["customer"]), "customer", param="customer")
        setup_id = _new_id("seti_")
        data = {
            "id": setup_id,
            "object": "setup_intent",
            "client_secret": f"{setup_id}_secret_{secrets.token_hex(12)}",
            "customer": params["customer"],
            "metadata": _metadata(params),
            "payment_method": None,
            "payment_method_types": params.get("payment_method_types") or ["card"],
            "status": "requires_payment_method",
            "usage": params.get("usage", "off_session"),
            "created": int(time.time()),
            "livemode": False,
        }
        self._store(call.account, data)
        return self._public(data)

    def _retrieve_setup_intent(self, call: _Call) -> dict[str, Any]:
        assert call.object_id is not None
        return self._public(self._visible(call, call.object_id, "setup_intent").data)

    def _retrieve_payment_method(self, call: _Call) -> dict[str, Any]:
        assert call.object_id is not None
        return self._public(self._visible(call, call.object_id, "payment_method").data)

    def _detach_payment_method(self, call: _Call) -> dict[str, Any]:
        assert call.object_id is not None
        stored = self._visible(call, call.object_id, "payment_method")
        stored.data["customer"] = None
        return self._public(stored.data)

    def _create_refund(self, call: _Call) -> dict[str, Any]:
        params = call.params
        _only(params, {"payment_intent", "amount", "reason", "metadata"})
        _require(params, "payment_intent")
        intent_id = params["payment_intent"]
        intent = self._visible(
            call, intent_id, "payment_intent", param="payment_intent", status=400
        ).data
        received = int(intent["amount_received"])
        remaining = received - self._refunded.get(intent_id, 0)
        if received == 0:
            raise StripeError(
                400,
                f"This PaymentIntent ({intent_id}) does not have a successful charge to refund.",
                code="charge_not_refundable",
            )
        if remaining <= 0:
            raise StripeError(
                400,
                f"Charge for {intent_id} has already been refunded.",
                code="charge_already_refunded",
            )
        amount = _int(params, "amount", required=False)
        amount = remaining if amount is None else amount
        if amount < 1:
            raise StripeError(400, "Invalid positive integer", param="amount")
        if amount > remaining:
            raise StripeError(
                400,
                f"Refund amount ({amount}) is greater than unrefunded amount on charge "
                f"({remaining}).",
                code="amount_too_large",
                param="amount",
            )
        self._refunded[intent_id] = self._refunded.get(intent_id, 0) + amount
        data = {
            "id": _new_id("re_"),
            "object": "refund",
            "amount": amount,
            "currency": intent["currency"],
            "payment_intent": intent_id,
            "charge": intent["latest_charge"],
            "status": "succeeded",
            "reason": params.get("reason"),
            "metadata": _metadata(params),
            "created": int(time.time()),
        }
        self._store(call.account, data)
        return self._public(data)

    def _list_refunds(self, call: _Call) -> dict[str, Any]:
        return self._list(call, "refund", "/v1/refunds", {"payment_intent"})

    def _list_disputes(self, call: _Call) -> dict[str, Any]:
        return self._list(call, "dispute", "/v1/disputes", {"payment_intent", "charge"})

    def _list(self, call: _Call, kind: str, url: str, filters: set[str]) -> dict[str, Any]:
        """A list of the account's objects of one kind, newest first, as Stripe pages it."""
        params = call.params
        _only(params, {"created", "limit", "starting_after", *filters})
        limit = _int(params, "limit", required=False) or 10
        if not 1 <= limit <= 100:
            raise StripeError(400, "Invalid limit.", code="parameter_invalid_integer")
        limit = min(limit, self.max_list_limit)
        created = params.get("created")
        bounds = created if isinstance(created, dict) else {}
        mine = [
            s
            for s in self._objects.values()
            if s.owner == call.account
            and s.data["object"] == kind
            and all(s.data.get(name) == params[name] for name in filters if name in params)
        ]
        mine.sort(key=lambda s: (s.data["created"], s.seq), reverse=True)
        rows = [s.data for s in mine if _in_bounds(s.data["created"], bounds)]
        after = params.get("starting_after")
        if after:
            ids = [row["id"] for row in rows]
            if after not in ids:
                raise _missing(kind, after, param="starting_after", status=400)
            rows = rows[ids.index(after) + 1 :]
        return {
            "object": "list",
            "url": url,
            "has_more": len(rows) > limit,
            "data": [self._public(row) for row in rows[:limit]],
        }


def _same_params(first: str, second: str) -> bool:
    """Stripe compares parameters, not bytes: the order of form fields does not matter."""
    return sorted(parse_qsl(first, True)) == sorted(parse_qsl(second, True))


def _in_bounds(created: int, bounds: dict[str, Any]) -> bool:
    tests = {
        "gt": lambda v: created > v,
        "gte": lambda v: created >= v,
        "lt": lambda v: created < v,
        "lte": lambda v: created <= v,
        "eq": lambda v: created == v,
    }
    return all(tests[op](int(value)) for op, value in bounds.items() if op in tests)


def _route(method: str, pattern: str, handler: Handler) -> tuple[str, re.Pattern[str], Handler]:
    return method, re.compile(pattern), handler


_ID = r"(?P<id>[A-Za-z0-9_]+)"
_ROUTES: list[tuple[str, re.Pattern[str], Handler]] = [
    _route("POST", "/v1/accounts", StripeStub._create_account),
    _route("GET", f"/v1/accounts/{_ID}", StripeStub._retrieve_account),
    _route("POST", "/v1/account_links", StripeStub._create_account_link),
    _route("POST", "/v1/payment_intents", StripeStub._create_payment_intent),
    _route("GET", "/v1/payment_intents", StripeStub._list_payment_intents),
    _route("GET", f"/v1/payment_intents/{_ID}", StripeStub._retrieve_payment_intent),
    _route("POST", "/v1/checkout/sessions", StripeStub._create_checkout_session),
    _route("POST", "/v1/refunds", StripeStub._create_refund),
    _route("GET", "/v1/refunds", StripeStub._list_refunds),
    _route("GET", "/v1/disputes", StripeStub._list_disputes),
    _route("POST", "/v1/customers", StripeStub._create_customer),
    _route("POST", "/v1/setup_intents", StripeStub._create_setup_intent),
    _route("GET", f"/v1/setup_intents/{_ID}", StripeStub._retrieve_setup_intent),
    _route("GET", f"/v1/payment_methods/{_ID}", StripeStub._retrieve_payment_method),
    _route("POST", f"/v1/payment_methods/{_ID}/detach", StripeStub._detach_payment_method),
]
