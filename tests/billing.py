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
