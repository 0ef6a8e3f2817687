"""Portico against a hand-written baseline: data, servers, load and report (see README.md)."""
