"""Online payments through Stripe Connect: the API client, webhooks, reconciliation."""
