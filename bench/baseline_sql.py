"""The baseline's SQL statements, each building Portico's whole JSON response in PostgreSQL.

One statement per request: it checks the session token and returns the response body as text,
or no row when the session is not valid. Statements are SQL text written here once (one per
shape of the variables where a search or a cursor adds a condition, cached); the helpers below
only spell out the repeated JSON shapes.

How the output matches Portico's bytes: Portico's answers to a known request (the prepared
path, planner/prepared.py) are PostgreSQL's own `json_build_object`/`json_agg` text behind
`{"data":`, so the baseline builds the same tree with the same functions:
- objects are `json_build_object` (keys in the query's order), lists `json_agg` in the list's
  order, `[]` when empty; rows are numbered after the LIMIT (the database sorts only up to the
  page), and a page reads one row more to say whether there is a next one;
- global IDs are base64url without padding of "Type:<uuid hex>" (PostgreSQL's base64 breaks
  lines every 76 characters: the newlines are dropped);
- timestamps are Python's `isoformat()` of a UTC datetime: microseconds only when non-zero;
- dates are "YYYY-MM-DD", enums their names, money `{"amount": int, "currency": "USD"}`,
  quantities the shortest decimal string ("2.5", "3") as Python's `Decimal` prints them;
- signed links are marked (`"@link:<kind>:<row id hex>"`) and signed by the server, as
  Portico fills in its links after the statement.
Portico's first answer to a request goes through the executor and is compact JSON: equal
after parsing, not in bytes (bench/baseline.py's check says which).
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from datetime import datetime
from functools import cache
from typing import Any

MAX_SEARCH_WORDS = 8  # models/search.py
STAFF_PAGE = 50  # STAFF_LIST asks for first: 50


def b64url(text_sql: str) -> str:
    """base64url without padding of a text expression."""
    encoded = f"encode(convert_to({text_sql}, 'UTF8'), 'base64')"
    return f"rtrim(translate({encoded}, E'+/\\n', '-_'), '=')"


def gid(type_name: str, id_sql: str) -> str:
    """Portico's global ID of a row (core/ids.py)."""
    return b64url(f"'{type_name}:' || replace({id_sql}::text, '-', '')")


def ts(sql: str) -> str:
    """A timestamptz as Python's `datetime.isoformat()` of the UTC value."""
    utc = f"({sql} AT TIME ZONE 'UTC')"
    whole = """'YYYY-MM-DD"T"HH24:MI:SS"+00:00"'"""
    fraction = """'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"'"""
    pattern = f"CASE WHEN date_trunc('second', {utc}) = {utc} THEN {whole} ELSE {fraction} END"
    return f"to_char({utc}, {pattern})"


def obj(*fields: tuple[str, str]) -> str:
    """A JSON object with these (key, SQL expression) members, in order."""
    members = ", ".join(f"'{key}', {sql}" for key, sql in fields)
    return f"json_build_object({members})"


def money(amount_sql: str, currency_sql: str) -> str:
    return obj(("amount", amount_sql), ("currency", currency_sql))


def _alias(table_alias: str) -> str:
    return table_alias.split()[-1]


def _numbered(node_sql: str, table_alias: str, where: str, order: str, limit: int | None,
              extra: str = "") -> str:  # fmt: skip
    """The rows of `table_alias` in `order` up to `limit`, numbered after the LIMIT (the
    database sorts only up to the page), each with its JSON as `j` and its number as `rn`."""
    alias = _alias(table_alias)
    cut = f" LIMIT {limit}" if limit is not None else ""
    inner = f"SELECT {alias}.* FROM {table_alias} WHERE {where} ORDER BY {order}{cut}"
    return (
        f"SELECT {node_sql} AS j, row_number() OVER (ORDER BY {order}) AS rn{extra} "
        f"FROM ({inner}) {alias}"
    )


def array(node_sql: str, table_alias: str, where: str, order: str, limit: int | None = None) -> str:
    """A JSON array of `node_sql` for the rows of `table_alias` matching `where`, in `order`."""
    rows = _numbered(node_sql, table_alias, where, order, limit)
    return f"COALESCE((SELECT json_agg(p.j ORDER BY p.rn) FROM ({rows}) p), '[]'::json)"


def nodes(node_sql: str, table_alias: str, where: str, order: str, limit: int) -> str:
    """A connection selected as `{ nodes { ... } }`."""
    return obj(("nodes", array(node_sql, table_alias, where, order, limit)))


