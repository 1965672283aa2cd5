"""OKX's rate limits respected by construction: both legs' books of 110 coins fetched at once
against a simulator that enforces OKX's real per-endpoint limits (``market/books``: 40 per
2 s) never see a 50011, and the same fetch without the adapter's limiter does."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from decimal import Decimal

import pytest
from okx_sim_support import CREDENTIALS, RecordingSleep, sim_config

from laicai.errors import RateLimited
from laicai.sim.exchange import SimExchange
from laicai.sim.server.app import SimServer
from laicai.testing.sim import make_exchange
from laicai.venues.okx import AdapterSettings, RetryPolicy, create_exchange
from laicai.venues.okx.data import inst_ids_of_pairs

COINS = [f"C{i:03d}" for i in range(1, 111)]
LEGS = inst_ids_of_pairs(COINS)  # 220 instruments
BOOKS_PER_WINDOW, WINDOW_S = 40, 2.0

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def timings() -> Iterator[dict[str, float]]:
    found: dict[str, float] = {}
    yield found
    if found:
        print("\n220 books (110 coins x 2 legs) against OKX's real limits:",
              ", ".join(f"{k} {v:.2f} s" for k, v in found.items()))


@pytest.fixture
def venue() -> SimExchange:
    return make_exchange(
        prices={c: Decimal(i) / 7 + 1 for i, c in enumerate(COINS, 1)},
        funding={f"{c}-USDT-SWAP": (Decimal("0.0001"), 8) for c in COINS},
    )


@pytest.fixture
async def server(venue: SimExchange) -> AsyncIterator[SimServer]:
    async with SimServer(venue, rate_limits=True) as srv:
        yield srv


@contextmanager
def count_denials(server: SimServer) -> Iterator[list[str]]:
    """Every request the simulator's limiter refused (answered 50011), by endpoint."""
    assert server.limiter is not None
    denied: list[str] = []
    allow = server.limiter.allow

    def counting(endpoint: str, identity: str, now_ms: int, cost: int = 1) -> bool:
        ok = allow(endpoint, identity, now_ms, cost)
        if not ok:
            denied.append(endpoint)
        return ok

    server.limiter.allow = counting  # type: ignore[method-assign]
    try:
        yield denied
    finally:
        server.limiter.allow = allow  # type: ignore[method-assign]


async def test_220_books_at_once_never_trip_50011(server: SimServer,
                                                  timings: dict[str, float]) -> None:
    sleep = RecordingSleep()
    async with create_exchange(sim_config(server), CREDENTIALS, sleep=sleep) as okx:
        with count_denials(server) as denied:
            started = time.monotonic()
            books = await okx.order_books(LEGS)
            elapsed = time.monotonic() - started
    timings["concurrent (adapter)"] = elapsed
    assert denied == [] and sleep.delays == []  # no 50011, no RateLimited, no retry
    assert len(books) == 220 and all(b.bids and b.asks for b in books.values())
    assert books["C110-USDT-SWAP"].inst_id == "C110-USDT-SWAP"
    # 220 requests at 40 per 2 s need at least five more windows after the first burst
    assert (len(LEGS) // BOOKS_PER_WINDOW) * WINDOW_S <= elapsed < 60


async def test_without_the_limiter_the_same_fetch_is_refused(server: SimServer,
                                                             timings: dict[str, float]
                                                             ) -> None:
    settings = AdapterSettings(retry=RetryPolicy(max_attempts=1))
    config = sim_config(server, enable_rate_limit=False)
    async with create_exchange(config, CREDENTIALS, settings=settings) as okx:
        with count_denials(server) as denied:
            started = time.monotonic()
            results = await asyncio.gather(*(okx.order_book(i) for i in LEGS),
                                           return_exceptions=True)
            timings["naive concurrent, no limiter"] = time.monotonic() - started
    refused = [r for r in results if isinstance(r, BaseException)]
    assert refused and all(isinstance(r, RateLimited) for r in refused)
    assert len(denied) == len(refused) >= len(LEGS) - BOOKS_PER_WINDOW
