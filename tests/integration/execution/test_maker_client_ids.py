"""Maker-first never reuses a client order id when it runs again: after a restart (a fresh
driver and runner on the same database) or a close called once more, it reaches the same
operation and sequence numbers; its ids must come from the stored ones, as the taker rounds'
do, or the venue refuses the new order as a duplicate (51016) and the runner adopts the old
one — with its old fills — in its place."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from execution_rig import Rig, build_rig

from laicai.domain.enums import Direction
from laicai.domain.instrument import round_to_step
from laicai.execution.hedge import HedgeDriver, LegLog, Targets
from laicai.execution.maker import maker_phase
from laicai.execution.orders import OrderRunner
from laicai.sim.market import CurrencyTerms
from laicai.store.records import NewPosition
from laicai.testing.sim import START_MS, make_exchange

D = Decimal


class Falling:
    """BTC drifting down 0.02% a second: resting bids get crossed, so the maker fills."""

    def price_at(self, ts_ms: int) -> Decimal:
        return (D(60000) * (1 - D("0.0002") * D(ts_ms - START_MS) / 1000)).quantize(D("0.1"))


async def test_maker_phase_run_again_after_a_restart_places_new_orders(tmp_path: Path) -> None:
    ex = make_exchange(prices={"BTC": Falling()}, funding={"BTC-USDT-SWAP": (D("0.0005"), 8)},
                       currencies={"BTC": CurrencyTerms(earn_apr=D("0.02"))})
    async for rig in build_rig(ex, tmp_path, order_style="maker_first",
                               enable_spot_earning=False):
        await run_twice(rig)


async def run_twice(rig: Rig) -> None:
    """One maker phase, then the same operation and sequence once more in a new process."""
    spot = rig.executor.instruments["BTC-USDT"]
    swap = rig.executor.instruments["BTC-USDT-SWAP"]
    clock = rig.executor.clock
    pos = await rig.store.create_position(NewPosition(
        symbol="BTC", direction=Direction.SHORT, spot_inst_id=spot.inst_id,
        swap_inst_id=swap.inst_id, leverage=D(2), open_timestamp=clock.now(),
        position_amount=D("0.1"), entry_spot_price=D(60000), entry_swap_price=D(60000),
        initial_funding_rate=D("0.0005")))

    def process() -> HedgeDriver:  # what a (re)started bot builds
        return HedgeDriver(rig.okx, OrderRunner(rig.okx, rig.store, clock), rig.store,
                           spot=spot, swap=swap,
                           spot_fee_rate=rig.executor.spot_fee_rate)

    first_log = LegLog()
    await maker_phase(process(), position_id=pos.id, op="open", seq=0,
                      targets=Targets(coin=D("0.05"), contracts=D(-5)), log_=first_log,
                      attempts=3, seconds=6.0)
    first = {o.cl_ord_id for o in rig.sim_orders()}
    assert any(s.filled > 0 for leg, s in first_log.states if leg == "spot")

    # restart: the same operation and sequence number, more to buy
    second_log = LegLog()
    coin = rig.coin("BTC")
    await maker_phase(process(), position_id=pos.id, op="open", seq=0,
                      targets=Targets(coin=coin + D("0.05"), contracts=D(-10)),
                      log_=second_log, attempts=3, seconds=6.0)
    new = {o.cl_ord_id: o for o in rig.sim_orders() if o.cl_ord_id not in first}
    assert any(o.ord_type == "post_only" for o in new.values())  # it really placed some
    # every state the second run acted on is an order of its own, none adopted
    assert second_log.states
    assert {s.client_order_id for _, s in second_log.states} <= set(new)
    assert rig.coin("BTC") > coin  # and it bought for real
    # each id once, the database agrees with the venue order by order
    stored = {o.client_order_id: o for o in await rig.store.list_orders(pos.id)}
    assert set(stored) == {o.cl_ord_id for o in rig.sim_orders()}
    for o in rig.sim_orders():
        assert stored[o.cl_ord_id].filled_size == o.acc_fill_sz
    # the perp followed the second run's own maker fills, no more and no less (the
    # remainder under one lot of each run is the taker rounds' to finish)
    for log_ in (first_log, second_log):
        bought = sum((st.filled for leg, st in log_.states if leg == "spot"), D(0))
        sold = sum((st.filled for leg, st in log_.states if leg == "perp"), D(0))
        coin_added = bought * (1 - rig.executor.spot_fee_rate)
        assert sold == round_to_step(coin_added / swap.contract_value, swap.lot_size)
