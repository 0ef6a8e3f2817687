"""webhook_storm: Stripe's events for a set of invoices with payments in flight, delivered
as Stripe delivers under trouble: every event several times (some copies at once), in
shuffled order, part of them while PostgreSQL is killed (-9) and restarted; every answer
other than 2xx (or a broken connection, or no answer in time) is delivered again later.

The invoices end as an independent model of the events says (plain Python below, written
from Stripe's meaning of the events, not from Portico's code): what was received, refunded
and lost to a dispute. Each PaymentIntent is recorded once, each refund once, each event
id once; invoice numbers stay gap-free while staff send invoices through the outage.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import re
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from email import policy
from email.parser import BytesParser
from math import inf
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from bench.chaos import server_log
from bench.chaos.load import mixed_steps, percentile, run_clients
from bench.chaos.scenarios import (
    Report,
    _kill_postgres,
    _site,
    recovery_seconds,
)
from bench.chaos.site import Site
from payments.signature import sign_payload
from tests.private_postgres import PrivatePostgres
from tests.served import start_server, stop_server
from tests.stripe_stub import StripeStub

WEBHOOK_SECRET = "whsec_chaos_portico"
TOTAL = 25000  # each invoice: one line of 250.00
DELIVERY_TIMEOUT = 10.0  # seconds Stripe waits for an answer
MAX_ATTEMPTS = 16  # then Stripe gives up on a delivery (it tries for days; we cannot)
MAX_BACKOFF = 4.0  # Stripe backs off to hours; the storm compresses that to seconds
SENDERS = 12  # deliveries in flight at once to the endpoint

CREATE_CUSTOMER = """
mutation C($input: CreateCustomerInput!) {
  createCustomer(input: $input) { customer { id } userErrors { code } }
}
"""
INVITE = """
mutation I($input: PortalPersonInput!) {
  sendPortalInvite(input: $input) { userErrors { code } }
}
"""
REDEEM = """
mutation R($token: String!) { redeemMagicLink(input: {token: $token}) { outcome token } }
"""
CREATE_INVOICE = """
mutation C($input: CreateInvoiceInput!) {
  createInvoice(input: $input) { invoice { id } userErrors { field code } }
}
"""
SEND_INVOICE = """
mutation S($id: ID!) {
  sendInvoice(input: {id: $id}) { invoice { id number } userErrors { field code } }
}
"""
PAY = """
mutation P($input: PayInvoiceInput!) {
  payInvoice(input: $input) { payment { clientSecret } userErrors { field code } }
}
"""
LINE = {"description": "Storage, one month", "quantity": "1", "unitPrice": TOTAL}
LINK_TOKEN = re.compile(r"token=([A-Za-z0-9_\-]+)")


# -- The model: what Stripe's events mean, whatever order they come in ---------------------


@dataclass(frozen=True)
class Fact:
    """One event reduced to what it says. Stripe's objects are cumulative: a charge says
    all it has refunded so far, a dispute its amount and where it stands now."""

    kind: str  # succeeded | failed | refunded | dispute
    amount: int = 0  # received; refunded so far; disputed
    status: str = ""  # a dispute's: needs_response, under_review, won, lost


@dataclass(frozen=True)
class Money:
    """An invoice's money as it should end (and as the database says it did)."""

    status: str
    paid: int
    payments: int  # payment rows
    refunded: int
    refund_rows_total: int
    dispute: str | None


def expected(total: int, facts: list[Fact]) -> Money:
    """Money received, less what was refunded, less a dispute that was lost; an open or won
    dispute leaves the money where it is. Nothing counts before the payment succeeded."""
    received = max((f.amount for f in facts if f.kind == "succeeded"), default=0)
    if not received:
        return Money("OPEN", 0, 0, 0, 0, None)
    refunded = min(received, max((f.amount for f in facts if f.kind == "refunded"), default=0))
    disputes = [f for f in facts if f.kind == "dispute"]
    final = [f.status for f in disputes if f.status in ("won", "lost")]
    dispute = final[0].upper() if final else ("OPEN" if disputes else None)
    disputed = min(max((f.amount for f in disputes), default=0), received - refunded)
    paid = received - refunded - (disputed if dispute == "LOST" else 0)
    status = "PAID" if paid >= total else "PARTIALLY_PAID" if paid > 0 else "OPEN"
    return Money(status, paid, 1, refunded, refunded, dispute)


