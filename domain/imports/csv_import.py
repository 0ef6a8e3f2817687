"""CSV import of customers, contacts and cars: a column mapping, a dry run that reports
every row's problems, and an all-or-nothing commit.

A file is UTF-8 CSV with a header row. Each row is one customer, contact or car: its kind is
the import's `default_kind`, or the row's own cell where a column maps to `kind`. Columns
map to Portico's fields by the import's mapping ({"E-mail": "email"}); a header that is
itself a field's name maps to it unless the mapping says otherwise; other columns are
ignored and listed as such. Contacts and cars name their customer by `customerEmail`: a
customer row of the same file, or a customer the organization has.

Cells are checked by the rules of the create mutations (domain/formats.py for emails,
phones and VINs; the same lengths): trimmed, empty as no value, emails lower case, VINs
upper case; nothing else is changed or dropped (a cell that looks like a formula is kept as
the text it is). Customers' emails are unique in the organization, contacts' within their
customer, cars' VINs in the organization: a duplicate in the file or against the
organization's rows is a row error.

Everything happens in one transaction: the checks against the organization's rows, then,
for a commit without a single row error, the inserts (Core statements, `BATCH` rows each,
so the number of statements grows with batches, never with rows). A dry run, or a commit
with errors, writes only its import record. Every import is recorded (`DataImport`, the
import history) with an audit row.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from auth.exports import may_import
from core.errors import Forbidden
from core.settings import get_settings
from domain.audit import audit
from domain.formats import (
    EMAIL_MAX,
    PERSON_PHONE_PROBLEM,
    PHONE_MAX,
    VIN_MAX,
    email_problem,
    normal_vin,
    person_phone,
    vin_problem,
)
from domain.imports.codes import ImportCode
from domain.problems import Common
from domain.work import Work
from models import Car, Contact, Customer
from models.enums import ImportState
from models.imports import MAX_KEPT_ERRORS, DataImport
from models.tables import cars, contacts, customers

BATCH = 1000  # rows per insert statement, and values per look-up statement
MIN_YEAR = 1885


class RowKind(StrEnum):
    CUSTOMER = "CUSTOMER"
    CONTACT = "CONTACT"
    CAR = "CAR"


KIND_WORDS = {
    "customer": RowKind.CUSTOMER,
    "customers": RowKind.CUSTOMER,
    "contact": RowKind.CONTACT,
    "contacts": RowKind.CONTACT,
    "car": RowKind.CAR,
    "cars": RowKind.CAR,
    "vehicle": RowKind.CAR,
}


@dataclass(frozen=True)
class Field:
    """A Portico field a column may map to: its column in the table, how a cell is
    checked, and the kinds of row that have it (and those that require it)."""

    name: str
    column: str
    check: str  # text, email, phone, vin, year, count, country, link, kind
    max_length: int
    kinds: frozenset[RowKind]
    required_for: frozenset[RowKind] = frozenset()


C, P, V = RowKind.CUSTOMER, RowKind.CONTACT, RowKind.CAR
_FIELDS = (
    Field("kind", "", "kind", 20, frozenset({C, P, V})),
    Field("name", "name", "text", 200, frozenset({C, P}), frozenset({C, P})),
    Field("company", "company", "text", 200, frozenset({C})),
    Field("email", "email", "email", EMAIL_MAX, frozenset({C, P})),
    Field("phone", "phone", "phone", PHONE_MAX, frozenset({C, P})),
    Field("addressLine1", "address_line1", "text", 200, frozenset({C})),
    Field("addressLine2", "address_line2", "text", 200, frozenset({C})),
    Field("city", "city", "text", 100, frozenset({C})),
    Field("region", "region", "text", 100, frozenset({C})),
    Field("postalCode", "postal_code", "text", 20, frozenset({C})),
    Field("country", "country", "country", 2, frozenset({C})),
    Field("internalNotes", "internal_notes", "text", 10000, frozenset({C, V})),
    Field("customerEmail", "", "link", EMAIL_MAX, frozenset({P, V}), frozenset({P})),
    Field("make", "make", "text", 80, frozenset({V}), frozenset({V})),
    Field("model", "model", "text", 80, frozenset({V}), frozenset({V})),
    Field("year", "year", "year", 4, frozenset({V})),
    Field("vin", "vin", "vin", VIN_MAX, frozenset({V})),
    Field("licensePlate", "license_plate", "text", 20, frozenset({V})),
    Field("color", "color", "text", 40, frozenset({V})),
    Field("mileage", "mileage", "count", 12, frozenset({V})),
)
FIELDS = {f.name: f for f in _FIELDS}


@dataclass(frozen=True)
class ImportRequest:
    filename: str
    data: bytes
    mapping: dict[str, str]  # CSV header -> Portico field
    default_kind: RowKind = RowKind.CUSTOMER
    dry_run: bool = True
    vin_unchecked: bool = False  # keep VINs that fail the check digit, as create does


@dataclass(frozen=True)
class RowError:
    row: int | None  # the record's number counting the header as 1; None: the file
    column: str | None  # the CSV header
    field: str | None  # the Portico field
    code: StrEnum
    message: str

    def stored(self) -> dict[str, Any]:
        return {
            "row": self.row,
            "column": self.column,
            "field": self.field,
            "code": str(self.code),
            "message": self.message,
        }


@dataclass
class Parsed:
    """The file's rows, cleaned, by kind; and every problem found."""

    rows: int = 0
    errors: list[RowError] = field(default_factory=list)
    used: dict[str, str] = field(default_factory=dict)  # header -> field
    ignored: list[str] = field(default_factory=list)
    customers: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    contacts: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    cars: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    existing: dict[str, uuid.UUID] = field(default_factory=dict)  # customers by email

    def fail(
        self, row: int | None, column: str | None, name: str | None, code: StrEnum, message: str
    ) -> None:
        self.errors.append(RowError(row, column, name, code, message))


