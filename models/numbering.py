"""Per-organization document numbers (invoices, estimates, credit notes) from gap-free counters.

The counter row is incremented inside the caller's transaction: concurrent senders wait
on its row lock, and a rolled-back send gives its number back, so numbers never repeat
and never skip.
"""

from __future__ import annotations

import uuid

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from models.base import dialect_of
from models.tables import counters

INVOICE_COUNTER = "invoice"
ESTIMATE_COUNTER = "estimate"
CREDIT_NOTE_COUNTER = "credit_note"


async def next_number(session: AsyncSession, organization_id: uuid.UUID, name: str) -> int:
    insert = postgresql.insert if dialect_of(session) == "postgresql" else sqlite.insert
    stmt = (
        insert(counters)
        .values(organization_id=organization_id, name=name, last_value=1)
        .on_conflict_do_update(
            index_elements=[counters.c.organization_id, counters.c.name],
            set_={"last_value": counters.c.last_value + 1},
        )
        .returning(counters.c.last_value)
    )
    return int((await session.execute(stmt)).scalar_one())
