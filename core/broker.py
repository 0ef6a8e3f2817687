"""Live events between the code that changes data and the subscriptions that watch it.

The interface is deliberately narrow, so that a PostgreSQL LISTEN/NOTIFY broker (events
across server processes) can replace the in-process one without touching its users:

- `publish(topic, payload)`: called only after the change's transaction has committed, so a
  subscriber never hears of a row it cannot read yet (or of one that was rolled back).
- `subscribe(topic)`: an async context manager yielding an async iterator of payloads
  published on `topic` from then on. Waiting on the iterator may be cancelled (a timeout)
  without losing an event; leaving the context unsubscribes.

Topics are short ASCII names (a PostgreSQL channel is at most 63 bytes), payloads are text
of at most 8000 bytes (NOTIFY's limit): ids to look up, never the data itself, which each
subscriber reads through its own visibility rules. Delivery is at most once and only to
live subscribers; a client that reconnects re-reads what it missed.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Protocol

MAX_TOPIC_LENGTH = 63
MAX_PAYLOAD_BYTES = 8000
# Events a subscriber may fall behind by before it is cut off (and told so).
QUEUE_SIZE = 256


class SubscriberOverflow(Exception):
    """A subscriber fell too far behind; its stream ends rather than silently skip events."""


class BrokerInterrupted(SubscriberOverflow):
    """The broker lost its link to other processes and may have missed events: the stream
    ends, as for a subscriber that fell behind, so that the client reconnects and re-reads."""


_END = "\x00end"  # never a payload: payloads are JSON text


class Broker(Protocol):
    async def publish(self, topic: str, payload: str) -> None: ...

    def subscribe(self, topic: str) -> AbstractAsyncContextManager[AsyncIterator[str]]: ...


def check_event(topic: str, payload: str) -> None:
    """The limits every broker keeps, so that swapping brokers changes no caller."""
    if not topic or len(topic) > MAX_TOPIC_LENGTH or not topic.isascii():
        raise ValueError(f"bad topic {topic!r}")
    if len(payload.encode()) > MAX_PAYLOAD_BYTES:
        raise ValueError("payload too large")


class _Subscriber:
    """One subscription's queue; `__anext__` only waits on the queue, so cancelling it
    loses nothing."""

    def __init__(self, size: int) -> None:
        self.queue: asyncio.Queue[str] = asyncio.Queue(size)
        self.overflowed = False
        self.interrupted = False

    def offer(self, payload: str) -> None:
        try:
            self.queue.put_nowait(payload)
        except asyncio.QueueFull:
            self.overflowed = True

    def interrupt(self) -> None:
        """End the stream once what is queued has been read; wakes a waiting reader."""
        self.interrupted = True
        with contextlib.suppress(asyncio.QueueFull):  # a full queue is read before the end
            self.queue.put_nowait(_END)

    def __aiter__(self) -> _Subscriber:
        return self

    async def __anext__(self) -> str:
        if self.queue.empty():
            if self.interrupted:
                raise BrokerInterrupted()
            if self.overflowed:
                raise SubscriberOverflow()
        payload = await self.queue.get()
        if payload == _END:
            raise BrokerInterrupted()
        return payload


class InProcessBroker:
    """Delivers events within one server process (one event loop)."""

    def __init__(self, queue_size: int = QUEUE_SIZE) -> None:
        self._queue_size = queue_size
        self._subscribers: dict[str, set[_Subscriber]] = defaultdict(set)

    async def publish(self, topic: str, payload: str) -> None:
        check_event(topic, payload)
        for subscriber in list(self._subscribers.get(topic, ())):
            subscriber.offer(payload)

    def subscribe(self, topic: str) -> AbstractAsyncContextManager[AsyncIterator[str]]:
        check_event(topic, "")
        return self._subscription(topic)

    @asynccontextmanager
    async def _subscription(self, topic: str) -> AsyncIterator[AsyncIterator[str]]:
        subscriber = _Subscriber(self._queue_size)
        self._subscribers[topic].add(subscriber)
        try:
            yield subscriber
        finally:
            listeners = self._subscribers[topic]
            listeners.discard(subscriber)
            if not listeners:
                del self._subscribers[topic]

    def subscriber_count(self, topic: str) -> int:
        return len(self._subscribers.get(topic, ()))
