"""Moving in: CSV imports of customers, contacts and cars, and bulk portal invites."""
