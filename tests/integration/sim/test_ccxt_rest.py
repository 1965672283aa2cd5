"""The real ccxt client (async_support), configured only by URLs and credentials, does
everything the bot will do against the simulator over loopback."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from decimal import Decimal

import ccxt
import pytest

from laicai.sim.clock import ManualClock
from laicai.sim.exchange import SimExchange
from laicai.sim.faults import Fault
from laicai.sim.server.app import SimServer
from laicai.testing.sim import START_MS, ccxt_client, make_exchange

HOUR = 3_600_000


@pytest.fixture
async def ex() -> SimExchange:
    return make_exchange(funding_account={"USDT": Decimal(1000)})


@pytest.fixture
async def server(ex: SimExchange) -> AsyncIterator[SimServer]:
    async with SimServer(ex) as srv:
        yield srv


@pytest.fixture
async def client(server: SimServer) -> AsyncIterator[object]:
    async with ccxt_client(server) as c:
        await c.load_markets()
        yield c


async def test_load_markets_has_real_okx_definitions(client) -> None:
    m = client.market("BTC/USDT:USDT")
    assert m["id"] == "BTC-USDT-SWAP"
    assert m["contractSize"] == 0.01  # real OKX ctVal
    assert m["linear"] is True
    spot = client.market("BTC/USDT")
    assert spot["precision"]["amount"] == 1e-08
    assert "DOGE/USDT:USDT" in client.markets


async def test_load_markets_default_types_queries_futures_and_options(server) -> None:
    # ccxt's default asks for FUTURES and OPTION too; the simulator answers with empty lists.
    async with ccxt_client(server, options={}) as c:
        markets = await c.load_markets()
        assert "BTC/USDT:USDT" in markets


async def test_funding_rates_one_all_and_history_with_intervals(client, ex) -> None:
    one = await client.fetch_funding_rate("BTC/USDT:USDT")
    assert one["fundingRate"] == 0.0001
    assert one["interval"] == "8h"
    assert one["fundingTimestamp"] == (START_MS // (8 * HOUR) + 1) * 8 * HOUR
    everything = await client.fetch_funding_rates()
    assert {"BTC/USDT:USDT", "ETH/USDT:USDT", "DOGE/USDT:USDT"} <= set(everything)
    assert everything["ETH/USDT:USDT"]["interval"] == "4h"
    assert everything["DOGE/USDT:USDT"]["interval"] == "1h"
    assert everything["DOGE/USDT:USDT"]["fundingRate"] == -0.0005
    # settle three hours of DOGE funding and read them back newest first
    ex.clock.advance(3 * HOUR)
    ex.sync()
    hist = await client.fetch_funding_rate_history("DOGE/USDT:USDT", limit=5)
    assert len(hist) == 5
    times = [h["timestamp"] for h in hist]
    assert times == sorted(times)  # ccxt sorts ascending
    assert all(b - a == HOUR for a, b in itertools.pairwise(times))
    assert all(h["fundingRate"] == -0.0005 for h in hist)


async def test_order_book_and_tickers(client) -> None:
    ob = await client.fetch_order_book("BTC/USDT:USDT", limit=400)
    assert len(ob["bids"]) == 50 and len(ob["asks"]) == 50  # the default book shape
    assert ob["bids"][0][0] < 60000 < ob["asks"][0][0]
    assert ob["asks"][0][1] >= 0.1  # contracts, lot-sized
    t = await client.fetch_ticker("ETH/USDT")
    assert t["bid"] < t["ask"]
    assert t["quoteVolume"] > 0
    ts = await client.fetch_tickers(params={"instType": "SWAP"})
    assert "BTC/USDT:USDT" in ts


async def test_spot_and_swap_orders_balance_positions(client, ex) -> None:
    await client.set_leverage(2, "BTC/USDT:USDT", params={"mgnMode": "cross"})
    buy = await client.create_order("BTC/USDT", "market", "buy", 0.1,
                                    params={"clOrdId": "spotbuy1"})
    assert buy["clientOrderId"] == "spotbuy1"
    got = await client.fetch_order(buy["id"], "BTC/USDT")
    assert got["status"] == "closed"
    assert got["filled"] == 0.1
    assert got["fee"]["currency"] == "BTC"  # OKX charges a spot buy's fee in the base coin
    by_cl = await client.fetch_order(None, "BTC/USDT", params={"clOrdId": "spotbuy1"})
    assert by_cl["id"] == buy["id"]
    sell = await client.create_order("BTC/USDT:USDT", "market", "sell", 10)
    assert (await client.fetch_order(sell["id"], "BTC/USDT:USDT"))["filled"] == 10
    pos = await client.fetch_positions(["BTC/USDT:USDT"])
    assert len(pos) == 1
    assert pos[0]["side"] == "short"
    assert pos[0]["contracts"] == 10
    assert pos[0]["leverage"] == 2
    assert pos[0]["marginMode"] == "cross"
    assert pos[0]["liquidationPrice"] > 60000
    bal = await client.fetch_balance()
    assert bal["BTC"]["total"] == pytest.approx(0.1 * (1 - 0.001))
    assert bal["USDT"]["total"] < 100000 - 6000
    fills = await client.fetch_my_trades("BTC/USDT")
    assert fills and fills[0]["takerOrMaker"] == "taker"


async def test_limit_post_only_cancel_and_resting_fill(client, ex) -> None:
    limit = await client.create_order("ETH/USDT", "limit", "buy", 1, 2900)
    assert (await client.fetch_order(limit["id"], "ETH/USDT"))["status"] == "open"
    opens = await client.fetch_open_orders("ETH/USDT")
    assert [o["id"] for o in opens] == [limit["id"]]
    bal = await client.fetch_balance()
    assert bal["USDT"]["used"] >= 2900
    # post-only that would cross is canceled by the venue, not filled
    po = await client.create_order("ETH/USDT", "limit", "buy", 1, 3100,
                                   params={"postOnly": True})
    assert (await client.fetch_order(po["id"], "ETH/USDT"))["status"] == "canceled"
    # the market falls through the resting bid: it fills as maker at its own price
    ex.set_price("ETH", price=Decimal(2850))
    filled = await client.fetch_order(limit["id"], "ETH/USDT")
    assert filled["status"] == "closed"
    assert filled["average"] == 2900
    other = await client.create_order("ETH/USDT", "limit", "buy", 1, 2000)
    canceled = await client.cancel_order(other["id"], "ETH/USDT")
    assert canceled["id"] == other["id"]
    assert (await client.fetch_order(other["id"], "ETH/USDT"))["status"] == "canceled"
    assert (await client.fetch_balance())["USDT"]["used"] == 0


async def test_errors_map_to_ccxt_exceptions(client, server) -> None:
    with pytest.raises(ccxt.BadSymbol):
        await client.public_get_market_books({"instId": "NOPE-USDT"})
    with pytest.raises(ccxt.BadRequest):
        await client.private_post_trade_order({"instId": "BTC-USDT", "side": "up",
                                               "ordType": "market", "sz": "1",
                                               "tdMode": "cash"})
    with pytest.raises(ccxt.InsufficientFunds):
        await client.create_order("BTC/USDT", "market", "buy", 50)
    await client.create_order("ETH/USDT", "limit", "buy", 1, 2000, params={"clOrdId": "dup1"})
    with pytest.raises(ccxt.InvalidOrder):  # 51016 duplicated clOrdId
        await client.create_order("ETH/USDT", "limit", "buy", 1, 2000,
                                  params={"clOrdId": "dup1"})
    with pytest.raises(ccxt.InvalidOrder):  # 51121 not a lot multiple
        await client.private_post_trade_order({"instId": "BTC-USDT-SWAP", "side": "buy",
                                               "ordType": "market", "sz": "0.05",
                                               "tdMode": "cross"})


async def test_bad_credentials_are_rejected(server) -> None:
    async with ccxt_client(server, secret="wrong") as c:
        with pytest.raises(ccxt.AuthenticationError):
            await c.fetch_balance()
    async with ccxt_client(server, apiKey="nobody") as c:
        with pytest.raises(ccxt.AuthenticationError):
            await c.fetch_balance()


async def test_read_only_key_cannot_trade() -> None:
    ex = make_exchange(perm="read_only")
    async with SimServer(ex) as srv, ccxt_client(srv) as c:
        await c.load_markets()
        assert (await c.fetch_balance())["USDT"]["total"] == 100000
        with pytest.raises(ccxt.ExchangeError, match="50120"):
            await c.create_order("BTC/USDT", "market", "buy", 0.01)
        accounts = await c.fetch_accounts()
        assert accounts[0]["info"]["perm"] == "read_only"


async def test_rate_limit_50011(server) -> None:
    async with ccxt_client(server) as c:
        with pytest.raises(ccxt.RateLimitExceeded):
            for _ in range(12):  # OKX: account/balance allows 10 requests per 2 s
                await c.private_get_account_balance()


async def test_transfer_earn_purchase_and_redeem(client, ex) -> None:
    await client.create_order("BTC/USDT", "market", "buy", 0.2)
    btc = (await client.fetch_balance())["BTC"]["free"]
    tr = await client.transfer("BTC", btc, "trading", "funding")
    assert tr["status"] is None  # OKX's transfer answer carries no state, as here
    assert (await client.fetch_transfer(tr["id"], "BTC"))["status"] == "ok"
    funding = await client.fetch_balance({"type": "funding"})
    assert funding["BTC"]["total"] == pytest.approx(btc)
    amt = f"{Decimal(str(btc)):f}"
    await client.private_post_finance_savings_purchase_redempt(
        {"ccy": "BTC", "amt": amt, "side": "purchase", "rate": "0.01"})
    sav = await client.private_get_finance_savings_balance({"ccy": "BTC"})
    assert Decimal(sav["data"][0]["amt"]) == Decimal(amt)
    summary = await client.public_get_finance_savings_lending_rate_summary({"ccy": "BTC"})
    assert summary["data"][0]["estRate"] == "0.01"
    ex.clock.advance(24 * HOUR)
    ex.sync()
    sav = await client.private_get_finance_savings_balance({"ccy": "BTC"})
    earned = Decimal(sav["data"][0]["earnings"])
    assert earned > 0
    assert Decimal(sav["data"][0]["amt"]) == Decimal(amt) + earned
    await client.private_post_finance_savings_purchase_redempt(
        {"ccy": "BTC", "amt": sav["data"][0]["amt"], "side": "redempt"})
    funding = await client.fetch_balance({"type": "funding"})
    assert funding["BTC"]["total"] == pytest.approx(float(Decimal(amt) + earned))


async def test_earn_redemption_delay_fault(client, ex) -> None:
    await client.transfer("USDT", 1000, "funding", "trading")
    await client.transfer("USDT", 500, "trading", "funding")
    await client.private_post_finance_savings_purchase_redempt(
        {"ccy": "USDT", "amt": "500", "side": "purchase", "rate": "0.01"})
    ex.faults.add(Fault("earn_delay", ccy="USDT", delay_ms=60_000))
    await client.private_post_finance_savings_purchase_redempt(
        {"ccy": "USDT", "amt": "500", "side": "redempt"})
    assert (await client.fetch_balance({"type": "funding"})).get("USDT", {}).get("total", 0) == 0
    ex.clock.advance(61_000)
    ex.sync()
    assert (await client.fetch_balance({"type": "funding"}))["USDT"]["total"] == 500


async def test_borrow_repay_and_interest(client, ex) -> None:
    rate = await client.fetch_cross_borrow_rate("BTC")
    assert rate["rate"] == pytest.approx(0.05 / 8760)
    loan = await client.borrow_cross_margin("BTC", 0.5)
    bal = await client.fetch_balance()
    assert bal["BTC"]["total"] == 0  # equity: 0.5 held, 0.5 owed
    btc = next(d for d in bal["info"]["data"][0]["details"] if d["ccy"] == "BTC")
    assert (btc["cashBal"], btc["liab"], btc["availBal"]) == ("0.5", "0.5", "0.5")
    ex.clock.advance(2 * HOUR)
    ex.sync()
    accrued = await client.fetch_borrow_interest("BTC")
    assert len(accrued) == 2
    liab = Decimal(ex.accounts["main"].trading["BTC"].liab)
    expected = Decimal("0.5") * (1 + Decimal("0.05") / 8760) ** 2
    assert abs(liab - expected) <= Decimal("2e-18")  # accruals kept to 1e-18
    assert liab > Decimal("0.5000057")
    with pytest.raises(ccxt.InsufficientFunds):  # with the interest, 0.5 cash is not enough
        await client.repay_cross_margin("BTC", 0.5000057, params={"id": loan["info"]["ordId"]})
    await client.repay_cross_margin("BTC", 0.5, params={"id": loan["info"]["ordId"]})
    btc = ex.accounts["main"].trading["BTC"]
    assert btc.liab == liab - Decimal("0.5")
    assert btc.interest == 0  # interest is repaid first
    # the unified account's own endpoint, as the execution layer uses it
    await client.private_post_account_spot_manual_borrow_repay(
        {"ccy": "USDT", "side": "borrow", "amt": "100"})
    await client.create_order("BTC/USDT", "market", "buy", 0.001)
    owed = f"{btc.liab:f}"
    await client.private_post_account_spot_manual_borrow_repay(
        {"ccy": "BTC", "side": "repay", "amt": owed})
    assert btc.liab == 0


async def test_borrow_limit_exhausted(client, ex) -> None:
    with pytest.raises(ccxt.ExchangeError):
        await client.borrow_cross_margin("BTC", 6)  # the limit is 5
    ex.faults.add(Fault("borrow_exhausted", ccy="ETH"))
    with pytest.raises(ccxt.ExchangeError):
        await client.borrow_cross_margin("ETH", 1)


async def test_short_spot_with_cross_margin_auto_borrow(client, ex) -> None:
    order = await client.create_order("ETH/USDT", "market", "sell", 2,
                                      params={"tdMode": "cross"})
    assert (await client.fetch_order(order["id"], "ETH/USDT"))["filled"] == 2
    eth = ex.accounts["main"].trading["ETH"]
    assert eth.liab == 2 and eth.cash == 0


async def test_funding_bills_after_settlement(client, ex) -> None:
    await client.create_order("BTC/USDT:USDT", "market", "sell", 10)
    ex.clock.set((START_MS // (8 * HOUR) + 1) * 8 * HOUR)
    ex.sync()
    # ccxt's "type" param is the market type; OKX's bill type is filtered here
    ledger = await client.fetch_ledger("USDT", params={"type": "swap"})
    funding = [e for e in ledger if e["info"]["type"] == "8"]
    assert len(funding) == 1
    entry = funding[0]
    assert entry["info"]["subType"] == "174"  # a short receives positive funding
    assert entry["amount"] == pytest.approx(0.1 * 60000 * 0.0001)


async def test_server_error_and_unknown_outcome_faults(client, ex) -> None:
    ex.faults.add(Fault("http_5xx", endpoint="account/balance", http_status=503))
    with pytest.raises(ccxt.ExchangeNotAvailable):
        await client.fetch_balance()
    ex.faults.add(Fault("drop_after_accept", endpoint="trade/batch-orders"))
    with pytest.raises(ccxt.NetworkError):
        await client.create_order("BTC/USDT", "market", "buy", 0.01,
                                  params={"clOrdId": "unknown1"})
    # the order was accepted: looking it up by clOrdId tells the truth
    found = await client.fetch_order(None, "BTC/USDT", params={"clOrdId": "unknown1"})
    assert found["status"] == "closed"
    ex.faults.add(Fault("reject", endpoint="trade/batch-orders", code="51008"))
    with pytest.raises(ccxt.InsufficientFunds):
        await client.create_order("BTC/USDT", "market", "buy", 0.01)
    ex.faults.add(Fault("partial_fill", inst_id="BTC-USDT-SWAP", ratio=Decimal("0.3")))
    part = await client.create_order("BTC/USDT:USDT", "market", "sell", 10)
    got = await client.fetch_order(part["id"], "BTC/USDT:USDT")
    assert got["filled"] == 3
    assert got["status"] == "canceled"


async def test_accelerated_manual_clock_via_control_api(server, ex) -> None:
    import aiohttp

    async with aiohttp.ClientSession() as http:
        r = await http.post(f"{server.rest_url}/sim/clock", json={"advance_ms": HOUR})
        assert (await r.json())["nowMs"] == START_MS + HOUR
        r = await http.post(f"{server.rest_url}/sim/price", json={"coin": "BTC", "pct": "10"})
        assert Decimal((await r.json())["indexPx"]) == Decimal(66000)
        r = await http.post(f"{server.rest_url}/sim/faults", json={"kind": "bogus"})
        assert r.status == 400
        assert "unknown fault kind" in (await r.json())["error"]
        r = await http.get(f"{server.rest_url}/sim/state")
        state = await r.json()
        assert state["instruments"]["BTC-USDT-SWAP"]["fundingIntervalHours"] == 8
        assert isinstance(ex.clock, ManualClock)


async def test_control_api_lists_every_order_of_an_account(client, server) -> None:
    import aiohttp

    await client.create_order("BTC/USDT", "market", "buy", 0.1, params={"clOrdId": "ctl1"})
    limit = await client.create_order("ETH/USDT", "limit", "buy", 1, 2900,
                                      params={"clOrdId": "ctl2"})
    await client.cancel_order(limit["id"], "ETH/USDT")
    async with aiohttp.ClientSession() as http:
        r = await http.get(f"{server.rest_url}/sim/orders")
        rows = {o["clOrdId"]: o for o in await r.json()}
        assert rows["ctl1"]["state"] == "filled" and rows["ctl1"]["accFillSz"] == "0.1"
        assert rows["ctl2"]["state"] == "canceled" and rows["ctl2"]["instId"] == "ETH-USDT"
        assert len(rows) == (await (await http.get(f"{server.rest_url}/sim/state")).json()
                             )["accounts"]["main"]["orders"]
        r = await http.get(f"{server.rest_url}/sim/orders?account=nobody")
        assert r.status == 400 and "nobody" in (await r.json())["error"]
