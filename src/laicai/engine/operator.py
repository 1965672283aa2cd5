"""The operator's view of the bot and the only way to steer it.

Telegram, the dashboard and the CLI talk to an :class:`Operator`; it reads the store and the
engine's latest snapshot and turns controls into engine commands on the engine's queue, so no
face ever touches trading state directly. Views are plain frozen values, safe to serialize:
no secret is ever part of one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from laicai.engine.bus import Subscription
from laicai.engine.events import PnlBreakdown


@dataclass(frozen=True, slots=True)
class HealthView:
    exchange_ok: bool = True
    problems: tuple[str, ...] = ()
    api_requests: int = 0
    api_errors: int = 0
    last_ws_message: datetime | None = None
    loop_latency_ms: float = 0.0


@dataclass(frozen=True, slots=True)
class StatusView:
    state: str  # BotState value
    mode: str  # live | paper | backtest
    dry_run: bool
    started_at: datetime | None
    now: datetime
    equity_usdt: Decimal | None
    peak_equity_usdt: Decimal | None
    open_positions: int
    breaker: str  # ok | tripped | cooling_down
    breaker_reason: str | None = None
    entries_paused: str | None = None  # why, when new entries are paused
    naked_usdt: Decimal = Decimal(0)
    last_scan_at: datetime | None = None
    health: HealthView = field(default_factory=HealthView)


@dataclass(frozen=True, slots=True)
class PositionView:
    id: int
    symbol: str
    swap_inst_id: str
    direction: str  # SHORT | LONG
    status: str  # PositionStatus value
    base_qty: Decimal
    notional_usdt: Decimal | None
    entry_spot_px: Decimal
    entry_perp_px: Decimal
    mark_px: Decimal | None
    margin_ratio: Decimal | None
    margin_level: str  # SWEEP | OK | TOPUP | RESET | EMERGENCY
    topup_ratio: Decimal
    reset_ratio: Decimal
    emergency_ratio: Decimal
    okx_mgn_ratio: Decimal | None
    liq_px: Decimal | None
    liq_distance: Decimal | None  # |mark - liqPx| / mark
    funding_rate: Decimal | None
    breakdown: PnlBreakdown
    earn_amount: Decimal
    borrowed_amount: Decimal
    resets_count: int
    reset_cost_usdt: Decimal
    opened_at: datetime
    naked_usdt: Decimal = Decimal(0)

    @property
    def pnl_usdt(self) -> Decimal:
        return self.breakdown.total


@dataclass(frozen=True, slots=True)
class PnlView:
    """Closed and open carries together, and today's (UTC) part."""

    total: PnlBreakdown
    today: PnlBreakdown
    realized_usdt: Decimal
    unrealized_usdt: Decimal
    equity_usdt: Decimal | None
    start_equity_usdt: Decimal | None
    closed_positions: int


@dataclass(frozen=True, slots=True)
class FundingView:
    symbol: str
    swap_inst_id: str
    rate: Decimal
    interval_hours: int
    next_funding_time: datetime | None
    apr: Decimal
    held: bool
    earned_usdt: Decimal = Decimal(0)


@dataclass(frozen=True, slots=True)
class EquityPoint:
    ts: datetime
    equity_usdt: Decimal
    funding_usdt: Decimal = Decimal(0)  # cumulative income (funding + Earn)
    costs_usdt: Decimal = Decimal(0)  # cumulative fees + borrow interest


@dataclass(frozen=True, slots=True)
class ResetView:
    position_id: int
    symbol: str
    ts: datetime
    cost_usdt: Decimal
    resets_count: int


@dataclass(frozen=True, slots=True)
class AlertView:
    ts: datetime
    level: str
    kind: str
    message: str
    position_id: int | None = None


@dataclass(frozen=True, slots=True)
class CommandResult:
    ok: bool
    message: str


class Operator(Protocol):
    async def status(self) -> StatusView: ...

    async def positions(self) -> list[PositionView]: ...

    async def pnl(self) -> PnlView: ...

    async def funding(self, limit: int = 20) -> list[FundingView]:
        """Held swaps first, then the best funding of the latest scan."""
        ...

    async def equity_curve(self, limit: int = 500) -> list[EquityPoint]: ...

    async def resets(self, limit: int = 50) -> list[ResetView]: ...

    async def latest_scan(self) -> dict[str, object] | None:
        """The latest scan as JSON-safe values (rows with symbol, direction, net APR, verdict)."""
        ...

    async def alerts(self, limit: int = 50) -> list[AlertView]: ...

    def log_tail(self, lines: int = 100) -> list[str]: ...

    def subscribe(self) -> Subscription:
        """Every :data:`~laicai.engine.events.BotEvent` from now on."""
        ...

    async def pause(self, by: str, reason: str = "") -> CommandResult: ...

    async def resume(self, by: str) -> CommandResult: ...

    async def close_position(self, position_id: int, by: str) -> CommandResult: ...

    async def close_all(self, by: str) -> CommandResult: ...
