"""Synthetic L2 order books that follow the scenario's price path.

A book is rebuilt around the current mid whenever the mid moves or ``refresh_ms`` has passed
(liquidity taken by our orders comes back then, as it does on a real venue). Between rebuilds
taker orders deplete it level by level, so a second order walks deeper than the first.
Swap sizes are in contracts, spot sizes in base currency, as OKX sends them.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_FLOOR, Decimal

from laicai.sim.instruments import SimInstrument
from laicai.sim.market import BookShape

_BPS = Decimal(10000)
Level = list[Decimal]  # [price, size]


# The rounding mode is passed positionally: the same call, without the cost of keyword
# parsing in C (a book rebuild makes a hundred of these).
def round_down(x: Decimal, step: Decimal) -> Decimal:
    return (x / step).to_integral_value(ROUND_DOWN) * step


def _floor(x: Decimal, step: Decimal) -> Decimal:
    return (x / step).to_integral_value(ROUND_FLOOR) * step


def _ceil(x: Decimal, step: Decimal) -> Decimal:
    return (x / step).to_integral_value(ROUND_CEILING) * step


class L2Book:
    """Bids (best first, descending) and asks (best first, ascending) of one instrument."""

    __slots__ = ("asks", "bids", "built_ms", "checked_ms", "inst", "mid", "seq_id", "shape",
                 "ts_ms")

    def __init__(self, inst: SimInstrument, shape: BookShape) -> None:
        self.inst = inst
        self.shape = shape
        self.bids: list[Level] = []
        self.asks: list[Level] = []
        self.mid = Decimal(0)
        self.seq_id = 0
        self.ts_ms = 0
        self.built_ms = -1
        self.checked_ms = -1  # when the mid was last compared with the price path

    def rebuild(self, mid: Decimal, ts_ms: int) -> None:
        """Lay out fresh levels around ``mid``."""
        inst, shape = self.inst, self.shape
        tick, lot = inst.tick_sz, inst.lot_sz
        half = mid * shape.spread_bps / _BPS / 2
        best_bid = _floor(mid - half, tick)
        best_ask = _ceil(mid + half, tick)
        if best_ask <= best_bid:
            best_ask = best_bid + tick
        if best_bid <= 0:
            best_bid = tick
            best_ask = max(best_ask, best_bid + tick)
        step = max(tick, _floor(mid * shape.level_step_bps / _BPS, tick))
        unit = inst.ct_val if inst.is_swap else Decimal(1)
        bids: list[Level] = []
        asks: list[Level] = []
        notional = shape.level_notional_usdt
        growth = shape.growth
        # round_down() and max(lot, .) inlined: this loop is most of a rebuild's cost.
        for i in range(shape.levels):
            offset = step * i
            bp = best_bid - offset
            ap = best_ask + offset
            if bp > 0:
                bsz = (notional / (bp * unit) / lot).to_integral_value(ROUND_DOWN) * lot
                bids.append([bp, bsz if bsz > lot else lot])
            asz = (notional / (ap * unit) / lot).to_integral_value(ROUND_DOWN) * lot
            asks.append([ap, asz if asz > lot else lot])
            notional *= growth
        self.bids, self.asks = bids, asks
        self.mid = mid
        self.built_ms = ts_ms
        self.ts_ms = ts_ms
        self.seq_id += 1

    def best_bid(self) -> Decimal | None:
        return self.bids[0][0] if self.bids else None

    def best_ask(self) -> Decimal | None:
        return self.asks[0][0] if self.asks else None

    def take(
        self,
        side: str,
        qty: Decimal,
        limit_px: Decimal | None = None,
        quote_budget: bool = False,
        dry: bool = False,
    ) -> list[tuple[Decimal, Decimal]]:
        """Consume liquidity for a taker on ``side`` ("buy" walks asks, "sell" walks bids).

        ``qty`` is in book units (contracts / base); with ``quote_budget`` it is an amount of
        quote currency to spend (spot market buy with tgtCcy=quote_ccy). Stops at
        ``limit_px``. Returns the fills as (price, size) and removes what was taken, unless
        ``dry`` (a look at what the order would get).
        """
        levels = self.asks if side == "buy" else self.bids
        fills: list[tuple[Decimal, Decimal]] = []
        remaining = qty
        lot = self.inst.lot_sz
        i = 0
        n = len(levels)
        while remaining > 0 and i < n:
            lvl = levels[i]
            px = lvl[0]
            if limit_px is not None and (px > limit_px if side == "buy" else px < limit_px):
                break
            avail = lvl[1]
            if quote_budget:
                want = round_down(remaining / px, lot)
                if want <= 0:
                    break
                got = avail if avail <= want else want
                remaining -= got * px
            else:
                got = avail if avail <= remaining else remaining
                remaining -= got
            fills.append((px, got))
            if got == avail:
                i += 1
            elif not dry:
                lvl[1] = avail - got
            else:
                break
        if dry:
            return fills
        if i:
            del levels[:i]
        if fills:
            self.seq_id += 1
        return fills

    def available(self, side: str, limit_px: Decimal | None) -> Decimal:
        """Size a taker on ``side`` could fill up to ``limit_px``."""
        levels = self.asks if side == "buy" else self.bids
        total = Decimal(0)
        for px, sz in levels:
            if limit_px is not None and (px > limit_px if side == "buy" else px < limit_px):
                break
            total += sz
        return total

    def snapshot(self, depth: int) -> tuple[list[Level], list[Level]]:
        return [lv[:] for lv in self.asks[:depth]], [lv[:] for lv in self.bids[:depth]]
