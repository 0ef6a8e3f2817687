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


def _guard(permission: type[BasePermission], *, silent: bool) -> list[FieldExtension]:
    # One extension instance per field: extensions keep per-field state.
    return [
        PermissionExtension(permissions=[permission()], fail_silently=silent, use_directives=False)
    ]


def staff_only() -> list[FieldExtension]:
    """For fields: refused with FORBIDDEN to anyone but staff."""
    return _guard(IsStaff, silent=False)


def signed_in() -> list[FieldExtension]:
    return _guard(IsAuthenticated, silent=False)


def owner_only() -> list[FieldExtension]:
    return _guard(IsOwner, silent=False)
