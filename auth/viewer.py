"""The viewer: who a request acts for, decided once from its session."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from enum import StrEnum

from models.enums import PortalScope, StaffRole


class ViewerKind(StrEnum):
    ANONYMOUS = "ANONYMOUS"
    STAFF = "STAFF"
    PORTAL = "PORTAL"


@dataclass(frozen=True, slots=True)
class Viewer:
    kind: ViewerKind = ViewerKind.ANONYMOUS
    organization_id: uuid.UUID | None = None
    session_id: uuid.UUID | None = None
    staff_user_id: uuid.UUID | None = None
    role: StaffRole | None = None
    customer_id: uuid.UUID | None = None
    contact_id: uuid.UUID | None = None
    scope: PortalScope = PortalScope.EVERYTHING
    car_ids: frozenset[uuid.UUID] = field(default_factory=frozenset)
    # Portal sections the organization has switched on (cars, invoices, ...).
    sections: frozenset[str] = field(default_factory=frozenset)
    email: str | None = None  # the address a portal viewer signed in with
    preview: bool = False

    @property
    def is_staff(self) -> bool:
        return self.kind is ViewerKind.STAFF

    @property
    def is_portal(self) -> bool:
        return self.kind is ViewerKind.PORTAL

    @property
    def is_owner(self) -> bool:
        return self.is_staff and self.role is StaffRole.OWNER


ANONYMOUS = Viewer()
