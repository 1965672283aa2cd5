"""What goes into and comes out of the repository: frozen dataclasses, Decimal amounts,
time zone-aware datetimes. ORM rows never leave :mod:`laicai.store`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from laicai.domain.enums import Direction, Side
from laicai.store.states import (
    AlertLevel,
    BorrowEventKind,
    EarnEventKind,
    JournalStatus,
    Liquidity,
    PositionStatus,
    SpotEarningStatus,
)

JsonObject = Mapping[str, Any]
"""A JSON object. Decimals inside are written as strings (exactly) and read back as strings."""


@dataclass(frozen=True, slots=True)
class NewPosition:
    """A position about to be opened (status ``OPENING`` unless said otherwise)."""

    symbol: str
    direction: Direction
    spot_inst_id: str
    swap_inst_id: str
    leverage: Decimal
    open_timestamp: datetime
    position_amount: Decimal  # base currency, both legs
    entry_spot_price: Decimal
    entry_swap_price: Decimal
    initial_funding_rate: Decimal
    status: PositionStatus = PositionStatus.OPENING
    swap_contracts: Decimal | None = None
    notional_usdt: Decimal | None = None
    funding_interval_hours: int | None = None
    initial_spot_earning_rate: Decimal | None = None
    borrow_ccy: str | None = None
    initial_borrow_rate: Decimal | None = None


@dataclass(frozen=True, slots=True)
class PositionChanges:
    """Fields to change on a position; ``None`` leaves a field as it is."""

    leverage: Decimal | None = None
    position_amount: Decimal | None = None
    swap_contracts: Decimal | None = None
    notional_usdt: Decimal | None = None
    entry_spot_price: Decimal | None = None
    entry_swap_price: Decimal | None = None
    exit_spot_price: Decimal | None = None
    exit_swap_price: Decimal | None = None
    spot_earning_status: SpotEarningStatus | None = None
    earn_amount: Decimal | None = None
    total_spot_earning_yield: Decimal | None = None
    margin_ratio: Decimal | None = None
    okx_mgn_ratio: Decimal | None = None
    liq_px: Decimal | None = None
    total_funding_fee: Decimal | None = None
    total_trade_fee: Decimal | None = None
    resets_count: int | None = None
    reset_cost: Decimal | None = None
    pnl_usd: Decimal | None = None
    unrealized_pnl_usd: Decimal | None = None
    borrowed_amount: Decimal | None = None
    total_borrow_interest: Decimal | None = None
    close_reason: str | None = None
    close_timestamp: datetime | None = None


@dataclass(frozen=True, slots=True)
class PositionRecord:
    """A stored position: every column of ``positions``."""

    id: int
    symbol: str
    direction: Direction
    status: PositionStatus
    leverage: Decimal
    open_timestamp: datetime
    close_timestamp: datetime | None
    last_update_timestamp: datetime | None
    position_amount: Decimal
    entry_spot_price: Decimal
    entry_swap_price: Decimal
    exit_spot_price: Decimal | None
    exit_swap_price: Decimal | None
    spot_earning_status: SpotEarningStatus
    total_spot_earning_yield: Decimal
    initial_spot_earning_rate: Decimal | None
    margin_ratio: Decimal | None
    initial_funding_rate: Decimal
    total_funding_fee: Decimal
    total_trade_fee: Decimal
    resets_count: int
    pnl_usd: Decimal | None
    spot_inst_id: str
    swap_inst_id: str
    swap_contracts: Decimal | None
    notional_usdt: Decimal | None
    funding_interval_hours: int | None
    earn_amount: Decimal
    okx_mgn_ratio: Decimal | None
    liq_px: Decimal | None
    reset_cost: Decimal
    unrealized_pnl_usd: Decimal | None
    borrow_ccy: str | None
    borrowed_amount: Decimal
    initial_borrow_rate: Decimal | None
    total_borrow_interest: Decimal
    close_reason: str | None


@dataclass(frozen=True, slots=True)
class OrderUpdate:
    """What is known of an order now; upserted by ``client_order_id``. ``None`` fields keep
    what is already stored (a later update never erases a known venue id or price)."""

    client_order_id: str
    inst_id: str
    side: Side
    ord_type: str  # OKX ordType: market, limit, ioc, post_only, fok, ...
    size: Decimal  # in the instrument's order units (contracts for swaps, base for spot)
    state: str  # ours before the ack ("pending", "rejected"), then OKX's (live, filled, ...)
    ts: datetime
    venue_order_id: str | None = None
    position_id: int | None = None
    journal_id: int | None = None
    price: Decimal | None = None
    reduce_only: bool = False
    filled_size: Decimal | None = None
    avg_px: Decimal | None = None
    fee: Decimal | None = None
    fee_ccy: str | None = None
    raw: JsonObject | None = None


@dataclass(frozen=True, slots=True)
class OrderRecord:
    id: int
    client_order_id: str
    venue_order_id: str | None
    position_id: int | None
    journal_id: int | None
    inst_id: str
    side: Side
    ord_type: str
    size: Decimal
    price: Decimal | None
    reduce_only: bool
    state: str
    filled_size: Decimal
    avg_px: Decimal | None
    fee: Decimal
    fee_ccy: str | None
    raw: dict[str, Any] | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Fill:
    """One trade of one order; unique per (inst_id, trade_id)."""

    inst_id: str
    trade_id: str
    side: Side
    px: Decimal
    size: Decimal
    fee: Decimal  # signed as OKX reports it: negative = paid
    fee_ccy: str
    liquidity: Liquidity
    ts: datetime
    client_order_id: str | None = None  # links the fill to its order when that is stored


@dataclass(frozen=True, slots=True)
class FundingPayment:
    """A funding settlement from the exchange's bills (positive = received)."""

    bill_id: str
    inst_id: str
    amount: Decimal
    ts: datetime
    ccy: str = "USDT"
    rate: Decimal | None = None
    position_id: int | None = None


