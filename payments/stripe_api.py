"""Interface placeholder; the Stripe client lands with its test peers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class ProviderUnavailable(Exception):
    pass


class ProviderRejected(Exception):
    def __init__(self, code: str, message: str, status: int) -> None:
        super().__init__(message)
        self.code, self.status = code, status


@dataclass(frozen=True)
class RefundInfo:
    id: str
    status: str
    amount: int


class StripeGateway:
    def __init__(self, settings: Any) -> None:
        self.settings = settings

    async def create_refund(self, **kwargs: Any) -> RefundInfo:
        raise ProviderUnavailable("Online payment is not configured.")
