"""Invoices and estimates drafted, sent and billed by calling domain/billing directly, as a
job or the CLI would: a Work of its own, decoded IDs, no GraphQL."""

from __future__ import annotations

import uuid
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from auth.viewer import Viewer, ViewerKind
from core.errors import NotFound
from core.ids import decode_id
from core.settings import Settings
from domain.billing import estimates, invoices
from domain.billing.codes import BillingCode
from domain.billing.lines import LineInput
from domain.edits import KEEP
from domain.problems import Common, Rejected
from models import StaffUser, tables
from models.clock import Clock
from models.db import Database
from models.enums import EstimateStatus, InvoiceStatus, LineKind, StaffRole
from tests.helpers import Tenant
from tests.portal import make_customer

LINES = [
    LineInput("Diagnosis", 9999, quantity_milli=1500, kind=LineKind.LABOUR, tax_rate_bp=825),
    LineInput("Shop supplies", 333, kind=LineKind.FEE),
]


@dataclass
class Job:
    """What a scheduled job brings to an action: its database, its actor, its clock."""

    db: Database
    viewer: Viewer
    clock: Clock = field(default_factory=Clock.start)
    client_ip: str | None = None
    user_agent: str | None = "job"

    @property
    def settings(self) -> Settings:
        return self.db.settings

    def write(self) -> AbstractAsyncContextManager[AsyncSession]:
        return self.db.write()


async def staff_job(db: Database, tenant: Tenant) -> Job:
    async with db.connect() as conn:
        staff_id = await conn.scalar(
            sa.select(StaffUser.id).where(StaffUser.email == tenant.staff_email)
        )
    viewer = Viewer(
        kind=ViewerKind.STAFF,
        organization_id=tenant.organization_id,
        staff_user_id=staff_id,
        role=StaffRole.STAFF,
    )
    return Job(db, viewer)


async def _row(conn: AsyncConnection, table: sa.Table, row_id: uuid.UUID) -> sa.Row[Any]:
    return (await conn.execute(sa.select(table).where(table.c.id == row_id))).one()


async def test_a_job_drafts_and_sends_an_invoice_priced_on_the_server(gql, tenant, db):
    job = await staff_job(db, tenant)
    customer_gid, _ = await make_customer(gql, tenant)
    _, customer_id = decode_id(customer_gid)
    details = invoices.InvoiceDetails(notes="Thanks", lines=LINES)
    invoice_id = await invoices.create_invoice(job, customer_id, details)
    async with db.connect() as conn:
        invoice = await _row(conn, tables.invoices, invoice_id)
        lines = (
            await conn.execute(
                sa.select(tables.invoice_lines.c.position, tables.invoice_lines.c.total)
                .where(tables.invoice_lines.c.invoice_id == invoice_id)
                .order_by(tables.invoice_lines.c.position)
            )
        ).all()
    # 1.5 x 99.99 = 149.985 -> 149.99, tax 8.25 % -> 12.37; the fee has no tax
    assert [tuple(line) for line in lines] == [(0, 14999 + 1237), (1, 333)]
    assert (invoice.subtotal, invoice.tax_total, invoice.total) == (15332, 1237, 16569)
    assert invoice.currency == "USD" and invoice.notes == "Thanks"

    await invoices.send_invoice(job, invoice_id)
    async with db.connect() as conn:
        sent = await _row(conn, tables.invoices, invoice_id)
    assert InvoiceStatus(sent.status) is InvoiceStatus.OPEN and sent.number == 1
    assert sent.due_date == sent.issue_date + timedelta(days=14)
    with pytest.raises(Rejected) as refused:
        await invoices.update_invoice(job, invoice_id, invoices.InvoiceDetails(notes=None))
    assert [p.code for p in refused.value.problems] == [BillingCode.NOT_EDITABLE]


async def test_the_domain_refuses_what_the_edge_would(gql, tenant, other_tenant, db):
    job = await staff_job(db, tenant)
    theirs, _ = await make_customer(gql, other_tenant)
    _, their_customer = decode_id(theirs)
    with pytest.raises(NotFound) as missing:
        await invoices.create_invoice(job, their_customer, invoices.InvoiceDetails())
    assert missing.value.row == ("Customer", their_customer)
    mine, _ = await make_customer(gql, tenant)
    _, customer_id = decode_id(mine)
    optional = invoices.InvoiceDetails(lines=[LineInput("Wax", 100, optional=True)])
    with pytest.raises(Rejected) as refused:
        await invoices.create_invoice(job, customer_id, optional)
    assert [(p.field, p.code) for p in refused.value.problems] == [
        ("lineItems.0.optional", Common.INVALID)
    ]
    empty = await invoices.create_invoice(job, customer_id, invoices.InvoiceDetails())
    with pytest.raises(Rejected) as refused:
        await invoices.send_invoice(job, empty)
    assert [p.code for p in refused.value.problems] == [BillingCode.EMPTY]


async def test_a_job_sends_an_estimate_and_a_change_starts_its_next_version(gql, tenant, db):
    job = await staff_job(db, tenant)
    customer_gid, _ = await make_customer(gql, tenant)
    _, customer_id = decode_id(customer_gid)
    lines = [*LINES, LineInput("Ceramic coat", 50000, optional=True)]
    details = estimates.EstimateDetails(recommendations="Tyres soon", lines=lines)
    estimate_id = await estimates.create_estimate(job, customer_id, details)
    await estimates.send_estimate(job, estimate_id)
    async with db.connect() as conn:
        snapshot = await conn.scalar(
            sa.select(tables.estimate_versions.c.snapshot).where(
                tables.estimate_versions.c.estimate_id == estimate_id
            )
        )
    assert snapshot["version"] == 1 and snapshot["total"] == 16569 + 50000
    assert [line["optional"] for line in snapshot["lines"]] == [False, False, True]
    unchanged = estimates.EstimateDetails(car_id=KEEP, notes=KEEP)
    await estimates.update_estimate(job, estimate_id, unchanged)
    async with db.connect() as conn:
        row = await _row(conn, tables.estimates, estimate_id)
    assert (EstimateStatus(row.status), row.version) == (EstimateStatus.SENT, 1)
    await estimates.update_estimate(job, estimate_id, estimates.EstimateDetails(notes="Again"))
    async with db.connect() as conn:
        row = await _row(conn, tables.estimates, estimate_id)
    assert (EstimateStatus(row.status), row.version) == (EstimateStatus.DRAFT, 2)
    with pytest.raises(Rejected) as refused:
        await estimates.invoice_estimate(job, estimate_id)
    assert [p.code for p in refused.value.problems] == [BillingCode.NOT_EDITABLE]
