"""The one retrier: retry only what :class:`~laicai.errors.LaicaiError.retryable` says may
succeed later, with exponential backoff, jitter, and a bound on attempts and on total time."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from laicai.errors import LaicaiError, RateLimited

log = logging.getLogger(__name__)

T = TypeVar("T")
Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """``max_attempts`` counts the first call; the n-th retry waits a random time in
    [``jitter_floor`` x d, d] with d = min(``max_delay_s``, base x 2^(n-1)); ``base`` is
    ``rate_limited_delay_s`` after a rate limit and ``base_delay_s`` otherwise. No retry starts
    when it could not finish within ``budget_s`` of the first attempt."""

    max_attempts: int = 4
    base_delay_s: float = 0.25
    rate_limited_delay_s: float = 1.0
    max_delay_s: float = 5.0
    budget_s: float = 30.0
    jitter_floor: float = 0.5

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if not 0 <= self.jitter_floor <= 1:
            raise ValueError("jitter_floor must be in [0, 1]")

    def delay_s(self, retry: int, error: LaicaiError, draw: float) -> float:
        """The wait before retry number ``retry`` (1-based); ``draw`` is uniform in [0, 1)."""
        base = self.rate_limited_delay_s if isinstance(error, RateLimited) else self.base_delay_s
        ceiling = min(self.max_delay_s, base * 2.0 ** (retry - 1))
        return ceiling * (self.jitter_floor + (1 - self.jitter_floor) * draw)


NO_RETRY = RetryPolicy(max_attempts=1)


async def retry_transient(
    op: Callable[[], Awaitable[T]],
    policy: RetryPolicy,
    *,
    label: str = "call",
    sleep: Sleep = asyncio.sleep,
    draw: Callable[[], float] = random.random,
    clock: Callable[[], float] = time.monotonic,
) -> T:
    """``await op()``, again after a backoff while it raises a retryable :class:`LaicaiError`.

    Non-retryable errors (and anything that is not a LaicaiError) pass through at once; the
    last transient error is re-raised when attempts or the time budget run out.
    """
    started = clock()
    attempt = 1
    while True:
        try:
            return await op()
        except LaicaiError as e:
            if not e.retryable or attempt >= policy.max_attempts:
                raise
            delay = policy.delay_s(attempt, e, draw())
            if clock() - started + delay > policy.budget_s:
                raise
            log.warning("%s failed (attempt %d of %d), retrying in %.2f s: %s",
                        label, attempt, policy.max_attempts, delay, e)
            await sleep(delay)
            attempt += 1