def connection(
    node_sql: str, table_alias: str, where: str, order: str, first: int, *,
    total: bool = False, cursor: str | None = None, count_where: str | None = None,
) -> str:  # fmt: skip
    """A connection selected as `{ [totalCount] [pageInfo { hasNextPage endCursor }] nodes }`:
    with pageInfo (a `cursor` expression given) the page and one row more are read, and
    whether that row exists is hasNextPage; totalCount counts on its own."""
    fields: list[tuple[str, str]] = []
    if total:
        counted = count_where or where  # an `after` cursor does not change the count
        fields.append(("totalCount", f"(SELECT count(*) FROM {table_alias} WHERE {counted})"))
    if cursor is None:
        fields.append(("nodes", array(node_sql, table_alias, where, order, first)))
        return obj(*fields)
    rows = _numbered(node_sql, table_alias, where, order, first + 1, f", {cursor} AS c")
    page = (
        f"SELECT count(*) > {first} AS more, "
        f"(array_agg(p.c ORDER BY p.rn DESC) FILTER (WHERE p.rn <= {first}))[1] AS last, "
        f"COALESCE(json_agg(p.j ORDER BY p.rn) FILTER (WHERE p.rn <= {first}), '[]'::json) "
        f"AS items FROM ({rows}) p"
    )
    fields.append(("pageInfo", obj(("hasNextPage", "a.more"), ("endCursor", "a.last"))))
    fields.append(("nodes", "a.items"))
    return f"(SELECT {obj(*fields)} FROM ({page}) a)"


def hex_id(sql: str) -> str:
    return f"replace({sql}::text, '-', '')"


def cursor(*values: str) -> str:
    """An `after` cursor (models/pagination.py): base64url of the JSON list of its values."""
    listed = " || ',' || ".join(f"to_json({v})::text" for v in values)
    return b64url(f"'[' || {listed} || ']'")


def by_name_cursor(t: str) -> str:
    return cursor(f"{t}.name", hex_id(f"{t}.id"))


def newest_cursor(t: str) -> str:
    return cursor(ts(f"{t}.created_at"), hex_id(f"{t}.id"))


def link(kind: str, id_sql: str) -> str:
    """Where a signed link goes: a marker the server replaces (bench/baseline.py sign_links),
    as Portico fills its links in after the statement."""
    return f"'@link:{kind}:' || {hex_id(id_sql)}"


def ref(type_name: str, t: str, table: str, key_sql: str, *fields: tuple[str, str]) -> str:
    """A related row as an object (null without one): `{ id ... }` of `table` `t`."""
    body = obj(("id", gid(type_name, f"{t}.id")), *fields)
    return (
        f"(SELECT {body} FROM {table} {t} WHERE {t}.organization_id = v.org AND {t}.id = {key_sql})"
    )


def amount_due(t: str) -> str:
    """models/derived.py: nothing on drafts and void invoices, never negative."""
    return (
        f"(CASE WHEN {t}.status IN ('DRAFT', 'VOID') THEN 0 "
        f"ELSE GREATEST({t}.total - {t}.amount_paid - {t}.credited_amount"
        f" - {t}.credit_applied, 0) END)"
    )


def is_overdue(t: str) -> str:
    """models/derived.py: due dates are days of the organization's time zone."""
    zone = f"(SELECT o.timezone FROM organizations o WHERE o.id = {t}.organization_id)"
    today = f"(statement_timestamp() AT TIME ZONE {zone})::date"
    return f"({amount_due(t)} > 0 AND {t}.due_date IS NOT NULL AND {t}.due_date < {today})"


def quantity(t: str) -> str:
    return f"trim_scale({t}.quantity_milli::numeric / 1000)::text"


LIVE_SESSION = """
    s.token_hash = $1
    AND s.revoked_at IS NULL
    AND s.expires_at > statement_timestamp()
    AND s.last_used_at > statement_timestamp() - interval '7 days'
"""

# --- sessions ---------------------------------------------------------------------------
# Each statement starts from the session the token names ($1: its SHA-256): no row when it
# is not live, and the server answers 401. `v.org` is the organization, `v.sid` the session
# (signed links name it), `v.customer` a portal viewer's customer.

STAFF_SESSION = f"""
    SELECT s.organization_id AS org, s.id AS sid, NULL::uuid AS customer
    FROM auth_sessions s JOIN staff_users u ON u.id = s.staff_user_id
    WHERE {LIVE_SESSION} AND s.kind = 'STAFF' AND u.is_active
"""
# A customer's own portal session (no contact), the portal on, the customer not archived
# nor revoked.
PORTAL_SESSION = f"""
    SELECT s.organization_id AS org, s.customer_id AS customer, s.id AS sid
    FROM auth_sessions s
    JOIN customers sc ON sc.id = s.customer_id
    JOIN portal_settings ps ON ps.organization_id = s.organization_id
    WHERE {LIVE_SESSION}
    AND s.kind = 'PORTAL' AND s.contact_id IS NULL
    AND ps.enabled AND sc.archived_at IS NULL AND sc.portal_status <> 'REVOKED'
"""


