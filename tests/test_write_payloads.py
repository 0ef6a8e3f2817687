"""A mutation's payload comes from the rows it wrote: no statement re-reads them, and what
it shows is what a later read of the same row shows. An approval without a deposit is one
transaction."""

import uuid

import sqlalchemy as sa

from auth.access import row_scope, sees_whole_tenant
from auth.viewer import Viewer, ViewerKind
from core.ids import decode_id
from models.enums import PortalScope, StaffRole
from models.tables import (
    audit_events,
    customers,
    estimate_decisions,
    estimates,
    notifications,
    outbox_emails,
)
from tests.billing import APPROVE, open_invoice, sent_estimate
from tests.portal import make_customer, sign_in_by_invite

CUSTOMER_FIELDS = """
id name company email phone addressLine1 addressLine2 city region postalCode country
internalNotes portalStatus autopayEnabled portalInvitedAt portalActivatedAt archivedAt
createdAt updatedAt communicationPreferences { invoices estimates marketing }
"""
CREATE = f"""
mutation Create($input: CreateCustomerInput!) {{
  createCustomer(input: $input) {{ customer {{ {CUSTOMER_FIELDS} }} userErrors {{ code }} }}
}}
"""
READ_CUSTOMER = (
    f"query Read($id: ID!) {{ node(id: $id) {{ ... on Customer {{ {CUSTOMER_FIELDS} }} }} }}"
)
MESSAGE_FIELDS = "id body authorKind createdAt readByCustomerAt readByStaffAt"
SEND = f"""
mutation Send($input: SendMessageInput!) {{
  sendMessage(input: $input) {{ message {{ {MESSAGE_FIELDS} }} userErrors {{ code }} }}
}}
"""
READ_MESSAGE = (
    f"query Read($id: ID!) {{ node(id: $id) {{ ... on Message {{ {MESSAGE_FIELDS} }} }} }}"
)


PAYMENT_FIELDS = "id method status reference receivedAt createdAt amount { amount currency }"
RECORD = f"""
mutation Record($input: RecordPaymentInput!) {{
  recordPayment(input: $input) {{ payment {{ {PAYMENT_FIELDS} }} userErrors {{ code }} }}
}}
"""
READ_PAYMENT = (
    f"query Read($id: ID!) {{ node(id: $id) {{ ... on Payment {{ {PAYMENT_FIELDS} }} }} }}"
)


def _reads_of(statements: list[str], table: str) -> list[str]:
    """Reads of `table` by id, as the loaders read a row back."""
    return [
        s
        for s in statements
        if s.lstrip().upper().startswith("SELECT") and f"{table}.id IN" in s.replace("\n", " ")
    ]


async def test_a_new_customer_is_answered_from_the_row_written(gql, tenant, count_statements):
    fields = {
        "name": "Robin Hale",
        "email": "Robin@Example.com",
        "phone": "(312) 555-0142",
        "city": "Chicago",
        "country": "us",
        "internalNotes": "Prefers mornings.",
        "communicationPreferences": {"marketing": False},
    }
    count_statements.statements.clear()
    data = await gql.data(CREATE, {"input": fields}, token=tenant.staff_token)
    written = count_statements.statements[:]
    payload = data["createCustomer"]
    assert payload["userErrors"] == []
    inserted = next(i for i, s in enumerate(written) if s.lstrip().startswith("INSERT"))
    assert _reads_of(written[inserted:], "customers") == [], written
    later = await gql.data(
        READ_CUSTOMER, {"id": payload["customer"]["id"]}, token=tenant.staff_token
    )
    assert payload["customer"] == later["node"]
    assert payload["customer"]["email"] == "robin@example.com"
    assert payload["customer"]["communicationPreferences"]["marketing"] is False


