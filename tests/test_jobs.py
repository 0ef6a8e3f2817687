"""Jobs, maintenance schedules, condition reports and drivers' trip inspections."""

import asyncio
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa

from core.ids import decode_id
from domain.cars.updates import send_car_updates
from models import Notification, OutboxEmail
from portico.background import run_jobs
from tests.helpers import not_found_at, user_errors
from tests.portal import make_car, make_contact, make_customer, sign_in_by_invite

CREATE_JOB = """
mutation J($input: CreateJobInput!) {
  createJob(input: $input) { job { id status title } userErrors { field code } }
}
"""
COMPLETE = """
mutation C($input: CompleteJobInput!) {
  completeJob(input: $input) { job { id status completedAt mileage } userErrors { field code } }
}
"""
SCHEDULE = """
mutation S($input: MaintenanceScheduleInput!) {
  setMaintenanceSchedule(input: $input) {
    maintenanceSchedule { id name nextDueOn nextDueMileage isDue }
    userErrors { field code }
  }
}
"""
CAR = """
query C($id: ID!) {
  node(id: $id) {
    ... on Car {
      mileage
      events(first: 10) { nodes { kind notes } }
      jobs(first: 10) { nodes { title status } }
      maintenanceHistory(first: 10) { nodes { title customerNotes } }
      maintenanceSchedules { name nextDueOn nextDueMileage isDue }
      conditionReports(first: 10) { nodes { kind defectsFound summary items { area rating } } }
    }
  }
}
"""
REPORT = """
mutation R($input: CreateConditionReportInput!) {
  createConditionReport(input: $input) {
    conditionReport { id defectsFound } userErrors { field code }
  }
}
"""
INSPECT = """
mutation I($input: SubmitInspectionInput!) {
  submitInspection(input: $input) {
    conditionReport { id kind defectsFound submittedBy { id } }
    userErrors { field code }
  }
}
"""


