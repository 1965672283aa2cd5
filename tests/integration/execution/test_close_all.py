"""Close-all through the real ccxt client against the simulator: a SHORT (coin in Simple Earn)
and a LONG (coin borrowed) are flattened from the exchange's state — with the database, with
none, with an empty one — step by step, idempotently, and never leaving a leg naked."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from execution_rig import Rig, build_rig, carry_venue

from laicai.config.sections import DatabaseConfig
from laicai.domain.enums import Side
from laicai.domain.orders import OrderRequest, OrderType
from laicai.execution.close_all import CloseAllParams, CloseAllReport, close_all
from laicai.execution.events import AccountClosedOut, CarryClosed, ExecutionEvent
from laicai.sim import trading
from laicai.sim.exchange import SimExchange
from laicai.sim.faults import Fault
from laicai.store import Store, open_store
from laicai.store.states import PositionStatus, SpotEarningStatus

D = Decimal
STEP = D(2000)


async def run(rig: Rig, store: Any = "rig", **params: Any) -> CloseAllReport:
    ex = rig.executor
    return await close_all(rig.okx, store=rig.store if store == "rig" else store,
                           clock=ex.clock, instruments=ex.instruments,
                           spot_fee_rate=ex.spot_fee_rate, on_event=rig.events.append,
                           params=CloseAllParams(step_usdt=STEP, **params))


async def open_both(rig: Rig) -> tuple[int, int]:
    short = await rig.executor.open(await rig.opportunity("BTC"))
    long = await rig.executor.open(await rig.opportunity("DOGE"))
    assert short.status is long.status is PositionStatus.OPEN
    rig.ex.clock.advance(3 * 3600 * 1000)  # Earn interest and loan interest accrue
    rig.ex.sync()
    return short.id, long.id


def assert_flat(ex: SimExchange) -> None:
    acct = ex.accounts["main"]
    assert not acct.open_orders
    assert all(p.pos == 0 for p in acct.positions.values())
    assert all(v == 0 for v in acct.savings.values())
    assert not acct.redemptions
    for ccy, bal in acct.trading.items():
        assert bal.liab == 0, ccy
        if ccy != "USDT":
            assert 0 <= bal.cash < ex.instruments[f"{ccy}-USDT"].min_sz, ccy


def steps_bounded(rig: Rig, since: int) -> None:
    """No order of the close moved a leg by more than one step's notional."""
    for o in rig.sim_orders()[since:]:
        inst = rig.ex.instruments[o.inst_id]
        base = o.sz * (inst.ct_val if o.inst_id.endswith("-SWAP") else 1)
        px = o.avg_px or rig.ex.mark_px(o.inst_id)
        assert base * px <= STEP * D("1.01"), (o.cl_ord_id, base, px)


async def test_close_all_flattens_a_short_and_a_long_and_closes_their_records(
        rig: Rig) -> None:
    short_id, long_id = await open_both(rig)
    acct = rig.ex.accounts["main"]
    # two resting orders: one of ours, one placed by hand without a client order id
    await rig.okx.place_order(OrderRequest("lcmanual1", "DOGE-USDT-SWAP", Side.SELL,
                                           OrderType.LIMIT, D(1), "cross", price=D("0.3")))
    trading.place_order(rig.ex, acct, {"instId": "BTC-USDT", "side": "buy", "ordType": "limit",
                                       "px": "50000", "sz": "0.01", "tdMode": "cash"})
    assert len(acct.open_orders) == 2
    before = len(rig.sim_orders())

    report = await run(rig)

    assert report.flat, report.left
    assert_flat(rig.ex)
    assert len(report.canceled) == 2
    assert report.redeemed["BTC"] > D("0.11")  # principal and its interest
    assert report.repaid["DOGE"] > D(30900)  # principal and its interest
    coins = {c.ccy: c for c in report.coins}
    assert coins["BTC"].steps >= 4 and coins["DOGE"].steps >= 4  # 6.6k / 6.2k in 2k steps
    assert coins["BTC"].spot_before > 0 > coins["BTC"].perp_before
    assert coins["DOGE"].spot_before < 0 < coins["DOGE"].perp_before
    steps_bounded(rig, before)
    # the database: both CLOSED by close-all, with exit prices and PnL
    for pid in (short_id, long_id):
        pos = await rig.store.get_position(pid)
        assert pos is not None and pos.status is PositionStatus.CLOSED
        assert pos.close_reason == "close-all"
        assert pos.exit_spot_price and pos.exit_swap_price and pos.pnl_usd is not None
        stored = {o.client_order_id for o in await rig.store.list_orders(pid)}
        on_venue = {o.cl_ord_id for o in rig.sim_orders()
                    if o.inst_id.startswith(pos.symbol) and o.cl_ord_id
                    and not o.cl_ord_id.startswith("lcmanual")}
        assert stored == on_venue
    short = await rig.store.get_position(short_id)
    long = await rig.store.get_position(long_id)
    assert short is not None and short.spot_earning_status is SpotEarningStatus.REDEEMED
    assert long is not None and long.borrowed_amount == 0
    assert sorted(report.positions_closed) == sorted([short_id, long_id])
    assert not await rig.store.list_pending_intents()
    closed = [e for e in rig.events if isinstance(e, CarryClosed)]
    assert {(e.position_id, e.reason) for e in closed} == {(short_id, "close-all"),
                                                          (long_id, "close-all")}
    done = [e for e in rig.events if isinstance(e, AccountClosedOut)]
    assert len(done) == 1 and done[0].flat

    # idempotent: nothing left to do, and it says so
    orders = len(rig.sim_orders())
    again = await run(rig)
    assert again.flat and not again.did_something
    assert "nothing to do" in again.summary() and "flat" in again.summary()
    assert len(rig.sim_orders()) == orders


