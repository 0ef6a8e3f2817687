"""Creating an organization with its first OWNER (the `create-staff` command)."""

from __future__ import annotations

from auth.passwords import hash_password
from core.settings import Settings
from models import Organization, PortalSettings, StaffUser
from models.db import Database
from models.enums import StaffRole
from models.writes import add_in_order


async def create_owner(
    settings: Settings, *, organization: str, slug: str, name: str, email: str, password: str
) -> StaffUser:
    db = Database(settings)
    try:
        async with db.write() as session:
            org = Organization(name=organization, slug=slug)
            user = StaffUser(
                organization_id=org.id,
                name=name,
                email=email.strip().lower(),
                role=StaffRole.OWNER,
                password_hash=hash_password(password),
            )
            await add_in_order(session, [org, PortalSettings(organization_id=org.id), user])
        return user
    finally:
        await db.dispose()
