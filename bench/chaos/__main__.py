"""`python -m bench.chaos`: every scenario against a private PostgreSQL (initdb + pg_ctl on a
free loopback port, in a temporary directory; the shared server is never touched).

    .venv/bin/python -m bench.chaos                    # all scenarios, full size
    .venv/bin/python -m bench.chaos --quick            # smaller and shorter
    .venv/bin/python -m bench.chaos --only overload,held_lock

Prints one report per scenario and exits 1 when any found a problem (a lost, duplicated or
wrongly stored write, an unexpected answer, a traceback, a slow recovery).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path

from bench.chaos import disk_faults, mail_faults, scenarios, stripe_faults
from bench.chaos.scenarios import Report
from tests.private_postgres import BIN, PrivatePostgres, available

Scenario = Callable[[PrivatePostgres, Path, bool], Awaitable[Report]]

SCENARIOS: dict[str, Scenario] = {
    "postgres_killed": lambda pg, d, quick: scenarios.postgres_killed(
        pg, d, clients=10 if quick else 20, seconds=8 if quick else 12
    ),
    "overload": lambda pg, d, quick: scenarios.overload(
        pg, d, clients=200, seconds=4 if quick else 8
    ),
    "held_lock": lambda pg, d, quick: scenarios.held_lock(
        pg, d, stuck_clients=30, seconds=5 if quick else 8
    ),
    "worker_killed": lambda pg, d, quick: mail_faults.worker_killed(
        pg, d, writers=4, readers=4, seconds=8 if quick else 12
    ),
    "smtp_down": lambda pg, d, quick: mail_faults.smtp_down(
        pg, d, writers=3, readers=2, outage=10 if quick else 60
    ),
    "webhook_storm": lambda pg, d, quick: stripe_faults.webhook_storm(
        pg, d, invoices=18 if quick else 48, seconds=6 if quick else 12
    ),
    "full_disk": lambda pg, d, quick: disk_faults.full_disk(
        pg, d, clients=4 if quick else 8, seconds=2 if quick else 4
    ),
}


async def run(names: list[str], quick: bool, workdir: Path) -> list[Report]:
    postgres = PrivatePostgres(workdir)
    await asyncio.to_thread(postgres.init)
    await asyncio.to_thread(postgres.start)
    reports = []
    try:
        for name in names:
            report = await SCENARIOS[name](postgres, workdir / name, quick)
            print(report.text(), flush=True)
            reports.append(report)
    finally:
        with contextlib.suppress(RuntimeError):  # already stopped
            await asyncio.to_thread(postgres.stop)
    return reports


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.chaos", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller, shorter scenarios")
    parser.add_argument("--only", help=f"comma-separated, of: {', '.join(SCENARIOS)}")
    args = parser.parse_args(argv)
    names = args.only.split(",") if args.only else list(SCENARIOS)
    unknown = [name for name in names if name not in SCENARIOS]
    if unknown:
        parser.error(f"no such scenario: {', '.join(unknown)}")
    if not available():
        print(f"no PostgreSQL server binaries at {BIN} (set TEST_POSTGRES_BIN)", file=sys.stderr)
        return 2
    # Directly under /tmp: PostgreSQL's account must reach it when run as root.
    with tempfile.TemporaryDirectory(prefix="portico-chaos-") as directory:
        reports = asyncio.run(run(names, args.quick, Path(directory)))
    failed = [report.name for report in reports if report.problems]
    skipped = [report.name for report in reports if report.skipped]
    print(
        f"\n{len(reports)} scenarios, {len(failed)} failed"
        + (f": {failed}" if failed else "")
        + (f", {len(skipped)} skipped: {skipped}" if skipped else "")
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