def answer(session: str, data_sql: str) -> str:
    """The statement: the session's id, organization and customer (portal), and the whole
    response body as text."""
    body = f"'{{\"data\":' || ({data_sql})::text || '}}'"
    return f"SELECT v.sid, v.org, v.customer, {body} AS body FROM ({session}) v"


def field(name: str, value_sql: str) -> str:
    """`{"name" : value}`."""
    return obj((name, value_sql))


def one(json_sql: str, table_alias: str, where: str) -> str:
    """The JSON of the row of `table_alias` matching `where` (null without one)."""
    return f"(SELECT {json_sql} FROM {table_alias} WHERE {where})"


def portal_customer(json_sql: str) -> str:
    """`{"viewer":{"customer": ...}}` for the portal viewer's own customer."""
    customer = one(
        json_sql,
        "customers c",
        "c.id = v.customer AND c.organization_id = v.org AND c.archived_at IS NULL",
    )
    return field("viewer", field("customer", customer))


def estimate_status(q: str) -> str:
    """models/derived.py: a sent estimate past its expiry reads EXPIRED."""
    return (
        f"(CASE WHEN {q}.status = 'SENT' AND {q}.expires_at IS NOT NULL "
        f"AND {q}.expires_at <= statement_timestamp() THEN 'EXPIRED' ELSE {q}.status END)"
    )


def words(alias: str, columns: tuple[str, ...], shape: tuple[bool, ...], first: int,
          numeric: str | None = None) -> str:  # fmt: skip
    """Search words as conditions from parameter `first` on: every word matches one column
    (ILIKE), a number also the `numeric` column exactly (models/search.py). Nothing for no
    words."""
    parts, n = [], first
    for is_number in shape:
        alternatives = [f"{alias}.{column} ILIKE ${n} ESCAPE '\\'" for column in columns]
        n += 1
        if numeric is not None and is_number:
            alternatives.append(f"{alias}.{numeric} = ${n}")
            n += 1
        parts.append(" AND (" + " OR ".join(alternatives) + ")")
    return "".join(parts)


# --- DASHBOARD --------------------------------------------------------------------------
# A portal viewer (a customer's own session, every portal section on): released rows only.

_EVENTS = nodes(
    obj(
        ("id", gid("CarEvent", "e.id")),
        ("kind", "e.kind"),
        ("occurredAt", ts("e.occurred_at")),
        ("notes", "e.notes"),
    ),
    "car_events e",
    "e.organization_id = v.org AND e.car_id = car.id AND NOT e.internal",
    "e.occurred_at DESC, e.id DESC",
    3,
)
_CARS = nodes(
    obj(
        ("id", gid("Car", "car.id")),
        ("make", "car.make"),
        ("model", "car.model"),
        ("year", "car.year"),
        ("licensePlate", "car.license_plate"),
        ("status", "car.status"),
        ("events", _EVENTS),
    ),
    "cars car",
    "car.organization_id = v.org AND car.customer_id = c.id AND car.archived_at IS NULL",
    "car.make, car.model, car.id",
    10,
)
_INVOICE_LINES = array(
    obj(
        ("description", "l.description"),
        ("quantity", quantity("l")),
        ("unitPrice", money("l.unit_price", "i.currency")),
        ("total", money("l.total", "i.currency")),
    ),
    "invoice_lines l",
    "l.organization_id = v.org AND l.invoice_id = i.id",
    "l.position, l.id",
)
_OPEN_INVOICES = nodes(
    obj(
        ("id", gid("Invoice", "i.id")),
        ("number", "i.number"),
        ("status", "i.status"),
        ("dueDate", "i.due_date"),
        ("isOverdue", is_overdue("i")),
        ("total", money("i.total", "i.currency")),
        ("amountDue", money(amount_due("i"), "i.currency")),
        ("lineItems", _INVOICE_LINES),
    ),
    "invoices i",
    "i.organization_id = v.org AND i.customer_id = c.id AND i.status IN ('OPEN', 'PARTIALLY_PAID')",
    "i.created_at DESC, i.id DESC",
    10,
)
_ESTIMATE_LINES = array(
    obj(
        ("description", "l.description"),
        ("optional", "l.optional"),
        ("total", money("l.total", "q.currency")),
    ),
    "estimate_lines l",
    "l.organization_id = v.org AND l.estimate_id = q.id",
    "l.position, l.id",
)
_PENDING_ESTIMATES = nodes(
    obj(
        ("id", gid("Estimate", "q.id")),
        ("number", "q.number"),
        ("status", "q.status"),
        ("validUntil", "q.valid_until"),
        ("total", money("q.total", "q.currency")),
        ("lineItems", _ESTIMATE_LINES),
    ),
    "estimates q",
    "q.organization_id = v.org AND q.customer_id = c.id AND q.status = 'SENT'",
    "q.created_at DESC, q.id DESC",
    10,
)
_UPCOMING = nodes(
    obj(
        ("id", gid("Appointment", "a.id")),
        ("title", "a.title"),
        ("kind", "a.kind"),
        ("status", "a.status"),
        ("startsAt", ts("a.starts_at")),
        ("endsAt", ts("a.ends_at")),
    ),
    "appointments a",
    "a.organization_id = v.org AND a.customer_id = c.id AND a.ends_at >= statement_timestamp()",
    "a.starts_at, a.id",
    10,
)
_DOCUMENTS = nodes(
    obj(
        ("id", gid("Document", "d.id")),
        ("name", "d.name"),
        ("kind", "d.kind"),
        ("contentType", "d.content_type"),
        ("createdAt", ts("d.created_at")),
    ),
    "documents d",
    "d.organization_id = v.org AND d.customer_id = c.id "
    "AND d.visible_in_portal AND d.archived_at IS NULL",
    "d.created_at DESC, d.id DESC",
    10,
)
_UNREAD = nodes(
    obj(("id", gid("Message", "m.id")), ("body", "m.body"), ("createdAt", ts("m.created_at"))),
    "messages m",
    "m.organization_id = v.org AND m.customer_id = c.id "
    "AND m.author_kind = 'STAFF' AND m.read_by_customer_at IS NULL",
    "m.created_at DESC, m.id DESC",
    10,
)
_CUSTOMER = obj(
    ("id", gid("Customer", "c.id")),
    ("name", "c.name"),
    ("email", "c.email"),
    ("phone", "c.phone"),
    ("cars", _CARS),
    ("openInvoices", _OPEN_INVOICES),
    ("pendingEstimates", _PENDING_ESTIMATES),
    ("upcomingAppointments", _UPCOMING),
    ("documents", _DOCUMENTS),
    ("unreadMessages", _UNREAD),
)

