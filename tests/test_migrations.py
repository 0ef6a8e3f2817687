"""One Alembic history serves both dialects and matches the models exactly."""

import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import command
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncSession

from core.ids import encode_id
from core.settings import settings_from_env
from models import AuditEvent, Car, CarEvent, Contact, Customer, Organization
from models.db import Database
from models.enums import ActorKind, CarEventKind, ContractKind
from models.migrate import alembic_config, pending_differences, upgrade
from models.onboarding_progress import progress_statement
from models.tables import contacts, customers, onboarding_steps
from models.types import UTCDateTime

STEPS = (
    sa.select(onboarding_steps)
    .where(onboarding_steps.c.organization_id == sa.bindparam("org"))
    .order_by(onboarding_steps.c.position, onboarding_steps.c.id)
)
# Columns added after the revisions the data tests start from: left out of their inserts.
SMS_COLUMNS = {"sms_sign_in", "sms_pay_links", "sms_reminders", "sms_car_ready", "sms_number"}
LATER_COLUMNS = {
    "customers": {"collection_paused_at", *SMS_COLUMNS},  # 0018, 0024
    "contacts": {"can_manage_contacts", *SMS_COLUMNS},  # 0022, 0024
    "outbox_emails": {"channel", "provider_id"},  # 0024
    "organizations": {"check_out_ends_subscriptions"},  # 0027
}


async def _add_old(session: AsyncSession, row: object) -> None:
    """Insert a model's row into a table as an older revision has it (no later columns)."""
    table = row.__table__  # type: ignore[attr-defined]
    later = LATER_COLUMNS.get(table.name, set())
    columns = [c for c in table.columns if c.name not in later]
    old = sa.table(table.name, *(sa.column(c.name, c.type) for c in columns))
    await session.execute(old.insert().values({c.name: getattr(row, c.name) for c in columns}))


async def test_models_and_migration_head_agree(db: Database):
    assert await pending_differences(db.engine) == []


async def test_history_downgrades_to_nothing_and_back(scratch_database_url: str):
    scratch = Database(settings_from_env({"DATABASE_URL": scratch_database_url}))
    try:
        await upgrade(scratch.engine)

        def down(connection: Connection) -> list[str]:
            command.downgrade(alembic_config(connection), "base")
            return connection.dialect.get_table_names(connection)

        async with scratch.engine.begin() as conn:
            tables = await conn.run_sync(down)
        assert set(tables) <= {"alembic_version"}
        await upgrade(scratch.engine)
        assert await pending_differences(scratch.engine) == []
    finally:
        await scratch.dispose()


async def test_contract_kinds_keep_existing_onboarding_steps_done(scratch_database_url: str):
    """0010: steps named contracts by title; after it they name a kind, and a contract a
    step matched before still completes it (and one it did not match still does not)."""
    scratch = Database(settings_from_env({"DATABASE_URL": scratch_database_url}))
    try:
        await upgrade(scratch.engine, "0009")
        org = Organization(name="Before kinds", slug="before-kinds")
        customer = Customer(organization_id=org.id, name="Old customer")
        async with AsyncSession(scratch.engine, expire_on_commit=False) as session:
            await _add_old(session, org)
            await _add_old(session, customer)
            await session.commit()
        now = datetime.now(UTC)
        row = {"organization_id": org.id, "created_at": now, "updated_at": now}
        contracts = sa.table(
            "contracts",
            *_typed("id organization_id customer_id created_at updated_at signed_at"),
            *(sa.column(c) for c in ("title", "terms", "status")),
        )
        steps = sa.table(
            "onboarding_steps",
            *_typed("id organization_id created_at updated_at"),
            *(sa.column(c) for c in ("position", "kind", "title", "contract_title")),
        )
        signed = {"status": "SIGNED", "signed_at": now, "terms": "T", "customer_id": customer.id}
        async with scratch.engine.begin() as conn:
            await conn.execute(
                contracts.insert(),
                [
                    {**row, **signed, "id": uuid.uuid4(), "title": "Indoor storage agreement"},
                    {**row, **signed, "id": uuid.uuid4(), "title": "Detailing terms"},
                ],
            )
            await conn.execute(
                steps.insert(),
                [
                    {
                        **row,
                        "id": uuid.uuid4(),
                        "position": i,
                        "kind": "SIGN_CONTRACT",
                        "title": f"Sign {title}",
                        "contract_title": title,
                    }
                    for i, title in enumerate(
                        ["Indoor storage agreement", "Vehicle liability waiver", "Detailing terms"]
                    )
                ],
            )
        await upgrade(scratch.engine)
        async with scratch.engine.connect() as conn:
            org_steps = (await conn.execute(STEPS, {"org": org.id})).mappings().all()
            kinds = [s["contract_kind"] for s in org_steps]
            progress = (
                (await conn.execute(progress_statement(), {"ids": [customer.id]})).mappings().all()
            )
        assert kinds == [
            ContractKind.STORAGE_AGREEMENT,
            ContractKind.LIABILITY_WAIVER,
            ContractKind.OTHER,
        ]
        # Signed storage agreement and "other" contract: done; no waiver signed: not done.
        assert [bool(step["done"]) for step in progress] == [True, False, True]
    finally:
        await scratch.dispose()


