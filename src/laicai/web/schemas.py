"""The API's request and response models: the Operator's views field for field, with every
Decimal sent as an exact string (``"0.1234"``) so no amount is ever rounded through a float."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer

from laicai.web.jsonable import decimal_str

Dec = Annotated[
    Decimal,
    PlainSerializer(decimal_str, return_type=str),
    Field(description="exact decimal, as a string", json_schema_extra={"format": "decimal"}),
]


class ViewModel(BaseModel):
    model_config = ConfigDict(from_attributes=True, frozen=True)


class PnlBreakdownOut(ViewModel):
    """PnL by source, USDT; fees and borrow are costs (subtracted), slippage is informational."""

    funding: Dec
    earn: Dec
    basis: Dec
    fees: Dec
    borrow: Dec
    slippage: Dec
    total: Dec


class HealthOut(ViewModel):
    exchange_ok: bool
    problems: list[str]
    api_requests: int
    api_errors: int
    last_ws_message: datetime | None
    loop_latency_ms: float


class StatusOut(ViewModel):
    state: str
    mode: str
    dry_run: bool
    started_at: datetime | None
    now: datetime
    equity_usdt: Dec | None
    peak_equity_usdt: Dec | None
    open_positions: int
    breaker: str
    breaker_reason: str | None
    entries_paused: str | None
    naked_usdt: Dec
    last_scan_at: datetime | None
    health: HealthOut
    controls_enabled: bool = Field(
        False, description="a dashboard token is configured, so the controls can be used")


class PositionOut(ViewModel):
    id: int
    symbol: str
    swap_inst_id: str
    direction: str
    status: str
    base_qty: Dec
    notional_usdt: Dec | None
    entry_spot_px: Dec
    entry_perp_px: Dec
    mark_px: Dec | None
    margin_ratio: Dec | None
    margin_level: str
    topup_ratio: Dec
    reset_ratio: Dec
    emergency_ratio: Dec
    okx_mgn_ratio: Dec | None
    liq_px: Dec | None
    liq_distance: Dec | None
    funding_rate: Dec | None
    breakdown: PnlBreakdownOut
    earn_amount: Dec
    borrowed_amount: Dec
    resets_count: int
    reset_cost_usdt: Dec
    opened_at: datetime
    naked_usdt: Dec
    pnl_usdt: Dec


class PnlOut(ViewModel):
    total: PnlBreakdownOut
    today: PnlBreakdownOut
    realized_usdt: Dec
    unrealized_usdt: Dec
    equity_usdt: Dec | None
    start_equity_usdt: Dec | None
    closed_positions: int


class FundingOut(ViewModel):
    symbol: str
    swap_inst_id: str
    rate: Dec
    interval_hours: int
    next_funding_time: datetime | None
    apr: Dec
    held: bool
    earned_usdt: Dec


class EquityPointOut(ViewModel):
    ts: datetime
    equity_usdt: Dec
    funding_usdt: Dec = Field(description="cumulative income: funding + Earn")
    costs_usdt: Dec = Field(description="cumulative costs: fees + borrow interest")


class ResetOut(ViewModel):
    position_id: int
    symbol: str
    ts: datetime
    cost_usdt: Dec
    resets_count: int


class AlertOut(ViewModel):
    ts: datetime
    level: str
    kind: str
    message: str
    position_id: int | None


class LogOut(BaseModel):
    lines: list[str]


class ScanOut(BaseModel):
    """The latest scan as the engine reports it (JSON values; decimals as strings), or null
    before the first scan."""

    scan: dict[str, Any] | None


class CommandOut(ViewModel):
    ok: bool
    message: str


class PauseIn(BaseModel):
    reason: Annotated[str, Field(max_length=500)] = ""


class CloseAllIn(BaseModel):
    confirm: bool = Field(
        False, description="must be true: closing every carry is not undone by resume")


class ErrorOut(BaseModel):
    detail: str


class HealthzOut(BaseModel):
    ok: bool
