"""Staff mark their in-app notifications read."""

from enum import Enum
from typing import Annotated

import strawberry
from strawberry import Info

from auth.permissions import staff_only
from resolvers import notifications as actions
from resolvers.outcome import Rejected
from schema.common import INPUT, UserError
from schema.error_codes import code_field, error_codes_of, user_errors
from schema.viewer import Viewer

NotificationErrorCode = error_codes_of(
    "NotificationErrorCode", (), "Why marking notifications read was refused."
)


@strawberry.type(description="A problem with marking notifications read.")
class NotificationError(UserError):
    code: Enum = code_field(NotificationErrorCode)


@strawberry.input(description="Which of your notifications to mark read: some, or all.")
class MarkNotificationsReadInput:
    ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Global IDs of your notifications."
    )
    all: bool = strawberry.field(default=False, description="Every unread notification of yours.")


@strawberry.type(description="Notifications marked read.")
class MarkNotificationsReadPayload:
    marked_count: int = strawberry.field(description="How many were unread and now are read.")
    viewer: Viewer | None = strawberry.field(description="You, with your unread count.")
    user_errors: list[NotificationError] = strawberry.field(description="Why nothing changed.")


@strawberry.type
class NotificationMutations:
    @strawberry.mutation(
        description="Mark your notifications read (staff); others' are never touched.",
        extensions=staff_only(),
    )
    async def mark_notifications_read(
        self, info: Info, input: Annotated[MarkNotificationsReadInput, INPUT]
    ) -> MarkNotificationsReadPayload:
        try:
            marked = await actions.mark_read(info, list(input.ids or []), input.all)
        except Rejected as rejected:
            errors = user_errors(rejected.problems, NotificationError, NotificationErrorCode)
            return MarkNotificationsReadPayload(marked_count=0, viewer=None, user_errors=errors)
        viewer = Viewer(kind=info.context.viewer.kind)
        return MarkNotificationsReadPayload(marked_count=marked, viewer=viewer, user_errors=[])