# What happens at Stripe to an invoice's PaymentIntent, in Stripe's own order.
# ("refund", n): n more refunded; ("dispute", n, status): the dispute now says so.
def every_kind(outcome: str) -> list[tuple[Any, ...]]:
    """A declined attempt, the payment, a refund, a dispute of the rest and its end."""
    return [("fail",), ("succeed",), ("refund", 10000), ("dispute", 15000, "needs_response"),
            ("dispute", 15000, outcome)]  # fmt: skip


OTHER_STORIES: list[list[tuple[Any, ...]]] = [
    [("succeed",)],
    [("fail",), ("succeed",)],
    [("fail",)],
    [("succeed",), ("refund", 10000)],
    [("succeed",), ("refund", 10000), ("refund", 15000)],
    [("succeed",), ("dispute", 25000, "needs_response"), ("dispute", 25000, "under_review"),
     ("dispute", 25000, "won")],
    [("succeed",), ("dispute", 25000, "needs_response")],
    [("succeed",), ("refund", 5000), ("dispute", 20000, "needs_response"),
     ("dispute", 20000, "lost"), ("refund", 0)],
]  # fmt: skip


@dataclass(frozen=True)
class Event:
    id: str
    kind: str
    body: bytes
    invoice: int  # its number
    fact: Fact


def stripe_events(
    stub: StripeStub, account: str, intent_id: str, number: int, story: list[tuple[Any, ...]]
) -> list[Event]:
    """Play a story at the stub Stripe and take the event Stripe sends at each step."""
    events: list[Event] = []

    def add(kind: str, obj: dict[str, Any], fact: Fact) -> None:
        body = stub.event(kind, obj, account)
        events.append(Event(json.loads(body)["id"], kind, body, number, fact))

    dispute_seen = False
    for step in story:
        match step:
            case ("succeed",):
                intent = stub.set_status(intent_id, "succeeded")
                add("payment_intent.succeeded", intent, Fact("succeeded", intent["amount"]))
            case ("fail",):
                declined = {
                    **stub.get(intent_id),
                    "status": "requires_payment_method",
                    "amount_received": 0,
                    "last_payment_error": {"code": "card_declined"},
                }
                add("payment_intent.payment_failed", declined, Fact("failed"))
            case ("refund", more):
                if more:
                    stub.refund_at_stripe(intent_id, more)
                charge = stub.charge(intent_id)  # a repeat of the same total when more == 0
                add("charge.refunded", charge, Fact("refunded", charge["amount_refunded"]))
            case ("dispute", amount, status):
                dispute = stub.dispute(intent_id, amount, status)
                kind = (
                    "charge.dispute.closed"
                    if status in ("won", "lost")
                    else "charge.dispute.updated"
                    if dispute_seen
                    else "charge.dispute.created"
                )
                dispute_seen = True
                add(kind, dispute, Fact("dispute", dispute["amount"], dispute["status"]))
    return events


# -- Delivering as Stripe does -----------------------------------------------------------


@dataclass
class Deliveries:
    copies: int = 0  # deliveries Stripe started (an event and its duplicates)
    attempts: int = 0  # requests made, redeliveries included
    answers: Counter[str] = field(default_factory=Counter)  # "200 APPLIED", "503 ...", "broken"
    given_up: list[str] = field(default_factory=list)  # copies never answered 2xx
    acknowledged_at: dict[str, float] = field(default_factory=dict)  # event id: first 2xx
    ack_times: list[float] = field(default_factory=list)  # every 2xx
    latencies: list[float] = field(default_factory=list)  # seconds to every answer
    last_ack: float = 0.0