async def test_a_completed_job_joins_the_history_and_tells_the_customer(gql, db, tenant):
    customer_id, customer_email = await make_customer(gql, tenant)
    driver_id, driver_email = await make_contact(gql, tenant, customer_id, portalScope="CARS")
    _, quiet = await make_contact(
        gql, tenant, customer_id, communicationPreferences={"carUpdates": False}
    )
    car_id = await make_car(gql, tenant, customer_id, "911")
    await gql.data(  # the driver hears about the car they drive
        "mutation U($input: UpdateContactInput!) "
        "{ updateContact(input: $input) { userErrors { code } } }",
        {"input": {"id": driver_id, "carIds": [car_id]}},
        token=tenant.staff_token,
    )
    schedule = (
        await gql.data(
            SCHEDULE,
            {
                "input": {
                    "carId": car_id,
                    "name": "Oil change",
                    "everyMonths": 12,
                    "everyMiles": 5000,
                    "lastDoneOn": "2025-01-31",
                    "lastDoneMileage": 10000,
                }
            },
            token=tenant.staff_token,
        )
    )["setMaintenanceSchedule"]["maintenanceSchedule"]
    assert schedule["nextDueOn"] == "2026-01-31" and schedule["nextDueMileage"] == 15000
    assert schedule["isDue"] is True  # a year has passed
    start = datetime.now(UTC) + timedelta(days=1)
    bad = await gql.data(
        CREATE_JOB,
        {
            "input": {
                "customerId": customer_id,
                "carId": car_id,
                "title": "Service",
                "scheduledStart": start.isoformat(),
                "scheduledEnd": (start - timedelta(hours=1)).isoformat(),
            }
        },
        token=tenant.staff_token,
    )
    assert user_errors(bad["createJob"]) == [(["input", "scheduledEnd"], "INVALID")]
    job = (
        await gql.data(
            CREATE_JOB,
            {
                "input": {
                    "customerId": customer_id,
                    "carId": car_id,
                    "title": "Annual service",
                    "kind": "SERVICE",
                    "customerNotes": "Oil and filters changed.",
                    "internalNotes": "Upsell tyres",
                }
            },
            token=tenant.staff_token,
        )
    )["createJob"]["job"]
    assert job["status"] == "SCHEDULED"
    done = (
        await gql.data(
            COMPLETE,
            {
                "input": {
                    "id": job["id"],
                    "mileage": 15200,
                    "maintenanceScheduleIds": [schedule["id"]],
                }
            },
            token=tenant.staff_token,
        )
    )["completeJob"]
    assert done["job"]["status"] == "COMPLETED" and done["job"]["mileage"] == 15200
    again = await gql.data(COMPLETE, {"input": {"id": job["id"]}}, token=tenant.staff_token)
    assert user_errors(again["completeJob"]) == [(["input", "id"], "NOT_EDITABLE")]
    car = (await gql.data(CAR, {"id": car_id}, token=tenant.staff_token))["node"]
    assert car["mileage"] == 15200
    assert {"kind": "SERVICE", "notes": "Oil and filters changed."} in car["events"]["nodes"]
    assert car["maintenanceHistory"]["nodes"] == [
        {"title": "Annual service", "customerNotes": "Oil and filters changed."}
    ]
    moved = car["maintenanceSchedules"][0]
    assert moved["nextDueMileage"] == 20200 and moved["isDue"] is False
    assert date.fromisoformat(moved["nextDueOn"]) > date.today()
    _, row_id = decode_id(job["id"])
    # The email joins the car updates, sent when their window closes.
    later = datetime.now(UTC) + timedelta(minutes=16)
    assert await send_car_updates(db, later, organization_id=tenant.organization_id) >= 2
    async with db.connect() as conn:
        told = await conn.scalar(
            sa.select(sa.func.count())
            .select_from(Notification)
            .where(Notification.subject_id == row_id, Notification.kind == "CAR_READY")
        )
        mailed = (
            (
                await conn.execute(
                    sa.select(OutboxEmail.to_address).where(
                        OutboxEmail.organization_id == tenant.organization_id,
                        OutboxEmail.kind == "CAR_UPDATES",
                    )
                )
            )
            .scalars()
            .all()
        )
    assert told == 1
    assert sorted(mailed) == sorted([customer_email, driver_email]) and quiet not in mailed


