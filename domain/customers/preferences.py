"""The kinds of email a person (a customer, or a contact) wants. Sign-in links and receipts
always go; these are the others."""

from __future__ import annotations

from dataclasses import dataclass, fields

from domain.edits import KEEP, Edit

# The kind as the API names it -> the column that holds it.
PREFERENCES = {
    "invoices": "wants_invoices",
    "estimates": "wants_estimates",
    "scheduling": "wants_scheduling",
    "car_updates": "wants_car_updates",
    "contracts": "wants_contracts",
    "social_events": "wants_social_events",
    "marketing": "wants_marketing",
}


@dataclass(frozen=True)
class Preferences:
    """Kinds of email to change; KEEP leaves a kind as it is."""

    invoices: Edit[bool] = KEEP
    estimates: Edit[bool] = KEEP
    scheduling: Edit[bool] = KEEP
    car_updates: Edit[bool] = KEEP
    contracts: Edit[bool] = KEEP
    social_events: Edit[bool] = KEEP
    marketing: Edit[bool] = KEEP

    def columns(self) -> dict[str, bool]:
        """The columns to write: every kind not KEEP."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        return {PREFERENCES[k]: v for k, v in values.items() if v is not KEEP}


NO_CHANGE = Preferences()
