"""The Markdown report: the machine, the command, the data, then one table per workload.

Every figure is the median over the runs of one (workload, server, workers, concurrency).
"""

from __future__ import annotations

import platform
import statistics
import subprocess
from collections import defaultdict
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path
from typing import Any

from bench.workloads import WORKLOADS

PACKAGES = [
    "strawberry-graphql",
    "graphql-core",
    "sqlalchemy",
    "asyncpg",
    "uvicorn",
    "starlette",
    "uvloop",
    "httptools",
]

HOW_TO_READ = """\
**How to read this.** Both servers ran on this machine with the same number of uvicorn worker
processes, against the same PostgreSQL database (also on this machine), and were loaded in turns
(Portico, baseline, Portico, baseline, ...) by the same load generator over loopback; each run
lasted the stated duration after a 1 s warm-up. *req/s* is completed requests per second over
the run; *ratio* is Portico's req/s divided by the baseline's, taken per adjacent pair of runs
(so slow drift of the machine cancels) and then the median. Latencies are per request as the
load generator saw them at that concurrency (closed loop: a higher concurrency queues requests,
so latency grows with it). *p99/p50* shows how wide the tail is. *CPU ms/req* is the user + system
CPU time of the server's processes (supervisor and workers) during the run, divided by the
requests served: the steadiest figure on a shared machine, and the one to compare across runs.
*DB CPU ms/req* is the same for the PostgreSQL backends connected to the benchmark's database
(other databases on the machine and PostgreSQL's background writers are not counted): the
baseline moves its JSON building into the database, and so do Portico's planned reads.
*SQL/req* counts the statements Portico's engine executed for one request, measured in process
(transaction control not counted; a planned read checks the session in its own statement);
the baseline sends one statement per request by construction. Portico runs as `portico serve`
(its mail worker polls the outbox once a second in each worker); the baseline as
`uvicorn bench.baseline:create_app`.
Absolute figures move with the machine; compare ratios and CPU per request within one report."""


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def machine_info() -> dict[str, Any]:
    cpuinfo = _read("/proc/cpuinfo")
    model = next(
        (line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if "model name" in line),
        platform.processor() or "unknown",
    )
    meminfo = _read("/proc/meminfo")
    kib = next((int(line.split()[1]) for line in meminfo.splitlines() if "MemTotal" in line), 0)
    try:
        wrk = subprocess.run(["wrk", "-v"], capture_output=True, text=True, timeout=5)
        wrk_version = (wrk.stdout or wrk.stderr).split("[")[0].strip() or None
    except (OSError, subprocess.TimeoutExpired):
        wrk_version = None
    nproc = subprocess.run(["nproc"], capture_output=True, text=True, timeout=5).stdout.strip()
    return {
        "nproc": nproc,
        "memory_gib": round(kib / 1024 / 1024, 1),
        "cpu_model": model,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "wrk": wrk_version,
        "packages": {name: _version(name) for name in PACKAGES},
    }


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


# --- aggregation ----------------------------------------------------------------------

Key = tuple[str, str, str, int, int]  # workload, server, role, workers, concurrency


def group(runs: Iterable[dict[str, Any]]) -> dict[Key, list[dict[str, Any]]]:
    groups: dict[Key, list[dict[str, Any]]] = defaultdict(list)
    for run in runs:
        key = (run["workload"], run["server"], run["role"], run["workers"], run["concurrency"])
        groups[key].append(run)
    for runs_of_key in groups.values():
        runs_of_key.sort(key=lambda r: r["run"])
    return groups


def median(runs: list[dict[str, Any]], field: str) -> float | None:
    values = [r[field] for r in runs if r.get(field) is not None]
    return statistics.median(values) if values else None


def tail_ratio(runs: list[dict[str, Any]]) -> float | None:
    values = [r["p99_ms"] / r["p50_ms"] for r in runs if r["p50_ms"]]
    return statistics.median(values) if values else None


