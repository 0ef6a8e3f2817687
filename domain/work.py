"""What an action works with: who acts, and the unit of work it writes through.

A request's context satisfies both (`schema/context.py`); a webhook or a scheduled job
brings its own. Actions take these, never a GraphQL object.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from auth.viewer import Viewer
from core.settings import Settings
from models.clock import Clock


class Actor(Protocol):
    """Who acts, and from where."""

    @property
    def viewer(self) -> Viewer: ...
    @property
    def client_ip(self) -> str | None: ...
    @property
    def user_agent(self) -> str | None: ...


class Work(Actor, Protocol):
    """An actor with a database: `write()` is one transaction, the clock is the request's."""

    def write(self) -> AbstractAsyncContextManager[AsyncSession]: ...
    @property
    def clock(self) -> Clock: ...
    @property
    def settings(self) -> Settings: ...
