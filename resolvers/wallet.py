"""Portal viewers' saved cards and autopay: the IDs decoded, the domain's actions called
(domain/payments/wallet.py)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from strawberry import Info

from core.ids import decode_id_of
from domain.payments import wallet
from domain.problems import Problem, Rejected
from resolvers.outcome import mutation_outcome


@dataclass
class SetupOutcome:
    setup: wallet.CardSetup | None = None
    problems: list[Problem] = field(default_factory=list)


async def start_card_setup(info: Info) -> SetupOutcome:
    try:
        return SetupOutcome(setup=await wallet.start_card_setup(info.context))
    except Rejected as rejected:
        return SetupOutcome(problems=rejected.problems)


@mutation_outcome
async def save_card(info: Info, setup_intent_id: str) -> uuid.UUID:
    return await wallet.save_card(info.context, setup_intent_id)


@mutation_outcome
async def set_default_card(info: Info, gid: str) -> uuid.UUID:
    return await wallet.set_default_card(info.context, decode_id_of("SavedPaymentMethod", gid))


@mutation_outcome
async def remove_card(info: Info, gid: str) -> uuid.UUID:
    return await wallet.remove_card(info.context, decode_id_of("SavedPaymentMethod", gid))


@mutation_outcome
async def set_autopay(info: Info, enabled: bool) -> uuid.UUID:
    return await wallet.set_autopay(info.context, enabled)
