"""Server-side sessions and single-use sign-in links. Only token hashes are stored."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlmodel import Field

from models.base import TenantRow, enum_field, utc_field
from models.enums import LinkPurpose, SessionKind, StaffTokenPurpose
from models.types import UTCDateTime


class AuthSession(TenantRow, table=True):
    __tablename__ = "auth_sessions"

    token_hash: str = Field(max_length=64, unique=True)
    kind: SessionKind = enum_field(SessionKind)
    staff_user_id: uuid.UUID | None = Field(default=None, foreign_key="staff_users.id", index=True)
    customer_id: uuid.UUID | None = Field(default=None, foreign_key="customers.id", index=True)
    contact_id: uuid.UUID | None = Field(default=None, foreign_key="contacts.id", index=True)
    # The address a portal viewer proved they read: it names every account they may switch to.
    email: str | None = Field(default=None, max_length=254)
    last_used_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    expires_at: datetime = Field(sa_type=UTCDateTime, nullable=False)  # absolute cap
    revoked_at: datetime | None = utc_field()
    ip: str | None = Field(default=None, max_length=64)
    user_agent: str | None = Field(default=None, max_length=500)
    # PREVIEW sessions: the staff member looking at the portal as this person.
    previewed_by_staff_id: uuid.UUID | None = Field(default=None, foreign_key="staff_users.id")


class MagicLink(TenantRow, table=True):
    __tablename__ = "magic_links"

    token_hash: str = Field(max_length=64, unique=True)
    purpose: LinkPurpose = enum_field(LinkPurpose, default=LinkPurpose.SIGN_IN)
    customer_id: uuid.UUID = Field(foreign_key="customers.id", index=True)
    contact_id: uuid.UUID | None = Field(default=None, foreign_key="contacts.id", index=True)
    email: str = Field(max_length=254)
    new_email: str | None = Field(
        default=None, max_length=254
    )  # EMAIL_CHANGE: the address to confirm
    sent_at: datetime | None = utc_field()
    expires_at: datetime | None = utc_field()  # set when the email actually leaves
    used_at: datetime | None = utc_field()
    revoked_at: datetime | None = utc_field()


class StaffToken(TenantRow, table=True):
    """An emailed staff link: an invite (choose a password) or a password reset. Issued for
    one staff member and purpose, redeemed once by one atomic update; it dies at first use,
    at `expires_at`, or when a newer one of the same purpose is issued (`revoked_at`)."""

    __tablename__ = "staff_tokens"

    token_hash: str = Field(max_length=64, unique=True)
    purpose: StaffTokenPurpose = enum_field(StaffTokenPurpose)
    staff_user_id: uuid.UUID = Field(foreign_key="staff_users.id", index=True)
    email: str = Field(max_length=254)  # the address it was sent to
    expires_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    used_at: datetime | None = utc_field()
    revoked_at: datetime | None = utc_field()
