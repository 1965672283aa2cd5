"""The one-key emergency close (``laicai close-all``): flatten the account from the EXCHANGE's
state, with or without a database.

What is open is read from the venue, never from the database: resting orders, perp positions,
coin held or owed in the trading account, coin in the funding account and in Simple Earn. The
run, in order:

1. cancel every resting order (it could fill mid-close, and it holds coin or margin);
2. redeem everything in Simple Earn, wait for it to arrive, and move the coins to the trading
   account (USDT stays in the funding account);
3. per coin, take the perp and the coin down *together*, in steps of at most
   ``step_usdt``: the larger leg leads, the smaller follows once they are level, so the naked
   exposure only ever shrinks and a failed step leaves at most one step apart. The
   :class:`HedgeDriver` sends each step (journaled, client order ids of this run, the perp
   reduce-only); a leg that cannot move stops the coin where its legs still match;
4. repay every loan (the coin a LONG owed was bought back in step 3);
5. with a store, mark the database's positions on the flattened coins CLOSED (``close-all``)
   with exit prices, PnL and fees (an OPENING one FAILED), and emit :class:`CarryClosed`.

A "carry coin" is one with a USDT spot pair and a USDT perpetual in ``instruments``: all of it
is closed, whether the database knows it or not. Other coins are left untouched and reported.
Dust below a minimum order size stays and is reported. Idempotent: a second run finds nothing
to do and says so. Stop the bot first: close-all does not coordinate with a running engine
(the engine's own emergency close calls it from its one task).
"""

from __future__ import annotations

import logging
import secrets
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_DOWN, ROUND_HALF_UP, ROUND_UP, Decimal
from typing import Any

from laicai.domain.enums import Direction, Side
from laicai.domain.instrument import Instrument, round_to_step
from laicai.domain.orders import OrderState
from laicai.errors import ExchangeError, LaicaiError, OutcomeUnknown
from laicai.execution.carry import basis_pnl
from laicai.execution.events import (
    AccountClosedOut,
    CarryClosed,
    ExecutionEvent,
    NakedExposureAlert,
)
from laicai.execution.hedge import Exposure, HedgeDriver, LegLog, Targets
from laicai.execution.ladder import settle_transfer
from laicai.execution.memory_journal import MemoryJournal
from laicai.execution.orders import Clock, OrderRunner, OrderStore
from laicai.store.records import OrderUpdate, PositionChanges, PositionRecord
from laicai.store.repository import Repository
from laicai.store.states import PositionStatus, SpotEarningStatus
from laicai.venues.port import TradingExchange

log = logging.getLogger(__name__)
ZERO = Decimal(0)
USDT = "USDT"
CLOSE_REASON = "close-all"
EventSink = Callable[[ExecutionEvent], None]


@dataclass(frozen=True, slots=True)
class CloseAllParams:
    step_usdt: Decimal = Decimal(1000)  # notional of one step of both legs
    max_rounds: int = 4  # of the HedgeDriver, per step
    max_steps: int = 200  # per coin
    redeem_timeout_seconds: float = 60.0
    poll_seconds: float = 1.0
    cancel_checks: int = 5  # re-reads of the open orders after the cancels
    max_naked_usd: Decimal = Decimal(100)  # what a leg may be apart before it is alerted

    @classmethod
    def from_settings(cls, settings: Any) -> CloseAllParams:
        return cls(redeem_timeout_seconds=float(settings.execution.redeem_timeout_seconds),
                   max_naked_usd=Decimal(settings.risk.max_naked_usd))


@dataclass(slots=True)
class CoinReport:
    """One carry coin: its legs before and after (coin equity in the trading account, signed:
    negative is owed; perp contracts, signed), and what it took."""

    ccy: str
    spot_before: Decimal
    perp_before: Decimal
    spot_after: Decimal = ZERO
    perp_after: Decimal = ZERO
    orders: int = 0
    steps: int = 0
    fees_usdt: Decimal = ZERO
    spot_px: Decimal | None = None  # average exit prices of this run's fills
    perp_px: Decimal | None = None
    left: str = ""  # why the coin is not flat ("" when it is)