async def test_portal_viewers_see_their_jobs_without_staff_notes(gql, db, smtp, tenant):
    customer_id, email = await make_customer(gql, tenant)
    other_id, _ = await make_customer(gql, tenant)
    for owner, title in ((customer_id, "Detailing"), (other_id, "Not yours")):
        await gql.data(
            CREATE_JOB,
            {"input": {"customerId": owner, "title": title, "internalNotes": "secret"}},
            token=tenant.staff_token,
        )
    token = await sign_in_by_invite(gql, db, smtp, tenant, email, customerId=customer_id)
    seen = await gql(
        "{ viewer { customer { jobs(first: 10) { nodes { id title internalNotes } } } } }",
        token=token,
    )
    nodes = seen["data"]["viewer"]["customer"]["jobs"]["nodes"]
    assert [(n["title"], n["internalNotes"]) for n in nodes] == [("Detailing", None)]
    assert {e["extensions"]["code"] for e in seen["errors"]} == {"FORBIDDEN"}
    plain = await gql.data(
        "{ viewer { customer { jobs(first: 10) { nodes { id title } } } } }", token=token
    )
    assert [n["title"] for n in plain["viewer"]["customer"]["jobs"]["nodes"]] == ["Detailing"]
    staff_view = await gql.data(
        "query C($id: ID!) { node(id: $id) { ... on Customer { jobs(first: 5) "
        "{ nodes { id } } } } }",
        {"id": other_id},
        token=tenant.staff_token,
    )
    theirs = staff_view["node"]["jobs"]["nodes"][0]["id"]
    hidden = await gql("query J($id: ID!) { node(id: $id) { id } }", {"id": theirs}, token=token)
    assert hidden["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_condition_reports_keep_staff_notes_from_the_portal(gql, db, smtp, tenant):
    customer_id, email = await make_customer(gql, tenant)
    car_id = await make_car(gql, tenant, customer_id, "356")
    bad = await gql.data(
        REPORT,
        {"input": {"carId": car_id, "items": [{"area": "Paint", "rating": 9}]}},
        token=tenant.staff_token,
    )
    assert user_errors(bad["createConditionReport"]) == [
        (["input", "items", "0", "rating"], "INVALID")
    ]
    made = await gql.data(
        REPORT,
        {
            "input": {
                "carId": car_id,
                "mileage": 40000,
                "summary": "Good overall",
                "internalNotes": "Owner is picky",
                "items": [{"area": "Paint", "rating": 4}, {"area": "Tyres", "rating": 2}],
            }
        },
        token=tenant.staff_token,
    )
    assert made["createConditionReport"]["conditionReport"]["defectsFound"] is True
    token = await sign_in_by_invite(gql, db, smtp, tenant, email, customerId=customer_id)
    query = """query C($id: ID!) { node(id: $id) { ... on Car {
      conditionReports(first: 5) { nodes { summary internalNotes } } } } }"""
    seen = await gql(query, {"id": car_id}, token=token)
    assert seen["data"]["node"]["conditionReports"]["nodes"][0]["summary"] == "Good overall"
    assert seen["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert seen["data"]["node"]["conditionReports"]["nodes"][0] is None or (
        seen["data"]["node"]["conditionReports"]["nodes"][0].get("internalNotes") is None
    )


async def test_a_driver_inspects_the_car_they_drive_and_only_that_one(gql, db, smtp, tenant):
    customer_id, _ = await make_customer(gql, tenant, "Fleet Co")
    driven = await make_car(gql, tenant, customer_id, "Transit")
    other = await make_car(gql, tenant, customer_id, "Sprinter")
    contact_id, email = await make_contact(
        gql, tenant, customer_id, role="DRIVER", portalScope="CARS"
    )
    await gql.data(
        "mutation U($input: UpdateContactInput!) "
        "{ updateContact(input: $input) { userErrors { code } } }",
        {"input": {"id": contact_id, "carIds": [driven]}},
        token=tenant.staff_token,
    )
    token = await sign_in_by_invite(gql, db, smtp, tenant, email, contactId=contact_id)
    items = [{"area": "Brakes", "rating": 5}, {"area": "Lights", "rating": 1, "notes": "Left out"}]
    done = (
        await gql.data(
            INSPECT,
            {"input": {"carId": driven, "kind": "PRE_TRIP", "items": items, "mileage": 500}},
            token=token,
        )
    )["submitInspection"]
    report = done["conditionReport"]
    assert report["kind"] == "PRE_TRIP" and report["defectsFound"] is True
    assert report["submittedBy"] == {"id": contact_id}
    refused = await gql(
        INSPECT, {"input": {"carId": other, "kind": "PRE_TRIP", "items": items}}, token=token
    )
    not_found_at(refused, "carId")
    _, row_id = decode_id(report["id"])
    async with db.connect() as conn:
        told = await conn.scalar(
            sa.select(sa.func.count())
            .select_from(Notification)
            .where(Notification.subject_id == row_id, Notification.recipient_staff_id.is_not(None))
        )
    assert told == 2  # owner and staff member


UPLOAD_JOB_PHOTO = """
mutation U($input: UploadJobPhotoInput!) {
  uploadJobPhoto(input: $input) { photo { id stage caption url } userErrors { field code } }
}
"""


async def test_a_job_gallery_takes_photos_by_stage(gql, http, db, smtp, tenant):
    from tests.test_files import EXE_BYTES, PNG_BYTES, upload

    customer_id, email = await make_customer(gql, tenant)
    other_id, other_email = await make_customer(gql, tenant)
    job = (
        await gql.data(
            CREATE_JOB,
            {"input": {"customerId": customer_id, "title": "Paint correction"}},
            token=tenant.staff_token,
        )
    )["createJob"]["job"]
    before = await upload(
        http,
        tenant.staff_token,
        UPLOAD_JOB_PHOTO,
        {"jobId": job["id"], "stage": "BEFORE", "caption": "Swirls"},
        PNG_BYTES,
        filename="before.png",
        content_type="image/png",
    )
    photo = before.json()["data"]["uploadJobPhoto"]["photo"]
    assert photo["stage"] == "BEFORE" and photo["caption"] == "Swirls"
    bad = await upload(
        http,
        tenant.staff_token,
        UPLOAD_JOB_PHOTO,
        {"jobId": job["id"]},
        EXE_BYTES,
        filename="x.png",
        content_type="image/png",
    )
    assert user_errors(bad.json()["data"]["uploadJobPhoto"]) == [
        (["input", "file"], "UNSUPPORTED_TYPE")
    ]
    token = await sign_in_by_invite(gql, db, smtp, tenant, email, customerId=customer_id)
    seen = await gql.data(
        "{ viewer { customer { jobs(first: 5) { nodes { photos(first: 5) { nodes { url } } } } } } "
        "}",
        token=token,
    )
    url = seen["viewer"]["customer"]["jobs"]["nodes"][0]["photos"]["nodes"][0]["url"]
    path = url.split("://", 1)[1].split("/", 1)[1]
    got = await http.get("/" + path)
    assert got.status_code == 200 and got.content == PNG_BYTES
    stranger = await sign_in_by_invite(gql, db, smtp, tenant, other_email, customerId=other_id)
    hidden = await gql(
        "query P($id: ID!) { node(id: $id) { id } }", {"id": photo["id"]}, token=stranger
    )
    assert hidden["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_a_time_without_its_offset_is_a_user_error_beside_one_with_it(gql, tenant):
    """A start without its offset next to an end with one was compared all the same: the
    comparison of the two failed, and the client got "Unexpected error." (an ERROR line)."""
    customer_id, _ = await make_customer(gql, tenant)
    end = datetime.now(UTC) + timedelta(days=1)
    for start, finish in (
        ("2030-05-01T09:00:00", end.isoformat()),
        (end.isoformat(), "2030-05-01T09:00:00"),
    ):
        made = await gql.data(
            CREATE_JOB,
            {
                "input": {
                    "customerId": customer_id,
                    "title": "Service",
                    "scheduledStart": start,
                    "scheduledEnd": finish,
                }
            },
            token=tenant.staff_token,
        )
        naive = "scheduledStart" if start.startswith("2030") else "scheduledEnd"
        assert user_errors(made["createJob"]) == [(["input", naive], "INVALID")]


async def test_a_new_schedule_without_its_car_is_a_user_error(gql, tenant):
    """Neither `id` nor `carId`: the missing car was decoded all the same, and the client
    got "Unexpected error." (an ERROR line)."""
    made = await gql.data(
        SCHEDULE, {"input": {"name": "Oil change", "everyMonths": 12}}, token=tenant.staff_token
    )
    assert user_errors(made["setMaintenanceSchedule"]) == [(["input", "carId"], "REQUIRED")]


async def test_a_shutdown_stops_a_long_job_at_once_and_the_next_run_finishes_it():
    """A catch-up can take minutes; SIGTERM must not wait for it. The job is cancelled (its
    open transaction rolls back, as after a crash) and the loop returns."""
    started, cancelled, later = asyncio.Event(), asyncio.Event(), []

    async def long_job(db: object) -> str:
        started.set()
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return "finished"

    async def next_job(db: object) -> str:
        later.append(db)
        return "ran"

    stop = asyncio.Event()
    loop = asyncio.create_task(
        run_jobs(None, stop, 3600, [("long", long_job), ("next", next_job)])  # type: ignore[arg-type]
    )
    await asyncio.wait_for(started.wait(), 5)
    stop.set()
    await asyncio.wait_for(loop, 5)  # not an hour
    assert cancelled.is_set() and later == []  # stopped there: no further job started
