"""One-to-many fan-out of :data:`~laicai.engine.events.BotEvent`: the engine publishes, the
notifier, the dashboard and metrics each read their own bounded queue.

Publishing never blocks and never raises: a subscriber that falls behind loses its oldest
events (counted in ``dropped``), the bot does not wait for it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable

from laicai.engine.events import BotEvent

log = logging.getLogger(__name__)


class Subscription:
    def __init__(self, bus: EventBus, maxsize: int) -> None:
        self._bus = bus
        self.queue: asyncio.Queue[BotEvent] = asyncio.Queue(maxsize)
        self.dropped = 0

    def _put(self, event: BotEvent) -> None:
        if self.queue.full():
            self.queue.get_nowait()
            self.dropped += 1
        self.queue.put_nowait(event)

    async def get(self) -> BotEvent:
        return await self.queue.get()

    def close(self) -> None:
        self._bus._subs.discard(self)

    async def __aiter__(self) -> AsyncIterator[BotEvent]:
        while True:
            yield await self.queue.get()


class EventBus:
    def __init__(self) -> None:
        self._subs: set[Subscription] = set()
        self._listeners: list[Callable[[BotEvent], None]] = []

    def subscribe(self, maxsize: int = 1000) -> Subscription:
        """A queue that receives every event published from now on."""
        sub = Subscription(self, maxsize)
        self._subs.add(sub)
        return sub

    def listen(self, callback: Callable[[BotEvent], None]) -> None:
        """Call ``callback`` synchronously for every event (metrics, logging). It must be
        quick; an exception is logged and swallowed."""
        self._listeners.append(callback)

    def publish(self, event: BotEvent) -> None:
        for sub in list(self._subs):
            sub._put(event)
        for cb in self._listeners:
            try:
                cb(event)
            except Exception:
                log.exception("event listener failed on %s", type(event).__name__)
