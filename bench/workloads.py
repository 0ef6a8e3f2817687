"""The workloads: which query, which viewers, and what the baseline serves for the same thing.

Each workload turns the tokens file into (token, JSON body) items that the load rotates
through: Portico's `POST /graphql` bodies and, where a baseline exists, the baseline's.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from typing import Any

from bench.queries import DASHBOARD, DEEP_PAGE, STAFF_DETAIL, STAFF_LIST, UPDATE_CUSTOMER
from bench.write_workloads import MUTATIONS

Item = tuple[str, str]
MUTATION_ITEMS = 5000


@dataclass(frozen=True)
class Workload:
    name: str
    description: str
    baseline_path: str | None = None  # None: no baseline for this workload
    writes: bool = False  # write_mix: mutations at a low rate beside the reads

    def portico_items(self, tokens: dict[str, Any]) -> list[Item]:
        return [
            (token, _graphql(query, variables)) for token, query, variables in self._rows(tokens)
        ]

    def baseline_items(self, tokens: dict[str, Any]) -> list[Item]:
        return [(token, json.dumps(variables)) for token, _, variables in self._rows(tokens)]

    def _rows(self, tokens: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
        orgs = tokens["organizations"]
        match self.name:
            case "dashboard":
                return [(p["token"], DASHBOARD, {}) for org in orgs for p in org["portal"]]
            case "staff_list" | "write_mix":
                return [(org["staff_token"], STAFF_LIST, {"search": None}) for org in orgs]
            case "staff_detail":
                return [
                    (org["staff_token"], STAFF_DETAIL, {"id": org["detail_customer"]["gid"]})
                    for org in orgs
                ]
            case "staff_detail_rotating":
                # A different customer each request, as staff open one after another.
                return [
                    (org["staff_token"], STAFF_DETAIL, {"id": customer["gid"]})
                    for org in orgs
                    for customer in org["customers"]
                ]
            case "deep_page_1":
                return [(org["staff_token"], DEEP_PAGE, {"after": None}) for org in orgs]
            case "deep_page_100":
                return [
                    (org["staff_token"], DEEP_PAGE, {"after": org["deep_cursor"]}) for org in orgs
                ]
        raise KeyError(self.name)

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
            items.append((org["staff_token"], _graphql(UPDATE_CUSTOMER, variables)))
        return items


def _graphql(query: str, variables: dict[str, Any]) -> str:
    return json.dumps({"query": query, "variables": variables})


WORKLOADS = {
    w.name: w
    for w in [
        Workload("dashboard", "A portal viewer's dashboard (DASHBOARD)", "/dashboard"),
        Workload("staff_list", "Staff list of 50 customers, no search (STAFF_LIST)", "/staff-list"),
        Workload("staff_detail", "One customer with everything (STAFF_DETAIL)"),
        Workload(
            "staff_detail_rotating",
            "STAFF_DETAIL for every customer in turn: a new id each request",
        ),
        Workload("deep_page_1", "Customer list, 4 per page, first page (DEEP_PAGE)"),
        Workload(
            "deep_page_100",
            "Customer list, 4 per page, the deep page (DEEP_PAGE; see the deep-page table)",
        ),
        Workload(
            "write_mix",
            "Staff list reads while UPDATE_CUSTOMER mutations run at a low rate",
            writes=True,
        ),
    ]
}

# The write workloads (createCustomer, sendMessage, recordPayment, approveEstimate), each
# against its hand-written twin: `python -m bench.writes` (bench/write_workloads.py).
WRITE_WORKLOADS = tuple(MUTATIONS)
