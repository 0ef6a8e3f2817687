"""Every request's id: echoed from `X-Request-Id` or made here, and stamped on log records.

Clients and proxies may send their own id so that one request can be followed across
systems; anything that is not a short plain token is replaced, so log lines stay clean.
"""

from __future__ import annotations

import logging
import re
import uuid
from contextvars import ContextVar
from typing import Any

HEADER = "x-request-id"
ACCEPTED = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

current: ContextVar[str | None] = ContextVar("portico_request_id", default=None)


def request_id_from(value: str | None) -> str:
    return value if value and ACCEPTED.match(value) else uuid.uuid4().hex


def install_log_field() -> None:
    """Give every log record a `request_id` attribute ("-" outside a request)."""
    factory = logging.getLogRecordFactory()
    if getattr(factory, "portico_request_id", False):
        return

    def make(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = factory(*args, **kwargs)
        record.request_id = current.get() or "-"
        return record

    make.portico_request_id = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(make)
