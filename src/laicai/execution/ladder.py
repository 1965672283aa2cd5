"""The margin ladder's actions and the hedge guard's rebalance, for one carry: top its perp
margin up, sweep surplus margin out, shrink one leg. The engine calls them through
:meth:`CarryExecutor.top_up`, :meth:`~CarryExecutor.sweep` and :meth:`~CarryExecutor.rebalance`
for the guards' :class:`~laicai.risk.commands.TopUpMargin`,
:class:`~laicai.risk.commands.SweepProfit` and :class:`~laicai.risk.commands.Rebalance`.

**Top-up.** In OKX's unified account (single-currency margin) every USDT in the trading
account backs every *cross* position at once: a top-up from ``trading`` moves nothing on the
exchange. It commits USDT that is free now (``transferable``: not already needed by a margin
requirement) to this carry — the engine adds it to the carry's margin budget — and is refused
when none is free. From ``funding`` it is a transfer funding (6) -> trading (18) with a
``clientId`` written to the journal before it is sent; an answer lost on the way is settled by
asking the venue about that ``clientId``, never by sending again. An *isolated* perp gets the
USDT added to its own margin (``account/position/margin-balance``).

**Sweep.** The reverse: surplus USDT leaves the trading account for the funding account, never
more than the venue says may leave (in cross mode that keeps every position's margin). An
isolated perp first gives the amount back from its own margin.

**Rebalance.** One leg shrinks by ``|base_qty|`` rounded down to its lot, through the
:class:`HedgeDriver` (journaled rounds, deterministic client order ids) with the other leg held
where it is; the perp only ever with reduce-only orders. A SHORT's coin sitting in Simple Earn
is redeemed first as far as needed; a LONG's bought-back coin repays the loan. Never grows a
leg: a positive ``base_qty`` raises.

Each action journals its intent before anything is sent, updates the position where it
changes (a rebalance: amount, contracts, fees, Earn amount, loan) and emits a typed event.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from decimal import ROUND_DOWN, Decimal
from typing import TYPE_CHECKING, Any

from laicai.domain.enums import Direction
from laicai.domain.instrument import Instrument, round_to_step
from laicai.errors import (
    ExchangeError,
    InsufficientFunds,
    InvariantViolation,
    LaicaiError,
    OutcomeUnknown,
)
from laicai.execution.events import (
    ExecutionError,
    LegRebalanced,
    MarginTransferred,
    RedemptionDelayed,
)
from laicai.execution.hedge import Exposure, HedgeDriver, LegLog, Targets
from laicai.execution.orders import Clock
from laicai.risk.commands import Leg, TransferSource
from laicai.store.records import PositionChanges, PositionRecord
from laicai.store.states import PositionStatus
from laicai.venues.port import TradingExchange

if TYPE_CHECKING:
    from laicai.execution.carry import CarryExecutor

log = logging.getLogger(__name__)
ZERO = Decimal(0)
USDT = "USDT"
USDT_STEP = Decimal("0.01")  # USDT moved between accounts: whole cents, rounded down
TRANSFER_LOOKUPS = 6  # how often a transfer whose answer was lost is asked about
TRANSFER_LOOKUP_DELAY_S = 0.5


def _amount(value: Decimal) -> Decimal:
    return round_to_step(max(value, ZERO), USDT_STEP, ROUND_DOWN)


async def settle_transfer(venue: TradingExchange, clock: Clock, client_id: str) -> str | None:
    """The final state of a transfer whose answer was lost: asked a few times (OKX may still
    be processing it). ``success``, ``failed``, or the last thing heard (``pending``/None)."""
    state: str | None = None
    for attempt in range(TRANSFER_LOOKUPS):
        try:
            state = await venue.transfer_state(client_id)
        except ExchangeError as e:
            log.warning("transfer %s: state unreadable: %s", client_id, e)
        if state in ("success", "failed"):
            return state
        if attempt + 1 < TRANSFER_LOOKUPS:
            await clock.sleep(TRANSFER_LOOKUP_DELAY_S)
    return state


async def transfer_once(ex: CarryExecutor, ccy: str, amount: Decimal, from_account: str,
                        to_account: str, client_id: str) -> None:
    """Send one transfer; when its outcome is unknown, ask the venue about ``client_id``
    until it says. Still unknown -> :class:`OutcomeUnknown` (the intent stays open for the
    reconciliation at the next start)."""
    try:
        await ex.venue.transfer(ccy, amount, from_account, to_account, client_id)
        return
    except OutcomeUnknown as e:
        state = await settle_transfer(ex.venue, ex.clock, client_id)
        if state == "success":
            log.warning("transfer %s %s %s -> %s: answer lost, but clientId %s is done",
                        amount, ccy, from_account, to_account, client_id)
            return
        if state == "failed":
            raise ExchangeError(f"transfer clientId {client_id} failed at the venue") from e
        raise OutcomeUnknown(f"transfer clientId {client_id}: {state or 'unknown'} after "
                             f"{TRANSFER_LOOKUPS} lookups: {e}") from e


async def _perp_mode(ex: CarryExecutor, pos: PositionRecord) -> str:
    """The margin mode of the carry's perp on the venue (it must have one to take margin)."""
    perp = next((p for p in await ex.venue.positions() if p.inst_id == pos.swap_inst_id), None)
    if perp is None or perp.contracts == 0:
        raise InvariantViolation(f"position {pos.id} ({pos.symbol}): no {pos.swap_inst_id} "
                                 f"position on the venue to move margin for")
    return perp.margin_mode