DASHBOARD_SQL = answer(PORTAL_SESSION, portal_customer(_CUSTOMER))

# --- STAFF_LIST and DEEP_PAGE: the customer list ----------------------------------------
# $2.. the search words, then the `after` cursor's name and id.

CUSTOMER_SEARCH = ("name", "email", "phone", "company")
_STAFF_CARS = connection(
    obj(
        ("id", gid("Car", "car.id")),
        ("make", "car.make"),
        ("model", "car.model"),
        ("year", "car.year"),
        ("status", "car.status"),
    ),
    "cars car",
    "car.organization_id = v.org AND car.customer_id = c.id AND car.archived_at IS NULL",
    "car.make, car.model, car.id",
    3,
    total=True,
)
_STAFF_OPEN_INVOICES = nodes(
    obj(
        ("id", gid("Invoice", "i.id")),
        ("number", "i.number"),
        ("dueDate", "i.due_date"),
        ("total", money("i.total", "i.currency")),
        ("amountDue", money(amount_due("i"), "i.currency")),
    ),
    "invoices i",
    "i.organization_id = v.org AND i.customer_id = c.id AND i.status IN ('OPEN', 'PARTIALLY_PAID')",
    "i.created_at DESC, i.id DESC",
    5,
)
_STAFF_NODE = obj(
    ("id", gid("Customer", "c.id")),
    ("name", "c.name"),
    ("email", "c.email"),
    ("phone", "c.phone"),
    ("company", "c.company"),
    ("portalStatus", "c.portal_status"),
    ("cars", _STAFF_CARS),
    ("openInvoices", _STAFF_OPEN_INVOICES),
)
_DEEP_NODE = obj(("id", gid("Customer", "c.id")), ("name", "c.name"), ("email", "c.email"))


@cache
def customer_list_sql(shape: tuple[bool, ...], after: bool, deep: bool) -> str:
    """STAFF_LIST (50 per page with counts) or DEEP_PAGE (4 per page), for a search of
    `shape` and with or without a cursor."""
    where = "c.organization_id = v.org AND c.archived_at IS NULL"
    where += words("c", CUSTOMER_SEARCH, shape, 2)
    n = 2 + len(shape)
    page_where = where + (f" AND (c.name, c.id) > (${n}::text, ${n + 1}::uuid)" if after else "")
    node, first = (_DEEP_NODE, 4) if deep else (_STAFF_NODE, STAFF_PAGE)
    result = connection(
        node, "customers c", page_where, "c.name, c.id", first,
        total=not deep, cursor=by_name_cursor("c"), count_where=where,
    )  # fmt: skip
    return answer(STAFF_SESSION, field("customers", result))


