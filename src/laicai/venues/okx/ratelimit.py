"""Client-side rate limits that keep laicai under OKX's by construction.

OKX counts requests per endpoint in a sliding window (e.g. ``market/books``: 40 per 2 s) and
answers 50011 beyond it. A token bucket with a full burst can exceed a sliding window (a burst
of N, then one refill before the window has slid), so each endpoint gets a *window log*
instead: at most ``limit`` requests whose slot is still held, where a slot is held while the
request is in flight and for one window after its response arrived. The server saw the request
arrive before the response left, so however requests are delayed or reordered on the way, no
server window can ever hold more than ``limit`` of them. A semaphore bounds how many requests of
one endpoint are in flight at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Mapping

from laicai.venues.okx.constants import (
    DEFAULT_RATE_LIMIT,
    MAX_CONCURRENCY_PER_ENDPOINT,
    RATE_LIMITS,
)


class EndpointLimiter:
    """The window log and concurrency bound of one endpoint."""

    def __init__(self, limit: int, window_s: float, *, max_concurrency: int,
                 margin_s: float = 0.05, clock: Callable[[], float] = time.monotonic) -> None:
        if limit < 1 or window_s <= 0 or max_concurrency < 1:
            raise ValueError(f"bad rate limit: {limit} per {window_s} s, "
                             f"{max_concurrency} in flight")
        self.limit = limit
        self.window_s = window_s
        self.margin_s = margin_s
        self._clock = clock
        self._released: deque[tuple[float, int]] = deque()  # (slot free again at, cost)
        self._held = 0  # cost of unexpired released slots + in-flight requests
        self._cond = asyncio.Condition()
        self._sem = asyncio.Semaphore(max_concurrency)
        self.waits = 0  # requests that had to wait for a slot (for tests and metrics)

    def _expire(self, now: float) -> None:
        while self._released and self._released[0][0] <= now:
            self._held -= self._released.popleft()[1]

    async def _acquire(self, cost: int) -> None:
        cost = min(cost, self.limit)
        async with self._cond:
            waited = False
            while True:
                now = self._clock()
                self._expire(now)
                if self._held + cost <= self.limit:
                    self._held += cost
                    if waited:
                        self.waits += 1
                    return
                waited = True
                timeout = self._released[0][0] - now if self._released else None
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._cond.wait(), timeout)

    async def _release(self, cost: int) -> None:
        cost = min(cost, self.limit)
        async with self._cond:
            self._released.append((self._clock() + self.window_s + self.margin_s, cost))
            self._cond.notify_all()

    @contextlib.asynccontextmanager
    async def slot(self, cost: int = 1) -> AsyncIterator[None]:
        """Hold one slot (``cost`` units) for the duration of a request."""
        async with self._sem:
            await self._acquire(cost)
            try:
                yield
            finally:
                await asyncio.shield(self._release(cost))


class RateLimits:
    """One :class:`EndpointLimiter` per endpoint path, created on first use."""

    def __init__(self, limits: Mapping[str, tuple[int, float]] | None = None, *,
                 default: tuple[int, float] = DEFAULT_RATE_LIMIT,
                 max_concurrency: int = MAX_CONCURRENCY_PER_ENDPOINT,
                 margin_s: float = 0.05) -> None:
        self._limits = dict(RATE_LIMITS if limits is None else limits)
        self._default = default
        self._max_concurrency = max_concurrency
        self._margin_s = margin_s
        self._by_path: dict[str, EndpointLimiter] = {}

    def limiter(self, path: str) -> EndpointLimiter:
        found = self._by_path.get(path)
        if found is None:
            limit, window_s = self._limits.get(path, self._default)
            found = EndpointLimiter(limit, window_s,
                                    max_concurrency=min(self._max_concurrency, limit),
                                    margin_s=self._margin_s)
            self._by_path[path] = found
        return found

    def slot(self, path: str, cost: int = 1) -> contextlib.AbstractAsyncContextManager[None]:
        return self.limiter(path).slot(cost)
