"""Everything printed on an estimate, read in two Core statements under the viewer's scope.

The estimate is narrowed by the same visibility conditions as every GraphQL read of the
estimates table (auth/access.py through `scope`): a portal viewer reads only their own
customer's estimates once sent, never drafts, and a viewer who may not see an estimate gets
None, exactly as for one that does not exist. Its status is the one the API shows
(models/derived.py `estimate_status`: a sent estimate past its expiry reads EXPIRED) at the
request's instant. The issuer, customer, car and lines are read as on invoices
(models/bill_documents.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Hashable
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa

from models import relations as rel
from models.bill_documents import (
    ORG,
    ROW,
    BillTo,
    CarLine,
    DocumentLine,
    Issuer,
    bill_head,
    bill_lines,
    lines_of,
    parties_of,
    statements_for,
)
from models.clock import Clock
from models.db import ReadScope
from models.derived import estimate_status
from models.enums import EstimateStatus
from models.loaders import Scope
from models.tables import estimate_lines, estimates


@dataclass(frozen=True, slots=True)
class EstimateDocument:
    estimate_id: uuid.UUID
    number: int | None
    version: int
    status: EstimateStatus
    valid_until: date | None
    notes: str | None
    recommendations: str | None
    currency: str
    subtotal: int
    tax_total: int
    total: int
    issuer: Issuer
    bill_to: BillTo
    car: CarLine | None
    lines: tuple[DocumentLine, ...]


Statements = tuple[sa.Select[Any], sa.Select[Any]]
_STATEMENTS: dict[Hashable, Statements] = {}


def _build(scope: Scope) -> Statements:
    columns = [
        estimates.c.id,
        estimates.c.number,
        estimates.c.version,
        estimate_status(estimates).label("current_status"),
        estimates.c.valid_until,
        estimates.c.notes,
        estimates.c.recommendations,
        estimates.c.currency,
        estimates.c.subtotal,
        estimates.c.tax_total,
        estimates.c.total,
    ]
    head = bill_head(estimates, columns, scope)
    items = bill_lines(rel.ESTIMATE_LINES, scope, estimate_lines.c.optional)
    return head, items


async def load_estimate_document(
    reads: ReadScope,
    organization_id: uuid.UUID,
    estimate_id: uuid.UUID,
    scope: Scope,
    clock: Clock,
) -> EstimateDocument | None:
    """The estimate as printed, or None when it is missing or not the viewer's to see."""
    head, items = statements_for(_STATEMENTS, scope, _build)
    params = {**scope.params, **clock.params, ORG: organization_id, ROW: estimate_id}
    found = await reads.rows(head, params)
    if not found:
        return None
    row = found[0]
    parties = parties_of(row)
    return EstimateDocument(
        estimate_id=row["id"],
        number=row["number"],
        version=row["version"],
        status=EstimateStatus(row["current_status"]),
        valid_until=row["valid_until"],
        notes=row["notes"],
        recommendations=row["recommendations"],
        currency=row["currency"],
        subtotal=row["subtotal"],
        tax_total=row["tax_total"],
        total=row["total"],
        issuer=parties.issuer,
        bill_to=parties.bill_to,
        car=parties.car,
        lines=lines_of(await reads.rows(items, params)),
    )
