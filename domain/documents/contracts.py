"""Contracts: staff draft and send them; a portal viewer signs once, after reading the terms.

A signature records who (typed name and person), when, from where (address and browser)
and the sha256 of exactly what was signed: the attached file's stored hash, or the terms
text. A signed contract never changes; a new one can supersede it.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from auth.access import require_write, row_scope
from core.errors import NotFound
from core.ids import encode_id
from domain.audit import audit
from domain.cars.cars import customer_car
from domain.documents.codes import DocumentCode
from domain.edits import KEEP, Edit, changes
from domain.notifications import for_customer, notify_staff
from domain.problems import Common, Problem, Rejected
from domain.rows import locked, organization_of
from domain.webhooks.events import emit
from domain.work import Actor, Work
from mail.outbox import Attachment, enqueue, enqueue_to, one_line
from mail.recipients import recipients
from mail.templates import branded
from models import Contract, Customer, Document, Organization
from models.enums import ContractKind, ContractStatus, DocumentKind, MailKind, NotificationKind
from models.types import utcnow
from models.writes import apply, visible_for_update
from pdf.contract import SignedContract, render_signed_contract
from storage import new_key, storage_from_settings, store_bytes

EDITABLE = (ContractStatus.DRAFT, ContractStatus.SENT)
SIGNED = Problem("id", "A signed contract cannot change; supersede it.", DocumentCode.NOT_EDITABLE)


@dataclass(frozen=True)
class Terms:
    """A contract's title and terms, as checked at the edge; KEEP leaves one as it is."""

    title: Edit[str] = KEEP
    terms: Edit[str] = KEEP

    def values(self) -> dict[str, Any]:
        return changes(title=self.title, terms=self.terms)


def _filed_as(kind: ContractKind) -> DocumentKind:
    """A signed copy is a document of its contract's kind; other contracts file as PDFs."""
    return DocumentKind.PDF if kind is ContractKind.OTHER else DocumentKind(kind.value)


async def _document(
    session: AsyncSession, contract: Contract, document_id: Edit[uuid.UUID | None]
) -> Edit[uuid.UUID | None]:
    """The customer's file to sign with the contract: None clears it, KEEP keeps it."""
    if document_id is KEEP or document_id is None:
        return document_id
    document = await locked(session, Document, contract.organization_id, document_id)
    if document.customer_id != contract.customer_id or not document.sha256:
        message = "Attach a stored file of this customer."
        raise Rejected(Problem("documentId", message, Common.INVALID))
    return document.id


async def create_contract(
    work: Work,
    customer_id: uuid.UUID,
    kind: ContractKind,
    terms: Terms,
    car_id: Edit[uuid.UUID | None],
    document_id: Edit[uuid.UUID | None],
) -> uuid.UUID:
    """A draft for a customer, about one of their cars if named, with a file of theirs to
    sign if named."""
    org_id = organization_of(work)
    async with work.write() as session:
        customer = await locked(session, Customer, org_id, customer_id)
        car = await customer_car(session, org_id, customer.id, car_id)
        contract = Contract(
            organization_id=org_id,
            customer_id=customer.id,
            car_id=None if car is KEEP else car,
            kind=kind,
            **terms.values(),
        )
        document = await _document(session, contract, document_id)
        contract.document_id = None if document is KEEP else document
        session.add(contract)
    return contract.id


async def update_contract(
    work: Work, contract_id: uuid.UUID, terms: Terms, document_id: Edit[uuid.UUID | None]
) -> uuid.UUID:
    """Change a contract not yet signed."""
    async with work.write() as session:
        contract = await locked(session, Contract, work.viewer.organization_id, contract_id)
        if contract.status not in EDITABLE:
            raise Rejected(SIGNED)
        values = terms.values()
        document = await _document(session, contract, document_id)
        if document is not KEEP:
            values["document_id"] = document
        apply(contract, values)
    return contract.id


async def send_contract(work: Work, contract_id: uuid.UUID) -> uuid.UUID:
    """Ask the customer to sign: a notification, and an email to those who want contracts."""
    async with work.write() as session:
        contract = await locked(session, Contract, work.viewer.organization_id, contract_id)
        if contract.status is not ContractStatus.DRAFT:
            message = "Only a draft can be sent."
            raise Rejected(Problem("id", message, DocumentCode.NOT_EDITABLE))
        apply(contract, {"status": ContractStatus.SENT, "sent_at": utcnow()})
        org = await session.get(Organization, contract.organization_id)
        assert org is not None  # the contract's foreign key holds it
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
            ("Read and sign", f"{work.settings.portal_base}/contracts"),
        )
        session.add(
            audit(
                work,
                "contract.sent",
                customer_id=contract.customer_id,
                subject_type="Contract",
                subject_id=contract.id,
            )
        )
    return contract.id


async def supersede_contract(work: Work, contract_id: uuid.UUID, terms: Terms) -> uuid.UUID:
    """A new draft replacing a contract; the old one, signed or not, stays as it was."""
    async with work.write() as session:
        old = await locked(session, Contract, work.viewer.organization_id, contract_id)
        if old.superseded_by_id is not None or old.status is ContractStatus.VOID:
            message = "This contract is no longer current."
            raise Rejected(Problem("id", message, DocumentCode.NOT_EDITABLE))
        values = terms.values()
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
                work,
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
    work: Work, session: AsyncSession, org: Organization, contract: Contract
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
    storage = storage_from_settings(work.settings)
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
    email = work.viewer.email
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


def may_sign_contracts(actor: Actor) -> None:
    """The portal's gate for signatures (contracts are in the documents section):
    SECTION_DISABLED where it is closed to the viewer, before anything of the input is
    looked at."""
    require_write(actor.viewer, "contracts")


async def sign_contract(work: Work, contract_id: uuid.UUID, signer_name: str) -> uuid.UUID:
    """The portal viewer signs a contract sent to their customer, with their typed name;
    final. The signed copy is filed and mailed to them, and staff are told."""
    viewer = work.viewer
    may_sign_contracts(work)
    async with work.write() as session:
        found = await visible_for_update(session, Contract, row_scope(viewer), [contract_id])
        if not found:
            raise NotFound(row=("Contract", contract_id))
        contract = found[0]
        if contract.status is not ContractStatus.SENT:
            code = DocumentCode.ALREADY_SIGNED if contract.signed_at else DocumentCode.NOT_EDITABLE
            raise Rejected(Problem("contractId", "This contract cannot be signed now.", code))
        document = (
            await session.get(Document, contract.document_id) if contract.document_id else None
        )
        apply(
            contract,
            {
                "status": ContractStatus.SIGNED,
                "signed_at": utcnow(),
                "signer_name": signer_name,
                "signer_contact_id": viewer.contact_id,
                "signer_ip": work.client_ip,
                "signer_user_agent": (work.user_agent or "")[:500] or None,
                "signed_sha256": signed_hash(contract, document),
            },
        )
        org = await session.get(Organization, contract.organization_id)
        assert org is not None  # the contract's foreign key holds it
        await _file_signed_copy(work, session, org, contract)
        await notify_staff(
            session,
            org,
            NotificationKind.CONTRACT_SIGNED,
            f"{signer_name} signed “{contract.title}”",
            "The signed copy is on file.",
            subject_type="Contract",
            subject_id=contract.id,
        )
        session.add(
            audit(
                work,
                "contract.signed",
                subject_type="Contract",
                subject_id=contract.id,
                data={"sha256": contract.signed_sha256},
            )
        )
        await emit(session, "contract.signed", contract)
    return contract.id
