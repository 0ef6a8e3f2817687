"""The organization's portal settings (OWNER only; every change is audited). Switching the
portal off ends every portal session and link of the organization (auth/portal.py)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from auth.portal import close_portal
from domain.audit import audit
from domain.edits import KEEP, Edit
from domain.problems import Problem, Rejected
from domain.work import Work
from models import PortalSettings
from models.enums import SignInMethod
from models.writes import apply

MAX_DUE_DAYS = 365
SWITCHES = (  # the settings that are on or off
    "enabled",
    "show_cars",
    "show_invoices",
    "show_estimates",
    "show_documents",
    "show_appointments",
    "show_messages",
    "show_profile",
    "show_telematics",
    "allow_online_payment",
    "allow_partial_payment",
    "allow_estimate_approval",
    "allow_profile_updates",
    "allow_appointment_requests",
    "auto_invite_with_first_bill",
    "hosted_checkout",
    "allow_autopay",
    "allow_document_uploads",
)


@dataclass(frozen=True)
class PortalOptions:
    """Settings to change; KEEP leaves one as it is."""

    enabled: Edit[bool] = KEEP
    show_cars: Edit[bool] = KEEP
    show_invoices: Edit[bool] = KEEP
    show_estimates: Edit[bool] = KEEP
    show_documents: Edit[bool] = KEEP
    show_appointments: Edit[bool] = KEEP
    show_messages: Edit[bool] = KEEP
    show_profile: Edit[bool] = KEEP
    show_telematics: Edit[bool] = KEEP
    allow_online_payment: Edit[bool] = KEEP
    allow_partial_payment: Edit[bool] = KEEP
    allow_estimate_approval: Edit[bool] = KEEP
    allow_profile_updates: Edit[bool] = KEEP
    allow_appointment_requests: Edit[bool] = KEEP
    auto_invite_with_first_bill: Edit[bool] = KEEP
    hosted_checkout: Edit[bool] = KEEP
    allow_autopay: Edit[bool] = KEEP
    allow_document_uploads: Edit[bool] = KEEP
    minimum_partial_amount: Edit[int] = KEEP  # minor units, not negative
    sign_in_method: Edit[SignInMethod] = KEEP
    estimate_deposit_bp: Edit[int] = KEEP  # basis points, 0 to 10 000
    invoice_due_days: Edit[int] = KEEP  # 0 to MAX_DUE_DAYS

    def values(self) -> dict[str, Any]:
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        return {name: value for name, value in values.items() if value is not KEEP}


def due_days_problem(days: Edit[int]) -> Problem | None:
    """Payment terms run from 0 to MAX_DUE_DAYS days."""
    if days is not KEEP and not 0 <= days <= MAX_DUE_DAYS:
        return Problem("invoiceDueDays", f"Use 0 to {MAX_DUE_DAYS} days.")
    return None


async def update_portal_settings(work: Work, options: PortalOptions) -> None:
    problem = due_days_problem(options.invoice_due_days)
    if problem is not None:
        raise Rejected(problem)
    values = options.values()
    async with work.write() as session:
        settings = await session.get(
            PortalSettings, work.viewer.organization_id, with_for_update=True
        )
        if settings is None:  # every organization has its row
            raise Rejected()
        before = {name: getattr(settings, name) for name in values}
        if before.get("enabled") and values.get("enabled") is False:
            await close_portal(session, settings.organization_id)
        apply(settings, values)
        changed = {k: [str(before[k]), str(v)] for k, v in values.items() if before[k] != v}
        if changed:
            session.add(audit(work, "settings.portal_updated", data={"changed": changed}))