async def _live(ex: CarryExecutor, position_id: int) -> PositionRecord:
    pos = await ex._get(position_id)
    if pos.status.is_final:
        raise InvariantViolation(f"position {pos.id} is {pos.status}: no margin to move")
    return pos


async def _run_intent(ex: CarryExecutor, pos: PositionRecord, operation: str,
                      payload: dict[str, Any], steps: Callable[[], Awaitable[None]] | None
                      ) -> None:
    """Journal ``payload``, then run ``steps``: DONE when they return, FAILED on a refusal,
    left SENT when the outcome is unknown (reconciled at the next start). ``steps`` None:
    nothing to send, the intent is DONE at once."""
    entry = await ex.store.add_intent(operation, payload, ts=ex.clock.now(), position_id=pos.id)
    if steps is None:
        await ex.store.mark_intent_done(entry.id, ts=ex.clock.now())
        return
    await ex.store.mark_intent_sent(entry.id, ts=ex.clock.now())
    try:
        await steps()
    except OutcomeUnknown as e:
        ex._emit(ExecutionError(ex.clock.now(), pos.id, pos.symbol, operation, str(e)))
        raise
    except LaicaiError as e:
        await ex.store.mark_intent_failed(entry.id, str(e)[:500], ts=ex.clock.now())
        ex._emit(ExecutionError(ex.clock.now(), pos.id, pos.symbol, operation, str(e)))
        raise
    await ex.store.mark_intent_done(entry.id, ts=ex.clock.now())


# ---------------------------------------------------------------------- top-up
async def top_up(ex: CarryExecutor, position_id: int, amount_usdt: Decimal,
                 source: TransferSource) -> MarginTransferred:
    if not amount_usdt > 0:
        raise ValueError(f"a top-up needs a positive amount, got {amount_usdt}")
    pos = await _live(ex, position_id)
    mode = await _perp_mode(ex, pos)
    if source is TransferSource.FUNDING:
        funding = await ex.venue.balances("funding")
        free = next((b.available for b in funding if b.ccy == USDT), ZERO)
    else:
        free = await ex.venue.transferable(USDT)
    amount = min(_amount(amount_usdt), _amount(free))
    if amount <= 0:
        error = InsufficientFunds(f"position {pos.id} ({pos.symbol}): no free USDT in the "
                                  f"{source.value} account for a {amount_usdt} USDT top-up")
        ex._emit(ExecutionError(ex.clock.now(), pos.id, pos.symbol, "top_up", str(error)))
        raise error
    client_id = uuid.uuid4().hex if source is TransferSource.FUNDING else ""
    isolated = amount if mode == "isolated" else ZERO
    payload: dict[str, Any] = {
        "source": source.value, "margin_mode": mode, "requested_usdt": str(amount_usdt),
        "amount_usdt": str(amount), "isolated_usdt": str(isolated),
        "transfer": ({"ccy": USDT, "amount": str(amount), "from": "funding", "to": "trading",
                      "client_id": client_id} if client_id else None),
        "note": ("" if client_id or isolated else
                 "cross margin: the trading account's free USDT already backs the perp; "
                 "nothing is moved on the exchange"),
    }

    async def steps() -> None:
        if client_id:
            await transfer_once(ex, USDT, amount, "funding", "trading", client_id)
        if isolated:
            await ex.venue.adjust_margin(pos.swap_inst_id, isolated, add=True)

    await _run_intent(ex, pos, "top_up", payload, steps if client_id or isolated else None)
    event = MarginTransferred(ex.clock.now(), pos.id, pos.symbol, "top_up", source.value,
                              "margin", mode, amount_usdt, amount,
                              amount if client_id else ZERO, isolated, client_id)
    log.info("%s: margin topped up by %s USDT from %s (%s)", pos.symbol, amount, source.value,
             mode)
    ex._emit(event)
    return event


