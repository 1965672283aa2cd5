"""Open, close and reset through the real ccxt against the simulator, positive and negative
funding, and every failure path with the simulator's fault injection."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from execution_rig import Rig, build_rig, carry_venue

from laicai.domain.enums import Direction
from laicai.engine.bookkeeping import book_bills
from laicai.execution.carry import RedemptionPending
from laicai.execution.events import (
    CarryClosed,
    CarryOpened,
    CarryOpenFailed,
    CarryReset,
    LegRepaired,
    RedemptionDelayed,
)
from laicai.sim.faults import Fault
from laicai.store.states import PositionStatus, SpotEarningStatus

D = Decimal


NOTHING = Decimal(0)


def assert_hedged(rig: Rig, base: str, swap: str, qty: Decimal, in_earn: Decimal = NOTHING
                  ) -> None:
    ct_val = rig.ex.instruments[swap].ct_val
    coin = rig.coin(base) + in_earn
    perp_base = rig.contracts(swap) * ct_val
    assert abs(coin + perp_base) <= rig.ex.instruments[f"{base}-USDT"].lot_sz + ct_val / 10
    assert abs(perp_base) == qty


async def test_short_open_puts_the_coin_in_earn_and_close_redeems_it(rig: Rig) -> None:
    opp = await rig.opportunity("BTC")
    assert opp.direction is Direction.SHORT
    pos = await rig.executor.open(opp)
    assert pos.status is PositionStatus.OPEN
    assert pos.spot_earning_status is SpotEarningStatus.SUBSCRIBED
    acct = rig.ex.accounts["main"]
    in_earn = acct.savings["BTC"]
    assert in_earn > 0 and rig.coin("BTC") == 0  # the whole spot leg sits in Simple Earn
    assert_hedged(rig, "BTC", "BTC-USDT-SWAP", pos.position_amount, in_earn)
    opened = [e for e in rig.events if isinstance(e, CarryOpened)]
    assert len(opened) == 1 and opened[0].base_qty == pos.position_amount
    # every order was journaled first and stored with its client order id
    stored = await rig.store.list_orders(pos.id)
    assert {o.client_order_id for o in stored} == {o.cl_ord_id for o in rig.sim_orders()}
    # and every fill, with the venue's trade ids, prices and fees
    acct_fills = rig.ex.accounts["main"].fills
    for o in rig.sim_orders():
        fills = await rig.store.list_fills(o.cl_ord_id)
        venue = [f for f in acct_fills if f.ord_id == o.ord_id]
        assert {(f.trade_id, f.px, f.size, f.fee) for f in fills} == {
            (f.trade_id, f.px, f.sz, f.fee) for f in venue}
    assert not await rig.store.list_pending_intents()

    rig.ex.clock.advance(8 * 3600 * 1000)  # one funding settlement and some Earn interest
    rig.ex.sync()
    closed = await rig.executor.close(pos.id, "test")
    assert closed.status is PositionStatus.CLOSED
    assert closed.spot_earning_status is SpotEarningStatus.REDEEMED
    assert rig.contracts("BTC-USDT-SWAP") == 0
    assert rig.coin("BTC") < rig.ex.instruments["BTC-USDT"].min_sz  # unsellable dust at most
    assert acct.savings["BTC"] == 0
    # the interest Earn paid was sold with the coin; it is income only once booked from the
    # exchange's interest bills (laicai.engine.bookkeeping), never from an estimate here
    assert closed.total_spot_earning_yield == 0
    report = await book_bills(rig.okx, rig.store, positions=[closed])
    booked = await rig.store.get_position(pos.id)
    interest = report.earn_interest().get(pos.id, D(0))
    assert booked is not None and interest > 0
    # the positions table keeps the running total at the seed DDL's NUMERIC(20, 10), each
    # hourly bill rounded as it is added (earn_events keeps all 18 places)
    assert abs(booked.total_spot_earning_yield - interest) < D("1e-9")
    assert any(isinstance(e, CarryClosed) for e in rig.events)
    assert closed.exit_spot_price and closed.exit_swap_price and closed.pnl_usd is not None


async def test_long_borrows_sells_and_repays(rig: Rig) -> None:
    opp = await rig.opportunity("DOGE")
    assert opp.direction is Direction.LONG
    pos = await rig.executor.open(opp)
    assert pos.status is PositionStatus.OPEN
    doge = rig.ex.accounts["main"].trading["DOGE"]
    assert doge.liab == pos.position_amount and doge.cash < pos.position_amount
    assert_hedged(rig, "DOGE", "DOGE-USDT-SWAP", pos.position_amount)
    rig.ex.clock.advance(3 * 3600 * 1000)  # interest accrues on the loan
    rig.ex.sync()
    assert doge.liab > pos.position_amount
    closed = await rig.executor.close(pos.id, "funding flipped")
    assert closed.status is PositionStatus.CLOSED
    assert doge.liab == 0  # principal and interest repaid
    assert rig.contracts("DOGE-USDT-SWAP") == 0


async def test_reset_closes_and_reopens_counting_its_cost(rig: Rig) -> None:
    pos = await rig.executor.open(await rig.opportunity("BTC"))
    rig.ex.set_price("BTC", pct=D(10))
    reset = await rig.executor.reset(pos.id)
    assert reset.status is PositionStatus.OPEN
    assert reset.resets_count == 1
    assert reset.reset_cost > 0
    assert reset.entry_spot_price > pos.entry_spot_price  # reopened at current prices
    in_earn = rig.ex.accounts["main"].savings["BTC"]
    assert_hedged(rig, "BTC", "BTC-USDT-SWAP", reset.position_amount, in_earn)
    ev = [e for e in rig.events if isinstance(e, CarryReset)]
    assert len(ev) == 1 and ev[0].resets_count == 1 and ev[0].cost_usdt == reset.reset_cost


async def test_rejected_leg_unwinds_the_filled_one(rig: Rig) -> None:
    opp = await rig.opportunity("BTC")
    rig.ex.faults.add(Fault("reject", endpoint="trade/order", inst_id="BTC-USDT-SWAP",
                            code="51008", count=None))
    pos = await rig.executor.open(opp)
    assert pos.status is PositionStatus.FAILED
    assert rig.contracts("BTC-USDT-SWAP") == 0
    assert rig.coin("BTC") < rig.ex.instruments["BTC-USDT"].min_sz  # bought, then sold back
    failed = [e for e in rig.events if isinstance(e, CarryOpenFailed)]
    assert failed and failed[0].unwound


async def test_unknown_outcome_is_looked_up_never_resent(rig: Rig) -> None:
    opp = await rig.opportunity("BTC")
    rig.ex.faults.add(Fault("drop_after_accept", endpoint="trade/order", count=1))
    pos = await rig.executor.open(opp)
    assert pos.status is PositionStatus.OPEN
    ids = [o.cl_ord_id for o in rig.sim_orders()]
    assert len(ids) == len(set(ids)) == 2  # one order per leg, none sent twice
    in_earn = rig.ex.accounts["main"].savings["BTC"]
    assert_hedged(rig, "BTC", "BTC-USDT-SWAP", pos.position_amount, in_earn)


async def test_partial_fill_is_completed(rig: Rig) -> None:
    opp = await rig.opportunity("BTC")
    rig.ex.faults.add(Fault("partial_fill", inst_id="BTC-USDT-SWAP", ratio=D("0.4")))
    pos = await rig.executor.open(opp)
    assert pos.status is PositionStatus.OPEN
    assert any(isinstance(e, LegRepaired) and e.leg == "perp" for e in rig.events)
    in_earn = rig.ex.accounts["main"].savings["BTC"]
    assert_hedged(rig, "BTC", "BTC-USDT-SWAP", pos.position_amount, in_earn)


async def test_server_error_before_acceptance_is_retried_with_a_new_id(rig: Rig) -> None:
    opp = await rig.opportunity("BTC")
    rig.ex.faults.add(Fault("http_5xx", endpoint="trade/order", count=1))
    pos = await rig.executor.open(opp)
    assert pos.status is PositionStatus.OPEN
    in_earn = rig.ex.accounts["main"].savings["BTC"]
    assert_hedged(rig, "BTC", "BTC-USDT-SWAP", pos.position_amount, in_earn)


async def test_borrow_refused_sends_nothing(rig: Rig) -> None:
    opp = await rig.opportunity("DOGE")
    rig.ex.faults.add(Fault("borrow_exhausted", ccy="DOGE"))
    pos = await rig.executor.open(opp)
    assert pos.status is PositionStatus.FAILED
    assert rig.sim_orders() == []


async def test_late_redemption_keeps_the_hedge_then_closes(tmp_path: Path) -> None:
    async for rig in build_rig(carry_venue(redeem_delay_ms=120_000), tmp_path,
                               redeem_timeout_seconds=60.0):
        pos = await rig.executor.open(await rig.opportunity("BTC"))
        with pytest.raises(RedemptionPending):
            await rig.executor.close(pos.id, "test")
        waiting = await rig.store.get_position(pos.id)
        assert waiting is not None and waiting.status is PositionStatus.REDEEMING
        assert rig.contracts("BTC-USDT-SWAP") != 0  # the hedge is intact: nothing sold
        assert any(isinstance(e, RedemptionDelayed) for e in rig.events)
        rig.ex.clock.advance(120_000)
        rig.ex.sync()
        closed = await rig.executor.close(pos.id, "test")
        assert closed.status is PositionStatus.CLOSED
        assert rig.contracts("BTC-USDT-SWAP") == 0


class Falling:
    """BTC drifting down 0.02% a second: resting bids get crossed, as a maker wants."""

    def price_at(self, ts_ms: int) -> Decimal:
        from laicai.testing.sim import START_MS

        return (D(60000) * (1 - D("0.0002") * D(ts_ms - START_MS) / 1000)).quantize(D("0.1"))


async def test_maker_first_rests_at_the_touch_and_the_perp_follows(tmp_path: Path) -> None:
    from laicai.sim.market import CurrencyTerms
    from laicai.testing.sim import make_exchange

    ex = make_exchange(prices={"BTC": Falling()},
                       funding={"BTC-USDT-SWAP": (D("0.0005"), 8)},
                       currencies={"BTC": CurrencyTerms(earn_apr=D("0.02"))})
    async for rig in build_rig(ex, tmp_path, order_style="maker_first",
                               maker_reprice_attempts=3, maker_reprice_seconds=6.0,
                               enable_spot_earning=False):
        pos = await rig.executor.open(await rig.opportunity("BTC"))
        assert pos.status is PositionStatus.OPEN
        orders = rig.sim_orders()
        makers = [o for o in orders if o.ord_type == "post_only"]
        assert makers and all(o.exec_type in ("M", "") for o in makers)
        assert sum(o.acc_fill_sz for o in makers) > 0  # the maker leg got fills
        # every maker fill was followed by a perp hedge right away
        followers = [o for o in orders if o.inst_id == "BTC-USDT-SWAP"]
        assert followers
        assert_hedged(rig, "BTC", "BTC-USDT-SWAP", pos.position_amount)
        assert not await rig.store.list_pending_intents()


async def test_maker_first_falls_back_to_taker_when_nothing_fills(tmp_path: Path) -> None:
    async for rig in build_rig(carry_venue(), tmp_path, order_style="maker_first",
                               maker_reprice_attempts=2, maker_reprice_seconds=2.0,
                               enable_spot_earning=False):
        pos = await rig.executor.open(await rig.opportunity("BTC"))
        assert pos.status is PositionStatus.OPEN
        makers = [o for o in rig.sim_orders() if o.ord_type == "post_only"]
        assert len(makers) == 2 and all(o.acc_fill_sz == 0 for o in makers)
        assert all(o.state == "canceled" for o in makers)  # re-priced, then canceled
        assert_hedged(rig, "BTC", "BTC-USDT-SWAP", pos.position_amount)
        closed = await rig.executor.close(pos.id, "test")
        assert closed.status is PositionStatus.CLOSED


async def test_rate_limited_order_backs_off_and_is_placed_once(rig: Rig) -> None:
    opp = await rig.opportunity("BTC")
    rig.ex.faults.add(Fault("reject", endpoint="trade/order", inst_id="BTC-USDT-SWAP",
                            code="50011", count=2))
    pos = await rig.executor.open(opp)
    assert pos.status is PositionStatus.OPEN
    perp_orders = [o for o in rig.sim_orders() if o.inst_id == "BTC-USDT-SWAP"]
    assert len(perp_orders) == 1  # refused twice (nothing placed), then placed exactly once
    in_earn = rig.ex.accounts["main"].savings["BTC"]
    assert_hedged(rig, "BTC", "BTC-USDT-SWAP", pos.position_amount, in_earn)
