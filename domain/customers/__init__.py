"""Customers and their contacts: the records staff keep, and the kinds of email each wants."""