async def test_a_message_sent_is_answered_from_the_row_written(gql, tenant, count_statements):
    customer_id, _ = await make_customer(gql, tenant)
    count_statements.statements.clear()
    data = await gql.data(
        SEND,
        {"input": {"customerId": customer_id, "body": " Ready at 5. "}},
        token=tenant.staff_token,
    )
    written = count_statements.statements[:]
    message = data["sendMessage"]["message"]
    inserted = next(i for i, s in enumerate(written) if "INSERT INTO messages" in s)
    assert _reads_of(written[inserted:], "messages") == [], written
    later = await gql.data(READ_MESSAGE, {"id": message["id"]}, token=tenant.staff_token)
    assert message == later["node"]
    assert message["body"] == "Ready at 5." and message["authorKind"] == "STAFF"


async def test_a_payment_received_with_an_offset_is_answered_in_utc(gql, tenant, count_statements):
    customer_id, _ = await make_customer(gql, tenant)
    invoice = await open_invoice(gql, tenant, customer_id)
    variables = {
        "invoiceId": invoice["id"],
        "amount": 500,
        "method": "CHEQUE",
        "reference": "No. 1042",
        "receivedAt": "2026-03-01T09:30:00-05:00",
    }
    count_statements.statements.clear()
    data = await gql.data(RECORD, {"input": variables}, token=tenant.staff_token)
    written = count_statements.statements[:]
    payment = data["recordPayment"]["payment"]
    inserted = next(i for i, s in enumerate(written) if "INSERT INTO payments" in s)
    assert _reads_of(written[inserted:], "payments") == [], written
    assert payment["receivedAt"] == "2026-03-01T14:30:00+00:00"
    later = await gql.data(READ_PAYMENT, {"id": payment["id"]}, token=tenant.staff_token)
    assert payment == later["node"]


async def test_an_approval_without_deposit_reads_the_estimate_once(
    gql, db, smtp, tenant, count_statements
):
    customer_id, email = await make_customer(gql, tenant)
    token = await sign_in_by_invite(gql, db, smtp, tenant, email, customerId=customer_id)
    estimate = await sent_estimate(gql, tenant, customer_id)
    variables = {"input": {"estimateId": estimate["id"], "version": estimate["version"]}}
    count_statements.statements.clear()
    data = await gql.data(APPROVE, variables, token=token)
    statements = count_statements.statements[:]
    assert data["approveEstimate"]["userErrors"] == []
    assert data["approveEstimate"]["estimate"]["status"] == "APPROVED"
    # One transaction: the version's snapshot is read once (twice when a deposit is asked).
    snapshots = [s for s in statements if "FROM estimate_versions" in s.replace("\n", " ")]
    assert len(snapshots) == 1, statements
    _, row_id = decode_id(estimate["id"])
    async with db.connect() as conn:
        decisions = await conn.scalar(
            sa.select(sa.func.count()).where(estimate_decisions.c.estimate_id == row_id)
        )
        audits = await conn.scalar(
            sa.select(sa.func.count()).where(
                audit_events.c.subject_id == row_id, audit_events.c.action == "estimate.approved"
            )
        )
        told = await conn.scalars(
            sa.select(outbox_emails.c.to_address).where(
                outbox_emails.c.organization_id == tenant.organization_id,
                outbox_emails.c.subject.like("%approved estimate%"),
            )
        )
        assert (decisions, audits) == (1, 1)
        assert sorted(told) == sorted([tenant.owner_email, tenant.staff_email])


def test_only_staff_rows_seen_whole_are_held():
    org = uuid.uuid4()
    staff = row_scope(
        Viewer(kind=ViewerKind.STAFF, organization_id=org, staff_user_id=org, role=StaffRole.STAFF)
    )
    portal = row_scope(
        Viewer(
            kind=ViewerKind.PORTAL,
            organization_id=org,
            customer_id=org,
            scope=PortalScope.EVERYTHING,
            sections=frozenset({"estimates", "messages"}),
        )
    )
    assert sees_whole_tenant(staff, customers) and sees_whole_tenant(staff, estimates)
    assert not sees_whole_tenant(staff, notifications)  # each staff member's own
    assert not sees_whole_tenant(portal, customers)
