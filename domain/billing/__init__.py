"""Invoices, estimates and the decisions on them, payments and refunds."""
