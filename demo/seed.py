"""A demo organization with realistic data (the `portico demo` command).

Everything is derived from one seeded random generator and dates relative to now, so every
load looks the same apart from the dates, and appointments are always upcoming.
"""

from __future__ import annotations

import hashlib
import itertools
import random
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, NamedTuple, TypedDict
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel, col

import models
from auth.passwords import hash_password
from core.ids import encode_id
from core.settings import Settings
from demo.sample_files import (
    DemoFile,
    car_picture,
    card_picture,
    hex_colour,
    paint,
    paper,
)
from domain.billing.estimates import estimate_snapshot
from domain.billing.monthly_statements import send_monthly_statements
from domain.cars.jobs import HISTORY_KIND
from domain.formats import vin_check_digit
from domain.schedule.reminders import remind_appointments
from domain.webhooks.events import event_body
from domain.webhooks.signing import new_secret
from models import (
    Appointment,
    AuditEvent,
    BillingPlan,
    BillingSubscription,
    Car,
    CarEvent,
    CarPhoto,
    CollectionSettings,
    CommunityEvent,
    ConditionReport,
    Contact,
    ContactCar,
    Contract,
    Counter,
    CreditNote,
    CreditNoteLine,
    Customer,
    Document,
    Estimate,
    EstimateDecision,
    EstimateLine,
    EstimateVersion,
    EventRsvp,
    Invoice,
    InvoiceLine,
    InvoiceReminder,
    Job,
    JobPhoto,
    LateFee,
    MaintenanceSchedule,
    Message,
    OnboardingStep,
    Organization,
    Payment,
    PortalSettings,
    SavedPaymentMethod,
    StaffUser,
    TelematicsReading,
)
from models.base import table_of
from models.calendar import end_of_day
from models.db import Database
from models.enums import (
    ActorKind,
    AppointmentKind,
    AppointmentStatus,
    BillingTiming,
    BulkInviteItemState,
    BulkInviteState,
    CarEventKind,
    CarStatus,
    ContactRole,
    ContractKind,
    ContractStatus,
    DocumentKind,
    EstimateDecisionKind,
    EstimateStatus,
    ImportState,
    InvoiceStatus,
    JobKind,
    JobStatus,
    LateFeeKind,
    LineKind,
    OnboardingStepKind,
    PaymentMethod,
    PaymentStatus,
    PhotoStage,
    PortalScope,
    PortalStatus,
    RsvpStatus,
    StaffRole,
    StaffStatus,
    WebhookDeliveryStatus,
)
from models.imports import BulkInvite, BulkInviteItem, DataImport
from models.ledger import status_for
from models.money import BASIS_POINTS, LineAmounts, bill_totals, divide_rounded, line_amounts
from models.types import utcnow
from models.webhooks import WebhookDelivery, WebhookEndpoint, WebhookEvent
from models.writes import add_in_order
from storage import Storage, new_key, storage_from_settings, store_bytes

DEMO_SLUG = "demo"
DEMO_NAME = "Harbor Classic Car Storage"
OWNER_EMAIL = "owner@demo.portico.test"
OWNER_PASSWORD = "portico-demo-owner"
STAFF_EMAIL = "staff@demo.portico.test"
STAFF_PASSWORD = "portico-demo-staff"
ADMIN_EMAIL = "admin@demo.portico.test"  # signs in with the staff member's password
SEED = 7
CURRENCY = "USD"
TAX_BP = 825
FIRST_INVOICE_NUMBER = 1001
FIRST_ESTIMATE_NUMBER = 501

# (name, company): a company name marks a business account.
CUSTOMERS: list[tuple[str, str | None]] = [
    ("Alex Morgan", None),
    ("Priya Raman", None),
    ("Lakeshore Motor Club", "Lakeshore Motor Club LLC"),
    ("James O'Connell", None),
    ("Harold Brennan", None),
    ("Sofia Castellanos", None),
    ("Daniel Kim", None),
    ("Fulton Street Collection", "Fulton Street Collection Inc."),
    ("Margaret Lindqvist", None),
    ("Thomas Becker", None),
    ("Olivia Hartman", None),
    ("Prairie Vintage Rallies", "Prairie Vintage Rallies LLC"),
    ("Robert Nakamura", None),
    ("Eleanor Vance", None),
    ("Marcus Whitaker", None),
    ("Catherine Doyle", None),
    ("Ashby & Cole Auctions", "Ashby & Cole Auctions LLC"),
    ("Victor Alvarez", None),
    ("Nina Petrova", None),
    ("William Ashford", None),
    ("North Shore Concours Society", "North Shore Concours Society"),
    ("Grace Okafor", None),
    ("Henry Caldwell", None),
    ("Isabel Moreau", None),
    ("Frank DeLuca", None),
    ("Meridian Film Cars", "Meridian Film Cars Inc."),
    ("Linda Sorensen", None),
    ("Samuel Greene", None),
    ("Julia Novak", None),
    ("Charles Pemberton", None),
]
ARCHIVED_CUSTOMER = "Harold Brennan"

CUSTOMER_NOTES = [
    "Prefers phone calls over email. Pays by cheque.",
    "Collector since the 80s; very particular about original paint. No machine polishing.",
    "Gate code on file. Usually picks up on Saturdays.",
    "Referred by the Lakeshore Motor Club.",
    "Wants photos after every detailing session.",
    "Insurance renews in March; ask for the new card.",
]

SPOUSE_FIRST_NAMES = ["Jordan", "Taylor", "Casey", "Morgan", "Riley", "Jamie", "Avery", "Quinn"]
CONTACT_NAMES = [
    "Chris Dalton", "Megan Foster", "Luis Ortega", "Hannah Weiss", "Derek Sloan", "Anita Desai",
    "Paul Mercer", "Rachel Lin", "Kevin Shaw", "Teresa Gomez", "Brian Holt", "Yuki Tanaka",
    "Owen Fletcher", "Claire Dubois", "Marcus Bell", "Sandra Pike", "Ivan Horvat", "Leah Carter",
    "Tom Gallagher", "Fatima Haddad", "Greg Wilson", "Irene Costa", "Noah Reyes", "Beth Monroe",
    "Oscar Lindgren", "Diane Park", "Ray Patel", "Helen Brooks", "Simon Clarke", "Zoe Mitchell",
    "Aaron Fischer", "Vera Kowalski", "Miles Duncan", "Ruth Ellison", "Jack Rowan", "Amy Tran",
    "Caleb Young", "Nora Quinlan", "Peter Sato", "Lucy Hammond",
]  # fmt: skip
CONTACT_ROLES = [
    ContactRole.ASSISTANT,
    ContactRole.BOOKKEEPER,
    ContactRole.VEHICLE_HANDLER,
    ContactRole.DRIVER,
]

STREETS = [
    "N Lake Shore Dr", "W Armitage Ave", "N Sheridan Rd", "W Fullerton Pkwy", "Green Bay Rd",
    "N Clark St", "W Belmont Ave", "Forest Ave", "Maple St", "W Chicago Ave", "Elm St",
    "N Halsted St", "Deerpath Rd", "Central St", "Washington Blvd",
]  # fmt: skip
CITIES = [
    ("Chicago", "IL", "60614"),
    ("Chicago", "IL", "60657"),
    ("Evanston", "IL", "60201"),
    ("Oak Park", "IL", "60302"),
    ("Winnetka", "IL", "60093"),
    ("Lake Forest", "IL", "60045"),
    ("Hinsdale", "IL", "60521"),
    ("Naperville", "IL", "60540"),
    ("Milwaukee", "WI", "53202"),
    ("Highland Park", "IL", "60035"),
]
AREA_CODES = ["312", "773", "847", "630", "414"]


class CarModel(NamedTuple):
    """A make and model with its production years and VIN prefix (WMI or chassis prefix)."""

    make: str
    model: str
    first_year: int
    last_year: int
    vin_prefix: str


CAR_MODELS = [
    CarModel("Porsche", "356A Speedster", 1956, 1958, "8"),
    CarModel("Porsche", "911 S", 1969, 1973, "9113"),
    CarModel("Porsche", "911 Carrera 3.2", 1984, 1989, "WP0"),
    CarModel("Porsche", "911 Turbo (993)", 1996, 1998, "WP0"),
    CarModel("Jaguar", "E-Type Series 1 Roadster", 1961, 1967, "1E"),
    CarModel("Jaguar", "XJS V12 Convertible", 1989, 1995, "SAJ"),
    CarModel("Mercedes-Benz", "280 SL", 1968, 1971, "11304412"),
    CarModel("Mercedes-Benz", "300 SL Roadster", 1957, 1963, "19804210"),
    CarModel("Mercedes-Benz", "560 SL", 1986, 1989, "WDB"),
    CarModel("Chevrolet", "Corvette Sting Ray", 1963, 1967, "194677S"),
    CarModel("Chevrolet", "Corvette ZR-1", 1990, 1995, "1G1"),
    CarModel("Ford", "Mustang Fastback", 1965, 1968, "6R09K"),
    CarModel("Ford", "GT", 2005, 2006, "1FA"),
    CarModel("Shelby", "GT350", 1965, 1967, "SFM6S"),
    CarModel("Aston Martin", "DB5", 1963, 1965, "DB5"),
    CarModel("Aston Martin", "V8 Vantage", 2006, 2012, "SCF"),
    CarModel("Ferrari", "308 GTS", 1977, 1980, "F106AS"),
    CarModel("Ferrari", "Testarossa", 1985, 1991, "ZFF"),
    CarModel("Ferrari", "F355 Spider", 1995, 1999, "ZFF"),
    CarModel("Lamborghini", "Countach 5000 QV", 1985, 1988, "ZA9"),
    CarModel("Lamborghini", "Diablo VT", 1993, 1998, "ZA9"),
    CarModel("BMW", "2002 tii", 1971, 1975, "27"),
    CarModel("BMW", "M3 (E30)", 1988, 1991, "WBS"),
    CarModel("Datsun", "240Z", 1970, 1973, "HLS30"),
    CarModel("Austin-Healey", "3000 Mk III", 1964, 1967, "HBJ8L"),
    CarModel("Alfa Romeo", "Giulia Sprint GT", 1963, 1968, "AR"),
    CarModel("Toyota", "Land Cruiser FJ40", 1970, 1980, "FJ40"),
    CarModel("Pontiac", "GTO", 1967, 1969, "242677"),
    CarModel("Triumph", "TR6", 1969, 1976, "CP"),
    CarModel("Acura", "NSX", 1991, 1996, "JH4"),
    CarModel("Dodge", "Viper RT/10", 1992, 1996, "1B3"),
    CarModel("Lotus", "Esprit Turbo SE", 1989, 1993, "SCC"),
]
COLORS = [
    "Guards Red", "Rosso Corsa", "British Racing Green", "Silver Metallic", "Black", "Ivory",
    "Marina Blue", "Grand Prix White", "Opalescent Silver Blue", "Signal Yellow", "Midnight Blue",
    "Carmine Red", "Pastel Blue", "Sable Brown",
]  # fmt: skip
CAR_NOTES = [
    "Battery on a tender; start monthly, do not drive.",
    "Original tyres kept for concours; swap to the drivers before any road use.",
    "Small oil weep at the rear main seal; keep the drip tray in place.",
    "Owner supplies their own car cover.",
    "Key and spare in the key safe, slot 14.",
]
ON_SITE = (CarStatus.IN_STORAGE, CarStatus.IN_SERVICE)
STATUS_WEIGHTS = {
    CarStatus.IN_STORAGE: 10,
    CarStatus.IN_SERVICE: 2,
    CarStatus.CHECKED_OUT: 2,
    CarStatus.WITH_OWNER: 2,
    CarStatus.IN_TRANSIT: 1,
}
LATER_EVENTS = {
    CarEventKind.SERVICE: 3,
    CarEventKind.DETAILING: 3,
    CarEventKind.PHOTO_SESSION: 1,
    CarEventKind.NOTE: 3,
}
EVENT_NOTES = {
    CarEventKind.CHECK_IN: ["Arrived on an enclosed trailer.", "Driven in by the owner."],
    CarEventKind.SERVICE: [
        "Oil and filter change, fluids topped up.",
        "Brakes bled, new front pads.",
        "Carburettors balanced, idle adjusted.",
        "Coolant flushed and replaced.",
    ],
    CarEventKind.DETAILING: [
        "Hand wash, clay bar and carnauba wax.",
        "Interior leather cleaned and conditioned.",
        "Single-stage paint correction on the bonnet.",
    ],
    CarEventKind.PHOTO_SESSION: [
        "Studio photos: 42 images uploaded.",
        "Outdoor session at golden hour for the auction listing.",
    ],
    CarEventKind.NOTE: [
        "Tyre pressures checked and adjusted to 35 psi.",
        "Started and idled to temperature.",
        "Moved to a new bay for the floor resealing.",
    ],
    CarEventKind.CHECK_OUT: ["Collected by the owner.", "Released to the transporter."],
}
INTERNAL_NOTES = [
    "Owner asked us not to mention the paint chip to his wife.",
    "Check the invoice before release: balance outstanding.",
    "Slow leak in the rear left tyre; monitor weekly.",
]
CONDITION_AREAS = [
    "Front bumper", "Bonnet", "Driver door", "Passenger door", "Rear bumper", "Roof",
    "Windshield", "Wheels and tyres", "Seats", "Dashboard", "Engine bay", "Undercarriage",
]  # fmt: skip
CONDITION_NOTES = {
    5: ["No issues.", "Excellent, as delivered."],
    4: ["Light stone chips.", "Minor swirl marks.", "Slight wear, in keeping with age."],
    3: ["Small dent, about 2 cm.", "Clear coat hazing.", "Faded trim."],
    2: ["Surface rust on the lower edge.", "Crack in the vinyl.", "Deep scratch, to primer."],
}


