"""The Stripe API as Portico uses it: a few calls, plain results, two kinds of failure.

Everything goes through the official SDK's async methods. The SDK never retries on its own
(`max_network_retries=0`): a retry is the caller's decision, made with the same idempotency
key, so that a request Stripe did receive but answered too late is never repeated as a new
one. Calls for a business carry its connected account (`Stripe-Account`).
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

import stripe
from stripe.params import SetupIntentCreateParams

from core.settings import Settings

NOT_CONFIGURED = "Online payment is not configured."
_PAGE_SIZE = 100
_T = TypeVar("_T")


class ProviderUnavailable(Exception):
    """Stripe could not be reached or answered 5xx/429: try again later with the same key."""


class ProviderRejected(Exception):
    """Stripe refused the request (4xx); repeating it unchanged will not help."""

    def __init__(self, code: str, message: str, status: int | None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status


@dataclass(frozen=True)
class PaymentIntentInfo:
    """A PaymentIntent; `currency` is upper-case like Portico's money, `amount` in minor units."""

    id: str
    client_secret: str | None
    status: str
    amount: int
    currency: str
    metadata: dict[str, str]


@dataclass(frozen=True)
class CheckoutInfo:
    """A Checkout Session; Stripe creates its PaymentIntent only once the customer pays."""

    id: str
    url: str | None
    payment_intent_id: str | None


@dataclass(frozen=True)
class AccountInfo:
    id: str
    charges_enabled: bool
    details_submitted: bool


@dataclass(frozen=True)
class SetupIntentInfo:
    """A SetupIntent: how a card is saved for later without charging it."""

    id: str
    client_secret: str | None
    status: str
    customer: str | None
    payment_method: str | None
    metadata: dict[str, str]


@dataclass(frozen=True)
class CardInfo:
    """A saved card as Portico keeps it: Stripe's id and what a person recognises it by."""

    id: str
    customer: str | None
    brand: str
    last4: str
    exp_month: int
    exp_year: int


@dataclass(frozen=True)
class RefundInfo:
    id: str
    status: str
    amount: int
    payment_intent_id: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class DisputeInfo:
    """A card dispute (chargeback); `status` is Stripe's (`needs_response`, `won`, `lost`...)."""

    id: str
    status: str
    amount: int
    payment_intent_id: str | None
    charge_id: str | None


class _HTTPXClient(stripe.HTTPXClient):
    """The SDK's httpx transport, sending the form body as `content=`.

    stripe 16.1 passes the encoded body as `data=<str>`, which httpx deprecates (and will
    drop); the bytes on the wire are the same either way.
    """

    def _get_request_args_kwargs(
        self, method: str, url: str, headers: Mapping[str, str], post_data: Any
    ) -> Any:
        args, kwargs = super()._get_request_args_kwargs(method, url, headers, post_data)
        kwargs.pop("data", None)
        if post_data:
            kwargs["content"] = post_data
        return args, kwargs


def _payment_intent(obj: Any) -> PaymentIntentInfo:
    return PaymentIntentInfo(
        id=obj["id"],
        client_secret=obj.get("client_secret"),
        status=obj["status"],
        amount=int(obj["amount"]),
        currency=str(obj["currency"]).upper(),
        metadata={str(k): str(v) for k, v in (obj.get("metadata") or {}).items()},
    )


def _expandable_id(value: Any) -> str | None:
    """An id field that Stripe may also send expanded into the object."""
    if value is None or isinstance(value, str):
        return value
    return str(value["id"])


def _translate(error: stripe.StripeError) -> Exception:
    """Sort an SDK error into 'try again later' and 'refused'."""
    status = error.http_status
    if isinstance(error, stripe.APIConnectionError) or status is None:
        return ProviderUnavailable("Stripe could not be reached.")
    if status >= 500 or status in (409, 429):
        # 409 is Stripe's "a request with this idempotency key is still running".
        return ProviderUnavailable(f"Stripe is unavailable (HTTP {status}).")
    body = error.error
    code = (body.code if body else None) or error.code or (body.type if body else None)
    return ProviderRejected(code or "unknown", error.user_message or "", status)


