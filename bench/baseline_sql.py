"""The baseline's two SQL statements, each building Portico's whole JSON response in PostgreSQL.

One statement per request: it checks the session token and returns the response body as text,
or no row when the session is not valid. The statements are written once here as SQL text;
the small helpers below only spell out the repeated JSON shapes.

How the output matches Portico's bytes (`json.dumps(..., separators=(",", ":"))`):
- objects come from `row_to_json` over a one-row derived table (compact, keys in order);
  `json_build_object` and `json_agg` would add spaces and newlines;
- lists are `array_to_json(array_agg(...))` (compact), `'[]'` when empty;
- global IDs are base64url without padding of "Type:<uuid hex>" (PostgreSQL's base64 breaks
  lines every 76 characters: the newlines are dropped);
- timestamps are Python's `isoformat()` of a UTC datetime: microseconds only when non-zero;
- dates are "YYYY-MM-DD", enums their names, money `{"amount": int, "currency": "USD"}`,
  quantities the shortest decimal string ("2.5", "3") as Python's `Decimal` prints them.
Text is ASCII in the generated data: `json.dumps` escapes non-ASCII characters as \\uXXXX where
PostgreSQL writes them as UTF-8, so other text would be equal after parsing but not in bytes.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid

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
    columns = ", ".join(f'{sql} AS "{key}"' for key, sql in fields)
    return f"(SELECT row_to_json(o) FROM (SELECT {columns}) o)"


def money(amount_sql: str, currency_sql: str) -> str:
    return obj(("amount", amount_sql), ("currency", currency_sql))


def array(node_sql: str, from_where: str, order: str, limit: int | None = None) -> str:
    """A JSON array of `node_sql` for the rows of `from_where`, in `order`."""
    cut = f" LIMIT {limit}" if limit is not None else ""
    rows = (
        f"SELECT row_number() OVER (ORDER BY {order}) AS rn, {node_sql} AS j "
        f"{from_where} ORDER BY {order}{cut}"
    )
    return f"COALESCE((SELECT array_to_json(array_agg(p.j ORDER BY p.rn)) FROM ({rows}) p), '[]')"


def nodes(node_sql: str, from_where: str, order: str, limit: int) -> str:
    """A connection selected as `{ nodes { ... } }`."""
    return obj(("nodes", array(node_sql, from_where, order, limit)))


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

# --- DASHBOARD ------------------------------------------------------------------------
# A portal viewer (a customer's own session, every portal section on): released rows only.

_EVENTS = nodes(
    obj(
        ("id", gid("CarEvent", "e.id")),
        ("kind", "e.kind"),
        ("occurredAt", ts("e.occurred_at")),
        ("notes", "e.notes"),
    ),
    "FROM car_events e WHERE e.organization_id = v.org AND e.car_id = car.id AND NOT e.internal",
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
    "FROM cars car WHERE car.organization_id = v.org AND car.customer_id = c.id "
    "AND car.archived_at IS NULL",
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
    "FROM invoice_lines l WHERE l.organization_id = v.org AND l.invoice_id = i.id",
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
    "FROM invoices i WHERE i.organization_id = v.org AND i.customer_id = c.id "
    "AND i.status IN ('OPEN', 'PARTIALLY_PAID')",
    "i.created_at DESC, i.id DESC",
    10,
)
_ESTIMATE_LINES = array(
    obj(
        ("description", "l.description"),
        ("optional", "l.optional"),
        ("total", money("l.total", "q.currency")),
    ),
    "FROM estimate_lines l WHERE l.organization_id = v.org AND l.estimate_id = q.id",
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
    "FROM estimates q WHERE q.organization_id = v.org AND q.customer_id = c.id "
    "AND q.status = 'SENT'",
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
    "FROM appointments a WHERE a.organization_id = v.org AND a.customer_id = c.id "
    "AND a.ends_at >= statement_timestamp()",
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
    "FROM documents d WHERE d.organization_id = v.org AND d.customer_id = c.id "
    "AND d.visible_in_portal AND d.archived_at IS NULL",
    "d.created_at DESC, d.id DESC",
    10,
)
_UNREAD = nodes(
    obj(("id", gid("Message", "m.id")), ("body", "m.body"), ("createdAt", ts("m.created_at"))),
    "FROM messages m WHERE m.organization_id = v.org AND m.customer_id = c.id "
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

DASHBOARD_SQL = f"""
SELECT '{{"data":{{"viewer":{{"customer":'
    || COALESCE((SELECT {_CUSTOMER}::text FROM customers c
                 WHERE c.id = v.customer AND c.organization_id = v.org
                 AND c.archived_at IS NULL), 'null')
    || '}}}}}}'
