"""Driving two legs to target exposures together, and repairing whatever goes wrong.

Every operation (open, close, reset, unwind) is expressed as targets for the coin held in the
trading account and for the perp position; rounds of concurrent orders move both legs toward
them. A leg the venue refuses for good (rejected, insufficient funds) is dead for the
operation: the live leg's target is then moved to match what the dead leg achieved, so the
hedge shrinks (or unwinds to flat) instead of staying naked. Exposure is read back from the
venue after every round — fees charged in coin, partial fills and late fills of an order whose
answer was lost are all in the balance, whatever the order reports said.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_HALF_UP, Decimal

from laicai.domain.enums import Side
from laicai.domain.instrument import Instrument, round_to_step
from laicai.domain.orders import OrderRequest, OrderState, OrderType
from laicai.execution.ids import client_order_id
from laicai.execution.orders import OrderRunner, OrderStore, SendResult
from laicai.venues.port import TradingExchange

log = logging.getLogger(__name__)
ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class Exposure:
    """Coin equity in the trading account (held minus owed) and the perp position."""

    coin: Decimal
    coin_available: Decimal
    contracts: Decimal  # signed
    perp_base: Decimal  # signed base of the perp

    @property
    def net_base(self) -> Decimal:
        return self.coin + self.perp_base


@dataclass(slots=True)
class Targets:
    """Where the legs should end: coin equity and perp contracts. ``coin_base`` is the coin
    equity that belongs to no carry (dust from before), so the hedge is matched when
    ``coin - coin_base + perp base == 0``."""

    coin: Decimal
    contracts: Decimal  # signed
    coin_base: Decimal = ZERO


@dataclass(slots=True)
class LegLog:
    """What one operation did on both legs: every order state, and which leg died."""

    states: list[tuple[str, OrderState]] = field(default_factory=list)  # (leg, state)
    dead: dict[str, str] = field(default_factory=dict)  # leg -> reason
    rounds: int = 0
    repaired: list[tuple[str, str, Decimal]] = field(default_factory=list)

    def avg_px(self, leg: str, side: Side) -> Decimal | None:
        qty = notional = ZERO
        for name, s in self.states:
            if name == leg and s.side is side and s.filled > 0 and s.avg_px is not None:
                qty += s.filled
                notional += s.filled * s.avg_px
        return notional / qty if qty else None

    def fees_usdt(self, spot: Instrument) -> Decimal:
        total = ZERO
        for _, s in self.states:
            if not s.fee:
                continue
            if s.fee_ccy == spot.base and s.avg_px is not None:
                total += s.fee * s.avg_px
            else:
                total += s.fee
        return total

    def slippage_usdt(self, spot_mid: Decimal, perp_mid: Decimal, swap: Instrument) -> Decimal:
        """What the fills paid against the given mid prices (spread plus depth walked)."""
        total = ZERO
        for name, s in self.states:
            if s.filled <= 0 or s.avg_px is None:
                continue
            mid = perp_mid if name == "perp" else spot_mid
            unit = swap.contract_value if name == "perp" else Decimal(1)
            worse = s.avg_px - mid if s.side is Side.BUY else mid - s.avg_px
            total += worse * s.filled * unit
        return total

    def cash_flow_usdt(self, spot: Instrument, swap: Instrument) -> Decimal:
        """USDT in (+) and out (-) of every fill, fees included: a flat round trip's PnL."""
        flow = ZERO
        for name, s in self.states:
            if s.filled <= 0 or s.avg_px is None:
                continue
            unit = swap.contract_value if name == "perp" else Decimal(1)
            value = s.filled * unit * s.avg_px
            flow += value if s.side is Side.SELL else -value
        return flow - self.fees_usdt(spot)