class StripeGateway:
    """Portico's Stripe client: one per process (its connection pool belongs to the event
    loop that first uses it), closed with `aclose()` or used as an async context manager."""

    def __init__(self, settings: Settings) -> None:
        self._timeout = settings.stripe_timeout_seconds
        self._client: stripe.StripeClient | None = None
        self._http: _HTTPXClient | None = None
        if settings.stripe_secret_key:
            self._http = _HTTPXClient(timeout=self._timeout)
            self._client = stripe.StripeClient(
                settings.stripe_secret_key,
                base_addresses=_base_addresses(settings.stripe_api_base),  # type: ignore[arg-type]
                max_network_retries=0,
                http_client=self._http,
            )

    @property
    def configured(self) -> bool:
        return self._client is not None

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.close_async()

    async def __aenter__(self) -> StripeGateway:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def _call(
        self, call: Callable[[stripe.StripeClient], Awaitable[stripe.StripeObject]]
    ) -> dict[str, Any]:
        """One API call under the overall deadline: its answer as plain data, or a failure."""
        if self._client is None:
            raise ProviderUnavailable(NOT_CONFIGURED)
        try:
            async with asyncio.timeout(self._timeout):
                obj = await call(self._client)
        except TimeoutError as exc:
            raise ProviderUnavailable("Stripe did not answer in time.") from exc
        except stripe.StripeError as exc:
            raise _translate(exc) from exc
        return obj.to_dict()

    async def create_payment_intent(
        self,
        *,
        account: str,
        amount: int,
        currency: str,
        metadata: Mapping[str, str],
        idempotency_key: str,
        description: str | None = None,
        receipt_email: str | None = None,
        payment_method: str | None = None,
        confirm: bool = False,
        customer: str | None = None,
        off_session: bool = False,
    ) -> PaymentIntentInfo:
        """A card PaymentIntent on the business's account.

        `payment_method` with `confirm=True` charges at once (a saved card); without them the
        customer confirms in the browser with the client secret.
        """
        params: dict[str, Any] = {
            "amount": amount,
            "currency": currency.lower(),
            "metadata": dict(metadata),
            # Not automatic_payment_methods: the test peer refuses it, and Portico takes cards.
            "payment_method_types": ["card"],
        }
        if description is not None:
            params["description"] = description
        if receipt_email is not None:
            params["receipt_email"] = receipt_email
        if payment_method is not None:
            params["payment_method"] = payment_method
        if confirm:
            params["confirm"] = True
        if customer is not None:
            params["customer"] = customer
        if off_session:
            params["off_session"] = True  # the customer is not present (autopay)
        obj = await self._call(
            lambda c: c.v1.payment_intents.create_async(
                params=params,  # type: ignore[arg-type]
                options={"stripe_account": account, "idempotency_key": idempotency_key},
            )
        )
        return _payment_intent(obj)

    async def retrieve_payment_intent(
        self, *, account: str, payment_intent_id: str
    ) -> PaymentIntentInfo:
        obj = await self._call(
            lambda c: c.v1.payment_intents.retrieve_async(
                payment_intent_id, options={"stripe_account": account}
            )
        )
        return _payment_intent(obj)

    async def list_payment_intents(
        self, *, account: str, created_gte: int
    ) -> list[PaymentIntentInfo]:
        """Every PaymentIntent created at or after `created_gte` (Unix time), all pages."""
        return await self._list_all(
            lambda c, p: c.v1.payment_intents.list_async(
                params=p,  # type: ignore[arg-type]
                options={"stripe_account": account},
            ),
            {"created": {"gte": created_gte}},
            _payment_intent,
        )

    async def list_refunds(
        self, *, account: str, created_gte: int | None = None, payment_intent: str | None = None
    ) -> list[RefundInfo]:
        """Refunds created at or after `created_gte`, or every refund of one PaymentIntent."""
        params: dict[str, Any] = {}
        if created_gte is not None:
            params["created"] = {"gte": created_gte}
        if payment_intent is not None:
            params["payment_intent"] = payment_intent
        return await self._list_all(
            lambda c, p: c.v1.refunds.list_async(
                params=p,  # type: ignore[arg-type]
                options={"stripe_account": account},
            ),
            params,
            _refund,
        )

    async def list_disputes(self, *, account: str, created_gte: int) -> list[DisputeInfo]:
        """Disputes opened at or after `created_gte` (Unix time), all pages."""
        return await self._list_all(
            lambda c, p: c.v1.disputes.list_async(
                params=p,  # type: ignore[arg-type]
                options={"stripe_account": account},
            ),
            {"created": {"gte": created_gte}},
            lambda obj: DisputeInfo(
                id=obj["id"],
                status=str(obj["status"]),
                amount=int(obj["amount"]),
                payment_intent_id=_expandable_id(obj.get("payment_intent")),
                charge_id=_expandable_id(obj.get("charge")),
            ),
        )

    async def _list_all(
        self,
        list_page: Callable[[stripe.StripeClient, dict[str, Any]], Awaitable[Any]],
        params: dict[str, Any],
        convert: Callable[[Any], _T],
    ) -> list[_T]:
        """Every item of a Stripe list, following `starting_after` page by page."""
        found: list[_T] = []
        starting_after: str | None = None
        while True:
            page_params: dict[str, Any] = {**params, "limit": _PAGE_SIZE}
            if starting_after is not None:
                page_params["starting_after"] = starting_after
            page = await self._call(functools.partial(_page_of, list_page, page_params))
            items = page["data"]
            found.extend(convert(obj) for obj in items)
            if not page["has_more"] or not items:
                return found
            starting_after = items[-1]["id"]

    async def create_checkout_session(
        self,
        *,
        account: str,
        amount: int,
        currency: str,
        name: str,
        metadata: Mapping[str, str],
        success_url: str,
        cancel_url: str,
        idempotency_key: str,
    ) -> CheckoutInfo:
        """A hosted payment page for one amount; the metadata reaches its PaymentIntent."""
        params: dict[str, Any] = {
            "mode": "payment",
            "line_items": [
                {
                    "quantity": 1,
                    "price_data": {
                        "currency": currency.lower(),
                        "unit_amount": amount,
                        "product_data": {"name": name},
                    },
                }
            ],
            "metadata": dict(metadata),
            "payment_intent_data": {"metadata": dict(metadata)},
            "success_url": success_url,
            "cancel_url": cancel_url,
        }
        obj = await self._call(
            lambda c: c.v1.checkout.sessions.create_async(
                params=params,  # type: ignore[arg-type]
                options={"stripe_account": account, "idempotency_key": idempotency_key},
            )
        )
        return CheckoutInfo(
            id=obj["id"],
            url=obj.get("url"),
            payment_intent_id=_expandable_id(obj.get("payment_intent")),
        )

    async def create_account(self, *, email: str, idempotency_key: str) -> str:
        """A new Express connected account for a business; returns its id."""
        obj = await self._call(
            lambda c: c.v1.accounts.create_async(
                params={"type": "express", "email": email},
                options={"idempotency_key": idempotency_key},
            )
        )
        return str(obj["id"])

    async def create_account_link(self, *, account: str, refresh_url: str, return_url: str) -> str:
        """A one-time onboarding address for the account's owner."""
        obj = await self._call(
            lambda c: c.v1.account_links.create_async(
                params={
                    "account": account,
                    "refresh_url": refresh_url,
                    "return_url": return_url,
                    "type": "account_onboarding",
                }
            )
        )
        return str(obj["url"])

    async def retrieve_account(self, *, account: str) -> AccountInfo:
        obj = await self._call(lambda c: c.v1.accounts.retrieve_async(account))
        return AccountInfo(
            id=obj["id"],
            charges_enabled=bool(obj.get("charges_enabled")),
            details_submitted=bool(obj.get("details_submitted")),
        )

    async def create_customer(
        self,
        *,
        account: str,
        email: str | None,
        name: str,
        metadata: Mapping[str, str],
        idempotency_key: str,
    ) -> str:
        """A Stripe customer on the business's account, to save cards to; returns its id."""
        params: dict[str, Any] = {"name": name, "metadata": dict(metadata)}
        if email:
            params["email"] = email
        obj = await self._call(
            lambda c: c.v1.customers.create_async(
                params=params,  # type: ignore[arg-type]
                options={"stripe_account": account, "idempotency_key": idempotency_key},
            )
        )
        return str(obj["id"])

    async def create_setup_intent(
        self, *, account: str, customer: str, metadata: Mapping[str, str], idempotency_key: str
    ) -> SetupIntentInfo:
        """Collect a card for later (off-session) use, without charging it."""
        params: dict[str, Any] = {
            "customer": customer,
            "metadata": dict(metadata),
            "payment_method_types": ["card"],
            "usage": "off_session",
        }
        obj = await self._call(
            lambda c: c.v1.setup_intents.create_async(
                params=cast("SetupIntentCreateParams", params),
                options={"stripe_account": account, "idempotency_key": idempotency_key},
            )
        )
        return _setup_intent(obj)

    async def retrieve_setup_intent(self, *, account: str, setup_intent_id: str) -> SetupIntentInfo:
        obj = await self._call(
            lambda c: c.v1.setup_intents.retrieve_async(
                setup_intent_id, options={"stripe_account": account}
            )
        )
        return _setup_intent(obj)

    async def retrieve_card(self, *, account: str, payment_method_id: str) -> CardInfo:
        obj = await self._call(
            lambda c: c.v1.payment_methods.retrieve_async(
                payment_method_id, options={"stripe_account": account}
            )
        )
        card = obj.get("card") or {}
        return CardInfo(
            id=str(obj["id"]),
            customer=_expandable_id(obj.get("customer")),
            brand=str(card.get("brand") or "card"),
            last4=str(card.get("last4") or "????")[-4:],
            exp_month=int(card.get("exp_month") or 0),
            exp_year=int(card.get("exp_year") or 0),
        )

    async def detach_card(self, *, account: str, payment_method_id: str) -> None:
        await self._call(
            lambda c: c.v1.payment_methods.detach_async(
                payment_method_id, options={"stripe_account": account}
            )
        )

    async def create_refund(
        self,
        *,
        account: str,
        payment_intent_id: str,
        amount: int,
        idempotency_key: str,
        metadata: dict[str, str] | None = None,
    ) -> RefundInfo:
        params: dict[str, Any] = {"payment_intent": payment_intent_id, "amount": amount}
        if metadata:
            params["metadata"] = metadata
        obj = await self._call(
            lambda c: c.v1.refunds.create_async(
                params=params,  # type: ignore[arg-type]
                options={"stripe_account": account, "idempotency_key": idempotency_key},
            )
        )
        return _refund(obj)