@dataclass(slots=True)
class CloseAllReport:
    started: datetime
    finished: datetime | None = None
    canceled: list[str] = field(default_factory=list)
    redeemed: dict[str, Decimal] = field(default_factory=dict)
    moved_to_trading: dict[str, Decimal] = field(default_factory=dict)
    coins: list[CoinReport] = field(default_factory=list)
    repaid: dict[str, Decimal] = field(default_factory=dict)
    positions_closed: list[int] = field(default_factory=list)
    dust: dict[str, Decimal] = field(default_factory=dict)  # below a minimum order size
    untouched: dict[str, Decimal] = field(default_factory=dict)  # not a carry coin
    left: list[str] = field(default_factory=list)  # what keeps the account from being flat

    @property
    def flat(self) -> bool:
        return not self.left

    @property
    def orders_sent(self) -> int:
        return sum(c.orders for c in self.coins)

    @property
    def did_something(self) -> bool:
        return bool(self.canceled or self.redeemed or self.moved_to_trading
                    or self.orders_sent or self.repaid or self.positions_closed)

    def summary(self) -> str:
        """One paragraph for people (the CLI, Telegram)."""
        parts: list[str] = []
        if self.canceled:
            parts.append(f"canceled {len(self.canceled)} open order(s)")
        if self.redeemed:
            parts.append("redeemed " + _amounts(self.redeemed) + " from Simple Earn")
        closed = [c for c in self.coins if c.orders]
        if closed:
            parts.append("closed " + ", ".join(f"{c.ccy} ({c.orders} orders)" for c in closed))
        if self.repaid:
            parts.append("repaid " + _amounts(self.repaid))
        if self.positions_closed:
            parts.append("marked position(s) " + ", ".join(map(str, self.positions_closed))
                         + f" {CLOSE_REASON}")
        text = ("close-all: " + "; ".join(parts) + "." if parts else
                "close-all: nothing to do.")
        if self.dust:
            text += " Dust below the minimum order size stays: " + _amounts(self.dust) + "."
        if self.flat:
            text += " The account is flat."
        else:
            text += " NOT flat: " + "; ".join(self.left) + "."
        return text


def _amounts(values: Mapping[str, Decimal]) -> str:
    return ", ".join(f"{v.normalize():f} {k}" for k, v in sorted(values.items()))


@dataclass(slots=True)
class _Run:
    venue: TradingExchange
    store: Repository | None
    journal: OrderStore
    runner: OrderRunner
    clock: Clock
    instruments: Mapping[str, Instrument]
    spot_fee_rate: Decimal
    params: CloseAllParams
    emit: EventSink
    report: CloseAllReport
    key: int  # client order ids of this run are built from it: no run reuses another's
    positions: list[PositionRecord] = field(default_factory=list)  # the database's, open

    def legs(self, ccy: str) -> tuple[Instrument, Instrument] | None:
        spot = self.instruments.get(f"{ccy}-{USDT}")
        swap = self.instruments.get(f"{ccy}-{USDT}-SWAP")
        return (spot, swap) if spot is not None and swap is not None else None

    def position_of(self, ccy: str) -> int | None:
        return next((p.id for p in self.positions if p.symbol == ccy), None)

    async def intent(self, operation: str, payload: dict[str, Any],
                     position_id: int | None = None) -> int:
        entry = await self.journal.add_intent(f"close_all.{operation}", payload,
                                              ts=self.clock.now(), position_id=position_id)
        await self.journal.mark_intent_sent(entry.id, ts=self.clock.now())
        return entry.id

    async def finish(self, intent_id: int, errors: Sequence[str]) -> None:
        if errors:
            await self.journal.mark_intent_failed(intent_id, "; ".join(errors)[:500],
                                                  ts=self.clock.now())
        else:
            await self.journal.mark_intent_done(intent_id, ts=self.clock.now())


