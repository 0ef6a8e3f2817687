"""Field-level permission classes, attached to fields through small factories.

Permissions guard fields; they never filter lists (queries do that, see models/loaders.py).
"""

from __future__ import annotations

from typing import Any

from strawberry import Info
from strawberry.extensions.field_extension import FieldExtension
from strawberry.permission import BasePermission, PermissionExtension

from auth.viewer import Viewer


def viewer_of(info: Info) -> Viewer:
    return info.context.viewer


class IsAuthenticated(BasePermission):
    message = "Sign in to continue."
    error_extensions = {"code": "UNAUTHENTICATED"}

    async def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        return viewer_of(info).organization_id is not None


class IsStaff(BasePermission):
    """Staff of the organization: internal notes, costs, audit, staff root fields."""

    message = "Only staff can see this."
    error_extensions = {"code": "FORBIDDEN"}

    async def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        return viewer_of(info).is_staff


class IsOwner(BasePermission):
    """The organization's OWNER: portal and payment settings, staff management."""

    message = "Only the organization's owner can do this."
    error_extensions = {"code": "OWNER_REQUIRED"}

    async def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        return viewer_of(info).is_owner


class InPortalSection(BasePermission):
    """Portal viewers reach a section only while the organization has it switched on."""

    error_extensions = {"code": "SECTION_DISABLED"}

    def __init__(self, section: str) -> None:
        self.section = section
        self.message = f"The portal's {section} section is switched off."

    async def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        viewer = viewer_of(info)
        return not viewer.is_portal or self.section in viewer.sections


class IsPortalViewer(BasePermission):
    message = "Sign in to the portal to continue."
    error_extensions = {"code": "UNAUTHENTICATED"}

    async def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        return viewer_of(info).is_portal


def _guard(permission: BasePermission) -> list[FieldExtension]:
    # One extension instance per field: extensions keep per-field state.
    return [PermissionExtension(permissions=[permission], use_directives=False)]


def staff_only() -> list[FieldExtension]:
    """For fields: refused with FORBIDDEN to anyone but staff."""
    return _guard(IsStaff())


def signed_in() -> list[FieldExtension]:
    return _guard(IsAuthenticated())


def owner_only() -> list[FieldExtension]:
    return _guard(IsOwner())


def portal_section(section: str) -> list[FieldExtension]:
    """For a customer's lists: refused with SECTION_DISABLED when the section is off."""
    return _guard(InPortalSection(section))


def portal_only() -> list[FieldExtension]:
    return _guard(IsPortalViewer())