# ---------------------------------------------------------------------- sweep
async def sweep(ex: CarryExecutor, position_id: int, amount_usdt: Decimal
                ) -> MarginTransferred:
    if not amount_usdt > 0:
        raise ValueError(f"a sweep needs a positive amount, got {amount_usdt}")
    pos = await _live(ex, position_id)
    mode = await _perp_mode(ex, pos)
    wanted = _amount(amount_usdt)
    isolated = ZERO
    if mode == "isolated" and wanted > 0:
        isolated = wanted

        async def release() -> None:
            await ex.venue.adjust_margin(pos.swap_inst_id, isolated, add=False)

        await _run_intent(ex, pos, "sweep.release", {"isolated_usdt": str(isolated)}, release)
    amount = min(wanted, _amount(await ex.venue.transferable(USDT)))
    if amount <= 0:
        error = InsufficientFunds(f"position {pos.id} ({pos.symbol}): nothing may leave the "
                                  f"trading account for a {amount_usdt} USDT sweep")
        ex._emit(ExecutionError(ex.clock.now(), pos.id, pos.symbol, "sweep", str(error)))
        raise error
    client_id = uuid.uuid4().hex

    async def steps() -> None:
        await transfer_once(ex, USDT, amount, "trading", "funding", client_id)

    await _run_intent(ex, pos, "sweep", {
        "margin_mode": mode, "requested_usdt": str(amount_usdt), "amount_usdt": str(amount),
        "transfer": {"ccy": USDT, "amount": str(amount), "from": "trading", "to": "funding",
                     "client_id": client_id}}, steps)
    event = MarginTransferred(ex.clock.now(), pos.id, pos.symbol, "sweep", "trading",
                              "funding", mode, amount_usdt, amount, amount, isolated, client_id)
    log.info("%s: swept %s USDT of surplus margin to funding", pos.symbol, amount)
    ex._emit(event)
    return event


# ---------------------------------------------------------------------- rebalance
async def rebalance(ex: CarryExecutor, position_id: int, leg: Leg, base_qty: Decimal
                    ) -> PositionRecord:
    if base_qty > 0:
        raise InvariantViolation(f"position {position_id}: a rebalance never grows a leg "
                                 f"(asked for {leg.value} {base_qty:+f})")
    if base_qty == 0:
        raise ValueError("a rebalance of 0 does nothing")
    pos = await ex._get(position_id)
    if pos.status is not PositionStatus.OPEN:
        raise InvariantViolation(f"position {pos.id} cannot be rebalanced from {pos.status}")
    spot, swap = ex._legs(pos.spot_inst_id, pos.swap_inst_id)
    driver = ex._driver(spot, swap)
    try:
        return await _rebalance(ex, pos, driver, spot, swap, leg, -base_qty)
    except LaicaiError as e:
        ex._emit(ExecutionError(ex.clock.now(), pos.id, pos.symbol, "rebalance", str(e)))
        raise


async def _rebalance(ex: CarryExecutor, pos: PositionRecord, driver: HedgeDriver,
                     spot: Instrument, swap: Instrument, leg: Leg, want: Decimal
                     ) -> PositionRecord:
    exp = await driver.exposure()
    log_ = LegLog()
    earn_amount = pos.earn_amount
    if leg is Leg.PERP:
        size = min(round_to_step(want / swap.contract_value, swap.lot_size, ROUND_DOWN),
                   abs(exp.contracts))
        if size < swap.min_size:
            log.info("%s: perp rebalance of %s rounds to nothing", pos.symbol, want)
            return pos
        contracts = exp.contracts - size if exp.contracts > 0 else exp.contracts + size
        # the spot stays where it is; targets count as matched once the perp is there
        targets = Targets(coin=exp.coin, contracts=contracts,
                          coin_base=exp.coin + contracts * swap.contract_value)
        log_.dead["spot"] = "held: the rebalance moves the perp only"
    else:
        size = round_to_step(want, spot.lot_size, ROUND_DOWN)
        if pos.direction is Direction.SHORT:
            held = max(exp.coin, ZERO)
            in_earn = await ex.venue.earn_balance(pos.symbol) if await ex._in_earn(pos) else ZERO
            size = min(size, round_to_step(held + in_earn, spot.lot_size, ROUND_DOWN))
            if size < spot.min_size:
                log.info("%s: spot rebalance of %s rounds to nothing", pos.symbol, want)
                return pos
            if exp.coin_available < size:  # the rest sits in Simple Earn: bring it back
                redeemed = await _redeem_part(ex, pos, driver, size, exp.coin_available,
                                              in_earn)
                earn_amount = max(pos.earn_amount - redeemed, ZERO)
                exp = await driver.exposure()
                size = min(size, round_to_step(exp.coin_available, spot.lot_size, ROUND_DOWN))
            target = exp.coin - size
        else:  # LONG: the spot leg is the coin owed; buy it back (then repay)
            size = min(size, round_to_step(max(-exp.coin, ZERO), spot.lot_size, ROUND_DOWN))
            if size < spot.min_size:
                log.info("%s: spot rebalance of %s rounds to nothing", pos.symbol, want)
                return pos
            target = exp.coin + size
        targets = Targets(coin=target, contracts=exp.contracts,
                          coin_base=target + exp.perp_base)
        log_.dead["perp"] = "held: the rebalance moves the spot only"
    before = exp
    exp = await driver.drive(position_id=pos.id, op="rebalance", targets=targets, log_=log_,
                             seq0=0, price_hint=pos.entry_spot_price or Decimal(1),
                             max_naked_usd=ex.params.max_naked_usd, start=exp)
    moved = (abs(exp.perp_base - before.perp_base) if leg is Leg.PERP
             else abs(exp.coin - before.coin))
    died = log_.dead.get(leg.value)
    if moved == 0:
        raise ExchangeError(f"position {pos.id} ({pos.symbol}): {leg.value} rebalance of "
                            f"{size} did not fill: {died or 'no fill'}")
    if pos.direction is Direction.LONG and leg is Leg.SPOT:
        await _repay_bought(ex, pos, spot.base)
    return await _record_rebalance(ex, pos, driver, exp, leg, moved, log_.fees_usdt(spot),
                                   earn_amount)


