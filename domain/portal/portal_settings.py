"""The organization's portal settings (OWNER only; every change is audited). Switching the
portal off ends every portal session and link of the organization (auth/portal.py)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from auth.portal import close_portal
from domain.audit import audit
from domain.cars.updates import MAX_WINDOW_MINUTES
from domain.edits import KEEP, Edit
from domain.problems import Problem, Rejected
from domain.schedule.reminders import MAX_DAYS_BEFORE
from domain.work import Work
from models import PortalSettings
from models.enums import SignInMethod
from models.writes import apply

MAX_DUE_DAYS = 365
MAX_CUTOFF_HOURS = 720
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
    "send_appointment_reminders",
    "allow_appointment_changes",
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
    send_appointment_reminders: Edit[bool] = KEEP
    reminder_days_before: Edit[int] = KEEP  # 0 to MAX_DAYS_BEFORE
    reminder_hour: Edit[int] = KEEP  # 0 to 23, local time
    car_update_minutes: Edit[int] = KEEP  # 0 to MAX_WINDOW_MINUTES
    allow_appointment_changes: Edit[bool] = KEEP
    appointment_change_cutoff_hours: Edit[int] = KEEP  # 0 to MAX_CUTOFF_HOURS

    def values(self) -> dict[str, Any]:
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        return {name: value for name, value in values.items() if value is not KEEP}


def due_days_problem(days: Edit[int]) -> Problem | None:
    """Payment terms run from 0 to MAX_DUE_DAYS days."""
    if days is not KEEP and not 0 <= days <= MAX_DUE_DAYS:
        return Problem("invoiceDueDays", f"Use 0 to {MAX_DUE_DAYS} days.")
    return None


def range_problems(options: PortalOptions) -> list[Problem]:
    """The numbers with bounds: payment terms, when reminders go, the car update window."""
    problems = []
    due = due_days_problem(options.invoice_due_days)
    if due is not None:
        problems.append(due)
    days = options.reminder_days_before
    if days is not KEEP and not 0 <= days <= MAX_DAYS_BEFORE:
        problems.append(Problem("reminderDaysBefore", f"Use 0 to {MAX_DAYS_BEFORE} days."))
    hour = options.reminder_hour
    if hour is not KEEP and not 0 <= hour <= 23:
        problems.append(Problem("reminderHour", "Use an hour from 0 to 23."))
    minutes = options.car_update_minutes
    if minutes is not KEEP and not 0 <= minutes <= MAX_WINDOW_MINUTES:
        problems.append(Problem("carUpdateMinutes", f"Use 0 to {MAX_WINDOW_MINUTES} minutes."))
    cutoff = options.appointment_change_cutoff_hours
    if cutoff is not KEEP and not 0 <= cutoff <= MAX_CUTOFF_HOURS:
        message = f"Use 0 to {MAX_CUTOFF_HOURS} hours."
        problems.append(Problem("appointmentChangeCutoffHours", message))
    return problems


async def update_portal_settings(work: Work, options: PortalOptions) -> None:
    problems = range_problems(options)
    if problems:
        raise Rejected(*problems)
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
