"""A Portico site for a scenario: a migrated database with organizations and their owners,
the environment its `portico serve` processes run with, and the owners' sessions."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from tests.served import portico, sign_in

PASSWORD = "chaos-owner-password"
# Raised as in the test suite: the scenarios are one client address making many requests.
OPEN_LIMITS = {
    "REQUESTS_PER_MINUTE_PER_CLIENT": "0",
    "REQUESTS_PER_MINUTE_PER_SESSION": "0",
    "INVITES_PER_HOUR": "100000",
    "STAFF_SIGN_INS_PER_HOUR": "100000",
}


@dataclass
class Site:
    database_url: str
    directory: Path
    env: dict[str, str] = field(default_factory=dict)
    owners: dict[str, str] = field(default_factory=dict)  # slug: owner's email

    @classmethod
    def prepare(cls, database_url: str, directory: Path, **settings: str) -> Site:
        """Migrate the database; `settings` go to every server started for the site."""
        env = {
            **os.environ,
            **OPEN_LIMITS,
            "DATABASE_URL": database_url,
            "MAIL_DIR": str(directory / "mail"),
            "STORAGE_DIR": str(directory / "storage"),
            "STRIPE_SECRET_KEY": "",
            "PORTICO_STAFF_PASSWORD": PASSWORD,
            **settings,
        }
        env.pop("PORTICO_ENV", None)
        directory.mkdir(parents=True, exist_ok=True)
        site = cls(database_url, directory, env)
        portico(env, "migrate")
        return site

    def add_organization(self, slug: str) -> None:
        email = f"owner@{slug}.test"
        owner = ["--name", f"Owner of {slug}", "--email", email]
        portico(self.env, "create-staff", "--organization", slug.title(), "--slug", slug, *owner)
        self.owners[slug] = email

    async def sign_in(self, base_url: str, slug: str) -> str:
        async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
            return await sign_in(http, self.owners[slug], PASSWORD)

    async def stored_names(self, prefix: str) -> list[str]:
        """Customers' names starting with `prefix`, as stored (duplicates included)."""
        engine = create_async_engine(self.database_url)
        try:
            async with engine.connect() as conn:
                rows = await conn.execute(
                    sa.text("SELECT name FROM customers WHERE name LIKE :p"), {"p": prefix + "%"}
                )
                return [row[0] for row in rows]
        finally:
            await engine.dispose()