async def _redeem_part(ex: CarryExecutor, pos: PositionRecord, driver: HedgeDriver,
                       needed: Decimal, available: Decimal, in_earn: Decimal) -> Decimal:
    """Redeem from Simple Earn (journaled) what the trading account lacks for ``needed`` and
    wait until it is there; returns what was redeemed. Raises :class:`RedemptionPending`
    after the redemption timeout (nothing was sold, the hedge is intact)."""
    from laicai.execution.carry import RedemptionPending

    ccy = pos.symbol
    amount = min(needed - available, in_earn)
    goal = available + amount
    if amount > 0:
        async def redeem() -> None:
            await ex.venue.earn_redeem(ccy, amount)

        await _run_intent(ex, pos, "rebalance.redeem", {"ccy": ccy, "amount": str(amount)},
                          redeem)
    waited = 0.0
    while True:
        await ex._back_to_trading(ccy)
        if (await driver.exposure()).coin_available >= goal:
            return amount
        if waited >= ex.params.redeem_timeout_seconds:
            ex._emit(RedemptionDelayed(ex.clock.now(), pos.id, pos.symbol, ccy, waited,
                                       "rebalance"))
            raise RedemptionPending(f"{ccy}: {amount} redeemed for a rebalance not back after "
                                    f"{waited:.0f} s")
        await ex.clock.sleep(ex.params.redeem_poll_seconds)
        waited += ex.params.redeem_poll_seconds


async def _repay_bought(ex: CarryExecutor, pos: PositionRecord, ccy: str) -> None:
    """A LONG bought back part of its coin: it repays that much of the loan."""
    owed = await ex.venue.liability(ccy)
    balances = await ex.venue.balances()
    have = next((b.available for b in balances if b.ccy == ccy), ZERO)
    amount = min(owed, have)
    if amount <= 0:
        return

    async def repay() -> None:
        await ex.venue.repay(ccy, amount)

    await _run_intent(ex, pos, "rebalance.repay", {"ccy": ccy, "amount": str(amount)}, repay)


async def _record_rebalance(ex: CarryExecutor, pos: PositionRecord, driver: HedgeDriver,
                            exp: Exposure, leg: Leg, moved: Decimal, fees: Decimal,
                            earn_amount: Decimal) -> PositionRecord:
    perp_base = abs(exp.perp_base)
    if pos.direction is Direction.SHORT:
        in_earn = await ex.venue.earn_balance(pos.symbol) if earn_amount > 0 else ZERO
        spot_base = max(exp.coin, ZERO) + in_earn
        borrowed = None
    else:
        borrowed = await ex.venue.liability(pos.symbol)
        spot_base = borrowed
    amount = min(pos.position_amount, perp_base)
    pos = await ex.store.update_position(pos.id, PositionChanges(
        position_amount=amount, swap_contracts=abs(exp.contracts),
        notional_usdt=(amount * pos.entry_spot_price if amount != pos.position_amount
                       else None),
        total_trade_fee=pos.total_trade_fee + fees,
        earn_amount=earn_amount if earn_amount != pos.earn_amount else None,
        borrowed_amount=borrowed), ts=ex.clock.now())
    ex._emit(LegRebalanced(ex.clock.now(), pos.id, pos.symbol, leg.value, moved, spot_base,
                           perp_base, fees))
    log.info("%s: %s leg shrunk by %s (spot %s, perp %s)", pos.symbol, leg.value, moved,
             spot_base, perp_base)
    return pos
