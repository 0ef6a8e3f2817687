"""Reads planned into one SQL statement per query (PostgreSQL), with the executor as the
fallback for anything the planner does not know."""