async def deliver(
    http: httpx.AsyncClient,
    senders: asyncio.Semaphore,
    event: Event,
    at: float,
    started: float,
    out: Deliveries,
) -> None:
    """One copy of an event, sent at `at` seconds into the storm and again (with backoff)
    until answered 2xx, at most MAX_ATTEMPTS times."""
    out.copies += 1
    await asyncio.sleep(max(0.0, started + at - time.monotonic()))
    for attempt in range(MAX_ATTEMPTS):
        out.attempts += 1
        header = sign_payload(event.body, WEBHOOK_SECRET, int(time.time()))
        try:
            async with senders:
                sent = time.monotonic()
                answer = await http.post(
                    "/webhooks/stripe",
                    content=event.body,
                    headers={"Stripe-Signature": header, "Content-Type": "application/json"},
                )
            try:
                code = answer.json().get("code")
            except ValueError:
                code = "NOT_JSON"
            out.answers[f"{answer.status_code} {code}"] += 1
            now = time.monotonic()
            out.latencies.append(now - sent)
            if 200 <= answer.status_code < 300:
                out.ack_times.append(now)
                out.acknowledged_at.setdefault(event.id, now)
                out.last_ack = max(out.last_ack, now)
                return
        except httpx.TimeoutException:
            out.answers["no answer in time"] += 1
        except httpx.TransportError:
            out.answers["broken"] += 1
        backoff = min(MAX_BACKOFF, 0.2 * 2**attempt)
        await asyncio.sleep(backoff * random.uniform(0.5, 1.0))
    out.given_up.append(event.id)


KINDS = ("succeeded", "failed", "refunded", "dispute")
ORDERS = list(itertools.permutations(KINDS))  # the 24 orders of the four kinds of event


def schedule(
    events: list[Event], order: tuple[str, ...] | None, seconds: float, rng: random.Random
) -> list[tuple[float, Event]]:
    """One invoice's events, each sent two to four times within `seconds`: first in `order`
    of their kinds (None: any order), again later (a third of them twice at once)."""
    if order is None:
        ranked = events
        firsts = [rng.uniform(0, seconds * 0.8) for _ in ranked]
    else:  # in turn, at least half a slot apart, so that the order is the order sent
        ranked = sorted(events, key=lambda e: order.index(e.fact.kind))
        slot = seconds * 0.8 / len(ranked)
        firsts = [(i + rng.uniform(0, 0.5)) * slot for i in range(len(ranked))]
    copies = []
    for event, first in zip(ranked, firsts, strict=True):
        times = [first] + [rng.uniform(first, seconds) for _ in range(rng.randint(1, 3))]
        if rng.random() < 1 / 3:
            times[1] = first
        copies += [(at, event) for at in times]
    return copies


def kind_order(events: list[Event], at: dict[str, float]) -> tuple[str, ...]:
    """The order in which each kind of event was first acknowledged."""
    first: dict[str, float] = {}
    for event in events:
        when = at.get(event.id, float("inf"))
        first[event.fact.kind] = min(first.get(event.fact.kind, when), when)
    return tuple(sorted(first, key=lambda kind: first[kind]))


# -- Staff sending invoices through the outage (numbering) ----------------------------------


async def _mutation(
    http: httpx.AsyncClient, query: str, variables: dict[str, Any], token: str, deadline: float
) -> dict[str, Any] | None:
    """A mutation sent with an Idempotency-Key, and again with the same key until it is
    answered for certain (or `deadline`)."""
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": str(uuid.uuid4())}
    body = {"query": query, "variables": variables}
    while time.monotonic() < deadline:
        try:
            answer = await http.post("/graphql", json=body, headers=headers)
        except httpx.TransportError:
            await asyncio.sleep(0.3)
            continue
        payload = answer.json() if answer.headers.get("content-type", "").find("json") >= 0 else {}
        errors = payload.get("errors") if isinstance(payload, dict) else None
        if answer.status_code == 200 and not errors and payload.get("data"):
            return next(iter(payload["data"].values()))
        await asyncio.sleep(0.3)  # 503, OUTCOME_UNKNOWN, SERVICE_UNAVAILABLE: again, same key
    return None