@dataclass(frozen=True)
class ImportResult:
    import_id: uuid.UUID
    state: ImportState
    errors: list[RowError]


async def import_csv(work: Work, request: ImportRequest) -> ImportResult:
    """Check the file and, for a commit without errors, create its rows; either way the
    import record."""
    viewer = work.viewer
    organization_id = viewer.organization_id
    if organization_id is None or not may_import(viewer):
        raise Forbidden()
    parsed = parse(request, work.settings.max_import_bytes)
    async with work.write() as session:
        if not parsed.errors or all(e.row is not None for e in parsed.errors):
            await check_against(session, organization_id, parsed)
        committed = not request.dry_run and not parsed.errors
        if committed:
            committed = await _inserted(session, organization_id, parsed)
        state = (
            ImportState.DRY_RUN
            if request.dry_run
            else ImportState.COMMITTED
            if committed
            else ImportState.FAILED
        )
        record = DataImport(
            organization_id=organization_id,
            staff_user_id=viewer.staff_user_id,
            filename=request.filename[:255] or "import.csv",
            size_bytes=len(request.data),
            state=state,
            rows=parsed.rows,
            # A refused commit created nothing; a dry run says what a commit would create.
            customers_created=0 if state is ImportState.FAILED else len(parsed.customers),
            contacts_created=0 if state is ImportState.FAILED else len(parsed.contacts),
            cars_created=0 if state is ImportState.FAILED else len(parsed.cars),
            error_count=len(parsed.errors),
            errors=[e.stored() for e in parsed.errors[:MAX_KEPT_ERRORS]],
            mapping=parsed.used,
            ignored_columns=parsed.ignored,
        )
        session.add(record)
        session.add(
            audit(
                work,
                f"import.{state.value.lower()}",
                subject_type="DataImport",
                subject_id=record.id,
                data={
                    "filename": record.filename,
                    "rows": parsed.rows,
                    "errors": len(parsed.errors),
                    "customers": len(parsed.customers),
                    "contacts": len(parsed.contacts),
                    "cars": len(parsed.cars),
                },
            )
        )
    return ImportResult(record.id, state, parsed.errors)


