"""The organization's portal settings (OWNER only; every change is audited)."""

from __future__ import annotations

from typing import Any

from strawberry import Info

from auth.portal import close_portal
from domain.audit import audit
from models import PortalSettings
from models.writes import apply
from resolvers.outcome import Rejected, mutation_outcome
from resolvers.validation import Checks, changes, given

BOOLEAN_SETTINGS = (
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


@mutation_outcome
async def update(info: Info, data: Any) -> None:
    checks = Checks(creating=False)
    values = changes(
        **{name: given(getattr(data, name)) for name in BOOLEAN_SETTINGS},
        minimum_partial_amount=checks.non_negative(
            "minimumPartialAmount", given(data.minimum_partial_amount)
        ),
        sign_in_method=given(data.sign_in_method),
        estimate_deposit_bp=checks.percent(
            "estimateDepositPercent", given(data.estimate_deposit_percent)
        ),
        invoice_due_days=given(data.invoice_due_days),
    )
    days = values.get("invoice_due_days")
    if days is not None and not 0 <= days <= 365:
        checks.fail("invoiceDueDays", "Use 0 to 365 days.")
    checks.done()
    ctx = info.context
    async with ctx.write() as session:
        settings = await session.get(
            PortalSettings, ctx.viewer.organization_id, with_for_update=True
        )
        if settings is None:
            raise Rejected()
        before = {name: getattr(settings, name) for name in values}
        if before.get("enabled") and values.get("enabled") is False:
            await close_portal(session, settings.organization_id)
        apply(settings, values)
        changed = {k: [str(before[k]), str(v)] for k, v in values.items() if before[k] != v}
        if changed:
            session.add(audit(ctx, "settings.portal_updated", data={"changed": changed}))
    return None


async def current(info: Info) -> Any:
    from schema.organization import PortalSettings as PortalSettingsType
    from schema.organization import portal_settings_table

    rows = await info.context.reader.rows(
        portal_settings_table.select().where(
            portal_settings_table.c.organization_id == info.context.viewer.organization_id
        )
    )
    return PortalSettingsType.from_row(rows[0]) if rows else None
