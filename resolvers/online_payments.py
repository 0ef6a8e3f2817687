"""A portal viewer pays open invoices online: the IDs decoded, the domain's action called
(domain/payments/online.py), its request or its refusal handed to the payload."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from strawberry import Info

from core.ids import decode_id_of
from domain.payments import online
from domain.problems import Problem, Rejected
from payments.requests import PaymentRequest


@dataclass
class PayOutcome:
    request: PaymentRequest | None = None
    problems: list[Problem] = field(default_factory=list)


async def pay_invoices(
    info: Info,
    invoice_gids: Sequence[str],
    client_key: str,
    amount: int | None,
    card_gid: str | None,
) -> PayOutcome:
    """An ID that names nothing the viewer may see is answered as an error of the whole
    request (NOT_FOUND), not as a user error."""
    try:
        online.check_request(len(invoice_gids), client_key, amount)
        invoice_ids = {decode_id_of("Invoice", gid) for gid in invoice_gids}
        card_id = decode_id_of("SavedPaymentMethod", card_gid) if card_gid is not None else None
        request = await online.pay_invoices(
            info.context, invoice_ids, client_key, amount=amount, card_id=card_id
        )
    except Rejected as rejected:
        return PayOutcome(problems=rejected.problems)
    return PayOutcome(request=request)
