"""The OKX adapter's reads through the real ccxt against the simulator: every port method
returns domain values equal (as Decimals, never via float) to what the venue holds."""

from __future__ import annotations

import itertools
from decimal import Decimal

import pytest
from okx_sim_support import CREDENTIALS, sim_config

from laicai.config.sections import OkxConfig
from laicai.domain.enums import InstKind
from laicai.domain.market import funding_apr
from laicai.sim import trading
from laicai.sim.clock import ManualClock
from laicai.sim.exchange import SimExchange
from laicai.sim.instruments import with_state
from laicai.sim.ledger import position_view
from laicai.sim.server import views
from laicai.sim.server.app import SimServer
from laicai.testing.sim import START_MS, make_exchange
from laicai.venues.okx import OkxExchange, create_exchange
from laicai.venues.port import Exchange

HOUR = 3_600_000


def test_okx_exchange_has_every_port_method() -> None:
    port = {n for n in dir(Exchange) if not n.startswith("_")}
    assert port <= {n for n in dir(OkxExchange) if not n.startswith("_")}


async def test_instruments_are_okx_definitions_as_decimals(okx: OkxExchange,
                                                           venue: SimExchange) -> None:
    venue.instruments["ETH-USDT"] = with_state(venue.instruments["ETH-USDT"], "suspend")
    by_id = {i.inst_id: i for i in await okx.instruments()}
    assert set(by_id) == {"BTC-USDT", "ETH-USDT", "DOGE-USDT",
                          "BTC-USDT-SWAP", "ETH-USDT-SWAP", "DOGE-USDT-SWAP"}
    swap = by_id["BTC-USDT-SWAP"]
    assert swap.kind is InstKind.SWAP and (swap.base, swap.quote) == ("BTC", "USDT")
    assert swap.contract_value == Decimal("0.01")  # real OKX ctVal
    assert (swap.lot_size, swap.min_size, swap.tick_size) == (Decimal("0.1"),) * 3
    assert swap.max_leverage == 100 and swap.live
    spot = by_id["BTC-USDT"]
    assert spot.kind is InstKind.SPOT and spot.contract_value == 1
    assert spot.lot_size == Decimal("0.00000001") and spot.min_size == Decimal("0.00001")
    assert not by_id["ETH-USDT"].live
    for inst in by_id.values():  # every number is exactly OKX's string
        raw = venue.instruments[inst.inst_id].to_okx()
        assert (inst.tick_size, inst.lot_size, inst.min_size) == (
            Decimal(raw["tickSz"]), Decimal(raw["lotSz"]), Decimal(raw["minSz"]))


async def test_funding_rates_all_swaps_in_one_request_with_read_intervals(
        server: SimServer) -> None:
    venue = server.exchange
    before = server.request_count
    async with create_exchange(sim_config(server), CREDENTIALS) as okx:
        rates = {r.inst_id: r for r in await okx.funding_rates()}
    assert server.request_count - before == 1
    assert {i: (r.rate, r.interval_hours) for i, r in rates.items()} == {
        "BTC-USDT-SWAP": (Decimal("0.0001"), 8),
        "ETH-USDT-SWAP": (Decimal("0.0003"), 4),
        "DOGE-USDT-SWAP": (Decimal("-0.0005"), 1),
    }
    for inst_id, r in rates.items():
        assert r.next_funding_ms == venue.next_funding_ms[inst_id]
        assert r.ts_ms == START_MS
    assert rates["DOGE-USDT-SWAP"].apr == funding_apr(Decimal("-0.0005"), 1)