async def close_all(venue: TradingExchange, *, store: Repository | None = None, clock: Clock,
                    instruments: Mapping[str, Instrument], spot_fee_rate: Decimal,
                    on_event: EventSink | None = None,
                    params: CloseAllParams | None = None) -> CloseAllReport:
    """Flatten the account (see the module's description); returns what it did and what is
    left. A refused cancel, redemption, transfer, repayment or one coin's legs is reported,
    not raised: the run goes on with the rest (an emergency close does as much as it can).
    A venue that cannot be read at all raises (transient errors are retried first)."""
    params = params or CloseAllParams()
    journal: OrderStore = store if store is not None else MemoryJournal()
    now_ms = int(clock.now().timestamp() * 1000)
    run = _Run(venue, store, journal, OrderRunner(venue, journal, clock), clock, instruments,
               spot_fee_rate, params, on_event or (lambda e: None),
               CloseAllReport(started=clock.now()),
               key=now_ms * 1296 + secrets.randbelow(1296))
    if store is not None:
        run.positions = await store.list_open_positions()
        await _mark_closing(run)
    await _cancel_orders(run)
    in_transit = await _redeem_earn(run)
    await _coins_to_trading(run)
    await _close_coins(run, in_transit)
    await _repay_loans(run)
    open_coins = await _check_flat(run, in_transit)
    if store is not None:
        await _close_positions(run, open_coins)
    report = run.report
    report.finished = clock.now()
    _emit(run, AccountClosedOut(clock.now(), 0, "*", report.flat, report.summary()))
    (log.info if report.flat else log.error)("%s", report.summary())
    return report


def _emit(run: _Run, event: ExecutionEvent) -> None:
    try:
        run.emit(event)
    except Exception:  # a notifier must never break the close
        log.exception("event handler failed for %s", type(event).__name__)


# ---------------------------------------------------------------------- 1. orders
async def _mark_closing(run: _Run) -> None:
    """Persist the intent to close before anything is sent: a crash mid-run leaves the
    positions CLOSING, which the bot's recovery finishes from the exchange's state."""
    assert run.store is not None
    marked = []
    for pos in run.positions:
        if pos.status in (PositionStatus.OPEN, PositionStatus.REDEEMING,
                          PositionStatus.RESETTING):
            pos = await run.store.transition_position(
                pos.id, PositionStatus.CLOSING, ts=run.clock.now(),
                changes=PositionChanges(close_reason=CLOSE_REASON))
        marked.append(pos)
    run.positions = marked


def _describe(o: OrderState) -> str:
    return (f"{o.inst_id} {o.side.value} {o.remaining.normalize():f}"
            f"{'' if o.raw is None else ' @ ' + str(o.raw.get('px') or 'market')}"
            f" ({o.client_order_id or o.venue_order_id})")


async def _cancel_orders(run: _Run) -> None:
    orders = list(await run.venue.open_orders())
    if not orders:
        return
    intent = await run.intent("cancel", {"orders": [
        {"inst_id": o.inst_id, "venue_order_id": o.venue_order_id,
         "client_order_id": o.client_order_id, "side": o.side.value, "size": str(o.size)}
        for o in orders]})
    errors = []
    for o in orders:
        try:
            await run.venue.cancel_venue_order(o.inst_id, o.venue_order_id)
            run.report.canceled.append(_describe(o))
        except ExchangeError as e:
            errors.append(f"{o.inst_id} {o.venue_order_id}: {e}")
    remaining: Sequence[OrderState] = orders
    for _ in range(run.params.cancel_checks):  # OKX cancels asynchronously
        remaining = await run.venue.open_orders()
        if not remaining:
            break
        await run.clock.sleep(run.params.poll_seconds)
    if remaining:
        run.report.left.append(f"{len(remaining)} order(s) still resting: "
                               + ", ".join(_describe(o) for o in remaining))
    await run.finish(intent, errors)
    await _record_canceled(run, orders)