FROM (
    SELECT s.organization_id AS org, s.customer_id AS customer
    FROM auth_sessions s
    JOIN customers sc ON sc.id = s.customer_id
    JOIN portal_settings ps ON ps.organization_id = s.organization_id
    WHERE {LIVE_SESSION}
    AND s.kind = 'PORTAL' AND s.contact_id IS NULL
    AND ps.enabled AND sc.archived_at IS NULL AND sc.portal_status <> 'REVOKED'
) v
"""

# --- STAFF_LIST -----------------------------------------------------------------------
# $1 token hash, $2 search patterns (text[]), $3/$4 the `after` cursor's name and id.

_MATCHING = """
    c.organization_id = v.org AND c.archived_at IS NULL
    AND NOT EXISTS (
        SELECT FROM unnest($2::text[]) w(p)
        WHERE NOT COALESCE(c.name ILIKE w.p ESCAPE '\\' OR c.email ILIKE w.p ESCAPE '\\'
                           OR c.phone ILIKE w.p ESCAPE '\\' OR c.company ILIKE w.p ESCAPE '\\',
                           false)
    )
"""
_CURSOR = b64url("'[' || to_json(c.name)::text || ',\"' || replace(c.id::text, '-', '') || '\"]'")
_STAFF_CARS = obj(
    (
        "totalCount",
        "(SELECT count(*) FROM cars car WHERE car.organization_id = v.org "
        "AND car.customer_id = c.id AND car.archived_at IS NULL)",
    ),
    (
        "nodes",
        array(
            obj(
                ("id", gid("Car", "car.id")),
                ("make", "car.make"),
                ("model", "car.model"),
                ("year", "car.year"),
                ("status", "car.status"),
            ),
            "FROM cars car WHERE car.organization_id = v.org AND car.customer_id = c.id "
            "AND car.archived_at IS NULL",
            "car.make, car.model, car.id",
            3,
        ),
    ),
)
_STAFF_OPEN_INVOICES = nodes(
    obj(
        ("id", gid("Invoice", "i.id")),
        ("number", "i.number"),
        ("dueDate", "i.due_date"),
        ("total", money("i.total", "i.currency")),
        ("amountDue", money(amount_due("i"), "i.currency")),
    ),
    "FROM invoices i WHERE i.organization_id = v.org AND i.customer_id = c.id "
    "AND i.status IN ('OPEN', 'PARTIALLY_PAID')",
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

_STAFF_RESULT = obj(
    ("totalCount", f"(SELECT count(*) FROM customers c WHERE {_MATCHING})"),
    (
        "pageInfo",
        obj(
            ("hasNextPage", f"EXISTS (SELECT FROM page WHERE rn > {STAFF_PAGE})"),
            (
                "endCursor",
                f"(SELECT {_CURSOR} FROM page c WHERE rn <= {STAFF_PAGE} ORDER BY rn DESC LIMIT 1)",
            ),
        ),
    ),
    ("nodes", array(_STAFF_NODE, f"FROM page c WHERE c.rn <= {STAFF_PAGE}", "c.rn")),
)

STAFF_LIST_SQL = f"""
WITH v AS (
    SELECT s.organization_id AS org
    FROM auth_sessions s JOIN staff_users u ON u.id = s.staff_user_id
    WHERE {LIVE_SESSION} AND s.kind = 'STAFF' AND u.is_active
),
page AS (
    SELECT c.*, row_number() OVER (ORDER BY c.name, c.id) AS rn
    FROM customers c, v
    WHERE {_MATCHING}
    AND ($3::text IS NULL OR (c.name, c.id) > ($3::text, $4::uuid))
    ORDER BY c.name, c.id
    LIMIT {STAFF_PAGE + 1}
)
SELECT '{{"data":{{"customers":' || {_STAFF_RESULT}::text || '}}}}'
FROM v
"""


class BadCursor(ValueError):
    """An `after` cursor that is not one of the customer list's."""


def search_patterns(text: str | None) -> list[str]:
    """Portico's search words as ILIKE patterns (models/search.py)."""

    def escape(word: str) -> str:
        return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")

    return [f"%{escape(word)}%" for word in (text or "").split()[:MAX_SEARCH_WORDS]]


def decode_cursor(cursor: str | None) -> tuple[str | None, uuid.UUID | None]:
    """The (name, id) an `after` cursor of the customer list points at."""
    if not cursor:
        return None, None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        name, hex_id = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(name, str):
            raise BadCursor(cursor)
        return name, uuid.UUID(hex=hex_id)
    except (ValueError, TypeError, binascii.Error) as exc:
        raise BadCursor(cursor) from exc
