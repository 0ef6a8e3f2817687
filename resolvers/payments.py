"""Staff record offline payments and refund payments: the IDs decoded, the domain's actions
called (domain/payments/offline.py, domain/payments/refunds.py)."""

from __future__ import annotations

import uuid
from datetime import datetime

from strawberry import Info

from core.ids import decode_id_of
from domain.payments import offline, refunds
from models.enums import PaymentMethod
from resolvers.outcome import mutation_outcome


@mutation_outcome
async def record_payment(
    info: Info,
    invoice_gid: str,
    amount: int,
    method: PaymentMethod,
    reference: str | None,
    received_at: datetime | None,
) -> uuid.UUID:
    return await offline.record_payment(
        info.context,
        decode_id_of("Invoice", invoice_gid),
        amount,
        method,
        reference=reference,
        received_at=received_at,
    )


@mutation_outcome
async def refund_payment(
    info: Info, payment_gid: str, amount: int | None, reason: str | None
) -> uuid.UUID:
    payment_id = decode_id_of("Payment", payment_gid)
    return await refunds.refund_payment(info.context, payment_id, amount, reason=reason)
