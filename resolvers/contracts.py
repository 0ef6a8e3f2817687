"""Contracts: staff draft and send them; a portal viewer signs once, after reading the terms.

A signature records who (typed name and person), when, from where (address and browser)
and the sha256 of exactly what was signed: the attached file's stored hash, or the terms
text. A signed contract never changes; a new one can supersede it.
"""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from strawberry import UNSET, Info

from auth.access import row_scope
from core.errors import NotFound
from core.ids import decode_id_of, encode_id
from domain.audit import audit
from domain.notifications import for_customer, notify_staff
from mail.outbox import Attachment, enqueue, enqueue_to, one_line
from mail.recipients import recipients
from mail.templates import branded
from models import Contract, Customer, Document, Organization
from models.enums import ContractKind, ContractStatus, DocumentKind, MailKind, NotificationKind
from models.types import utcnow
from models.writes import apply, visible_for_update
from pdf.contract import SignedContract, render_signed_contract
from resolvers.bills import car_of
from resolvers.outcome import Rejected, mutation_outcome
from resolvers.rows import tenant_row
from resolvers.validation import Checks, Problem, changes
from storage import new_key, storage_from_settings, store_bytes

EDITABLE = (ContractStatus.DRAFT, ContractStatus.SENT)


def _filed_as(kind: ContractKind) -> DocumentKind:
    """A signed copy is a document of its contract's kind; other contracts file as PDFs."""
    return DocumentKind.PDF if kind is ContractKind.OTHER else DocumentKind(kind.value)


SIGNED = Problem("id", "A signed contract cannot change; supersede it.", "NOT_EDITABLE")


def _values(checks: Checks, data: Any) -> dict[str, Any]:
    return changes(
        title=checks.text("title", data.title, 255, required=True),
        terms=checks.text("terms", data.terms, 100_000, required=True),
    )


async def _document(session: AsyncSession, contract: Contract, gid: Any) -> Any:
    """The customer's file to sign with the contract: None clears it, UNSET keeps it."""
    if gid is UNSET or gid is None:
        return gid
    document = await tenant_row(session, Document, contract.organization_id, gid)
    if document.customer_id != contract.customer_id or not document.sha256:
        raise Rejected(Problem("documentId", "Attach a stored file of this customer.", "INVALID"))
    return document.id


@mutation_outcome
async def create_contract(info: Info, data: Any) -> uuid.UUID:
    checks = Checks(creating=True)
    values = _values(checks, data)
    checks.done()
    ctx = info.context
    org_id = ctx.viewer.organization_id
    async with ctx.write() as session:
        customer = await tenant_row(session, Customer, org_id, data.customer_id)
        car_id = await car_of(session, org_id, customer.id, data.car_id)
        contract = Contract(
            organization_id=org_id,
            customer_id=customer.id,
            car_id=None if car_id is UNSET else car_id,
            kind=data.kind,
            **values,
        )
        document_id = await _document(session, contract, data.document_id)
        contract.document_id = None if document_id is UNSET else document_id
        session.add(contract)
    return contract.id


@mutation_outcome
async def update_contract(info: Info, data: Any) -> uuid.UUID:
    checks = Checks(creating=False)
    values = _values(checks, data)
    checks.done()
    ctx = info.context
    async with ctx.write() as session:
        contract = await tenant_row(session, Contract, ctx.viewer.organization_id, data.id)
        if contract.status not in EDITABLE:
            raise Rejected(SIGNED)
        document_id = await _document(session, contract, data.document_id)
        if document_id is not UNSET:
            values["document_id"] = document_id
        apply(contract, values)
    return contract.id


@mutation_outcome
async def send_contract(info: Info, data: Any) -> uuid.UUID:
    """Ask the customer to sign: a notification, and an email to those who want contracts."""
    ctx = info.context
    async with ctx.write() as session:
        contract = await tenant_row(session, Contract, ctx.viewer.organization_id, data.id)
        if contract.status is not ContractStatus.DRAFT:
            raise Rejected(Problem("id", "Only a draft can be sent.", "NOT_EDITABLE"))
        apply(contract, {"status": ContractStatus.SENT, "sent_at": utcnow()})
        org = await session.get(Organization, contract.organization_id)
        title = f"Please sign: {contract.title}"
        session.add(
            for_customer(
                org, contract.customer_id, NotificationKind.CONTRACT_TO_SIGN, title, contract
            )
        )
        people = await recipients(session, contract.customer_id, MailKind.CONTRACTS)
        paragraphs = [f"{org.name} asks you to read and sign “{contract.title}” in your portal."]
        await enqueue_to(
            session,
            org,
            MailKind.CONTRACTS,
            people,
            title,
            paragraphs,
            ("Read and sign", f"{ctx.settings.portal_base}/contracts"),
        )
        session.add(
            audit(
                ctx,
                "contract.sent",
                customer_id=contract.customer_id,
                subject_type="Contract",
                subject_id=contract.id,
            )
        )
    return contract.id


