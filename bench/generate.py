"""Create, migrate and fill a benchmark database; start the sessions the load uses.

    .venv/bin/python -m bench.generate --size small|large [--seed 1] [--now ISO]

Drops and recreates `portico_bench_<size>`, migrates it with Portico's migrations, fills it
deterministically from `random.Random(seed)` with asyncpg COPY, analyzes it, starts one staff
session per organization and portal sessions for a sample of customers, and writes the
tokens, ids and cursors to `bench/results/raw/tokens-<size>.json`.

With `--sqlite` (or `--database sqlite`) the same rows are also written, in batches, into
`bench/results/raw/portico_bench_<size>.sqlite`, migrated by the same Alembic history
(`portico migrate`'s), with the sessions copied from PostgreSQL: the tokens file then works
against both databases (`bench.run --database sqlite`).

Everything is dated from a fixed base (2026-11-01 UTC) except appointments, which are placed
around `--now` (default: today 00:00 UTC) and up to a year ahead, so some stay upcoming.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import Any

import asyncpg
import sqlalchemy as sa

import models
from auth.sessions import start_session
from bench.common import (
    RAW_DIR,
    SIZES,
    Size,
    admin_url,
    database_name,
    database_url,
    sqlalchemy_url,
    sqlite_path,
    sqlite_url,
    tokens_path,
)
from core.ids import encode_id
from core.settings import Settings, settings_from_env
from models.db import Database
from models.enums import (
    ActorKind,
    AppointmentKind,
    AppointmentStatus,
    CarEventKind,
    CarStatus,
    ContactRole,
    DocumentKind,
    EstimateDecisionKind,
    EstimateStatus,
    InvoiceStatus,
    LineKind,
    PaymentMethod,
    PaymentStatus,
    PortalStatus,
    SessionKind,
    StaffRole,
)
from models.migrate import upgrade
from models.money import LineAmounts, bill_totals, line_amounts
from models.relations import BY_NAME, NEWEST_FIRST

BASE_TIME = datetime(2026, 11, 1, tzinfo=UTC)
# DEEP_PAGE asks for first: 4, so that ~490 visible customers make more than 100 pages.
PAGE_SIZE = 4
DEEP_PAGE = 100  # the page the deep-page workload asks for (capped by the list's length)
PORTAL_SESSIONS_PER_ORG = 50
COPY_TIMEOUT_S = 600
CURRENCY = "USD"
TAX_BP = 825

FIRST_NAMES = [
    "Alex", "Priya", "James", "Sofia", "Daniel", "Margaret", "Thomas", "Olivia", "Robert",
    "Eleanor", "Marcus", "Catherine", "Victor", "Nina", "William", "Grace", "Henry", "Isabel",
    "Frank", "Linda", "Samuel", "Julia", "Charles", "Hannah", "Derek", "Anita", "Paul", "Rachel",
    "Kevin", "Teresa", "Brian", "Yuki", "Owen", "Claire", "Sandra", "Ivan", "Leah", "Tom",
    "Fatima", "Greg", "Irene", "Noah", "Beth", "Oscar", "Diane", "Ray", "Helen", "Simon", "Zoe",
]  # fmt: skip
LAST_NAMES = [
    "Morgan", "Raman", "O'Connell", "Castellanos", "Kim", "Lindqvist", "Becker", "Hartman",
    "Nakamura", "Vance", "Whitaker", "Doyle", "Alvarez", "Petrova", "Ashford", "Okafor",
    "Caldwell", "Moreau", "DeLuca", "Sorensen", "Greene", "Novak", "Pemberton", "Weiss", "Sloan",
    "Desai", "Mercer", "Lin", "Shaw", "Gomez", "Holt", "Tanaka", "Fletcher", "Dubois", "Bell",
    "Pike", "Horvat", "Carter", "Gallagher", "Haddad", "Wilson", "Costa", "Reyes", "Monroe",
]  # fmt: skip
COMPANY_WORDS = ["Motor Club", "Collection", "Vintage Rallies", "Auctions", "Film Cars", "Garage"]
CITIES = [("Chicago", "IL", "60614"), ("Evanston", "IL", "60201"), ("Milwaukee", "WI", "53202")]
CAR_MODELS = [
    ("Porsche", "911 S", 1969, 1973),
    ("Porsche", "911 Carrera 3.2", 1984, 1989),
    ("Jaguar", "E-Type Series 1 Roadster", 1961, 1967),
    ("Mercedes-Benz", "280 SL", 1968, 1971),
    ("Chevrolet", "Corvette Sting Ray", 1963, 1967),
    ("Ford", "Mustang Fastback", 1965, 1968),
    ("Aston Martin", "DB5", 1963, 1965),
    ("Ferrari", "308 GTS", 1977, 1980),
    ("Lamborghini", "Countach 5000 QV", 1985, 1988),
    ("BMW", "M3 (E30)", 1988, 1991),
    ("Datsun", "240Z", 1970, 1973),
    ("Toyota", "Land Cruiser FJ40", 1970, 1980),
]
COLORS = ["Guards Red", "Rosso Corsa", "British Racing Green", "Silver Metallic", "Black", "Ivory"]
CAR_STATUSES = [CarStatus.IN_STORAGE] * 6 + [CarStatus.IN_SERVICE, CarStatus.WITH_OWNER]
EVENT_NOTES = [
    "Oil and filter change, fluids topped up.",
    "Hand wash, clay bar and carnauba wax.",
    "Tyre pressures checked and adjusted to 35 psi.",
    "Started and idled to temperature.",
    None,
]
CONDITION_AREAS = ["Front bumper", "Bonnet", "Driver door", "Rear bumper", "Roof", "Wheels"]
# (kind, description, quantities in thousandths, unit price, unit cost, tax rate bp)
LINES = [
    (LineKind.STORAGE, "Indoor storage, climate-controlled (months)", (1000, 3000), 45000, None, 0),
    (LineKind.FEE, "Battery tender and tyre care", (1000,), 3500, None, 0),
    (LineKind.LABOUR, "Full detail: wash, clay, polish, wax (hours)", (3000, 4500), 9500, None,
     TAX_BP),
    (LineKind.LABOUR, "Paint correction, two-stage (hours)", (2500, 6250), 11000, None, TAX_BP),
    (LineKind.PARTS, "Castrol Classic XL 20W-50, 5 qt", (1000, 2000), 6400, 4100, TAX_BP),
    (LineKind.PARTS, "Oil filter (OEM)", (1000,), 2875, 1450, TAX_BP),
    (LineKind.FEE, "Enclosed transport, Chicagoland", (1000,), 35000, 22000, 0),
]  # fmt: skip
# Generated invoices have no credit notes, so none is CREDITED.
INVOICE_STATUSES = [s for s in InvoiceStatus if s is not InvoiceStatus.CREDITED]
INVOICE_WEIGHTS = [1, 3, 2, 4, 1]
ESTIMATE_STATUSES = list(EstimateStatus)
ESTIMATE_WEIGHTS = [1, 3, 2, 1, 1]
PAST_STATUSES = [
    AppointmentStatus.COMPLETED,
    AppointmentStatus.CANCELLED,
    AppointmentStatus.NO_SHOW,
]
APPOINTMENT_MINUTES = {kind: 30 + 30 * i for i, kind in enumerate(AppointmentKind)}
DOCUMENT_TYPES = [
    (DocumentKind.STORAGE_AGREEMENT, "Storage agreement", "application/pdf"),
    (DocumentKind.INSURANCE_CARD, "Insurance card", "image/jpeg"),
    (DocumentKind.PHOTO, "Photo", "image/jpeg"),
    (DocumentKind.PDF, "Service report", "application/pdf"),
]
STAFF_MESSAGES = [
    "Your car is back from the paint shop. Photos are in the portal.",
    "The front tyres show sidewall cracks. Shall we quote?",
    'An estimate is on its way; "period-correct" tyres as asked.',
]
CUSTOMER_MESSAGES = ["Could you have it ready on Saturday morning?", "Perfect, thank you!"]

# Parents before children: COPY checks foreign keys row by row.
TABLE_ORDER = [
    "organizations",
    "portal_settings",
    "counters",
    "staff_users",
    "customers",
    "contacts",
    "cars",
    "car_events",
    "condition_reports",
    "estimates",
    "estimate_lines",
    "invoices",
    "invoice_lines",
    "payments",
    "appointments",
    "documents",
    "messages",
    "estimate_decisions",
    "audit_events",
]


class Rows:
    """Records for one table in its column order, with the model's scalar defaults filled in."""

    def __init__(self, table: sa.Table) -> None:
        self.table = table
        self.columns = [c.name for c in table.columns]
        self.json_columns = {c.name for c in table.columns if isinstance(c.type, sa.JSON)}
        self.defaults: dict[str, Any] = {}
        for column in table.columns:
            default = column.default
            if default is not None and getattr(default, "is_scalar", False):
                self.defaults[column.name] = _plain(default.arg)  # type: ignore[attr-defined]
            elif column.nullable:
                self.defaults[column.name] = None
        self.records: list[tuple[Any, ...]] = []

    def add(self, **values: Any) -> None:
        unknown = set(values) - set(self.columns)
        if unknown:
            raise KeyError(f"{self.table.name} has no columns {sorted(unknown)}")
        record = []
        for name in self.columns:
            value = _plain(values[name]) if name in values else self.defaults[name]
            if name in self.json_columns:
                value = json.dumps(value)
            record.append(value)
        self.records.append(tuple(record))