async def _inserted(session: AsyncSession, organization_id: uuid.UUID, parsed: Parsed) -> bool:
    """Insert every row, in a savepoint: another writer may have taken an email or a VIN
    since the checks (their rows were not committed yet), which the unique constraints
    refuse; then nothing of the import stays and the record says why."""
    try:
        async with session.begin_nested():
            await insert_all(session, organization_id, parsed)
    except IntegrityError:
        message = (
            "Another change took one of these emails or VINs while the file was imported; "
            "nothing was imported. Run the import again to see which rows."
        )
        parsed.fail(None, None, None, ImportCode.DUPLICATE, message)
        return False
    return True


# --- reading the file ------------------------------------------------------------------


def parse(request: ImportRequest, max_bytes: int) -> Parsed:
    """The file read and every cell checked (nothing looked up yet)."""
    parsed = Parsed()
    if len(request.data) > max_bytes:
        parsed.fail(
            None, None, None, ImportCode.TOO_LARGE, f"The file is larger than {max_bytes} bytes."
        )
        return parsed
    try:
        text = request.data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        message = f"The file is not UTF-8 (byte {exc.start + 1}); save it as “CSV UTF-8”."
        parsed.fail(None, None, None, ImportCode.ENCODING, message)
        return parsed
    if "\x00" in text:
        parsed.fail(None, None, None, ImportCode.BAD_CSV, "The file contains NUL characters.")
        return parsed
    try:
        records = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    except csv.Error as exc:
        parsed.fail(None, None, None, ImportCode.BAD_CSV, f"The file is not valid CSV: {exc}.")
        return parsed
    records = [r for r in records if any(cell.strip() for cell in r)] if records else []
    if not records:
        parsed.fail(None, None, None, ImportCode.EMPTY, "The file is empty.")
        return parsed
    header = [cell.strip() for cell in records[0]]
    columns = _columns(request, header, parsed)
    body = records[1:]
    parsed.rows = len(body)
    if not body:
        parsed.fail(None, None, None, ImportCode.EMPTY, "The file has a header but no rows.")
    if parsed.errors:
        return parsed
    kind_at = next((i for i, name in columns.items() if name == "kind"), None)
    kinds = [_kind_of(record, kind_at, request.default_kind) for record in body]
    mapped = set(columns.values())
    for present in sorted({k for k in kinds if k is not None}):
        for f in _FIELDS:
            if present in f.required_for and f.name not in mapped:
                message = f"Map a column to `{f.name}`: {present.value.lower()} rows need it."
                parsed.fail(None, None, f.name, ImportCode.MISSING_COLUMN, message)
    if parsed.errors:
        return parsed
    strict_vin = not request.vin_unchecked
    for index, (record, row_kind) in enumerate(zip(body, kinds, strict=True)):
        _row(parsed, index + 2, record, row_kind, header, columns, strict_vin)
    _duplicates_in_file(parsed)
    return parsed


def _columns(request: ImportRequest, header: list[str], parsed: Parsed) -> dict[int, str]:
    """Column index -> field, from the mapping and the headers that name fields."""
    positions: dict[str, int] = {}
    for index, name in enumerate(header):
        if name in positions:
            message = f"Two columns are called “{name}”."
            parsed.fail(1, name, None, ImportCode.DUPLICATE_COLUMN, message)
        positions.setdefault(name, index)
    columns: dict[int, str] = {}
    for column, name in request.mapping.items():
        column = column.strip()
        if name not in FIELDS:
            known = ", ".join(FIELDS)
            message = f"“{name}” is not a field Portico imports ({known})."
            parsed.fail(None, column, name, ImportCode.UNKNOWN_FIELD, message)
        elif column not in positions:
            message = f"The file has no column “{column}”."
            parsed.fail(None, column, name, ImportCode.UNKNOWN_COLUMN, message)
        else:
            columns[positions[column]] = name
    for name, index in positions.items():
        if index not in columns and name in FIELDS and name not in columns.values():
            columns[index] = name
    taken: dict[str, int] = {}
    for index, name in sorted(columns.items()):
        if name in taken:
            message = f"Two columns map to `{name}`."
            parsed.fail(None, header[index], name, ImportCode.DUPLICATE_COLUMN, message)
        taken[name] = index
    parsed.used = {header[i]: name for i, name in sorted(columns.items())}
    parsed.ignored = [name for i, name in enumerate(header) if i not in columns and name]
    return columns


