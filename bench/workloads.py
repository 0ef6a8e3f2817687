"""The workloads: which query, which viewers, and what the baseline serves for the same thing.

Each workload turns the tokens file into (token, JSON body) items that the load rotates
through: Portico's `POST /graphql` bodies and the baseline's (`POST /<path>` with the same
variables). Ids, searches, cursors and weeks rotate over the data as real clients send them.
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bench import queries as q
from bench.write_workloads import MUTATIONS

Item = tuple[str, str]
Row = tuple[str, str, dict[str, Any]]  # token, query, variables
MUTATION_ITEMS = 5000
# Searches staff type into the customer and car lists: names, a company word, a model, a year.
CUSTOMER_SEARCHES = ["morgan", "kim", "priya", "motor club", "555-01", "lin", "okafor", "grace"]
CAR_SEARCHES = ["porsche", "911", "jaguar", "e-type", "corvette", "1967", "land cruiser", "db5"]
WEEKS = 26


@dataclass(frozen=True)
class Workload:
    name: str
    description: str
    baseline_path: str | None = None  # None: no baseline for this workload
    writes: bool = False  # write_mix: mutations at a low rate beside the reads
    rotating: bool = False  # a different id, search, cursor or week each request

    def portico_items(self, tokens: dict[str, Any]) -> list[Item]:
        return [
            (token, _graphql(query, variables)) for token, query, variables in self.rows(tokens)
        ]

    def baseline_items(self, tokens: dict[str, Any]) -> list[Item]:
        return [
            (token, json.dumps(self.baseline_variables(query, variables)))
            for token, query, variables in self.rows(tokens)
        ]

    def baseline_variables(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        """What the baseline is sent: the variables, or the id a query holds as a literal."""
        if self.name == "node_literal":
            found = re.search(r'node\(id: "([^"]+)"\)', query)
            return {"id": found.group(1) if found else None}
        return variables

    def rows(self, tokens: dict[str, Any]) -> list[Row]:
        """(token, query, variables) for each request, in the order the load sends them."""
        return ROWS[self.name](tokens["organizations"], tokens)

    def mutation_items(self, tokens: dict[str, Any], seed: int = 1) -> list[Item]:
        """UPDATE_CUSTOMER on random customers of each organization, with new phone numbers."""
        rng = random.Random(seed)
        orgs = tokens["organizations"]
        items = []
        for i in range(MUTATION_ITEMS):
            org = orgs[i % len(orgs)]
            customer = rng.choice(org["customers"])
            phone = f"(773) 555-{rng.randint(0, 9999):04d}"
            variables = {"input": {"id": customer["gid"], "phone": phone}}
            items.append((org["staff_token"], _graphql(q.UPDATE_CUSTOMER, variables)))
        return items


def _graphql(query: str, variables: dict[str, Any]) -> str:
    return json.dumps({"query": query, "variables": variables})


def _interleave(per_org: list[list[Row]]) -> list[Row]:
    """One organization's requests after another's in turn, as their staff work at once."""
    out: list[Row] = []
    for i in range(max((len(rows) for rows in per_org), default=0)):
        out += [rows[i] for rows in per_org if i < len(rows)]
    return out


def _staff(orgs: list[dict[str, Any]], query: str, variables: list[dict[str, Any]]) -> list[Row]:
    return [(org["staff_token"], query, v) for v in variables for org in orgs]


def weeks(tokens: dict[str, Any]) -> list[dict[str, str]]:
    """Monday-to-Monday weeks from the one holding the data's `now`, WEEKS of them."""
    now = datetime.fromisoformat(tokens["now"])
    monday = now - timedelta(days=now.weekday())
    out = []
    for i in range(WEEKS):
        start = monday + timedelta(weeks=i)
        out.append({"from": _iso(start), "to": _iso(start + timedelta(weeks=1))})
    return out


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _portal_cars(orgs: list[dict[str, Any]], tokens: dict[str, Any]) -> list[Row]:
    per_org = [
        [(p["token"], q.PORTAL_CAR, {"id": car}) for p in org["portal"] for car in p["cars"]]
        for org in orgs
    ]
    return _interleave(per_org)