def _refund(obj: Any) -> RefundInfo:
    return RefundInfo(
        id=str(obj["id"]),
        status=str(obj["status"]),
        amount=int(obj["amount"]),
        payment_intent_id=_expandable_id(obj.get("payment_intent")),
        metadata={str(k): str(v) for k, v in (obj.get("metadata") or {}).items()},
    )


def _setup_intent(obj: Any) -> SetupIntentInfo:
    return SetupIntentInfo(
        id=str(obj["id"]),
        client_secret=obj.get("client_secret"),
        status=str(obj.get("status")),
        customer=_expandable_id(obj.get("customer")),
        payment_method=_expandable_id(obj.get("payment_method")),
        metadata={str(k): str(v) for k, v in (obj.get("metadata") or {}).items()},
    )


def _base_addresses(api_base: str | None) -> dict[str, str] | None:
    """Every Stripe host pointed at `STRIPE_API_BASE`, so nothing leaves for the real one."""
    if not api_base:
        return None
    base = api_base.rstrip("/")
    return {"api": base, "connect": base, "files": base, "meter_events": base}


def _page_of(
    list_page: Callable[[stripe.StripeClient, dict[str, Any]], Awaitable[Any]],
    params: dict[str, Any],
    client: stripe.StripeClient,
) -> Awaitable[Any]:
    """One page of a list call, with its own parameters (bound before the loop moves on)."""
    return list_page(client, params)
