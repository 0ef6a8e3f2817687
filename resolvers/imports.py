"""CSV imports and bulk portal invites from the API: the upload read within its limit, the
domain's actions called (domain/imports/)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from starlette.datastructures import UploadFile
from strawberry import Info

from core.ids import decode_id_of
from domain.imports import bulk_invites
from domain.imports.bulk_invites import CustomerFilter
from domain.imports.codes import ImportCode
from domain.imports.csv_import import ImportRequest, RowKind, import_csv
from domain.problems import Common, Problem
from domain.uploads.received import label
from models.enums import ImportState
from resolvers.outcome import mutation_outcome

if TYPE_CHECKING:  # annotations only: resolvers do not import the schema
    from schema.mutations.imports import (
        CancelBulkInviteInput,
        ImportCsvInput,
        StartBulkInviteInput,
    )

# File-level problems are about the file, or about the mapping that names its columns.
MAPPING_CODES = {
    ImportCode.UNKNOWN_FIELD,
    ImportCode.UNKNOWN_COLUMN,
    ImportCode.MISSING_COLUMN,
    ImportCode.DUPLICATE_COLUMN,
}


@dataclass
class ImportOutcome:
    import_id: uuid.UUID | None = None
    problems: list[Problem] = field(default_factory=list)


async def import_file(info: Info, data: ImportCsvInput) -> ImportOutcome:
    upload = data.file
    if not isinstance(upload, UploadFile):  # a string sent where the file part belongs
        message = "Send the file as a multipart upload."
        return ImportOutcome(problems=[Problem("file", message, Common.REQUIRED)])
    limit = info.context.settings.max_import_bytes
    await upload.seek(0)
    raw = await upload.read(limit + 1)  # one byte over says "too large" without reading on
    request = ImportRequest(
        filename=label(upload.filename),
        data=raw,
        mapping={m.column: m.field for m in data.mapping or []},
        default_kind=RowKind(data.kind.value),
        dry_run=data.dry_run,
        vin_unchecked=data.vin_unchecked,
    )
    result = await import_csv(info.context, request)
    problems = [
        Problem("mapping" if e.code in MAPPING_CODES else "file", e.message, e.code)
        for e in result.errors
        if e.row is None
    ]
    rows_wrong = sum(1 for e in result.errors if e.row is not None)
    if result.state is ImportState.FAILED and rows_wrong:
        message = (
            f"{rows_wrong} problems in the rows (see dataImport.errors): nothing was imported."
        )
        problems.append(Problem("file", message, ImportCode.ROWS_INVALID))
    return ImportOutcome(result.import_id, problems)


@mutation_outcome
async def start_bulk_invite(info: Info, data: StartBulkInviteInput) -> uuid.UUID:
    onboarding = data.onboarding
    chosen = CustomerFilter(
        search=(data.search or "").strip() or None,
        include_archived=data.include_archived,
        onboarding_complete=None if onboarding is None else onboarding.value == "COMPLETE",
    )
    return await bulk_invites.start_bulk_invite(info.context, chosen)


@mutation_outcome
async def cancel_bulk_invite(info: Info, data: CancelBulkInviteInput) -> uuid.UUID:
    job_id = decode_id_of("BulkInvite", data.id)
    return await bulk_invites.cancel_bulk_invite(info.context, job_id)
