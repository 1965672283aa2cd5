"""Maker-first (seed 9.1.3): the spot leg rests post-only at the touch and is re-priced up to
N times over T seconds; every fill it gets is hedged at once by a taker order on the perp, so
the naked exposure never exceeds what one maker fill adds. What is left after the last
attempt goes to the taker rounds of the :class:`~laicai.execution.hedge.HedgeDriver`.

Client order ids come from :meth:`HedgeDriver.fresh_client_order_id` against every id the
position's stored orders have had, as the taker rounds' do: an operation run again (after a
restart, or a close called once more) reaches the same op and sequence numbers, and a reused
id would make the venue refuse the new order as a duplicate (51016) and the runner adopt the
earlier order — its old fills counted again — in its place."""

from __future__ import annotations

import logging
from decimal import ROUND_DOWN, Decimal

from laicai.domain.enums import Side
from laicai.domain.instrument import round_to_step
from laicai.domain.orders import OrderRequest, OrderStatus, OrderType
from laicai.execution.hedge import HedgeDriver, LegLog, Targets

log = logging.getLogger(__name__)
ZERO = Decimal(0)


async def maker_phase(driver: HedgeDriver, *, position_id: int, op: str, seq: int,
                      targets: Targets, log_: LegLog, attempts: int, seconds: float) -> None:
    """Work the spot leg towards ``targets.coin`` as a maker, the perp following its fills."""
    spot, swap = driver.spot, driver.swap
    runner = driver.runner
    exp = await driver.exposure()
    gap = targets.coin - exp.coin
    if abs(gap) < spot.min_size or attempts <= 0:
        return
    side = Side.BUY if gap > 0 else Side.SELL
    coin_per_fill = (1 - driver.spot_fee_rate) if side is Side.BUY else Decimal(1)
    total = round_to_step(abs(gap) / coin_per_fill if side is Side.BUY else abs(gap),
                          spot.lot_size, ROUND_DOWN)
    filled_base = ZERO  # coin equity the maker fills added (net of the fee in coin)
    hedged_contracts = ZERO
    follow_side = Side.SELL if side is Side.BUY else Side.BUY
    wait = seconds / attempts
    used = await driver.used_client_order_ids(position_id)
    for k in range(1, attempts + 1):
        remaining = total - (filled_base / coin_per_fill if coin_per_fill else ZERO)
        remaining = round_to_step(remaining, spot.lot_size, ROUND_DOWN)
        if remaining < spot.min_size:
            break
        book = await driver.venue.order_book(spot.inst_id, 1)
        touch = book.best_bid if side is Side.BUY else book.best_ask
        if touch is None:
            break
        req = OrderRequest(driver.fresh_client_order_id(used, position_id, op, seq, "spot"),
                           spot.inst_id, side, OrderType.POST_ONLY, remaining, "cash",
                           price=touch)
        jid = await driver.journal(f"{op}.maker{k}", [("spot", req)], targets, position_id)
        res = await runner.send(req, position_id=position_id, journal_id=jid)
        state = res.state
        if state is None:
            await driver.journal_done(jid, [f"spot: {res.error}"])
            break
        await runner.clock.sleep(wait)
        fresh = await runner.refresh(req, position_id=position_id, journal_id=jid)
        state = fresh or state
        if state.status is OrderStatus.OPEN:
            state = await runner.cancel(req, position_id=position_id, journal_id=jid) or state
        await driver.journal_done(jid, [])
        log_.states.append(("spot", state))
        filled_base += state.filled * coin_per_fill
        # hedge every maker fill at once with the perp (taker)
        want = round_to_step(filled_base / swap.contract_value, swap.lot_size, ROUND_DOWN)
        follow = want - hedged_contracts
        if follow >= swap.min_size:
            hedge = OrderRequest(driver.fresh_client_order_id(used, position_id, op, seq,
                                                              "perp"),
                                 swap.inst_id, follow_side, OrderType.MARKET, follow, "cross",
                                 reduce_only=_reduces(exp.contracts, follow_side))
            hid = await driver.journal(f"{op}.follow{k}", [("perp", hedge)], targets,
                                       position_id)
            done = await runner.send(hedge, position_id=position_id, journal_id=hid)
            await driver.journal_done(hid, [] if done.state else [f"perp: {done.error}"])
            if done.state is not None:
                log_.states.append(("perp", done.state))
                hedged_contracts += done.state.filled
            elif not done.retryable:
                log_.dead["perp"] = done.error
                break
        if state.status is OrderStatus.FILLED:
            break


def _reduces(current: Decimal, side: Side) -> bool:
    return current != 0 and (current > 0) == (side is Side.SELL)