def paired_ratio(top: list[dict[str, Any]], bottom: list[dict[str, Any]]) -> float | None:
    """Median over adjacent run pairs of top req/s / bottom req/s."""
    bottoms = {r["run"]: r["rps"] for r in bottom}
    values = [r["rps"] / bottoms[r["run"]] for r in top if bottoms.get(r["run"])]
    return statistics.median(values) if values else None


def errors_of(runs: list[dict[str, Any]]) -> dict[str, int]:
    total: dict[str, int] = defaultdict(int)
    for run in runs:
        for kind, count in run.get("errors", {}).items():
            total[kind] += count
    return dict(total)


# --- formatting -----------------------------------------------------------------------


def num(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "—"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:,.{digits}f}"


def count(value: float | None) -> str:
    return "—" if value is None else f"{value:g}"


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def ratio(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}" if value < 0.1 else f"{value:.2f}"


def latencies(runs: list[dict[str, Any]]) -> str:
    if not runs:
        return "—"
    return " / ".join(num(median(runs, f)) for f in ("p50_ms", "p95_ms", "p99_ms"))


def table(headers: list[str], rows: list[list[str]]) -> list[str]:
    aligns = ["---" if i < 2 else "---:" for i in range(len(headers))]
    lines = ["| " + " | ".join(headers) + " |", "| " + " | ".join(aligns) + " |"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def _settings(groups: dict[Key, list[dict[str, Any]]], workload: str) -> list[tuple[int, int]]:
    return sorted({(k[3], k[4]) for k in groups if k[0] == workload})


def _error_note(groups: dict[Key, list[dict[str, Any]]], workload: str) -> list[str]:
    notes = []
    for key, runs in sorted(groups.items()):
        if key[0] == workload and (found := errors_of(runs)):
            what = ", ".join(f"{n} {kind}" for kind, n in sorted(found.items()))
            notes.append(f"- errors, {key[1]} {key[2]} w{key[3]} c{key[4]}: {what}")
    return notes


def workload_section(
    name: str, groups: dict[Key, list[dict[str, Any]]], statements: dict[str, Any],
    sizes: dict[str, int],
) -> list[str]:  # fmt: skip
    workload = WORKLOADS[name]
    size = (
        f" Portico's response to the first request: {sizes[name]:,} bytes." if name in sizes else ""
    )
    lines = [f"### {name}", "", f"{workload.description}.{size}", ""]
    sql = statements.get(name)
    rows = []
    for workers, conc in _settings(groups, name):
        p = groups.get((name, "portico", "read", workers, conc), [])
        b = groups.get((name, "baseline", "read", workers, conc), [])
        row = [str(workers), str(conc), num(median(p, "rps"))]
        if workload.baseline_path:
            row += [num(median(b, "rps")), ratio(paired_ratio(p, b))]
        row += [latencies(p)]
        if workload.baseline_path:
            row += [latencies(b)]
        row += [num(tail_ratio(p))]
        if workload.baseline_path:
            row += [num(tail_ratio(b))]
        cpu = num(median(p, "cpu_ms_per_req"), 2)
        db_cpu = num(median(p, "db_cpu_ms_per_req"), 2)
        if workload.baseline_path:
            cpu += f" / {num(median(b, 'cpu_ms_per_req'), 2)}"
            db_cpu += f" / {num(median(b, 'db_cpu_ms_per_req'), 2)}"
        row += [cpu, db_cpu, count(sql) + (" / 1" if workload.baseline_path else "")]
        row += [percent(median(p, "plan_hit_rate"))]
        rss = num(median(p, "rss_mib"), 0)
        row += [rss + (f" / {num(median(b, 'rss_mib'), 0)}" if workload.baseline_path else "")]
        if workload.writes:
            w = groups.get((name, "portico", "write", workers, conc), [])
            plain = groups.get(("staff_list", "portico", "read", workers, conc), [])
            row += [ratio(paired_ratio(p, plain)) if plain else "—"]
            row += [num(median(w, "rps")), latencies(w)]
        rows.append(row)
    if workload.baseline_path:
        headers = [
            "workers", "concurrency", "Portico req/s", "baseline req/s", "ratio",
            "Portico p50 / p95 / p99 ms", "baseline p50 / p95 / p99 ms",
            "Portico p99/p50", "baseline p99/p50", "CPU ms/req (P / B)",
            "DB CPU ms/req (P / B)", "SQL/req (P / B)", "plan-cache hits", "RSS MiB (P / B)",
        ]  # fmt: skip
    else:
        headers = [
            "workers", "concurrency", "req/s", "p50 / p95 / p99 ms", "p99/p50", "CPU ms/req",
            "DB CPU ms/req", "SQL/req", "plan-cache hits", "RSS MiB",
        ]  # fmt: skip
    if workload.writes:
        headers[2] = "read req/s"
        headers += [
            "reads vs staff_list",
            "mutation req/s",
            "mutation p50 / p95 / p99 ms",
        ]
    lines += table(headers, rows)
    if workload.writes:
        mutation_sql = statements.get("write_mix_mutation")
        lines += [
            "",
            "Read figures are STAFF_LIST under the mutation load; *reads vs staff_list* is the "
            "read req/s divided by the plain staff_list run at the same setting (when measured). "
            "CPU per request counts reads and mutations together. "
            f"SQL statements per mutation: {count(mutation_sql)}. Mutations are sent by a Python "
            "client at a fixed rate (open loop, at most 4 in flight; the achieved rate is shown).",
        ]
    lines += _error_note(groups, name)
    return [*lines, ""]


def deep_page_section(
    groups: dict[Key, list[dict[str, Any]]], deep_page: int, statements: dict[str, Any]
) -> list[str]:
    settings = sorted(
        set(_settings(groups, "deep_page_1")) & set(_settings(groups, "deep_page_100"))
    )
    if not settings:
        return []
    lines = [
        f"### deep page: page {deep_page} vs page 1",
        "",
        f"DEEP_PAGE (first: 4) with `after` = null and with the cursor that reaches page "
        f"{deep_page}. Ratios are page {deep_page} / page 1."
        + (
            f" The deep page is page 100 when a list is that long, else its last page: "
            f"with 500 customers per organization, page {deep_page}."
            if deep_page < 100
            else ""
        ),
        "",
    ]
    rows = []
    for workers, conc in settings:
        first = groups.get(("deep_page_1", "portico", "read", workers, conc), [])
        deep = groups.get(("deep_page_100", "portico", "read", workers, conc), [])
        p50_first, p50_deep = median(first, "p50_ms"), median(deep, "p50_ms")
        cpu_first, cpu_deep = median(first, "cpu_ms_per_req"), median(deep, "cpu_ms_per_req")
        rows.append(
            [
                str(workers),
                str(conc),
                num(median(first, "rps")),
                num(median(deep, "rps")),
                ratio(paired_ratio(deep, first)),
                num(p50_first),
                num(p50_deep),
                ratio(p50_deep / p50_first) if p50_first and p50_deep else "—",
                f"{num(cpu_first, 2)} / {num(cpu_deep, 2)}",
            ]
        )
    headers = [
        "workers", "concurrency", "page 1 req/s", f"page {deep_page} req/s", "req/s ratio",
        "page 1 p50 ms", f"page {deep_page} p50 ms", "p50 ratio", "CPU ms/req (1 / deep)",
    ]  # fmt: skip
    lines += table(headers, rows)
    sql = (statements.get("deep_page_1"), statements.get("deep_page_100"))
    lines += [
        "",
        f"SQL statements per request: {count(sql[0])} (page 1), {count(sql[1])} (deep).",
    ]
    return [*lines, ""]


def pair(p: list[dict[str, Any]], b: list[dict[str, Any]], field: str, digits: int = 1) -> str:
    """Portico's and the baseline's median of `field`."""
    return f"{num(median(p, field), digits)} / {num(median(b, field), digits) if b else '—'}"


def summary_section(
    groups: dict[Key, list[dict[str, Any]]], statements: dict[str, Any]
) -> list[str]:
    """One table per setting: every workload against the baseline, side by side."""
    lines = ["## Summary", ""]
    settings = sorted({(k[3], k[4]) for k in groups})
    for workers, conc in settings:
        rows = []
        for name, workload in WORKLOADS.items():
            p = groups.get((name, "portico", "read", workers, conc), [])
            if not p:
                continue
            b = groups.get((name, "baseline", "read", workers, conc), [])
            rows.append(
                [
                    name,
                    "yes" if workload.rotating else "",
                    num(median(p, "rps")),
                    num(median(b, "rps")) if b else "—",
                    ratio(paired_ratio(p, b)) if b else "—",
                    pair(p, b, "cpu_ms_per_req", 2),
                    pair(p, b, "db_cpu_ms_per_req", 2),
                    count(statements.get(name)),
                    pair(p, b, "p50_ms"),
                    pair(p, b, "p99_ms"),
                    percent(median(p, "plan_hit_rate")),
                    pair(p, b, "rss_mib", 0),
                ]
            )
        headers = [
            "workload", "rotating", "Portico req/s", "baseline req/s", "ratio",
            "CPU ms/req (P / B)", "DB CPU ms/req (P / B)", "SQL/req", "p50 ms (P / B)",
            "p99 ms (P / B)", "plan-cache hits", "RSS MiB (P / B)",
        ]  # fmt: skip
        lines += [f"### {workers} worker(s), concurrency {conc}", "", *table(headers, rows), ""]
    lines += [
        "*SQL/req* is Portico's (the baseline sends one statement per request). *plan-cache "
        "hits*: the share of Portico's plan look-ups during the run that found a plan "
        "(one worker's counters, `GET /debug/plan-cache`). *RSS* after the run, all of the "
        "server's processes.",
        "",
    ]
    return lines


def render(result: dict[str, Any]) -> str:
    meta = result["meta"]
    machine = meta["machine"]
    groups = group(result["runs"])
    packages = ", ".join(f"{k} {v}" for k, v in machine["packages"].items())
    counts = meta["counts"]
    lines = [
        f"# Portico benchmark: {meta['size']} data, {meta['date']}",
        "",
        f"Command: `{meta['command']}`",
        "",
        f"Run from {meta['started']} to {meta['finished']} (UTC); load generator: "
        f"{meta['driver']}; git: {meta.get('git', 'unknown')}.",
        "",
        "## Machine",
        "",
        f"- CPU: {machine['cpu_model']}, nproc {machine['nproc']}; memory "
        f"{machine['memory_gib']} GiB; kernel {machine['kernel']}",
        f"- PostgreSQL {meta['postgres']} on the same machine; Python {machine['python']}",
        f"- {packages}; {machine['wrk'] or 'wrk not installed'}",
        "",
        "## Data",
        "",
        f"`{meta['size']}`: {meta['organizations']} organizations, "
        f"{counts.get('customers', 0):,} customers, {sum(counts.values()):,} rows "
        f"(seed {meta['seed']}; appointments around {meta['now']}). Sessions: one staff session "
        f"per organization and {meta['portal_sessions']} portal sessions, rotated through by the "
        "load.",
        "",
        *table(["table", "rows"], [[k, f"{v:,}"] for k, v in counts.items()]),
        "",
        "## Baseline check",
        "",
        f"{meta['check_summary']} (`python -m bench.baseline --check` shows each case).",
        "",
        "## Results",
        "",
        HOW_TO_READ,
        "",
        *summary_section(groups, result["statements"]),
    ]
    if result.get("sqlite_check") or result.get("sqlite_statements"):
        from bench.sqlite import sqlite_section  # it builds on this module's helpers

        lines += sqlite_section(
            groups, result["statements"], result["sqlite_statements"], result["sqlite_check"]
        )
    workloads = [w for w in WORKLOADS if any(k[0] == w for k in groups)]
    for name in workloads:
        lines += workload_section(
            name, groups, result["statements"], result.get("response_bytes", {})
        )
    lines += deep_page_section(groups, meta["deep_page"], result["statements"])
    return "\n".join(lines).rstrip() + "\n"