async def send_invoice(
    http: httpx.AsyncClient, token: str, customer: str, deadline: float
) -> int | None:
    made = await _mutation(
        http,
        CREATE_INVOICE,
        {"input": {"customerId": customer, "lineItems": [LINE]}},
        token,
        deadline,
    )
    if made is None or made["userErrors"]:
        return None
    sent = await _mutation(http, SEND_INVOICE, {"id": made["invoice"]["id"]}, token, deadline)
    if sent is None or sent["userErrors"]:
        return None
    return int(sent["invoice"]["number"])


async def staff_sending(
    base_url: str,
    token: str,
    customer: str,
    stop: asyncio.Event,
    numbers: list[int],
    sent_at: list[float],
) -> None:
    async with httpx.AsyncClient(base_url=base_url, timeout=DELIVERY_TIMEOUT) as http:
        while not stop.is_set():
            number = await send_invoice(http, token, customer, time.monotonic() + 30)
            if number is not None:
                numbers.append(number)
                sent_at.append(time.monotonic())
            await asyncio.sleep(0.1)


# -- The scenario --------------------------------------------------------------------------


async def _gql(
    http: httpx.AsyncClient, query: str, variables: dict[str, Any], token: str = ""
) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    answer = await http.post(
        "/graphql", json={"query": query, "variables": variables}, headers=headers
    )
    body = answer.json()
    if answer.status_code != 200 or body.get("errors"):
        raise RuntimeError(f"setup request failed: {answer.status_code} {body}")
    payload = next(iter(body["data"].values()))
    if isinstance(payload, dict) and payload.get("userErrors"):
        raise RuntimeError(f"setup request refused: {payload['userErrors']}")
    return payload


async def _portal_token(
    http: httpx.AsyncClient, site: Site, staff: str, customer: str, email: str
) -> str:
    """Invite the customer to the portal and redeem the link the mail worker wrote out."""
    await _gql(http, INVITE, {"input": {"customerId": customer}}, staff)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        for path in sorted((site.directory / "mail").glob("*.eml")):
            message = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
            plain = message.get_body(preferencelist=("plain",))
            text = plain.get_content() if plain is not None else ""
            if email in str(message["To"]) and (found := LINK_TOKEN.findall(text)):
                redeemed = await _gql(http, REDEEM, {"token": found[-1]})
                if redeemed["outcome"] != "SIGNED_IN":
                    raise RuntimeError(f"the invitation did not sign in: {redeemed}")
                return str(redeemed["token"])
        await asyncio.sleep(0.2)
    raise RuntimeError("no portal invitation was written out")


async def _connect(site: Site, stub: StripeStub, slug: str) -> str:
    account = f"acct_{uuid.uuid4().hex[:16]}"
    stub.set_account(account, charges_enabled=True, details_submitted=True)
    conn = await asyncpg.connect(site.database_url.replace("+asyncpg", ""), timeout=10)
    try:
        await conn.execute(
            "UPDATE organizations SET stripe_account_id = $1, stripe_charges_enabled = true"
            " WHERE slug = $2",
            account,
            slug,
        )
    finally:
        await conn.close()
    return account


