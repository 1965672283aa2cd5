"""What a carry costs to open and close (seed 003 §1.3), in USDT and as a fraction.

Round trip = open + close, every trade a market (taker) order at the account's fee rates:

- SHORT (short perp + long spot) opens by buying spot (takes the spot asks) and selling the
  perp (takes the perp bids), and closes by selling spot (bids) and buying the perp (asks).
- LONG (long perp + short spot on borrowed coin) opens by selling spot (bids) and buying the
  perp (asks), and closes by buying spot (asks) to repay and selling the perp (bids).

The exit is estimated on the books as they are now. Three parts, each counted once:

1. **Fees**: taker rate x notional of each of the four trades. A spot *buy*'s fee is charged
   in the coin (OKX), so the buy is grossed up to leave the hedge's net coin
   (:func:`laicai.strategy.sizing.plan_size`); its fee is the value of the coin withheld,
   ``rate x gross qty x VWAP`` - counted here as a fee, and nowhere else.
2. **Slippage**: ``|VWAP - best| x qty`` of each trade - the depth walked *beyond the touch*
   (:mod:`laicai.strategy.slippage`), on the side each trade takes.
3. **Spread (basis) paid**: with ``basis = mid_perp - mid_spot`` and ``h`` a leg's half
   bid/ask spread, a SHORT opens by buying spot at the spot ask and selling the perp at the
   perp bid, paying ``ask_spot - bid_perp = h_spot + h_perp - basis`` per coin (it *receives*
   the basis), and closes by selling spot at the bid and buying the perp at the ask, paying
   ``ask_perp - bid_spot = h_spot + h_perp + basis_at_exit``. Its expected reversal: we assume
   the basis at exit equals the basis at entry (no convergence forecast, so neither a premium
   is booked as income nor a discount as a loss), so the basis cancels and the round trip pays
   each leg's bid/ask spread once: the sum over the four trades of ``qty x h`` of that leg,
   about ``q x (spread_spot + spread_perp)``. A LONG mirrors it. The entry basis is reported
   (:func:`entry_basis`), not booked. Slippage starts at the touch and the spread stops there,
   so nothing is counted twice.

Borrowing (LONG) is a holding cost that grows with time, not a round-trip cost: it enters the
net APR as the borrow APR (:func:`borrow_cost_usdt` gives the USDT over a holding period).
The cost fraction is over the hedge notional ``base_qty x spot mid``.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from laicai.domain.market import FeeRates
from laicai.strategy.slippage import Fill

DAYS_PER_YEAR = Decimal(365)
TWO = Decimal(2)


@dataclass(frozen=True, slots=True)
class Touch:
    """Best bid and ask of one leg."""

    bid: Decimal
    ask: Decimal

    @property
    def mid(self) -> Decimal:
        return (self.bid + self.ask) / TWO

    @property
    def half_spread(self) -> Decimal:
        return (self.ask - self.bid) / TWO


@dataclass(frozen=True, slots=True)
class RoundTripFills:
    """The four market orders of a carry's open and close, walked on the current books."""

    spot_entry: Fill
    perp_entry: Fill
    spot_exit: Fill
    perp_exit: Fill


@dataclass(frozen=True, slots=True)
class RoundTripCost:
    entry_fees_usdt: Decimal
    exit_fees_usdt: Decimal
    slippage_usdt: Decimal
    spread_usdt: Decimal
    notional_usdt: Decimal

    @property
    def fees_usdt(self) -> Decimal:
        return self.entry_fees_usdt + self.exit_fees_usdt

    @property
    def total_usdt(self) -> Decimal:
        return self.entry_fees_usdt + self.exit_fees_usdt + self.slippage_usdt + self.spread_usdt

    @property
    def fraction(self) -> Decimal:
        """Round-trip cost as a fraction of the hedge notional."""
        return self.total_usdt / self.notional_usdt


def hedge_notional_usdt(base_qty: Decimal, spot: Touch) -> Decimal:
    return base_qty * spot.mid


def entry_basis(spot: Touch, perp: Touch) -> Decimal:
    """Perp premium over spot at entry, ``(mid_perp - mid_spot) / mid_spot`` (informative)."""
    return (perp.mid - spot.mid) / spot.mid


def round_trip_cost(
    fills: RoundTripFills, spot: Touch, perp: Touch, fees: FeeRates, base_qty: Decimal
) -> RoundTripCost:
    """Fees, slippage and spread of opening and closing ``base_qty`` (see the module notes)."""
    spot_rate = fees.spot_taker
    swap_rate = fees.swap_taker
    entry_fees = (
        spot_rate * fills.spot_entry.notional_quote + swap_rate * fills.perp_entry.notional_quote
    )
    exit_fees = (
        spot_rate * fills.spot_exit.notional_quote + swap_rate * fills.perp_exit.notional_quote
    )
    slippage = (
        fills.spot_entry.slippage_cost_quote
        + fills.perp_entry.slippage_cost_quote
        + fills.spot_exit.slippage_cost_quote
        + fills.perp_exit.slippage_cost_quote
    )
    spot_qty = fills.spot_entry.base_qty + fills.spot_exit.base_qty
    perp_qty = fills.perp_entry.base_qty + fills.perp_exit.base_qty
    spread = spot.half_spread * spot_qty + perp.half_spread * perp_qty
    return RoundTripCost(
        entry_fees_usdt=entry_fees,
        exit_fees_usdt=exit_fees,
        slippage_usdt=slippage,
        spread_usdt=spread,
        notional_usdt=hedge_notional_usdt(base_qty, spot),
    )


def borrow_cost_usdt(notional_usdt: Decimal, borrow_apr: Decimal, holding_days: Decimal) -> Decimal:
    """Interest on the borrowed coin over ``holding_days`` (LONG); part of the net APR through
    the borrow APR, not of the round trip."""
    return notional_usdt * borrow_apr * holding_days / DAYS_PER_YEAR
