"""Helpers for billing tests: invoices and estimates made through the API."""

from __future__ import annotations

from typing import Any

from tests.helpers import GraphQLClient, Tenant

INVOICE_FIELDS = """
id number status currency issueDate dueDate isOverdue
subtotal { amount currency } taxTotal { amount } total { amount }
amountPaid { amount } amountDue { amount }
lineItems { position kind description quantity taxRate unitPrice { amount } subtotal { amount }
            tax { amount } total { amount } }
"""
CREATE_INVOICE = f"""
mutation C($input: CreateInvoiceInput!) {{
  createInvoice(input: $input) {{ invoice {{ {INVOICE_FIELDS} }} userErrors {{ field code }} }}
}}
"""
UPDATE_INVOICE = f"""
mutation U($input: UpdateInvoiceInput!) {{
  updateInvoice(input: $input) {{ invoice {{ {INVOICE_FIELDS} }} userErrors {{ field code }} }}
}}
"""
SEND_INVOICE = f"""
mutation S($id: ID!) {{
  sendInvoice(input: {{id: $id}}) {{ invoice {{ {INVOICE_FIELDS} }} userErrors {{ field code }} }}
}}
"""
VOID_INVOICE = f"""
mutation V($id: ID!) {{
  voidInvoice(input: {{id: $id}}) {{ invoice {{ {INVOICE_FIELDS} }} userErrors {{ field code }} }}
}}
"""
LINE = {"description": "Storage, one month", "quantity": "1", "unitPrice": 25000}


async def draft_invoice(
    gql: GraphQLClient, tenant: Tenant, customer_id: str, lines: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    data = await gql.data(
        CREATE_INVOICE,
        {"input": {"customerId": customer_id, "lineItems": lines or [LINE]}},
        token=tenant.staff_token,
    )
    payload = data["createInvoice"]
    assert payload["userErrors"] == [], payload
    return payload["invoice"]


async def open_invoice(
    gql: GraphQLClient, tenant: Tenant, customer_id: str, lines: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    draft = await draft_invoice(gql, tenant, customer_id, lines)
    data = await gql.data(SEND_INVOICE, {"id": draft["id"]}, token=tenant.staff_token)
    assert data["sendInvoice"]["userErrors"] == []
    return data["sendInvoice"]["invoice"]


RECORD_PAYMENT = """
mutation P($input: RecordPaymentInput!) {
  recordPayment(input: $input) {
    payment { id status amount { amount } refundedAmount { amount }
              invoice { status amountPaid { amount } amountDue { amount } } }
    userErrors { field code }
  }
}
"""
REFUND_PAYMENT = """
mutation R($input: RefundPaymentInput!) {
  refundPayment(input: $input) {
    payment { id status amount { amount } refundedAmount { amount }
              invoice { status amountPaid { amount } amountDue { amount } } }
    userErrors { field code }
  }
}
"""

ESTIMATE_FIELDS = """
id number version status expiresAt total { amount currency }
lineItems { position optional total { amount } }
decision { version decision reason approvedLines declinedLines approvedTotal { amount }
           deposit { amount } }
"""
CREATE_ESTIMATE = f"""
mutation C($input: CreateEstimateInput!) {{
  createEstimate(input: $input) {{ estimate {{ {ESTIMATE_FIELDS} }} userErrors {{ field code }} }}
}}
"""
UPDATE_ESTIMATE = f"""
mutation U($input: UpdateEstimateInput!) {{
  updateEstimate(input: $input) {{ estimate {{ {ESTIMATE_FIELDS} }} userErrors {{ field code }} }}
}}
"""
SEND_ESTIMATE = f"""
mutation S($id: ID!) {{
  sendEstimate(input: {{id: $id}}) {{
    estimate {{ {ESTIMATE_FIELDS} }} userErrors {{ field code }}
  }}
}}
"""
APPROVE = f"""
mutation A($input: ApproveEstimateInput!) {{
  approveEstimate(input: $input) {{
    estimate {{ {ESTIMATE_FIELDS} }}
    depositPayment {{ amount {{ amount currency }} clientSecret checkoutUrl stripeAccount }}
    userErrors {{ field code }}
  }}
}}
"""
DECLINE = f"""
mutation D($input: DeclineEstimateInput!) {{
  declineEstimate(input: $input) {{ estimate {{ {ESTIMATE_FIELDS} }} userErrors {{ field code }} }}
}}
"""
INVOICE_ESTIMATE = f"""
mutation I($id: ID!) {{
  invoiceEstimate(input: {{id: $id}}) {{
    invoice {{ {INVOICE_FIELDS} }} userErrors {{ field code }}
  }}
}}
"""
ESTIMATE_LINES = [
    {"kind": "LABOUR", "description": "Brake job", "quantity": "2", "unitPrice": 12000},
    {"kind": "PARTS", "description": "Pads and rotors", "quantity": "1", "unitPrice": 18000},
    {
        "kind": "FEE",
        "description": "Ceramic coating",
        "quantity": "1",
        "unitPrice": 30000,
        "optional": True,
    },
]


async def sent_estimate(
    gql: GraphQLClient, tenant: Tenant, customer_id: str, **fields: Any
) -> dict[str, Any]:
    data = await gql.data(
        CREATE_ESTIMATE,
        {"input": {"customerId": customer_id, "lineItems": ESTIMATE_LINES, **fields}},
        token=tenant.staff_token,
    )
    assert data["createEstimate"]["userErrors"] == []
    estimate_id = data["createEstimate"]["estimate"]["id"]
    sent = await gql.data(SEND_ESTIMATE, {"id": estimate_id}, token=tenant.staff_token)
    assert sent["sendEstimate"]["userErrors"] == [], sent
    return sent["sendEstimate"]["estimate"]
