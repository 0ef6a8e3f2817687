"""The `portico` command: serve, worker, migrate, demo, create-staff, export-schema,
reconcile-payments, run-autopay, bill, collect, send-statements."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import os
import signal
import sys
from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path
from typing import Any

from core.settings import ConfigurationError, get_settings
from portico import log_setup


def _migrate() -> None:
    from models.db import Database
    from models.migrate import upgrade

    async def run() -> None:
        db = Database(get_settings())
        try:
            await upgrade(db.engine)
        finally:
            await db.dispose()

    _ensure_sqlite_dir()
    asyncio.run(run())
    print("database is at the latest migration")


def _ensure_sqlite_dir() -> None:
    settings = get_settings()
    if settings.is_sqlite:
        path = settings.database_url.split(":///", 1)[-1]
        Path(path).parent.mkdir(parents=True, exist_ok=True)


def _serve(args: argparse.Namespace) -> None:
    import uvicorn

    # The flags win over PORTICO_HOST/PORTICO_PORT; through the environment they reach the
    # app factory (and every worker process), so an unset PUBLIC_URL follows them too.
    if args.host:
        os.environ["PORTICO_HOST"] = args.host
    if args.port:
        os.environ["PORTICO_PORT"] = str(args.port)
    get_settings.cache_clear()
    settings = get_settings()
    settings.check()
    uvicorn.run(
        "portico.app:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=args.workers,
        log_level="info",
        log_config=log_setup.config(),  # applied again in every worker process
        access_log=args.access_log,
        # X-Forwarded-For counts only from TRUSTED_PROXIES (portico/client_address.py);
        # uvicorn would otherwise believe it from any local peer.
        proxy_headers=False,
    )


def _worker(_args: argparse.Namespace) -> None:
    """The outbox and the scheduled jobs without HTTP, until SIGTERM or SIGINT, which let
    the batch in hand finish."""
    from models.db import Database
    from portico.background import run_background

    async def run() -> None:
        settings = get_settings()
        settings.check()
        db = Database(settings)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        logging.getLogger("portico").info("worker started")
        try:
            await run_background(db, stop)
        finally:
            await db.dispose()
        logging.getLogger("portico").info("worker stopped")

    asyncio.run(run())


def _demo(args: argparse.Namespace) -> None:
    from demo.seed import load_demo

    _ensure_sqlite_dir()
    asyncio.run(load_demo(get_settings(), reset=args.reset))


def _create_staff(args: argparse.Namespace) -> None:
    from portico.staff import create_owner

    password = args.password or os.environ.get("PORTICO_STAFF_PASSWORD")
    if not password:
        password = getpass.getpass("Password for the new owner: ")
    asyncio.run(
        create_owner(
            get_settings(),
            organization=args.organization,
            slug=args.slug,
            name=args.name,
            email=args.email,
            password=password,
        )
    )
    print(f"created OWNER {args.email} of {args.organization}")


def _export_schema(args: argparse.Namespace) -> None:
    from schema.root import schema

    text = schema.as_str() + "\n"
    if args.output:
        Path(args.output).write_text(text)
    else:
        sys.stdout.write(text)


def _reconcile(args: argparse.Namespace) -> None:
    from domain.payments.reconcile import reconcile
    from models.db import Database

    async def run() -> None:
        db = Database(get_settings())
        try:
            done = await reconcile(db, since_hours=args.since_hours)
        finally:
            await db.dispose()
        print(
            f"checked {done.checked} payments, settled {done.settled}, "
            f"refunds brought up to date on {done.refunds_applied}, "
            f"disputes on {done.disputes_applied}, "
            f"pending refunds finished {done.refunds_finished}; "
            f"{done.accounts_failed} accounts could not be read"
        )

    asyncio.run(run())


def _autopay(args: argparse.Namespace) -> None:
    from domain.payments.autopay import run_autopay
    from models.db import Database

    async def run() -> None:
        db = Database(get_settings())
        try:
            print(await run_autopay(db))
        finally:
            await db.dispose()

    asyncio.run(run())


def _bill(args: argparse.Namespace) -> None:
    from domain.subscriptions.billing import bill_due

    _dated_run(
        args,
        lambda db: bill_due(db, on=args.date, dry_run=args.dry_run),
        lambda done: done.issued,
        ("would issue ", "issued "),
        lambda done: f"{len(done.issued)} invoices would be issued",
    )


def _collect(args: argparse.Namespace) -> None:
    from domain.collections.collect import collect

    _dated_run(
        args,
        lambda db: collect(db, on=args.date, dry_run=args.dry_run),
        lambda done: [*done.reminded, *done.charged],
        ("would do ", "done "),
        lambda done: (
            f"{len(done.reminded)} reminders would be sent and "
            f"{len(done.charged)} late fees charged"
        ),
    )


def _send_statements(args: argparse.Namespace) -> None:
    from domain.billing.monthly_statements import send_monthly_statements

    _dated_run(
        args,
        lambda db: send_monthly_statements(db, on=args.date, dry_run=args.dry_run),
        lambda done: done.sent,
        ("would look at ", "emailed "),
        lambda done: f"{len(done.sent)} customers' months would be settled",
    )


def _dated_run(
    args: argparse.Namespace,
    job: Callable[[Any], Awaitable[Any]],
    items: Callable[[Any], list[Any]],
    verbs: tuple[str, str],
    dry_summary: Callable[[Any], str],
) -> None:
    """One of the jobs loop's jobs run once from the command line, as of `--date` or each
    organization's today: what it did (or with `--dry-run` would do, writing nothing), one
    line each, then its summary; exit status 1 when any part of it failed."""
    from models.db import Database

    async def run() -> None:
        db = Database(get_settings())
        try:
            done = await job(db)
        finally:
            await db.dispose()
        for item in items(done):
            print(verbs[0 if args.dry_run else 1] + str(item))
        print(f"dry run: {dry_summary(done)}; nothing was written" if args.dry_run else done)
        if done.failed:
            sys.exit(1)

    asyncio.run(run())


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def build_parser() -> argparse.ArgumentParser:
    """The command line (tests/test_readme_commands.py parses the README's commands)."""
    parser = argparse.ArgumentParser(prog="portico", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the HTTP server")
    serve.add_argument("--host", help="listen address (default PORTICO_HOST, or 127.0.0.1)")
    serve.add_argument("--port", type=int, help="listen port (default PORTICO_PORT, or 8000)")
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument("--access-log", action="store_true", help="log every request")
    serve.set_defaults(run=_serve)

    worker = commands.add_parser(
        "worker", help="deliver the outbox and run scheduled jobs, without serving HTTP"
    )
    worker.set_defaults(run=_worker)

    migrate = commands.add_parser("migrate", help="apply database migrations")
    migrate.set_defaults(run=lambda _args: _migrate())

    demo = commands.add_parser("demo", help="load a demo organization")
    demo.add_argument("--reset", action="store_true", help="replace an existing demo")
    demo.set_defaults(run=_demo)

    staff = commands.add_parser("create-staff", help="create an organization and its owner")
    staff.add_argument("--organization", required=True, help="business name")
    staff.add_argument("--slug", required=True, help="short unique name")
    staff.add_argument("--name", required=True, help="owner's name")
    staff.add_argument("--email", required=True, help="owner's sign-in email")
    staff.add_argument("--password", help="or PORTICO_STAFF_PASSWORD, or asked")
    staff.set_defaults(run=_create_staff)

    export = commands.add_parser("export-schema", help="print the GraphQL schema (SDL)")
    export.add_argument("--output", "-o", help="write to this file instead of stdout")
    export.set_defaults(run=_export_schema)

    reconcile = commands.add_parser(
        "reconcile-payments",
        help="settle online payments, refunds and disputes whose webhook never arrived",
    )
    reconcile.add_argument("--since-hours", type=int, default=72, help="how far back to look")
    reconcile.set_defaults(run=_reconcile)

    autopay = commands.add_parser(
        "run-autopay", help="charge today's due invoices of customers with autopay"
    )
    autopay.set_defaults(run=_autopay)

    bill = commands.add_parser(
        "bill", help="issue subscriptions' invoices for every period due (catching up missed ones)"
    )
    bill.add_argument(
        "--date",
        type=_day,
        help="bill what is due as of this day, YYYY-MM-DD (default: each organization's today)",
    )
    bill.add_argument(
        "--dry-run", action="store_true", help="print what would be issued; write nothing"
    )
    bill.set_defaults(run=_bill)

    collect = commands.add_parser(
        "collect", help="send the payment reminders and charge the late fees due today"
    )
    collect.add_argument(
        "--date",
        type=_day,
        help="collect as of this day, YYYY-MM-DD (default: each organization's today)",
    )
    collect.add_argument(
        "--dry-run", action="store_true", help="print what would be sent and charged; write nothing"
    )
    collect.set_defaults(run=_collect)

    statements = commands.add_parser(
        "send-statements",
        help="email last month's statements where the organization has monthly statements on",
    )
    statements.add_argument(
        "--date",
        type=_day,
        help="send as of this day, YYYY-MM-DD (default: each organization's today)",
    )
    statements.add_argument(
        "--dry-run", action="store_true", help="print whose statements would go; write nothing"
    )
    statements.set_defaults(run=_send_statements)

    return parser


def main(argv: list[str] | None = None) -> None:
    log_setup.configure()
    args = build_parser().parse_args(argv)
    try:
        args.run(args)
    except ConfigurationError as refused:  # a sentence for the operator, not a traceback
        sys.exit(f"portico: {refused}")


if __name__ == "__main__":
    main()
