"""CSV imports: the mapping, the dry run, the all-or-nothing commit, duplicates by email and
VIN, bad files, who may import, tenancy, and 10,000 rows in a bounded number of statements."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from domain.formats import vin_check_digit
from domain.imports import csv_import
from models import Car, Customer
from models.db import Database
from models.enums import StaffRole
from models.tables import audit_events, cars, contacts, customers, data_imports
from models.writes import add_in_order
from tests.helpers import GraphQLClient, Tenant
from tests.portal import make_customer, sign_in_by_invite
from tests.smtp import SmtpServer
from tests.staff import add_staff

IMPORT = """mutation ($input: ImportCsvInput!) { importCsv(input: $input) {
  dataImport { id state filename rows customersCreated contactsCreated carsCreated errorCount
    mapping ignoredColumns importedBy { email } errors { row column field code message } }
  userErrors { field code message } } }"""
HISTORY = """{ organization { dataImports(first: 10) { nodes { id state filename rows
  customersCreated errorCount } } } }"""
UPLOAD_HEADER = {"X-Portico-Upload": "1"}


async def post_import(
    http: httpx.AsyncClient,
    token: str | None,
    content: bytes,
    mapping: dict[str, str] | None = None,
    *,
    dry_run: bool = True,
    kind: str = "CUSTOMER",
    filename: str = "customers.csv",
) -> dict[str, Any]:
    """importCsv as the GraphQL multipart request spec lays it out."""
    pairs = [{"column": c, "field": f} for c, f in (mapping or {}).items()]
    variables = {"input": {"file": None, "mapping": pairs, "dryRun": dry_run, "kind": kind}}
    form = {
        "operations": json.dumps({"query": IMPORT, "variables": variables}),
        "map": json.dumps({"0": ["variables.input.file"]}),
    }
    auth = {"Authorization": f"Bearer {token}"} if token else {}
    response = await http.post(
        "/graphql",
        data=form,
        files={"0": (filename, content, "text/csv")},
        headers={**auth, **UPLOAD_HEADER},
    )
    body: dict[str, Any] = response.json()
    return body


def payload(body: dict[str, Any]) -> dict[str, Any]:
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["importCsv"]
    return result


def csv_of(*rows: list[str]) -> bytes:
    lines = []
    for row in rows:
        lines.append(",".join(f'"{cell}"' if "," in cell else cell for cell in row))
    return ("\r\n".join(lines) + "\r\n").encode()


def a_vin(n: int) -> str:
    """A valid North American VIN, one per n."""
    draft = f"1HGCM8260{n:08d}"
    return draft[:8] + vin_check_digit(draft) + draft[9:]


async def count(db: Database, table: sa.Table, organization_id: uuid.UUID) -> int:
    async with db.connect() as conn:
        found = await conn.scalar(
            sa.select(sa.func.count()).where(table.c.organization_id == organization_id)
        )
    return int(found or 0)


def errors_of(result: dict[str, Any]) -> list[tuple[int | None, str | None, str]]:
    return [(e["row"], e["column"], e["code"]) for e in result["dataImport"]["errors"]]


MIXED = csv_of(
    ["Type", "Full name", "E-mail", "Phone", "Owner", "Make", "Model", "VIN", "Notes", "Legacy id"],
    [
        "customer",
        "Ada Lovelace",
        "ADA@example.test",
        "+1 312 555 0100",
        "",
        "",
        "",
        "",
        "=SUM(A1)",
        "7",
    ],
    ["customer", "Charles Babbage", "charles@example.test", "", "", "", "", "", "", "8"],
    ["contact", "Ann Lovelace", "ann@example.test", "", "ada@example.test", "", "", "", "", ""],
    ["car", "", "", "", "ada@example.test", "Porsche", "911", a_vin(1), "", ""],
    ["car", "", "", "", "CHARLES@example.test", "Mini", "Cooper", "", "", ""],
)
MIXED_MAPPING = {
    "Type": "kind",
    "Full name": "name",
    "E-mail": "email",
    "Phone": "phone",
    "Owner": "customerEmail",
    "Make": "make",
    "Model": "model",
    "VIN": "vin",
    "Notes": "internalNotes",
}


async def test_a_dry_run_reports_what_it_would_create_and_writes_nothing_but_its_record(
    db: Database, http: httpx.AsyncClient, gql: GraphQLClient, tenant: Tenant
):
    result = payload(await post_import(http, tenant.owner_token, MIXED, MIXED_MAPPING))
    assert result["userErrors"] == []
    record = result["dataImport"]
    assert record["state"] == "DRY_RUN"
    assert (record["rows"], record["errorCount"]) == (5, 0)
    assert (record["customersCreated"], record["contactsCreated"], record["carsCreated"]) == (
        2,
        1,
        2,
    )
    assert record["ignoredColumns"] == ["Legacy id"]
    assert record["mapping"]["E-mail"] == "email"
    assert record["importedBy"]["email"] == tenant.owner_email
    for table in (customers, contacts, cars):
        assert await count(db, table, tenant.organization_id) == 0
    history = await gql.data(HISTORY, token=tenant.owner_token)
    assert [n["id"] for n in history["organization"]["dataImports"]["nodes"]] == [record["id"]]


async def test_a_commit_creates_every_row_in_the_importers_organization(
    db: Database, http: httpx.AsyncClient, tenant: Tenant
):
    result = payload(
        await post_import(http, tenant.owner_token, MIXED, MIXED_MAPPING, dry_run=False)
    )
    assert result["userErrors"] == []
    assert result["dataImport"]["state"] == "COMMITTED"
    async with db.connect() as conn:
        people = {
            row.email: row
            for row in await conn.execute(
                sa.select(customers).where(customers.c.organization_id == tenant.organization_id)
            )
        }
        assert set(people) == {"ada@example.test", "charles@example.test"}
        ada = people["ada@example.test"]
        # A cell that looks like a formula is kept as the text it is.
        assert (ada.name, ada.phone, ada.internal_notes) == (
            "Ada Lovelace",
            "+13125550100",  # stored as E.164, as the mutations store it
            "=SUM(A1)",
        )
        car_rows = (
            await conn.execute(
                sa.select(cars).where(cars.c.organization_id == tenant.organization_id)
            )
        ).all()
        owners = {row.model: row.customer_id for row in car_rows}
        assert owners == {"911": ada.id, "Cooper": people["charles@example.test"].id}
        assert {row.vin for row in car_rows} == {a_vin(1), None}
        (contact,) = (
            await conn.execute(
                sa.select(contacts).where(contacts.c.organization_id == tenant.organization_id)
            )
        ).all()
        assert (contact.customer_id, contact.email) == (ada.id, "ann@example.test")
        actions = (
            await conn.scalars(
                sa.select(audit_events.c.action).where(
                    audit_events.c.organization_id == tenant.organization_id,
                    audit_events.c.action.like("import.%"),
                )
            )
        ).all()
        assert actions == ["import.committed"]


async def test_cars_and_contacts_link_to_the_organizations_existing_customers(
    db: Database, http: httpx.AsyncClient, gql: GraphQLClient, tenant: Tenant
):
    await make_customer(gql, tenant, "Grace Hopper", email="grace@example.test")
    content = csv_of(
        ["customerEmail", "make", "model", "year", "mileage"],
        ["grace@example.test", "Ford", "T", "1925", "12,500"],
    )
    result = payload(
        await post_import(http, tenant.owner_token, content, kind="CAR", dry_run=False)
    )
    assert result["dataImport"]["state"] == "COMMITTED", result
    async with db.connect() as conn:
        row = (
            await conn.execute(
                sa.select(cars).where(cars.c.organization_id == tenant.organization_id)
            )
        ).one()
    assert (row.make, row.year, row.mileage) == ("Ford", 1925, 12500)


async def test_bad_rows_are_each_reported_and_a_commit_then_writes_nothing(
    db: Database, http: httpx.AsyncClient, tenant: Tenant
):
    async with db.write() as session:
        await add_in_order(
            session,
            [
                Customer(
                    organization_id=tenant.organization_id, name="Old", email="old@example.test"
                ),
                Car(organization_id=tenant.organization_id, make="VW", model="Golf", vin=a_vin(9)),
            ],
        )
    content = csv_of(
        ["kind", "name", "email", "phone", "customerEmail", "make", "model", "vin"],
        ["customer", "Ok Person", "ok@example.test", "", "", "", "", ""],  # row 2
        ["customer", "Bad Email", "not-an-email", "", "", "", "", ""],  # row 3
        ["customer", "Twice", "ok@example.test", "", "", "", "", ""],  # row 4
        ["customer", "Existing", "OLD@example.test", "", "", "", "", ""],  # row 5
        ["customer", "", "noname@example.test", "", "", "", "", ""],  # row 6
        ["customer", "Bad Phone", "", "call me", "", "", "", ""],  # row 7
        ["car", "", "", "", "ok@example.test", "VW", "Polo", a_vin(9)],  # row 8
        ["car", "", "", "", "nobody@example.test", "VW", "Up", ""],  # row 9
        ["car", "", "", "", "", "VW", "Golf", "ABC"],  # row 10
        ["truck", "", "", "", "", "", "", ""],  # row 11
        ["customer", "Has make", "", "", "", "VW", "", ""],  # row 12
    )
    dry = payload(await post_import(http, tenant.owner_token, content))
    assert dry["userErrors"] == []
    assert errors_of(dry) == [
        (3, "email", "INVALID"),
        (4, "email", "DUPLICATE"),
        (5, "email", "DUPLICATE"),
        (6, "name", "REQUIRED"),
        (7, "phone", "INVALID_PHONE"),
        (8, "vin", "DUPLICATE"),
        (9, "customerEmail", "UNKNOWN_CUSTOMER"),
        (10, "vin", "INVALID"),
        (11, "kind", "INVALID"),
        (12, "make", "NOT_FOR_KIND"),
    ]
    assert dry["dataImport"]["customersCreated"] == 1  # what would be created: the good rows
    committed = payload(await post_import(http, tenant.owner_token, content, dry_run=False))
    assert committed["dataImport"]["state"] == "FAILED"
    assert [(e["field"][-1], e["code"]) for e in committed["userErrors"]] == [
        ("file", "ROWS_INVALID")
    ]
    assert await count(db, customers, tenant.organization_id) == 1  # "Old" alone
    assert await count(db, cars, tenant.organization_id) == 1


async def test_a_duplicate_contact_email_within_its_customer(
    db: Database, http: httpx.AsyncClient, tenant: Tenant
):
    content = csv_of(
        ["kind", "name", "email", "customerEmail"],
        ["customer", "Ada", "ada@example.test", ""],
        ["contact", "Ann", "ann@example.test", "ada@example.test"],
        ["contact", "Ann again", "ANN@example.test", "ada@example.test"],
    )
    result = payload(await post_import(http, tenant.owner_token, content))
    assert errors_of(result) == [(4, "email", "DUPLICATE")]


async def test_bad_files_are_refused_with_a_clear_code(
    db: Database, http: httpx.AsyncClient, tenant: Tenant
):
    cases: list[tuple[bytes, dict[str, str], str, str]] = [
        ("name,email\nMüller,m@example.test\n".encode("cp1252"), {}, "file", "ENCODING"),
        (b"", {}, "file", "EMPTY"),
        (b"name,email\n", {}, "file", "EMPTY"),
        (b"Full name,email\nAda,ada@example.test\n", {}, "mapping", "MISSING_COLUMN"),
        (b"name,email\nAda,ada@example.test\n", {"email": "e_mail"}, "mapping", "UNKNOWN_FIELD"),
        (b"name,email\nAda,ada@example.test\n", {"Phone": "phone"}, "mapping", "UNKNOWN_COLUMN"),
        (b'name,email\n"Ada,ada@example.test\n', {}, "file", "BAD_CSV"),
    ]
    for content, mapping, field, code in cases:
        for dry_run in (True, False):
            result = payload(
                await post_import(http, tenant.owner_token, content, mapping, dry_run=dry_run)
            )
            assert [(e["field"][-1], e["code"]) for e in result["userErrors"]] == [(field, code)], (
                content,
                result,
            )
    assert await count(db, customers, tenant.organization_id) == 0


async def test_a_file_over_the_limit_is_refused_as_too_large(
    db: Database, http: httpx.AsyncClient, tenant: Tenant
):
    limit = db.settings.max_import_bytes
    row = b"Ada,ada@example.test\n"
    content = b"name,email\n" + row * (limit // len(row) + 1)
    result = payload(await post_import(http, tenant.owner_token, content, dry_run=False))
    assert [(e["field"][-1], e["code"]) for e in result["userErrors"]] == [("file", "TOO_LARGE")]
    assert result["dataImport"]["state"] == "FAILED"
    assert await count(db, customers, tenant.organization_id) == 0


async def test_only_owners_and_admins_import_and_see_the_history(
    db: Database,
    http: httpx.AsyncClient,
    gql: GraphQLClient,
    tenant: Tenant,
    smtp: SmtpServer,
):
    content = csv_of(["name", "email"], ["Ada", "ada@example.test"])
    refused = await post_import(http, tenant.staff_token, content, dry_run=False)
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    anonymous = await post_import(http, None, content, dry_run=False)
    assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    customer_id, email = await make_customer(gql, tenant, "Portal Person")
    portal = await sign_in_by_invite(gql, db, smtp, tenant, email, customerId=customer_id)
    from_portal = await post_import(http, portal, content, dry_run=False)
    assert from_portal["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert await count(db, customers, tenant.organization_id) == 1  # the portal person
    assert await count(db, data_imports, tenant.organization_id) == 0
    _, _, admin = await add_staff(db, gql, tenant, StaffRole.ADMIN)
    done = payload(await post_import(http, admin, content, dry_run=False))
    assert done["dataImport"]["state"] == "COMMITTED"
    import_id = done["dataImport"]["id"]
    history = await gql(HISTORY, token=tenant.staff_token)
    assert history["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    node = "query ($id: ID!) { node(id: $id) { ... on DataImport { filename } } }"
    staff_node = await gql(node, {"id": import_id}, token=tenant.staff_token)
    # A row STAFF may not see answers as a missing one.
    assert staff_node["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    owner_node = await gql.data(node, {"id": import_id}, token=tenant.owner_token)
    assert owner_node["node"] == {"filename": "customers.csv"}


async def test_another_organizations_rows_are_neither_duplicates_nor_touched(
    db: Database, http: httpx.AsyncClient, gql: GraphQLClient, tenant: Tenant, other_tenant: Tenant
):
    async with db.write() as session:
        theirs = Customer(
            organization_id=other_tenant.organization_id, name="Theirs", email="same@example.test"
        )
        their_car = Car(
            organization_id=other_tenant.organization_id, make="VW", model="Golf", vin=a_vin(5)
        )
        await add_in_order(session, [theirs, their_car])
    content = csv_of(
        ["kind", "name", "email", "customerEmail", "make", "model", "vin"],
        ["customer", "Ours", "same@example.test", "", "", "", ""],
        ["car", "", "", "same@example.test", "VW", "Golf", a_vin(5)],
    )
    result = payload(await post_import(http, tenant.owner_token, content, dry_run=False))
    assert result["dataImport"]["state"] == "COMMITTED", result
    only_theirs = csv_of(["customerEmail", "make", "model"], ["same@example.test", "VW", "Up"])
    # Their customer is not ours to link to: only our own (just imported) matches.
    linked = payload(
        await post_import(http, tenant.owner_token, only_theirs, kind="CAR", dry_run=False)
    )
    assert linked["dataImport"]["state"] == "COMMITTED"
    async with db.connect() as conn:
        ours = await conn.scalar(
            sa.select(customers.c.id).where(customers.c.organization_id == tenant.organization_id)
        )
        owners = set(
            await conn.scalars(
                sa.select(cars.c.customer_id).where(
                    cars.c.organization_id == tenant.organization_id
                )
            )
        )
        assert owners == {ours}
        their_rows = (
            await conn.execute(
                sa.select(customers.c.name, customers.c.updated_at).where(
                    customers.c.organization_id == other_tenant.organization_id
                )
            )
        ).all()
    assert [r.name for r in their_rows] == ["Theirs"]
    assert await count(db, cars, other_tenant.organization_id) == 1
    stranger = csv_of(["customerEmail", "make", "model"], ["only-theirs@example.test", "VW", "Up"])
    async with db.write() as session:
        await add_in_order(
            session,
            [
                Customer(
                    organization_id=other_tenant.organization_id,
                    name="Only theirs",
                    email="only-theirs@example.test",
                )
            ],
        )
    refused = payload(await post_import(http, tenant.owner_token, stranger, kind="CAR"))
    assert errors_of(refused) == [(2, "customerEmail", "UNKNOWN_CUSTOMER")]
    history = await gql.data(HISTORY, token=other_tenant.owner_token)
    assert history["organization"]["dataImports"]["nodes"] == []
    node = "query ($id: ID!) { node(id: $id) { id } }"
    ours_id = result["dataImport"]["id"]
    hidden = await gql(node, {"id": ours_id}, token=other_tenant.owner_token)
    assert hidden["errors"][0]["extensions"]["code"] == "NOT_FOUND"


def _generated(rows: int, bad_row: int | None = None) -> bytes:
    """`rows` rows: customers, each followed by their car (the spreadsheet row `bad_row`,
    counting the header as 1, with an email or a VIN that is not one)."""
    lines = ["kind,name,email,customerEmail,make,model,vin"]
    for n in range(rows):
        number = n + 2
        if n % 2 == 0:
            email = "broken-at-the-end" if number == bad_row else f"c{n}@bulk.test"
            lines.append(f"customer,Customer {n},{email},,,,")
        else:
            vin = "NOT-A-VIN" if number == bad_row else a_vin(n)
            lines.append(f"car,,,c{n - 1}@bulk.test,Ford,Model {n},{vin}")
    return ("\n".join(lines) + "\n").encode()


async def test_ten_thousand_rows_in_a_number_of_statements_that_does_not_grow_per_row(
    db: Database, http: httpx.AsyncClient, tenant: Tenant, count_statements: Any
):
    small = _generated(100)
    count_statements.statements.clear()
    assert (
        payload(await post_import(http, tenant.owner_token, small, dry_run=True))["dataImport"][
            "errorCount"
        ]
        == 0
    )
    for_100 = count_statements.count
    content = _generated(10_000)
    count_statements.statements.clear()
    result = payload(await post_import(http, tenant.owner_token, content, dry_run=False))
    for_10_000 = count_statements.count
    assert result["dataImport"]["state"] == "COMMITTED", result["dataImport"]["errors"][:3]
    assert await count(db, customers, tenant.organization_id) == 5_000
    assert await count(db, cars, tenant.organization_id) == 5_000
    # Batches of 1,000: a look-up and an insert per batch and table, never one per row.
    assert for_10_000 - for_100 <= 30, (for_100, for_10_000)
    print(f"statements: {for_100} for 100 rows (dry run), {for_10_000} for 10,000 (commit)")


async def test_an_error_on_row_9999_writes_nothing(
    db: Database, http: httpx.AsyncClient, tenant: Tenant
):
    content = _generated(10_000, bad_row=9_999)
    result = payload(await post_import(http, tenant.owner_token, content, dry_run=False))
    assert result["dataImport"]["state"] == "FAILED"
    assert errors_of(result) == [(9_999, "vin", "INVALID")]
    assert await count(db, customers, tenant.organization_id) == 0
    assert await count(db, cars, tenant.organization_id) == 0


async def test_the_history_keeps_every_import_newest_first(
    db: Database, http: httpx.AsyncClient, gql: GraphQLClient, tenant: Tenant
):
    good = csv_of(["name", "email"], ["Ada", "ada@example.test"])
    bad = csv_of(["name", "email"], ["Bob", "bob"])
    await post_import(http, tenant.owner_token, bad, filename="first.csv")
    await post_import(http, tenant.owner_token, good, dry_run=False, filename="second.csv")
    history = await gql.data(HISTORY, token=tenant.owner_token)
    nodes = history["organization"]["dataImports"]["nodes"]
    assert [(n["filename"], n["state"], n["errorCount"]) for n in nodes] == [
        ("second.csv", "COMMITTED", 0),
        ("first.csv", "DRY_RUN", 1),
    ]


async def test_rows_taken_by_another_writer_after_the_checks_leave_nothing_behind(
    db: Database, http: httpx.AsyncClient, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
):
    """Another import committing the same email between this one's checks and its inserts:
    the unique constraint refuses, the savepoint rolls back, the record says FAILED."""
    async with db.write() as session:
        await add_in_order(
            session,
            [
                Customer(
                    organization_id=tenant.organization_id, name="Raced", email="race@example.test"
                )
            ],
        )

    async def blind(*args: Any) -> dict[str, uuid.UUID]:
        return {}  # the checks ran before the other writer committed

    monkeypatch.setattr(csv_import, "_existing_customers", blind)
    content = csv_of(["name", "email"], ["New", "new@example.test"], ["Raced", "race@example.test"])
    result = payload(await post_import(http, tenant.owner_token, content, dry_run=False))
    assert result["dataImport"]["state"] == "FAILED"
    assert result["dataImport"]["customersCreated"] == 0
    assert [(e["field"][-1], e["code"]) for e in result["userErrors"]] == [("file", "DUPLICATE")]
    assert await count(db, customers, tenant.organization_id) == 1
    assert await count(db, data_imports, tenant.organization_id) == 1


async def test_a_file_sent_as_text_instead_of_a_multipart_part_is_refused(
    db: Database, gql: GraphQLClient, tenant: Tenant
):
    variables = {"input": {"file": "name,email\nAda,ada@example.test\n", "mapping": []}}
    answer = await gql(IMPORT, variables, token=tenant.owner_token)
    assert "errors" not in answer, answer
    result = answer["data"]["importCsv"]
    assert result["dataImport"] is None
    assert [(e["field"][-1], e["code"]) for e in result["userErrors"]] == [("file", "REQUIRED")]
    assert await count(db, data_imports, tenant.organization_id) == 0
