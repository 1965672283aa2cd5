"""The per-endpoint window log: never more than ``limit`` requests in any window as the server
counts them (at arrival), whatever the latency, and a bounded number in flight."""

from __future__ import annotations

import asyncio
import random
import time

import pytest

from laicai.venues.okx.constants import DEFAULT_RATE_LIMIT, RATE_LIMITS
from laicai.venues.okx.ratelimit import EndpointLimiter, RateLimits


def max_in_window(times: list[float], window_s: float) -> int:
    times = sorted(times)
    best, lo = 0, 0
    for hi, t in enumerate(times):
        while times[lo] <= t - window_s:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


async def test_arrivals_never_exceed_the_limit_with_jittery_latency() -> None:
    limiter = EndpointLimiter(5, 0.2, max_concurrency=5, margin_s=0.0)
    rng = random.Random(3)
    arrivals: list[float] = []
    in_flight = peak = 0

    async def request() -> None:
        nonlocal in_flight, peak
        async with limiter.slot():
            in_flight += 1
            peak = max(peak, in_flight)
            await asyncio.sleep(rng.uniform(0, 0.03))  # on the way to the server
            arrivals.append(time.monotonic())
            await asyncio.sleep(rng.uniform(0, 0.03))  # on the way back
            in_flight -= 1

    started = time.monotonic()
    await asyncio.gather(*(request() for _ in range(30)))
    elapsed = time.monotonic() - started
    assert len(arrivals) == 30
    assert max_in_window(arrivals, 0.2) <= 5
    assert peak <= 5 and limiter.waits > 0
    assert elapsed >= 5 * 0.2  # 30 requests: the first 5 at once, then 5 more per window


async def test_concurrency_bound_is_separate_from_the_rate() -> None:
    limiter = EndpointLimiter(100, 1.0, max_concurrency=3)
    in_flight = peak = 0

    async def request() -> None:
        nonlocal in_flight, peak
        async with limiter.slot():
            in_flight += 1
            peak = max(peak, in_flight)
            await asyncio.sleep(0.01)
            in_flight -= 1

    await asyncio.gather(*(request() for _ in range(12)))
    assert peak == 3


async def test_costs_count_items_and_a_failed_request_still_holds_its_slot() -> None:
    limiter = EndpointLimiter(4, 0.15, max_concurrency=4, margin_s=0.0)
    with pytest.raises(RuntimeError):
        async with limiter.slot(3):
            raise RuntimeError("answered with an error: OKX counted it anyway")
    started = time.monotonic()
    async with limiter.slot(2):  # 3 + 2 > 4: waits for the first to leave the window
        waited = time.monotonic() - started
    assert waited >= 0.14


async def test_cancelled_request_releases_its_slot() -> None:
    limiter = EndpointLimiter(1, 0.05, max_concurrency=1, margin_s=0.0)

    async def hang() -> None:
        async with limiter.slot():
            await asyncio.sleep(10)

    task = asyncio.create_task(hang())
    await asyncio.sleep(0.01)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await asyncio.wait_for(limiter._acquire(1), 1)  # free again after one window


def test_table_and_defaults() -> None:
    limits = RateLimits()
    books = limits.limiter("market/books")
    assert (books.limit, books.window_s) == RATE_LIMITS["market/books"] == (40, 2.0)
    assert limits.limiter("market/books") is books
    assert RATE_LIMITS["public/funding-rate"] == (10, 2.0)
    assert RATE_LIMITS["market/tickers"] == (20, 2.0)
    other = limits.limiter("some/new-endpoint")
    assert (other.limit, other.window_s) == DEFAULT_RATE_LIMIT
    with pytest.raises(ValueError):
        EndpointLimiter(0, 1.0, max_concurrency=1)