# --- the client workloads ----------------------------------------------------------------


def _money(t: str, column: str) -> str:
    return money(f"{t}.{column}", f"{t}.currency")


def _customer_ref(key_sql: str, *fields: str) -> str:
    columns = {"name": "cu.name", "email": "cu.email", "phone": "cu.phone"}
    return ref("Customer", "cu", "customers", key_sql, *((f, columns[f]) for f in fields))


_PORTAL_INVOICE = obj(
    ("id", gid("Invoice", "i.id")),
    ("number", "i.number"),
    ("status", "i.status"),
    ("issueDate", "i.issue_date"),
    ("dueDate", "i.due_date"),
    ("isOverdue", is_overdue("i")),
    ("pdfUrl", link("invoice-pdf", "i.id")),
    ("total", _money("i", "total")),
    ("amountDue", money(amount_due("i"), "i.currency")),
)
PORTAL_INVOICES_SQL = answer(
    PORTAL_SESSION,
    portal_customer(
        obj(
            (
                "invoices",
                connection(
                    _PORTAL_INVOICE,
                    "invoices i",
                    "i.organization_id = v.org AND i.customer_id = c.id AND i.status <> 'DRAFT'",
                    "i.created_at DESC, i.id DESC",
                    20,
                    total=True,
                    cursor=newest_cursor("i"),
                ),
            )
        )
    ),
)

_PORTAL_CAR = obj(
    ("id", gid("Car", "car.id")),
    ("make", "car.make"),
    ("model", "car.model"),
    ("year", "car.year"),
    ("vin", "car.vin"),
    ("licensePlate", "car.license_plate"),
    ("color", "car.color"),
    ("status", "car.status"),
    ("mileage", "car.mileage"),
    (
        "events",
        nodes(
            obj(
                ("id", gid("CarEvent", "e.id")),
                ("kind", "e.kind"),
                ("occurredAt", ts("e.occurred_at")),
                ("notes", "e.notes"),
            ),
            "car_events e",
            "e.organization_id = v.org AND e.car_id = car.id AND NOT e.internal",
            "e.occurred_at DESC, e.id DESC",
            10,
        ),
    ),
    (
        "documents",
        nodes(
            obj(
                ("id", gid("Document", "d.id")),
                ("name", "d.name"),
                ("kind", "d.kind"),
                ("contentType", "d.content_type"),
                ("createdAt", ts("d.created_at")),
                (
                    "downloadUrl",
                    f"CASE WHEN d.storage_key IS NOT NULL THEN {link('document', 'd.id')} END",
                ),
            ),
            "documents d",
            "d.organization_id = v.org AND d.customer_id = v.customer AND d.car_id = car.id "
            "AND d.visible_in_portal AND d.archived_at IS NULL",
            "d.created_at DESC, d.id DESC",
            10,
        ),
    ),
    (
        "appointments",
        nodes(
            obj(
                ("id", gid("Appointment", "a.id")),
                ("title", "a.title"),
                ("kind", "a.kind"),
                ("status", "a.status"),
                ("startsAt", ts("a.starts_at")),
                ("endsAt", ts("a.ends_at")),
            ),
            "appointments a",
            "a.organization_id = v.org AND a.customer_id = v.customer AND a.car_id = car.id",
            "a.starts_at, a.id",
            5,
        ),
    ),
)
# $2: the car's id.
PORTAL_CAR_SQL = answer(
    PORTAL_SESSION,
    field(
        "node",
        one(
            _PORTAL_CAR,
            "cars car",
            "car.organization_id = v.org AND car.customer_id = v.customer "
            "AND car.archived_at IS NULL AND car.id = $2",
        ),
    ),
)

_LIST_CUSTOMER = obj(
    ("id", gid("Customer", "c.id")),
    ("name", "c.name"),
    ("company", "c.company"),
    ("email", "c.email"),
    ("phone", "c.phone"),
    ("portalStatus", "c.portal_status"),
    ("createdAt", ts("c.created_at")),
)


@cache
def staff_customers_sql(shape: tuple[bool, ...]) -> str:
    """STAFF_CUSTOMERS: the default page of 20; $2.. the search words."""
    where = "c.organization_id = v.org AND c.archived_at IS NULL"
    where += words("c", CUSTOMER_SEARCH, shape, 2)
    result = connection(
        _LIST_CUSTOMER, "customers c", where, "c.name, c.id", 20,
        total=True, cursor=by_name_cursor("c"),
    )  # fmt: skip
    return answer(STAFF_SESSION, field("customers", result))


