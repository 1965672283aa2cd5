"""How much to trade: capital per carry, dynamic sizing (seed 003 §9.1.1), and the base
quantity both legs can hold exactly.

Capital and notional. A carry of base quantity q at price p ties up the spot leg (q x p: the
coins bought for a SHORT; for a LONG the sale proceeds of the borrowed coins, kept as the loan's
collateral) plus the perp margin (q x p / leverage). ``capital`` USDT therefore buys a *leg
notional* of ``capital x L / (L + 1)``; ``account.max_position_value`` caps that leg notional.

Quantity. The perp base quantity and the spot coins held must match exactly, so the planned base
quantity is rounded DOWN to a multiple of both legs' base steps (the spot lot size, and the swap
lot times its contract value) and must reach both legs' minimum sizes.

Spot-buy fee in coin. OKX charges a spot buy's fee in the coin bought: buying g coins leaves
g x (1 - fee). The hedge is the net coin, so the spot buy is grossed up to the smallest lot
multiple g with g x (1 - fee) >= q (the excess, less than one spot lot, stays as dust). The same
holds for a LONG's exit, which buys the coin back to repay the loan. The fee itself is counted
once, as a fee, in :mod:`laicai.strategy.costs`; the gross-up only makes the hedge exact.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_UP, Decimal
from functools import lru_cache

from laicai.domain.enums import Direction
from laicai.domain.instrument import Instrument

ZERO = Decimal(0)
ONE = Decimal(1)


@lru_cache(maxsize=4096)
def common_base_step(*steps: Decimal) -> Decimal:
    """The least common multiple of decimal steps, e.g. (0.0001, 0.01 x 0.1) -> 0.001.

    Memoised: a pure function of a handful of lot sizes, asked for on every scan.
    """
    if not steps:
        raise ValueError("at least one step is needed")
    for step in steps:
        if not step.is_finite() or step <= 0:
            raise ValueError(f"steps must be finite and > 0, got {step}")
    places = max(0, *(-int(step.normalize().as_tuple().exponent) for step in steps))
    scale = Decimal(10) ** places
    whole = [int(step * scale) for step in steps]
    return Decimal(math.lcm(*whole)) / scale


def round_down_to_steps(qty: Decimal, *steps: Decimal) -> Decimal:
    """The largest multiple of every step that does not exceed ``qty`` (0 when none is > 0)."""
    step = common_base_step(*steps)
    if qty <= 0:
        return ZERO
    result = (qty / step).to_integral_value(rounding=ROUND_DOWN) * step
    if result > qty:  # a quotient beyond the context's precision rounded up
        result -= step
    return result


def gross_up_for_coin_fee(net_qty: Decimal, fee_rate: Decimal, lot_size: Decimal) -> Decimal:
    """The smallest multiple of ``lot_size`` whose buy leaves at least ``net_qty`` coins after a
    fee of ``fee_rate`` charged in the coin."""
    if fee_rate >= 1:
        raise ValueError(f"a fee rate of {fee_rate} leaves nothing")
    keep = ONE - fee_rate
    gross = (net_qty / keep / lot_size).to_integral_value(rounding=ROUND_UP) * lot_size
    while gross * keep < net_qty:  # the division rounded below a lot boundary
        gross += lot_size
    return gross


def leg_notional_for_capital(capital_usdt: Decimal, leverage: Decimal) -> Decimal:
    """The leg notional that ``capital_usdt`` carries: spot leg + perp margin = N (1 + 1/L)."""
    if leverage <= 0:
        raise ValueError(f"leverage must be > 0, got {leverage}")
    return capital_usdt * leverage / (leverage + ONE)


def capital_for_leg_notional(notional_usdt: Decimal, leverage: Decimal) -> Decimal:
    return notional_usdt + notional_usdt / leverage


@dataclass(frozen=True, slots=True)
class DynamicSizing:
    """Seed 003 §9.1.1: more capital to better opportunities, less to those that barely pass.

    The multiplier of the standard capital per trade ramps linearly from ``min_multiplier``
    when the net APR equals the threshold to ``max_multiplier`` when it reaches
    ``full_at_multiple`` times the threshold (and stays there above it). Caps (free capital,
    max position value) and every check still apply to the resized carry, and a resized
    carry that fails a check falls back to the standard size - so a thin book keeps the
    standard size rather than getting more.
    """

    min_multiplier: Decimal = Decimal("0.5")
    max_multiplier: Decimal = Decimal(2)
    full_at_multiple: Decimal = Decimal(3)

    def __post_init__(self) -> None:
        if not 0 < self.min_multiplier <= self.max_multiplier:
            raise ValueError("need 0 < min_multiplier <= max_multiplier")
        if self.full_at_multiple <= 1:
            raise ValueError("full_at_multiple must be > 1")

    def multiplier(self, net_apr: Decimal, min_apr: Decimal) -> Decimal:
        if min_apr <= 0:  # no threshold to measure against: anything positive is the best
            return self.max_multiplier if net_apr > 0 else self.min_multiplier
        progress = (net_apr / min_apr - ONE) / (self.full_at_multiple - ONE)
        progress = min(ONE, max(ZERO, progress))
        return self.min_multiplier + (self.max_multiplier - self.min_multiplier) * progress


@dataclass(frozen=True, slots=True)
class SizePlan:
    """Quantities of one carry. ``base_qty`` is the hedge: the perp's base quantity and the
    coins held (SHORT) or borrowed (LONG)."""

    base_qty: Decimal
    swap_contracts: Decimal
    spot_entry_qty: Decimal  # SHORT: gross buy (fee in coin); LONG: sell of the borrowed qty
    spot_exit_qty: Decimal  # SHORT: sell of the net coin; LONG: gross buy-back to repay


def target_base_qty(
    leg_notional_usdt: Decimal, ref_px: Decimal, max_slippage: Decimal, fee_reserve: Decimal
) -> Decimal:
    """Base quantity for a leg notional at ``ref_px``, leaving room for slippage up to the
    allowed maximum and for entry fees, so the carry that passes stays within its capital."""
    return leg_notional_usdt / (ref_px * (ONE + max_slippage) * (ONE + fee_reserve))


def min_base_qty(spot: Instrument, swap: Instrument) -> Decimal:
    """The smallest base quantity both legs accept."""
    return max(spot.min_size * spot.base_per_size(), swap.min_size * swap.base_per_size())


def plan_size(
    target_base: Decimal,
    spot: Instrument,
    swap: Instrument,
    direction: Direction,
    spot_buy_fee_rate: Decimal,
) -> SizePlan | None:
    """Round ``target_base`` down to both legs' base steps; None if it is below a minimum size.

    ``spot_buy_fee_rate`` is the spot taker rate charged in the coin on a buy (see the module
    docstring): the SHORT's entry buy and the LONG's exit buy are grossed up by it.
    """
    base_qty = round_down_to_steps(target_base, spot.base_step, swap.base_step)
    if base_qty <= 0 or base_qty < min_base_qty(spot, swap):
        return None
    contracts = base_qty / swap.base_per_size()
    gross = gross_up_for_coin_fee(base_qty, spot_buy_fee_rate, spot.lot_size)
    if direction is Direction.SHORT:
        return SizePlan(base_qty, contracts, spot_entry_qty=gross, spot_exit_qty=base_qty)
    return SizePlan(base_qty, contracts, spot_entry_qty=base_qty, spot_exit_qty=gross)
