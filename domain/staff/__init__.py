"""Staff accounts: invites, roles, deactivation, and staff passwords (set from an invite,
reset by an emailed link, changed by their owner)."""
