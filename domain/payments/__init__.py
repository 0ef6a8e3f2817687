"""Money in and out through Stripe: applying its events, autopay, refunds and disputes, and
reconciliation (the provider itself is reached through payments/)."""
