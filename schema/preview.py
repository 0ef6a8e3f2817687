"""Preview sessions read the portal; they never change anything."""

from collections.abc import Iterator

from graphql import GraphQLError
from graphql.execution import ExecutionResult
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

PREVIEW_READ_ONLY = "PREVIEW_READ_ONLY"


class PreviewReadOnly(SchemaExtension):
    """Refuse every mutation of a preview session before any resolver runs."""

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        viewer = getattr(context.context, "viewer", None)
        if (
            viewer is not None
            and viewer.preview
            and context.operation_type is OperationType.MUTATION
        ):
            context.result = ExecutionResult(
                data=None,
                errors=[
                    GraphQLError(
                        "A preview shows the portal; it cannot change anything.",
                        extensions={"code": PREVIEW_READ_ONLY},
                    )
                ],
            )
        yield