async def _stored_money(site: Site) -> tuple[dict[int, Money], dict[str, int], list[int], int, int]:
    """Per invoice number what the database says; payment rows per PaymentIntent; every
    invoice number; provider events recorded, and still waiting."""
    conn = await asyncpg.connect(site.database_url.replace("+asyncpg", ""), timeout=10)
    try:
        rows = await conn.fetch(
            """
            SELECT i.number, i.status::text AS status, i.amount_paid,
                   count(p.id) AS payments, coalesce(sum(p.refunded_amount), 0) AS refunded,
                   coalesce(sum((SELECT sum(r.amount) FROM refunds r
                                 WHERE r.payment_id = p.id)), 0) AS refund_rows,
                   max(p.dispute_status::text) AS dispute
            FROM invoices i LEFT JOIN payments p ON p.invoice_id = i.id
            WHERE i.number IS NOT NULL GROUP BY i.id
            """
        )
        intents = await conn.fetch(
            "SELECT provider_payment_intent_id AS intent, count(*) AS n FROM payments"
            " WHERE provider_payment_intent_id IS NOT NULL GROUP BY 1"
        )
        recorded = await conn.fetchval("SELECT count(*) FROM provider_events")
        waiting = await conn.fetchval(
            "SELECT count(*) FROM provider_events WHERE waiting_for IS NOT NULL"
        )
    finally:
        await conn.close()
    money = {
        r["number"]: Money(
            r["status"],
            r["amount_paid"],
            r["payments"],
            int(r["refunded"]),
            int(r["refund_rows"]),
            r["dispute"],
        )
        for r in rows
    }
    numbers = sorted(money)
    return money, {r["intent"]: r["n"] for r in intents}, numbers, recorded, waiting


async def webhook_storm(
    postgres: PrivatePostgres,
    workdir: Path,
    *,
    invoices: int = 36,
    seconds: float = 12.0,
    staff_clients: int = 2,
    seed: int = 21,
) -> Report:
    """Stripe's events for `invoices` invoices, duplicated and shuffled over `seconds`,
    PostgreSQL killed (-9) a third of the way in and restarted 2 s later."""
    report = Report(f"webhook storm: {invoices} invoices' Stripe events, PostgreSQL killed")
    rng = random.Random(seed)
    stub = StripeStub()
    stub.start()
    try:
        site = await _site(
            postgres,
            workdir,
            "storm",
            STRIPE_SECRET_KEY="sk_test_chaos",
            STRIPE_API_BASE=stub.url,
            STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET,
        )
        account = await _connect(site, stub, "storm")
        with (workdir / "server.log").open("wb") as log_file:
            server, base_url = await start_server(site.env, stderr=log_file)
        try:
            return await _storm(
                report,
                postgres,
                site,
                stub,
                account,
                base_url,
                workdir,
                invoices=invoices,
                seconds=seconds,
                staff_clients=staff_clients,
                rng=rng,
            )
        finally:
            await stop_server(server)
    finally:
        stub.stop()