class LineTemplate(NamedTuple):
    """A priced line to draw invoice and estimate lines from."""

    kind: LineKind
    description: str
    quantities: tuple[int, ...]
    unit_price: int
    unit_cost: int | None
    tax_rate_bp: int


# fmt: off
INVOICE_LINES = [
    LineTemplate(LineKind.STORAGE, "Indoor storage, climate-controlled (months)", (1000, 3000),
                 45000, None, 0),
    LineTemplate(LineKind.STORAGE, "Covered storage (months)", (1000, 2000), 18500, None, 0),
    LineTemplate(LineKind.FEE, "Battery tender and tyre care", (1000,), 3500, None, 0),
    LineTemplate(LineKind.LABOUR, "Full detail: wash, clay, polish, wax (hours)", (3000, 4500),
                 9500, None, TAX_BP),
    LineTemplate(LineKind.LABOUR, "Oil and filter change (hours)", (1000, 1500), 12000, None,
                 TAX_BP),
    LineTemplate(LineKind.LABOUR, "Paint correction, two-stage (hours)", (2500, 6000), 11000,
                 None, TAX_BP),
    LineTemplate(LineKind.PARTS, "Castrol Classic XL 20W-50, 5 qt", (1000, 2000), 6400, 4100,
                 TAX_BP),
    LineTemplate(LineKind.PARTS, "Oil filter (OEM)", (1000,), 2800, 1450, TAX_BP),
    LineTemplate(LineKind.PARTS, "Wiper blades, pair", (1000,), 4200, 2300, TAX_BP),
    LineTemplate(LineKind.FEE, "Enclosed transport, Chicagoland", (1000,), 35000, 22000, 0),
    LineTemplate(LineKind.FEE, "After-hours release", (1000,), 7500, None, 0),
]
ESTIMATE_LINES = [
    LineTemplate(LineKind.LABOUR, "Brake system overhaul (hours)", (4000, 6000), 13500, None,
                 TAX_BP),
    LineTemplate(LineKind.PARTS, "Brake pads and rotors, front", (1000,), 68000, 41000, TAX_BP),
    LineTemplate(LineKind.LABOUR, "Carburettor rebuild and synchronisation (hours)", (5000,),
                 13500, None, TAX_BP),
    LineTemplate(LineKind.PARTS, "Carburettor rebuild kit", (1000, 2000), 18500, 9800, TAX_BP),
    LineTemplate(LineKind.LABOUR, "Ceramic coating, full exterior (hours)", (8000,), 11000,
                 None, TAX_BP),
    LineTemplate(LineKind.PARTS, "Tyres, set of four, period-correct", (1000,), 148000, 112000,
                 TAX_BP),
    LineTemplate(LineKind.LABOUR, "Tyre mounting and balancing (hours)", (1500,), 12000, None,
                 TAX_BP),
    LineTemplate(LineKind.LABOUR, "Paintless dent repair, driver door (hours)", (2000,), 12500,
                 None, TAX_BP),
    LineTemplate(LineKind.FEE, "Shop supplies", (1000,), 4500, None, 0),
    LineTemplate(LineKind.FEE, "Enclosed transport to the paint shop", (1000,), 35000, 22000, 0),
]
# fmt: on
# How many days ago sent invoices were issued, by status: some open ones are overdue.
INVOICE_AGE_DAYS = {
    InvoiceStatus.OPEN: (3, 60),
    InvoiceStatus.PARTIALLY_PAID: (3, 50),
    InvoiceStatus.PAID: (30, 330),
    InvoiceStatus.VOID: (20, 330),
}
INVOICE_NOTES = [
    "Thank you for storing with Harbor Classic.",
    "Payment is due within 30 days.",
    None,
    None,
]
DECLINE_REASONS = [
    "We will wait until spring.",
    "Too expensive for now; please quote the essentials only.",
    "The car is being sold.",
]
ESTIMATE_NOTES = [
    "Prices include pick-up from and return to our facility.",
    "Parts prices are valid for 30 days.",
    None,
]
RECOMMENDATIONS = [
    "We recommend replacing the brake fluid at the same time.",
    "The rear tyres date from 2009; consider replacing them next season.",
    "A paint protection film on the front end would prevent further stone chips.",
    None,
]

APPOINTMENT_TITLES = {
    AppointmentKind.DROP_OFF: ["Drop-off for winter storage", "Drop-off after the rally"],
    AppointmentKind.PICK_UP: ["Pick-up for a weekend drive", "Pick-up for the car show"],
    AppointmentKind.SERVICE: ["Annual service", "Brake inspection", "Carburettor tune-up"],
    AppointmentKind.DETAILING: ["Seasonal detailing", "Full detail before the concours"],
    AppointmentKind.INSPECTION: ["Pre-purchase inspection", "Insurance appraisal"],
    AppointmentKind.PHOTO_SESSION: ["Photo session for the auction listing", "Studio photos"],
    AppointmentKind.OTHER: ["Storage consultation", "Collection walkthrough"],
}
APPOINTMENT_MINUTES = {
    AppointmentKind.DROP_OFF: 30,
    AppointmentKind.PICK_UP: 30,
    AppointmentKind.SERVICE: 180,
    AppointmentKind.DETAILING: 240,
    AppointmentKind.INSPECTION: 90,
    AppointmentKind.PHOTO_SESSION: 120,
    AppointmentKind.OTHER: 60,
}
APPOINTMENT_WEIGHTS = [3, 3, 3, 3, 2, 2, 1]  # in AppointmentKind order

MESSAGE_THREADS: list[list[tuple[ActorKind, str]]] = [
    [
        (ActorKind.CUSTOMER, "Hi, could you have the {car} ready for pick-up on Saturday morning?"),
        (ActorKind.STAFF, "Of course. It will be washed and on the charger by 9 am."),
        (ActorKind.CUSTOMER, "Perfect, thank you!"),
    ],
    [
        (ActorKind.STAFF, "The {car} is back from the paint shop. Photos are in the portal."),
        (ActorKind.CUSTOMER, "Great work. Please keep it on the tender until spring."),
    ],
    [
        (ActorKind.CUSTOMER, "Did my new insurance card come through? I uploaded it last week."),
        (ActorKind.STAFF, "Got it, thanks. It is on file now."),
    ],
    [
        (ActorKind.STAFF, "The front tyres on the {car} show sidewall cracks. Shall we quote?"),
        (ActorKind.CUSTOMER, "Yes please, period-correct if possible."),
        (ActorKind.STAFF, "Will do. An estimate is on its way."),
    ],
    [
        (ActorKind.CUSTOMER, "Can I bring a friend to see the {car} next Thursday afternoon?"),
        (ActorKind.STAFF, "Absolutely. Visiting hours are 10 to 4; check in at the front desk."),
    ],
]
CONTRACT_TERMS = """\
Storage Agreement between {org} ("the Facility") and {customer} ("the Owner").

1. Vehicle. The Owner stores the {car} at the Facility's premises.
2. Fees. Storage is billed monthly in advance at the rate on the Owner's invoice.
3. Care. The Facility keeps the vehicle indoors, on a battery tender, and checks tyre
   pressures monthly. The vehicle is not driven except to move it within the premises.
4. Insurance. The Owner keeps the vehicle insured and provides a current insurance card.
5. Release. The vehicle is released to the Owner or a person the Owner names in writing,
   once all invoices are paid.
6. Term. This agreement renews monthly until either party ends it with 30 days' notice.
"""
SIGNER_USER_AGENT = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Safari/605.1.15"
)

# One title for every storage agreement, so the onboarding step can name it (titles match
# exactly; the car is on the contract itself).
AGREEMENT_TITLE = "Storage agreement"
WAIVER_TEXT = """\
Liability Waiver between {org} ("the Facility") and {customer} ("the Owner").

1. The Owner allows the Facility's staff to move, start and briefly drive the Owner's
   vehicles within the premises and on test drives of up to five miles after service.
2. The Facility is not liable for wear consistent with normal storage, such as tyre
   flat-spotting or the ageing of rubber seals.
3. The Owner keeps the vehicles insured for their agreed value while they are stored.
"""
PICTURED_DOCUMENTS = (DocumentKind.INSURANCE_CARD, DocumentKind.PHOTO)

PHOTO_CAPTIONS = [
    "Driver side on arrival",
    "Passenger side, in the bay",
    "Under the studio lights for the insurance file",
    "After the seasonal detail",
    "Ready for the weekend",
]


class JobPlan(NamedTuple):
    """A job to show: what it is, and what the customer is told about it."""

    kind: JobKind
    title: str
    customer_notes: str
    hours: int