def _kind_of(record: Sequence[str], kind_at: int | None, default: RowKind) -> RowKind | None:
    if kind_at is None or kind_at >= len(record) or not record[kind_at].strip():
        return default
    return KIND_WORDS.get(record[kind_at].strip().lower())


def _row(
    parsed: Parsed,
    number: int,
    record: Sequence[str],
    kind: RowKind | None,
    header: list[str],
    columns: dict[int, str],
    strict_vin: bool,
) -> None:
    before = len(parsed.errors)
    if len(record) > len(header) and any(cell.strip() for cell in record[len(header) :]):
        message = f"The row has {len(record)} cells; the header has {len(header)}."
        parsed.fail(number, None, None, ImportCode.EXTRA_CELLS, message)
    if kind is None:
        at = next(i for i, name in columns.items() if name == "kind")
        message = "Use customer, contact or car."
        parsed.fail(number, header[at], "kind", Common.INVALID, message)
        return
    values: dict[str, Any] = {}
    for index, name in columns.items():
        f = FIELDS[name]
        cell = record[index] if index < len(record) else ""
        if f.check == "kind":
            continue
        value = _cell(parsed, number, header[index], f, cell, strict_vin)
        if value is None:
            continue
        if kind not in f.kinds:
            message = f"A {kind.value.lower()} row has no `{name}`; leave it empty."
            parsed.fail(number, header[index], name, ImportCode.NOT_FOR_KIND, message)
            continue
        values[name] = value
    for f in _FIELDS:
        if kind in f.required_for and f.name not in values:
            column = next((header[i] for i, n in columns.items() if n == f.name), None)
            if not any(e.field == f.name for e in parsed.errors[before:]):
                parsed.fail(number, column, f.name, Common.REQUIRED, "This field is required.")
    if len(parsed.errors) == before:
        target = {C: parsed.customers, P: parsed.contacts, V: parsed.cars}[kind]
        target.append((number, values))


def _cell(parsed: Parsed, number: int, column: str, f: Field, cell: str, strict_vin: bool) -> Any:
    """The cell's value by the create mutations' rules, or None (empty, or a problem)."""
    cleaned = cell.strip()
    if not cleaned:
        return None

    def fail(message: str, code: StrEnum = Common.INVALID) -> None:
        parsed.fail(number, column, f.name, code, message)

    if len(cleaned) > f.max_length and f.check not in ("year", "count"):
        fail(f"At most {f.max_length} characters.", Common.TOO_LONG)
        return None
    check = CHECKS.get(f.check)
    if check is None:
        return cleaned
    value, problem = check(cleaned, strict_vin)
    if problem:
        fail(problem, Common.INVALID_PHONE if f.check == "phone" else Common.INVALID)
        return None
    return value


def _email(cleaned: str, _: bool) -> tuple[Any, str | None]:
    return cleaned.lower(), email_problem(cleaned)


def _phone(cleaned: str, _: bool) -> tuple[Any, str | None]:
    e164 = person_phone(cleaned, get_settings().phone_region)
    return e164, None if e164 is not None else PERSON_PHONE_PROBLEM


def _vin(cleaned: str, strict: bool) -> tuple[Any, str | None]:
    vin = normal_vin(cleaned)
    return vin, vin_problem(vin, strict=strict)


def _year(cleaned: str, _: bool) -> tuple[Any, str | None]:
    latest = datetime.now(UTC).year + 2
    if not cleaned.isdigit() or not MIN_YEAR <= int(cleaned) <= latest:
        return None, f"Enter a year between {MIN_YEAR} and {latest}."
    return int(cleaned), None


def _count(cleaned: str, _: bool) -> tuple[Any, str | None]:
    digits = cleaned.replace(",", "")  # 12,500 as spreadsheets write it
    if not digits.isdigit() or len(digits) > 9:
        return None, "Enter a whole number, not negative."
    return int(digits), None


