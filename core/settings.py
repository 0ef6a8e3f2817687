"""Configuration, read once from the environment.

Every value has a development default so that `portico serve` works with nothing set;
`PORTICO_ENV=production` turns those defaults into start-up errors.
"""

from __future__ import annotations

import math
import os
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from core.networks import parse_networks

DEV_SECRET = "portico-development-secret-do-not-use-in-production"
ENVIRONMENTS = ("development", "production")
MIN_SECRET_BITS = 256  # 32 random bytes: what `secrets.token_urlsafe(32)` makes


class ConfigurationError(RuntimeError):
    """The environment describes a server that must not start."""


def _default_database_url() -> str:
    return f"sqlite+aiosqlite:///{Path('var/portico.db').resolve()}"


@dataclass(frozen=True)
class Settings:
    env: str = "development"
    database_url: str = field(default_factory=_default_database_url)
    secret_keys: tuple[str, ...] = (DEV_SECRET,)
    portal_url: str | None = None
    host: str = "127.0.0.1"  # where `portico serve` listens unless told otherwise
    port: int = 8000
    public_url: str = "http://127.0.0.1:8000"
    smtp_url: str | None = None
    mail_dir: Path = Path("var/mail")
    mail_from: str = "portal@portico.invalid"
    # How long a claimed email stays a worker's without a renewal (renewed every fifth of
    # it while the worker sends): a worker that dies delays its emails by at most this.
    mail_lease_seconds: float = 20.0
    # Texts (mail/texts.py): Twilio's Messages API when TWILIO_ACCOUNT_SID and
    # TWILIO_AUTH_TOKEN are set, with TWILIO_FROM (a number) or TWILIO_MESSAGING_SERVICE_SID;
    # otherwise files under MAIL_DIR/texts (development) and no texts at all in production.
    twilio_account_sid: str | None = None
    twilio_auth_token: str | None = None
    twilio_from: str | None = None
    twilio_messaging_service_sid: str | None = None
    twilio_base_url: str = "https://api.twilio.com"
    twilio_timeout_seconds: float = 10.0
    # The region a phone number written without +country is read in (ISO 3166 alpha-2).
    phone_region: str = "US"
    stripe_secret_key: str | None = None
    stripe_webhook_secret: str | None = None
    stripe_api_base: str | None = None
    stripe_timeout_seconds: float = 10.0
    jobs_interval_seconds: float = 3600.0  # autopay and payment reconciliation
    run_worker_in_server: bool = True  # false where `portico worker` runs on its own
    storage_dir: Path = Path("var/storage")
    max_upload_bytes: int = 20 * 1024 * 1024  # the largest file one upload may carry
    max_import_bytes: int = 5 * 1024 * 1024  # the largest CSV an import takes (domain/imports)
    bulk_invites_per_minute: int = 30  # portal invites a bulk invite sends per minute
    bulk_invite_poll_seconds: float = 5.0  # how often the jobs loop looks for invites to send
    allow_sqlite_in_production: bool = False
    statement_timeout_ms: int = 5000
    # Statements a process runs at once; requests beyond it wait their turn. Near the
    # database's cores is best: on 2 cores, 8 served a third more than 20 (bench/results).
    database_pool_size: int = 8
    request_timeout_seconds: float = 30.0  # a whole GraphQL request, SQL and Python alike
    # Load shedding (core/admission.py, portico/shedding.py): requests one process works
    # on at once, how long a request beyond them may wait for a turn (here and at the pool)
    # before it is refused with 503 OVERLOADED, and the share of those turns (and of the
    # pool's) one tenant may hold. The wait serves bursts only: a gate that refused a request
    # within the last second refuses at once (under 200 clients the 20 ms wait was the
    # admitted requests' p99 wait, and their p99 fell by about a quarter without it). Measured
    # on 2 cores, 200 clients of one organization on one worker (so 3 of the 6 turns):
    # bench/results/overload.md.
    max_requests_in_flight: int = 6  # 0: no bound
    admission_wait_ms: int = 20
    tenant_slot_share: float = 0.5
    rate_limit_url: str | None = None  # redis://...: request rates shared by every process
    magic_link_minutes: int = 15
    staff_invite_days: int = 7  # how long a staff invite's link works
    staff_reset_minutes: int = 30  # how long a staff password-reset link works
    staff_url: str | None = None  # the staff dashboard, where staff links lead
    download_url_seconds: int = 300  # how long a signed download link works
    pay_link_days: int = 30  # how long an invoice email's pay link works
    # Outbound webhooks (domain/webhooks/). Endpoints must be public https addresses; the
    # loopback allowance (http to 127.0.0.0/8 and ::1 only) is for tests and development
    # and refuses to start in production.
    webhook_allow_loopback: bool = False
    webhook_timeout_seconds: float = 10.0  # connecting, sending and reading, all told
    webhook_max_response_bytes: int = 65_536  # read of an answer, the rest is dropped
    webhook_lease_seconds: float = 60.0  # a claimed delivery stays a worker's this long
    webhook_retry_hours: float = 72.0  # a delivery is retried with backoff this long
    webhook_disable_after_hours: float = 72.0  # an endpoint failing this long is disabled
    # Hostile-input limits (portico/http_security.py, schema/limits.py, portico/request_limits.py).
    max_query_depth: int = 10
    max_query_aliases: int = 30
    max_query_tokens: int = 5000
    max_query_cost: int = 50_000
    max_body_bytes: int = 1_048_576
    requests_per_minute_per_client: int = 1200  # 0 turns the in-process limit off
    requests_per_minute_per_session: int = 600
    invites_per_hour: int = 200  # per session and per client address
    staff_sign_ins_per_hour: int = 20  # 10x: failed sign-ins per client address an hour
    cors_origins: tuple[str, ...] = ()
    # Peers whose X-Forwarded-For names the client (load balancers); none by default.
    trusted_proxies: tuple[str, ...] = ()
    introspection: str | None = None  # "on", "staff" or "off"; None: by environment

    @property
    def production(self) -> bool:
        return self.env == "production"

    @property
    def introspection_mode(self) -> str:
        """Who may introspect the schema and open GraphiQL: everyone, staff, or nobody."""
        return self.introspection or ("staff" if self.production else "on")

    @property
    def portal_base(self) -> str:
        """Where the portal client lives: its own address, or Portico's minimal pages."""
        return (self.portal_url or f"{self.public_url}/portal").rstrip("/")

    @property
    def staff_base(self) -> str:
        """Where the staff dashboard lives: its own address (STAFF_URL), else Portico's."""
        return (self.staff_url or f"{self.public_url}/staff").rstrip("/")

    @property
    def local_url(self) -> str:
        """The address `portico serve` answers at on this machine (a wildcard host is
        reached through the loopback address)."""
        host = {"0.0.0.0": "127.0.0.1", "::": "[::1]"}.get(self.host, self.host)
        host = f"[{host}]" if ":" in host and not host.startswith("[") else host
        return f"http://{host}:{self.port}"

    @property
    def twilio_configured(self) -> bool:
        return bool(self.twilio_account_sid and self.twilio_auth_token)

    @property
    def texts_enabled(self) -> bool:
        """Whether texts are queued at all: with Twilio, or to files outside production."""
        return self.twilio_configured or not self.production

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def check(self) -> None:
        """Refuse a production start on development defaults."""
        if self.env not in ENVIRONMENTS:
            raise ConfigurationError(f"PORTICO_ENV is {' or '.join(ENVIRONMENTS)}")
        if not self.production:
            return
        if DEV_SECRET in self.secret_keys or not all(self.secret_keys):
            raise ConfigurationError("SECRET_KEYS must be set in production")
        for number, key in enumerate(self.secret_keys, 1):
            bits = secret_bits(key)
            if bits < MIN_SECRET_BITS:
                raise ConfigurationError(
                    f"SECRET_KEYS entry {number} holds about {bits} bits; each key needs "
                    f"{MIN_SECRET_BITS} (32 random bytes), e.g. "
                    "python -c 'import secrets; print(secrets.token_urlsafe(40))'"
                )
        if not self.smtp_url:
            # Without a mail server, mail would go to files and every link to the log.
            raise ConfigurationError("production sends mail through SMTP_URL; set it")
        if self.twilio_configured and not (self.twilio_from or self.twilio_messaging_service_sid):
            raise ConfigurationError("set TWILIO_FROM or TWILIO_MESSAGING_SERVICE_SID")
        if self.webhook_allow_loopback:
            raise ConfigurationError("WEBHOOK_ALLOW_LOOPBACK is for tests and development")
        if self.is_sqlite and not self.allow_sqlite_in_production:
            raise ConfigurationError(
                "production runs on PostgreSQL; set PORTICO_ALLOW_SQLITE=1 to insist on SQLite"
            )


