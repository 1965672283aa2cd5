"""Build a small, fully controlled simulated OKX for tests: constant or scripted prices,
fixed funding, one account with known keys, and a ccxt client pointed at its server."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator, Mapping
from decimal import Decimal
from typing import Any

from laicai.sim.account import ApiKey
from laicai.sim.clock import Clock, ManualClock
from laicai.sim.exchange import AccountSetup, SimExchange
from laicai.sim.instruments import SimInstrument, pair_for
from laicai.sim.market import (
    BookShape,
    ConstantFunding,
    ConstantPrice,
    CurrencyTerms,
    MarketPlan,
    PricePath,
    SwapTerms,
)

API_KEY = "test-key"
SECRET = "test-secret"
PASSPHRASE = "test-pass"
START_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z

DEFAULT_PRICES = {"BTC": Decimal(60000), "ETH": Decimal(3000), "DOGE": Decimal("0.2")}
DEFAULT_FUNDING = {
    "BTC-USDT-SWAP": (Decimal("0.0001"), 8),
    "ETH-USDT-SWAP": (Decimal("0.0003"), 4),
    "DOGE-USDT-SWAP": (Decimal("-0.0005"), 1),
}


def make_exchange(
    *,
    clock: Clock | None = None,
    prices: Mapping[str, Decimal | PricePath] | None = None,
    funding: Mapping[str, tuple[Decimal, int]] | None = None,
    trading: Mapping[str, Decimal] | None = None,
    funding_account: Mapping[str, Decimal] | None = None,
    currencies: Mapping[str, CurrencyTerms] | None = None,
    book: BookShape | None = None,
    perm: str = "read_only,trade",
    seed: int = 7,
    acct_lv: int = 2,
) -> SimExchange:
    """A venue with BTC, ETH and DOGE spot+swap (real OKX definitions where shipped)."""
    prices = dict(DEFAULT_PRICES if prices is None else prices)
    paths: dict[str, PricePath] = {
        c: (ConstantPrice(p) if isinstance(p, Decimal) else p) for c, p in prices.items()
    }
    instruments: list[SimInstrument] = []
    for coin, path in paths.items():
        instruments.extend(pair_for(coin, path.price_at(START_MS)))
    fund = DEFAULT_FUNDING if funding is None else funding
    plan = MarketPlan(
        prices=paths,
        swaps={i: SwapTerms(ConstantFunding(r, h)) for i, (r, h) in fund.items()},
        currencies=dict(currencies) if currencies is not None else {
            "BTC": CurrencyTerms(earn_apr=Decimal("0.01"), borrow_apr=Decimal("0.05"),
                                 borrow_limit=Decimal(5)),
            "ETH": CurrencyTerms(earn_apr=Decimal("0.02"), borrow_apr=Decimal("0.06"),
                                 borrow_limit=Decimal(100)),
            "DOGE": CurrencyTerms(earn_apr=Decimal("0.03"), borrow_apr=Decimal("0.10"),
                                  borrow_limit=Decimal(1_000_000)),
            "USDT": CurrencyTerms(earn_apr=Decimal("0.05"), borrow_apr=Decimal("0.08"),
                                  borrow_limit=Decimal(1_000_000)),
        },
        default_book=book or BookShape(),
    )
    return SimExchange(
        clock=clock or ManualClock(START_MS),
        plan=plan,
        instruments=instruments,
        accounts=[AccountSetup(
            "main", [ApiKey(API_KEY, SECRET, PASSPHRASE, perm=perm)], acct_lv=acct_lv,
            trading=dict(trading) if trading is not None else {"USDT": Decimal(100000)},
            funding=dict(funding_account or {}),
        )],
        seed=seed,
    )


def ccxt_config(**extra: Any) -> dict[str, Any]:
    cfg: dict[str, Any] = {
        "apiKey": API_KEY, "secret": SECRET, "password": PASSPHRASE,
        "enableRateLimit": False,
        "options": {"fetchMarkets": {"types": ["spot", "swap"]}},
    }
    cfg.update(extra)
    return cfg


@contextlib.asynccontextmanager
async def ccxt_client(server: Any, **extra: Any) -> AsyncIterator[Any]:
    """A ``ccxt.async_support.okx`` talking to ``server`` (a SimServer), closed on exit."""
    import ccxt.async_support as ccxt_async

    client = ccxt_async.okx(ccxt_config(**extra))
    client.urls["api"] = server.ccxt_urls()
    try:
        yield client
    finally:
        await client.close()


@contextlib.contextmanager
def server_in_thread(exchange: SimExchange, **server_kw: Any) -> Iterator[Any]:
    """Run a SimServer on its own event loop in a thread: for code under test that runs its
    own ``asyncio.run`` (the CLI). Yields the started server."""
    import asyncio
    import threading

    from laicai.sim.server.app import SimServer

    loop = asyncio.new_event_loop()
    server = SimServer(exchange, **server_kw)
    started = threading.Event()

    def run() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(server.start())
        started.set()
        loop.run_forever()

    thread = threading.Thread(target=run, name="sim-server", daemon=True)
    thread.start()
    if not started.wait(10):
        raise RuntimeError("simulator server did not start within 10 s")
    try:
        yield server
    finally:
        asyncio.run_coroutine_threadsafe(server.stop(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


class SimTimeClock:
    """An execution clock on the simulator's manual clock: ``sleep`` advances simulated time
    (and runs what falls due) instead of waiting, so waits cost no wall time in tests."""

    def __init__(self, exchange: SimExchange) -> None:
        self.exchange = exchange

    def now(self) -> Any:
        from datetime import UTC, datetime

        return datetime.fromtimestamp(self.exchange.clock.now_ms() / 1000, UTC)

    async def sleep(self, seconds: float) -> None:
        import asyncio

        clock = self.exchange.clock
        if isinstance(clock, ManualClock):
            clock.advance(int(seconds * 1000))
            self.exchange.sync()
        await asyncio.sleep(0)
