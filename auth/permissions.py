"""Field-level permission classes, attached to fields through small factories.

Each rule is a function of the viewer alone (`allows`), so it is decided once per field
per request, and the read planner can decide it before running anything. Permissions
guard fields; they never filter lists (queries do that, see auth/access.py).
"""

from __future__ import annotations

from inspect import isawaitable
from typing import Any

from strawberry import Info
from strawberry.extensions.field_extension import FieldExtension
from strawberry.permission import BasePermission, PermissionExtension

from auth.access import SECTION_OF, portal_opens
from auth.exports import may_export, may_import
from auth.viewer import Viewer, ViewerKind
from core.errors import ClientError, Unauthenticated
from models.enums import StaffRole


def viewer_of(info: Info) -> Viewer:
    return info.context.viewer


class ViewerRule(BasePermission):
    """A permission decided by who the viewer is, not by the object or arguments.

    A refusal says what happened: UNAUTHENTICATED to a request nobody signed in, the rule's
    own code (FORBIDDEN, OWNER_REQUIRED, ...) to a viewer who lacks the right."""

    code = "FORBIDDEN"
    message = "You do not have permission to do this."

    def allows(self, viewer: Viewer) -> bool:
        raise NotImplementedError

    def refusal(self, viewer: Viewer) -> ClientError:
        if viewer.kind is ViewerKind.ANONYMOUS:
            return Unauthenticated()
        return ClientError(self.message, code=self.code)

    async def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        return self.allows(viewer_of(info))


class IsStaff(ViewerRule):
    """Staff of the organization: internal notes, costs, audit, staff root fields."""

    message = "Only staff can see this."

    def allows(self, viewer: Viewer) -> bool:
        return viewer.is_staff


class IsOwner(ViewerRule):
    """The organization's OWNER: portal and payment settings, staff management."""

    message = "Only the organization's owner can do this."
    code = "OWNER_REQUIRED"

    def allows(self, viewer: Viewer) -> bool:
        return viewer.is_owner


class ManagesStaff(ViewerRule):
    """OWNERs and ADMINs manage the organization's staff; STAFF do not."""

    message = "Only an owner or admin can manage staff."

    def allows(self, viewer: Viewer) -> bool:
        return viewer.is_staff and viewer.role in (StaffRole.OWNER, StaffRole.ADMIN)


class MayExport(ViewerRule):
    """OWNERs and ADMINs export the organization's data (auth/exports.py)."""

    message = "Only an owner or admin can export."

    def allows(self, viewer: Viewer) -> bool:
        return may_export(viewer)


class MayImport(ViewerRule):
    """OWNERs and ADMINs import CSV files and invite customers in bulk (auth/exports.py)."""

    message = "Only an owner or admin can import or invite in bulk."

    def allows(self, viewer: Viewer) -> bool:
        return may_import(viewer)


class InPortalSection(ViewerRule):
    """Portal viewers reach a section only while the organization has it switched on."""

    code = "SECTION_DISABLED"

    def __init__(self, section: str) -> None:
        self.section = section
        self.message = f"The portal's {section} section is switched off."

    def allows(self, viewer: Viewer) -> bool:
        return not viewer.is_portal or self.section in viewer.sections


class OpensTable(ViewerRule):
    """Staff, or a portal viewer whose sections and contact scope open a table: for values
    drawn from its rows (a customer's balance from invoices), so that a viewer who sees
    none of those rows is told so rather than shown a value made of nothing."""

    code = "SECTION_DISABLED"

    def __init__(self, table_name: str) -> None:
        self.table_name = table_name
        section = SECTION_OF.get(table_name, table_name)
        self.message = f"The portal's {section} section is not open to you."

    def allows(self, viewer: Viewer) -> bool:
        return viewer.is_staff or portal_opens(viewer, self.table_name)


class IsPortalViewer(ViewerRule):
    message = "Only portal viewers can do this."

    def allows(self, viewer: Viewer) -> bool:
        return viewer.is_portal

    def refusal(self, viewer: Viewer) -> ClientError:
        if viewer.kind is ViewerKind.ANONYMOUS:
            return Unauthenticated("Sign in to the portal to continue.")
        return super().refusal(viewer)


class ViewerPermissionExtension(PermissionExtension):
    """Decides a field's permission once per viewer per request; later rows reuse the
    decision. Decisions are kept for the viewer they were made for: after a sign-in
    mutation changes the request's viewer, every field is decided again."""

    permissions: list[ViewerRule]  # type: ignore[assignment]

    async def resolve_async(self, next_: Any, source: Any, info: Info, **kwargs: Any) -> Any:
        viewer = viewer_of(info)
        allowed = _allowed_for(info.context.extras, viewer)
        if id(self) not in allowed:
            for rule in self.permissions:
                if not rule.allows(viewer):
                    raise rule.refusal(viewer)
            allowed.add(id(self))
        result = next_(source, info, **kwargs)
        return await result if isawaitable(result) else result


def _allowed_for(extras: dict[str, Any], viewer: Viewer) -> set[int]:
    """The fields already allowed in this request, for this very viewer (by identity:
    a new viewer object, however alike, starts with nothing allowed)."""
    held = extras.get("permissions")
    if held is None or held[0] is not viewer:
        held = extras["permissions"] = (viewer, set())
    return held[1]


def rules_of(extensions: list[FieldExtension]) -> list[ViewerRule]:
    """The viewer rules guarding a field (for the read planner)."""
    return [
        permission
        for extension in extensions
        if isinstance(extension, PermissionExtension)
        for permission in extension.permissions
        if isinstance(permission, ViewerRule)
    ]


def _guard(permission: ViewerRule) -> list[FieldExtension]:
    # One extension instance per field: extensions keep per-field state.
    return [ViewerPermissionExtension(permissions=[permission], use_directives=False)]


def staff_only() -> list[FieldExtension]:
    """For fields: refused with FORBIDDEN to anyone but staff."""
    return _guard(IsStaff())


def owner_only() -> list[FieldExtension]:
    return _guard(IsOwner())


def staff_managers_only() -> list[FieldExtension]:
    """For staff management: refused with FORBIDDEN to anyone but an OWNER or ADMIN."""
    return _guard(ManagesStaff())


def exporters_only() -> list[FieldExtension]:
    """For exports: refused with FORBIDDEN to anyone but an OWNER or ADMIN."""
    return _guard(MayExport())


def importers_only() -> list[FieldExtension]:
    """For imports and bulk invites: refused with FORBIDDEN to anyone but an OWNER or ADMIN."""
    return _guard(MayImport())


def portal_section(section: str) -> list[FieldExtension]:
    """For a customer's lists: refused with SECTION_DISABLED when the section is off."""
    return _guard(InPortalSection(section))


def opens_table(table_name: str) -> list[FieldExtension]:
    """For values drawn from a table's rows: refused with SECTION_DISABLED to a portal
    viewer whose sections or contact scope do not open that table."""
    return _guard(OpensTable(table_name))


def portal_only() -> list[FieldExtension]:
    return _guard(IsPortalViewer())


def portal_action(section: str | None = None) -> list[FieldExtension]:
    """For portal mutations: signed-in portal viewers, in `section` if given. (Previews are
    refused for every mutation by schema/preview.py.)"""
    rules: list[BasePermission] = [IsPortalViewer()]
    if section is not None:
        rules.append(InPortalSection(section))
    return [ViewerPermissionExtension(permissions=rules, use_directives=False)]