async def test_two_hour_interval_is_read_not_assumed(server: SimServer) -> None:
    venue = make_exchange(funding={"BTC-USDT-SWAP": (Decimal("0.0002"), 2)},
                          prices={"BTC": Decimal(60000)})
    async with SimServer(venue) as srv, create_exchange(sim_config(srv), CREDENTIALS) as okx:
        (rate,) = await okx.funding_rates()
    assert rate.interval_hours == 2
    assert rate.next_funding_ms == (START_MS // (2 * HOUR) + 1) * 2 * HOUR


async def test_funding_history_oldest_first_and_paged(okx: OkxExchange,
                                                      venue: SimExchange) -> None:
    assert isinstance(venue.clock, ManualClock)
    venue.clock.advance(3 * HOUR)
    venue.sync()
    last5 = await okx.funding_history("DOGE-USDT-SWAP", limit=5)
    assert [s.rate for s in last5] == [Decimal("-0.0005")] * 5
    times = [s.ts_ms for s in last5]
    assert all(b - a == HOUR for a, b in itertools.pairwise(times))
    assert times[-1] == START_MS + 3 * HOUR
    many = await okx.funding_history("DOGE-USDT-SWAP", limit=150)  # two pages of OKX's 100
    assert len(many) == 150
    assert all(b.ts_ms - a.ts_ms == HOUR for a, b in itertools.pairwise(many))
    assert many[-1] == last5[-1]


async def test_order_book_levels_exactly_as_the_venue_holds_them(okx: OkxExchange,
                                                                 venue: SimExchange) -> None:
    book = await okx.order_book("BTC-USDT-SWAP")
    asks, bids = venue.book("BTC-USDT-SWAP").snapshot(400)
    assert book.bids == tuple((p, q) for p, q in bids)
    assert book.asks == tuple((p, q) for p, q in asks)
    assert len(book.bids) == 50 and book.best_bid is not None and book.best_ask is not None
    assert book.best_bid < 60000 < book.best_ask
    top5 = await okx.order_book("DOGE-USDT", depth=5)
    assert len(top5.bids) == len(top5.asks) == 5
    with pytest.raises(ValueError, match="depth"):
        await okx.order_book("BTC-USDT", depth=401)


async def test_both_legs_books_at_once(okx: OkxExchange) -> None:
    ids = [f"{c}-USDT{s}" for c in ("BTC", "ETH", "DOGE") for s in ("", "-SWAP")]
    books = await okx.order_books(ids, depth=20)
    assert list(books) == ids
    assert all(len(b.bids) == 20 and b.inst_id == i for i, b in books.items())


async def test_tickers_quote_volume_for_spot_and_swap(okx: OkxExchange,
                                                      venue: SimExchange) -> None:
    tickers = {t.inst_id: t for t in await okx.tickers()}
    assert len(tickers) == 6
    for inst_id, t in tickers.items():
        raw = views.ticker(venue, inst_id)
        vol = Decimal(raw["volCcy24h"])
        expected = vol * Decimal(raw["last"]) if inst_id.endswith("-SWAP") else vol
        assert t.volume_24h_quote == expected  # swaps: OKX's volCcy24h is in base currency
        assert (t.last, t.bid, t.ask) == (Decimal(raw["last"]), Decimal(raw["bidPx"]),
                                          Decimal(raw["askPx"]))


async def test_open_interest(okx: OkxExchange) -> None:
    oi = {o.inst_id: o for o in await okx.open_interest()}
    assert set(oi) == {"BTC-USDT-SWAP", "ETH-USDT-SWAP", "DOGE-USDT-SWAP"}
    assert oi["BTC-USDT-SWAP"].base_qty == oi["BTC-USDT-SWAP"].contracts * Decimal("0.01")


async def test_earn_rates(okx: OkxExchange) -> None:
    rates = {r.ccy: r.apr for r in await okx.earn_rates()}
    assert rates == {"BTC": Decimal("0.01"), "ETH": Decimal("0.02"), "DOGE": Decimal("0.03"),
                     "USDT": Decimal("0.05")}


async def test_fee_rates_are_positive_costs(okx: OkxExchange) -> None:
    fees = await okx.fee_rates()
    assert (fees.spot_maker, fees.spot_taker) == (Decimal("0.0008"), Decimal("0.001"))
    assert (fees.swap_maker, fees.swap_taker) == (Decimal("0.0002"), Decimal("0.0005"))


async def test_borrow_terms_hourly_rate_and_what_is_left(okx: OkxExchange,
                                                         venue: SimExchange) -> None:
    trading.borrow(venue, venue.accounts["main"], "BTC", Decimal("1.5"))
    terms = {t.ccy: t for t in await okx.borrow_terms(["BTC", "eth", "USDT"])}
    assert set(terms) == {"BTC", "ETH", "USDT"}
    btc = terms["BTC"]
    assert btc.available == Decimal("3.5")  # limit 5, 1.5 borrowed
    assert abs(btc.hourly_rate - Decimal("0.05") / 8760) < Decimal("1e-18")
    assert abs(btc.apr - Decimal("0.05")) < Decimal("1e-12")
    assert terms["ETH"].available == 100
    (one,) = await okx.borrow_terms(["DOGE"])
    assert one.available == 1_000_000
    assert await okx.borrow_terms([]) == []


async def test_balances_trading_and_funding(okx: OkxExchange, venue: SimExchange) -> None:
    acct = venue.accounts["main"]
    trading.place_order(venue, acct, {"instId": "BTC-USDT", "side": "buy", "ordType": "market",
                                      "sz": "0.1", "tgtCcy": "base_ccy", "tdMode": "cash"})
    trading.borrow(venue, acct, "ETH", Decimal(2))
    held = {b.ccy: b for b in await okx.balances()}
    assert held["BTC"].total == acct.trading["BTC"].cash == Decimal("0.0999")  # fee in BTC
    assert held["USDT"].total == acct.trading["USDT"].cash
    assert held["ETH"].liability == 2 and held["ETH"].total == 0
    assert held["ETH"].available == 2
    funding = {b.ccy: b for b in await okx.balances("funding")}
    assert funding["USDT"].total == funding["USDT"].available == 1000
    assert funding["BTC"].total == Decimal("0.5")
    with pytest.raises(ValueError, match="account"):
        await okx.balances("savings")


async def test_positions_with_okx_margin_ratio_and_liquidation_price(
        okx: OkxExchange, venue: SimExchange) -> None:
    acct = venue.accounts["main"]
    assert await okx.positions() == []
    trading.set_leverage(venue, acct, "BTC-USDT-SWAP", "3", "cross")
    trading.place_order(venue, acct, {"instId": "BTC-USDT-SWAP", "side": "sell",
                                      "ordType": "market", "sz": "10", "tdMode": "cross"})
    (pos,) = await okx.positions()
    view = position_view(venue, acct, acct.positions["BTC-USDT-SWAP"])
    assert pos.inst_id == "BTC-USDT-SWAP"
    assert pos.contracts == -10 and pos.base_qty == Decimal("-0.1")
    assert pos.leverage == 3 and pos.margin_mode == "cross"
    assert pos.okx_mgn_ratio is not None and pos.liq_px is not None
    assert pos.okx_mgn_ratio == Decimal(views.s(view.mgn_ratio))
    assert pos.liq_px == Decimal(views.s(view.liq_px)) and pos.liq_px > 60000
    assert pos.notional_usdt == Decimal(views.s(view.notional))
    assert pos.avg_px == acct.positions["BTC-USDT-SWAP"].avg_px


async def test_account_config(okx: OkxExchange) -> None:
    cfg = await okx.account_config()
    assert cfg.account_level == 2 and cfg.position_mode == "net_mode"
    assert cfg.permissions == {"read_only", "trade"}
    assert cfg.can_trade and not cfg.can_withdraw
    assert cfg.uid


async def test_sandbox_header_and_urls(server: SimServer) -> None:
    demo = create_exchange(OkxConfig(rest_url=server.rest_url, sandbox_mode=True), CREDENTIALS)
    live = create_exchange(OkxConfig(rest_url=server.rest_url, sandbox_mode=False), CREDENTIALS)
    async with demo, live:
        assert demo.client.headers.get("x-simulated-trading") == "1"
        assert "x-simulated-trading" not in live.client.headers
        # a rest_url alone points the WebSocket at the same venue
        assert demo.client.urls["api"] == {"rest": server.rest_url, "ws": server.ws_url}
        for okx in (demo, live):  # both reach the simulator, signed reads included
            assert (await okx.account_config()).account_level == 2
            assert await okx.funding_rates()


async def test_close_is_idempotent_and_closes_the_client(server: SimServer) -> None:
    okx = create_exchange(sim_config(server), CREDENTIALS)
    await okx.funding_rates()
    session = okx.client.session
    assert session is not None and not session.closed
    await okx.close()
    await okx.close()
    assert session.closed