def secret_bits(key: str) -> int:
    """At most how many random bits `key` can hold: its length times the bits of the
    character classes it draws on (hex alone; else lower, upper, digits, base64 marks,
    other printable; bytes outside ASCII count 8 bits each); none at all when it repeats
    itself (deflate shrinks it by a fifth or more). An upper bound: words pass it."""
    data = key.encode()
    if not all(32 <= b < 127 for b in data):
        per_char = 8.0
    elif all(c in "0123456789abcdefABCDEF" for c in key):
        per_char = 4.0
    else:
        classes = (
            (26, str.islower),
            (26, str.isupper),
            (10, str.isdigit),
            (5, "-_+/=".__contains__),
            (33, lambda c: not c.isalnum() and c not in "-_+/="),
        )
        size = sum(n for n, member in classes if any(member(c) for c in key))
        per_char = math.log2(size)
    # Fixed Huffman codes spend 8 bits on every literal, so only repetition shrinks it.
    packer = zlib.compressobj(9, zlib.DEFLATED, -15, 9, zlib.Z_FIXED)
    packed = len(packer.compress(data) + packer.flush())
    if packed < 0.8 * len(data):
        return 0
    return int(len(data) * per_char)


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def settings_from_env(environ: dict[str, str] | os._Environ[str] = os.environ) -> Settings:
    """Build settings from an environment mapping (tests pass their own)."""
    get = environ.get
    keys = tuple(k.strip() for k in get("SECRET_KEYS", "").split(",") if k.strip())
    defaults = Settings()
    host = get("PORTICO_HOST") or defaults.host
    port = int(get("PORTICO_PORT") or defaults.port)
    # Unset, PUBLIC_URL is the address the server listens at, so links lead back to it.
    listening = Settings(host=host, port=port).local_url
    return Settings(
        env=_environment(get("PORTICO_ENV")),
        database_url=get("DATABASE_URL") or defaults.database_url,
        secret_keys=keys or defaults.secret_keys,
        portal_url=get("PORTAL_URL") or None,
        host=host,
        port=port,
        public_url=(get("PUBLIC_URL") or listening).rstrip("/"),
        smtp_url=get("SMTP_URL") or None,
        mail_dir=Path(get("MAIL_DIR", str(defaults.mail_dir))),
        mail_from=get("MAIL_FROM", defaults.mail_from),
        mail_lease_seconds=float(get("MAIL_LEASE_SECONDS", defaults.mail_lease_seconds)),
        twilio_account_sid=get("TWILIO_ACCOUNT_SID") or None,
        twilio_auth_token=get("TWILIO_AUTH_TOKEN") or None,
        twilio_from=get("TWILIO_FROM") or None,
        twilio_messaging_service_sid=get("TWILIO_MESSAGING_SERVICE_SID") or None,
        twilio_base_url=(get("TWILIO_BASE_URL") or defaults.twilio_base_url).rstrip("/"),
        twilio_timeout_seconds=float(
            get("TWILIO_TIMEOUT_SECONDS", defaults.twilio_timeout_seconds)
        ),
        phone_region=(get("PHONE_REGION") or defaults.phone_region).upper(),
        stripe_secret_key=get("STRIPE_SECRET_KEY") or None,
        stripe_webhook_secret=get("STRIPE_WEBHOOK_SECRET") or None,
        stripe_api_base=get("STRIPE_API_BASE") or None,
        jobs_interval_seconds=float(get("JOBS_INTERVAL_SECONDS", defaults.jobs_interval_seconds)),
        run_worker_in_server=_flag(get("RUN_WORKER_IN_SERVER") or "true"),
        stripe_timeout_seconds=float(
            get("STRIPE_TIMEOUT_SECONDS", defaults.stripe_timeout_seconds)
        ),
        storage_dir=Path(get("STORAGE_DIR", str(defaults.storage_dir))),
        max_upload_bytes=int(get("MAX_UPLOAD_BYTES", defaults.max_upload_bytes)),
        max_import_bytes=int(get("MAX_IMPORT_BYTES", defaults.max_import_bytes)),
        bulk_invites_per_minute=int(
            get("BULK_INVITES_PER_MINUTE", defaults.bulk_invites_per_minute)
        ),
        bulk_invite_poll_seconds=float(
            get("BULK_INVITE_POLL_SECONDS", defaults.bulk_invite_poll_seconds)
        ),
        allow_sqlite_in_production=_flag(get("PORTICO_ALLOW_SQLITE")),
        statement_timeout_ms=int(get("STATEMENT_TIMEOUT_MS", defaults.statement_timeout_ms)),
        database_pool_size=int(get("DATABASE_POOL_SIZE", defaults.database_pool_size)),
        rate_limit_url=get("RATE_LIMIT_URL") or None,
        request_timeout_seconds=float(
            get("REQUEST_TIMEOUT_SECONDS", defaults.request_timeout_seconds)
        ),
        max_requests_in_flight=int(get("MAX_REQUESTS_IN_FLIGHT", defaults.max_requests_in_flight)),
        admission_wait_ms=int(get("ADMISSION_WAIT_MS", defaults.admission_wait_ms)),
        tenant_slot_share=_share(get("TENANT_SLOT_SHARE"), defaults.tenant_slot_share),
        magic_link_minutes=int(get("MAGIC_LINK_MINUTES", defaults.magic_link_minutes)),
        staff_invite_days=int(get("STAFF_INVITE_DAYS", defaults.staff_invite_days)),
        staff_reset_minutes=int(get("STAFF_RESET_MINUTES", defaults.staff_reset_minutes)),
        staff_url=get("STAFF_URL") or None,
        download_url_seconds=int(get("DOWNLOAD_URL_SECONDS", defaults.download_url_seconds)),
        pay_link_days=int(get("PAY_LINK_DAYS", defaults.pay_link_days)),
        webhook_allow_loopback=_flag(get("WEBHOOK_ALLOW_LOOPBACK")),
        **_webhooks(get, defaults),
        **_limits(get, defaults),
    )


