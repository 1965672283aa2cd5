"""Market data values: books, funding, tickers, fees, Earn and borrow terms."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

HOURS_PER_YEAR = Decimal(24 * 365)


@dataclass(frozen=True, slots=True)
class OrderBook:
    """L2 book; levels are (price, size) best first; sizes in the instrument's order units
    (contracts for swaps, base for spot)."""

    inst_id: str
    bids: tuple[tuple[Decimal, Decimal], ...]
    asks: tuple[tuple[Decimal, Decimal], ...]
    ts_ms: int

    @property
    def best_bid(self) -> Decimal | None:
        return self.bids[0][0] if self.bids else None

    @property
    def best_ask(self) -> Decimal | None:
        return self.asks[0][0] if self.asks else None

    @property
    def mid(self) -> Decimal | None:
        if not self.bids or not self.asks:
            return None
        return (self.bids[0][0] + self.asks[0][0]) / 2


@dataclass(frozen=True, slots=True)
class FundingRate:
    """The current rate of a swap: what settles at ``next_funding_ms``, every
    ``interval_hours`` (read from the venue, never assumed)."""

    inst_id: str
    rate: Decimal
    next_funding_ms: int
    interval_hours: int
    ts_ms: int

    @property
    def apr(self) -> Decimal:
        return funding_apr(self.rate, self.interval_hours)


def funding_apr(rate: Decimal, interval_hours: int) -> Decimal:
    """ARCHITECTURE.md: funding APR = rate x (365 x 24 / interval hours)."""
    if interval_hours <= 0:
        raise ValueError(f"funding interval must be > 0 hours, got {interval_hours}")
    return rate * HOURS_PER_YEAR / interval_hours


@dataclass(frozen=True, slots=True)
class FundingSettlement:
    inst_id: str
    rate: Decimal
    ts_ms: int


@dataclass(frozen=True, slots=True)
class Ticker:
    inst_id: str
    last: Decimal
    bid: Decimal | None
    ask: Decimal | None
    volume_24h_quote: Decimal  # 24 h volume in quote currency (USDT)
    ts_ms: int


@dataclass(frozen=True, slots=True)
class MarkPrice:
    """A swap's mark price as pushed on OKX's ``mark-price`` channel."""

    inst_id: str
    mark_px: Decimal
    ts_ms: int


@dataclass(frozen=True, slots=True)
class FeeRates:
    """The account's own trading fee rates as positive fractions (negative = rebate)."""

    spot_maker: Decimal
    spot_taker: Decimal
    swap_maker: Decimal
    swap_taker: Decimal

    def taker(self, is_swap: bool) -> Decimal:
        return self.swap_taker if is_swap else self.spot_taker

    def maker(self, is_swap: bool) -> Decimal:
        return self.swap_maker if is_swap else self.spot_maker


@dataclass(frozen=True, slots=True)
class EarnRate:
    """Simple Earn (flexible savings) estimated APR of a currency."""

    ccy: str
    apr: Decimal


@dataclass(frozen=True, slots=True)
class BorrowTerms:
    """Margin borrowing of a currency: hourly rate as the venue quotes it, and how much more
    may be borrowed right now."""

    ccy: str
    hourly_rate: Decimal
    available: Decimal

    @property
    def apr(self) -> Decimal:
        return self.hourly_rate * HOURS_PER_YEAR
