"""Contracts: terms first, one signature with who/when/where/what, never changed after."""

import asyncio
import hashlib

import sqlalchemy as sa

from core.ids import decode_id
from models import AuditEvent, Notification
from tests.helpers import not_found_at, user_errors
from tests.portal import deliver, make_customer, sign_in_by_invite

FIELDS = (
    "id status title kind signerName signedAt signedSha256 supersededBy { id } "
    "signedCopy { id name contentType kind }"
)
CREATE = f"""
mutation C($input: CreateContractInput!) {{
  createContract(input: $input) {{ contract {{ {FIELDS} }} userErrors {{ field code }} }}
}}
"""
SEND = f"""
mutation S($id: ID!) {{
  sendContract(input: {{id: $id}}) {{ contract {{ {FIELDS} }} userErrors {{ field code }} }}
}}
"""
SIGN = f"""
mutation G($input: SignContractInput!) {{
  signContract(input: $input) {{ contract {{ {FIELDS} }} userErrors {{ field code }} }}
}}
"""
UPDATE = f"""
mutation U($input: UpdateContractInput!) {{
  updateContract(input: $input) {{ contract {{ {FIELDS} }} userErrors {{ field code }} }}
}}
"""
SUPERSEDE = f"""
mutation R($input: SupersedeContractInput!) {{
  supersedeContract(input: $input) {{ contract {{ {FIELDS} }} userErrors {{ field code }} }}
}}
"""
TERMS = "The facility stores the vehicle indoors. Fees are due monthly."


async def _sent(gql, tenant, customer_id):
    made = await gql.data(
        CREATE,
        {
            "input": {
                "customerId": customer_id,
                "title": "Storage agreement",
                "kind": "STORAGE_AGREEMENT",
                "terms": TERMS,
            }
        },
        token=tenant.staff_token,
    )
    contract_id = made["createContract"]["contract"]["id"]
    await gql.data(SEND, {"id": contract_id}, token=tenant.staff_token)
    return contract_id


async def test_a_contract_is_signed_once_and_never_changes(gql, db, smtp, tenant):
    customer_id, email = await make_customer(gql, tenant)
    token = await sign_in_by_invite(gql, db, smtp, tenant, email, customerId=customer_id)
    await gql.data(
        CREATE,
        {"input": {"customerId": customer_id, "title": "Waiver", "terms": "Draft terms"}},
        token=tenant.staff_token,
    )
    hidden = await gql.data(
        "{ viewer { customer { contracts(first: 5) { nodes { id } } } } }", token=token
    )
    assert hidden["viewer"]["customer"]["contracts"]["nodes"] == []  # drafts stay staff-only
    contract_id = await _sent(gql, tenant, customer_id)
    waiting = await gql.data(
        "{ viewer { customer { contractsToSign(first: 5) { nodes { id terms } } } } }",
        token=token,
    )
    assert waiting["viewer"]["customer"]["contractsToSign"]["nodes"] == [
        {"id": contract_id, "terms": TERMS}
    ]
    no_consent = await gql.data(
        SIGN,
        {"input": {"contractId": contract_id, "signerName": "Alex", "consent": False}},
        token=token,
    )
    assert user_errors(no_consent["signContract"]) == [(["input", "consent"], "REQUIRED")]
    results = await asyncio.gather(
        *(
            gql.data(
                SIGN,
                {
                    "input": {
                        "contractId": contract_id,
                        "signerName": "Alex Morgan",
                        "consent": True,
                    }
                },
                token=token,
            )
            for _ in range(3)
        )
    )
    signed = [r["signContract"] for r in results if not r["signContract"]["userErrors"]]
    assert len(signed) == 1
    contract = signed[0]["contract"]
    assert contract["status"] == "SIGNED" and contract["signerName"] == "Alex Morgan"
    assert contract["signedSha256"] == hashlib.sha256(TERMS.encode()).hexdigest()
    assert all(
        user_errors(r["signContract"]) == [(["input", "contractId"], "ALREADY_SIGNED")]
        for r in results
        if r["signContract"]["userErrors"]
    )
    copy = contract["signedCopy"]
    assert copy["contentType"] == "application/pdf" and copy["name"].endswith("(signed)")
    assert copy["kind"] == "STORAGE_AGREEMENT"  # filed under its contract's kind
    await deliver(db, smtp)
    mailed = [m for m in smtp.messages if email in str(m["To"]) and "signed copy" in m["Subject"]]
    assert len(mailed) == 1
    attachments = list(mailed[0].iter_attachments())
    assert [a.get_content_type() for a in attachments] == ["application/pdf"]
    assert attachments[0].get_content().startswith(b"%PDF")
    edit = await gql.data(
        UPDATE, {"input": {"id": contract_id, "terms": "Changed"}}, token=tenant.staff_token
    )
    assert user_errors(edit["updateContract"]) == [(["input", "id"], "NOT_EDITABLE")]
    staff_view = await gql.data(
        "query C($id: ID!) { node(id: $id) { ... on Contract { signerIp terms } } }",
        {"id": contract_id},
        token=tenant.staff_token,
    )
    assert staff_view["node"]["signerIp"] and staff_view["node"]["terms"] == TERMS
    _, row_id = decode_id(contract_id)
    async with db.connect() as conn:
        audited = await conn.scalar(
            sa.select(sa.func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "contract.signed", AuditEvent.subject_id == row_id)
        )
        told = await conn.scalar(
            sa.select(sa.func.count())
            .select_from(Notification)
            .where(Notification.kind == "CONTRACT_SIGNED", Notification.subject_id == row_id)
        )
    assert (audited, told) == (1, 2)
    replaced = (
        await gql.data(
            SUPERSEDE,
            {"input": {"id": contract_id, "terms": "New terms"}},
            token=tenant.staff_token,
        )
    )["supersedeContract"]["contract"]
    assert replaced["status"] == "DRAFT" and replaced["id"] != contract_id
    assert replaced["kind"] == "STORAGE_AGREEMENT"  # what it is does not change
    old = await gql.data(
        f"query C($id: ID!) {{ node(id: $id) {{ ... on Contract {{ {FIELDS} terms }} }} }}",
        {"id": contract_id},
        token=tenant.staff_token,
    )
    assert old["node"]["status"] == "SUPERSEDED" and old["node"]["terms"] == TERMS
    assert old["node"]["signedSha256"] == contract["signedSha256"]
    assert old["node"]["supersededBy"] == {"id": replaced["id"]}
    listed = await gql.data(
        "{ contracts(status: [SENT]) { nodes { id } } }", token=tenant.staff_token
    )
    assert contract_id not in {n["id"] for n in listed["contracts"]["nodes"]}


async def test_other_customers_contracts_cannot_be_signed(gql, db, smtp, tenant):
    customer_id, _ = await make_customer(gql, tenant)
    stranger_id, stranger_email = await make_customer(gql, tenant)
    token = await sign_in_by_invite(gql, db, smtp, tenant, stranger_email, customerId=stranger_id)
    contract_id = await _sent(gql, tenant, customer_id)
    refused = await gql(
        SIGN,
        {"input": {"contractId": contract_id, "signerName": "X", "consent": True}},
        token=token,
    )
    not_found_at(refused, "contractId")
    still = await gql.data(
        f"query C($id: ID!) {{ node(id: $id) {{ ... on Contract {{ {FIELDS} }} }} }}",
        {"id": contract_id},
        token=tenant.staff_token,
    )
    assert still["node"]["status"] == "SENT" and still["node"]["signedAt"] is None
