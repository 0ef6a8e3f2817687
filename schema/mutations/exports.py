"""Signed links to CSV exports (OWNER and ADMIN): `GET /exports/{kind}.csv` without the
bearer header, for browsers."""

from datetime import date, datetime
from enum import Enum
from typing import Annotated

import strawberry
from strawberry import Info

from auth.permissions import exporters_only
from domain.exports.codes import ExportCode
from resolvers import exports as actions
from schema.common import INPUT, UserError
from schema.error_codes import code_field, error_codes, user_errors

ExportErrorCode = error_codes("ExportErrorCode", ExportCode, "Why an export was refused.")


@strawberry.enum(description="What an export holds.")
class ExportKind(Enum):
    CUSTOMERS = "customers"
    CARS = "cars"
    INVOICES = "invoices"
    PAYMENTS = "payments"


@strawberry.type(description="A problem with an export.")
class ExportError(UserError):
    code: Enum = code_field(ExportErrorCode)


@strawberry.input(description="The export a link is for.")
class CreateExportLinkInput:
    kind: ExportKind = strawberry.field(description="Customers, cars, invoices or payments.")
    from_: date | None = strawberry.field(
        name="from",
        default=None,
        description="The first day (in the organization's zone) of the range; open if left "
        "out. Customers and cars by creation, invoices by issue date, payments by receipt.",
    )
    to: date | None = strawberry.field(
        default=None, description="The last day of the range, included; open if left out."
    )


@strawberry.type(description="A signed, short-lived link to a CSV export.")
class ExportLinkPayload:
    url: str | None = strawberry.field(
        description="The link: a GET answers the CSV while the session that asked lasts "
        "and its role may export; it names no person. Null when refused."
    )
    expires_at: datetime | None = strawberry.field(description="When the link stops working.")
    user_errors: list[ExportError] = strawberry.field(description="Why no link was made.")


@strawberry.type
class ExportMutations:
    @strawberry.mutation(
        description="A short-lived signed link to a CSV export, for a browser to download "
        "without the bearer header (OWNER and ADMIN). Each download is audited.",
        extensions=exporters_only(),
    )
    async def create_export_link(
        self, info: Info, input: Annotated[CreateExportLinkInput, INPUT]
    ) -> ExportLinkPayload:
        outcome = await actions.create_link(info, input.kind.value, input.from_, input.to)
        errors = user_errors(outcome.problems, ExportError, ExportErrorCode)
        link = outcome.link
        return ExportLinkPayload(
            url=link.url if link else None,
            expires_at=link.expires_at if link else None,
            user_errors=errors,
        )
