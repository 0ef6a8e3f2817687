"""Portico against a hand-written baseline: data, servers, load and report (see bench/README.md)."""
