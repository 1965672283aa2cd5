"""What a scenario tells the simulator core about the market it simulates.

A scenario (see :mod:`laicai.sim.scenario`) is compiled into a :class:`MarketPlan`: for every
underlying coin an index-price path, for every swap its funding schedule and basis, for every
instrument the shape of its synthetic L2 book, and per-currency Earn and borrow terms. The core
only reads these through the small protocols below, so a path replayed from history and one
generated from a seed are interchangeable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol


class PricePath(Protocol):
    """Index price of one underlying (in USDT) as a pure function of time."""

    def price_at(self, ts_ms: int) -> Decimal: ...


class FundingSeries(Protocol):
    """Funding terms of one swap as a pure function of time.

    ``interval_hours_at`` is the settlement interval in force at ``ts_ms`` (8, 4, 2 or 1: it may
    change over time, as it does on OKX); ``rate_at`` is the rate that settles at the settlement
    time ``settle_ts_ms`` (and, before that, the current predicted rate for it).
    """

    def interval_hours_at(self, ts_ms: int) -> int: ...

    def rate_at(self, settle_ts_ms: int) -> Decimal: ...


@dataclass(frozen=True, slots=True)
class BookShape:
    """A synthetic L2 book around the mid price.

    ``spread_bps`` is the full best-bid/best-ask spread in basis points of mid (at least one
    tick is always kept). Level *i* (0 = touch) holds ``level_notional_usdt * growth**i`` of
    quote value, spaced ``level_step_bps`` apart, up to ``levels`` levels (OKX sends up to 400).
    """

    spread_bps: Decimal = Decimal("2")
    levels: int = 50
    level_notional_usdt: Decimal = Decimal("20000")
    level_step_bps: Decimal = Decimal("1")
    growth: Decimal = Decimal("1.05")


@dataclass(frozen=True, slots=True)
class CurrencyTerms:
    """Simple Earn and margin-borrow terms of one currency (annual rates as fractions)."""

    earn_apr: Decimal = Decimal("0")
    borrow_apr: Decimal = Decimal("0")
    borrow_limit: Decimal = Decimal("0")  # in the currency's units; 0 = cannot be borrowed
    redeem_delay_ms: int = 0


@dataclass(frozen=True, slots=True)
class SwapTerms:
    """Funding of one swap, and how far its mark price sits above the index (basis)."""

    funding: FundingSeries
    basis_bps: Decimal = Decimal("0")


@dataclass(slots=True)
class MarketPlan:
    """Everything time-varying that the core needs, keyed by OKX ids.

    ``prices`` is keyed by the base coin ("BTC"); ``swaps`` by swap instId ("BTC-USDT-SWAP");
    ``books`` by instId (missing instruments use ``default_book``); ``currencies`` by ccy.
    """

    prices: dict[str, PricePath]
    swaps: dict[str, SwapTerms] = field(default_factory=dict)
    books: dict[str, BookShape] = field(default_factory=dict)
    currencies: dict[str, CurrencyTerms] = field(default_factory=dict)
    default_book: BookShape = field(default_factory=BookShape)

    def book_shape(self, inst_id: str) -> BookShape:
        return self.books.get(inst_id, self.default_book)

    def currency(self, ccy: str) -> CurrencyTerms:
        return self.currencies.get(ccy, CurrencyTerms())


@dataclass(frozen=True, slots=True)
class ConstantPrice:
    """A price that never moves (tests)."""

    price: Decimal

    def price_at(self, ts_ms: int) -> Decimal:
        return self.price


@dataclass(frozen=True, slots=True)
class ConstantFunding:
    """The same rate every settlement at a fixed interval (tests)."""

    rate: Decimal
    interval_hours: int = 8

    def interval_hours_at(self, ts_ms: int) -> int:
        return self.interval_hours

    def rate_at(self, settle_ts_ms: int) -> Decimal:
        return self.rate