async def _record_canceled(run: _Run, orders: Sequence[OrderState]) -> None:
    """Orders the database knows get their final state stored."""
    if run.store is None:
        return
    for o in orders:
        known = await run.store.get_order(o.client_order_id) if o.client_order_id else None
        if known is None:
            continue
        try:
            state = await run.venue.get_order(o.inst_id, o.client_order_id)
        except ExchangeError as e:
            log.warning("state of canceled order %s unreadable: %s", o.client_order_id, e)
            continue
        if state is not None:
            await run.store.upsert_order(OrderUpdate(
                client_order_id=known.client_order_id, inst_id=known.inst_id, side=known.side,
                ord_type=known.ord_type, size=known.size, state=state.status.value,
                ts=run.clock.now(), venue_order_id=state.venue_order_id,
                filled_size=state.filled, avg_px=state.avg_px, fee=state.fee,
                fee_ccy=state.fee_ccy, raw=state.raw))


# ---------------------------------------------------------------------- 2. Simple Earn
async def _redeem_earn(run: _Run) -> dict[str, Decimal]:
    """Redeem everything and wait for it; returns what is still on its way, by currency."""
    earn = {c: a for c, a in (await run.venue.earn_balances()).items() if a > 0}
    if not earn:
        return {}
    before = {b.ccy: b.total for b in await run.venue.balances("funding")}
    pending: dict[str, Decimal] = {}
    failed: dict[str, str] = {}
    for _ in range(3):  # interest credited meanwhile (hourly) is redeemed in the next pass
        intent = await run.intent("redeem", {"earn": {c: str(a) for c, a in earn.items()}})
        errors = []
        for ccy, amount in sorted(earn.items()):
            try:
                await run.venue.earn_redeem(ccy, amount)
                pending[ccy] = pending.get(ccy, ZERO) + amount
            except OutcomeUnknown as e:  # the balance tells whether it went through
                still = (await run.venue.earn_balances()).get(ccy, ZERO)
                if still < amount:
                    pending[ccy] = pending.get(ccy, ZERO) + amount - still
                else:
                    errors.append(f"{ccy}: {e}")
            except ExchangeError as e:
                errors.append(f"{ccy}: {e}")
                failed[ccy] = str(e)
        await run.finish(intent, errors)
        earn = {c: a for c, a in (await run.venue.earn_balances()).items()
                if a > 0 and c not in failed}
        if not earn:
            break
    run.report.redeemed.update(pending)
    for ccy, error in failed.items():
        run.report.left.append(f"{ccy}: Simple Earn redemption failed: {error}")
    waited = 0.0
    while pending:
        funding = {b.ccy: b.total for b in await run.venue.balances("funding")}
        for ccy in list(pending):
            if funding.get(ccy, ZERO) >= before.get(ccy, ZERO) + pending[ccy]:
                del pending[ccy]
        if not pending or waited >= run.params.redeem_timeout_seconds:
            break
        await run.clock.sleep(run.params.poll_seconds)
        waited += run.params.poll_seconds
    for ccy, amount in pending.items():
        run.report.left.append(f"{amount.normalize():f} {ccy} redeemed from Simple Earn is "
                               f"not back after {waited:.0f} s (its perp hedge stays)")
    return pending


async def _coins_to_trading(run: _Run) -> None:
    """Coins in the funding account go to the trading account, where they can be sold."""
    for bal in await run.venue.balances("funding"):
        if bal.ccy == USDT or bal.available <= 0:
            continue
        if run.legs(bal.ccy) is None:
            run.report.untouched[bal.ccy] = bal.available
            continue
        client_id = uuid.uuid4().hex
        intent = await run.intent("transfer", {"transfer": {
            "ccy": bal.ccy, "amount": str(bal.available), "from": "funding", "to": "trading",
            "client_id": client_id}})
        try:
            await run.venue.transfer(bal.ccy, bal.available, "funding", "trading", client_id)
        except OutcomeUnknown as e:
            if await settle_transfer(run.venue, run.clock, client_id) != "success":
                run.report.left.append(f"{bal.ccy}: transfer to trading unknown: {e}")
                continue  # the intent stays open: the bot's recovery asks again
        except ExchangeError as e:
            run.report.left.append(f"{bal.ccy}: transfer to trading failed: {e}")
            await run.finish(intent, [str(e)])
            continue
        run.report.moved_to_trading[bal.ccy] = bal.available
        await run.finish(intent, [])