async def _storm(
    report: Report,
    postgres: PrivatePostgres,
    site: Site,
    stub: StripeStub,
    account: str,
    base_url: str,
    workdir: Path,
    *,
    invoices: int,
    seconds: float,
    staff_clients: int,
    rng: random.Random,
) -> Report:
    staff = await site.sign_in(base_url, "storm")
    events: list[Event] = []
    facts: dict[int, list[Fact]] = {}
    copies: list[tuple[float, Event]] = []
    orders_sent: dict[int, tuple[str, ...]] = {}  # invoice number: order of first sending
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        email = "payer@customer.test"
        made = await _gql(
            http, CREATE_CUSTOMER, {"input": {"name": "Payer", "email": email}}, staff
        )
        customer = made["customer"]["id"]
        portal = await _portal_token(http, site, staff, customer, email)
        for k in range(invoices):
            draft = await _gql(
                http,
                CREATE_INVOICE,
                {"input": {"customerId": customer, "lineItems": [LINE]}},
                staff,
            )
            sent = await _gql(http, SEND_INVOICE, {"id": draft["invoice"]["id"]}, staff)
            number = int(sent["invoice"]["number"])
            pay = {"invoiceIds": [sent["invoice"]["id"]], "idempotencyKey": f"storm-{k:04d}"}
            await _gql(http, PAY, {"input": pay}, portal)
            intent_id = stub.objects("payment_intent")[-1]["id"]
            # Every other invoice has every kind of event, sent first in the next of the
            # 24 orders; the others take the other stories in turn.
            if k % 2 == 0:
                # A stride prime to 24: each kind leads in turn, all 24 orders in 24 invoices.
                story, order = every_kind(("lost", "won")[k // 2 % 2]), ORDERS[k // 2 * 7 % 24]
            else:
                story, order = OTHER_STORIES[k // 2 % len(OTHER_STORIES)], None
            made_events = stripe_events(stub, account, intent_id, number, story)
            events += made_events
            facts[number] = [e.fact for e in made_events]
            copies += schedule(made_events, order, seconds, rng)
            if order is not None:
                orders_sent[number] = order
        idle = await run_clients(base_url, 1, mixed_steps(staff, "Idle"), 1.0, accept=set())

    rng.shuffle(copies)
    out = Deliveries()
    stop = asyncio.Event()
    numbers_sent: list[int] = []
    staff_at: list[float] = []  # when staff had an invoice sent
    limits = httpx.Limits(max_connections=SENDERS, max_keepalive_connections=SENDERS)
    senders = asyncio.Semaphore(SENDERS)
    async with httpx.AsyncClient(
        base_url=base_url, timeout=DELIVERY_TIMEOUT, limits=limits
    ) as http:
        started = time.monotonic()
        storm = asyncio.gather(*(deliver(http, senders, e, at, started, out) for at, e in copies))
        staff_tasks = [
            asyncio.create_task(
                staff_sending(base_url, staff, customer, stop, numbers_sent, staff_at)
            )
            for _ in range(staff_clients)
        ]
        await asyncio.sleep(seconds / 3)
        await asyncio.to_thread(_kill_postgres, postgres)
        down_at = time.monotonic()
        during = sum(out.answers.values())
        await asyncio.sleep(2.0)
        await asyncio.to_thread(postgres.start)
        back = time.monotonic()
        normal = await recovery_seconds(base_url, staff, percentile(idle.latencies(), 0.99), 30)
        await storm
        stop.set()
        await asyncio.gather(*staff_tasks)
    # Recovered: Stripe's deliveries acknowledged and staff's invoices sent again.
    again = [
        min((t for t in times if t > back), default=inf) for times in (out.ack_times, staff_at)
    ]
    report.recovery_seconds = max(again) - back
    answered = sorted(out.latencies)
    report.figures["latency"] = (
        f"webhook answers p50 {percentile(answered, 0.5) * 1000:.0f} ms, p99 "
        f"{percentile(answered, 0.99) * 1000:.0f} ms; staff requests within 3x idle p99 ten in "
        f"a row {normal:.1f} s after PostgreSQL returned (the storm still going)"
    )
    report.figures["outage"] = (
        f"{back - down_at:.1f} s (PostgreSQL killed {seconds / 3:.1f} s in, restarted after "
        f"2 s; {during} answers before the kill)"
    )

    money, per_intent, numbers, recorded, waiting = await _stored_money(site)
    _check(
        report,
        events,
        facts,
        out,
        money,
        per_intent,
        numbers,
        numbers_sent,
        recorded,
        waiting,
        back,
        orders_sent,
    )
    server_log.check(report, workdir / "server.log")
    if report.recovery_seconds > 10:
        report.problems.append("events or staff not served 10 s after PostgreSQL returned")
    return report


def _check(
    report: Report,
    events: list[Event],
    facts: dict[int, list[Fact]],
    out: Deliveries,
    money: dict[int, Money],
    per_intent: dict[str, int],
    numbers: list[int],
    numbers_sent: list[int],
    recorded: int,
    waiting: int,
    back: float,
    orders_sent: dict[int, tuple[str, ...]],
) -> None:
    succeeded = sum(1 for f in facts.values() if any(x.kind == "succeeded" for x in f))
    differing = [
        f"#{n}: expected {want}, stored {money.get(n)}"
        for n, f in sorted(facts.items())
        if money.get(n) != (want := expected(TOTAL, f))
    ]
    twice = sorted(intent for intent, n in per_intent.items() if n > 1)
    # The first acknowledgement of a refund or dispute before that of its payment's success.
    early = 0
    for number in facts:
        mine = [e for e in events if e.invoice == number]
        paid = [out.acknowledged_at.get(e.id, 0) for e in mine if e.fact.kind == "succeeded"]
        charges = [
            out.acknowledged_at.get(e.id, 0) for e in mine if e.fact.kind in ("refunded", "dispute")
        ]
        early += bool(paid and charges and min(charges) < paid[0])
    acked_orders = {
        kind_order([e for e in events if e.invoice == n], out.acknowledged_at) for n in orders_sent
    }
    double_refunds = sorted(
        n for n, m in money.items() if m.refund_rows_total != m.refunded or m.refunded > TOTAL
    )
    gaps = sorted(set(range(1, max(numbers, default=0) + 1)) - set(numbers))
    report.acknowledged = len(out.acknowledged_at)
    report.stored = recorded
    report.duplicated = twice
    report.figures.update(
        {
            "events": f"{len(events)} for {len(facts)} invoices ({succeeded} paid at Stripe), "
            f"{out.copies} deliveries started (duplicates included), {out.attempts} requests "
            f"with redeliveries; {early} invoices had a refund or dispute acknowledged before "
            "their payment",
            "orders": f"succeeded / failed / refunded / disputed first sent in "
            f"{len(set(orders_sent.values()))} of the {len(ORDERS)} orders, first acknowledged "
            f"in {len(acked_orders)}",
            "answers": dict(sorted(out.answers.items())),
            "applied once": f"{recorded} event ids recorded of {len(events)} sent; payment "
            f"rows per PaymentIntent {dict(Counter(per_intent.values()))}; refunds recorded "
            f"twice on {len(double_refunds)} invoices; {waiting} kept waiting",
            "invoices": f"{len(facts) - len(differing)} of {len(facts)} as the model says; "
            f"ends {dict(Counter(expected(TOTAL, f).status for f in facts.values()))}",
            "numbering": f"{len(numbers)} invoices numbered 1..{max(numbers, default=0)}, "
            f"{len(gaps)} gaps; {len(numbers_sent)} sent by staff during the storm",
            "storm drained": f"{out.last_ack - back:.1f} s after PostgreSQL returned",
        }
    )
    if not early:
        report.problems.append(
            "no refund or dispute was acknowledged before its payment: the storm tested no "
            "early event"
        )
    if out.given_up:
        report.problems.append(f"{len(out.given_up)} deliveries never answered 2xx")
    if recorded != len(events):
        report.problems.append(f"{recorded} event ids recorded, {len(events)} events sent")
    if twice:
        report.problems.append(f"PaymentIntents recorded more than once: {twice[:5]}")
    if differing:
        report.problems.append(f"{len(differing)} invoices differ from the model: {differing[:3]}")
    if double_refunds:
        report.problems.append(f"refunds recorded twice on invoices {double_refunds[:5]}")
    if waiting:
        report.problems.append(f"{waiting} events still kept waiting for their payment")
    if gaps or len(set(numbers)) != len(numbers):
        report.problems.append(f"invoice numbers with gaps: {gaps[:10]}")
    missing = sorted(set(numbers_sent) - set(numbers))
    if missing:
        report.problems.append(f"invoices acknowledged as sent but not stored: {missing[:5]}")
    odd = [a for a in out.answers if a.split()[0] in ("400", "500", "NOT_JSON")]
    if odd:
        report.problems.append(f"answers Stripe should never get: {odd}")
