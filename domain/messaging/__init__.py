"""Conversations between a business and each of its customers."""
