"""Each domain action writes its webhook event in its own transaction, and the endpoint
receives exactly the types it asked for, in the order they happened, with the object's
state at that moment."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from domain.webhooks.delivery import deliver_due
from domain.webhooks.events import EVENT_TYPES
from models.db import Database
from tests.billing import (
    APPROVE,
    DECLINE,
    RECORD_PAYMENT,
    REFUND_PAYMENT,
    VOID_INVOICE,
    open_invoice,
    sent_estimate,
)
from tests.helpers import GraphQLClient, Tenant
from tests.portal import make_car, make_customer, sign_in_by_invite
from tests.test_appointments import CANCEL, UPDATE, _create, offset
from tests.test_cars import UPDATE_CAR
from tests.test_contracts import SIGN, _sent
from tests.test_messages import SEND_MINE
from tests.webhook_receiver import Receiver
from tests.webhooks import register

UPDATE_CUSTOMER = """
mutation U($input: UpdateCustomerInput!) { updateCustomer(input: $input) { userErrors { code } } }
"""


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    server = await Receiver().start()
    yield server
    await server.stop()


async def _received(db: Database, receiver: Receiver) -> dict[str, list[str]]:
    """The event types received for each object, in the order they arrived (an endpoint
    sees one object's events in order; different objects' may interleave)."""
    while await deliver_due(db, now=datetime.now(UTC)):
        pass
    by_object: dict[str, list[str]] = {}
    for request in receiver.requests:
        by_object.setdefault(request.event["data"]["object"]["id"], []).append(
            request.event["type"]
        )
    return by_object


async def test_staff_actions_send_their_events(
    gql: GraphQLClient, db: Database, smtp, tenant: Tenant, receiver: Receiver
):
    made = await register(gql, tenant, receiver.url, EVENT_TYPES)
    assert made["userErrors"] == []
    customer_id, _ = await make_customer(gql, tenant, "Eve Vent")
    await gql.data(
        UPDATE_CUSTOMER,
        {"input": {"id": customer_id, "phone": "+1 312 555 0100"}},
        token=tenant.staff_token,
    )
    car_id = await make_car(gql, tenant, customer_id, "Carrera")
    moved = {"input": {"id": car_id, "status": "IN_SERVICE"}}
    await gql.data(UPDATE_CAR, moved, token=tenant.staff_token)
    lines = [{"description": "Work", "quantity": "1", "unitPrice": 5000}]
    invoice = await open_invoice(gql, tenant, customer_id, lines)
    paid = await gql.data(
        RECORD_PAYMENT,
        {"input": {"invoiceId": invoice["id"], "amount": 5000, "method": "CASH"}},
        token=tenant.staff_token,
    )
    payment_id = paid["recordPayment"]["payment"]["id"]
    refund = {"input": {"paymentId": payment_id, "amount": 5000}}
    assert (await gql.data(REFUND_PAYMENT, refund, token=tenant.staff_token))["refundPayment"][
        "userErrors"
    ] == []
    void = await gql.data(VOID_INVOICE, {"id": invoice["id"]}, token=tenant.staff_token)
    assert void["voidInvoice"]["userErrors"] == []
    appointment = (await _create(gql, tenant, customer_id))["appointment"]
    change = {"input": {"id": appointment["id"], "startsAt": offset(72), "endsAt": offset(73)}}
    await gql.data(UPDATE, change, token=tenant.staff_token)
    await gql.data(CANCEL, {"input": {"id": appointment["id"]}}, token=tenant.staff_token)

    received = await _received(db, receiver)
    assert received == {
        customer_id: ["customer.created", "customer.updated"],
        car_id: ["car.status_changed"],
        invoice["id"]: ["invoice.sent", "invoice.paid", "invoice.voided"],
        payment_id: ["payment.succeeded", "payment.refunded"],
        appointment["id"]: [
            "appointment.created",
            "appointment.changed",
            "appointment.cancelled",
        ],
    }
    objects = {r.event["type"]: r.event["data"]["object"] for r in receiver.requests}
    assert objects["car.status_changed"]["status"] == "IN_SERVICE"
    assert objects["invoice.paid"]["status"] == "PAID"
    assert objects["invoice.paid"]["customerId"] == customer_id
    assert objects["payment.refunded"]["invoiceId"] == invoice["id"]
    assert objects["appointment.cancelled"]["status"] == "CANCELLED"
    assert objects["customer.updated"]["phone"] == "+13125550100"


async def test_portal_actions_send_their_events(
    gql: GraphQLClient, db: Database, smtp, tenant: Tenant, receiver: Receiver
):
    customer_id, email = await make_customer(gql, tenant, "Porta Viewer")
    await register(
        gql,
        tenant,
        receiver.url,
        ["estimate.approved", "estimate.declined", "message.received", "contract.signed"],
    )
    portal = await sign_in_by_invite(gql, db, smtp, tenant, email, customerId=customer_id)
    approved = await sent_estimate(gql, tenant, customer_id)
    answer = await gql.data(
        APPROVE, {"input": {"estimateId": approved["id"], "version": 1}}, token=portal
    )
    assert answer["approveEstimate"]["userErrors"] == []
    declined = await sent_estimate(gql, tenant, customer_id)
    no = {"input": {"estimateId": declined["id"], "version": 1, "reason": "Too dear"}}
    assert (await gql.data(DECLINE, no, token=portal))["declineEstimate"]["userErrors"] == []
    asked = await sent_estimate(gql, tenant, customer_id)
    changes = {
        "input": {
            "estimateId": asked["id"],
            "version": 1,
            "reason": "Cheaper pads?",
            "requestChanges": True,
        }
    }
    assert (await gql.data(DECLINE, changes, token=portal))["declineEstimate"]["userErrors"] == []
    contract_id = await _sent(gql, tenant, customer_id)
    signing = {"input": {"contractId": contract_id, "signerName": "Porta", "consent": True}}
    assert (await gql.data(SIGN, signing, token=portal))["signContract"]["userErrors"] == []
    sent = await gql.data(SEND_MINE, {"input": {"body": "Is it ready?"}}, token=portal)
    message_id = sent["sendMyMessage"]["message"]["id"]

    received = await _received(db, receiver)
    assert received == {  # a request for changes sends nothing
        approved["id"]: ["estimate.approved"],
        declined["id"]: ["estimate.declined"],
        message_id: ["message.received"],
        contract_id: ["contract.signed"],
    }
    [contract] = [
        r.event["data"]["object"] for r in receiver.requests if r.event["type"] == "contract.signed"
    ]
    assert contract["status"] == "SIGNED" and contract["signerName"] == "Porta"
    assert not {"signerIp", "signerUserAgent"} & set(contract)
    [message] = [
        r.event["data"]["object"]
        for r in receiver.requests
        if r.event["type"] == "message.received"
    ]
    assert message["body"] == "Is it ready?" and message["customerId"] == customer_id
