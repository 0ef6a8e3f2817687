"""The organization's portal settings from the API: the input cleaned, the domain's action
called (domain/portal/portal_settings.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from strawberry import Info

from domain.portal.portal_settings import (
    SWITCHES,
    PortalOptions,
    due_days_problem,
    update_portal_settings,
)
from resolvers.inputs import kept
from resolvers.outcome import mutation_outcome
from resolvers.validation import Checks, given

if TYPE_CHECKING:  # annotations only: resolvers do not import the schema
    from schema.mutations.portal import PortalSettingsInput


@mutation_outcome
async def update(info: Info, data: PortalSettingsInput) -> None:
    checks = Checks(creating=False)
    # Null keeps a setting, like omitting it: none of them can be null.
    switches = {name: kept(given(getattr(data, name))) for name in SWITCHES}
    options = PortalOptions(
        **switches,
        minimum_partial_amount=kept(
            checks.non_negative("minimumPartialAmount", given(data.minimum_partial_amount))
        ),
        sign_in_method=kept(given(data.sign_in_method)),
        estimate_deposit_bp=kept(
            checks.percent("estimateDepositPercent", given(data.estimate_deposit_percent))
        ),
        invoice_due_days=kept(given(data.invoice_due_days)),
    )
    problem = due_days_problem(options.invoice_due_days)
    if problem is not None:
        checks.problems.append(problem)
    checks.done()
    await update_portal_settings(info.context, options)