def _country(cleaned: str, _: bool) -> tuple[Any, str | None]:
    if len(cleaned) != 2 or not cleaned.isascii() or not cleaned.isalpha():
        return None, "Use a two-letter ISO country code."
    return cleaned.upper(), None


def _link(cleaned: str, _: bool) -> tuple[Any, str | None]:
    return cleaned.lower(), email_problem(cleaned)


CHECKS: dict[str, Callable[[str, bool], tuple[Any, str | None]]] = {
    "email": _email,
    "phone": _phone,
    "vin": _vin,
    "year": _year,
    "count": _count,
    "country": _country,
    "link": _link,
}


def _duplicates_in_file(parsed: Parsed) -> None:
    """A second row with a customer's email, a contact's (within its customer) or a VIN."""
    _first_only(parsed, parsed.customers, lambda v: v.get("email"), "email", "customer")
    _first_only(
        parsed,
        parsed.contacts,
        lambda v: (v["customerEmail"], v["email"]) if v.get("email") else None,
        "email",
        "contact of this customer",
    )
    _first_only(parsed, parsed.cars, lambda v: v.get("vin"), "vin", "car")


def _first_only(
    parsed: Parsed,
    rows: list[tuple[int, dict[str, Any]]],
    key: Callable[[dict[str, Any]], Any],
    name: str,
    what: str,
) -> None:
    seen: dict[Any, int] = {}
    kept = []
    for number, values in rows:
        value = key(values)
        if value is not None and value in seen:
            message = f"Row {seen[value]} has the same {name} for a {what}."
            parsed.fail(number, _header_of(parsed, name), name, ImportCode.DUPLICATE, message)
            continue
        if value is not None:
            seen[value] = number
        kept.append((number, values))
    rows[:] = kept


def _header_of(parsed: Parsed, name: str) -> str | None:
    return next((header for header, f in parsed.used.items() if f == name), None)


# --- against the organization's rows -----------------------------------------------------


async def check_against(session: AsyncSession, organization_id: uuid.UUID, parsed: Parsed) -> None:
    """Duplicates of the organization's customers, contacts and cars, and the customers
    contacts and cars name: a few statements per `BATCH` values, whatever the rows."""
    existing = await _existing_customers(session, organization_id, parsed)
    _drop(
        parsed,
        parsed.customers,
        lambda v: v.get("email") in existing,
        "email",
        "Another customer already uses this email.",
        ImportCode.DUPLICATE,
    )
    in_file = {v["email"] for _, v in parsed.customers if v.get("email")}
    for rows in (parsed.contacts, parsed.cars):
        _drop(
            parsed,
            rows,
            lambda v: (
                "customerEmail" in v
                and v["customerEmail"] not in in_file
                and v["customerEmail"] not in existing
            ),
            "customerEmail",
            "No customer in this file or in Portico has this email.",
            ImportCode.UNKNOWN_CUSTOMER,
        )
    taken_contacts = await _existing_contacts(session, organization_id, parsed, existing)
    _drop(
        parsed,
        parsed.contacts,
        lambda v: (v["customerEmail"], v.get("email")) in taken_contacts,
        "email",
        "Another contact of this customer already uses this email.",
        ImportCode.DUPLICATE,
    )
    vins = [v["vin"] for _, v in parsed.cars if v.get("vin")]
    taken_vins: set[str] = set()
    for chunk in _chunks(vins):
        found = await session.scalars(
            sa.select(cars.c.vin).where(
                cars.c.organization_id == organization_id, cars.c.vin.in_(chunk)
            )
        )
        taken_vins.update(found)
    _drop(
        parsed,
        parsed.cars,
        lambda v: v.get("vin") in taken_vins,
        "vin",
        "Another car already has this VIN.",
        ImportCode.DUPLICATE,
    )
    parsed.errors.sort(key=lambda e: e.row or 0)
    parsed.existing = existing


