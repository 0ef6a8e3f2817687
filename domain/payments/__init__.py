"""Money in and out: offline payments, paying invoices online, refunds, saved cards and
autopay, Stripe Connect, Stripe's events and disputes, and reconciliation (Stripe itself is
reached through payments/)."""