def _customer_pages(orgs: list[dict[str, Any]], tokens: dict[str, Any]) -> list[Row]:
    per_org = [
        [(org["staff_token"], q.CUSTOMER_PAGE, {"id": c["gid"]}) for c in org["customers"]]
        for org in orgs
    ]
    return _interleave(per_org)


def _nodes(orgs: list[dict[str, Any]], tokens: dict[str, Any]) -> list[Row]:
    """Customers, cars and invoices in turn, each list rotated through."""
    per_org = []
    for org in orgs:
        kinds = [[c["gid"] for c in org["customers"]], org["cars"], org["invoices"]]
        longest = max(len(ids) for ids in kinds)
        ids = [kind[i % len(kind)] for i in range(longest) for kind in kinds if kind]
        per_org.append([(org["staff_token"], q.NODE, {"id": gid}) for gid in ids])
    return _interleave(per_org)


def _audit(orgs: list[dict[str, Any]], tokens: dict[str, Any]) -> list[Row]:
    """The organization's latest events, then one customer's, in turn."""
    per_org = []
    for org in orgs:
        rows: list[Row] = []
        for customer in org["customers"]:
            rows.append((org["staff_token"], q.AUDIT, {"customerId": None}))
            rows.append((org["staff_token"], q.AUDIT, {"customerId": customer["gid"]}))
        per_org.append(rows)
    return _interleave(per_org)


def _invoice_pages(orgs: list[dict[str, Any]], tokens: dict[str, Any]) -> list[Row]:
    per_org = [
        [
            (org["staff_token"], q.INVOICES_PAGE_2, {"id": p["customer"], "after": p["after"]})
            for p in org["invoice_pages"]
        ]
        for org in orgs
    ]
    return _interleave(per_org)


def _node_literal(orgs: list[dict[str, Any]], tokens: dict[str, Any]) -> list[Row]:
    per_org = [
        [(org["staff_token"], q.NODE_LITERAL % c["gid"], {}) for c in org["customers"]]
        for org in orgs
    ]
    return _interleave(per_org)


ROWS: dict[str, Any] = {
    "dashboard": lambda orgs, t: [(p["token"], q.DASHBOARD, {}) for o in orgs for p in o["portal"]],
    "staff_list": lambda orgs, t: _staff(orgs, q.STAFF_LIST, [{"search": None}]),
    "write_mix": lambda orgs, t: _staff(orgs, q.STAFF_LIST, [{"search": None}]),
    "staff_detail": lambda orgs, t: [
        (o["staff_token"], q.STAFF_DETAIL, {"id": o["detail_customer"]["gid"]}) for o in orgs
    ],
    "staff_detail_rotating": lambda orgs, t: _interleave(
        [_staff([o], q.STAFF_DETAIL, [{"id": c["gid"]} for c in o["customers"]]) for o in orgs]
    ),
    "deep_page_1": lambda orgs, t: _staff(orgs, q.DEEP_PAGE, [{"after": None}]),
    "deep_page_100": lambda orgs, t: [
        (o["staff_token"], q.DEEP_PAGE, {"after": o["deep_cursor"]}) for o in orgs
    ],
    "portal_invoices": lambda orgs, t: [
        (p["token"], q.PORTAL_INVOICES, {}) for o in orgs for p in o["portal"]
    ],
    "portal_car": _portal_cars,
    "staff_customers": lambda orgs, t: _staff(
        orgs, q.STAFF_CUSTOMERS, [{"search": None}] + [{"search": s} for s in CUSTOMER_SEARCHES]
    ),
    "customer_page": _customer_pages,
    "node": _nodes,
    "inbox": lambda orgs, t: _staff(orgs, q.INBOX, [{"unreadOnly": False}, {"unreadOnly": True}]),
    "audit": _audit,
    "week": lambda orgs, t: _staff(orgs, q.WEEK, weeks(t)),
    "invoices_page_2": _invoice_pages,
    "car_search": lambda orgs, t: _staff(orgs, q.CAR_SEARCH, [{"search": s} for s in CAR_SEARCHES]),
    "open_invoices": lambda orgs, t: _staff(orgs, q.OPEN_INVOICES, [{}]),
    "pending_estimates": lambda orgs, t: _staff(orgs, q.PENDING_ESTIMATES, [{}]),
    "node_literal": _node_literal,
}


