"""A bounded, level-aware FIFO of messages waiting for one backend.

When full, the oldest message of the lowest level present makes room (an INFO goes before any
WARN, a WARN before any ERROR); a new message less urgent than everything queued is the one
dropped. ``put`` never blocks and never raises: the publisher never waits for a backend.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import deque

from laicai.notify.message import Level, Message


class Outbox:
    def __init__(self, maxsize: int) -> None:
        if maxsize < 1:
            raise ValueError("maxsize must be at least 1")
        self.maxsize = maxsize
        self._by_level: dict[Level, deque[tuple[int, Message]]] = {lv: deque() for lv in Level}
        self._seq = itertools.count()
        self._size = 0
        self._ready = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._unfinished = 0
        self.dropped = 0
        self._dropped_unreported = 0

    def __len__(self) -> int:
        return self._size

    def put(self, message: Message) -> Message | None:
        """Queue ``message``; returns the message dropped to make room, if any."""
        dropped: Message | None = None
        if self._size >= self.maxsize:
            lowest = next(lv for lv in Level if self._by_level[lv])
            if message.level < lowest:
                self._count_drop()
                return message
            _, dropped = self._by_level[lowest].popleft()
            self._size -= 1
            self._unfinished -= 1
            self._count_drop()
        self._by_level[message.level].append((next(self._seq), message))
        self._size += 1
        self._unfinished += 1
        self._idle.clear()
        self._ready.set()
        return dropped

    def _count_drop(self) -> None:
        self.dropped += 1
        self._dropped_unreported += 1

    def take_dropped(self) -> int:
        """Drops since the last call (the sender reports them once it can send again)."""
        n, self._dropped_unreported = self._dropped_unreported, 0
        return n

    def get_nowait(self) -> Message | None:
        heads = [(q[0][0], lv) for lv, q in self._by_level.items() if q]
        if not heads:
            return None
        _, level = min(heads)
        _, message = self._by_level[level].popleft()
        self._size -= 1
        if self._size == 0:
            self._ready.clear()
        return message

    async def get(self) -> Message:
        """The oldest queued message, waiting for one. Call :meth:`task_done` after it."""
        while True:
            message = self.get_nowait()
            if message is not None:
                return message
            await self._ready.wait()

    def task_done(self) -> None:
        self._unfinished = max(self._unfinished - 1, 0)
        if self._unfinished == 0:
            self._idle.set()

    async def join(self) -> None:
        """Wait until every message taken has been marked done and none is queued."""
        await self._idle.wait()
