"""Answers that must not tell by their timing whether an account exists."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


@asynccontextmanager
async def at_least(seconds: float) -> AsyncIterator[None]:
    """Take no less than `seconds`, however quickly the block finished."""
    started = time.monotonic()
    try:
        yield
    finally:
        remaining = seconds - (time.monotonic() - started)
        if remaining > 0:
            await asyncio.sleep(remaining)
