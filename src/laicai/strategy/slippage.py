"""Walking an L2 book for a market order: VWAP, slippage, or an explicit lack of depth.

ARCHITECTURE.md: the *slippage* of a market order of size q is (VWAP of q walked through the
book - best price) / best price, on the side the order takes. A buy takes the asks and its VWAP
is at or above the best ask; a sell takes the bids and its VWAP is at or below the best bid. We
report the adverse distance, so slippage is never negative for either side:
``(vwap - best) / best`` for a buy and ``(best - vwap) / best`` for a sell.

Book sizes are in the instrument's order units (contracts of ``contract_value`` base for swaps,
base for spot). The walk runs in those units - the wanted base quantity is converted once, not
every level - and stops at the level that completes the order, so its cost follows the depth
taken, not the depth of the book. Slippage is measured from the touch: crossing the bid/ask
spread itself is not slippage (see :mod:`laicai.strategy.costs`, where it is counted once).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from laicai.domain.enums import Side
from laicai.domain.market import OrderBook

ZERO = Decimal(0)
ONE = Decimal(1)

Level = tuple[Decimal, Decimal]


@dataclass(frozen=True, slots=True)
class Fill:
    """A market order of ``base_qty`` that the book can fill completely."""

    side: Side
    base_qty: Decimal
    vwap: Decimal
    best_px: Decimal
    worst_px: Decimal  # price of the last level taken
    levels_taken: int
    notional_quote: Decimal  # sum of price x base over the levels taken (= vwap x base_qty)
    slippage: Decimal  # adverse (vwap - best) / best on the side taken; >= 0

    @property
    def slippage_cost_quote(self) -> Decimal:
        """What the depth beyond the touch cost, in quote currency: |vwap - best| x base,
        computed from the exact notional (no rounded VWAP in it)."""
        at_best = self.best_px * self.base_qty
        spent = self.notional_quote
        return spent - at_best if self.side is Side.BUY else at_best - spent


@dataclass(frozen=True, slots=True)
class InsufficientDepth:
    """The whole side of the book holds less than the order: no VWAP, no slippage."""

    side: Side
    base_qty: Decimal  # what was wanted
    available_base: Decimal  # what every level together holds


WalkResult = Fill | InsufficientDepth


def side_levels(book: OrderBook, side: Side) -> tuple[Level, ...]:
    """The levels an order of ``side`` takes: a buy lifts the asks, a sell hits the bids."""
    return book.asks if side is Side.BUY else book.bids


def walk_levels(
    levels: Sequence[Level], side: Side, base_qty: Decimal, base_per_size: Decimal = ONE
) -> WalkResult:
    """Fill ``base_qty`` (base units) against ``levels`` (best first, sizes in order units of
    ``base_per_size`` base each, i.e. ``contract_value`` for swaps)."""
    if base_qty <= 0:
        raise ValueError(f"base_qty must be > 0, got {base_qty}")
    if base_per_size <= 0:
        raise ValueError(f"base_per_size must be > 0, got {base_per_size}")
    want = base_qty if base_per_size == ONE else base_qty / base_per_size
    remaining = want
    cost = ZERO
    taken = 0
    worst = ZERO
    for taken, (px, size) in enumerate(levels, 1):  # noqa: B007 - `taken` is read below
        if size >= remaining:  # this level completes the order: stop here
            cost += px * remaining
            worst = px
            break
        cost += px * size
        remaining -= size
    else:
        return InsufficientDepth(side, base_qty, (want - remaining) * base_per_size)
    best = levels[0][0]
    vwap = cost / want
    slip = (vwap - best) / best if side is Side.BUY else (best - vwap) / best
    notional = cost if base_per_size == ONE else cost * base_per_size
    return Fill(side, base_qty, vwap, best, worst, taken, notional, slip)


def walk_book(
    book: OrderBook, side: Side, base_qty: Decimal, base_per_size: Decimal = ONE
) -> WalkResult:
    """:func:`walk_levels` on the side of ``book`` that an order of ``side`` takes."""
    return walk_levels(side_levels(book, side), side, base_qty, base_per_size)
