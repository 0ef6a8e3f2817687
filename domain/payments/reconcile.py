"""Bring Portico's payments up to Stripe's word when a webhook never came (lost, or refused
during a crash): list each connected account's recent PaymentIntents, refunds and disputes,
find Portico's, and apply them as their webhooks would have; and finish the refunds staff
asked whose answer from Stripe was lost (domain/payments/refunds.py). Safe to run any number
of times: a payment already recorded is not recorded again, a pending refund is finished
once, and refunds and disputes are applied as Stripe's cumulative state
(domain/payments/charges.py), never as deltas.
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa

from domain.payments.charges import Applied, ChargeChange, apply_charge_change, dispute_status_of
from domain.payments.refunds import finish_pending, refunded_at_stripe
from domain.payments.stripe_events import Settlement, apply_success
from models import Organization
from models.db import Database
from models.tables import organizations
from models.types import utcnow
from payments.stripe_api import ProviderRejected, ProviderUnavailable, StripeGateway

log = logging.getLogger("portico.payments")

# A refund asked of Stripe is left to its own request this long (far more than Stripe's
# timeout) before reconciliation takes its answer for lost.
PENDING_REFUND_GRACE = timedelta(minutes=10)


@dataclass
class Reconciled:
    checked: int = 0
    settled: int = 0
    accounts_failed: int = 0
    refunds_applied: int = 0
    disputes_applied: int = 0
    refunds_finished: int = 0  # pending refunds whose answer was lost, recorded as Stripe has them


async def reconcile(db: Database, *, since_hours: int = 72) -> Reconciled:
    result = Reconciled()
    since = int(time.time()) - since_hours * 3600
    async with db.connect() as conn:
        accounts = (
            await conn.execute(
                sa.select(organizations.c.id, organizations.c.stripe_account_id).where(
                    organizations.c.stripe_account_id.is_not(None)
                )
            )
        ).all()
    async with StripeGateway(db.settings) as gateway:
        for org_id, account in accounts:
            try:
                # Successes first: a refund or dispute applies only to a recorded payment.
                await _settle_successes(db, gateway, org_id, account, since, result)
                # Refunds left pending are finished before Stripe's totals are compared.
                before = utcnow() - PENDING_REFUND_GRACE
                result.refunds_finished += await finish_pending(
                    db, gateway, org_id, account, before
                )
                await _apply_refunds(db, gateway, org_id, account, since, result)
                await _apply_disputes(db, gateway, org_id, account, since, result)
            except (ProviderUnavailable, ProviderRejected) as error:
                # One account Stripe will not list (disconnected, outage) must not stop
                # the others; the next run tries it again.
                log.warning("could not list payments of %s: %s", account, error)
                result.accounts_failed += 1
    return result


async def _settle_successes(
    db: Database,
    gateway: StripeGateway,
    org_id: uuid.UUID,
    account: str,
    since: int,
    result: Reconciled,
) -> None:
    intents = await gateway.list_payment_intents(account=account, created_gte=since)
    for intent in intents:
        if intent.metadata.get("portico_org") != str(org_id):
            continue  # not Portico's, or another organization's
        result.checked += 1
        if intent.status != "succeeded":
            continue
        paid = Settlement(
            payment_intent_id=intent.id,
            amount=intent.amount,
            currency=intent.currency.upper(),
            metadata=intent.metadata,
        )
        async with db.write() as session:
            org = await session.get(Organization, org_id)
            if org is not None and await apply_success(session, org, paid):
                result.settled += 1
                log.info("settled %s from reconciliation", intent.id)


async def _apply_refunds(
    db: Database,
    gateway: StripeGateway,
    org_id: uuid.UUID,
    account: str,
    since: int,
    result: Reconciled,
) -> None:
    """Every PaymentIntent refunded lately is compared on its whole refunded amount (its
    older refunds included), the figure `charge.refunded` would have carried."""
    recent = await gateway.list_refunds(account=account, created_gte=since)
    for intent_id in sorted({r.payment_intent_id for r in recent if r.payment_intent_id}):
        total = await refunded_at_stripe(gateway, account, intent_id)
        change = ChargeChange(payment_intent_id=intent_id, charge_id=None, refunded_total=total)
        if await _apply(db, org_id, change) is Applied.CHANGED:
            result.refunds_applied += 1
            log.info("refunds of %s brought up to %s from reconciliation", intent_id, total)


async def _apply_disputes(
    db: Database,
    gateway: StripeGateway,
    org_id: uuid.UUID,
    account: str,
    since: int,
    result: Reconciled,
) -> None:
    for dispute in await gateway.list_disputes(account=account, created_gte=since):
        change = ChargeChange(
            payment_intent_id=dispute.payment_intent_id,
            charge_id=dispute.charge_id,
            dispute_status=dispute_status_of(dispute.status),
            dispute_amount=dispute.amount,
        )
        if change.key and await _apply(db, org_id, change) is Applied.CHANGED:
            result.disputes_applied += 1
            log.info("dispute %s applied from reconciliation", dispute.id)


async def _apply(db: Database, org_id: uuid.UUID, change: ChargeChange) -> Applied:
    """A change to a payment this organization recorded; NO_PAYMENT for anyone else's."""
    async with db.write() as session:
        org = await session.get(Organization, org_id)
        if org is None:
            return Applied.NO_PAYMENT
        return await apply_charge_change(session, org, change)