async def test_close_all_without_a_database_works_from_the_exchange_alone(rig: Rig) -> None:
    short_id, long_id = await open_both(rig)
    report = await run(rig, store=None)
    assert report.flat, report.left
    assert_flat(rig.ex)
    assert not report.positions_closed
    for pid in (short_id, long_id):  # no store given: the database is not touched
        pos = await rig.store.get_position(pid)
        assert pos is not None and pos.status is PositionStatus.OPEN
    ids = [o.cl_ord_id for o in rig.sim_orders()]
    assert len(ids) == len(set(ids))
    assert (await run(rig, store=None)).did_something is False
    # the database still says OPEN, the exchange is flat: a run with the store closes the
    # records at the current prices and sends nothing
    orders = len(rig.sim_orders())
    synced = await run(rig)
    assert synced.flat and sorted(synced.positions_closed) == sorted([short_id, long_id])
    assert len(rig.sim_orders()) == orders
    for pid in (short_id, long_id):
        pos = await rig.store.get_position(pid)
        assert pos is not None and pos.status is PositionStatus.CLOSED
        assert pos.exit_spot_price and pos.exit_swap_price


async def test_close_all_with_an_empty_database_still_flattens(rig: Rig, tmp_path: Path
                                                               ) -> None:
    await open_both(rig)
    empty: Store = await open_store(DatabaseConfig(path=tmp_path / "empty.db"), None)
    try:
        report = await run(rig, store=empty)
        assert report.flat, report.left
        assert_flat(rig.ex)
        assert not report.positions_closed
        assert not await empty.list_pending_intents()
    finally:
        await empty.close()


async def test_dust_below_the_minimum_size_stays_and_is_reported(tmp_path: Path) -> None:
    venue = carry_venue(funding_account={"BTC": D("0.000004")})
    async for rig in build_rig(venue, tmp_path):
        long = await rig.executor.open(await rig.opportunity("DOGE"))
        assert long.status is PositionStatus.OPEN
        report = await run(rig, store=None)
        assert report.flat, report.left
        assert report.moved_to_trading == {"BTC": D("0.000004")}  # to where it could be sold
        assert report.dust["BTC"] == D("0.000004")  # but it is under BTC's 0.00001 minimum
        assert 0 <= report.dust.get("DOGE", D(0)) < rig.ex.instruments["DOGE-USDT"].min_sz
        assert "BTC" not in {c.ccy for c in report.coins if c.orders}
        assert "Dust" in report.summary() and "0.000004 BTC" in report.summary()
        assert rig.ex.accounts["main"].trading["BTC"].cash == D("0.000004")
        assert_flat(rig.ex)


async def test_a_late_redemption_keeps_its_perp_until_the_coin_is_back(tmp_path: Path) -> None:
    async for rig in build_rig(carry_venue(redeem_delay_ms=120_000), tmp_path):
        short_id, long_id = await open_both(rig)
        contracts = rig.contracts("BTC-USDT-SWAP")
        first = await run(rig, redeem_timeout_seconds=10.0)
        assert not first.flat
        assert any("not back" in why for why in first.left)
        assert rig.contracts("BTC-USDT-SWAP") == contracts  # still hedging the coin in transit
        assert rig.contracts("DOGE-USDT-SWAP") == 0  # the rest was closed
        short = await rig.store.get_position(short_id)
        long = await rig.store.get_position(long_id)
        assert short is not None and short.status is PositionStatus.CLOSING
        assert long is not None and long.status is PositionStatus.CLOSED
        rig.ex.clock.advance(120_000)
        rig.ex.sync()
        second = await run(rig)
        assert second.flat, second.left
        assert_flat(rig.ex)
        assert second.moved_to_trading["BTC"] > D("0.11")
        short = await rig.store.get_position(short_id)
        assert short is not None and short.status is PositionStatus.CLOSED


async def test_a_leg_that_cannot_move_stops_its_coin_hedged_never_naked(rig: Rig) -> None:
    await open_both(rig)
    rig.ex.faults.add(Fault("reject", endpoint="trade/order", inst_id="DOGE-USDT",
                            code="51155", count=None))  # DOGE spot suspended
    events: list[ExecutionEvent] = rig.events
    report = await run(rig)
    assert not report.flat
    assert any(why.startswith("DOGE") for why in report.left)
    doge = rig.ex.accounts["main"].trading["DOGE"]
    perp_base = rig.contracts("DOGE-USDT-SWAP") * rig.ex.instruments["DOGE-USDT-SWAP"].ct_val
    # the perp came back to its coin: the legs still match within one lot
    assert abs(doge.cash - doge.liab + perp_base) <= rig.ex.instruments["DOGE-USDT-SWAP"].ct_val
    assert rig.contracts("BTC-USDT-SWAP") == 0  # the other coin was closed regardless
    assert [e.flat for e in events if isinstance(e, AccountClosedOut)] == [False]
    rig.ex.faults.clear()
    again = await run(rig)
    assert again.flat, again.left
    assert_flat(rig.ex)
