"""Audit rows: who did what, when, from where. Never a token or a password."""

from __future__ import annotations

import uuid
from typing import Any

from core.ids import encode_id
from domain.work import Actor
from models import AuditEvent
from models.enums import ActorKind


def audit(
    ctx: Actor,
    action: str,
    *,
    organization_id: uuid.UUID | None = None,
    customer_id: uuid.UUID | None = None,
    contact_id: uuid.UUID | None = None,
    subject_type: str | None = None,
    subject_id: uuid.UUID | None = None,
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    """An audit row for the current request. The actor is the staff member, or the
    portal person concerned (given explicitly, else the signed-in viewer)."""
    viewer = ctx.viewer
    staff_id: uuid.UUID | None = None
    if viewer.is_staff:
        actor = ActorKind.STAFF
        staff_id = viewer.staff_user_id
        actor_contact = None
    else:
        if customer_id is None and viewer.is_portal:
            customer_id, contact_id = viewer.customer_id, viewer.contact_id
        actor_contact = contact_id
        if customer_id is None:
            actor = ActorKind.SYSTEM
        else:
            actor = ActorKind.CONTACT if contact_id else ActorKind.CUSTOMER
    org_id = organization_id or viewer.organization_id
    if org_id is None:
        raise ValueError("an audit row belongs to an organization")
    return AuditEvent(
        organization_id=org_id,
        action=action,
        actor_kind=actor,
        actor_staff_id=staff_id,
        actor_contact_id=actor_contact,
        customer_id=customer_id,
        subject_type=subject_type,
        subject_id=subject_id,
        ip=ctx.client_ip,
        user_agent=(ctx.user_agent or "")[:500] or None,
        data=_with_contact(data, contact_id),
    )


def _with_contact(data: dict[str, Any] | None, contact_id: uuid.UUID | None) -> dict[str, Any]:
    """The details, and the contact concerned by global id (data never holds raw row ids)."""
    contact = {"contact_id": encode_id("Contact", contact_id)} if contact_id else {}
    return {**(data or {}), **contact}


def audit_person(
    ctx: Actor, action: str, person: Any, data: dict[str, Any] | None = None
) -> AuditEvent:
    """An audit row about a portal person (a customer, or one of its contacts)."""
    return audit(
        ctx,
        action,
        organization_id=person.organization_id,
        customer_id=person.customer_id,
        contact_id=person.contact_id,
        data=data,
    )


def system_audit(
    organization_id: uuid.UUID,
    action: str,
    *,
    customer_id: uuid.UUID | None = None,
    contact_id: uuid.UUID | None = None,
    subject_type: str | None = None,
    subject_id: uuid.UUID | None = None,
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    """An audit row for what Portico did on its own (a provider's event, a scheduled job)."""
    return AuditEvent(
        organization_id=organization_id,
        action=action,
        actor_kind=ActorKind.SYSTEM,
        customer_id=customer_id,
        subject_type=subject_type,
        subject_id=subject_id,
        data=_with_contact(data, contact_id),
    )
