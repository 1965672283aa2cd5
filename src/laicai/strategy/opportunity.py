"""One candidate carry, accepted or rejected with its reason, and the return arithmetic.

Every APR here is a fraction of the hedge notional per year (``base_qty x spot mid``). The
capital behind that notional is larger by the perp margin (``notional / leverage``), so the
return on capital is ``net_apr x L / (L + 1)``.

Net APR (ARCHITECTURE.md) = funding APR + Earn APR (SHORT, if enabled) - borrow APR (LONG)
- round-trip cost fraction / (expected_holding_days / 365).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from laicai.domain import market
from laicai.domain.enums import Direction

DAYS_PER_YEAR = Decimal(365)
ZERO = Decimal(0)


class RejectReason(StrEnum):
    """Why a candidate is not opened. The scanner reports the first that applies, checking
    in about this order: the lists and metadata, funding, tickers and volume, borrowing (no
    book needed so far); then the books, capital, size, depth, slippage and net APR; last the
    portfolio's room (``MAX_POSITIONS``, and ``NO_CAPITAL`` once better carries took theirs).
    ``MISSING_DATA``, ``STALE_DATA`` and ``INSUFFICIENT_DEPTH`` can also come from the books."""

    DENY_LISTED = "deny_listed"  # base in account.instruments_deny
    NOT_ALLOWED = "not_in_allow_list"  # account.instruments_allow is set and lacks the base
    ALREADY_HELD = "already_held"
    NO_SPOT_MARKET = "no_spot_market"
    NOT_LIVE = "instrument_not_live"  # either leg suspended, pre-open or delisting
    NEGATIVE_FUNDING_DISABLED = "negative_funding_disabled"
    FUNDING_OUT_OF_BAND = "funding_out_of_band"  # |rate| outside [funding_rate_min, _max]
    MISSING_DATA = "missing_market_data"  # no ticker or book for a leg, or unusable data
    STALE_DATA = "stale_market_data"  # older than ScanParams.max_data_age_ms
    THIN_VOLUME = "thin_volume"  # 24 h volume of either leg under min_volume_24h_usdt
    NOT_BORROWABLE = "not_borrowable"  # LONG: the coin cannot be borrowed
    NO_CAPITAL = "no_capital"  # too little free to commit
    BELOW_MIN_SIZE = "below_min_size"  # the planned size rounds below a leg's minimum
    BORROW_LIMIT = "borrow_limit_too_small"  # LONG: BorrowTerms.available < base_qty
    INSUFFICIENT_DEPTH = "insufficient_depth"  # a book holds less than the planned size
    SLIPPAGE_TOO_HIGH = "slippage_too_high"  # an entry leg over risk.max_allowed_slippage
    NET_APR_TOO_LOW = "net_apr_too_low"  # under strategy.min_annualized_return
    MAX_POSITIONS = "max_positions_reached"  # strategy.max_open_positions already used


def carry_funding_apr(rate: Decimal, interval_hours: int, direction: Direction) -> Decimal:
    """Funding APR the carry *earns*: a SHORT receives positive rates, a LONG negative ones."""
    apr = market.funding_apr(rate, interval_hours)
    return apr if direction is Direction.SHORT else -apr


def annualised_cost(cost_fraction: Decimal, holding_days: Decimal) -> Decimal:
    """A one-off cost spread over the expected holding period: fraction / (days / 365)."""
    if holding_days <= 0:
        raise ValueError(f"holding_days must be > 0, got {holding_days}")
    return cost_fraction * DAYS_PER_YEAR / holding_days


def net_apr(
    funding_apr: Decimal,
    earn_apr: Decimal,
    borrow_apr: Decimal,
    round_trip_fraction: Decimal,
    holding_days: Decimal,
) -> Decimal:
    return funding_apr + earn_apr - borrow_apr - annualised_cost(round_trip_fraction, holding_days)


def break_even_days(
    round_trip_fraction: Decimal, funding_apr: Decimal, borrow_apr: Decimal
) -> Decimal | None:
    """Days of funding, net of borrow interest, that repay the round trip; None if it never
    does. Earn interest is left out on purpose: its rate floats and it is not guaranteed."""
    carry = funding_apr - borrow_apr
    if carry <= 0:
        return None
    return max(ZERO, round_trip_fraction) * DAYS_PER_YEAR / carry


@dataclass(frozen=True, slots=True, kw_only=True)
class Opportunity:
    """A candidate carry on one swap and its spot market.

    Fields after ``reject_reason`` are None when the candidate was rejected before they were
    computed (e.g. a funding rate outside the band is never sized). Slippage fields are the
    adverse fractions of :mod:`laicai.strategy.slippage`; entry legs are checked against
    ``risk.max_allowed_slippage``, exit legs (the opposite book sides, walked now) only cost.
    """

    swap_inst_id: str
    spot_inst_id: str | None
    base: str
    direction: Direction
    funding_rate: Decimal  # signed, as the venue quotes it
    interval_hours: int
    next_funding_ms: int
    ms_to_next_funding: int
    funding_apr: Decimal  # earned in this direction (carry_funding_apr)
    earn_apr: Decimal = ZERO  # SHORT with strategy.enable_spot_earning only
    borrow_apr: Decimal = ZERO  # LONG only
    accepted: bool = False
    reject_reason: RejectReason | None = None
    detail: str = ""
    sizing_multiplier: Decimal = Decimal(1)  # dynamic sizing (1 when off)
    base_qty: Decimal | None = None  # the hedge: perp base qty = coins held / borrowed
    swap_contracts: Decimal | None = None
    spot_entry_qty: Decimal | None = None  # SHORT: grossed up for the fee charged in coin
    spot_exit_qty: Decimal | None = None  # LONG: grossed-up buy-back
    notional_usdt: Decimal | None = None  # base_qty x spot mid
    capital_usdt: Decimal | None = None  # spot leg + perp margin + entry fees in USDT
    spot_entry_vwap: Decimal | None = None
    perp_entry_vwap: Decimal | None = None
    spot_entry_slippage: Decimal | None = None
    perp_entry_slippage: Decimal | None = None
    spot_exit_slippage: Decimal | None = None
    perp_exit_slippage: Decimal | None = None
    entry_basis: Decimal | None = None  # (mid_perp - mid_spot) / mid_spot, informative
    fees_usdt: Decimal | None = None  # taker fees of the four trades
    slippage_cost_usdt: Decimal | None = None
    spread_cost_usdt: Decimal | None = None
    round_trip_cost_usdt: Decimal | None = None
    round_trip_cost_fraction: Decimal | None = None  # of notional_usdt
    borrow_cost_usdt: Decimal | None = None  # LONG, over expected_holding_days; in borrow_apr
    net_apr: Decimal | None = None
    break_even_days: Decimal | None = None  # None: never (or not computed)

    @property
    def max_entry_slippage(self) -> Decimal | None:
        if self.spot_entry_slippage is None or self.perp_entry_slippage is None:
            return None
        return max(self.spot_entry_slippage, self.perp_entry_slippage)