_DECISION = obj(
    ("decision", "x.decision"),
    ("reason", "x.reason"),
    ("decidedAt", ts("x.created_at")),
    ("approvedTotal", money("x.approved_total", "x.snapshot->>'currency'")),
)
_CUSTOMER_PAGE = obj(
    ("id", gid("Customer", "c.id")),
    ("name", "c.name"),
    ("company", "c.company"),
    ("email", "c.email"),
    ("phone", "c.phone"),
    ("addressLine1", "c.address_line1"),
    ("city", "c.city"),
    ("region", "c.region"),
    ("postalCode", "c.postal_code"),
    ("country", "c.country"),
    ("internalNotes", "c.internal_notes"),
    ("portalStatus", "c.portal_status"),
    ("createdAt", ts("c.created_at")),
    (
        "contacts",
        nodes(
            obj(
                ("id", gid("Contact", "k.id")),
                ("name", "k.name"),
                ("email", "k.email"),
                ("role", "k.role"),
                ("canAccessPortal", "k.can_access_portal"),
            ),
            "contacts k",
            "k.organization_id = v.org AND k.customer_id = c.id AND k.archived_at IS NULL",
            "k.name, k.id",
            20,
        ),
    ),
    (
        "cars",
        nodes(
            obj(
                ("id", gid("Car", "car.id")),
                ("make", "car.make"),
                ("model", "car.model"),
                ("year", "car.year"),
                ("licensePlate", "car.license_plate"),
                ("status", "car.status"),
            ),
            "cars car",
            "car.organization_id = v.org AND car.customer_id = c.id AND car.archived_at IS NULL",
            "car.make, car.model, car.id",
            20,
        ),
    ),
    (
        "invoices",
        connection(
            obj(
                ("id", gid("Invoice", "i.id")),
                ("number", "i.number"),
                ("status", "i.status"),
                ("dueDate", "i.due_date"),
                ("isOverdue", is_overdue("i")),
                ("total", _money("i", "total")),
                ("amountDue", money(amount_due("i"), "i.currency")),
            ),
            "invoices i",
            "i.organization_id = v.org AND i.customer_id = c.id",
            "i.created_at DESC, i.id DESC",
            10,
            total=True,
        ),
    ),
    (
        "estimates",
        nodes(
            obj(
                ("id", gid("Estimate", "q.id")),
                ("number", "q.number"),
                ("version", "q.version"),
                ("status", estimate_status("q")),
                ("validUntil", "q.valid_until"),
                ("total", _money("q", "total")),
                (
                    "decision",
                    f"(SELECT {_DECISION} FROM estimate_decisions x "
                    "WHERE x.organization_id = v.org AND x.estimate_id = q.id "
                    "AND x.version = q.version LIMIT 1)",
                ),
            ),
            "estimates q",
            "q.organization_id = v.org AND q.customer_id = c.id",
            "q.created_at DESC, q.id DESC",
            10,
        ),
    ),
    (
        "documents",
        nodes(
            obj(
                ("id", gid("Document", "d.id")),
                ("name", "d.name"),
                ("kind", "d.kind"),
                ("contentType", "d.content_type"),
                ("sizeBytes", "d.size_bytes"),
                ("visibleInPortal", "d.visible_in_portal"),
                ("createdAt", ts("d.created_at")),
                (
                    "downloadUrl",
                    f"CASE WHEN d.storage_key IS NOT NULL THEN {link('document', 'd.id')} END",
                ),
            ),
            "documents d",
            "d.organization_id = v.org AND d.customer_id = c.id AND d.archived_at IS NULL",
            "d.created_at DESC, d.id DESC",
            10,
        ),
    ),
)
# $2: the customer's id. Staff see archived customers by id too.
CUSTOMER_PAGE_SQL = answer(
    STAFF_SESSION,
    field("node", one(_CUSTOMER_PAGE, "customers c", "c.organization_id = v.org AND c.id = $2")),
)

# NODE: one statement per type the id names; $2 the row's id.
_NODE_BODIES = {
    "Customer": (
        "customers c",
        "c",
        obj(("id", gid("Customer", "c.id")), ("name", "c.name"), ("email", "c.email"),
            ("phone", "c.phone")),
    ),
    "Car": (
        "cars car",
        "car",
        obj(
            ("id", gid("Car", "car.id")),
            ("make", "car.make"),
            ("model", "car.model"),
            ("year", "car.year"),
            ("licensePlate", "car.license_plate"),
            ("carStatus", "car.status"),
            ("owner", _customer_ref("car.customer_id", "name")),
        ),
    ),
    "Invoice": (
        "invoices i",
        "i",
        obj(
            ("id", gid("Invoice", "i.id")),
            ("number", "i.number"),
            ("invoiceStatus", "i.status"),
            ("dueDate", "i.due_date"),
            ("total", _money("i", "total")),
            ("customer", _customer_ref("i.customer_id", "name")),
        ),
    ),
}  # fmt: skip
NODE_SQL = {
    type_name: answer(
        STAFF_SESSION,
        field("node", one(body, table, f"{t}.organization_id = v.org AND {t}.id = $2")),
    )
    for type_name, (table, t, body) in _NODE_BODIES.items()
}
_LITERAL_CUSTOMER = obj(
    ("id", gid("Customer", "c.id")),
    ("name", "c.name"),
    ("email", "c.email"),
    ("phone", "c.phone"),
    ("portalStatus", "c.portal_status"),
)
NODE_LITERAL_SQL = answer(
    STAFF_SESSION,
    field("node", one(_LITERAL_CUSTOMER, "customers c", "c.organization_id = v.org AND c.id = $2")),
)

