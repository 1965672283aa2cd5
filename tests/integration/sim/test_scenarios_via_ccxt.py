"""Every built-in scenario, served, is a venue ccxt can load and read; the calm one replays
real funding with the real per-swap intervals."""

from __future__ import annotations

import pytest

from laicai.sim.clock import ManualClock
from laicai.sim.scenario import builtin_scenarios
from laicai.sim.server.app import SimServer, build_exchange
from laicai.testing.sim import ccxt_client

HOUR = 3_600_000


@pytest.mark.parametrize("name", sorted(builtin_scenarios()))
async def test_builtin_scenario_serves_markets_funding_and_books(name: str) -> None:
    ex, setup = build_exchange(name, seed=None, speed=1.0, manual_clock=True)
    acct = setup.accounts[0]
    async with SimServer(ex) as srv, ccxt_client(
        srv, apiKey=acct.api_key, secret=acct.secret_key, password=acct.passphrase
    ) as c:
        markets = await c.load_markets()
        swaps = [m for m in markets.values() if m["swap"]]
        assert len(swaps) == len(setup.coins)
        rates = await c.fetch_funding_rates()
        assert len(rates) == len(swaps)
        assert {r["interval"] for r in rates.values()} <= {"1h", "2h", "4h", "8h"}
        some = swaps[0]["symbol"]
        ob = await c.fetch_order_book(some, limit=20)
        assert ob["bids"][0][0] < ob["asks"][0][0]
        bal = await c.fetch_balance()
        assert bal["USDT"]["total"] > 0


async def test_calm_replays_real_history_through_settlements() -> None:
    ex, setup = build_exchange("calm", seed=None, speed=1.0, manual_clock=True)
    assert isinstance(ex.clock, ManualClock)
    from laicai.data.funding_history import history_for

    acct = setup.accounts[0]
    async with SimServer(ex) as srv, ccxt_client(
        srv, apiKey=acct.api_key, secret=acct.secret_key, password=acct.passphrase
    ) as c:
        await c.load_markets()
        await c.create_order("BTC/USDT:USDT", "market", "sell", 1)
        ex.clock.advance(24 * HOUR)
        ex.sync()
        hist = await c.fetch_funding_rate_history("BTC/USDT:USDT", limit=3)
        real = {r.ts_ms - r.ts_ms % 60_000: r.rate for r in history_for("BTC")}
        for h in hist:
            assert h["timestamp"] in real
            assert h["fundingRate"] == pytest.approx(float(real[h["timestamp"]]))
        bills = [b for b in ex.accounts[acct.name].bills if b.type == "8"]
        assert len(bills) == 3  # BTC settles every 8 h in that week
        wif = await c.fetch_funding_rate("WIF/USDT:USDT")
        assert wif["interval"] == "4h"
