"""What the guards look at: plain values the engine builds from the store and the venue.

Quantities are magnitudes in base currency (the perp's sign is in ``direction``), money is
USDT, times are epoch milliseconds. Nothing here is fetched or computed from a clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import IntEnum

from laicai.domain.enums import Direction

ZERO = Decimal(0)


class MarginLevel(IntEnum):
    """Rungs of the margin ladder, mildest first: a larger value is a worse state.

    ``SWEEP`` (too much margin: move profit out) < ``OK`` < ``TOPUP`` < ``RESET`` <
    ``EMERGENCY``. The engine keeps the level last reported for each carry and passes it back
    as :attr:`CarryView.last_margin_level` (the hysteresis memory).
    """

    SWEEP = -1
    OK = 0
    TOPUP = 1
    RESET = 2
    EMERGENCY = 3


@dataclass(frozen=True, slots=True, kw_only=True)
class CarryView:
    """One open carry as it stands now.

    ``base_qty`` is the hedge size the carry was opened (or last reset) with: no command may
    take either leg above it. ``spot_base`` is the coin held in the trading account plus Simple
    Earn (SHORT) or the coin owed (LONG); ``perp_base`` is the perp position's size. Both are
    magnitudes. ``perp_equity_usdt`` is the equity that backs the perp leg (its margin plus
    unrealised PnL), ``perp_notional_usdt`` the perp's notional at the mark price: laicai's
    margin ratio is their quotient. ``total_pnl_usdt`` is the whole carry's PnL so far: both
    legs, funding, Earn interest, borrow interest and fees. ``capital_usdt`` is the capital the
    carry committed (spot leg + perp margin + entry fees).

    Funding: ``funding_rate`` is the rate of the next settlement (signed, as the venue quotes
    it), ``recent_funding_rates`` the rates of the settlements since the carry opened, oldest
    first. ``exit_cost_usdt`` is the engine's estimate of closing both legs now (fees and
    slippage); None uses ``RiskParams.assumed_exit_cost_fraction`` of the perp notional.

    ``base_step`` is the coarser lot step of the two legs (0: do not round rebalances).
    ``naked_since_ms`` is when the naked exposure last rose above ``risk.max_naked_usd``
    (None while it is under).
    """

    position_id: int
    symbol: str  # the swap's instrument id, e.g. BTC-USDT-SWAP
    direction: Direction
    base_qty: Decimal
    spot_base: Decimal
    perp_base: Decimal
    spot_entry_px: Decimal
    perp_entry_px: Decimal
    mark_px: Decimal
    index_px: Decimal
    perp_notional_usdt: Decimal
    perp_equity_usdt: Decimal
    okx_mgn_ratio: Decimal | None = None
    liq_px: Decimal | None = None
    total_pnl_usdt: Decimal = ZERO
    capital_usdt: Decimal
    opened_ms: int
    funding_rate: Decimal | None = None
    funding_interval_hours: int = 8
    recent_funding_rates: tuple[Decimal, ...] = ()
    earn_apr: Decimal = ZERO
    borrow_apr: Decimal = ZERO
    exit_cost_usdt: Decimal | None = None
    base_step: Decimal = ZERO
    naked_since_ms: int | None = None
    last_margin_level: MarginLevel = MarginLevel.OK

    def __post_init__(self) -> None:
        if self.base_qty <= 0:
            raise ValueError(f"base_qty must be > 0, got {self.base_qty}")
        if min(self.spot_base, self.perp_base, self.perp_notional_usdt, self.base_step) < 0:
            raise ValueError("spot_base, perp_base, perp_notional_usdt and base_step are >= 0")
        if self.capital_usdt <= 0:
            raise ValueError(f"capital_usdt must be > 0, got {self.capital_usdt}")
        if self.funding_interval_hours <= 0:
            raise ValueError("funding_interval_hours must be > 0")

    @property
    def margin_ratio(self) -> Decimal | None:
        """laicai's margin ratio: equity backing the perp / perp notional (None: no perp)."""
        if self.perp_notional_usdt <= 0:
            return None
        return self.perp_equity_usdt / self.perp_notional_usdt

    @property
    def naked_base(self) -> Decimal:
        """|spot - perp| in base currency: the part of one leg no other leg hedges."""
        return abs(self.spot_base - self.perp_base)

    @property
    def naked_usdt(self) -> Decimal:
        """Naked exposure (ARCHITECTURE.md): |spot base - perp base| x index price."""
        return self.naked_base * self.index_px

    @property
    def pnl_fraction(self) -> Decimal:
        """Total PnL (incl. funding, Earn and fees) as a fraction of the capital committed."""
        return self.total_pnl_usdt / self.capital_usdt


@dataclass(frozen=True, slots=True)
class Funds:
    """USDT a top-up may draw on: free in the trading account, and in the funding account."""

    trading_usdt: Decimal
    funding_usdt: Decimal

    @property
    def total_usdt(self) -> Decimal:
        return max(ZERO, self.trading_usdt) + max(ZERO, self.funding_usdt)


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountView:
    """The account as a whole. ``held_symbols`` names the open carries by base currency and by
    instrument id (like :attr:`laicai.strategy.MarketSnapshot.held_symbols`);
    ``committed_capital_usdt`` is the capital the open carries committed.
    ``realized_pnl_today_usdt`` is the PnL booked since 00:00 UTC (closes, funding, fees);
    ``peak_equity_usdt`` the highest total equity the engine has seen."""

    trading_available_usdt: Decimal
    funding_available_usdt: Decimal = ZERO
    total_equity_usdt: Decimal
    peak_equity_usdt: Decimal
    realized_pnl_today_usdt: Decimal = ZERO
    open_positions_count: int = 0
    held_symbols: frozenset[str] = frozenset()
    committed_capital_usdt: Decimal = ZERO

    @property
    def funds(self) -> Funds:
        return Funds(self.trading_available_usdt, self.funding_available_usdt)


@dataclass(frozen=True, slots=True)
class ClosedCarry:
    """One finished carry, for the circuit breaker: its final PnL and when it closed."""

    position_id: int
    pnl_usdt: Decimal
    closed_ms: int


@dataclass(frozen=True, slots=True)
class PriceSample:
    """One observed price (mark, index or last) of an instrument."""

    ts_ms: int
    price: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class ExchangeStats:
    """The exchange connection over the last ``window_ms``: REST requests and errors, request
    latencies, the newest WebSocket message, and local clock minus exchange clock."""

    window_ms: int
    requests: int
    errors: int
    latencies_ms: tuple[int, ...] = ()
    last_ws_message_ms: int | None = None
    clock_skew_ms: int = 0

    def __post_init__(self) -> None:
        if self.requests < 0 or not 0 <= self.errors <= max(self.requests, 0):
            raise ValueError(f"need 0 <= errors <= requests, got {self.errors}/{self.requests}")


@dataclass(frozen=True, slots=True)
class EntryDepth:
    """Base quantity each entry book holds on the side the entry takes, within
    ``risk.max_allowed_slippage`` of the touch."""

    spot_base: Decimal
    perp_base: Decimal