_UNREAD_FROM_CUSTOMER = (
    "u.organization_id = v.org AND u.customer_id = m.customer_id "
    "AND u.author_kind <> 'STAFF' AND u.read_by_staff_at IS NULL"
)
_CONVERSATION = obj(
    ("customer", _customer_ref("m.customer_id", "name")),
    (
        "latestMessage",
        obj(
            ("id", gid("Message", "m.id")),
            ("authorKind", "m.author_kind"),
            ("body", "m.body"),
            ("createdAt", ts("m.created_at")),
        ),
    ),
    ("unreadCount", f"(SELECT count(*) FROM messages u WHERE {_UNREAD_FROM_CUSTOMER})"),
)


@cache
def inbox_sql(unread_only: bool) -> str:
    """INBOX: each customer's newest message, newest first (20 per page)."""
    where = (
        "m.organization_id = v.org AND NOT EXISTS (SELECT FROM messages n "
        "WHERE n.customer_id = m.customer_id AND (n.created_at, n.id) > (m.created_at, m.id))"
    )
    if unread_only:
        where += f" AND EXISTS (SELECT FROM messages u WHERE {_UNREAD_FROM_CUSTOMER})"
    result = connection(
        _CONVERSATION, "messages m", where, "m.created_at DESC, m.id DESC", 20,
        cursor=newest_cursor("m"),
    )  # fmt: skip
    return answer(STAFF_SESSION, field("conversations", result))


_AUDIT_EVENT = obj(
    ("id", gid("AuditEvent", "x.id")),
    ("action", "x.action"),
    ("actorKind", "x.actor_kind"),
    ("subjectType", "x.subject_type"),
    ("ip", "x.ip"),
    ("createdAt", ts("x.created_at")),
    ("actorStaff", ref("StaffUser", "su", "staff_users", "x.actor_staff_id", ("name", "su.name"))),
    ("customer", _customer_ref("x.customer_id", "name")),
)


@cache
def audit_sql(one_customer: bool) -> str:
    """AUDIT: the 25 latest events, of one customer ($2) if given."""
    where = "x.organization_id = v.org" + (" AND x.customer_id = $2" if one_customer else "")
    result = connection(
        _AUDIT_EVENT, "audit_events x", where, "x.created_at DESC, x.id DESC", 25,
        cursor=newest_cursor("x"),
    )  # fmt: skip
    return answer(STAFF_SESSION, field("auditEvents", result))


_WEEK_APPOINTMENT = obj(
    ("id", gid("Appointment", "a.id")),
    ("title", "a.title"),
    ("kind", "a.kind"),
    ("status", "a.status"),
    ("startsAt", ts("a.starts_at")),
    ("endsAt", ts("a.ends_at")),
    ("notes", "a.notes"),
    ("customer", _customer_ref("a.customer_id", "name", "phone")),
    (
        "car",
        ref(
            "Car", "cr", "cars", "a.car_id",
            ("make", "cr.make"), ("model", "cr.model"), ("licensePlate", "cr.license_plate"),
        ),
    ),
)  # fmt: skip
# $2, $3: the week's start and end.
WEEK_SQL = answer(
    STAFF_SESSION,
    field(
        "appointments",
        connection(
            _WEEK_APPOINTMENT,
            "appointments a",
            "a.organization_id = v.org AND a.starts_at >= $2 AND a.starts_at < $3",
            "a.starts_at, a.id",
            100,
        ),
    ),
)


@cache
def invoices_page_sql(after: bool) -> str:
    """INVOICES_PAGE_2: a customer ($2) and two of their invoices, after ($3, $4) if given."""
    where = "i.organization_id = v.org AND i.customer_id = c.id"
    page_where = where + (" AND (i.created_at, i.id) < ($3, $4)" if after else "")
    invoices = connection(
        obj(
            ("id", gid("Invoice", "i.id")),
            ("number", "i.number"),
            ("status", "i.status"),
            ("issueDate", "i.issue_date"),
            ("total", _money("i", "total")),
        ),
        "invoices i", page_where, "i.created_at DESC, i.id DESC", 2,
        cursor=newest_cursor("i"), count_where=where,
    )  # fmt: skip
    customer = obj(("id", gid("Customer", "c.id")), ("name", "c.name"), ("invoices", invoices))
    return answer(
        STAFF_SESSION,
        field("node", one(customer, "customers c", "c.organization_id = v.org AND c.id = $2")),
    )


