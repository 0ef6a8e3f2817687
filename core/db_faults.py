"""Telling an unreachable or busy database apart from a failing statement.

Kept free of the models package so that the error layer (core/errors.py) can use it.
"""

from __future__ import annotations

import errno
import socket
from collections.abc import Iterator

import asyncpg
import sqlalchemy as sa

_UNREACHABLE_ERRNOS = {errno.EHOSTUNREACH, errno.ENETUNREACH, errno.ETIMEDOUT, errno.ECONNRESET}
# SQLSTATEs of a server that is shutting down, starting up or full (classes 08, 57P, 53300).
_UNAVAILABLE_ERRORS: tuple[type[BaseException], ...] = (
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    asyncpg.TooManyConnectionsError,
    asyncpg.ConnectionDoesNotExistError,
)


# SQLSTATEs of a statement stopped for waiting too long: statement_timeout (57014, also a
# cancel) and lock_timeout (55P03). The same request may well succeed a moment later.
_BUSY_ERRORS: tuple[type[BaseException], ...] = (
    asyncpg.QueryCanceledError,
    asyncpg.LockNotAvailableError,
)


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """`exc`, the driver's error under SQLAlchemy's, and what caused each, once each."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        orig = getattr(current, "orig", None)  # the driver's error under SQLAlchemy's
        if isinstance(orig, BaseException):
            current = orig
        else:
            current = current.__cause__ or current.__context__


def database_busy(exc: BaseException) -> bool:
    """Whether `exc` is a statement the database stopped for waiting too long (a timeout, a
    row locked by someone else): such requests are answered as timed out, to be retried."""
    return any(isinstance(current, _BUSY_ERRORS) for current in _causes(exc))


def database_unavailable(exc: BaseException) -> bool:
    """Whether `exc` says the database cannot be reached now (down, restarting, cut off),
    as opposed to a fault of the statement: such requests are refused as unavailable."""
    for current in _causes(exc):
        if isinstance(current, sa.exc.DBAPIError) and current.connection_invalidated:
            return True
        if isinstance(current, sa.exc.TimeoutError | TimeoutError | ConnectionError):
            return True  # pool checkout, connect timeout, refused or reset connection
        if isinstance(current, (socket.gaierror, *_UNAVAILABLE_ERRORS)):
            return True
        if isinstance(current, OSError) and current.errno in _UNREACHABLE_ERRNOS:
            return True
    return False


class CommitUncertain(Exception):
    """The database failed while a transaction was committing: the COMMIT may have landed
    before the connection went away, or not. Unlike a failure before COMMIT, this one may
    mean the change was made."""


def commit_uncertain(exc: BaseException) -> bool:
    """Whether `exc` (or what it wraps) is a failure during COMMIT (`CommitUncertain`)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, CommitUncertain):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False