def _typed(names: str) -> list[sa.ColumnClause[object]]:
    """Columns as the revision under test has them: ids and UTC timestamps."""
    return [sa.column(n, UTCDateTime() if n.endswith("_at") else sa.Uuid()) for n in names.split()]


async def test_event_details_move_to_global_ids_and_back(scratch_database_url: str):
    """0011: raw row ids inside car and audit event details become global ids (and a
    preview's session id goes); the downgrade gives the raw ids back."""
    scratch = Database(settings_from_env({"DATABASE_URL": scratch_database_url}))
    try:
        await upgrade(scratch.engine, "0010")
        org = Organization(name="Before global ids", slug="before-global-ids")
        alex = Customer(organization_id=org.id, name="Alex")
        car = Car(organization_id=org.id, make="Ferrari", model="308", customer_id=alex.id)
        job_id, contact_id, session_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
        moved = CarEvent(
            organization_id=org.id,
            car_id=car.id,
            kind=CarEventKind.OWNER_CHANGE,
            occurred_at=datetime.now(UTC),
            data={"from": None, "to": str(alex.id)},
        )
        serviced = CarEvent(
            organization_id=org.id,
            car_id=car.id,
            kind=CarEventKind.SERVICE,
            occurred_at=datetime.now(UTC),
            data={"job_id": str(job_id), "title": "Oil"},
        )
        previewed = AuditEvent(
            organization_id=org.id,
            action="portal.preview_started",
            actor_kind=ActorKind.STAFF,
            data={"session_id": str(session_id), "contact_id": str(contact_id)},
        )
        reset = AuditEvent(
            organization_id=org.id,
            action="portal.password_changed",
            actor_kind=ActorKind.CUSTOMER,
            data={"by": "reset link"},
        )
        async with AsyncSession(scratch.engine, expire_on_commit=False) as session:
            for row in (org, alex, car, moved, serviced, previewed, reset):
                if row is alex or row is org:
                    await _add_old(session, row)
                else:
                    session.add(row)
                await session.flush()
            await session.commit()

        async def details() -> list[dict[str, object]]:
            async with AsyncSession(scratch.engine) as session:
                cars = await session.execute(sa.select(CarEvent.data).order_by(CarEvent.kind))
                audits = await session.execute(
                    sa.select(AuditEvent.data).order_by(AuditEvent.action)
                )
                return [*cars.scalars(), *audits.scalars()]

        before = await details()
        await upgrade(scratch.engine)
        assert await details() == [
            {"from": None, "to": encode_id("Customer", alex.id)},
            {"job_id": encode_id("Job", job_id), "title": "Oil"},
            {"by": "reset link"},
            {"contact_id": encode_id("Contact", contact_id)},
        ]

        def down(connection: Connection) -> None:
            command.downgrade(alembic_config(connection), "0010")

        async with scratch.engine.begin() as conn:
            await conn.run_sync(down)
        after = await details()
        assert after == [*before[:3], {"contact_id": str(contact_id)}]  # the session id is gone
    finally:
        await scratch.dispose()


async def test_sms_migration_stores_existing_phone_numbers_as_e164(scratch_database_url: str):
    """0024: a number that reads as a valid one (in the customer's country, else the US)
    becomes E.164; one that does not is left as it was; texts are off for everyone."""
    scratch = Database(settings_from_env({"DATABASE_URL": scratch_database_url}))
    try:
        await upgrade(scratch.engine, "0022")
        org = Organization(name="Before texts", slug="before-texts")
        local = Customer(organization_id=org.id, name="Local", phone="(312) 555-0100")
        abroad = Customer(
            organization_id=org.id, name="Abroad", phone="020 7946 0958", country="GB"
        )
        odd = Customer(organization_id=org.id, name="Odd", phone="call the shop")
        contact = Contact(
            organization_id=org.id, customer_id=abroad.id, name="Contact", phone="07911 123456"
        )
        async with AsyncSession(scratch.engine, expire_on_commit=False) as session:
            await _add_old(session, org)
            for row in (local, abroad, odd, contact):
                await _add_old(session, row)
            await session.commit()
        await upgrade(scratch.engine)
        people = sa.union_all(
            sa.select(customers.c.name, customers.c.phone, customers.c.sms_reminders),
            sa.select(contacts.c.name, contacts.c.phone, contacts.c.sms_reminders),
        ).subquery()
        async with scratch.engine.connect() as conn:
            found = await conn.execute(sa.select(people).order_by(people.c.name))
            assert [tuple(r) for r in found.all()] == [
                ("Abroad", "+442079460958", False),
                ("Contact", "+447911123456", False),
                ("Local", "+13125550100", False),
                ("Odd", "call the shop", False),
            ]
    finally:
        await scratch.dispose()