CAR_SEARCH_COLUMNS = ("make", "model", "vin", "license_plate")
_SEARCHED_CAR = obj(
    ("id", gid("Car", "car.id")),
    ("make", "car.make"),
    ("model", "car.model"),
    ("year", "car.year"),
    ("licensePlate", "car.license_plate"),
    ("status", "car.status"),
    ("owner", _customer_ref("car.customer_id", "name")),
)


@cache
def car_search_sql(shape: tuple[bool, ...]) -> str:
    """CAR_SEARCH: 20 cars by make and model; $2.. the words (a number: also the year)."""
    where = "car.organization_id = v.org AND car.archived_at IS NULL"
    where += words("car", CAR_SEARCH_COLUMNS, shape, 2, numeric="year")
    result = connection(
        _SEARCHED_CAR, "cars car", where, "car.make, car.model, car.id", 20, total=True
    )
    return answer(STAFF_SESSION, field("cars", result))


OPEN_INVOICES_SQL = answer(
    STAFF_SESSION,
    field(
        "invoices",
        connection(
            obj(
                ("id", gid("Invoice", "i.id")),
                ("number", "i.number"),
                ("status", "i.status"),
                ("dueDate", "i.due_date"),
                ("isOverdue", is_overdue("i")),
                ("amountDue", money(amount_due("i"), "i.currency")),
                ("customer", _customer_ref("i.customer_id", "name", "email")),
            ),
            "invoices i",
            "i.organization_id = v.org AND i.status IN ('OPEN', 'PARTIALLY_PAID')",
            "i.created_at DESC, i.id DESC",
            25,
            total=True,
        ),
    ),
)
PENDING_ESTIMATES_SQL = answer(
    STAFF_SESSION,
    field(
        "estimates",
        nodes(
            obj(
                ("id", gid("Estimate", "q.id")),
                ("number", "q.number"),
                ("version", "q.version"),
                ("validUntil", "q.valid_until"),
                ("sentAt", ts("q.sent_at")),
                ("total", _money("q", "total")),
                ("customer", _customer_ref("q.customer_id", "name")),
                (
                    "car",
                    ref(
                        "Car", "cr", "cars", "q.car_id", ("make", "cr.make"), ("model", "cr.model")
                    ),
                ),
            ),
            "estimates q",
            "q.organization_id = v.org AND q.status = 'SENT' "
            "AND (q.expires_at IS NULL OR q.expires_at > statement_timestamp())",
            "q.created_at DESC, q.id DESC",
            25,
        ),
    ),
)


class BadInput(ValueError):
    """A cursor or id that is not one of Portico's."""


def search_args(text: str | None, numbers: bool = False) -> tuple[tuple[bool, ...], list[Any]]:
    """Portico's search words (models/search.py): the statement's shape (a word each, and
    whether it is a number that also matches a year) and its parameters in order."""

    def escape(word: str) -> str:
        return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")

    shape, args = [], []
    for word in (text or "").replace("\x00", " ").split()[:MAX_SEARCH_WORDS]:
        is_number = numbers and word.isascii() and word.isdigit() and len(word) <= 4
        shape.append(is_number)
        args.append(f"%{escape(word)}%")
        if is_number:
            args.append(int(word))
    return tuple(shape), args


def decode_cursor(cursor: str) -> list[Any]:
    """The two values of an `after` cursor: (text, id) or (ISO time, id)."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        first, hex_id = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(first, str):
            raise BadInput(cursor)
        return [first, uuid.UUID(hex=hex_id)]
    except (ValueError, TypeError, binascii.Error) as exc:
        raise BadInput(cursor) from exc


def decode_time_cursor(cursor: str) -> list[Any]:
    moment, row_id = decode_cursor(cursor)
    try:
        return [datetime.fromisoformat(moment), row_id]
    except ValueError as exc:
        raise BadInput(cursor) from exc


def decode_gid(gid_text: str) -> tuple[str, uuid.UUID]:
    """A global ID's type and row id (core/ids.py)."""
    try:
        padded = gid_text + "=" * (-len(gid_text) % 4)
        type_name, _, hex_id = base64.urlsafe_b64decode(padded.encode()).decode().partition(":")
        return type_name, uuid.UUID(hex=hex_id)
    except (ValueError, UnicodeDecodeError, binascii.Error) as exc:
        raise BadInput(gid_text) from exc
