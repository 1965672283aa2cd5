"""The OKX adapter's write side through the real ccxt against the simulator: orders (and what
is sent again and what never is), leverage, transfers, Simple Earn and margin loans.

The venue (``conftest.venue``): BTC, ETH, DOGE spot and swaps at 60000 / 3000 / 0.2 USDT,
100k USDT in the trading account, 1000 USDT and 0.5 BTC in the funding account; BTC borrows
at 5% a year up to 5 BTC.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal

import ccxt
import pytest
from okx_sim_support import CREDENTIALS, RecordingSleep, sim_config

from laicai.config.sections import OkxConfig
from laicai.domain.enums import Side
from laicai.domain.orders import OrderRequest, OrderStatus, OrderType
from laicai.errors import (
    DuplicateClientOrderId,
    ExchangeError,
    InsufficientFunds,
    OrderRejected,
    OutcomeUnknown,
    RateLimited,
)
from laicai.sim.exchange import SimExchange
from laicai.sim.faults import Fault
from laicai.sim.server.app import SimServer
from laicai.venues.okx import AdapterSettings, OkxExchange, RetryPolicy, create_exchange
from laicai.venues.port import TradingExchange

HOUR = 3_600_000
BTC_SPOT, BTC_SWAP, ETH_SPOT = "BTC-USDT", "BTC-USDT-SWAP", "ETH-USDT"


def market(cl: str, inst_id: str, side: Side, size: str, td_mode: str = "cash",
           reduce_only: bool = False) -> OrderRequest:
    return OrderRequest(cl, inst_id, side, OrderType.MARKET, Decimal(size), td_mode,
                        reduce_only=reduce_only)


def limit(cl: str, inst_id: str, side: Side, size: str, price: str,
          type_: OrderType = OrderType.LIMIT, td_mode: str = "cash") -> OrderRequest:
    return OrderRequest(cl, inst_id, side, type_, Decimal(size), td_mode, Decimal(price))


def orders_with(venue: SimExchange, cl: str) -> list[object]:
    """Every order the venue holds under client order id ``cl``."""
    return [o for o in venue.accounts["main"].orders.values() if o.cl_ord_id == cl]


def funding_of(venue: SimExchange, ccy: str) -> Decimal:
    return venue.accounts["main"].funding.get(ccy, Decimal(0))


def test_okx_exchange_has_every_trading_port_method() -> None:
    port = {n for n in dir(TradingExchange) if not n.startswith("_")}
    assert port <= {n for n in dir(OkxExchange) if not n.startswith("_")}


# ---------------------------------------------------------------------- orders: happy paths
async def test_spot_market_buy_is_in_base_and_returns_the_filled_state(
        okx: OkxExchange, venue: SimExchange) -> None:
    state = await okx.place_order(market("buy1", BTC_SPOT, Side.BUY, "0.1"))
    order = venue.accounts["main"].orders_by_cl["buy1"]
    assert order.tgt_ccy == "base_ccy"  # 0.1 BTC, not 0.1 USDT
    assert state.status is OrderStatus.FILLED
    assert (state.client_order_id, state.venue_order_id) == ("buy1", order.ord_id)
    assert (state.inst_id, state.side) == (BTC_SPOT, Side.BUY)
    assert state.size == state.filled == Decimal("0.1") and state.remaining == 0
    assert state.avg_px == order.avg_px and state.avg_px is not None and state.avg_px > 60000
    assert state.fee == -order.fee == Decimal("0.1") * Decimal("0.001")  # taker, paid
    assert state.fee_ccy == "BTC"  # a spot buy pays its fee in the coin received
    assert state.ts_ms == order.u_time_ms
    assert state.raw is not None and state.raw["state"] == "filled"


async def test_swap_short_with_leverage_then_reduce_only_close(okx: OkxExchange,
                                                               venue: SimExchange) -> None:
    await okx.set_leverage(BTC_SWAP, 3)
    assert venue.accounts["main"].leverage[(BTC_SWAP, "cross")] == 3
    short = await okx.place_order(market("short1", BTC_SWAP, Side.SELL, "10", "cross"))
    assert (short.status, short.filled, short.fee_ccy) == (OrderStatus.FILLED, 10, "USDT")
    assert short.fee > 0
    (pos,) = await okx.positions()
    assert pos.contracts == -10 and pos.leverage == 3
    close = await okx.place_order(market("close1", BTC_SWAP, Side.BUY, "10", "cross",
                                         reduce_only=True))
    assert close.status is OrderStatus.FILLED
    assert venue.accounts["main"].orders_by_cl["close1"].reduce_only
    assert await okx.positions() == []
    with pytest.raises(OrderRejected, match="OKX 51169"):  # nothing left to reduce
        await okx.place_order(market("close2", BTC_SWAP, Side.BUY, "1", "cross",
                                     reduce_only=True))


async def test_limit_rests_open_and_cancel_returns_canceled(okx: OkxExchange,
                                                            venue: SimExchange) -> None:
    state = await okx.place_order(limit("rest1", ETH_SPOT, Side.BUY, "1", "2900"))
    assert state.status is OrderStatus.OPEN and state.filled == 0 and state.avg_px is None
    assert venue.accounts["main"].orders_by_cl["rest1"].px == 2900
    assert await okx.get_order(ETH_SPOT, "rest1") == state
    canceled = await okx.cancel_order(ETH_SPOT, "rest1")
    assert canceled.status is OrderStatus.CANCELED and canceled.filled == 0
    # cancelling again (e.g. a retried cancel whose answer was lost) is not an error
    assert await okx.cancel_order(ETH_SPOT, "rest1") == canceled


async def test_cancel_of_a_filled_order_returns_its_filled_state(okx: OkxExchange) -> None:
    placed = await okx.place_order(market("done1", BTC_SPOT, Side.BUY, "0.01"))
    assert placed.status is OrderStatus.FILLED
    assert await okx.cancel_order(BTC_SPOT, "done1") == placed  # OKX 51402, not an error


async def test_cancel_of_an_unknown_order_is_rejected(okx: OkxExchange) -> None:
    with pytest.raises(OrderRejected, match="no such order"):
        await okx.cancel_order(BTC_SPOT, "never1")


async def test_get_order_of_an_unknown_id_is_none(okx: OkxExchange) -> None:
    assert await okx.get_order(BTC_SPOT, "never1") is None


async def test_get_order_is_retried_on_a_transient_error(okx: OkxExchange, venue: SimExchange,
                                                         sleep: RecordingSleep) -> None:
    placed = await okx.place_order(market("read1", BTC_SPOT, Side.BUY, "0.01"))
    fault = venue.faults.add(Fault("http_5xx", endpoint="trade/order"))
    assert await okx.get_order(BTC_SPOT, "read1") == placed
    assert fault.fired == 1 and len(sleep.delays) == 1


async def test_partial_fill_is_canceled_with_what_filled(okx: OkxExchange,
                                                         venue: SimExchange) -> None:
    venue.faults.add(Fault("partial_fill", inst_id=BTC_SWAP, ratio=Decimal("0.3")))
    state = await okx.place_order(market("part1", BTC_SWAP, Side.SELL, "10", "cross"))
    assert state.status is OrderStatus.CANCELED
    assert state.filled == 3 < state.size == 10 and state.remaining == 7
    assert state.avg_px is not None and state.fee > 0


async def test_post_only_that_would_cross_is_canceled_unfilled(okx: OkxExchange) -> None:
    state = await okx.place_order(limit("po1", ETH_SPOT, Side.BUY, "1", "3100",
                                        OrderType.POST_ONLY))
    assert state.status is OrderStatus.CANCELED
    assert (state.filled, state.avg_px, state.fee) == (0, None, 0)
    assert state.raw is not None and state.raw["cancelSource"] == "31"


async def test_spot_cross_margin_sell_borrows_what_it_sells(okx: OkxExchange) -> None:
    state = await okx.place_order(market("short2", ETH_SPOT, Side.SELL, "2", "cross"))
    assert (state.status, state.filled) == (OrderStatus.FILLED, 2)
    assert await okx.liability("ETH") == 2


# ---------------------------------------------------------------------- orders: refusals
async def test_size_off_the_lot_is_refused_before_sending(okx: OkxExchange, server: SimServer,
                                                          venue: SimExchange) -> None:
    await okx.instruments()
    before = server.request_count
    with pytest.raises(OrderRejected) as caught:
        await okx.place_order(market("lot1", BTC_SWAP, Side.SELL, "0.05", "cross"))
    assert "0.05" in str(caught.value) and "lot size 0.1" in str(caught.value)
    assert server.request_count == before and orders_with(venue, "lot1") == []


async def test_limit_without_a_price_is_refused_before_sending(okx: OkxExchange,
                                                               venue: SimExchange) -> None:
    request = OrderRequest("nopx1", ETH_SPOT, Side.BUY, OrderType.IOC, Decimal(1), "cash")
    with pytest.raises(OrderRejected, match="needs a positive price"):
        await okx.place_order(request)
    assert orders_with(venue, "nopx1") == []


async def test_size_below_the_minimum_is_rejected_by_okx(okx: OkxExchange,
                                                         venue: SimExchange) -> None:
    with pytest.raises(OrderRejected, match="OKX 51020") as caught:
        await okx.place_order(market("min1", BTC_SPOT, Side.BUY, "0.000001"))  # min 0.00001
    assert type(caught.value) is OrderRejected
    assert isinstance(caught.value.__cause__, ccxt.InvalidOrder)
    assert orders_with(venue, "min1") == []


async def test_unknown_instrument_is_rejected(okx: OkxExchange) -> None:
    with pytest.raises(OrderRejected, match="NOPE-USDT"):
        await okx.place_order(market("nope1", "NOPE-USDT", Side.BUY, "1"))


async def test_insufficient_funds(okx: OkxExchange, venue: SimExchange,
                                  sleep: RecordingSleep) -> None:
    with pytest.raises(InsufficientFunds, match="OKX 51008"):
        await okx.place_order(market("poor1", BTC_SPOT, Side.BUY, "50"))  # 3M USDT
    assert orders_with(venue, "poor1") == [] and sleep.delays == []


async def test_duplicate_client_order_id(okx: OkxExchange, venue: SimExchange) -> None:
    first = await okx.place_order(limit("dup1", ETH_SPOT, Side.BUY, "1", "2000"))
    with pytest.raises(DuplicateClientOrderId, match="OKX 51016") as caught:
        await okx.place_order(limit("dup1", ETH_SPOT, Side.BUY, "1", "2000"))
    assert isinstance(caught.value, OrderRejected)  # a refusal: nothing new happened
    assert len(orders_with(venue, "dup1")) == 1
    assert await okx.get_order(ETH_SPOT, "dup1") == first  # "already placed: look it up"


# ---------------------------------------------------------------------- orders: unknown outcomes
async def test_dropped_connection_after_accept_is_outcome_unknown_never_resent(
        okx: OkxExchange, venue: SimExchange, sleep: RecordingSleep) -> None:
    fault = venue.faults.add(Fault("drop_after_accept", endpoint="trade/order"))
    with pytest.raises(OutcomeUnknown) as caught:
        await okx.place_order(market("drop1", BTC_SPOT, Side.BUY, "0.01"))
    assert isinstance(caught.value.__cause__, ccxt.NetworkError)
    assert "drop1" in str(caught.value)
    assert fault.fired == 1 and sleep.delays == []  # not retried
    found = await okx.get_order(BTC_SPOT, "drop1")  # the venue did place it
    assert found is not None and found.status is OrderStatus.FILLED
    assert found.filled == Decimal("0.01")
    assert len(orders_with(venue, "drop1")) == 1


@pytest.mark.parametrize("status", [500, 502, 503, 504])
async def test_http_5xx_on_placement_is_outcome_unknown_never_resent(
        status: int, okx: OkxExchange, venue: SimExchange, sleep: RecordingSleep) -> None:
    fault = venue.faults.add(Fault("http_5xx", endpoint="trade/order", http_status=status,
                                   count=None))
    with pytest.raises(OutcomeUnknown) as caught:
        await okx.place_order(market("5xx1", BTC_SPOT, Side.BUY, "0.01"))
    assert isinstance(caught.value.__cause__, ccxt.NetworkError)
    assert fault.fired == 1 and sleep.delays == []  # sent once, whatever the retry policy
    venue.faults.clear()
    assert orders_with(venue, "5xx1") == []  # the 5xx came before the handler
    assert await okx.get_order(BTC_SPOT, "5xx1") is None


async def test_okx_request_timeout_code_is_outcome_unknown(okx: OkxExchange,
                                                           venue: SimExchange,
                                                           sleep: RecordingSleep) -> None:
    # 50004: "does not mean that the request was successful or failed"
    venue.faults.add(Fault("reject", endpoint="trade/order", code="50004"))
    with pytest.raises(OutcomeUnknown, match="OKX 50004"):
        await okx.place_order(market("to1", BTC_SPOT, Side.BUY, "0.01"))
    assert sleep.delays == []


async def test_client_timeout_is_outcome_unknown_and_the_order_lands_later(
        server: SimServer, venue: SimExchange) -> None:
    config = OkxConfig(rest_url=server.rest_url, ws_url=server.ws_url, timeout_ms=1000)
    async with create_exchange(config, CREDENTIALS, sleep=RecordingSleep()) as okx:
        await okx.instruments()
        venue.faults.add(Fault("delay", endpoint="trade/order", delay_ms=1500))
        with pytest.raises(OutcomeUnknown) as caught:
            await okx.place_order(market("slow1", BTC_SPOT, Side.BUY, "0.01"))
        assert isinstance(caught.value.__cause__, ccxt.RequestTimeout)
        for _ in range(40):  # the server finishes the request after the client gave up
            found = await okx.get_order(BTC_SPOT, "slow1")
            if found is not None:
                break
            await asyncio.sleep(0.05)
    assert found is not None and found.status is OrderStatus.FILLED
    assert len(orders_with(venue, "slow1")) == 1


# ---------------------------------------------------------------------- orders: rate limits
async def test_rate_limited_placement_is_retried_and_placed_exactly_once(
        okx: OkxExchange, venue: SimExchange, sleep: RecordingSleep) -> None:
    fault = venue.faults.add(Fault("reject", endpoint="trade/order", code="50011"))
    state = await okx.place_order(market("rl1", BTC_SPOT, Side.BUY, "0.01"))
    assert fault.fired == 1
    assert len(sleep.delays) == 1 and 0.5 <= sleep.delays[0] <= 1.0  # rate-limit backoff
    assert state.status is OrderStatus.FILLED
    assert len(orders_with(venue, "rl1")) == 1


async def test_okx_429_refusal_is_rate_limited_not_outcome_unknown(
        server: SimServer, venue: SimExchange) -> None:
    # without laicai's limiter, fill trade/order's window (60 per 2 s) with reads
    settings = AdapterSettings(retry=RetryPolicy(max_attempts=1))
    config = sim_config(server, enable_rate_limit=False)
    async with create_exchange(config, CREDENTIALS, settings=settings) as okx:
        await okx.instruments()
        await asyncio.gather(*(okx.get_order(BTC_SPOT, f"x{i}") for i in range(60)))
        with pytest.raises(RateLimited) as caught:
            await okx.place_order(market("rl2", BTC_SPOT, Side.BUY, "0.01"))
    assert not isinstance(caught.value, OutcomeUnknown)  # refused: it was not placed
    assert "OKX 50011" in str(caught.value)
    assert orders_with(venue, "rl2") == []


# ---------------------------------------------------------------------- leverage
async def test_set_leverage_modes_and_refusals(okx: OkxExchange, venue: SimExchange) -> None:
    await okx.set_leverage(BTC_SWAP, 5, "isolated")
    await okx.set_leverage(BTC_SWAP, 2)
    assert venue.accounts["main"].leverage[(BTC_SWAP, "isolated")] == 5
    assert venue.accounts["main"].leverage[(BTC_SWAP, "cross")] == 2
    with pytest.raises(ExchangeError, match="OKX 59102"):  # above the instrument's 100x
        await okx.set_leverage(BTC_SWAP, 101)
    with pytest.raises(ValueError, match="margin mode"):
        await okx.set_leverage(BTC_SWAP, 2, "portfolio")
    with pytest.raises(ValueError, match="at least 1"):
        await okx.set_leverage(BTC_SWAP, 0)


# ---------------------------------------------------------------------- transfers
async def test_transfer_both_ways(okx: OkxExchange, venue: SimExchange) -> None:
    acct = venue.accounts["main"]
    await okx.transfer("USDT", Decimal("400.5"), "funding", "trading")
    assert funding_of(venue, "USDT") == Decimal("599.5")
    assert acct.trading["USDT"].cash == Decimal("100400.5")
    await okx.transfer("USDT", Decimal("1E+2"), "trading", "funding")  # sent as "100"
    assert funding_of(venue, "USDT") == Decimal("699.5")
    funding = {b.ccy: b.total for b in await okx.balances("funding")}
    assert funding["USDT"] == Decimal("699.5")
    transfers = list(acct.transfers.values())
    assert [(t.from_acct, t.to_acct, t.amt) for t in transfers] == [
        ("6", "18", Decimal("400.5")), ("18", "6", Decimal(100))]
    assert all(len(t.client_id) == 32 for t in transfers)


async def test_transfer_more_than_held_is_insufficient_funds(okx: OkxExchange,
                                                              venue: SimExchange) -> None:
    with pytest.raises(InsufficientFunds, match="OKX 58350"):
        await okx.transfer("BTC", Decimal("0.6"), "funding", "trading")
    assert funding_of(venue, "BTC") == Decimal("0.5")
    with pytest.raises(ValueError, match="between"):
        await okx.transfer("BTC", Decimal("0.1"), "funding", "earn")
    with pytest.raises(ValueError, match="positive"):
        await okx.transfer("BTC", Decimal(0), "funding", "trading")


async def test_transfer_whose_answer_is_lost_is_settled_by_its_client_id(
        okx: OkxExchange, venue: SimExchange, sleep: RecordingSleep) -> None:
    fault = venue.faults.add(Fault("drop_after_accept", endpoint="asset/transfer"))
    await okx.transfer("BTC", Decimal("0.2"), "funding", "trading")  # no error: it happened
    assert fault.fired == 1 and sleep.delays == []
    assert funding_of(venue, "BTC") == Decimal("0.3")  # moved exactly once
    assert venue.accounts["main"].trading["BTC"].cash == Decimal("0.2")


async def test_transfer_refused_by_a_5xx_is_outcome_unknown_and_not_resent(
        okx: OkxExchange, venue: SimExchange) -> None:
    venue.faults.add(Fault("http_5xx", endpoint="asset/transfer", count=None))
    with pytest.raises(OutcomeUnknown, match="not known to OKX"):
        await okx.transfer("BTC", Decimal("0.2"), "funding", "trading")
    assert funding_of(venue, "BTC") == Decimal("0.5")


async def test_rate_limited_transfer_is_retried_and_moves_once(
        okx: OkxExchange, venue: SimExchange, sleep: RecordingSleep) -> None:
    venue.faults.add(Fault("reject", endpoint="asset/transfer", code="50011"))
    await okx.transfer("USDT", Decimal(250), "funding", "trading")
    assert len(sleep.delays) == 1
    assert funding_of(venue, "USDT") == Decimal(750)


# ---------------------------------------------------------------------- Simple Earn
async def test_earn_purchase_balance_interest_and_redeem(okx: OkxExchange,
                                                         venue: SimExchange) -> None:
    acct = venue.accounts["main"]
    assert await okx.earn_balance("BTC") == 0
    await okx.earn_purchase("BTC", Decimal("0.4"))
    assert acct.lending_rate["BTC"] == Decimal("0.01")  # the lowest floor OKX accepts
    assert funding_of(venue, "BTC") == Decimal("0.1")
    assert await okx.earn_balance("BTC") == Decimal("0.4")
    venue.clock.advance(24 * HOUR)
    venue.sync()
    held = await okx.earn_balance("BTC")
    assert held > Decimal("0.4")
    assert held == acct.savings["BTC"]  # exact, principal plus interest
    await okx.earn_redeem("BTC", held)
    assert await okx.earn_balance("BTC") == 0
    assert funding_of(venue, "BTC") == Decimal("0.1") + held


async def test_earn_redemption_arrives_later_with_a_delay(okx: OkxExchange,
                                                          venue: SimExchange) -> None:
    await okx.earn_purchase("USDT", Decimal(600))
    venue.faults.add(Fault("earn_delay", ccy="USDT", delay_ms=60_000))
    await okx.earn_redeem("USDT", Decimal(600))
    assert await okx.earn_balance("USDT") == 0
    funding = {b.ccy: b.total for b in await okx.balances("funding")}
    assert funding.get("USDT") == Decimal(400)  # not yet
    venue.clock.advance(61_000)
    venue.sync()
    funding = {b.ccy: b.total for b in await okx.balances("funding")}
    assert funding["USDT"] == Decimal(1000)


async def test_earn_refusals(okx: OkxExchange, venue: SimExchange) -> None:
    with pytest.raises(InsufficientFunds, match="OKX 51720"):
        await okx.earn_purchase("BTC", Decimal(1))  # 0.5 in the funding account
    with pytest.raises(InsufficientFunds, match="OKX 51720"):
        await okx.earn_redeem("ETH", Decimal(1))
    assert funding_of(venue, "BTC") == Decimal("0.5")


# ---------------------------------------------------------------------- margin loans
async def test_borrow_accrues_interest_and_repay_clears_it(okx: OkxExchange,
                                                           venue: SimExchange) -> None:
    assert await okx.liability("BTC") == 0
    await okx.borrow("BTC", Decimal("0.5"))
    assert await okx.liability("BTC") == Decimal("0.5")
    venue.clock.advance(2 * HOUR)
    venue.sync()
    owed = await okx.liability("BTC")
    expected = Decimal("0.5") * (1 + Decimal("0.05") / 8760) ** 2
    assert abs(owed - expected) <= Decimal("2e-18")  # the sim keeps accruals to 1e-18
    assert owed == venue.accounts["main"].trading["BTC"].liab
    await okx.repay("BTC", Decimal("0.5"))  # interest first, then principal
    rest = await okx.liability("BTC")
    assert rest == owed - Decimal("0.5") and venue.accounts["main"].trading["BTC"].interest == 0
    await okx.place_order(market("cover1", BTC_SPOT, Side.BUY, "0.001"))  # cash for the rest
    await okx.repay("BTC", rest)
    assert await okx.liability("BTC") == 0


async def test_borrow_and_repay_refusals_are_not_retried(okx: OkxExchange,
                                                         sleep: RecordingSleep) -> None:
    with pytest.raises(ExchangeError, match="OKX 58113") as caught:
        await okx.borrow("BTC", Decimal(6))  # the venue lends 5
    assert not caught.value.retryable
    with pytest.raises(ExchangeError, match="OKX 59310"):
        await okx.repay("ETH", Decimal(1))  # nothing owed
    assert sleep.delays == []


async def test_borrow_with_a_lost_answer_is_outcome_unknown(okx: OkxExchange,
                                                            venue: SimExchange,
                                                            sleep: RecordingSleep) -> None:
    venue.faults.add(Fault("drop_after_accept", endpoint="account/spot-manual-borrow-repay"))
    with pytest.raises(OutcomeUnknown):
        await okx.borrow("BTC", Decimal("0.1"))
    assert sleep.delays == []  # not sent again
    assert await okx.liability("BTC") == Decimal("0.1")  # how a caller finds out: once


@pytest.fixture
async def strict(server: SimServer) -> AsyncIterator[OkxExchange]:
    """An adapter whose retry policy would retry four times, to show it does not."""
    settings = AdapterSettings(retry=RetryPolicy(max_attempts=4))
    async with create_exchange(sim_config(server), CREDENTIALS, settings=settings,
                               sleep=RecordingSleep()) as okx:
        yield okx


async def test_earn_purchase_on_5xx_is_sent_once(strict: OkxExchange,
                                                 venue: SimExchange) -> None:
    fault = venue.faults.add(Fault("http_5xx", endpoint="finance/savings/purchase-redempt",
                                   count=None))
    with pytest.raises(OutcomeUnknown):
        await strict.earn_purchase("BTC", Decimal("0.1"))
    assert fault.fired == 1
