"""OKX trading fee tiers (regular users, by 30-day volume), as OKX publishes them.

Rates are positive fractions of the fill value; a negative rate would be a maker rebate.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class FeeRates:
    spot_maker: Decimal
    spot_taker: Decimal
    swap_maker: Decimal
    swap_taker: Decimal

    def rate(self, is_swap: bool, is_maker: bool) -> Decimal:
        if is_swap:
            return self.swap_maker if is_maker else self.swap_taker
        return self.spot_maker if is_maker else self.spot_taker


def _r(sm: str, st: str, wm: str, wt: str) -> FeeRates:
    return FeeRates(Decimal(sm), Decimal(st), Decimal(wm), Decimal(wt))


FEE_TIERS: dict[str, FeeRates] = {
    "VIP0": _r("0.0008", "0.001", "0.0002", "0.0005"),
    "VIP1": _r("0.00045", "0.0005", "0.0001", "0.0004"),
    "VIP2": _r("0.0004", "0.00045", "0.00008", "0.00035"),
    "VIP3": _r("0.0003", "0.0004", "0.00005", "0.0003"),
    "VIP4": _r("0.0002", "0.00035", "0.00003", "0.00027"),
    "VIP5": _r("0.0", "0.0003", "0.0", "0.00025"),
}


def fee_tier(name: str) -> FeeRates:
    try:
        return FEE_TIERS[name]
    except KeyError:
        raise ValueError(f"unknown fee tier {name!r}; known: {', '.join(FEE_TIERS)}") from None
