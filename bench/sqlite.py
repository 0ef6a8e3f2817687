"""Portico on SQLite against Portico on PostgreSQL, on the same generated data.

`bench.generate --sqlite` writes the PostgreSQL database's rows and sessions into a SQLite
file; `bench.run --database sqlite` serves Portico on it beside Portico on PostgreSQL and the
baseline, checks here that both Portico servers answer each workload alike, and reports
SQLite's figures against PostgreSQL's (`sqlite_section`).
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from bench.baseline import STAFF_LIST_SEARCHES, _grants, _spread, first_difference
from bench.report import Key, count, median, num, paired_ratio, ratio, table
from bench.workloads import WORKLOADS

PER_WORKLOAD = 6  # requests compared per workload, spread over its rotation

Case = tuple[str, str, dict[str, Any]]  # name, token, request body


def cases(tokens: dict[str, Any], names: list[str], page2: dict[str, str | None]) -> list[Case]:
    """Requests spread over each workload's rotation; with the staff list, also searched and
    on its second page."""
    from bench.queries import STAFF_LIST

    out: list[Case] = []
    for name in names:
        workload = WORKLOADS[name]
        if workload.writes:
            continue
        for i, (token, query, variables) in enumerate(_spread(workload.rows(tokens), PER_WORKLOAD)):
            label = f"{name} #{i + 1} {json.dumps(variables)[:60]}"
            out.append((label, token, {"query": query, "variables": variables}))
    if "staff_list" in names:
        for org in tokens["organizations"]:
            pages: list[tuple[str | None, str | None]] = [(s, None) for s in STAFF_LIST_SEARCHES]
            if page2.get(org["id"]):
                pages.append((None, page2[org["id"]]))
            for search, after in pages:
                variables = {"search": search, "after": after}
                label = f"staff_list org {org['id'][:8]} search={search!r} after={bool(after)}"
                body = {"query": STAFF_LIST, "variables": variables}
                out.append((label, org["staff_token"], body))
    return out


async def check(
    postgres_url: str, sqlite_url: str, tokens: dict[str, Any], names: list[str]
) -> list[str]:
    """Ask both Portico servers each case twice and compare their second answers (the
    prepared path the load measures; the first goes through the executor): one line per
    case, prefixed OK or DIFF."""
    from bench.queries import STAFF_LIST

    lines: list[str] = []
    async with httpx.AsyncClient(timeout=30) as client:
        page2: dict[str, str | None] = {}
        for org in tokens["organizations"]:
            response = await client.post(
                f"{postgres_url}/graphql",
                json={"query": STAFF_LIST, "variables": {"search": None}},
                headers={"Authorization": f"Bearer {org['staff_token']}"},
            )
            try:
                page2[org["id"]] = response.json()["data"]["customers"]["pageInfo"]["endCursor"]
            except (ValueError, KeyError, TypeError):
                page2[org["id"]] = None
        for name, token, body in cases(tokens, names, page2):
            headers = {"Authorization": f"Bearer {token}"}
            answers = []
            for base in (postgres_url, sqlite_url):
                await client.post(f"{base}/graphql", json=body, headers=headers)
                answers.append(await client.post(f"{base}/graphql", json=body, headers=headers))
            lines.append(compare(name, *answers))
    return lines


def compare(name: str, postgres: httpx.Response, sqlite: httpx.Response) -> str:
    try:
        a, b = postgres.json(), sqlite.json()
    except ValueError:
        return f"DIFF {name}: not JSON: {postgres.text[:200]!r} / {sqlite.text[:200]!r}"
    status = f"{postgres.status_code}/{sqlite.status_code}"
    if postgres.status_code != sqlite.status_code:
        return f"DIFF {name}: status {status} (PostgreSQL/SQLite)"
    for which, answer in (("PostgreSQL", a), ("SQLite", b)):
        if "errors" in answer:
            return f"DIFF {name}: {which} answered with errors {answer['errors']}"
    size = f"{len(postgres.content):,} / {len(sqlite.content):,} bytes"
    if postgres.content == sqlite.content:
        return f"OK   {name}: {status}, {size}, byte-equal"
    if (difference := first_difference(a, b)) is None:
        return f"OK   {name}: {status}, {size}, equal after parsing (bytes differ)"
    if first_difference(_grants(a), _grants(b)) is None:
        return f"OK   {name}: {status}, {size}, equal, links granting the same (signed apart)"
    return f"DIFF {name}: {difference} (PostgreSQL != SQLite)"


# --- the report -----------------------------------------------------------------------


def _sum(runs: list[dict[str, Any]], *fields: str) -> float | None:
    values = [median(runs, f) for f in fields]
    return None if any(v is None for v in values) else sum(v for v in values if v is not None)


def sqlite_section(
    groups: dict[Key, list[dict[str, Any]]],
    statements: dict[str, Any],
    sqlite_statements: dict[str, Any],
    check_lines: list[str],
) -> list[str]:
    """One row per workload and setting: Portico on SQLite against Portico on PostgreSQL
    (and the baseline on PostgreSQL), with SQLite / PostgreSQL ratios."""
    settings = sorted({(k[3], k[4]) for k in groups if k[1] == "portico_sqlite"})
    if not settings:
        return []
    different = [line for line in check_lines if line.startswith("DIFF")]
    kinds = {
        "byte-for-byte": sum("byte-equal" in line for line in check_lines),
        "after parsing (bytes differ)": sum("after parsing" in line for line in check_lines),
        "with links granting the same": sum("links granting" in line for line in check_lines),
    }
    how = ", ".join(f"{n} {kind}" for kind, n in kinds.items() if n)
    lines = [
        "## SQLite against PostgreSQL",
        "",
        "Portico served on the SQLite copy of the same data (`bench.generate --sqlite`: the "
        "same rows, ids and sessions), one uvicorn worker, loaded in turn with Portico on "
        "PostgreSQL and the baseline (SQLite, PostgreSQL, baseline, SQLite, ...).",
        "",
        f"Answers compared before measuring: {len(check_lines)} cases, "
        + (
            f"all equal ({how})."
            if not different
            else f"**{len(different)} differ**: "
            + "; ".join(line.removeprefix("DIFF ") for line in different[:5])
        ),
        "",
    ]
    for workers, conc in settings:
        rows = []
        for name in WORKLOADS:
            s = groups.get((name, "portico_sqlite", "read", workers, conc), [])
            p = groups.get((name, "portico", "read", workers, conc), [])
            if not s or not p:
                continue
            b = groups.get((name, "baseline", "read", workers, conc), [])
            s_cpu = median(s, "cpu_ms_per_req")
            p_cpu = _sum(p, "cpu_ms_per_req", "db_cpu_ms_per_req")
            rows.append(
                [
                    name,
                    num(median(s, "rps")),
                    num(median(p, "rps")),
                    num(median(b, "rps")) if b else "—",
                    ratio(paired_ratio(s, p)),
                    ratio(paired_ratio(s, b)) if b else "—",
                    f"{num(s_cpu, 2)} / {num(median(p, 'cpu_ms_per_req'), 2)} + "
                    f"{num(median(p, 'db_cpu_ms_per_req'), 2)}",
                    ratio(s_cpu / p_cpu) if s_cpu and p_cpu else "—",
                    f"{num(median(s, 'p50_ms'))} / {num(median(p, 'p50_ms'))}",
                    f"{num(median(s, 'p99_ms'))} / {num(median(p, 'p99_ms'))}",
                    f"{count(sqlite_statements.get(name))} / {count(statements.get(name))}",
                    f"{num(median(s, 'rss_mib'), 0)} / {num(median(p, 'rss_mib'), 0)}",
                ]
            )
        headers = [
            "workload", "SQLite req/s", "PostgreSQL req/s", "baseline req/s",
            "req/s SQLite / PostgreSQL", "req/s SQLite / baseline",
            "CPU ms/req SQLite / PostgreSQL server + DB", "CPU SQLite / PostgreSQL",
            "p50 ms (S / P)", "p99 ms (S / P)", "SQL/req (S / P)", "RSS MiB (S / P)",
        ]  # fmt: skip
        lines += [f"### {workers} worker(s), concurrency {conc}", "", *table(headers, rows), ""]
    lines += [
        "*req/s SQLite / PostgreSQL* is the median over adjacent run pairs, as the baseline "
        "ratio is. SQLite runs in Portico's process (aiosqlite's thread), so its server CPU "
        "includes the database's; PostgreSQL's is the server's plus its backends' "
        "(*CPU SQLite / PostgreSQL* compares the totals). *SQL/req* counted in process on each "
        "database, as for the summary.",
        "",
    ]
    return lines
