"""The ccxt.pro watchers of the OKX adapter against the simulator's WebSocket: the same
domain values as the REST reads, and a dropped connection retried like any transient error."""

from __future__ import annotations

import asyncio
from decimal import Decimal

from okx_sim_support import RecordingSleep

from laicai.sim.exchange import SimExchange
from laicai.sim.faults import Fault
from laicai.venues.okx import OkxExchange

TIMEOUT_S = 15


async def test_watch_order_book_matches_the_rest_book(okx: OkxExchange,
                                                      venue: SimExchange) -> None:
    pushed = await asyncio.wait_for(okx.watch_order_book("ETH-USDT-SWAP"), TIMEOUT_S)
    fetched = await okx.order_book("ETH-USDT-SWAP")
    assert pushed.inst_id == "ETH-USDT-SWAP"
    assert pushed.bids == fetched.bids and pushed.asks == fetched.asks
    assert len(pushed.bids) == 50
    # a watch waits for the next push: the price moves, and the pushed book follows it
    venue.set_price("ETH", price=Decimal(3300))
    for _ in range(20):
        moved = await asyncio.wait_for(okx.watch_order_book("ETH-USDT-SWAP"), TIMEOUT_S)
        if moved.best_bid is not None and moved.best_bid > 3200:
            break
    assert moved.best_bid is not None and moved.best_ask is not None
    assert moved.best_bid < Decimal(3300) * Decimal("1.0001") < moved.best_ask * 2
    assert moved.bids == (await okx.order_book("ETH-USDT-SWAP")).bids


async def test_watch_order_book_depth(okx: OkxExchange) -> None:
    top = await asyncio.wait_for(okx.watch_order_book("BTC-USDT-SWAP", depth=5), TIMEOUT_S)
    assert len(top.bids) == len(top.asks) == 5
    assert top.bids == (await okx.order_book("BTC-USDT-SWAP", depth=5)).bids


async def test_watch_ticker_and_funding_rate(okx: OkxExchange) -> None:
    ticker = await asyncio.wait_for(okx.watch_ticker("DOGE-USDT-SWAP"), TIMEOUT_S)
    (rest,) = [t for t in await okx.tickers() if t.inst_id == "DOGE-USDT-SWAP"]
    assert (ticker.last, ticker.bid, ticker.ask) == (rest.last, rest.bid, rest.ask)
    assert ticker.volume_24h_quote == rest.volume_24h_quote
    rate = await asyncio.wait_for(okx.watch_funding_rate("ETH-USDT-SWAP"), TIMEOUT_S)
    assert (rate.rate, rate.interval_hours) == (Decimal("0.0003"), 4)
    (rest_rate,) = [r for r in await okx.funding_rates() if r.inst_id == "ETH-USDT-SWAP"]
    assert rate.next_funding_ms == rest_rate.next_funding_ms


async def test_dropped_websocket_is_retried(okx: OkxExchange, venue: SimExchange,
                                            sleep: RecordingSleep) -> None:
    first = await asyncio.wait_for(okx.watch_order_book("BTC-USDT"), TIMEOUT_S)
    # the price stands still, so this watch waits ... until the connection is cut under it
    pending = asyncio.create_task(okx.watch_order_book("BTC-USDT"))
    await asyncio.sleep(0.2)
    assert not pending.done()
    venue.faults.add(Fault("ws_drop", channel="public"))
    book = await asyncio.wait_for(pending, TIMEOUT_S)  # retried: resubscribed, new snapshot
    assert len(sleep.delays) == 1
    assert book.bids == first.bids
