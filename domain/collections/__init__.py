"""Collections (dunning): reminders before and after an invoice's due date, late fees on
overdue invoices, and pausing both for a customer."""