class HedgeDriver:
    """Moves a carry's two legs to targets, round by round, for one position."""

    def __init__(self, venue: TradingExchange, runner: OrderRunner, store: OrderStore, *,
                 spot: Instrument, swap: Instrument, spot_fee_rate: Decimal,
                 max_rounds: int = 4, on_round: Callable[[int], Awaitable[None]] | None = None
                 ) -> None:
        self.venue = venue
        self.runner = runner
        self.store = store
        self.spot = spot
        self.swap = swap
        self.spot_fee_rate = spot_fee_rate
        self.max_rounds = max_rounds
        self.on_round = on_round
        self.rate_limit_backoff_s = 0.5

    @property
    def tolerance(self) -> Decimal:
        """Base quantity below which the legs count as matched: one lot of either leg."""
        return max(self.spot.base_step, self.swap.base_step)

    async def exposure(self) -> Exposure:
        balances = await self.venue.balances()
        coin = next((b for b in balances if b.ccy == self.spot.base), None)
        positions = await self.venue.positions()
        pos = next((p for p in positions if p.inst_id == self.swap.inst_id), None)
        contracts = pos.contracts if pos else ZERO
        return Exposure(coin=coin.total if coin else ZERO,
                        coin_available=coin.available if coin else ZERO,
                        contracts=contracts, perp_base=contracts * self.swap.contract_value)

    def _spot_order(self, delta: Decimal, available: Decimal) -> tuple[Side, Decimal] | None:
        """Spot order that changes coin equity by ``delta``: buys are grossed up for the fee
        OKX charges in the coin, and never below the minimum size (a shortfall too small to
        buy, e.g. the interest on a loan, would otherwise stay owed for good: the excess is
        dust); sells never exceed the coin available."""
        if delta > 0:
            gross = delta / (1 - self.spot_fee_rate)
            size = max(round_to_step(gross, self.spot.lot_size, ROUND_CEILING),
                       self.spot.min_size)
            side = Side.BUY
        else:
            size = round_to_step(min(-delta, max(available, ZERO)), self.spot.lot_size,
                                 ROUND_DOWN)
            side = Side.SELL
        return (side, size) if size >= self.spot.min_size else None

    def _perp_order(self, delta_contracts: Decimal, current: Decimal
                    ) -> tuple[Side, Decimal, bool] | None:
        size = round_to_step(abs(delta_contracts), self.swap.lot_size, ROUND_HALF_UP)
        if size < self.swap.min_size:
            return None
        side = Side.BUY if delta_contracts > 0 else Side.SELL
        # reducing towards zero without crossing it: reduce-only, so a late fill can never
        # turn a close into a new position the other way
        reduce = current != 0 and (current > 0) != (delta_contracts > 0) and size <= abs(current)
        return side, size, reduce

    async def drive(self, *, position_id: int | None, op: str, targets: Targets,
                    log_: LegLog, seq0: int = 0, spot_td_mode: str = "cash",
                    price_hint: Decimal, max_naked_usd: Decimal, start: Exposure | None = None,
                    order_key: int | None = None, used: set[str] | None = None) -> Exposure:
        """Round after round of concurrent orders until both legs sit at their targets (within
        a lot), or no leg can move. Returns the final exposure. ``start``: the exposure just
        read by the caller (saves a read: OKX allows 10 balance reads per 2 s).

        Client order ids are built from ``order_key`` (default: the position id) and never
        repeat one in ``used`` (default: every id the position's stored orders have had).
        ``position_id`` None: orders of no stored position (close-all on an unknown coin)."""
        exp = start if start is not None else await self.exposure()
        key = order_key if order_key is not None else position_id
        if key is None:
            raise ValueError("drive needs a position id or an order key for the client ids")
        if used is None:
            used = (await self.used_client_order_ids(position_id) if position_id is not None
                    else set())
        for rnd in range(2 * self.max_rounds):
            if rnd == self.max_rounds and not self._stop_lagging_leg(targets, exp, log_):
                break  # out of rounds, the legs short of their targets but matched
            seq = seq0 + rnd
            coin_gap = targets.coin - exp.coin
            contract_gap = targets.contracts - exp.contracts
            spot_move = (None if "spot" in log_.dead or abs(coin_gap) <= self.spot.base_step / 2
                         else self._spot_order(coin_gap, exp.coin_available))
            perp_move = (None if "perp" in log_.dead
                         or abs(contract_gap) * self.swap.contract_value <= self.tolerance / 2
                         else self._perp_order(contract_gap, exp.contracts))
            if spot_move is None and perp_move is None:
                break
            requests: list[tuple[str, OrderRequest]] = []
            if spot_move is not None:
                side, size = spot_move
                requests.append(("spot", OrderRequest(
                    self.fresh_client_order_id(used, key, op, seq, "spot"),
                    self.spot.inst_id, side, OrderType.MARKET, size, spot_td_mode)))
            if perp_move is not None:
                side, size, reduce = perp_move
                requests.append(("perp", OrderRequest(
                    self.fresh_client_order_id(used, key, op, seq, "perp"),
                    self.swap.inst_id, side, OrderType.MARKET, size, "cross",
                    reduce_only=reduce)))
            entry_id = await self.journal(f"{op}.round{rnd}", requests, targets, position_id)
            for _, r in requests:  # store writes first: the two sends leave together
                await self.runner.record_pending(r, position_id=position_id,
                                                 journal_id=entry_id)
            results: list[SendResult] = await asyncio.gather(*(
                self.runner.send(r, position_id=position_id, journal_id=entry_id,
                                 recorded=True)
                for _, r in requests))
            failed = []
            for (leg, _), res in zip(requests, results, strict=True):
                if res.state is not None:
                    log_.states.append((leg, res.state))
                elif not res.retryable:
                    log_.dead[leg] = res.error
                    failed.append(f"{leg}: {res.error}")
            if rnd > 0:
                for leg, r in requests:
                    log_.repaired.append((leg, op, r.size))
            log_.rounds += 1
            await self.journal_done(entry_id, failed)
            if any(r.rate_limited for r in results):  # back off before the next round
                await self.runner.clock.sleep(self.rate_limit_backoff_s * 2 ** rnd)
            exp = await self.exposure()
            self._retarget_for_dead_legs(targets, exp, log_)
            if self.on_round is not None:
                await self.on_round(rnd)
        naked = self.naked_base(exp, targets)
        if naked * price_hint > max_naked_usd:
            log.warning("position %s: %s left %s %s unhedged after %d rounds", position_id, op,
                        naked, self.spot.base, log_.rounds)
        return exp

    async def used_client_order_ids(self, position_id: int) -> set[str]:
        """Every client order id the position's orders have had (one read of the store)."""
        return {o.client_order_id for o in await self.store.list_orders(position_id)}

    @staticmethod
    def fresh_client_order_id(used: set[str], position_id: int, op: str, seq: int,
                              leg: str) -> str:
        """The client order id of a leg's order in round ``seq`` of ``op``: attempt 0, or the
        next attempt not in ``used`` (which it joins). An operation run again (a close that
        stopped and is called once more, a resumed reset) reaches the same round numbers with
        other sizes and sides; reusing an id would make the venue refuse the new order as a
        duplicate (51016) and the runner adopt the earlier order in its place."""
        attempt = 0
        while (cid := client_order_id(position_id, op, seq, leg, attempt)) in used:
            attempt += 1
        used.add(cid)
        return cid

    async def journal(self, operation: str, requests: list[tuple[str, OrderRequest]],
                      targets: Targets, position_id: int | None) -> int:
        """Write the intent (every order of the batch with its client id) before sending."""
        entry = await self.store.add_intent(
            operation,
            {"legs": [{"leg": leg, "client_order_id": r.client_order_id, "inst_id": r.inst_id,
                       "side": r.side.value, "type": r.type.value, "size": str(r.size),
                       "price": None if r.price is None else str(r.price),
                       "reduce_only": r.reduce_only} for leg, r in requests],
             "targets": {"coin": str(targets.coin), "contracts": str(targets.contracts)}},
            ts=self.runner.clock.now(), position_id=position_id)
        await self.store.mark_intent_sent(entry.id, ts=self.runner.clock.now())
        return entry.id

    async def journal_done(self, entry_id: int, failed: list[str]) -> None:
        if failed:
            await self.store.mark_intent_failed(entry_id, "; ".join(failed),
                                                ts=self.runner.clock.now())
        else:
            await self.store.mark_intent_done(entry_id, ts=self.runner.clock.now())

    def naked_base(self, exp: Exposure, targets: Targets) -> Decimal:
        """Base quantity held on one leg without its hedge on the other."""
        return abs(exp.coin - targets.coin_base + exp.perp_base)

    def _stop_lagging_leg(self, targets: Targets, exp: Exposure, log_: LegLog) -> bool:
        """The rounds ran out (rate limits, unknown outcomes, partial fills) with one leg ahead
        of the other: the leg further from its target stops where it is, as a dead leg would,
        and the other gets as many rounds again to follow it back. False when the legs already
        match (nothing is naked): then the operation simply ends short. When a leg is dead
        already, the live one is the follower: it just gets the rounds."""
        if self.naked_base(exp, targets) <= self.tolerance:
            return False
        if log_.dead:
            return True
        spot_gap = abs(targets.coin - exp.coin)
        perp_gap = abs(targets.contracts - exp.contracts) * self.swap.contract_value
        lagging = "spot" if spot_gap > perp_gap else "perp"
        log_.dead[lagging] = f"short of its target after {self.max_rounds} rounds"
        self._retarget_for_dead_legs(targets, exp, log_)
        return True

    def _retarget_for_dead_legs(self, targets: Targets, exp: Exposure, log_: LegLog) -> None:
        """A leg that cannot move stays where it is: the other leg's target follows it, so
        the hedge shrinks (or unwinds) instead of staying naked."""
        if "spot" in log_.dead and "perp" not in log_.dead:
            targets.coin = exp.coin
            targets.contracts = round_to_step(-(exp.coin - targets.coin_base)
                                              / self.swap.contract_value,
                                              self.swap.lot_size, ROUND_HALF_UP)
        elif "perp" in log_.dead and "spot" not in log_.dead:
            targets.contracts = exp.contracts
            targets.coin = targets.coin_base - exp.perp_base
