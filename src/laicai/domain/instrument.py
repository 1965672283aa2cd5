"""Instruments and the arithmetic of their lot and tick sizes."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, ROUND_UP, Decimal

from laicai.domain.enums import InstKind


def round_to_step(value: Decimal, step: Decimal, rounding: str = ROUND_DOWN) -> Decimal:
    """``value`` rounded to a multiple of ``step`` (down by default: never order more)."""
    if step <= 0:
        raise ValueError(f"step must be > 0, got {step}")
    return (value / step).to_integral_value(rounding=rounding) * step


@dataclass(frozen=True, slots=True)
class Instrument:
    """One tradable instrument. For swaps ``lot_size``/``min_size`` are in contracts of
    ``contract_value`` base units; for spot they are in base units."""

    inst_id: str  # venue id, e.g. BTC-USDT-SWAP
    kind: InstKind
    base: str
    quote: str  # settle currency for swaps
    tick_size: Decimal
    lot_size: Decimal
    min_size: Decimal
    contract_value: Decimal = Decimal(1)
    max_leverage: int = 1
    live: bool = True

    @property
    def is_swap(self) -> bool:
        return self.kind is InstKind.SWAP

    def base_per_size(self) -> Decimal:
        return self.contract_value if self.is_swap else Decimal(1)

    def size_for_base(self, base_qty: Decimal) -> Decimal:
        """The largest order size (lots) whose base quantity does not exceed ``base_qty``."""
        return round_to_step(base_qty / self.base_per_size(), self.lot_size)

    def base_for_size(self, size: Decimal) -> Decimal:
        return size * self.base_per_size()

    @property
    def base_step(self) -> Decimal:
        """The smallest base quantity this instrument can trade in."""
        return self.lot_size * self.base_per_size()

    def round_price(self, px: Decimal, rounding: str = ROUND_HALF_UP) -> Decimal:
        return round_to_step(px, self.tick_size, rounding)

    def price_toward(self, px: Decimal, buy: bool) -> Decimal:
        """Round a limit price so it never pays more (buy) / receives less (sell) than ``px``
        would allow crossing: buys round up, sells round down (a marketable band edge)."""
        return round_to_step(px, self.tick_size, ROUND_UP if buy else ROUND_DOWN)