@dataclass(frozen=True, slots=True)
class EarnEvent:
    """A Simple Earn subscription, redemption or interest payment."""

    ref_id: str
    kind: EarnEventKind
    ccy: str
    amount: Decimal
    ts: datetime
    rate: Decimal | None = None
    position_id: int | None = None


@dataclass(frozen=True, slots=True)
class BorrowEvent:
    """A margin borrow, repayment or interest accrual (amount in ``ccy``)."""

    ref_id: str
    kind: BorrowEventKind
    ccy: str
    amount: Decimal
    ts: datetime
    rate: Decimal | None = None
    position_id: int | None = None


@dataclass(frozen=True, slots=True)
class JournalEntry:
    id: int
    operation: str
    position_id: int | None
    payload: dict[str, Any]
    status: JournalStatus
    error: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class EquitySnapshot:
    ts: datetime
    equity_usdt: Decimal
    available_usdt: Decimal | None = None
    unrealized_pnl_usdt: Decimal | None = None
    open_positions: int = 0
    details: JsonObject | None = None


@dataclass(frozen=True, slots=True)
class AlertEvent:
    """An alert as it was sent to the operator."""

    ts: datetime
    level: AlertLevel
    kind: str
    message: str
    position_id: int | None = None
    payload: JsonObject | None = None


@dataclass(frozen=True, slots=True)
class ScanRun:
    """One scan over every candidate; ``id`` is set once it is stored."""

    started_at: datetime
    finished_at: datetime | None = None
    candidates: int = 0
    accepted: int = 0
    error: str | None = None
    id: int | None = None


@dataclass(frozen=True, slots=True)
class ScanRow:
    """One candidate of one scan: the numbers that decided it and the decision. Rates and APRs
    are fractions (0.1 = 10%)."""

    ts: datetime
    inst_id: str  # the swap
    direction: Direction
    funding_rate: Decimal
    interval_hours: int
    funding_apr: Decimal
    accepted: bool
    spot_inst_id: str | None = None
    earn_apr: Decimal | None = None
    borrow_apr: Decimal | None = None
    spot_slippage: Decimal | None = None
    swap_slippage: Decimal | None = None
    fees: Decimal | None = None
    net_apr: Decimal | None = None
    breakeven_days: Decimal | None = None
    planned_size: Decimal | None = None
    planned_notional_usdt: Decimal | None = None
    reject_reason: str | None = None


@dataclass(frozen=True, slots=True)
class ScanResult:
    run: ScanRun
    rows: tuple[ScanRow, ...] = field(default=())
