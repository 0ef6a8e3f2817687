"""Moving in (OWNER and ADMIN): CSV imports of customers, contacts and cars, and bulk
portal invites."""

from enum import Enum
from typing import Annotated

import strawberry
from strawberry import Info
from strawberry.file_uploads import Upload

from auth.permissions import importers_only
from resolvers import imports as actions
from resolvers.outcome import Outcome
from schema.common import INPUT, UserError
from schema.error_codes import code_field, user_errors
from schema.imports import BulkInvite, DataImport, ImportErrorCode
from schema.node import load_row
from schema.onboarding import OnboardingFilter


@strawberry.enum(description="What a row of an import creates.")
class ImportRowKind(Enum):
    CUSTOMER = "CUSTOMER"
    CONTACT = "CONTACT"
    CAR = "CAR"


@strawberry.type(description="A problem with an import or a bulk invite.")
class ImportError(UserError):
    code: Enum = code_field(ImportErrorCode)


@strawberry.input(description="One CSV column and the Portico field it holds.")
class ColumnMappingInput:
    column: str = strawberry.field(description="The column's header in the file, e.g. E-mail.")
    field: str = strawberry.field(
        description="The Portico field: kind, name, company, email, phone, addressLine1, "
        "addressLine2, city, region, postalCode, country, internalNotes (customers); "
        "customerEmail, name, email, phone (contacts); customerEmail, make, model, year, vin, "
        "licensePlate, color, mileage, internalNotes (cars)."
    )


@strawberry.input(description="A CSV file of customers, contacts and cars to check or import.")
class ImportCsvInput:
    file: Upload = strawberry.field(
        description="The CSV file (UTF-8, a header row), sent as a multipart upload: at most "
        "MAX_IMPORT_BYTES (5 MB unless configured)."
    )
    mapping: list[ColumnMappingInput] = strawberry.field(
        description="Which column holds which field. A header that is itself a field's name "
        "needs no entry; other columns are ignored (and listed as such)."
    )
    kind: ImportRowKind = strawberry.field(
        default=ImportRowKind.CUSTOMER,
        description="What each row creates, unless a column mapped to `kind` says so for its "
        "row (customer, contact or car).",
    )
    dry_run: bool = strawberry.field(
        default=True,
        description="True (the default): check every row and report, write nothing but the "
        "import record. False: create every row, or none if any row has a problem.",
    )
    vin_unchecked: bool = strawberry.field(
        default=False,
        description="Keep VINs as written (pre-1981, foreign) instead of checking them.",
    )


@strawberry.type(description="The result of importCsv.")
class ImportCsvPayload:
    data_import: DataImport | None = strawberry.field(
        description="The import's record: its state, counts and row errors."
    )
    user_errors: list[ImportError] = strawberry.field(
        description="Problems with the file or the mapping; for a refused commit, one "
        "ROWS_INVALID (the rows' problems are in dataImport.errors)."
    )


@strawberry.input(description="Which customers to invite: the customers list's filter.")
class StartBulkInviteInput:
    search: str | None = strawberry.field(
        default=None, description="Words to look for; every word must match."
    )
    include_archived: bool = strawberry.field(
        default=False, description="Include archived customers (they are skipped anyway)."
    )
    onboarding: OnboardingFilter | None = strawberry.field(
        default=None, description="Only customers who finished onboarding, or not."
    )


@strawberry.input(description="The bulk invite to stop.")
class CancelBulkInviteInput:
    id: strawberry.ID = strawberry.field(description="The bulk invite's global ID.")


@strawberry.type(description="The result of a bulk invite mutation.")
class BulkInvitePayload:
    bulk_invite: BulkInvite | None = strawberry.field(description="The job, when it worked.")
    user_errors: list[ImportError] = strawberry.field(description="Problems with the input.")


async def _bulk_payload(info: Info, outcome: Outcome) -> BulkInvitePayload:
    errors = user_errors(outcome.problems, ImportError, ImportErrorCode)
    found = None
    if not errors and outcome.row_id is not None:
        found = await load_row(info, "BulkInvite", outcome.row_id)
    return BulkInvitePayload(bulk_invite=found, user_errors=errors)


@strawberry.type
class ImportMutations:
    @strawberry.mutation(
        description="Check a CSV file of customers, contacts and cars (dryRun, the default) "
        "or import it all or nothing (OWNER and ADMIN). Every import is kept in "
        "Organization.dataImports.",
        extensions=importers_only(),
    )
    async def import_csv(
        self, info: Info, input: Annotated[ImportCsvInput, INPUT]
    ) -> ImportCsvPayload:
        outcome = await actions.import_file(info, input)
        found = None
        if outcome.import_id is not None:
            found = await load_row(info, "DataImport", outcome.import_id)
        errors = user_errors(outcome.problems, ImportError, ImportErrorCode)
        return ImportCsvPayload(data_import=found, user_errors=errors)

    @strawberry.mutation(
        description="Send portal invites to the customers the filter chooses now, a few a "
        "minute (BULK_INVITES_PER_MINUTE), each at most once (OWNER and ADMIN).",
        extensions=importers_only(),
    )
    async def start_bulk_invite(
        self, info: Info, input: Annotated[StartBulkInviteInput, INPUT]
    ) -> BulkInvitePayload:
        return await _bulk_payload(info, await actions.start_bulk_invite(info, input))

    @strawberry.mutation(
        description="Stop a running bulk invite: invites not yet sent are never sent.",
        extensions=importers_only(),
    )
    async def cancel_bulk_invite(
        self, info: Info, input: Annotated[CancelBulkInviteInput, INPUT]
    ) -> BulkInvitePayload:
        return await _bulk_payload(info, await actions.cancel_bulk_invite(info, input))