def _webhooks(get: Callable[..., Any], defaults: Settings) -> dict[str, Any]:
    """The webhook worker's bounds: numbers named like their settings, in capitals."""
    floats = (
        "webhook_timeout_seconds",
        "webhook_lease_seconds",
        "webhook_retry_hours",
        "webhook_disable_after_hours",
    )
    values: dict[str, Any] = {n: float(get(n.upper(), getattr(defaults, n))) for n in floats}
    size = "webhook_max_response_bytes"
    values[size] = int(get(size.upper(), getattr(defaults, size)))
    return values


def _share(value: str | None, default: float) -> float:
    share = float(value) if value else default
    if not 0 < share <= 1:
        raise ConfigurationError("TENANT_SLOT_SHARE is a fraction above 0, at most 1")
    return share


def _environment(value: str | None) -> str:
    """A known environment; anything else (a typo such as "prod") refuses to start
    rather than run with development defaults."""
    env = (value or "development").strip().lower()
    if env not in ENVIRONMENTS:
        raise ConfigurationError(f"PORTICO_ENV is {' or '.join(ENVIRONMENTS)}, not {value!r}")
    return env


def _limits(get: Callable[..., Any], defaults: Settings) -> dict[str, Any]:
    """The hostile-input limits: integers named like their settings, in capitals."""
    numbers = {
        name: int(get(name.upper(), getattr(defaults, name)))
        for name in (
            "max_query_depth",
            "max_query_aliases",
            "max_query_tokens",
            "max_query_cost",
            "max_body_bytes",
            "requests_per_minute_per_client",
            "requests_per_minute_per_session",
            "invites_per_hour",
            "staff_sign_ins_per_hour",
        )
    }
    origins = tuple(o.strip().rstrip("/") for o in get("CORS_ORIGINS", "").split(",") if o.strip())
    proxies = tuple(p.strip() for p in get("TRUSTED_PROXIES", "").split(",") if p.strip())
    try:
        parse_networks(proxies)
    except ValueError as bad:
        raise ConfigurationError(f"TRUSTED_PROXIES holds addresses or networks: {bad}") from None
    introspection = (get("INTROSPECTION") or "").strip().lower() or None
    if introspection not in (None, "on", "staff", "off"):
        raise ConfigurationError("INTROSPECTION is on, staff or off")
    return {
        **numbers,
        "cors_origins": origins,
        "trusted_proxies": proxies,
        "introspection": introspection,
    }


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings object."""
    return settings_from_env()