COMPLETED_JOBS = [
    JobPlan(
        JobKind.DETAILING,
        "Full detail before the concours",
        "Hand wash, clay bar, two-stage polish and carnauba wax. The paint came up "
        "beautifully; the before and after photos are in the gallery.",
        6,
    ),
    JobPlan(
        JobKind.SERVICE,
        "Annual service",
        "Oil and filter changed, brakes inspected (pads at 70%), fluids topped up. "
        "Ready for the season.",
        3,
    ),
    JobPlan(
        JobKind.DETAILING,
        "Interior refresh",
        "Leather cleaned and conditioned, carpets shampooed, brightwork polished.",
        4,
    ),
    JobPlan(
        JobKind.SERVICE,
        "Carburettor tune-up",
        "Carburettors balanced and the idle set; it starts first time and pulls cleanly.",
        3,
    ),
]
OPEN_JOB = JobPlan(
    JobKind.REPAIR,
    "Brake system overhaul",
    "The calipers are off for rebuilding; we expect to finish this week.",
    8,
)
SCHEDULED_JOB = JobPlan(
    JobKind.SERVICE,
    "Spring recommissioning",
    "Fluids, tyre pressures and a short road test before the car goes back to you.",
    3,
)
JOB_CAPTIONS = {
    PhotoStage.BEFORE: ["On arrival", "Swirl marks under the inspection light"],
    PhotoStage.PROGRESS: ["Halfway there"],
    PhotoStage.AFTER: ["Finished", "Back in the bay"],
}
DIRT = {PhotoStage.BEFORE: 1.0, PhotoStage.PROGRESS: 0.5, PhotoStage.AFTER: 0.0}

# (name, every months, every miles)
SCHEDULES = [
    ("Oil and filter change", 12, 3000),
    ("Brake fluid flush", 24, None),
    ("Tyre inspection", 6, None),
    ("Coolant replacement", 24, None),
    ("Battery check", 3, None),
]
FACILITY = (41.8868, -87.6813)  # 2150 W Fulton St, Chicago

ONBOARDING = [
    (OnboardingStepKind.SIGN_CONTRACT, "Sign the storage agreement"),
    (OnboardingStepKind.ADD_PAYMENT_METHOD, "Save a card for your bills"),
    (OnboardingStepKind.COMPLETE_PROFILE, "Check your contact details"),
    (OnboardingStepKind.CONFIRM_PREFERENCES, "Choose the emails you get"),
]
UPCOMING_EVENT = (
    "Cars & Coffee at the Harbor",
    "Coffee, pastries and the collection out of storage for the morning. Bring a friend; "
    "the cars stay behind the ropes.",
)
PAST_EVENT = (
    "Autumn drive to Lake Geneva",
    "A gentle 80-mile run up the lakeshore with lunch at the Riviera.",
)

VIN_CHARACTERS = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"
VIN_YEAR_CODES = "ABCDEFGHJKLMNPRSTVWXY123456789"  # 1980, 1981, ... repeating every 30 years


@dataclass
class Demo:
    """The generator's state: the random source, the clock, and the rows built so far."""

    rng: random.Random
    now: datetime
    org: Organization
    owner: StaffUser
    staff: StaffUser
    rows: list[SQLModel] = field(default_factory=list)
    files: list[DemoFile] = field(default_factory=list)
    vins: set[str] = field(default_factory=set)
    emails: set[str] = field(default_factory=set)
    bays: set[str] = field(default_factory=set)
    phones: Iterator[int] = field(default_factory=itertools.count)

    @property
    def org_id(self) -> uuid.UUID:
        return self.org.id

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.org.timezone)

    @property
    def today(self) -> date:
        """Today in the organization's time zone."""
        return self.local_day(self.now)

    def local_day(self, moment: datetime) -> date:
        return moment.astimezone(self.zone).date()

    def at(self, day: date, hour: int, minute: int = 0) -> datetime:
        """A local wall-clock time on `day`, as an aware UTC datetime."""
        return datetime.combine(day, time(hour, minute), tzinfo=self.zone).astimezone(UTC)

    def days_ago(self, low: int, high: int) -> datetime:
        """A moment during business hours between `low` and `high` days ago (low >= 1)."""
        day = self.today - timedelta(days=self.rng.randint(low, high))
        return self.at(day, self.rng.randint(8, 17), self.rng.choice((0, 15, 30, 45)))

    def staff_member(self) -> StaffUser:
        return self.rng.choice((self.owner, self.staff))

    def phone(self) -> str:
        number = next(self.phones)
        # Stored as E.164, as the API stores every person's number (core/phones.py).
        return f"+1{AREA_CODES[number % len(AREA_CODES)]}55501{number % 100:02d}"

    def add(self, *rows: SQLModel) -> None:
        self.rows.extend(rows)

    def store(self, folder: str, data: bytes, content_type: str) -> dict[str, Any]:
        """A new file for `replace_demo` to store, as the columns of the row naming it."""
        key = new_key(self.org_id, folder)
        self.files.append(DemoFile(key, data, content_type))
        return {
            "content_type": content_type,
            "size_bytes": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
            "storage_key": key,
        }


class Built(NamedTuple):
    """The demo: its rows, and the files they name."""

    rows: list[SQLModel]
    files: list[DemoFile]


@dataclass
class Account:
    """A customer with the cars they own."""

    customer: Customer
    cars: list[Car] = field(default_factory=list)


class Stamps(TypedDict):
    created_at: datetime
    updated_at: datetime


def stamped(when: datetime) -> Stamps:
    """created_at/updated_at keyword arguments for a row made at `when`."""
    return {"created_at": when, "updated_at": when}


def sent_at(bill: Invoice | Estimate) -> datetime:
    """When a bill that was sent was sent (bills are numbered in that order)."""
    assert bill.sent_at is not None
    return bill.sent_at


def email_for(name: str) -> str:
    """`firstname.lastname@example.com` from a name."""
    words = "".join(ch for ch in name.lower() if ch.isalnum() or ch == " ").split()
    return ".".join(words) + "@example.com"


def car_label(car: Car) -> str:
    return f"{car.year} {car.make} {car.model}"


def make_vin(rng: random.Random, model: CarModel, year: int) -> str:
    """A chassis number for pre-1981 cars, else a 17-character VIN with a valid check digit."""
    if year < 1981:
        return model.vin_prefix + "".join(rng.choices("0123456789", k=6))
    descriptor = "".join(rng.choices(VIN_CHARACTERS, k=5))
    year_code = VIN_YEAR_CODES[(year - 1980) % len(VIN_YEAR_CODES)]
    plant = rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ")
    serial = "".join(rng.choices("0123456789", k=6))
    draft = f"{model.vin_prefix}{descriptor}0{year_code}{plant}{serial}"
    return draft[:8] + vin_check_digit(draft) + draft[9:]


def priced_line(rng: random.Random, template: LineTemplate) -> dict[str, Any]:
    """Column values for a line drawn from `template`, amounts computed by the money rules."""
    quantity = rng.choice(template.quantities)
    amounts = line_amounts(quantity, template.unit_price, template.tax_rate_bp)
    return {
        "kind": template.kind,
        "description": template.description,
        "quantity_milli": quantity,
        "unit_price": template.unit_price,
        "unit_cost": template.unit_cost,
        "tax_rate_bp": template.tax_rate_bp,
        "subtotal": amounts.subtotal,
        "tax": amounts.tax,
        "total": amounts.total,
    }


def totals_of(lines: Sequence[InvoiceLine | EstimateLine]) -> dict[str, int]:
    totals = bill_totals(LineAmounts(line.subtotal, line.tax, line.total) for line in lines)
    return {"subtotal": totals.subtotal, "tax_total": totals.tax_total, "total": totals.total}


def status_deck(
    rng: random.Random, statuses: Sequence[Any], weights: Sequence[int], n: int
) -> list[Any]:
    """`n` statuses in random order, each of `statuses` at least once."""
    deck = list(statuses) + rng.choices(statuses, weights=weights, k=max(n - len(statuses), 0))
    rng.shuffle(deck)
    return deck


# Organization and staff


def organization(now: datetime) -> Organization:
    return Organization(
        name=DEMO_NAME,
        slug=DEMO_SLUG,
        email="hello@harborclassic.example.com",
        phone="(312) 555-0100",
        address="2150 W Fulton St, Chicago, IL 60612",
        brand_color="#1f3a5f",
        accent_color="#d4a017",
        timezone="America/Chicago",
        currency=CURRENCY,
        **stamped(now - timedelta(days=1600)),
    )


def staff_user(org: Organization, name: str, email: str, role: StaffRole, hashed: str) -> StaffUser:
    return StaffUser(
        organization_id=org.id,
        name=name,
        email=email,
        role=role,
        password_hash=hashed,
        created_at=org.created_at,
        updated_at=org.created_at,
    )


def other_staff(org: Organization, hashed: str) -> list[StaffUser]:
    """The rest of the team, so that every role and every account status shows: an ADMIN,
    a STAFF member invited who has not chosen a password yet (resend or cancel the invite),
    and one who left (deactivated, history kept)."""
    admin = staff_user(org, "Priya Natarajan", ADMIN_EMAIL, StaffRole.ADMIN, hashed)
    invited = staff_user(org, "Sam Okafor", "sam@demo.portico.test", StaffRole.STAFF, hashed)
    invited.password_hash, invited.status, invited.is_active = None, StaffStatus.INVITED, False
    left = staff_user(org, "Jordan Lee", "jordan@demo.portico.test", StaffRole.STAFF, hashed)
    left.status, left.is_active = StaffStatus.DEACTIVATED, False
    return [admin, invited, left]


# Customers, contacts and cars


def customer(demo: Demo, name: str, company: str | None) -> Customer:
    rng = demo.rng
    city, region, postal_code = rng.choice(CITIES)
    demo.emails.add(email_for(name))
    return Customer(
        organization_id=demo.org_id,
        name=name,
        company=company,
        email=email_for(name),
        phone=demo.phone(),
        address_line1=f"{rng.randint(100, 4999)} {rng.choice(STREETS)}",
        address_line2=f"Suite {rng.randint(100, 900)}" if company else None,
        city=city,
        region=region,
        postal_code=postal_code,
        country="US",
        internal_notes=rng.choice(CUSTOMER_NOTES) if rng.random() < 0.3 else None,
        wants_social_events=rng.random() < 0.4,
        **stamped(demo.days_ago(400, 1500)),
    )


def set_portal_access(demo: Demo, person: Customer | Contact, status: PortalStatus) -> None:
    """Mark a customer or contact invited (and, for ACTIVE, signed in since)."""
    invited = demo.days_ago(20, 300)
    person.portal_status = status
    person.portal_invited_at = invited
    person.portal_email = person.email  # invited at this address
    if status is PortalStatus.ACTIVE:
        person.portal_activated_at = invited + timedelta(hours=demo.rng.randint(1, 72))


def car(demo: Demo, owner: Customer | None) -> Car:
    rng = demo.rng
    model = rng.choice(CAR_MODELS)
    year = rng.randint(model.first_year, model.last_year)
    vin = make_vin(rng, model, year)
    while vin in demo.vins:
        vin = make_vin(rng, model, year)
    demo.vins.add(vin)
    status = rng.choices(list(STATUS_WEIGHTS), weights=list(STATUS_WEIGHTS.values()))[0]
    if owner is not None and owner.archived_at is not None:
        status = CarStatus.WITH_OWNER
    letters = "ABCDEFGHJKLMNPRSTUVWXYZ"
    return Car(
        organization_id=demo.org_id,
        customer_id=owner.id if owner else None,
        make=model.make,
        model=model.model,
        year=year,
        vin=vin,
        license_plate=f"{rng.choice(letters)}{rng.choice(letters)} {rng.randint(10000, 99999)}",
        color=rng.choice(COLORS),
        status=status,
        mileage=rng.randint(2_000, 40_000) if year >= 1990 else rng.randint(8_000, 140_000),
        storage_location=bay(demo) if status in ON_SITE else None,
        internal_notes=rng.choice(CAR_NOTES) if rng.random() < 0.25 else None,
        **stamped(owner.created_at if owner else demo.days_ago(60, 300)),
    )


