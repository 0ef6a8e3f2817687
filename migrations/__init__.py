"""Alembic migration history shared by PostgreSQL and SQLite."""