async def _existing_customers(
    session: AsyncSession, organization_id: uuid.UUID, parsed: Parsed
) -> dict[str, uuid.UUID]:
    """The organization's customers by email, of the emails the file names."""
    emails = {v["email"] for _, v in parsed.customers if v.get("email")}
    emails |= {
        v["customerEmail"] for _, v in [*parsed.contacts, *parsed.cars] if v.get("customerEmail")
    }
    found: dict[str, uuid.UUID] = {}
    for chunk in _chunks(sorted(emails)):
        rows = await session.execute(
            sa.select(customers.c.email, customers.c.id).where(
                customers.c.organization_id == organization_id, customers.c.email.in_(chunk)
            )
        )
        found.update({email: row_id for email, row_id in rows})
    return found


async def _existing_contacts(
    session: AsyncSession,
    organization_id: uuid.UUID,
    parsed: Parsed,
    existing: dict[str, uuid.UUID],
) -> set[tuple[str, str]]:
    """(customer's email, contact's email) of the contacts existing customers have."""
    customer_ids = sorted(
        {
            existing[v["customerEmail"]]
            for _, v in parsed.contacts
            if v.get("email") and v["customerEmail"] in existing
        }
    )
    email_of = {row_id: email for email, row_id in existing.items()}
    taken: set[tuple[str, str]] = set()
    for chunk in _chunks(customer_ids):
        rows = await session.execute(
            sa.select(contacts.c.customer_id, contacts.c.email).where(
                contacts.c.organization_id == organization_id,
                contacts.c.customer_id.in_(chunk),
                contacts.c.email.is_not(None),
            )
        )
        taken.update((email_of[customer_id], email) for customer_id, email in rows)
    return taken


def _drop(
    parsed: Parsed,
    rows: list[tuple[int, dict[str, Any]]],
    wrong: Callable[[dict[str, Any]], bool],
    name: str,
    message: str,
    code: StrEnum,
) -> None:
    kept = []
    for number, values in rows:
        if wrong(values):
            parsed.fail(number, _header_of(parsed, name), name, code, message)
        else:
            kept.append((number, values))
    rows[:] = kept


def _chunks(values: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), BATCH):
        yield values[start : start + BATCH]


# --- writing -------------------------------------------------------------------------------


async def insert_all(session: AsyncSession, organization_id: uuid.UUID, parsed: Parsed) -> None:
    """Customers, then their contacts and cars, `BATCH` rows per Core insert."""
    now = datetime.now(UTC)
    ids = dict(parsed.existing)
    customer_rows = []
    template = _template(Customer(organization_id=organization_id, name="-"), now)
    for _, values in parsed.customers:
        row = {**template, **_columns_of(values, RowKind.CUSTOMER), "id": uuid.uuid4()}
        if row.get("email"):
            ids[row["email"]] = row["id"]
        customer_rows.append(row)
    contact_template = _template(
        Contact(organization_id=organization_id, customer_id=uuid.uuid4(), name="-"), now
    )
    contact_rows = [
        {
            **contact_template,
            **_columns_of(values, RowKind.CONTACT),
            "id": uuid.uuid4(),
            "customer_id": ids[values["customerEmail"]],
        }
        for _, values in parsed.contacts
    ]
    car_template = _template(Car(organization_id=organization_id, make="-", model="-"), now)
    car_rows = [
        {
            **car_template,
            **_columns_of(values, RowKind.CAR),
            "id": uuid.uuid4(),
            "customer_id": ids[values["customerEmail"]] if values.get("customerEmail") else None,
        }
        for _, values in parsed.cars
    ]
    for table, rows in ((customers, customer_rows), (contacts, contact_rows), (cars, car_rows)):
        for chunk in _chunks(rows):
            await session.execute(sa.insert(table), list(chunk))


def _template(row: Customer | Contact | Car, now: datetime) -> dict[str, Any]:
    """Every column's default, as a create through the ORM would write it."""
    values = row.model_dump()
    values.update(created_at=now, updated_at=now)
    return values


def _columns_of(values: dict[str, Any], kind: RowKind) -> dict[str, Any]:
    return {
        FIELDS[name].column: value
        for name, value in values.items()
        if FIELDS[name].column and kind in FIELDS[name].kinds
    }