def bay(demo: Demo) -> str:
    """A free storage bay such as `Bay A-12`."""
    while True:
        name = f"Bay {demo.rng.choice('ABCD')}-{demo.rng.randint(1, 24)}"
        if name not in demo.bays:
            demo.bays.add(name)
            return name


def car_history(demo: Demo, car: Car) -> None:
    """Check-in, then 1-5 later events in the past, and 0-2 condition reports."""
    rng = demo.rng
    check_in_day = demo.local_day(car.created_at) + timedelta(days=rng.randint(0, 30))
    checked_in = demo.at(check_in_day, rng.randint(8, 17))
    later = rng.randint(1, 5)
    span = (demo.today - check_in_day).days - 1
    days = [check_in_day + timedelta(days=rng.randint(1, span)) for _ in range(later)]
    moments = sorted(demo.at(day, rng.randint(8, 17), rng.choice((0, 30))) for day in days)
    kinds = rng.choices(list(LATER_EVENTS), weights=list(LATER_EVENTS.values()), k=later)
    if car.status in (CarStatus.CHECKED_OUT, CarStatus.WITH_OWNER):
        kinds[-1] = CarEventKind.CHECK_OUT
    mileage = car.mileage or 0
    events = [car_event(demo, car, CarEventKind.CHECK_IN, checked_in, {"mileage": mileage - 40})]
    for kind, moment in zip(kinds, moments, strict=True):
        events.append(car_event(demo, car, kind, moment, {}))
    demo.add(*events)
    for moment in sorted(rng.sample([checked_in, *moments], k=rng.randint(0, 2))):
        demo.add(condition_report(demo, car, moment))


def car_event(
    demo: Demo, car: Car, kind: CarEventKind, when: datetime, data: dict[str, Any]
) -> CarEvent:
    internal = kind is CarEventKind.NOTE and demo.rng.random() < 0.3
    notes = demo.rng.choice(INTERNAL_NOTES if internal else EVENT_NOTES[kind])
    return CarEvent(
        organization_id=demo.org_id,
        car_id=car.id,
        kind=kind,
        occurred_at=when,
        notes=notes,
        internal=internal,
        staff_user_id=demo.staff_member().id,
        data=data,
        **stamped(when),
    )


def condition_report(demo: Demo, car: Car, when: datetime) -> ConditionReport:
    rng = demo.rng
    items: list[dict[str, Any]] = []
    for area in rng.sample(CONDITION_AREAS, k=rng.randint(3, 6)):
        rating = rng.choices([5, 4, 3, 2], weights=[4, 4, 2, 1])[0]
        items.append({"area": area, "rating": rating, "notes": rng.choice(CONDITION_NOTES[rating])})
    worst = min(item["rating"] for item in items)
    summary = "Excellent overall." if worst >= 4 else "Good overall; see the noted areas."
    inspector = demo.staff_member()
    return ConditionReport(
        organization_id=demo.org_id,
        car_id=car.id,
        inspected_at=when,
        inspector_staff_id=inspector.id,
        inspector_name=inspector.name,
        mileage=car.mileage,
        summary=summary,
        items=items,
        **stamped(when),
    )


def contact(
    demo: Demo, owner: Customer, name: str, role: ContactRole, *, scope: PortalScope | None = None
) -> Contact:
    """A contact; `scope` gives them portal access limited to that scope."""
    has_email = scope is not None or demo.rng.random() < 0.7
    if has_email:
        demo.emails.add(email_for(name))
    person = Contact(
        organization_id=demo.org_id,
        customer_id=owner.id,
        name=name,
        email=email_for(name) if has_email else None,
        phone=demo.phone(),
        role=role,
        can_access_portal=scope is not None,
        portal_scope=scope or PortalScope.EVERYTHING,
        **stamped(owner.created_at + timedelta(days=demo.rng.randint(1, 60))),
    )
    if scope is not None:
        set_portal_access(
            demo, person, demo.rng.choice([PortalStatus.INVITED, PortalStatus.ACTIVE])
        )
    return person


def contacts(demo: Demo, accounts: list[Account]) -> None:
    """0-3 contacts per customer, plus a CARS-scoped driver and a BILLING-scoped bookkeeper."""
    rng = demo.rng
    names = list(CONTACT_NAMES)
    rng.shuffle(names)
    for account in accounts:
        owner = account.customer
        for _ in range(rng.choice((0, 0, 1, 1, 2, 3))):
            if owner.company is None and rng.random() < 0.35:
                first, last = rng.choice(SPOUSE_FIRST_NAMES), owner.name.split()[-1]
                name = f"{first} {last}"
                if first == last or email_for(name) in demo.emails:
                    continue
                scope = PortalScope.EVERYTHING if rng.random() < 0.5 else None
                demo.add(contact(demo, owner, name, ContactRole.SPOUSE, scope=scope))
            else:
                demo.add(contact(demo, owner, names.pop(), rng.choice(CONTACT_ROLES)))
    driven = next(a for a in accounts if a.cars and a.customer.archived_at is None)
    driver = contact(demo, driven.customer, names.pop(), ContactRole.DRIVER, scope=PortalScope.CARS)
    demo.add(
        driver,
        ContactCar(organization_id=demo.org_id, contact_id=driver.id, car_id=driven.cars[0].id),
    )
    business = next(a for a in accounts if a.customer.company is not None)
    demo.add(
        contact(
            demo, business.customer, names.pop(), ContactRole.BOOKKEEPER, scope=PortalScope.BILLING
        )
    )


# Billing


def invoices(demo: Demo, accounts: list[Account]) -> list[Invoice]:
    """About two invoices per customer, in every status; the archived customer's are paid."""
    rng = demo.rng
    plan: list[Account] = []
    for account in accounts:
        count = 1 if account.customer.archived_at else rng.choice((1, 2, 2, 3))
        plan.extend([account] * count)
    active = [a for a in plan if a.customer.archived_at is None]
    weights = [2, 3, 2, 6, 1]  # DRAFT, OPEN, PARTIALLY_PAID, PAID, VOID
    statuses = [s for s in InvoiceStatus if s is not InvoiceStatus.CREDITED]  # by credit notes
    deck = iter(status_deck(rng, statuses, weights, len(active)))
    made = []
    for account in plan:
        status = InvoiceStatus.PAID if account.customer.archived_at else next(deck)
        made.append(invoice(demo, account, status))
    numbered = sorted((i for i in made if i.sent_at is not None), key=sent_at)
    for number, item in enumerate(numbered, start=FIRST_INVOICE_NUMBER):
        item.number = number
    return made


def invoice(demo: Demo, account: Account, status: InvoiceStatus) -> Invoice:
    rng = demo.rng
    owner = account.customer
    row = Invoice(
        organization_id=demo.org_id,
        customer_id=owner.id,
        car_id=rng.choice(account.cars).id if account.cars else None,
        currency=CURRENCY,
        status=status,
        notes=rng.choice(INVOICE_NOTES),
    )
    lines = [
        InvoiceLine(
            organization_id=demo.org_id,
            invoice_id=row.id,
            position=position,
            **priced_line(rng, template),
        )
        for position, template in enumerate(rng.sample(INVOICE_LINES, k=rng.randint(1, 4)))
    ]
    for key, value in totals_of(lines).items():
        setattr(row, key, value)
    if status is InvoiceStatus.DRAFT:
        created = demo.days_ago(1, 6)
    else:
        days = (120, 330) if owner.archived_at else INVOICE_AGE_DAYS[status]
        created = demo.days_ago(*days)
        issued = demo.local_day(created)
        row.issue_date = issued
        row.due_date = issued + timedelta(days=30)
        row.sent_at = created + timedelta(minutes=rng.randint(5, 90))
    for line in lines:
        line.created_at = line.updated_at = created
    row.created_at = row.updated_at = created
    if status is InvoiceStatus.VOID:
        row.voided_at = created + timedelta(days=rng.randint(1, 10))
        row.internal_notes = "Issued for the wrong car; replaced."
    if status is InvoiceStatus.PAID:
        demo.add(row, *lines, payment(demo, row, row.total))
        row.amount_paid = row.total
    elif status is InvoiceStatus.PARTIALLY_PAID:
        part = row.total * rng.choice((30, 40, 50)) // 100 // 100 * 100 or row.total // 2
        demo.add(row, *lines, payment(demo, row, part))
        row.amount_paid = part
    else:
        demo.add(row, *lines)
    return row


def payment(demo: Demo, bill: Invoice, amount: int) -> Payment:
    rng = demo.rng
    assert bill.sent_at is not None
    method = rng.choices(list(PaymentMethod), weights=[4, 1, 2, 2])[0]
    received = min(bill.sent_at + timedelta(days=rng.randint(1, 20)), demo.now - timedelta(hours=2))
    references = {
        PaymentMethod.CHEQUE: f"Cheque #{rng.randint(1000, 9999)}",
        PaymentMethod.BANK_TRANSFER: f"ACH {rng.randint(100000, 999999)}",
    }
    online = method is PaymentMethod.CARD_ONLINE
    return Payment(
        organization_id=demo.org_id,
        customer_id=bill.customer_id,
        invoice_id=bill.id,
        amount=amount,
        currency=bill.currency,
        method=method,
        status=PaymentStatus.SUCCEEDED,
        reference=references.get(method),
        received_at=received,
        recorded_by_staff_id=None if online else demo.staff_member().id,
        **stamped(received),
    )


