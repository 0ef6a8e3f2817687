"""The pay link's page and payment: the token and IDs handed to the domain
(domain/payments/pay_links.py), a refusal to the payload."""

from __future__ import annotations

from dataclasses import replace

from strawberry import Info

from core.ids import decode_id_of
from domain.billing.codes import BillingCode
from domain.payments import online
from domain.payments.pay_links import OpenedLink, PayLinkInvalid, open_pay_link, pay_by_link
from domain.problems import Problem, Rejected
from resolvers.online_payments import PayOutcome


async def opened(info: Info, token: str) -> OpenedLink:
    return await open_pay_link(info.context, token)


async def pay(info: Info, token: str, client_key: str, card_gid: str | None) -> PayOutcome:
    try:
        online.check_request(1, client_key, None)
        card_id = decode_id_of("SavedPaymentMethod", card_gid) if card_gid is not None else None
        request = await pay_by_link(info.context, token, client_key, card_id)
    except PayLinkInvalid as invalid:
        problem = Problem("token", invalid.message, BillingCode.PAY_LINK_INVALID)
        return PayOutcome(problems=[problem])
    except Rejected as rejected:
        # The invoice is the link's: a refusal about the invoices is about the token.
        problems = [
            replace(p, field="token") if p.field == "invoiceIds" else p for p in rejected.problems
        ]
        return PayOutcome(problems=problems)
    return PayOutcome(request=request)
