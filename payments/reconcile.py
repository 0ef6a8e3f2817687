"""Settle PaymentIntents whose confirmation never arrived (a lost webhook, a crash between
Stripe's answer and our commit): list each connected account's recent PaymentIntents, find
Portico's by their metadata, and apply the succeeded ones. Safe to run any number of times:
a payment already recorded is not recorded again.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import sqlalchemy as sa

from models import Organization
from models.db import Database
from payments.events import Settlement, apply_success
from payments.stripe_api import ProviderRejected, ProviderUnavailable, StripeGateway

log = logging.getLogger("portico.payments")

organizations: sa.Table = Organization.__table__  # type: ignore[attr-defined]


@dataclass
class Reconciled:
    checked: int = 0
    settled: int = 0
    accounts_failed: int = 0


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
                intents = await gateway.list_payment_intents(account=account, created_gte=since)
            except (ProviderUnavailable, ProviderRejected) as error:
                # One account Stripe will not list (disconnected, outage) must not stop
                # the others; the next run tries it again.
                log.warning("could not list payments of %s: %s", account, error)
                result.accounts_failed += 1
                continue
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
    return result