@mutation_outcome
async def supersede_contract(info: Info, data: Any) -> uuid.UUID:
    """A new draft replacing a contract; the old one, signed or not, stays as it was."""
    checks = Checks(creating=False)
    values = _values(checks, data)
    checks.done()
    ctx = info.context
    async with ctx.write() as session:
        old = await tenant_row(session, Contract, ctx.viewer.organization_id, data.id)
        if old.superseded_by_id is not None or old.status is ContractStatus.VOID:
            raise Rejected(Problem("id", "This contract is no longer current.", "NOT_EDITABLE"))
        new = Contract(
            organization_id=old.organization_id,
            customer_id=old.customer_id,
            car_id=old.car_id,
            kind=old.kind,
            title=values.get("title", old.title),
            terms=values.get("terms", old.terms),
        )
        session.add(new)
        await session.flush()
        old.superseded_by_id = new.id
        old.status = ContractStatus.SUPERSEDED
        old.updated_at = utcnow()
        session.add(
            audit(
                ctx,
                "contract.superseded",
                customer_id=old.customer_id,
                subject_type="Contract",
                subject_id=old.id,
                data={"by": encode_id("Contract", new.id)},
            )
        )
    return new.id


def signed_hash(contract: Contract, document: Document | None) -> str:
    """What the signature covers: the attached file's bytes, else the terms shown."""
    if document is not None and document.sha256:
        return document.sha256
    return hashlib.sha256(contract.terms.encode()).hexdigest()


async def _file_signed_copy(
    ctx: Any, session: AsyncSession, org: Organization, contract: Contract
) -> None:
    """The signed copy as a PDF: a portal document both sides can download, and an email
    to the signer with it attached (sent whatever their preferences, like a receipt)."""
    customer = await session.get(Customer, contract.customer_id)
    data = render_signed_contract(
        SignedContract(
            organization=org.name,
            customer=customer.name if customer else "",
            title=contract.title,
            terms=contract.terms,
            signer_name=contract.signer_name or "",
            signed_at=contract.signed_at or utcnow(),
            signer_ip=contract.signer_ip,
            signed_sha256=contract.signed_sha256 or "",
        )
    )
    storage = storage_from_settings(ctx.settings)
    stored = await store_bytes(
        storage, new_key(org.id, "contracts"), data, content_type="application/pdf"
    )
    filename = f"{contract.title} (signed).pdf"
    document = Document(
        organization_id=org.id,
        customer_id=contract.customer_id,
        car_id=contract.car_id,
        name=f"{contract.title} (signed)"[:255],
        kind=_filed_as(contract.kind),
        content_type="application/pdf",
        size_bytes=stored.size_bytes,
        sha256=stored.sha256,
        storage_key=stored.key,
        visible_in_portal=True,
    )
    session.add(document)
    await session.flush()
    contract.signed_document_id = document.id
    email = ctx.viewer.email
    if email:
        subject = f"Your signed copy: {contract.title}"
        text, html = branded(
            org.model_dump(),
            subject=subject,
            heading=subject,
            paragraphs=[
                f"Hello {contract.signer_name},",
                "Attached is the contract you signed. It is also in your portal.",
            ],
        )
        await enqueue(
            session,
            kind=MailKind.RECEIPT,
            to=email,
            subject=one_line(subject)[:300],
            text=text,
            html=html,
            organization_id=org.id,
            attachment=Attachment(stored.key, filename[:255], "application/pdf"),
        )


@mutation_outcome
async def sign_contract(info: Info, data: Any) -> uuid.UUID:
    viewer = info.context.viewer
    checks = Checks(creating=True)
    name = checks.text("signerName", data.signer_name, 200, required=True)
    if data.consent is not True:
        checks.fail("consent", "Confirm that you have read and agree to the terms.", "REQUIRED")
    checks.done()
    ctx = info.context
    async with ctx.write() as session:
        found = await visible_for_update(
            session, Contract, row_scope(viewer), [decode_id_of("Contract", data.contract_id)]
        )
        if not found:
            raise NotFound(global_id=data.contract_id)
        contract = found[0]
        if contract.status is not ContractStatus.SENT:
            raise Rejected(
                Problem(
                    "contractId",
                    "This contract cannot be signed now.",
                    "ALREADY_SIGNED" if contract.signed_at else "NOT_EDITABLE",
                )
            )
        document = (
            await session.get(Document, contract.document_id) if contract.document_id else None
        )
        apply(
            contract,
            {
                "status": ContractStatus.SIGNED,
                "signed_at": utcnow(),
                "signer_name": name,
                "signer_contact_id": viewer.contact_id,
                "signer_ip": ctx.client_ip,
                "signer_user_agent": (ctx.user_agent or "")[:500] or None,
                "signed_sha256": signed_hash(contract, document),
            },
        )
        org = await session.get(Organization, contract.organization_id)
        await _file_signed_copy(ctx, session, org, contract)
        await notify_staff(
            session,
            org,
            NotificationKind.CONTRACT_SIGNED,
            f"{name} signed “{contract.title}”",
            "The signed copy is on file.",
            subject_type="Contract",
            subject_id=contract.id,
        )
        session.add(
            audit(
                ctx,
                "contract.signed",
                subject_type="Contract",
                subject_id=contract.id,
                data={"sha256": contract.signed_sha256},
            )
        )
    return contract.id
