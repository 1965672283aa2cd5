"""Margin arithmetic for USDT-margined linear swaps, the way OKX defines it.

Pure functions over Decimals. ``mgnRatio`` is OKX's maintenance margin ratio: equity backing the
position divided by its maintenance margin requirement; OKX liquidates at <= 1 (100%).
"""

from __future__ import annotations

from decimal import Decimal

ZERO = Decimal(0)

# Position tiers by notional (USDT): (notional cap, maintenance margin rate, max leverage).
# Shaped like OKX's tiers for a liquid USDT swap; larger positions need more margin.
SWAP_TIERS: tuple[tuple[Decimal, Decimal, int], ...] = (
    (Decimal("50000"), Decimal("0.004"), 100),
    (Decimal("250000"), Decimal("0.008"), 50),
    (Decimal("1000000"), Decimal("0.015"), 20),
    (Decimal("5000000"), Decimal("0.03"), 10),
    (Decimal("20000000"), Decimal("0.06"), 5),
    (Decimal("Infinity"), Decimal("0.15"), 3),
)

# Maintenance margin rate applied to borrowed coin (spot margin liabilities).
BORROW_MMR = Decimal("0.03")

# OKX's liquidation penalty for swaps, as a fraction of the liquidated notional.
LIQUIDATION_FEE_RATE = Decimal("0.005")


def mmr_rate(notional: Decimal) -> Decimal:
    """Maintenance margin rate of the tier that ``notional`` falls in."""
    for cap, rate, _ in SWAP_TIERS:
        if notional <= cap:
            return rate
    return SWAP_TIERS[-1][1]  # pragma: no cover - Infinity caps the table


def max_leverage(notional: Decimal) -> int:
    for cap, _, lever in SWAP_TIERS:
        if notional <= cap:
            return lever
    return SWAP_TIERS[-1][2]  # pragma: no cover


def upl(signed_base_qty: Decimal, avg_px: Decimal, mark_px: Decimal) -> Decimal:
    """Unrealised PnL in USDT of a linear position (positive qty = long)."""
    return signed_base_qty * (mark_px - avg_px)


def mgn_ratio(equity: Decimal, mmr: Decimal) -> Decimal | None:
    """OKX's margin ratio; ``None`` when nothing needs margin (OKX sends "")."""
    if mmr <= 0:
        return None
    return equity / mmr


def liquidation_price(
    signed_base_qty: Decimal, mark_px: Decimal, equity: Decimal
) -> Decimal | None:
    """The first mark price, moving against the position, at which ``equity`` (moving with
    this position only) falls to its maintenance margin ``|q| P r``, where ``r`` is the rate
    of the tier the notional falls in *at P*. A short grows into higher tiers as the price
    rises, so it can be liquidated right at a tier boundary. ``None`` if no positive price
    exists (e.g. an over-collateralised long).
    """
    q = signed_base_qty
    if q == 0:
        return None
    size = abs(q)
    caps = [Decimal(0)] + [cap for cap, _, _ in SWAP_TIERS]
    rates = [rate for _, rate, _ in SWAP_TIERS]
    tier = next(i for i, cap in enumerate(caps[1:]) if size * mark_px <= cap)

    def root(rate: Decimal) -> Decimal | None:
        denom = q - size * rate
        return None if denom == 0 else (q * mark_px - equity) / denom

    while 0 <= tier < len(rates):
        lo, hi = caps[tier] / size, caps[tier + 1] / size  # price range of this tier
        px = root(rates[tier])
        if px is None or px <= 0:
            return None
        if lo <= px <= hi:
            return px
        if q < 0:  # short: price rising; at the boundary the rate jumps up
            if px < lo:
                return None
            if tier + 1 >= len(rates):
                return px
            edge = hi
            if equity + q * (edge - mark_px) <= size * edge * rates[tier + 1]:
                return edge
            tier += 1
        else:  # long: price falling into lower tiers, whose rates only drop
            if px > hi:
                return None
            tier -= 1
    return None