def estimates(demo: Demo, accounts: list[Account]) -> list[Estimate]:
    """One estimate for half the current customers, in every status."""
    rng = demo.rng
    current = [a for a in accounts if a.customer.archived_at is None]
    chosen = rng.sample(current, k=len(accounts) // 2)
    weights = [2, 3, 3, 2, 1]  # DRAFT, SENT, APPROVED, DECLINED, EXPIRED
    deck = status_deck(rng, list(EstimateStatus), weights, len(chosen))
    made = [estimate(demo, account, status) for account, status in zip(chosen, deck, strict=True)]
    numbered = sorted((e for e in made if e.sent_at is not None), key=sent_at)
    for number, item in enumerate(numbered, start=FIRST_ESTIMATE_NUMBER):
        item.number = number
    return made


def estimate(demo: Demo, account: Account, status: EstimateStatus) -> Estimate:
    rng = demo.rng
    row = Estimate(
        organization_id=demo.org_id,
        customer_id=account.customer.id,
        car_id=rng.choice(account.cars).id if account.cars else None,
        currency=CURRENCY,
        status=status,
        notes=rng.choice(ESTIMATE_NOTES),
        recommendations=rng.choice(RECOMMENDATIONS),
    )
    lines = [
        EstimateLine(
            organization_id=demo.org_id,
            estimate_id=row.id,
            position=position,
            optional=position > 0 and rng.random() < 0.3,
            **priced_line(rng, template),
        )
        for position, template in enumerate(rng.sample(ESTIMATE_LINES, k=rng.randint(2, 5)))
    ]
    for key, value in totals_of(lines).items():
        setattr(row, key, value)
    sent_days = {
        EstimateStatus.SENT: (1, 10),
        EstimateStatus.APPROVED: (10, 90),
        EstimateStatus.DECLINED: (10, 90),
        EstimateStatus.EXPIRED: (45, 120),
    }
    if status is EstimateStatus.DRAFT:
        created = demo.days_ago(1, 6)
    else:
        created = demo.days_ago(*sent_days[status])
        row.sent_at = created + timedelta(minutes=rng.randint(5, 90))
        row.valid_until = demo.local_day(row.sent_at) + timedelta(days=30)
        row.expires_at = end_of_day(row.valid_until, demo.org.timezone)
    if status is EstimateStatus.EXPIRED:
        row.status = EstimateStatus.SENT  # sent, unanswered, past its expiry: read as EXPIRED
    for line in lines:
        line.created_at = line.updated_at = created
    row.created_at = row.updated_at = created
    demo.add(row, *lines)
    if row.sent_at is None:
        return row
    snapshot = estimate_snapshot(row, lines)
    demo.add(
        EstimateVersion(
            organization_id=demo.org_id,
            estimate_id=row.id,
            version=1,
            snapshot=snapshot,
            **stamped(row.sent_at),
        )
    )
    if status in (EstimateStatus.APPROVED, EstimateStatus.DECLINED):
        row.decided_at = row.sent_at + timedelta(days=rng.randint(1, 5), hours=rng.randint(0, 8))
        approved = status is EstimateStatus.APPROVED
        line_ids = [str(line.id) for line in lines]
        demo.add(
            EstimateDecision(
                organization_id=demo.org_id,
                estimate_id=row.id,
                version=1,
                decision=EstimateDecisionKind.APPROVED
                if approved
                else EstimateDecisionKind.DECLINED,
                approved_line_ids=line_ids if approved else [],
                declined_line_ids=[] if approved else line_ids,
                approved_total=row.total if approved else 0,
                reason=None if approved else rng.choice(DECLINE_REASONS),
                customer_id=account.customer.id,
                snapshot=snapshot,
                **stamped(row.decided_at),
            )
        )
    return row


LATE_FEE = 2_500  # the demo's fixed late fee, after 5 days overdue, on its own invoice
DEMO_OVERDUE_DAYS = 9  # the invoice mid-dunning: steps -3, 0 and +7 sent, +14 to come


def collections(demo: Demo, bills: list[Invoice]) -> list[Invoice]:
    """The collection settings (monthly statements on, on the 1st: `load_demo` emails last
    month's), and an open invoice mid-dunning: 9 days overdue, three reminders sent (3 days
    before, on the due day, a week after), a late fee charged on its own invoice after 5
    days. The fee's invoice (returned) takes the next number."""
    demo.add(
        CollectionSettings(
            organization_id=demo.org_id,
            late_fee_kind=LateFeeKind.FIXED,
            late_fee_amount=LATE_FEE,
            late_fee_after_days=5,
            monthly_statements=True,
            statement_day=1,
        )
    )
    chased = next(
        (b for b in bills if b.status is InvoiceStatus.OPEN and b.due_date is not None), None
    )
    if chased is None:
        return []
    due = chased.due_date = demo.today - timedelta(days=DEMO_OVERDUE_DAYS)
    chased.issue_date = due - timedelta(days=30)
    for step in (-3, 0, 7):
        on = due + timedelta(days=step)
        demo.add(
            InvoiceReminder(
                organization_id=demo.org_id,
                invoice_id=chased.id,
                step=step,
                step_date=on,
                recipients=1,
                sent_at=demo.at(on, 6, 5),
            )
        )
    charged_on = due + timedelta(days=5)
    charged = demo.at(charged_on, 6, 5)
    fee_bill = Invoice(
        organization_id=demo.org_id,
        customer_id=chased.customer_id,
        car_id=chased.car_id,
        currency=chased.currency,
        status=InvoiceStatus.OPEN,
        number=max(b.number for b in bills if b.number is not None) + 1,
        issue_date=charged_on,
        due_date=charged_on + timedelta(days=14),
        sent_at=charged,
        subtotal=LATE_FEE,
        tax_total=0,
        total=LATE_FEE,
        created_at=charged,
        updated_at=charged,
    )
    line = InvoiceLine(
        organization_id=demo.org_id,
        invoice_id=fee_bill.id,
        position=0,
        kind=LineKind.FEE,
        description=f"Late fee on invoice #{chased.number}",
        quantity_milli=1000,
        unit_price=LATE_FEE,
        tax_rate_bp=0,
        subtotal=LATE_FEE,
        tax=0,
        total=LATE_FEE,
        created_at=charged,
        updated_at=charged,
    )
    fee = LateFee(
        organization_id=demo.org_id,
        customer_id=chased.customer_id,
        invoice_id=chased.id,
        period=1,
        amount=LATE_FEE,
        currency=chased.currency,
        base=chased.total - chased.amount_paid,
        charged_on=charged_on,
        fee_invoice_id=fee_bill.id,
        fee_line_id=line.id,
        created_at=charged,
    )
    demo.add(fee_bill, line, fee)
    return [fee_bill]


def credit_notes(demo: Demo, bills: list[Invoice]) -> None:
    """Two credit notes: half of an open invoice's first line as an amount (less is due),
    and a paid invoice's last line whole (the customer's credit)."""
    by_number = sorted((b for b in bills if b.number is not None), key=lambda b: b.number or 0)
    lines: dict[uuid.UUID, list[InvoiceLine]] = {}
    for row in demo.rows:
        if isinstance(row, InvoiceLine):
            lines.setdefault(row.invoice_id, []).append(row)
    chosen = [
        (InvoiceStatus.OPEN, 0, "Agreed discount: the detailing ran a day late."),
        (InvoiceStatus.PAID, -1, "Goodwill: charged for a service the car did not get."),
    ]
    number = 0
    for status, which, reason in chosen:
        bill = next((b for b in by_number if b.status is status and lines.get(b.id)), None)
        if bill is None:
            continue
        line = sorted(lines[bill.id], key=lambda x: x.position)[which]
        if line.subtotal <= 1:
            continue
        subtotal = line.subtotal // 2 if status is InvoiceStatus.OPEN else line.subtotal
        tax = divide_rounded(subtotal * line.tax_rate_bp, BASIS_POINTS)
        tax = line.tax if subtotal == line.subtotal else min(tax, line.tax)
        number += 1
        issued = demo.now - timedelta(days=2)
        note = CreditNote(
            organization_id=demo.org_id,
            customer_id=bill.customer_id,
            invoice_id=bill.id,
            number=number,
            reason=reason,
            issue_date=demo.local_day(issued),
            issued_by_staff_id=demo.owner.id,
            currency=bill.currency,
            subtotal=subtotal,
            tax_total=tax,
            total=subtotal + tax,
            created_at=issued,
            updated_at=issued,
        )
        credited = CreditNoteLine(
            organization_id=demo.org_id,
            credit_note_id=note.id,
            invoice_line_id=line.id,
            description=line.description,
            quantity_milli=line.quantity_milli if subtotal == line.subtotal else None,
            subtotal=subtotal,
            tax=tax,
            total=subtotal + tax,
            created_at=issued,
            updated_at=issued,
        )
        bill.credited_amount += note.total
        bill.status = status_for(bill.total, bill.amount_paid, bill.status, bill.credited_amount)
        demo.add(note, credited)
    demo.add(Counter(organization_id=demo.org_id, name="credit_note", last_value=number))


def discount(demo: Demo, bills: list[Invoice]) -> None:
    """A loyalty discount of 10 % on the first line of the first draft invoice."""
    draft = next((b for b in bills if b.status is InvoiceStatus.DRAFT), None)
    if draft is None:
        return
    lines = sorted(
        (r for r in demo.rows if isinstance(r, InvoiceLine) and r.invoice_id == draft.id),
        key=lambda line: line.position,
    )
    if not lines:
        return
    first = lines[0]
    amounts = line_amounts(first.quantity_milli, first.unit_price, first.tax_rate_bp, 1000)
    first.discount_bp, first.discount = 1000, amounts.discount
    first.subtotal, first.tax, first.total = amounts.subtotal, amounts.tax, amounts.total
    first.description = f"{first.description} (loyalty discount 10 %)"[:500]
    for key, value in totals_of(lines).items():
        setattr(draft, key, value)
    draft.discount_total = amounts.discount


def counters(demo: Demo, bills: list[Invoice], quotes: list[Estimate]) -> None:
    """The `invoice` and `estimate` counters at the last number used."""
    last_invoice = max((i.number for i in bills if i.number is not None), default=None)
    last_estimate = max((e.number for e in quotes if e.number is not None), default=None)
    demo.add(
        Counter(
            organization_id=demo.org_id,
            name="invoice",
            last_value=last_invoice or FIRST_INVOICE_NUMBER - 1,
        ),
        Counter(
            organization_id=demo.org_id,
            name="estimate",
            last_value=last_estimate or FIRST_ESTIMATE_NUMBER - 1,
        ),
    )


# Schedule, documents, messages, contracts


def appointments(demo: Demo, accounts: list[Account], count: int = 40) -> None:
    """Some past (completed) and mostly upcoming appointments in business hours."""
    rng = demo.rng
    current = [a for a in accounts if a.customer.archived_at is None]
    for index in range(count):
        account = rng.choice(current)
        kind = rng.choices(list(AppointmentKind), weights=APPOINTMENT_WEIGHTS)[0]
        past = index % 4 == 0
        offset = -rng.randint(1, 45) if past else rng.randint(1, 42)
        if past:
            status = AppointmentStatus.NO_SHOW if index == 8 else AppointmentStatus.COMPLETED
        elif index == 9:
            status = AppointmentStatus.CANCELLED
        else:
            status = AppointmentStatus.CONFIRMED if offset <= 7 else AppointmentStatus.SCHEDULED
        starts = demo.at(
            demo.today + timedelta(days=offset), rng.randint(8, 13), rng.choice((0, 30))
        )
        with_car = kind is not AppointmentKind.OTHER and account.cars
        demo.add(
            Appointment(
                organization_id=demo.org_id,
                customer_id=account.customer.id,
                car_id=rng.choice(account.cars).id if with_car else None,
                starts_at=starts,
                ends_at=starts + timedelta(minutes=APPOINTMENT_MINUTES[kind]),
                kind=kind,
                status=status,
                title=rng.choice(APPOINTMENT_TITLES[kind]),
                notes="Please bring the spare key." if rng.random() < 0.2 else None,
                internal_notes="Needs the lift in bay 2." if rng.random() < 0.2 else None,
                **stamped(min(starts, demo.now) - timedelta(days=rng.randint(3, 20))),
            )
        )


def appointment_due_a_reminder(demo: Demo, account: Account) -> None:
    """A confirmed appointment three hours from now: its reminder is due (the day before at
    09:00), so loading the demo queues it (`load_demo`)."""
    starts = demo.now.replace(second=0, microsecond=0) + timedelta(hours=3)
    demo.add(
        Appointment(
            organization_id=demo.org_id,
            customer_id=account.customer.id,
            car_id=account.cars[0].id if account.cars else None,
            starts_at=starts,
            ends_at=starts + timedelta(minutes=APPOINTMENT_MINUTES[AppointmentKind.PICK_UP]),
            kind=AppointmentKind.PICK_UP,
            status=AppointmentStatus.CONFIRMED,
            title="Pick-up for a weekend drive",
            **stamped(demo.now - timedelta(days=6)),
        )
    )


def documents(demo: Demo, account: Account) -> list[Document]:
    """1-3 documents: agreements and waivers as PDFs, insurance cards and photos of a car."""
    rng = demo.rng
    owner = account.customer
    kinds = [DocumentKind.STORAGE_AGREEMENT, DocumentKind.LIABILITY_WAIVER]
    if account.cars:
        kinds += list(PICTURED_DOCUMENTS)
    made = []
    for kind in rng.sample(kinds, k=rng.randint(1, min(3, len(kinds)))):
        title = kind.value.replace("_", " ").title()
        subject = rng.choice(account.cars) if kind in PICTURED_DOCUMENTS else None
        name = f"{title} - {car_label(subject) if subject else owner.name}"
        created = demo.days_ago(5, 380)
        data, content_type = document_file(demo, kind, name, owner, subject, created)
        made.append(
            Document(
                organization_id=demo.org_id,
                customer_id=owner.id,
                car_id=subject.id if subject else None,
                name=name,
                kind=kind,
                visible_in_portal=rng.random() < 0.8,
                uploaded_by_staff_id=demo.staff_member().id,
                **demo.store("documents", data, content_type),
                **stamped(created),
            )
        )
    demo.add(*made)
    return made


def document_file(
    demo: Demo, kind: DocumentKind, name: str, owner: Customer, subject: Car | None, when: datetime
) -> tuple[bytes, str]:
    """The bytes of a document and their type: a picture for cards and photos, else a PDF."""
    if kind is DocumentKind.INSURANCE_CARD:
        return card_picture(hex_colour(demo.org.brand_color)), "image/png"
    if kind is DocumentKind.PHOTO and subject is not None:
        return car_picture(paint(subject.color), sky=demo.rng.randrange(4)), "image/png"
    text = CONTRACT_TERMS if kind is DocumentKind.STORAGE_AGREEMENT else WAIVER_TEXT
    body = text.format(org=demo.org.name, customer=owner.name, car="vehicles on its invoices")
    data = paper(
        title=name, issuer=demo.org.name, subject=f"For {owner.name}", body=body, when=when
    )
    return data, "application/pdf"


def messages(demo: Demo, account: Account) -> None:
    """A short conversation between the customer and staff."""
    rng = demo.rng
    subject = car_label(account.cars[0]) if account.cars else "car"
    when = demo.days_ago(3, 40)
    thread = rng.choice(MESSAGE_THREADS)
    for position, (author, text) in enumerate(thread):
        last = position == len(thread) - 1
        read = when + timedelta(minutes=rng.randint(10, 240))
        from_staff = author is ActorKind.STAFF
        demo.add(
            Message(
                organization_id=demo.org_id,
                customer_id=account.customer.id,
                author_kind=author,
                author_staff_id=demo.staff_member().id if from_staff else None,
                body=text.format(car=subject),
                read_by_staff_at=None if from_staff or last else read,
                read_by_customer_at=read if from_staff and not last else None,
                **stamped(when),
            )
        )
        when += timedelta(hours=rng.randint(1, 20))


def contract(
    demo: Demo, account: Account, status: ContractStatus, sent: datetime | None = None
) -> Contract:
    """A storage agreement sent for signature, and signed when `status` is SIGNED."""
    rng = demo.rng
    owner = account.customer
    subject = account.cars[0]
    terms = CONTRACT_TERMS.format(org=demo.org.name, customer=owner.name, car=car_label(subject))
    sent = sent or demo.days_ago(15, 200)
    row = Contract(
        organization_id=demo.org_id,
        customer_id=owner.id,
        car_id=subject.id,
        title=AGREEMENT_TITLE,
        kind=ContractKind.STORAGE_AGREEMENT,
        terms=terms,
        status=status,
        sent_at=sent,
        **stamped(sent - timedelta(hours=1)),
    )
    if status is ContractStatus.SIGNED:
        row.signed_at = sent + timedelta(days=rng.randint(1, 3), hours=rng.randint(0, 8))
        row.signer_name = owner.name
        row.signer_ip = f"203.0.113.{rng.randint(2, 250)}"
        row.signer_user_agent = SIGNER_USER_AGENT
        row.signed_sha256 = hashlib.sha256(terms.encode()).hexdigest()
        row.updated_at = row.signed_at
        signed_copy(demo, row, owner)
    demo.add(row)
    return row


def signed_copy(demo: Demo, row: Contract, owner: Customer) -> None:
    """The signed copy a signature files (domain/documents/contracts.py): the terms, then the
    signature record, as a portal document."""
    assert row.signed_at is not None
    record = "\n".join(
        [
            f"Signed electronically by {row.signer_name} on {row.signed_at:%Y-%m-%d %H:%M:%S} UTC",
            f"From {row.signer_ip}",
            f"SHA-256 of what was signed: {row.signed_sha256}",
        ]
    )
    data = paper(
        title=row.title,
        issuer=demo.org.name,
        subject=f"For {owner.name}",
        body=row.terms,
        when=row.signed_at,
        signature=record,
    )
    document = Document(
        organization_id=demo.org_id,
        customer_id=owner.id,
        car_id=row.car_id,
        name=f"{row.title} (signed)",
        kind=DocumentKind.STORAGE_AGREEMENT,  # filed under its contract's kind
        visible_in_portal=True,
        **demo.store("contracts", data, "application/pdf"),
        **stamped(row.signed_at),
    )
    row.signed_document_id = document.id
    demo.add(document)


# Photos, jobs and the care of cars


def car_photos(demo: Demo, car: Car) -> None:
    """2-4 gallery photos taken while the car was in our care, in order."""
    rng = demo.rng
    count = rng.randint(2, 4)
    moments = sorted(demo.days_ago(2, 300) for _ in range(count))
    colour = paint(car.color)
    for position, (caption, taken) in enumerate(
        zip(rng.sample(PHOTO_CAPTIONS, k=count), moments, strict=True)
    ):
        data = car_picture(colour, sky=rng.randrange(4), shift=rng.randint(-12, 12))
        demo.add(
            CarPhoto(
                organization_id=demo.org_id,
                car_id=car.id,
                caption=caption,
                taken_at=taken,
                position=position,
                filename=f"car-photo-{position + 1}.png",
                uploaded_by_staff_id=demo.staff_member().id,
                **demo.store("car-photos", data, "image/png"),
                **stamped(taken + timedelta(minutes=rng.randint(5, 90))),
            )
        )


def job(demo: Demo, customer: Customer, car: Car, plan: JobPlan, status: JobStatus) -> Job:
    """A job on `car`: completed some days ago, started yesterday, or coming up."""
    rng = demo.rng
    if status is JobStatus.SCHEDULED:
        day = demo.today + timedelta(days=rng.randint(3, 10))
    elif status is JobStatus.IN_PROGRESS:
        day = demo.today - timedelta(days=1)
    else:
        day = demo.today - timedelta(days=rng.randint(5, 60))
    start = demo.at(day, rng.choice((8, 9, 10)))
    row = Job(
        organization_id=demo.org_id,
        customer_id=customer.id,
        car_id=car.id,
        kind=plan.kind,
        status=status,
        title=plan.title,
        scheduled_start=start,
        scheduled_end=start + timedelta(hours=plan.hours),
        customer_notes=plan.customer_notes,
        **stamped(start - timedelta(days=rng.randint(3, 10))),
    )
    if status is not JobStatus.SCHEDULED:
        row.started_at = start + timedelta(minutes=rng.randint(0, 20))
        row.updated_at = row.started_at
    if status is JobStatus.COMPLETED:
        assert row.started_at is not None
        row.completed_at = row.started_at + timedelta(hours=plan.hours, minutes=rng.randint(0, 50))
        row.updated_at = row.completed_at
        row.mileage = car.mileage
        demo.add(completion_event(demo, car, row))
    demo.add(row)
    stages = {
        JobStatus.COMPLETED: [PhotoStage.BEFORE, PhotoStage.AFTER],
        JobStatus.IN_PROGRESS: [PhotoStage.BEFORE, PhotoStage.PROGRESS],
        JobStatus.SCHEDULED: [],
    }[status]
    if status is JobStatus.COMPLETED and plan.kind is JobKind.DETAILING:
        stages.insert(1, PhotoStage.PROGRESS)
    job_photos(demo, car, row, stages)
    return row


def completion_event(demo: Demo, car: Car, row: Job) -> CarEvent:
    """The history entry completing a job writes (domain/cars/jobs.py)."""
    assert row.completed_at is not None
    return CarEvent(
        organization_id=demo.org_id,
        car_id=car.id,
        kind=HISTORY_KIND.get(row.kind, CarEventKind.SERVICE),
        occurred_at=row.completed_at,
        notes=row.customer_notes or row.title,
        staff_user_id=None,
        data={"job_id": encode_id("Job", row.id), "title": row.title},
        **stamped(row.completed_at),
    )


def job_photos(demo: Demo, car: Car, row: Job, stages: list[PhotoStage]) -> None:
    """Before, progress and after photos, numbered within their stage, over the job's time."""
    if row.started_at is None:
        return
    end = row.completed_at or demo.now - timedelta(hours=1)
    step = (end - row.started_at) / (len(stages) + 1)
    sky = demo.rng.randrange(4)
    for index, stage in enumerate(stages):
        taken = row.started_at + step * (index + 1)
        for position, caption in enumerate(JOB_CAPTIONS[stage]):
            data = car_picture(paint(car.color), sky=sky, shift=position * 8, dirt=DIRT[stage])
            demo.add(
                JobPhoto(
                    organization_id=demo.org_id,
                    job_id=row.id,
                    stage=stage,
                    caption=caption,
                    taken_at=taken,
                    position=position,
                    filename=f"{stage.value.lower()}-{position + 1}.png",
                    uploaded_by_staff_id=demo.staff_member().id,
                    **demo.store("job-photos", data, "image/png"),
                    **stamped(taken + timedelta(minutes=5)),
                )
            )


def jobs(demo: Demo, accounts: list[Account], first: list[Account]) -> list[Job]:
    """Completed jobs for `first` and others, one in progress and one scheduled."""
    rng = demo.rng
    current = [a for a in accounts if a.customer.archived_at is None]
    others = [a for a in current if a not in first]
    done_for = first[:2] + rng.sample(others, k=len(COMPLETED_JOBS) - 2)
    made = [
        job(demo, account.customer, rng.choice(account.cars), plan, JobStatus.COMPLETED)
        for account, plan in zip(done_for, COMPLETED_JOBS, strict=True)
    ]
    on_site = [(a, c) for a in others for c in a.cars if c.status in ON_SITE]
    account, car = rng.choice(on_site)
    car.status = CarStatus.IN_SERVICE  # it is on the lift
    made.append(job(demo, account.customer, car, OPEN_JOB, JobStatus.IN_PROGRESS))
    account = first[2]
    made.append(job(demo, account.customer, account.cars[0], SCHEDULED_JOB, JobStatus.SCHEDULED))
    return made


def maintenance(demo: Demo, cars: list[Car], serviced: list[Job]) -> None:
    """1-2 schedules on each of `cars`, alternately due and not; an oil change on every
    serviced car, moved on by its job as completing it would."""
    rng = demo.rng
    for index, car in enumerate(cars):
        for name, months, miles in rng.sample(SCHEDULES, k=rng.randint(1, 2)):
            due = index % 2 == 0
            days = months * 31 + rng.randint(10, 60) if due else rng.randint(15, months * 28)
            demo.add(
                MaintenanceSchedule(
                    organization_id=demo.org_id,
                    car_id=car.id,
                    name=name,
                    every_months=months,
                    every_miles=miles,
                    last_done_on=demo.today - timedelta(days=days),
                    last_done_mileage=max((car.mileage or 0) - rng.randint(50, 900), 0),
                    **stamped(demo.days_ago(200, 400)),
                )
            )
    for row in serviced:
        assert row.completed_at is not None and row.car_id is not None
        name, months, miles = SCHEDULES[0]
        demo.add(
            MaintenanceSchedule(
                organization_id=demo.org_id,
                car_id=row.car_id,
                name=name,
                every_months=months,
                every_miles=miles,
                last_done_on=demo.local_day(row.completed_at),
                last_done_mileage=row.mileage,
                created_at=row.created_at,
                updated_at=row.completed_at,
            )
        )


def telematics(demo: Demo, car: Car, weeks: int = 8) -> None:
    """Weekly readings from a connected car in its bay: a few miles moved, the engine run."""
    rng = demo.rng
    odometer = (car.mileage or 0) - weeks * 2
    hours = rng.randint(3000, 9000)
    for week in range(weeks, 0, -1):
        odometer += rng.randint(0, 3)
        hours += rng.randint(1, 4)
        when = demo.now - timedelta(days=7 * week - 1, hours=rng.randint(0, 12))
        demo.add(
            TelematicsReading(
                organization_id=demo.org_id,
                car_id=car.id,
                recorded_at=when,
                odometer=min(odometer, car.mileage or odometer),
                engine_hours_tenths=hours,
                latitude=round(FACILITY[0] + rng.uniform(-0.0004, 0.0004), 6),
                longitude=round(FACILITY[1] + rng.uniform(-0.0004, 0.0004), 6),
                fault_codes=["P0562"] if week == 3 else [],  # low voltage before the tender
                **stamped(when),
            )
        )


# Onboarding, wallet and community events


def onboarding_steps(demo: Demo) -> None:
    signing = OnboardingStepKind.SIGN_CONTRACT
    demo.add(
        *(
            OnboardingStep(
                organization_id=demo.org_id,
                position=position,
                kind=kind,
                title=title,
                contract_kind=ContractKind.STORAGE_AGREEMENT if kind is signing else None,
                **stamped(demo.org.created_at),
            )
            for position, (kind, title) in enumerate(ONBOARDING)
        )
    )


def confirm_preferences(demo: Demo, customer: Customer) -> None:
    """The customer kept their email preferences soon after first signing in."""
    assert customer.portal_activated_at is not None
    customer.preferences_confirmed_at = customer.portal_activated_at + timedelta(
        minutes=demo.rng.randint(2, 30)
    )


def saved_card(demo: Demo, customer: Customer, when: datetime) -> None:
    """A Visa saved on the organization's Stripe account, charged by autopay."""
    rng = demo.rng
    customer.stripe_customer_id = f"cus_demo{rng.getrandbits(48):012x}"
    customer.autopay_enabled = True
    demo.add(
        SavedPaymentMethod(
            organization_id=demo.org_id,
            customer_id=customer.id,
            stripe_payment_method_id=f"pm_demo{rng.getrandbits(64):016x}",
            brand="visa",
            last4="4242",
            exp_month=rng.randint(1, 12),
            exp_year=demo.today.year + rng.randint(2, 4),
            is_default=True,
            **stamped(when),
        )
    )


def community_events(demo: Demo, accounts: list[Account]) -> None:
    """A published event coming up on a Saturday morning, and one that took place."""
    rng = demo.rng
    social = [
        a.customer
        for a in accounts
        if a.customer.wants_social_events and a.customer.archived_at is None
    ]
    saturday = demo.today + timedelta(days=(5 - demo.today.weekday()) % 7 + 14)
    upcoming = community_event(demo, UPCOMING_EVENT, demo.at(saturday, 9), 3, 40)
    contact = social_contact(demo, {a.customer.id for a in accounts if a.customer in social})
    rsvps(demo, upcoming, rng.sample(social, k=min(5, len(social))), contact)
    past_day = demo.today - timedelta(days=rng.randint(40, 60))
    past = community_event(demo, PAST_EVENT, demo.at(past_day, 8, 30), 7, 24)
    past.reminded_at = past.starts_at - timedelta(days=1)
    rsvps(demo, past, rng.sample(social, k=min(4, len(social))), None)


def community_event(
    demo: Demo, text: tuple[str, str], starts: datetime, hours: int, capacity: int
) -> CommunityEvent:
    title, description = text
    published = starts - timedelta(days=demo.rng.randint(20, 30))
    row = CommunityEvent(
        organization_id=demo.org_id,
        title=title,
        description=description,
        place=demo.org.address,
        starts_at=starts,
        ends_at=starts + timedelta(hours=hours),
        capacity=capacity,
        published_at=published,
        **stamped(published - timedelta(hours=2)),
    )
    demo.add(row)
    return row


def social_contact(demo: Demo, customer_ids: set[uuid.UUID]) -> Contact | None:
    """A portal contact of one of `customer_ids` who wants social events too, and answers
    for themselves."""
    for row in demo.rows:
        if isinstance(row, Contact) and row.can_access_portal and row.customer_id in customer_ids:
            row.wants_social_events = True
            return row
    return None


def rsvps(
    demo: Demo, event: CommunityEvent, customers: list[Customer], contact: Contact | None
) -> None:
    """Answers from `customers` (the last declines) and from `contact`, after publishing."""
    assert event.published_at is not None
    answers: list[tuple[uuid.UUID, Contact | None]] = [(c.id, None) for c in customers]
    if contact is not None:
        answers.append((contact.customer_id, contact))
    for index, (customer_id, person) in enumerate(answers):
        going = index != len(customers) - 1
        when = min(event.published_at + timedelta(days=index + 1), demo.now)
        demo.add(
            EventRsvp(
                organization_id=demo.org_id,
                event_id=event.id,
                customer_id=customer_id,
                contact_id=person.id if person else None,
                person_key=str(person.id if person else customer_id),
                status=RsvpStatus.GOING if going else RsvpStatus.NOT_GOING,
                guests=demo.rng.randint(0, 2) if going else 0,
                **stamped(when),
            )
        )


# The whole organization


def build(now: datetime, owner_hash: str, staff_hash: str) -> Built:
    """Every row of the demo organization, and the files its rows name."""
    org = organization(now)
    demo = Demo(
        rng=random.Random(SEED),
        now=now,
        org=org,
        owner=staff_user(org, "Dana Whitfield", OWNER_EMAIL, StaffRole.OWNER, owner_hash),
        staff=staff_user(org, "Marco Ruiz", STAFF_EMAIL, StaffRole.STAFF, staff_hash),
    )
    rng = demo.rng
    portal = PortalSettings(
        organization_id=org.id,
        allow_partial_payment=True,
        minimum_partial_amount=5000,
        allow_autopay=True,
        show_telematics=True,
    )
    demo.add(org, portal, demo.owner, demo.staff, *other_staff(org, staff_hash))

    accounts = [Account(customer(demo, name, company)) for name, company in CUSTOMERS]
    for account in accounts:
        if account.customer.name == ARCHIVED_CUSTOMER:
            account.customer.archived_at = demo.days_ago(60, 120)
    current = [a for a in accounts if a.customer.archived_at is None]
    invited = rng.sample(current, k=8)
    for position, account in enumerate(invited):
        status = PortalStatus.ACTIVE if position < 5 else PortalStatus.INVITED
        set_portal_access(demo, account.customer, status)
    demo.add(*(a.customer for a in accounts))

    for account in accounts:
        account.cars = [car(demo, account.customer) for _ in range(rng.choice((1, 1, 2, 2, 3)))]
    unowned = [car(demo, None) for _ in range(2)]
    for stray in unowned:
        stray.internal_notes = "Estate consignment: owner record pending with the executor."
    all_cars = [c for a in accounts for c in a.cars] + unowned
    demo.add(*all_cars)
    for each in all_cars:
        car_history(demo, each)

    contacts(demo, accounts)
    bills = invoices(demo, accounts)
    bills += collections(demo, bills)
    counters(demo, bills, estimates(demo, accounts))
    credit_notes(demo, bills)
    discount(demo, bills)
    appointments(demo, accounts)
    appointment_due_a_reminder(demo, current[0])
    for account in accounts:
        documents(demo, account)
    for account in rng.sample(current, k=8):
        messages(demo, account)
    portal_content(demo, accounts, active=invited[:5])
    recurring_billing(demo, current, portal_customer=invited[0])
    webhooks(demo, current)
    moving_in(demo, accounts, current)
    return Built(demo.rows, demo.files)


IMPORT_MAPPING = {
    "Type": "kind",
    "Customer name": "name",
    "E-mail": "email",
    "Phone": "phone",
    "Owner e-mail": "customerEmail",
    "Make": "make",
    "Model": "model",
    "VIN": "vin",
}


def moving_in(demo: Demo, accounts: list[Account], current: list[Account]) -> None:
    """The import history (the business's customers and cars brought in from its old
    software, and a recent dry run that found two bad rows) and a finished bulk invite of
    the business customers (the customers list searched for "LLC"). Drawn without the
    random source, so the rest of the demo stays as it was."""
    first = min(a.customer.created_at for a in accounts) - timedelta(days=1)
    car_count = sum(len(a.cars) for a in accounts)
    moved_in = DataImport(
        organization_id=demo.org_id,
        staff_user_id=demo.owner.id,
        filename="garagebook-export.csv",
        size_bytes=9_412,
        state=ImportState.COMMITTED,
        rows=len(accounts) + car_count,
        customers_created=len(accounts),
        cars_created=car_count,
        mapping=IMPORT_MAPPING,
        ignored_columns=["Account no."],
        **stamped(first),
    )
    checked_at = demo.now - timedelta(days=2, hours=3)
    dry_run = DataImport(
        organization_id=demo.org_id,
        staff_user_id=demo.owner.id,
        filename="spring-intake-cars.csv",
        size_bytes=512,
        state=ImportState.DRY_RUN,
        rows=6,
        cars_created=4,
        error_count=2,
        errors=[
            {
                "row": 3,
                "column": "VIN",
                "field": "vin",
                "code": "DUPLICATE",
                "message": "Another car already has this VIN.",
            },
            {
                "row": 6,
                "column": "Owner e-mail",
                "field": "customerEmail",
                "code": "UNKNOWN_CUSTOMER",
                "message": "No customer in this file or in Portico has this email.",
            },
        ],
        mapping={k: v for k, v in IMPORT_MAPPING.items() if k not in ("Customer name", "Phone")},
        **stamped(checked_at),
    )
    demo.add(moved_in, dry_run)
    for record in (moved_in, dry_run):
        demo.add(
            AuditEvent(
                organization_id=demo.org_id,
                action=f"import.{record.state.value.lower()}",
                actor_kind=ActorKind.STAFF,
                actor_staff_id=demo.owner.id,
                subject_type="DataImport",
                subject_id=record.id,
                data={"filename": record.filename, "rows": record.rows},
                **stamped(record.created_at),
            )
        )
    started = demo.now - timedelta(days=12, hours=2)
    chosen = sorted(
        (a.customer for a in current if a.customer.company and "LLC" in a.customer.company),
        key=lambda c: (c.name, c.id),
    )
    job = BulkInvite(
        organization_id=demo.org_id,
        staff_user_id=demo.owner.id,
        filter={"search": "LLC", "include_archived": False, "onboarding_complete": None},
        state=BulkInviteState.FINISHED,
        total=len(chosen),
        finished_at=started + timedelta(minutes=len(chosen)),
        **stamped(started),
    )
    items = []
    for position, person in enumerate(chosen):
        done = started + timedelta(minutes=position)
        reason = {
            PortalStatus.ACTIVE: "ALREADY_HAS_ACCESS",
            PortalStatus.INVITED: "ALREADY_INVITED",
        }.get(person.portal_status)
        if reason is None:  # invited by this job
            person.portal_status, person.portal_invited_at = PortalStatus.INVITED, done
            person.portal_email = person.email
            job.sent += 1
        else:
            job.skipped += 1
        items.append(
            BulkInviteItem(
                organization_id=demo.org_id,
                bulk_invite_id=job.id,
                customer_id=person.id,
                state=BulkInviteItemState.SENT if reason is None else BulkInviteItemState.SKIPPED,
                reason=reason,
                done_at=done,
                **stamped(started),
            )
        )
    demo.add(job, *items)


WEBHOOK_URL = "https://hooks.example.com/portico"  # a reserved name: it reaches nobody


def webhooks(demo: Demo, accounts: list[Account]) -> None:
    """The OWNER's endpoint for an accounting system, with its delivery log: customers'
    events delivered, one that failed for three days and was then redelivered."""
    secret = new_secret()
    endpoint = WebhookEndpoint(
        organization_id=demo.org_id,
        url=WEBHOOK_URL,
        description="Accounting sync",
        event_types=["customer.created", "customer.updated", "invoice.paid"],
        secret=secret,
        secret_prefix=secret[:12],
        created_by_staff_id=demo.owner.id,
        last_success_at=demo.now - timedelta(hours=2),
        **stamped(demo.now - timedelta(days=30)),
    )
    demo.add(endpoint)
    customers = table_of(Customer)
    for position, account in enumerate(accounts[:5]):
        person = account.customer
        when = demo.now - timedelta(days=20 - 4 * position)
        values = {c.name: getattr(person, c.name) for c in customers.columns}
        event = WebhookEvent(
            organization_id=demo.org_id,
            event_type="customer.updated",
            object_type="Customer",
            object_id=person.id,
            body="",
            **stamped(when),
        )
        event.body = event_body(event.id, event.event_type, when, customers, values)
        failed = position == 2
        delivery = WebhookDelivery(
            organization_id=demo.org_id,
            endpoint_id=endpoint.id,
            event_id=event.id,
            event_type=event.event_type,
            object_id=person.id,
            status=WebhookDeliveryStatus.FAILED if failed else WebhookDeliveryStatus.DELIVERED,
            attempts=21 if failed else 1,
            next_attempt_at=when + timedelta(days=3) if failed else when,
            response_code=503 if failed else 200,
            latency_ms=demo.rng.randint(40, 400),
            last_error="HTTP 503: upstream unavailable" if failed else None,
            last_attempt_at=when + timedelta(days=3) if failed else when,
            delivered_at=None if failed else when,
            **stamped(when),
        )
        demo.add(event, delivery)
        if failed:  # sent again by the OWNER once the accounting system was back
            again = when + timedelta(days=3, hours=1)
            demo.add(
                WebhookDelivery(
                    organization_id=demo.org_id,
                    endpoint_id=endpoint.id,
                    event_id=event.id,
                    event_type=event.event_type,
                    object_id=person.id,
                    status=WebhookDeliveryStatus.DELIVERED,
                    attempts=1,
                    next_attempt_at=again,
                    response_code=200,
                    latency_ms=demo.rng.randint(40, 400),
                    last_attempt_at=again,
                    delivered_at=again,
                    **stamped(again),
                )
            )


def recurring_billing(demo: Demo, current: list[Account], portal_customer: Account) -> None:
    """Plans of the business and subscriptions in every state: the first ACTIVE portal
    customer rents indoor storage for their first car (autopay), others have a paused
    outdoor bay at their own price, a detailing club that has ended, and storage ending at
    the end of its period. Drawn without the random source, so the rest of the demo stays
    as it was."""
    org_id, today = demo.org_id, demo.today
    indoor, outdoor, club, legacy = plans = [
        BillingPlan(
            organization_id=org_id,
            name="Indoor climate-controlled storage",
            amount=45_000,
            currency=demo.org.currency,
        ),
        BillingPlan(
            organization_id=org_id,
            name="Outdoor covered bay",
            amount=90_000,
            currency=demo.org.currency,
            interval_months=3,
        ),
        BillingPlan(
            organization_id=org_id,
            name="Detailing club",
            amount=12_000,
            currency=demo.org.currency,
            tax_rate_bp=825,
            timing=BillingTiming.IN_ARREARS,
        ),
        BillingPlan(
            organization_id=org_id,
            name="Indoor storage (2025 rate)",
            amount=39_500,
            currency=demo.org.currency,
            interval_months=12,
            archived_at=demo.days_ago(30, 60),
        ),
    ]
    demo.add(*plans)
    others = [a for a in current if a is not portal_customer][:4]

    def subscription(account: Account, plan: BillingPlan, start: date, **fields: Any) -> None:
        car = account.cars[0] if account.cars else None
        demo.add(
            BillingSubscription(
                organization_id=org_id,
                customer_id=account.customer.id,
                plan_id=plan.id,
                car_id=car.id if car else None,
                storage_label=car.storage_location if car else None,
                currency=plan.currency,
                start_date=start,
                anchor_day=fields.pop("anchor_day", start.day),
                **fields,
            )
        )

    subscription(portal_customer, indoor, today - timedelta(days=200), anchor_day=1, autopay=True)
    subscription(
        others[0],
        outdoor,
        today - timedelta(days=120),
        custom_unit_price=80_000,
        paused_at=demo.days_ago(5, 20),
    )
    subscription(
        others[1],
        club,
        today - timedelta(days=150),
        quantity=2,
        end_date=today - timedelta(days=10),
    )
    subscription(
        others[2],
        indoor,
        today - timedelta(days=75),
        anchor_day=1,
        end_date=date(today.year + today.month // 12, today.month % 12 + 1, 1),
    )
    subscription(others[3], legacy, today - timedelta(days=300))


def portal_content(demo: Demo, accounts: list[Account], active: list[Account]) -> None:
    """What the portal shows beyond the records: agreements to sign, onboarding under way,
    galleries, finished and open jobs, a saved card and events. Of the ACTIVE portal
    customers the first has finished onboarding, the second is midway (signed, preferences
    confirmed, no card yet) and the third has an agreement waiting."""
    rng = demo.rng
    current = [a for a in accounts if a.customer.archived_at is None]
    finished, midway, waiting = active[:3]
    onboarding_steps(demo)
    signed = contract(demo, finished, ContractStatus.SIGNED, sent=demo.days_ago(5, 12))
    contract(demo, midway, ContractStatus.SIGNED, sent=demo.days_ago(5, 12))
    contract(demo, waiting, ContractStatus.SENT, sent=demo.days_ago(1, 4))
    others = rng.sample([a for a in current if a not in active[:3]], k=3)
    for position, account in enumerate(others):
        contract(demo, account, ContractStatus.SIGNED if position == 1 else ContractStatus.SENT)
    for account in (finished, midway):
        confirm_preferences(demo, account.customer)
    assert signed.signed_at is not None
    saved_card(demo, finished.customer, signed.signed_at + timedelta(minutes=rng.randint(3, 20)))

    owned = [c for a in current for c in a.cars]
    pictured = [a.cars[0] for a in active] + rng.sample(
        [c for c in owned if all(c is not a.cars[0] for a in active)], k=6
    )
    for each in pictured:
        car_photos(demo, each)
    made = jobs(demo, accounts, active)
    serviced = [j for j in made if j.kind is JobKind.SERVICE and j.status is JobStatus.COMPLETED]
    unserviced = [c for c in owned if all(c.id != j.car_id for j in serviced)]
    maintenance(demo, rng.sample(unserviced, k=6), serviced)
    connected = [c for c in owned if (c.year or 0) >= 1990 and c.status in ON_SITE]
    if connected:
        telematics(demo, rng.choice(connected))
    community_events(demo, accounts)


async def delete_organization(session: AsyncSession, organization_id: uuid.UUID) -> None:
    """Delete every row of one organization, children before parents."""
    for table in reversed(models.metadata.sorted_tables):
        if "organization_id" in table.c:
            await session.execute(
                sa.delete(table).where(table.c.organization_id == organization_id)
            )
    organizations = table_of(Organization)
    await session.execute(sa.delete(organizations).where(organizations.c.id == organization_id))


def sign_in_help(settings: Settings) -> str:
    mutation = (
        f'mutation {{ signIn(input: {{email: "{OWNER_EMAIL}", password: "{OWNER_PASSWORD}"}}) '
        "{ token userErrors { message } } }"
    )
    return "\n".join(
        [
            f"GraphQL:  {settings.local_url}/graphql  (start the server with `portico serve`)",
            f"Owner:    {OWNER_EMAIL} / {OWNER_PASSWORD}",
            f"Staff:    {STAFF_EMAIL} / {STAFF_PASSWORD}",
            f"Admin:    {ADMIN_EMAIL} / {STAFF_PASSWORD}",
            "",
            "Sign in from GraphiQL with:",
            f"  {mutation}",
            "then send the token as an `Authorization: Bearer <token>` header.",
        ]
    )


async def demo_id(db: Database) -> uuid.UUID | None:
    """The demo organization's id, if it is loaded."""
    async with db.connect() as conn:
        return await conn.scalar(
            sa.select(col(Organization.id)).where(col(Organization.slug) == DEMO_SLUG)
        )


async def load_demo(settings: Settings, *, reset: bool = False) -> None:
    """Load the demo organization; with `reset`, replace an existing one."""
    db = Database(settings)
    try:
        loaded = reset or await demo_id(db) is None
        if loaded:
            loaded = await replace_demo(db, reset=reset)
        reminded = statements = 0
        if loaded:
            org_id = await demo_id(db)
            reminded = await remind_appointments(db, organization_id=org_id)
            # Monthly statements are on: last month's go now, as the jobs loop would.
            sent = await send_monthly_statements(db, organization_id=org_id)
            statements = len(sent.sent)
    finally:
        await db.dispose()
    if loaded:
        print(f'Loaded the demo organization "{DEMO_NAME}" (slug `{DEMO_SLUG}`).')
        print(f"Queued the reminders of {reminded} appointment(s) in the outbox.")
        print(f"Queued last month's statements of {statements} customer(s) in the outbox.")
    else:
        print("The demo organization is already loaded; `portico demo --reset` replaces it.")
    print(sign_in_help(settings))


async def replace_demo(db: Database, *, reset: bool) -> bool:
    """Write the demo in one transaction, deleting an old one when `reset`; False if kept.

    The files are stored before the rows commit and deleted again if they do not; the old
    demo's files go once the new demo is committed."""
    built = build(utcnow(), hash_password(OWNER_PASSWORD), hash_password(STAFF_PASSWORD))
    storage = storage_from_settings(db.settings)
    old_keys: list[str] = []
    try:
        async with db.write() as session:
            existing = await session.scalar(
                sa.select(col(Organization.id)).where(col(Organization.slug) == DEMO_SLUG)
            )
            if existing is not None:
                if not reset:
                    return False
                old_keys = await stored_keys(session, existing)
                await delete_organization(session, existing)
            await add_in_order(session, built.rows)
            await store_files(storage, built.files)
    except BaseException:
        await delete_files(storage, [file.key for file in built.files])
        raise
    await delete_files(storage, old_keys)
    return True


async def stored_keys(session: AsyncSession, organization_id: uuid.UUID) -> list[str]:
    """The storage keys every row of the organization names (documents, photos, ...)."""
    keys: list[str] = []
    for table in models.metadata.sorted_tables:
        if "storage_key" in table.c and "organization_id" in table.c:
            found = await session.scalars(
                sa.select(table.c.storage_key).where(
                    table.c.organization_id == organization_id, table.c.storage_key.is_not(None)
                )
            )
            keys.extend(found)
    return keys


async def store_files(storage: Storage, files: list[DemoFile]) -> None:
    for file in files:
        await store_bytes(storage, file.key, file.data, content_type=file.content_type)


async def delete_files(storage: Storage, keys: list[str]) -> None:
    for key in keys:
        await storage.delete(key)
