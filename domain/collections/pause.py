"""Staff pause collection for a customer (a payment plan agreed, a dispute being looked
into): no reminders and no late fees while paused; resumed, the catch-up rule of
domain/collections/rules.py applies (the latest step only). Both are audited."""

from __future__ import annotations

import uuid

from domain.audit import audit
from domain.collections.codes import CollectionCode
from domain.problems import Problem, Rejected
from domain.rows import locked, organization_of
from domain.work import Work
from models import Customer
from models.writes import apply


async def set_collection_paused(
    work: Work, customer_id: uuid.UUID, paused: bool, reason: str | None = None
) -> uuid.UUID:
    """Pause (or resume) collection for a customer of the staff member's organization."""
    org_id = organization_of(work)
    if not work.viewer.is_staff:
        raise Rejected(Problem(None, "Only staff manage collection."))
    async with work.write() as session:
        customer = await locked(session, Customer, org_id, customer_id)
        if (customer.collection_paused_at is not None) == paused:
            code = CollectionCode.ALREADY_PAUSED if paused else CollectionCode.NOT_PAUSED
            message = "Collection is already paused." if paused else "Collection is not paused."
            raise Rejected(Problem("customerId", message, code))
        apply(customer, {"collection_paused_at": work.clock.now if paused else None})
        session.add(
            audit(
                work,
                "customer.collection_paused" if paused else "customer.collection_resumed",
                customer_id=customer.id,
                subject_type="Customer",
                subject_id=customer.id,
                data={"reason": reason} if reason else {},
            )
        )
    return customer.id
