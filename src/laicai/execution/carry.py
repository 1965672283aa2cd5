"""Open, close and reset a carry position: the lifecycle of ``ARCHITECTURE.md``.

SHORT = buy spot + short perp (the bought coin then goes into Simple Earn); LONG = borrow the
coin + sell it + long perp (repaid on close). Both legs go out at the same moment; the
:class:`~laicai.execution.hedge.HedgeDriver` repairs whatever does not fill. Every status
change is persisted before the next step, and every step emits a typed event.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from typing import Any

from laicai.domain.enums import Direction
from laicai.domain.instrument import Instrument, round_to_step
from laicai.errors import ExchangeError, InsufficientFunds, InvariantViolation, LaicaiError
from laicai.execution import ladder
from laicai.execution.events import (
    CarryClosed,
    CarryOpened,
    CarryOpenFailed,
    CarryReset,
    ExecutionError,
    ExecutionEvent,
    LegRepaired,
    NakedExposureAlert,
    RedemptionDelayed,
)
from laicai.execution.hedge import Exposure, HedgeDriver, LegLog, Targets
from laicai.execution.maker import maker_phase
from laicai.execution.orders import Clock, OrderRunner
from laicai.risk.commands import Leg, TransferSource
from laicai.store.records import NewPosition, PositionChanges, PositionRecord
from laicai.store.repository import Repository
from laicai.store.states import PositionStatus, SpotEarningStatus
from laicai.strategy import Opportunity
from laicai.venues.port import TradingExchange

log = logging.getLogger(__name__)
ZERO = Decimal(0)
MAX_LEVERAGE = 3
RECOVERY_SEQ = 200  # client order id sequence numbers of recovery rounds start here


@dataclass(frozen=True, slots=True)
class ExecutionParams:
    leverage: int = 2
    enable_spot_earning: bool = True
    redeem_timeout_seconds: float = 60.0
    redeem_poll_seconds: float = 1.0
    redeem_timeout_policy: str = "keep_waiting"  # | close_hedged
    max_naked_usd: Decimal = Decimal(100)
    max_rounds: int = 4
    order_style: str = "taker"  # | maker_first
    maker_reprice_attempts: int = 3
    maker_reprice_seconds: float = 5.0

    def __post_init__(self) -> None:
        if not 1 <= self.leverage <= MAX_LEVERAGE:
            raise ValueError(f"leverage must be within 1..{MAX_LEVERAGE}, got {self.leverage}")

    @classmethod
    def from_settings(cls, settings: Any) -> ExecutionParams:
        r, e, s = settings.risk, settings.execution, settings.strategy
        return cls(leverage=int(r.leverage), enable_spot_earning=s.enable_spot_earning,
                   redeem_timeout_seconds=e.redeem_timeout_seconds,
                   redeem_timeout_policy=e.redeem_timeout_policy,
                   max_naked_usd=Decimal(r.max_naked_usd), order_style=e.order_style,
                   maker_reprice_attempts=e.maker_reprice_attempts,
                   maker_reprice_seconds=e.maker_reprice_seconds)


class RedemptionPending(LaicaiError):
    """Simple Earn has not paid the coin back in time; the hedge stays intact meanwhile."""


EventSink = Callable[[ExecutionEvent], None]


class CarryExecutor:
    """The only code that sends a carry's orders. One instance per venue; one call at a time
    per position (the engine's single task guarantees it)."""

    def __init__(self, venue: TradingExchange, store: Repository, clock: Clock, *,
                 instruments: Mapping[str, Instrument], spot_fee_rate: Decimal,
                 params: ExecutionParams, on_event: EventSink | None = None,
                 runner: OrderRunner | None = None) -> None:
        self.venue = venue
        self.store = store
        self.clock = clock
        self.instruments = instruments
        self.spot_fee_rate = spot_fee_rate
        self.params = params
        self.on_event = on_event or (lambda e: None)
        self.runner = runner or OrderRunner(venue, store, clock)
        self._open_log: LegLog | None = None
        self._earn_interest: dict[int, Decimal] = {}  # redeemed interest, not yet sold

    # ------------------------------------------------------------------ helpers
    def _legs(self, spot_id: str, swap_id: str) -> tuple[Instrument, Instrument]:
        try:
            return self.instruments[spot_id], self.instruments[swap_id]
        except KeyError as e:
            raise InvariantViolation(f"unknown instrument {e.args[0]}") from None

    def _driver(self, spot: Instrument, swap: Instrument) -> HedgeDriver:
        return HedgeDriver(self.venue, self.runner, self.store, spot=spot, swap=swap,
                           spot_fee_rate=self.spot_fee_rate, max_rounds=self.params.max_rounds)

    def _emit(self, event: ExecutionEvent) -> None:
        try:
            self.on_event(event)
        except Exception:  # a notifier must never break execution
            log.exception("event handler failed for %s", type(event).__name__)

    def _naked_alert(self, pos_id: int, symbol: str, driver: HedgeDriver, exp: Exposure,
                     targets: Targets, px: Decimal, detail: str) -> bool:
        naked = driver.naked_base(exp, targets)
        if naked * px <= self.params.max_naked_usd:
            return False
        self._emit(NakedExposureAlert(self.clock.now(), pos_id, symbol, naked * px,
                                      exp.coin - targets.coin_base, exp.perp_base, detail))
        return True

    def _report_repairs(self, pos_id: int, symbol: str, log_: LegLog) -> None:
        for leg, _op, size in log_.repaired:
            self._emit(LegRepaired(self.clock.now(), pos_id, symbol, leg, "complete", size))

    # ------------------------------------------------------------------ open
    async def open(self, opp: Opportunity) -> PositionRecord:
        """Open ``opp`` (an accepted Opportunity). Returns the position, OPEN or FAILED."""
        if not opp.accepted or opp.base_qty is None or opp.spot_inst_id is None:
            raise ValueError(f"{opp.swap_inst_id}: only an accepted opportunity can be opened")
        spot, swap = self._legs(opp.spot_inst_id, opp.swap_inst_id)
        now = self.clock.now()
        pos = await self.store.create_position(NewPosition(
            symbol=opp.base, direction=opp.direction, spot_inst_id=spot.inst_id,
            swap_inst_id=swap.inst_id, leverage=Decimal(self.params.leverage),
            open_timestamp=now, position_amount=opp.base_qty,
            entry_spot_price=opp.spot_entry_vwap or ZERO,
            entry_swap_price=opp.perp_entry_vwap or ZERO,
            initial_funding_rate=opp.funding_rate, swap_contracts=opp.swap_contracts,
            notional_usdt=opp.notional_usdt, funding_interval_hours=opp.interval_hours,
            initial_spot_earning_rate=opp.earn_apr if opp.direction is Direction.SHORT else None,
            borrow_ccy=opp.base if opp.direction is Direction.LONG else None,
            initial_borrow_rate=opp.borrow_apr if opp.direction is Direction.LONG else None))
        try:
            return await self._open_legs(pos, spot, swap, opp.base_qty, seq0=0,
                                         net_apr=opp.net_apr)
        except LaicaiError as e:
            self._emit(ExecutionError(self.clock.now(), pos.id, pos.symbol, "open", str(e)))
            raise

    async def _open_legs(self, pos: PositionRecord, spot: Instrument, swap: Instrument,
                         qty: Decimal, *, seq0: int, net_apr: Decimal | None,
                         op: str = "open", borrow: bool = True) -> PositionRecord:
        """Drive both legs to a hedge of ``qty``. ``borrow=False`` resumes an open whose
        borrow already happened: the targets are then absolute (from a flat start)."""
        await self.venue.set_leverage(swap.inst_id, self.params.leverage, "cross")
        driver = self._driver(spot, swap)
        before = await driver.exposure()
        if not borrow:  # resuming: part of the open may have happened already
            before = Exposure(coin=ZERO, coin_available=ZERO, contracts=ZERO, perp_base=ZERO)
        contracts = round_to_step(qty / swap.contract_value, swap.lot_size, ROUND_DOWN)
        base = contracts * swap.contract_value
        spot_mode = "cash"
        if pos.direction is Direction.SHORT:
            targets = Targets(coin=before.coin + base, contracts=before.contracts - contracts,
                              coin_base=before.coin)
        else:
            if borrow:
                try:  # nothing is sent before the borrow succeeds
                    await self.venue.borrow(spot.base, base)
                except ExchangeError as e:
                    # an answer lost on the way: the loan tells whether it happened
                    owed = await self.venue.liability(spot.base)
                    if owed < base:
                        if owed > 0:
                            await self._repay_all(spot.base)
                        return await self._fail(
                            pos, f"borrow of {base} {spot.base} refused: {e}", unwound=False,
                            op=op)
                    log.warning("%s: borrow answer lost (%s) but the loan exists", pos.symbol, e)
            targets = Targets(coin=before.coin - base, contracts=before.contracts + contracts,
                              coin_base=before.coin)
        px = pos.entry_spot_price or ZERO
        log_ = LegLog()
        maker = await self._maker_first(driver, pos.id, op, seq0, targets, log_)
        exp = await driver.drive(position_id=pos.id, op=op, targets=targets, log_=log_,
                                 seq0=seq0, spot_td_mode=spot_mode, price_hint=px or Decimal(1),
                                 max_naked_usd=self.params.max_naked_usd,
                                 start=None if maker or not borrow_free_start(pos, borrow)
                                 else before)
        self._report_repairs(pos.id, pos.symbol, log_)
        self._open_log = log_
        held = abs(exp.perp_base)
        fees = log_.fees_usdt(spot)
        if held < swap.base_step or held < spot.min_size:
            # nothing (or too little to keep) was hedged: flatten whatever is left
            exp = await self._flatten(pos, driver, before, log_, seq0 + 10)
            self._raise_if_naked(pos, driver, exp, Targets(before.coin, before.contracts,
                                                           before.coin), op, log_)
            if pos.direction is Direction.LONG:
                await self._repay_all(spot.base)
            return await self._fail(pos, "; ".join(f"{k}: {v}" for k, v in log_.dead.items())
                                    or "legs did not fill", unwound=True, op=op)
        self._raise_if_naked(pos, driver, exp, targets, op, log_)
        if pos.direction is Direction.LONG:  # what was borrowed but never sold goes back
            unused = min(exp.coin_available, await self.venue.liability(spot.base) - held)
            try:
                if unused > 0:
                    await self.venue.repay(spot.base, unused)
            except ExchangeError as e:  # only costs interest: repaid with the rest on close
                log.warning("%s: could not repay the unused %s of the loan: %s", pos.symbol,
                            unused, e)
        spot_px = log_.avg_px("spot", _entry_side(pos.direction, "spot")) or px
        perp_px = log_.avg_px("perp", _entry_side(pos.direction, "perp")) or spot_px
        changes = PositionChanges(position_amount=held,
                                  swap_contracts=abs(exp.contracts),
                                  notional_usdt=held * spot_px, entry_spot_price=spot_px,
                                  entry_swap_price=perp_px,
                                  total_trade_fee=pos.total_trade_fee + fees,
                                  borrowed_amount=(held if pos.direction is Direction.LONG
                                                   else None))
        pos = await self.store.transition_position(pos.id, PositionStatus.OPEN,
                                                   ts=self.clock.now(), changes=changes)
        if op == "open":
            self._emit(CarryOpened(self.clock.now(), pos.id, pos.symbol, pos.direction, held,
                                   spot_px, perp_px, fees, pos.initial_funding_rate, net_apr))
        if pos.direction is Direction.SHORT and self.params.enable_spot_earning:
            pos = await self._subscribe_earn(pos, spot)
        return pos

    def _raise_if_naked(self, pos: PositionRecord, driver: HedgeDriver, exp: Exposure,
                        targets: Targets, op: str, log_: LegLog) -> None:
        """Legs left apart (both refused for good): neither OPEN nor FAILED is true. Alert and
        stop; the position stays where it is for ``resume`` to finish later."""
        if driver.naked_base(exp, targets) <= driver.tolerance:
            return
        self._naked_alert(pos.id, pos.symbol, driver, exp, targets,
                          pos.entry_spot_price or Decimal(1), f"{op}: legs left apart")
        raise InvariantViolation(
            f"position {pos.id} ({pos.symbol}): {op} left {exp.contracts} contracts and "
            f"{exp.coin} {pos.symbol} apart after {log_.rounds} rounds; dead legs: {log_.dead}")

    async def _maker_first(self, driver: HedgeDriver, pos_id: int, op: str, seq: int,
                           targets: Targets, log_: LegLog) -> bool:
        """Run the maker phase when configured; True if it ran (exposure changed)."""
        if self.params.order_style != "maker_first":
            return False
        await maker_phase(driver, position_id=pos_id, op=op, seq=seq, targets=targets,
                          log_=log_, attempts=self.params.maker_reprice_attempts,
                          seconds=self.params.maker_reprice_seconds)
        return True

    async def _fail(self, pos: PositionRecord, reason: str, *, unwound: bool, op: str
                    ) -> PositionRecord:
        if pos.direction is Direction.LONG and await self.venue.liability(pos.symbol) > 0:
            await self._repay_all(pos.symbol)  # a failed LONG must not leave a loan behind
        changes = PositionChanges(close_reason=f"{op} failed: {reason}"[:500],
                                  borrowed_amount=(ZERO if pos.direction is Direction.LONG
                                                   else None))
        if pos.status is PositionStatus.OPENING:
            pos = await self.store.transition_position(
                pos.id, PositionStatus.FAILED, ts=self.clock.now(), changes=changes)
        elif pos.status is PositionStatus.RESETTING:  # closed, but could not reopen
            pos = await self.store.transition_position(pos.id, PositionStatus.CLOSING,
                                                       ts=self.clock.now())
            pos = await self.store.transition_position(pos.id, PositionStatus.CLOSED,
                                                       ts=self.clock.now(), changes=changes)
        self._emit(CarryOpenFailed(self.clock.now(), pos.id, pos.symbol, reason, unwound))
        log.warning("%s %s failed: %s", op, pos.symbol, reason)
        return pos

    async def _flatten(self, pos: PositionRecord, driver: HedgeDriver, before: Exposure,
                       log_: LegLog, seq0: int) -> Exposure:
        """Back to where the operation started: unwind whatever filled."""
        log_.dead.clear()
        targets = Targets(coin=before.coin, contracts=before.contracts, coin_base=before.coin)
        return await driver.drive(position_id=pos.id, op="unwind", targets=targets, log_=log_,
                                  seq0=seq0, price_hint=pos.entry_spot_price or Decimal(1),
                                  max_naked_usd=self.params.max_naked_usd)

    # ------------------------------------------------------------------ Earn
    async def _subscribe_earn(self, pos: PositionRecord, spot: Instrument) -> PositionRecord:
        exp = await self._driver(spot, self._legs(pos.spot_inst_id, pos.swap_inst_id)[1]
                                 ).exposure()
        amount = exp.coin_available
        if amount <= 0:
            return pos
        try:
            await self.venue.transfer(spot.base, amount, "trading", "funding")
            await self.venue.earn_purchase(spot.base, amount)
        except ExchangeError as e:
            # the coin stays wherever it is; the hedge is unaffected. The venue says where:
            # in Earn (the answer was lost, the purchase happened) or back to trading.
            log.warning("%s: Simple Earn subscription failed: %s", pos.symbol, e)
            subscribed = await self.venue.earn_balance(spot.base)
            await self._back_to_trading(spot.base)
            if subscribed <= 0:
                return pos
            amount = subscribed
        return await self.store.update_position(pos.id, PositionChanges(
            spot_earning_status=SpotEarningStatus.SUBSCRIBED, earn_amount=amount),
            ts=self.clock.now())

    async def _in_earn(self, pos: PositionRecord) -> bool:
        """Whether the carry's coin sits in Simple Earn — asked of the venue, not of our
        records, which a crash may have left one step behind."""
        if pos.direction is not Direction.SHORT:
            return False
        if pos.spot_earning_status is SpotEarningStatus.SUBSCRIBED:
            return True
        return await self.venue.earn_balance(pos.symbol) > 0

    async def _back_to_trading(self, ccy: str) -> Decimal:
        funding = await self.venue.balances("funding")
        amount = next((b.available for b in funding if b.ccy == ccy), ZERO)
        if amount > 0:
            await self.venue.transfer(ccy, amount, "funding", "trading")
        return amount

    async def _redeem(self, pos: PositionRecord) -> PositionRecord:
        """Redeem the coin from Simple Earn and wait until it is back in the trading account.
        Raises :class:`RedemptionPending` after the timeout (the position stays REDEEMING)."""
        ccy = pos.symbol
        spot, swap = self._legs(pos.spot_inst_id, pos.swap_inst_id)
        in_earn = await self.venue.earn_balance(ccy)
        if in_earn > 0:
            await self.venue.earn_redeem(ccy, in_earn)
            # what Earn paid on top of the subscription is the carry's: it is sold with it
            # (booked as income from the exchange's interest bills, not from this estimate)
            self._earn_interest[pos.id] = max(in_earn - pos.earn_amount, ZERO)
        driver = self._driver(spot, swap)
        # the coin must be back in the trading account before anything is sold: redeemed
        # coin can spend a while on its way (neither in Earn nor in an account)
        needed = pos.position_amount - spot.lot_size
        waited = 0.0
        while True:
            await self._back_to_trading(ccy)
            if (await driver.exposure()).coin_available >= needed:
                break
            if waited >= self.params.redeem_timeout_seconds:
                self._emit(RedemptionDelayed(self.clock.now(), pos.id, pos.symbol, ccy, waited,
                                             self.params.redeem_timeout_policy))
                raise RedemptionPending(
                    f"{ccy}: Simple Earn redemption not back after {waited:.0f} s "
                    f"(policy {self.params.redeem_timeout_policy})")
            await self.clock.sleep(self.params.redeem_poll_seconds)
            waited += self.params.redeem_poll_seconds
        return await self.store.update_position(pos.id, PositionChanges(
            spot_earning_status=SpotEarningStatus.REDEEMED, earn_amount=ZERO),
            ts=self.clock.now())

    # ------------------------------------------------------------------ close
    async def close(self, position_id: int, reason: str) -> PositionRecord:
        """Redeem from Earn, then close both legs together; a LONG repays its loan."""
        pos = await self._get(position_id)
        spot, swap = self._legs(pos.spot_inst_id, pos.swap_inst_id)
        if pos.status is PositionStatus.OPEN and await self._in_earn(pos):
            pos = await self.store.transition_position(pos.id, PositionStatus.REDEEMING,
                                                       ts=self.clock.now())
        if pos.status is PositionStatus.REDEEMING:
            try:
                pos = await self._redeem(pos)
            except RedemptionPending:
                if self.params.redeem_timeout_policy != "close_hedged":
                    raise
                return await self._close_hedged_part(pos, spot, swap)
        if pos.status in (PositionStatus.OPEN, PositionStatus.REDEEMING):
            pos = await self.store.transition_position(pos.id, PositionStatus.CLOSING,
                                                       ts=self.clock.now())
        if pos.status is not PositionStatus.CLOSING:
            raise InvariantViolation(f"position {pos.id} cannot be closed from {pos.status}")
        log_, exp = await self._close_legs(pos, spot, swap, seq0=20, op="close")
        return await self._finish_close(pos, spot, swap, log_, exp, reason)

    async def _close_legs(self, pos: PositionRecord, spot: Instrument, swap: Instrument, *,
                          seq0: int, op: str) -> tuple[LegLog, Exposure]:
        driver = self._driver(spot, swap)
        before = await driver.exposure()
        log_ = LegLog()
        if pos.direction is Direction.SHORT:
            # sell the coin the carry holds and its Earn interest (never more than is
            # there), buy back the perp
            carried = pos.position_amount + self._earn_interest.pop(pos.id, ZERO)
            keep = max(before.coin - carried, ZERO)
            targets = Targets(coin=keep, contracts=ZERO, coin_base=keep)
        else:
            # buy back what is owed, interest included (coin equity = held - owed -> 0), and
            # sell the perp; then repay the loan from the coin
            level = max(before.coin, ZERO)
            targets = Targets(coin=level, contracts=ZERO, coin_base=level)
        maker = await self._maker_first(driver, pos.id, op, seq0, targets, log_)
        exp = await driver.drive(position_id=pos.id, op=op, targets=targets, log_=log_,
                                 seq0=seq0, price_hint=pos.entry_spot_price or Decimal(1),
                                 max_naked_usd=self.params.max_naked_usd,
                                 start=None if maker else before)
        self._report_repairs(pos.id, pos.symbol, log_)
        naked = self._naked_alert(pos.id, pos.symbol, driver, exp, targets,
                                  pos.entry_spot_price, f"{op}: legs left")
        if exp.contracts != 0 or naked:
            raise InvariantViolation(
                f"position {pos.id} ({pos.symbol}): {op} left {exp.contracts} contracts and "
                f"{exp.coin} {pos.symbol} after {log_.rounds} rounds; dead legs: {log_.dead}")
        if pos.direction is Direction.LONG:
            await self._repay_all(spot.base)
        return log_, exp

    async def _repay_all(self, ccy: str) -> None:
        """Repay the loan and its interest until nothing is owed (buying a little more coin
        when the interest outgrew what is held)."""
        for _ in range(5):
            owed = await self.venue.liability(ccy)
            if owed <= 0:
                return
            balances = await self.venue.balances()
            have = next((b.available for b in balances if b.ccy == ccy), ZERO)
            amount = min(owed, have)
            if amount <= 0:
                raise InsufficientFunds(f"{ccy}: owe {owed} but hold nothing to repay it")
            await self.venue.repay(ccy, amount)
        raise InvariantViolation(f"{ccy}: loan not repaid after 5 attempts")

    async def _finish_close(self, pos: PositionRecord, spot: Instrument, swap: Instrument,
                            log_: LegLog, exp: Exposure, reason: str) -> PositionRecord:
        fees = log_.fees_usdt(spot)
        exit_spot = log_.avg_px("spot", _exit_side(pos.direction, "spot")) or ZERO
        exit_perp = log_.avg_px("perp", _exit_side(pos.direction, "perp")) or ZERO
        pnl = self._basis_pnl(pos, exit_spot, exit_perp) - pos.total_trade_fee - fees
        pos = await self.store.transition_position(pos.id, PositionStatus.CLOSED,
                                                   ts=self.clock.now(), changes=PositionChanges(
            exit_spot_price=exit_spot, exit_swap_price=exit_perp,
            total_trade_fee=pos.total_trade_fee + fees, pnl_usd=pnl, close_reason=reason,
            borrowed_amount=ZERO if pos.direction is Direction.LONG else None))
        self._emit(CarryClosed(self.clock.now(), pos.id, pos.symbol, reason, exit_spot,
                               exit_perp, pnl, fees))
        return pos

    @staticmethod
    def _basis_pnl(pos: PositionRecord, exit_spot: Decimal, exit_perp: Decimal) -> Decimal:
        return basis_pnl(pos, exit_spot, exit_perp)

    async def _close_hedged_part(self, pos: PositionRecord, spot: Instrument, swap: Instrument
                                 ) -> PositionRecord:
        """Redemption stuck, policy close_hedged: close the part whose coin is back."""
        driver = self._driver(spot, swap)
        exp = await driver.exposure()
        arrived = round_to_step(exp.coin_available, swap.base_step, ROUND_DOWN)
        if arrived <= 0:
            return pos
        contracts = arrived / swap.contract_value
        targets = Targets(coin=exp.coin - arrived, contracts=exp.contracts + contracts,
                          coin_base=exp.coin - arrived + exp.perp_base + contracts
                          * swap.contract_value)
        log_ = LegLog()
        await driver.drive(position_id=pos.id, op="flatten", targets=targets, log_=log_,
                           seq0=40, price_hint=pos.entry_spot_price or Decimal(1),
                           max_naked_usd=self.params.max_naked_usd)
        return await self.store.update_position(pos.id, PositionChanges(
            position_amount=pos.position_amount - arrived,
            swap_contracts=(pos.swap_contracts or ZERO) - contracts,
            total_trade_fee=pos.total_trade_fee + log_.fees_usdt(spot)), ts=self.clock.now())

    # ------------------------------------------------------------------ reset
    async def reset(self, position_id: int, reason: str = "margin") -> PositionRecord:
        """Close and reopen at current prices as one tracked operation (the seed's margin
        reset). Counts ``resets_count``; its cost — the fees of the four trades plus their
        slippage against the mid prices just before the reset — goes to ``reset_cost``."""
        pos = await self._get(position_id)
        if pos.status is not PositionStatus.OPEN:
            raise InvariantViolation(f"position {pos.id} cannot be reset from {pos.status}")
        spot, swap = self._legs(pos.spot_inst_id, pos.swap_inst_id)
        mids = await self._mids(spot, swap)
        pos = await self.store.transition_position(pos.id, PositionStatus.RESETTING,
                                                   ts=self.clock.now())
        if await self._in_earn(pos):
            pos = await self._redeem(pos)
        seq = 50 + 20 * pos.resets_count
        close_log, _ = await self._close_legs(pos, spot, swap, seq0=seq, op="reset")
        exit_spot = close_log.avg_px("spot", _exit_side(pos.direction, "spot")) or ZERO
        exit_perp = close_log.avg_px("perp", _exit_side(pos.direction, "perp")) or ZERO
        realized = self._basis_pnl(pos, exit_spot, exit_perp)
        close_fees = close_log.fees_usdt(spot)
        pos = await self.store.update_position(pos.id, PositionChanges(
            total_trade_fee=pos.total_trade_fee + close_fees,
            pnl_usd=(pos.pnl_usd or ZERO) + realized), ts=self.clock.now())
        fees_before_reopen = pos.total_trade_fee
        reopened = await self._open_legs(pos, spot, swap, pos.position_amount, seq0=seq + 10,
                                         net_apr=None, op="reset")
        if reopened.status is not PositionStatus.OPEN:
            return reopened
        open_fees = reopened.total_trade_fee - fees_before_reopen
        slippage = close_log.slippage_usdt(*mids, swap) + self._last_open_slippage(mids, swap)
        cost = close_fees + open_fees + slippage
        reopened = await self.store.update_position(reopened.id, PositionChanges(
            reset_cost=pos.reset_cost + cost), ts=self.clock.now())
        self._emit(CarryReset(self.clock.now(), reopened.id, reopened.symbol,
                              reopened.resets_count, cost, reopened.position_amount))
        return reopened

    async def _mids(self, spot: Instrument, swap: Instrument) -> tuple[Decimal, Decimal]:
        out = []
        for inst in (spot, swap):
            book = await self.venue.order_book(inst.inst_id, 5)
            mid = book.mid
            if mid is None:
                raise InvariantViolation(f"{inst.inst_id}: empty book, cannot price the reset")
            out.append(mid)
        return out[0], out[1]

    def _last_open_slippage(self, mids: tuple[Decimal, Decimal], swap: Instrument) -> Decimal:
        return self._open_log.slippage_usdt(*mids, swap) if self._open_log else ZERO

    # ------------------------------------------------------------------ margin ladder
    async def top_up(self, position_id: int, amount_usdt: Decimal,
                     source: TransferSource | str) -> Decimal:
        """Add up to ``amount_usdt`` to the carry's perp margin from the ``trading`` or
        ``funding`` account (see :mod:`laicai.execution.ladder`): never more than the source
        holds free; :class:`InsufficientFunds` when it holds nothing. Cross margin from
        ``trading`` moves nothing on the exchange (that USDT already backs the perp) and
        commits it to the carry; ``funding`` transfers it in; an isolated perp gets it added
        to its own margin. Emits :class:`MarginTransferred`; returns the USDT added to the
        carry's margin (the engine adds it to the carry's margin budget)."""
        event = await ladder.top_up(self, position_id, amount_usdt, TransferSource(source))
        return event.amount_usdt

    async def sweep(self, position_id: int, amount_usdt: Decimal) -> Decimal:
        """Move up to ``amount_usdt`` of the carry's surplus margin from the trading account
        to the funding account, never more than may leave it; :class:`InsufficientFunds` when
        nothing may. Emits :class:`MarginTransferred`; returns the USDT moved out."""
        event = await ladder.sweep(self, position_id, amount_usdt)
        return event.amount_usdt

    async def rebalance(self, position_id: int, leg: Leg | str, base_qty: Decimal
                        ) -> PositionRecord:
        """Shrink one leg of an OPEN carry by ``|base_qty|`` (``base_qty < 0``; a positive one
        raises :class:`InvariantViolation`: a leg never grows), rounded down to the lot; the
        other leg stays. Emits :class:`LegRebalanced`; returns the updated position (the same
        one when the size rounds to nothing)."""
        return await ladder.rebalance(self, position_id, Leg(leg), base_qty)

    # ------------------------------------------------------------------ recovery
    async def resume(self, pos: PositionRecord) -> PositionRecord:
        """Bring a position caught between two states by a crash to rest: a close or a
        redemption is finished, a reset is finished (close if still open, then reopen), an
        open is completed to a hedge of its planned size (or marked FAILED when nothing
        filled). The legs are read from the venue, so it does not matter where it stopped."""
        log.warning("recovering position %s (%s) from %s", pos.id, pos.symbol, pos.status)
        if pos.status in (PositionStatus.REDEEMING, PositionStatus.CLOSING):
            return await self.close(pos.id, pos.close_reason or "recovered after a restart")
        spot, swap = self._legs(pos.spot_inst_id, pos.swap_inst_id)
        exp = await self._driver(spot, swap).exposure()
        seq = RECOVERY_SEQ + 20 * (pos.resets_count + 1)
        if pos.status is PositionStatus.RESETTING:
            if await self._in_earn(pos):  # crashed before the redemption was through
                pos = await self._redeem(pos)
            # finish the reset's close (a leg may be left even with the perp flat; legs
            # already flat send nothing)
            await self._close_legs(pos, spot, swap, seq0=seq, op="reset")
            return await self._open_legs(pos, spot, swap, pos.position_amount, seq0=seq + 10,
                                         net_apr=None, op="reset")
        if pos.status is not PositionStatus.OPENING:
            return pos
        borrowed = (pos.direction is Direction.LONG
                    and await self.venue.liability(spot.base) > 0)
        if exp.contracts == 0 and abs(exp.coin) < spot.min_size and not borrowed:
            return await self._fail(pos, "crashed before anything filled", unwound=False,
                                    op="open")
        if pos.direction is Direction.LONG and not borrowed:
            # the perp filled but the borrow never happened: take the perp back off
            driver = self._driver(spot, swap)
            await self._flatten(pos, driver, Exposure(exp.coin, exp.coin_available, ZERO, ZERO),
                                LegLog(), seq)
            return await self._fail(pos, "crashed before the borrow", unwound=True, op="open")
        return await self._open_legs(pos, spot, swap, pos.position_amount, seq0=seq,
                                     net_apr=None, op="open", borrow=False)

    async def settle_earn(self, pos: PositionRecord) -> PositionRecord:
        """An OPEN SHORT carry after a restart: a crash may have cut its Simple Earn
        subscription short, leaving the coin in the funding account (moved, not subscribed),
        or subscribed while the record still says otherwise. The venue says where the coin
        is: coin in Earn is recorded as subscribed; coin in the funding account goes back to
        trading and, with Earn enabled and nothing subscribed, the subscription is made again.
        (Left alone, the coin would be invisible to the hedge guard, which reads Earn only for
        subscribed carries, and to the close, which sells from the trading account.)"""
        if pos.status is not PositionStatus.OPEN or pos.direction is not Direction.SHORT:
            return pos
        ccy = pos.symbol
        moved = await self._back_to_trading(ccy)
        in_earn = await self.venue.earn_balance(ccy)
        if in_earn > 0:
            if pos.spot_earning_status is SpotEarningStatus.SUBSCRIBED:
                return pos
            log.warning("%s: position %s has %s in Simple Earn but was recorded %s; recorded "
                        "as subscribed", pos.symbol, pos.id, in_earn, pos.spot_earning_status)
            return await self.store.update_position(pos.id, PositionChanges(
                spot_earning_status=SpotEarningStatus.SUBSCRIBED, earn_amount=in_earn),
                ts=self.clock.now())
        if not self.params.enable_spot_earning or (
                pos.spot_earning_status is SpotEarningStatus.SUBSCRIBED and moved <= 0):
            return pos
        log.warning("%s: finishing the Simple Earn subscription of position %s (%s back from "
                    "the funding account)", pos.symbol, pos.id, moved)
        spot, _ = self._legs(pos.spot_inst_id, pos.swap_inst_id)
        return await self._subscribe_earn(pos, spot)

    async def _get(self, position_id: int) -> PositionRecord:
        pos = await self.store.get_position(position_id)
        if pos is None:
            raise InvariantViolation(f"no position {position_id}")
        return pos


def basis_pnl(pos: PositionRecord, exit_spot: Decimal, exit_perp: Decimal) -> Decimal:
    """Price PnL of both legs (spot long + perp short for SHORT, the mirror for LONG)."""
    q = pos.position_amount
    spot_pnl = (exit_spot - pos.entry_spot_price) * q
    perp_pnl = (pos.entry_swap_price - exit_perp) * q
    total = spot_pnl + perp_pnl
    return total if pos.direction is Direction.SHORT else -total


def borrow_free_start(pos: PositionRecord, borrow: bool) -> bool:
    """Whether the exposure read before an open is still current when its legs start: not
    after a LONG's borrow (which added coin) nor when resuming (targets are absolute)."""
    return borrow and pos.direction is Direction.SHORT


def _entry_side(direction: Direction, leg: str) -> Any:
    from laicai.domain.enums import Side

    buys_spot = direction is Direction.SHORT
    if leg == "spot":
        return Side.BUY if buys_spot else Side.SELL
    return Side.SELL if buys_spot else Side.BUY


def _exit_side(direction: Direction, leg: str) -> Any:
    return _entry_side(direction, leg).opposite