def _plain(value: Any) -> Any:
    """Enum columns store the member's name."""
    return value.name if isinstance(value, Enum) else value


@dataclass
class Org:
    """One organization being generated, with what the sessions and workloads need."""

    index: int
    id: uuid.UUID
    owner_id: uuid.UUID
    customers: list[dict[str, Any]] = field(default_factory=list)
    row_counts: dict[uuid.UUID, int] = field(default_factory=lambda: defaultdict(int))
    invoice_number: int = 1000
    estimate_number: int = 500


class Generator:
    """Builds every row from one seeded random source."""

    def __init__(self, seed: int, now: datetime) -> None:
        self.rng = random.Random(seed)
        self.now = now
        self.tables = {name: Rows(models.metadata.tables[name]) for name in TABLE_ORDER}
        self.serial = 0
        # Rows added after the first data set (decisions, files, audit events) draw from their
        # own source, so the rows generated before them stay the same.
        self.more = random.Random(seed + 1000)

    def more_uuid(self) -> uuid.UUID:
        return uuid.UUID(int=self.more.getrandbits(128), version=4)

    def uuid(self) -> uuid.UUID:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)

    def moment(self, low_days: float, high_days: float) -> datetime:
        """A time between `low_days` and `high_days` before the base time; half of them carry
        microseconds (exercises both forms of ISO timestamps)."""
        seconds = self.rng.randint(int(low_days * 86400), int(high_days * 86400))
        micro = self.rng.randint(1, 999_999) if self.rng.random() < 0.5 else 0
        return BASE_TIME - timedelta(seconds=seconds, microseconds=micro)

    def add(self, table: str, **values: Any) -> None:
        self.tables[table].add(**values)

    def row_total(self) -> int:
        return sum(len(rows.records) for rows in self.tables.values())

    # --- organizations ----------------------------------------------------------------

    def organization(self, index: int, customers: int) -> Org:
        org = Org(index=index, id=self.uuid(), owner_id=self.uuid())
        created = self.moment(1500, 1600)
        stamp = {"created_at": created, "updated_at": created}
        self.add(
            "organizations",
            id=org.id,
            name=f"Bench Classic Storage {index + 1:02d}",
            slug=f"bench-{index + 1:02d}",
            email=f"hello@bench-{index + 1:02d}.example.com",
            timezone="UTC",
            currency=CURRENCY,
            **stamp,
        )
        self.add("portal_settings", organization_id=org.id)
        self.add(
            "staff_users",
            id=org.owner_id,
            organization_id=org.id,
            name=f"Owner {index + 1:02d}",
            email=f"owner@bench-{index + 1:02d}.example.com",
            role=StaffRole.OWNER,
            quiet_email_kinds=[],
            **stamp,
        )
        for position in range(customers):
            self.customer(org, position)
        self.add("counters", organization_id=org.id, name="invoice", last_value=org.invoice_number)
        self.add(
            "counters", organization_id=org.id, name="estimate", last_value=org.estimate_number
        )
        return org

    def customer(self, org: Org, position: int) -> None:
        rng = self.rng
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        company = f"{last} {rng.choice(COMPANY_WORDS)}" if rng.random() < 0.1 else None
        name = company or f"{first} {last}"
        customer_id = self.uuid()
        created = self.moment(400, 1500)
        status = rng.choices(list(PortalStatus), weights=[40, 15, 43, 2])[0]
        archived = rng.random() < 0.02
        email = None if rng.random() < 0.05 else f"{first}.{last}.{position}@example.com".lower()
        email = email.replace("'", "") if email else None
        city, region, postal_code = rng.choice(CITIES)
        invited = created + timedelta(days=rng.randint(1, 300))
        self.add(
            "customers",
            id=customer_id,
            organization_id=org.id,
            name=name,
            company=company,
            email=email,
            phone=f"(312) 555-{position:04d}",
            address_line1=f"{rng.randint(100, 4999)} N Clark St",
            city=city,
            region=region,
            postal_code=postal_code,
            country="US",
            internal_notes="Prefers phone calls." if rng.random() < 0.3 else None,
            portal_status=status,
            portal_invited_at=invited if status is not PortalStatus.NOT_INVITED else None,
            portal_email=email if status is not PortalStatus.NOT_INVITED else None,
            portal_activated_at=invited + timedelta(hours=5)
            if status is PortalStatus.ACTIVE
            else None,
            archived_at=BASE_TIME - timedelta(days=3) if archived else None,
            created_at=created,
            updated_at=created,
        )
        org.customers.append(
            {"id": customer_id, "email": email, "status": status, "archived": archived}
        )
        before = self.row_total()
        for _ in range(rng.randint(0, 3)):
            self.contact(org, customer_id, name)
        cars = [self.car(org, customer_id) for _ in range(rng.randint(1, 3))]
        for _ in range(rng.randint(2, 6)):
            self.invoice(org, customer_id, rng.choice(cars))
        for _ in range(rng.randint(0, 3)):
            self.estimate(org, customer_id, rng.choice(cars))
        for _ in range(rng.randint(2, 6)):
            self.appointment(org, customer_id, rng.choice(cars))
        for _ in range(rng.randint(1, 4)):
            self.document(org, customer_id, name, cars)
        for _ in range(rng.randint(0, 6)):
            self.message(org, customer_id)
        org.row_counts[customer_id] = self.row_total() - before

    def contact(self, org: Org, customer_id: uuid.UUID, customer_name: str) -> None:
        rng = self.rng
        name = f"{rng.choice(FIRST_NAMES)} {customer_name.split()[-1]}"
        created = self.moment(100, 400)
        self.add(
            "contacts",
            id=self.uuid(),
            organization_id=org.id,
            customer_id=customer_id,
            name=name,
            email=f"{name.replace(' ', '.').replace(chr(39), '')}.{self.serial}@example.org",
            role=rng.choice(list(ContactRole)),
            can_access_portal=rng.random() < 0.3,
            created_at=created,
            updated_at=created,
        )
        self.serial += 1

    # --- cars -------------------------------------------------------------------------

    def car(self, org: Org, customer_id: uuid.UUID) -> uuid.UUID:
        rng = self.rng
        make, model, first_year, last_year = rng.choice(CAR_MODELS)
        car_id = self.uuid()
        self.serial += 1
        created = self.moment(90, 400)
        letters = "ABCDEFGHJKLMNPRSTUVWXYZ"
        self.add(
            "cars",
            id=car_id,
            organization_id=org.id,
            customer_id=customer_id,
            make=make,
            model=model,
            year=rng.randint(first_year, last_year),
            vin=f"BN{org.index:02d}{self.serial:013d}",
            license_plate=f"{rng.choice(letters)}{rng.choice(letters)} {rng.randint(10000, 99999)}",
            color=rng.choice(COLORS),
            status=rng.choice(CAR_STATUSES),
            mileage=rng.randint(2_000, 140_000),
            storage_location=f"Bay {rng.choice('ABCD')}-{rng.randint(1, 24)}",
            internal_notes="Key in the key safe." if rng.random() < 0.25 else None,
            archived_at=BASE_TIME - timedelta(days=10) if rng.random() < 0.03 else None,
            created_at=created,
            updated_at=created,
        )
        for _ in range(rng.randint(3, 8)):
            when = self.moment(1, 90)
            internal = rng.random() < 0.2
            self.add(
                "car_events",
                id=self.uuid(),
                organization_id=org.id,
                car_id=car_id,
                kind=rng.choice(list(CarEventKind)),
                occurred_at=when,
                notes="Staff only: check the balance." if internal else rng.choice(EVENT_NOTES),
                internal=internal,
                staff_user_id=org.owner_id,
                data={},
                created_at=when,
                updated_at=when,
            )
        for _ in range(rng.randint(0, 2)):
            when = self.moment(1, 90)
            items = [
                {"area": area, "rating": rng.randint(2, 5), "notes": "Light stone chips."}
                for area in rng.sample(CONDITION_AREAS, k=3)
            ]
            self.add(
                "condition_reports",
                id=self.uuid(),
                organization_id=org.id,
                car_id=car_id,
                inspected_at=when,
                inspector_staff_id=org.owner_id,
                inspector_name=f"Owner {org.index + 1:02d}",
                mileage=rng.randint(2_000, 140_000),
                summary="Good overall; see the noted areas.",
                items=items,
                created_at=when,
                updated_at=when,
            )
        return car_id

    # --- billing ----------------------------------------------------------------------

    def lines(self, table: str, parent: str, parent_id: uuid.UUID, org: Org) -> list[LineAmounts]:
        amounts = []
        for position in range(self.rng.randint(1, 5)):
            kind, description, quantities, price, cost, tax_bp = self.rng.choice(LINES)
            quantity = self.rng.choice(quantities)
            line = line_amounts(quantity, price, tax_bp)
            amounts.append(line)
            extra = {"optional": self.rng.random() < 0.2} if table == "estimate_lines" else {}
            self.add(
                table,
                id=self.uuid(),
                organization_id=org.id,
                **{parent: parent_id},
                position=position,
                kind=kind,
                description=description,
                quantity_milli=quantity,
                unit_price=price,
                unit_cost=cost,
                tax_rate_bp=tax_bp,
                subtotal=line.subtotal,
                tax=line.tax,
                total=line.total,
                created_at=BASE_TIME,
                updated_at=BASE_TIME,
                **extra,
            )
        return amounts

    def invoice(self, org: Org, customer_id: uuid.UUID, car_id: uuid.UUID) -> None:
        """One invoice with its lines, and payments for what was paid."""
        rng = self.rng
        invoice_id = self.uuid()
        status = rng.choices(INVOICE_STATUSES, weights=INVOICE_WEIGHTS)[0]
        amounts = self.lines("invoice_lines", "invoice_id", invoice_id, org)
        totals = bill_totals(amounts)
        paid = {
            InvoiceStatus.PAID: totals.total,
            InvoiceStatus.PARTIALLY_PAID: max(1, totals.total // 3),
        }.get(status, 0)
        created = self.moment(1, 330)
        sent = status is not InvoiceStatus.DRAFT
        issued = created.date() if sent else None
        if sent:
            org.invoice_number += 1
        self.add(
            "invoices",
            id=invoice_id,
            organization_id=org.id,
            customer_id=customer_id,
            car_id=car_id if rng.random() < 0.7 else None,
            number=org.invoice_number if sent else None,
            status=status,
            currency=CURRENCY,
            subtotal=totals.subtotal,
            tax_total=totals.tax_total,
            total=totals.total,
            issue_date=issued,
            due_date=issued + timedelta(days=30) if issued else None,
            amount_paid=paid,
            notes="Payment is due within 30 days." if rng.random() < 0.5 else None,
            internal_notes="Chase after the 15th." if rng.random() < 0.1 else None,
            sent_at=created + timedelta(hours=1) if sent else None,
            voided_at=created + timedelta(days=2) if status is InvoiceStatus.VOID else None,
            created_at=created,
            updated_at=created,
        )
        if sent:
            self.audit(org, customer_id, "invoice.sent", "Invoice", invoice_id, created)
        halves = status is InvoiceStatus.PAID and paid >= 2
        parts = [paid // 2, paid - paid // 2] if halves else [paid]
        for amount in parts if paid else []:
            received = created + timedelta(days=rng.randint(1, 20), seconds=rng.randint(0, 86399))
            self.add(
                "payments",
                id=self.uuid(),
                organization_id=org.id,
                customer_id=customer_id,
                invoice_id=invoice_id,
                amount=amount,
                currency=CURRENCY,
                method=rng.choice(list(PaymentMethod)),
                status=PaymentStatus.SUCCEEDED,
                received_at=received,
                recorded_by_staff_id=org.owner_id,
                created_at=received,
                updated_at=received,
            )

    def estimate(self, org: Org, customer_id: uuid.UUID, car_id: uuid.UUID) -> None:
        rng = self.rng
        estimate_id = self.uuid()
        status = rng.choices(ESTIMATE_STATUSES, weights=ESTIMATE_WEIGHTS)[0]
        totals = bill_totals(self.lines("estimate_lines", "estimate_id", estimate_id, org))
        created = self.moment(1, 200)
        sent = status is not EstimateStatus.DRAFT
        if sent:
            org.estimate_number += 1
        decided = status in (EstimateStatus.APPROVED, EstimateStatus.DECLINED)
        self.add(
            "estimates",
            id=estimate_id,
            organization_id=org.id,
            customer_id=customer_id,
            car_id=car_id,
            number=org.estimate_number if sent else None,
            status=status,
            currency=CURRENCY,
            subtotal=totals.subtotal,
            tax_total=totals.tax_total,
            total=totals.total,
            valid_until=created.date() + timedelta(days=30),
            notes="Parts prices are valid for 30 days." if rng.random() < 0.5 else None,
            sent_at=created + timedelta(hours=2) if sent else None,
            decided_at=created + timedelta(days=3) if decided else None,
            created_at=created,
            updated_at=created,
        )
        if decided:
            approved = status is EstimateStatus.APPROVED
            kind = EstimateDecisionKind.APPROVED if approved else EstimateDecisionKind.DECLINED
            self.add(
                "estimate_decisions",
                id=self.more_uuid(),
                organization_id=org.id,
                estimate_id=estimate_id,
                version=1,
                decision=kind,
                approved_line_ids=[],
                declined_line_ids=[],
                approved_total=totals.total if approved else 0,
                deposit_amount=0,
                snapshot={"currency": CURRENCY, "lines": []},
                reason=None if approved else "Not this season.",
                customer_id=customer_id,
                ip="203.0.113.7",
                user_agent="Mozilla/5.0 (bench)",
                created_at=created + timedelta(days=3),
                updated_at=created + timedelta(days=3),
            )
        if sent:
            self.audit(org, customer_id, "estimate.sent", "Estimate", estimate_id, created)

    # --- schedule, documents, messages -------------------------------------------------

    def appointment(self, org: Org, customer_id: uuid.UUID, car_id: uuid.UUID) -> None:
        """Around `now`: up to four months back, up to a year ahead, on quarter hours."""
        rng = self.rng
        kind = rng.choice(list(AppointmentKind))
        quarter_hours = rng.randint(-120 * 96, 365 * 96)
        starts = self.now + timedelta(minutes=15 * quarter_hours)
        upcoming = starts >= self.now
        if upcoming:
            status = rng.choice([AppointmentStatus.SCHEDULED, AppointmentStatus.CONFIRMED])
        else:
            status = rng.choices(PAST_STATUSES, weights=[8, 1, 1])[0]
        created = self.moment(1, 200)
        self.add(
            "appointments",
            id=self.uuid(),
            organization_id=org.id,
            customer_id=customer_id,
            car_id=car_id if rng.random() < 0.8 else None,
            starts_at=starts,
            ends_at=starts + timedelta(minutes=APPOINTMENT_MINUTES[kind]),
            kind=kind,
            status=status,
            title=f"{kind.name.replace('_', ' ').capitalize()} appointment",
            notes="Please bring the spare key." if rng.random() < 0.3 else None,
            internal_notes="Needs the lift." if rng.random() < 0.2 else None,
            created_at=created,
            updated_at=created,
        )

    def document(
        self, org: Org, customer_id: uuid.UUID, customer_name: str, cars: list[uuid.UUID]
    ) -> None:
        rng = self.rng
        kind, title, content_type = rng.choice(DOCUMENT_TYPES)
        created = self.moment(1, 400)
        document_id = self.uuid()
        self.add(
            "documents",
            id=document_id,
            organization_id=org.id,
            customer_id=customer_id,
            car_id=self.more.choice(cars) if self.more.random() < 0.6 else None,
            name=f"{title} - {customer_name}",
            kind=kind,
            content_type=content_type,
            size_bytes=rng.randint(20_000, 5_000_000),
            visible_in_portal=rng.random() < 0.8,
            storage_key=f"bench/{document_id.hex}" if self.more.random() < 0.8 else None,
            uploaded_by_staff_id=org.owner_id,
            archived_at=BASE_TIME - timedelta(days=1) if rng.random() < 0.05 else None,
            created_at=created,
            updated_at=created,
        )

    def audit(
        self, org: Org, customer_id: uuid.UUID, action: str, subject: str, subject_id: uuid.UUID,
        when: datetime,
    ) -> None:  # fmt: skip
        """What staff did, as the audit log records it."""
        self.add(
            "audit_events",
            id=self.more_uuid(),
            organization_id=org.id,
            action=action,
            actor_kind=ActorKind.STAFF,
            actor_staff_id=org.owner_id,
            customer_id=customer_id,
            subject_type=subject,
            subject_id=subject_id,
            ip="198.51.100.20",
            user_agent="Mozilla/5.0 (bench staff)",
            data={"number": self.more.randint(1, 9999)},
            created_at=when + timedelta(hours=1),
            updated_at=when + timedelta(hours=1),
        )

    def message(self, org: Org, customer_id: uuid.UUID) -> None:
        rng = self.rng
        created = self.moment(0.1, 60)
        staff = rng.random() < 0.6
        read = created + timedelta(hours=3)
        self.add(
            "messages",
            id=self.uuid(),
            organization_id=org.id,
            customer_id=customer_id,
            author_kind=ActorKind.STAFF if staff else ActorKind.CUSTOMER,
            author_staff_id=org.owner_id if staff else None,
            body=rng.choice(STAFF_MESSAGES if staff else CUSTOMER_MESSAGES),
            read_by_staff_at=None if staff or self.more.random() < 0.3 else read,
            read_by_customer_at=read if staff and rng.random() < 0.5 else None,
            created_at=created,
            updated_at=created,
        )


# --- the database ---------------------------------------------------------------------


async def recreate_database(size: str) -> None:
    name = database_name(size)
    conn = await asyncpg.connect(admin_url(), timeout=30)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', timeout=120)
        await conn.execute(f'CREATE DATABASE "{name}"', timeout=120)
    finally:
        await conn.close()


def portico_settings(size: str) -> Settings:
    return settings_from_env({"DATABASE_URL": sqlalchemy_url(database_url(size))})


def portico_database(size: str) -> Database:
    return Database(portico_settings(size))


async def migrate(size: str) -> None:
    db = portico_database(size)
    try:
        await upgrade(db.engine)
    finally:
        await db.dispose()


async def load(generator: Generator, size: str) -> dict[str, int]:
    conn = await asyncpg.connect(database_url(size), timeout=30)
    counts: dict[str, int] = {}
    try:
        for name in TABLE_ORDER:
            rows = generator.tables[name]
            await conn.copy_records_to_table(
                name, records=rows.records, columns=rows.columns, timeout=COPY_TIMEOUT_S
            )
            counts[name] = len(rows.records)
        await conn.execute("ANALYZE", timeout=COPY_TIMEOUT_S)
    finally:
        await conn.close()
    return counts


SQLITE_BATCH = 1000  # rows per INSERT ... VALUES executemany


def sqlite_database(size: str) -> Database:
    return Database(settings_from_env({"DATABASE_URL": sqlite_url(size)}))


def _sqlite_records(rows: Rows) -> list[dict[str, Any]]:
    """The table's records as SQLAlchemy insert parameters: JSON columns as values again
    (the column type encodes them), enum names and aware datetimes as they are."""
    out = []
    for record in rows.records:
        values = dict(zip(rows.columns, record, strict=True))
        for name in rows.json_columns:
            if values[name] is not None:
                values[name] = json.loads(values[name])
        out.append(values)
    return out


async def load_sqlite(generator: Generator, size: str) -> dict[str, int]:
    """The generator's rows, then the sessions PostgreSQL holds (same ids and token hashes),
    into a new SQLite file migrated by Portico's Alembic history; then ANALYZE."""
    path = sqlite_path(size)
    path.parent.mkdir(parents=True, exist_ok=True)
    for leftover in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        leftover.unlink(missing_ok=True)
    sessions = models.metadata.tables["auth_sessions"]
    source = portico_database(size)
    try:
        async with source.engine.connect() as conn:
            session_rows = [
                dict(row) for row in (await conn.execute(sa.select(sessions))).mappings()
            ]
    finally:
        await source.dispose()
    db = sqlite_database(size)
    counts: dict[str, int] = {}
    try:
        await upgrade(db.engine)
        async with db.engine.begin() as conn:
            for name in TABLE_ORDER:
                records = _sqlite_records(generator.tables[name])
                table = generator.tables[name].table
                for start in range(0, len(records), SQLITE_BATCH):
                    await conn.execute(table.insert(), records[start : start + SQLITE_BATCH])
                counts[name] = len(records)
            if session_rows:
                await conn.execute(sessions.insert(), session_rows)
            counts["sessions"] = len(session_rows)
            await conn.exec_driver_sql("ANALYZE")
        async with db.engine.connect() as conn:
            await conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        await db.dispose()
    return counts


async def deep_cursor(conn: asyncpg.Connection, org_id: uuid.UUID) -> tuple[int, str | None]:
    """The page the deep-page workload asks for, and the `after` cursor that reaches it:
    page 100 when the list is long enough, else its last page."""
    visible = await conn.fetchval(
        "SELECT count(*) FROM customers WHERE organization_id = $1 AND archived_at IS NULL", org_id
    )
    page = max(1, min(DEEP_PAGE, -(-visible // PAGE_SIZE)))
    if page == 1:
        return 1, None
    row = await conn.fetchrow(
        "SELECT name, id FROM customers WHERE organization_id = $1 AND archived_at IS NULL "
        "ORDER BY name, id OFFSET $2 LIMIT 1",
        org_id,
        (page - 1) * PAGE_SIZE - 1,
    )
    return page, BY_NAME.cursor_of({"name": row["name"], "id": row["id"]})  # type: ignore[arg-type]


async def start_sessions(size: str, orgs: list[Org], seed: int) -> list[dict[str, Any]]:
    """A staff session per organization and portal sessions for sampled active customers."""
    rng = random.Random(seed + 1)
    db = portico_database(size)
    conn = await asyncpg.connect(database_url(size), timeout=30)
    out = []
    try:
        for org in orgs:
            visible = [c for c in org.customers if not c["archived"]]
            active = [c for c in visible if c["status"] is PortalStatus.ACTIVE and c["email"]]
            sample = rng.sample(active, k=min(PORTAL_SESSIONS_PER_ORG, len(active)))
            async with db.write() as session:
                staff = await start_session(
                    session, kind=SessionKind.STAFF, organization_id=org.id,
                    staff_user_id=org.owner_id,
                )  # fmt: skip
                portal = []
                for customer in sample:
                    issued = await start_session(
                        session,
                        kind=SessionKind.PORTAL,
                        organization_id=org.id,
                        customer_id=customer["id"],
                        email=customer["email"],
                    )
                    portal.append({"token": issued.token, **_ids(customer["id"])})
            detail = max(visible, key=lambda c: org.row_counts[c["id"]])
            page, cursor = await deep_cursor(conn, org.id)
            ids = await workload_ids(conn, org.id)
            for viewer in portal:
                viewer["cars"] = ids["cars_of"].get(viewer["customer_id"], [])
            out.append(
                {
                    "id": org.id.hex,
                    "staff_token": staff.token,
                    "portal": portal,
                    "customers": [_ids(c["id"]) for c in visible],
                    "detail_customer": _ids(detail["id"]),
                    "deep_page": page,
                    "deep_cursor": cursor,
                    "cars": ids["cars"],
                    "invoices": ids["invoices"],
                    "invoice_pages": ids["invoice_pages"],
                }
            )
    finally:
        await conn.close()
        await db.dispose()
    return out


async def workload_ids(conn: asyncpg.Connection, org_id: uuid.UUID) -> dict[str, Any]:
    """Ids the workloads rotate through: every visible car (and each customer's own), sent
    invoices, and for customers with more than two invoices the `after` cursor of their
    invoice list's second page (Customer.invoices: newest first, two per page)."""
    cars = await conn.fetch(
        "SELECT car.id, car.customer_id FROM cars car JOIN customers c ON c.id = car.customer_id "
        "WHERE car.organization_id = $1 AND car.archived_at IS NULL AND c.archived_at IS NULL "
        "ORDER BY car.id",
        org_id,
    )
    cars_of: dict[str, list[str]] = defaultdict(list)
    for row in cars:
        cars_of[row["customer_id"].hex].append(encode_id("Car", row["id"]))
    invoices = await conn.fetch(
        "SELECT i.id FROM invoices i JOIN customers c ON c.id = i.customer_id "
        "WHERE i.organization_id = $1 AND i.number IS NOT NULL AND c.archived_at IS NULL "
        "ORDER BY i.id",
        org_id,
    )
    second = await conn.fetch(
        "SELECT customer_id, created_at, id FROM ("
        "  SELECT i.customer_id, i.created_at, i.id, row_number() OVER ("
        "    PARTITION BY i.customer_id ORDER BY i.created_at DESC, i.id DESC) AS rn"
        "  FROM invoices i JOIN customers c ON c.id = i.customer_id"
        "  WHERE i.organization_id = $1 AND c.archived_at IS NULL) n "
        "WHERE rn = 2 AND EXISTS (SELECT FROM invoices j WHERE j.customer_id = n.customer_id "
        "  GROUP BY j.customer_id HAVING count(*) > 2) ORDER BY customer_id",
        org_id,
    )
    newest = NEWEST_FIRST["invoices"]
    pages = [
        {
            "customer": encode_id("Customer", row["customer_id"]),
            "after": newest.cursor_of({"created_at": row["created_at"], "id": row["id"]}),  # type: ignore[dict-item]
        }
        for row in second
    ]
    return {
        "cars": [encode_id("Car", row["id"]) for row in cars],
        "cars_of": dict(cars_of),
        "invoices": [encode_id("Invoice", row["id"]) for row in invoices],
        "invoice_pages": pages,
    }


def _ids(customer_id: uuid.UUID) -> dict[str, str]:
    return {"customer_id": customer_id.hex, "gid": encode_id("Customer", customer_id)}


async def verify_cursor(size: str, org: dict[str, Any]) -> str | None:
    """Walk the first organization's list through Portico (in process) to the deep page and
    check the computed cursor is the one the server hands out; returns what went wrong."""
    import httpx

    from bench.queries import DEEP_PAGE as QUERY
    from portico.app import create_app

    if org["deep_cursor"] is None:
        return None
    app = create_app(portico_settings(size), run_mail_worker=False)
    headers = {"Authorization": f"Bearer {org['staff_token']}"}
    after = None
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            for _ in range(org["deep_page"] - 1):
                body = {"query": QUERY, "variables": {"after": after}}
                async with asyncio.timeout(30):
                    response = await client.post("/graphql", json=body, headers=headers)
                try:
                    after = response.json()["data"]["customers"]["pageInfo"]["endCursor"]
                except (ValueError, KeyError, TypeError):
                    return f"Portico answered {response.status_code} {response.text[:300]}"
    finally:
        await app.state.db.dispose()
    if after != org["deep_cursor"]:
        return f"computed {org['deep_cursor']}, Portico's is {after}"
    return None


async def generate(size: Size, seed: int, now: datetime, sqlite: bool = False) -> dict[str, Any]:
    started = time.monotonic()
    await recreate_database(size.name)
    await migrate(size.name)
    generator = Generator(seed, now)
    orgs = [generator.organization(i, size.customers_per_org) for i in range(size.organizations)]
    built = time.monotonic()
    counts = await load(generator, size.name)
    loaded = time.monotonic()
    organizations = await start_sessions(size.name, orgs, seed)
    problem = await verify_cursor(size.name, organizations[0])
    if problem:
        print(f"WARNING: the deep-page cursor could not be verified: {problem}")
    sqlite_counts: dict[str, int] | None = None
    if sqlite:
        sqlite_started = time.monotonic()
        sqlite_counts = await load_sqlite(generator, size.name)
        print(
            f"SQLite: {sum(sqlite_counts.values()):,} rows (sessions included) in "
            f"{time.monotonic() - sqlite_started:.1f} s into {sqlite_path(size.name)}"
        )
    result = {
        "size": size.name,
        "database_url": database_url(size.name),
        "seed": seed,
        "base_time": BASE_TIME.isoformat(),
        "now": now.isoformat(),
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "counts": counts,
        "organizations": organizations,
    }
    if sqlite_counts is not None:
        result["sqlite_path"] = str(sqlite_path(size.name))
        result["sqlite_counts"] = sqlite_counts
    RAW_DIR.mkdir(parents=True, exist_ok=True)
    tokens_path(size.name).write_text(json.dumps(result, indent=1) + "\n")
    total = sum(counts.values())
    for name, count in counts.items():
        print(f"  {name:<18} {count:>9,}")
    print(
        f"{total:,} rows in {time.monotonic() - started:.1f} s "
        f"(build {built - started:.1f} s, copy {loaded - built:.1f} s); "
        f"tokens in {tokens_path(size.name)}"
    )
    return result


def today_utc() -> datetime:
    return datetime.combine(datetime.now(UTC).date(), datetime.min.time(), tzinfo=UTC)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.generate", description=__doc__)
    parser.add_argument("--size", choices=sorted(SIZES), default="small")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--now",
        type=datetime.fromisoformat,
        default=None,
        help="the moment appointments are placed around (ISO, UTC; default today 00:00 UTC)",
    )
    parser.add_argument(
        "--database",
        choices=["postgresql", "sqlite"],
        default="postgresql",
        help="sqlite: PostgreSQL as always, and the same rows and sessions in a SQLite file "
        "(what `bench.run --database sqlite` compares)",
    )
    parser.add_argument("--sqlite", action="store_true", help="the same as --database sqlite")
    args = parser.parse_args(argv)
    now = args.now or today_utc()
    now = now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)
    sqlite = args.sqlite or args.database == "sqlite"
    asyncio.run(generate(SIZES[args.size], args.seed, now, sqlite=sqlite))


if __name__ == "__main__":
    main()