WORKLOADS = {
    w.name: w
    for w in [
        Workload("dashboard", "A portal viewer's dashboard (DASHBOARD)", "/dashboard"),
        Workload("staff_list", "Staff list of 50 customers, no search (STAFF_LIST)", "/staff-list"),
        Workload("staff_detail", "One customer with everything (STAFF_DETAIL)"),
        Workload(
            "staff_detail_rotating",
            "STAFF_DETAIL for every customer in turn: a new id each request",
            rotating=True,
        ),
        Workload("deep_page_1", "Customer list, 4 per page, first page (DEEP_PAGE)", "/deep-page"),
        Workload(
            "deep_page_100",
            "Customer list, 4 per page, the deep page (DEEP_PAGE; see the deep-page table)",
            "/deep-page",
        ),
        Workload(
            "write_mix",
            "Staff list reads while UPDATE_CUSTOMER mutations run at a low rate",
            writes=True,
        ),
        Workload(
            "portal_invoices",
            "A portal viewer's invoices page with each invoice's signed `pdfUrl` (PORTAL_INVOICES)",
            "/portal-invoices",
            rotating=True,
        ),
        Workload(
            "portal_car",
            "A portal viewer's car page by `node(id:)`, documents with `downloadUrl`, each of "
            "the viewer's cars in turn (PORTAL_CAR)",
            "/portal-car",
            rotating=True,
        ),
        Workload(
            "staff_customers",
            "Customer list at the default page size (20), without a search and with searches "
            "in turn (STAFF_CUSTOMERS)",
            "/staff-customers",
            rotating=True,
        ),
        Workload(
            "customer_page",
            "Staff customer page: contacts, cars, invoices, estimates with decisions, documents "
            "with `downloadUrl`; every customer in turn (CUSTOMER_PAGE)",
            "/customer-page",
            rotating=True,
        ),
        Workload(
            "node",
            "`node(id:)` on customers, cars and invoices in turn (NODE)",
            "/node",
            rotating=True,
        ),
        Workload(
            "inbox",
            "Staff inbox: `conversations`, all and unread only in turn (INBOX)",
            "/inbox",
            rotating=True,
        ),
        Workload(
            "audit",
            "`auditEvents`, 25 latest: the organization's, then each customer's in turn (AUDIT)",
            "/audit",
            rotating=True,
        ),
        Workload(
            "week",
            "`appointments` of a week by date range variables, 26 weeks in turn (WEEK)",
            "/week",
            rotating=True,
        ),
        Workload(
            "invoices_page_2",
            "A customer's invoices, second page of two (nested connection with `after`), "
            "every such customer in turn (INVOICES_PAGE_2)",
            "/invoices-page-2",
            rotating=True,
        ),
        Workload(
            "car_search",
            "Car list searched by make, model or year, searches in turn (CAR_SEARCH)",
            "/car-search",
            rotating=True,
        ),
        Workload(
            "open_invoices",
            "Open and partly paid invoices, literal status list and page size (OPEN_INVOICES)",
            "/open-invoices",
        ),
        Workload(
            "pending_estimates",
            "Sent estimates waiting for a decision, literals (PENDING_ESTIMATES)",
            "/pending-estimates",
        ),
        Workload(
            "node_literal",
            "`node` with the id written into the query text: a new document per customer "
            "(NODE_LITERAL)",
            "/node-literal",
            rotating=True,
        ),
    ]
}
# The workloads a client sends (the first bench's seven are kept beside them).
CLIENT_WORKLOADS = [
    "dashboard", "portal_invoices", "portal_car", "staff_list", "staff_customers",
    "customer_page", "node", "inbox", "audit", "week", "invoices_page_2", "car_search",
    "open_invoices", "pending_estimates", "node_literal", "staff_detail_rotating",
]  # fmt: skip

# The write workloads (createCustomer, sendMessage, recordPayment, approveEstimate), each
# against its hand-written twin: `python -m bench.writes` (bench/write_workloads.py).
WRITE_WORKLOADS = tuple(MUTATIONS)