# ---------------------------------------------------------------------- 3. both legs
async def _close_coins(run: _Run, in_transit: Mapping[str, Decimal]) -> None:
    balances = await run.venue.balances()
    perps = [p for p in await run.venue.positions() if p.contracts != 0]
    coins = {p.inst_id.split("-")[0] for p in perps}
    for bal in balances:
        if bal.ccy != USDT and (bal.total != 0 or bal.liability > 0):
            coins.add(bal.ccy)
    for index, ccy in enumerate(sorted(coins)):
        legs = run.legs(ccy)
        if legs is None:
            held = next((b for b in balances if b.ccy == ccy), None)
            if held is not None and held.liability > 0:
                run.report.left.append(f"{ccy}: owes {held.liability} but has no USDT spot "
                                       f"and swap to close it through")
            elif any(p.inst_id.startswith(f"{ccy}-") for p in perps):
                run.report.left.append(f"{ccy}: a perp without a known spot pair")
            elif held is not None:
                run.report.untouched[ccy] = held.total
            continue
        try:
            coin = await _close_coin(run, ccy, *legs, index, in_transit.get(ccy, ZERO))
        except LaicaiError as e:
            log.exception("close-all: %s failed", ccy)
            run.report.left.append(f"{ccy}: {e}")
            continue
        run.report.coins.append(coin)
        if coin.left:
            run.report.left.append(f"{ccy}: {coin.left}")


def _legs_done(exp: Exposure, spot: Instrument, swap: Instrument, keep: Decimal) -> bool:
    spot_done = ZERO <= exp.coin < spot.min_size
    return spot_done and abs(exp.contracts - keep) < swap.min_size


def _sign(x: Decimal) -> Decimal:
    return Decimal(1) if x > 0 else Decimal(-1)


def step_targets(exp: Exposure, spot: Instrument, swap: Instrument, keep: Decimal,
                 step: Decimal) -> Targets:
    """Where one step takes the legs (coin -> 0, perp -> ``keep`` contracts): the larger
    leg shrinks by ``step``, the smaller one only down to the larger one's new size, so the
    legs converge and then fall together; neither moves further than ``step`` (base)."""
    ct = swap.contract_value
    spot_done = ZERO <= exp.coin < spot.min_size
    perp_done = abs(exp.contracts - keep) < swap.min_size
    s, p = exp.coin, exp.perp_base - keep * ct
    a = ZERO if spot_done else abs(s)
    b = ZERO if perp_done else abs(p)
    if a > 0 and b > 0 and (s > 0) != (p > 0):  # a hedge: shrink the larger leg first
        if a >= b:
            a2 = max(a - step, ZERO)
            b2 = min(b, a2)
        else:
            b2 = max(b - step, ZERO)
            a2 = min(a, b2)
    else:  # legs on the same side, or one already flat: each only reduces exposure
        a2, b2 = max(a - step, ZERO), max(b - step, ZERO)
    coin = exp.coin if spot_done else _sign(s) * a2
    contracts = (exp.contracts if perp_done else
                 keep + _sign(p) * round_to_step(b2 / ct, swap.lot_size, ROUND_DOWN))
    return Targets(coin=coin, contracts=contracts, coin_base=coin + contracts * ct)


async def _price(venue: TradingExchange, *instruments: Instrument) -> Decimal:
    for inst in instruments:
        try:
            book = await venue.order_book(inst.inst_id, 5)
        except ExchangeError as e:
            log.warning("close-all: no book of %s: %s", inst.inst_id, e)
            continue
        px = book.mid or book.best_bid or book.best_ask
        if px:
            return px
    return ZERO


