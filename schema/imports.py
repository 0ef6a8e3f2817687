"""Moving in: the import history and bulk portal invites (OWNER and ADMIN)."""

from datetime import datetime
from enum import Enum

import strawberry
from strawberry.scalars import JSON

from auth.permissions import importers_only
from domain.imports.codes import ImportCode
from models import relations as rel
from models import tables
from models.enums import BulkInviteItemState, BulkInviteState, ImportState
from schema.error_codes import code_field, error_codes
from schema.fields import connection_field, object_field
from schema.node import Node, RowType, row_type

ImportErrorCode = error_codes(
    "ImportErrorCode", ImportCode, "Why an import or a bulk invite was refused."
)

strawberry.enum(
    ImportState,
    description="DRY_RUN (checked, nothing written), COMMITTED (every row created) or FAILED "
    "(a commit refused for its errors: nothing written).",
)
strawberry.enum(
    BulkInviteState,
    description="RUNNING (invites going out), FINISHED (every customer done) or CANCELLED.",
)
strawberry.enum(
    BulkInviteItemState,
    description="PENDING (to be sent), SENT, SKIPPED (see reason) or CANCELLED (the job was "
    "cancelled first).",
)


@strawberry.type(description="A problem with a row (or with the whole file) of an import.")
class ImportRowError:
    row: int | None = strawberry.field(
        description="The row's number counting the header as 1 (as a spreadsheet shows it); "
        "null for a problem with the file or the mapping."
    )
    column: str | None = strawberry.field(description="The CSV column (its header), if one.")
    field: str | None = strawberry.field(description="The Portico field, e.g. email.")
    code: Enum = code_field(ImportErrorCode)
    message: str = strawberry.field(description="What is wrong, for people.")


@row_type(tables.data_imports)
@strawberry.type(
    description="One CSV import, dry run or commit, kept in the import history (OWNER and ADMIN)."
)
class DataImport(RowType, Node):
    filename: str = strawberry.field(description="The uploaded file's name.")
    size_bytes: int = strawberry.field(description="The file's size in bytes.")
    state: ImportState = strawberry.field(description="Dry run, committed or failed.")
    rows: int = strawberry.field(description="Rows in the file, the header not counted.")
    customers_created: int = strawberry.field(
        description="Customers created (a dry run: that would be created)."
    )
    contacts_created: int = strawberry.field(
        description="Contacts created (a dry run: that would be created)."
    )
    cars_created: int = strawberry.field(
        description="Cars created (a dry run: that would be created)."
    )
    error_count: int = strawberry.field(description="How many problems were found in all.")
    mapping: JSON = strawberry.field(
        description="The columns used and the field each went to: {header: field}."
    )
    ignored_columns: list[str] = strawberry.field(description="Columns no field took.")
    created_at: datetime = strawberry.field(description="When it ran (UTC).")
    imported_by = object_field(
        "staff_user_id", "StaffUser", "schema.organization", "The staff member who ran it."
    )

    @strawberry.field(
        description="The problems found, by row (the first 1,000; errorCount has them all)."
    )
    def errors(self) -> list[ImportRowError]:
        return [
            ImportRowError(**{**error, "code": ImportErrorCode(error["code"])})
            for error in self.row["errors"] or []
        ]


@row_type(tables.bulk_invites)
@strawberry.type(
    description="Portal invites sent to the customers a list filter chose, a few a minute "
    "(OWNER and ADMIN)."
)
class BulkInvite(RowType, Node):
    state: BulkInviteState = strawberry.field(description="Running, finished or cancelled.")
    filter: JSON = strawberry.field(
        description="The customers list's filter it was started with (search, "
        "include_archived, onboarding_complete)."
    )
    total: int = strawberry.field(description="Customers the filter chose.")
    sent: int = strawberry.field(description="Invites sent so far.")
    skipped: int = strawberry.field(
        description="Customers skipped so far (no email, already has access, ...)."
    )
    cancelled_at: datetime | None = strawberry.field(description="When it was cancelled.")
    finished_at: datetime | None = strawberry.field(description="When the last was done.")
    created_at: datetime = strawberry.field(description="When it was started (UTC).")
    started_by = object_field(
        "staff_user_id", "StaffUser", "schema.organization", "The staff member who started it."
    )
    items = connection_field(
        rel.BULK_INVITE_ITEMS,
        "BulkInviteItem",
        "schema.imports",
        "Each chosen customer and what became of them.",
        extensions=importers_only(),
    )


@row_type(tables.bulk_invite_items)
@strawberry.type(description="One customer of a bulk invite.")
class BulkInviteItem(RowType, Node):
    state: BulkInviteItemState = strawberry.field(description="Pending, sent, skipped, ...")
    reason: str | None = strawberry.field(
        description="Why it was skipped: NO_EMAIL, ALREADY_HAS_ACCESS, ALREADY_INVITED, "
        "ACCESS_REVOKED, ARCHIVED, PORTAL_DISABLED or GONE."
    )
    done_at: datetime | None = strawberry.field(description="When it was sent or skipped.")
    customer = object_field("customer_id", "Customer", "schema.customers", "The customer.")