async def _close_coin(run: _Run, ccy: str, spot: Instrument, swap: Instrument, index: int,
                      in_transit: Decimal) -> CoinReport:
    driver = HedgeDriver(run.venue, run.runner, run.journal, spot=spot, swap=swap,
                         spot_fee_rate=run.spot_fee_rate, max_rounds=run.params.max_rounds)
    exp = await driver.exposure()
    coin = CoinReport(ccy, exp.coin, exp.contracts)
    # the perp that hedges coin still on its way back from Simple Earn stays open
    keep = ZERO
    if in_transit > 0 and exp.contracts < 0:
        keep = -min(round_to_step(in_transit / swap.contract_value, swap.lot_size,
                                  ROUND_HALF_UP), -exp.contracts)
    if not _legs_done(exp, spot, swap, keep):
        exp = await _step_down(run, driver, coin, exp, keep, index)
    coin.spot_after, coin.perp_after = exp.coin, exp.contracts
    naked = abs(exp.coin + in_transit + exp.perp_base)
    px = await _price(run.venue, spot, swap) if naked > driver.tolerance else ZERO
    if naked * px > run.params.max_naked_usd:
        detail = "close-all left the legs apart"
        coin.left = f"{coin.left}; {detail}" if coin.left else detail
        pid = run.position_of(ccy)
        if pid is not None:  # an alert belongs to a stored position; the report says it all
            _emit(run, NakedExposureAlert(run.clock.now(), pid, ccy, naked * px, exp.coin,
                                          exp.perp_base, detail))
        log.error("close-all: %s legs apart by %s (%s USDT)", ccy, naked, naked * px)
    return coin


async def _step_down(run: _Run, driver: HedgeDriver, coin: CoinReport, exp: Exposure,
                     keep: Decimal, index: int) -> Exposure:
    spot, swap = driver.spot, driver.swap
    px = await _price(run.venue, spot, swap)
    floor = max(swap.min_size * swap.contract_value,
                round_to_step(spot.min_size, swap.base_step, ROUND_UP))
    step = max(round_to_step(run.params.step_usdt / px, swap.base_step, ROUND_DOWN)
               if px > 0 else exp.coin.copy_abs() + abs(exp.perp_base), floor)
    position_id = run.position_of(coin.ccy)
    used: set[str] = set()
    total = LegLog()
    rounds = 2 * run.params.max_rounds + 1
    for n in range(run.params.max_steps):
        targets = step_targets(exp, spot, swap, keep, step)
        log_ = LegLog()
        after = await driver.drive(position_id=position_id, op="closeall", targets=targets,
                                   log_=log_, seq0=n * rounds, price_hint=px or Decimal(1),
                                   max_naked_usd=run.params.max_naked_usd, start=exp,
                                   order_key=run.key * 1000 + index, used=used)
        total.states.extend(log_.states)
        coin.steps += 1
        moved, exp = after != exp, after
        if log_.dead:
            coin.left = "; ".join(f"{leg} leg stopped: {why}" for leg, why in log_.dead.items())
            break
        if _legs_done(exp, spot, swap, keep):
            break
        if not moved:
            coin.left = "no leg could move"
            break
    else:
        coin.left = f"not flat after {run.params.max_steps} steps"
    coin.orders = len(total.states)
    coin.fees_usdt = total.fees_usdt(spot)
    coin.spot_px = total.avg_px("spot", Side.SELL if coin.spot_before > 0 else Side.BUY)
    coin.perp_px = total.avg_px("perp", Side.BUY if coin.perp_before < 0 else Side.SELL)
    return exp


# ---------------------------------------------------------------------- 4. loans
async def _repay_loans(run: _Run) -> None:
    for bal in await run.venue.balances():
        if bal.liability <= 0:
            continue
        ccy = bal.ccy
        for _ in range(3):  # interest first, then principal; a little may accrue meanwhile
            owed = await run.venue.liability(ccy)
            if owed <= 0:
                break
            have = next((b.available for b in await run.venue.balances() if b.ccy == ccy),
                        ZERO)
            amount = min(owed, have)
            if amount <= 0:
                break
            intent = await run.intent("repay", {"ccy": ccy, "amount": str(amount)},
                                      run.position_of(ccy))
            try:
                await run.venue.repay(ccy, amount)
            except ExchangeError as e:
                await run.finish(intent, [str(e)])
                break
            await run.finish(intent, [])
            run.report.repaid[ccy] = run.report.repaid.get(ccy, ZERO) + amount


# ---------------------------------------------------------------------- 5. what is left
async def _check_flat(run: _Run, in_transit: Mapping[str, Decimal]) -> set[str]:
    """Read the account once more: everything not flat goes to ``left`` (once), dust to
    ``dust``. Returns the coins that are not flat."""
    report, left = run.report, set()
    mentioned = " ".join(report.left)

    def note(ccy: str, what: str) -> None:
        left.add(ccy)
        if what not in mentioned:
            report.left.append(what)

    for p in await run.venue.positions():
        if p.contracts != 0:
            note(p.inst_id.split("-")[0], f"{p.inst_id}: {p.contracts} contracts open")
    for ccy, amount in (await run.venue.earn_balances()).items():
        if amount > 0:
            note(ccy, f"{amount.normalize():f} {ccy} in Simple Earn")
    for ccy in in_transit:
        left.add(ccy)
    for bal in await run.venue.balances():
        legs = run.legs(bal.ccy)
        if bal.ccy == USDT:
            if bal.liability > 0:
                note(USDT, f"owes {bal.liability.normalize():f} USDT")
            continue
        if bal.liability > 0:
            note(bal.ccy, f"owes {bal.liability.normalize():f} {bal.ccy}")
        elif legs is None:
            if bal.total != 0:
                report.untouched[bal.ccy] = bal.total
        elif abs(bal.total) >= legs[0].min_size:
            note(bal.ccy, f"holds {bal.total.normalize():f} {bal.ccy}")
        elif bal.total != 0:
            report.dust[bal.ccy] = bal.total
    return left


async def _close_positions(run: _Run, open_coins: set[str]) -> None:
    """The database's positions on coins that are now flat: CLOSED (or FAILED for an open
    that never finished), with exit prices, PnL and fees."""
    assert run.store is not None
    coins = {c.ccy: c for c in run.report.coins}
    charged: set[str] = set()  # a coin's fees go to its first position only
    for pos in run.positions:
        if pos.symbol in open_coins:
            continue
        coin = coins.get(pos.symbol)
        fees = coin.fees_usdt if coin is not None and pos.symbol not in charged else ZERO
        charged.add(pos.symbol)
        legs = run.legs(pos.symbol)
        exit_spot = coin.spot_px if coin is not None else None
        exit_perp = coin.perp_px if coin is not None else None
        if legs is not None and (exit_spot is None or exit_perp is None):
            exit_spot = exit_spot or await _price(run.venue, legs[0])
            exit_perp = exit_perp or await _price(run.venue, legs[1])
        exit_spot, exit_perp = exit_spot or ZERO, exit_perp or ZERO
        loan = ZERO if pos.direction is Direction.LONG else None
        if pos.status is PositionStatus.OPENING:
            await run.store.transition_position(pos.id, PositionStatus.FAILED,
                                                ts=run.clock.now(), changes=PositionChanges(
                close_reason=CLOSE_REASON, total_trade_fee=pos.total_trade_fee + fees,
                borrowed_amount=loan))
        else:
            if pos.status is not PositionStatus.CLOSING:  # e.g. closed by hand meanwhile
                continue
            pnl = basis_pnl(pos, exit_spot, exit_perp) - pos.total_trade_fee - fees
            earn = (SpotEarningStatus.REDEEMED
                    if pos.spot_earning_status is SpotEarningStatus.SUBSCRIBED else None)
            await run.store.transition_position(pos.id, PositionStatus.CLOSED,
                                                ts=run.clock.now(), changes=PositionChanges(
                exit_spot_price=exit_spot, exit_swap_price=exit_perp,
                total_trade_fee=pos.total_trade_fee + fees, pnl_usd=pnl,
                close_reason=CLOSE_REASON, borrowed_amount=loan, spot_earning_status=earn,
                earn_amount=ZERO if earn is not None else None))
            _emit(run, CarryClosed(run.clock.now(), pos.id, pos.symbol, CLOSE_REASON,
                                   exit_spot, exit_perp, pnl, fees))
        run.report.positions_closed.append(pos.id)
